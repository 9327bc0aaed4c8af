package reports

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"time"
)

//go:embed migrations/*.sql
var migrations embed.FS

// CoordStore is where the coordinators' own tables live: coord.db (Coord) beside the
// SQLite store, or the PostgreSQL database (server/store/postgres) when the server runs
// there. Baseline returns an *Error not_found for an unknown name.
type CoordStore interface {
	PutBaseline(ctx context.Context, b *Baseline, by string) error
	Baseline(ctx context.Context, name string) (*Baseline, error)
	LogExport(ctx context.Context, r ExportRecord) (ExportRecord, error)
	Exports(ctx context.Context, limit int) ([]ExportRecord, error)
}

var _ CoordStore = (*Coord)(nil)

// Coord is coord.db: the coordinators' own tables (baselines, the export log), in a
// SQLite file of their own next to the replica store, with embedded migrations applied
// once each.
type Coord struct {
	db  *sql.DB
	Now func() int64 // ms; time.Now when nil
}

// OpenCoord opens (creating if needed) coord.db at path.
func OpenCoord(path string) (*Coord, error) {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(ON)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	c := &Coord{db: db}
	if err := c.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("coord.db %s: %w", path, err)
	}
	return c, nil
}

// Close closes coord.db.
func (c *Coord) Close() error { return c.db.Close() }

func (c *Coord) now() int64 {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now().UnixMilli()
}

func (c *Coord) migrate() error {
	if _, err := c.db.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return err
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		var n int
		if err := c.db.QueryRow(`SELECT count(*) FROM schema_migrations WHERE name = ?`, name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		tx, err := c.db.Begin()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("%s: %w", name, err)
		}
		if _, err := tx.Exec(`INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, name, c.now()); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// PutBaseline stores a baseline, replacing any of the same name.
func (c *Coord) PutBaseline(ctx context.Context, b *Baseline, by string) error {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`DELETE FROM baselines WHERE name = ?`, b.Name); err != nil {
		return err
	}
	b.UploadedBy, b.UploadedAt = by, c.now()
	if _, err := tx.Exec(`INSERT INTO baselines (name, group_by, uploaded_by, uploaded_at) VALUES (?, ?, ?, ?)`, b.Name, b.GroupBy, by, b.UploadedAt); err != nil {
		return err
	}
	for _, s := range b.Shares {
		if _, err := tx.Exec(`INSERT INTO baseline_shares (name, grp, share) VALUES (?, ?, ?)`, b.Name, s.Group, s.Share); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Baseline returns a stored baseline; an *Error not_found if there is none.
func (c *Coord) Baseline(ctx context.Context, name string) (*Baseline, error) {
	b := &Baseline{Name: name}
	err := c.db.QueryRowContext(ctx, `SELECT group_by, uploaded_by, uploaded_at FROM baselines WHERE name = ?`, name).Scan(&b.GroupBy, &b.UploadedBy, &b.UploadedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &Error{Code: CodeNotFound, Param: "baseline", Message: "no baseline " + name, Details: map[string]any{"field": "baseline"}}
	}
	if err != nil {
		return nil, err
	}
	rows, err := c.db.QueryContext(ctx, `SELECT grp, share FROM baseline_shares WHERE name = ? ORDER BY grp`, name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var s Share
		if err := rows.Scan(&s.Group, &s.Share); err != nil {
			return nil, err
		}
		b.Shares = append(b.Shares, s)
	}
	return b, rows.Err()
}

// ExportRecord is one line of the export log.
type ExportRecord struct {
	ID         int64    `json:"id"`
	Who        string   `json:"who"`
	Collection string   `json:"collection"`
	Format     string   `json:"format"`
	Teams      []string `json:"teams"`
	Rows       int      `json:"rows"`
	Complete   bool     `json:"complete"`
	At         int64    `json:"at"`
}

// LogExport records an export; At is set to now when zero.
func (c *Coord) LogExport(ctx context.Context, r ExportRecord) (ExportRecord, error) {
	if r.At == 0 {
		r.At = c.now()
	}
	teams, _ := json.Marshal(r.Teams)
	res, err := c.db.ExecContext(ctx, `INSERT INTO exports (who, collection, format, teams, rows, complete, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.Who, r.Collection, r.Format, string(teams), r.Rows, r.Complete, r.At)
	if err != nil {
		return r, err
	}
	r.ID, err = res.LastInsertId()
	return r, err
}

// Exports lists the export log, newest first, at most limit entries (100 when ≤ 0).
func (c *Coord) Exports(ctx context.Context, limit int) ([]ExportRecord, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := c.db.QueryContext(ctx, `SELECT id, who, collection, format, teams, rows, complete, at FROM exports ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []ExportRecord{}
	for rows.Next() {
		var r ExportRecord
		var teams string
		if err := rows.Scan(&r.ID, &r.Who, &r.Collection, &r.Format, &teams, &r.Rows, &r.Complete, &r.At); err != nil {
			return nil, err
		}
		json.Unmarshal([]byte(teams), &r.Teams)
		out = append(out, r)
	}
	return out, rows.Err()
}
