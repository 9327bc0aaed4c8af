// Package pgcoord keeps the coordinators' own tables (baselines, the export log) in the
// server's PostgreSQL database: what reports.Coord keeps in coord.db beside the SQLite
// store, shared by every instance. It has its own embedded migrations, applied under the
// store's advisory lock (postgres.MigrateFS).
package pgcoord

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"time"

	"github.com/fieldnotes/fieldnotes/server/reports"
	"github.com/fieldnotes/fieldnotes/server/store/postgres"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Coord is reports.CoordStore on PostgreSQL.
type Coord struct {
	pool *pgxpool.Pool
	Now  func() int64 // ms; time.Now when nil
}

var _ reports.CoordStore = (*Coord)(nil)

// Open applies the tables' migrations on pool (the store's) and returns the store.
func Open(ctx context.Context, pool *pgxpool.Pool) (*Coord, error) {
	if err := postgres.MigrateFS(ctx, pool, "coord", migrations, "migrations"); err != nil {
		return nil, err
	}
	return &Coord{pool: pool}, nil
}

func (c *Coord) now() int64 {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now().UnixMilli()
}

func (c *Coord) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, c.pool, fn)
}

// PutBaseline stores a baseline, replacing any of the same name.
func (c *Coord) PutBaseline(ctx context.Context, b *reports.Baseline, by string) error {
	return c.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM baselines WHERE name = $1`, b.Name); err != nil {
			return err
		}
		b.UploadedBy, b.UploadedAt = by, c.now()
		if _, err := tx.Exec(ctx, `INSERT INTO baselines (name, group_by, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4)`, b.Name, b.GroupBy, by, b.UploadedAt); err != nil {
			return err
		}
		for _, s := range b.Shares {
			if _, err := tx.Exec(ctx, `INSERT INTO baseline_shares (name, grp, share) VALUES ($1, $2, $3)`, b.Name, s.Group, s.Share); err != nil {
				return err
			}
		}
		return nil
	})
}

// Baseline returns a stored baseline; a *reports.Error not_found if there is none.
func (c *Coord) Baseline(ctx context.Context, name string) (*reports.Baseline, error) {
	b := &reports.Baseline{Name: name}
	err := c.pool.QueryRow(ctx, `SELECT group_by, uploaded_by, uploaded_at FROM baselines WHERE name = $1`, name).Scan(&b.GroupBy, &b.UploadedBy, &b.UploadedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, &reports.Error{Code: reports.CodeNotFound, Param: "baseline", Message: "no baseline " + name, Details: map[string]any{"field": "baseline"}}
	}
	if err != nil {
		return nil, err
	}
	rows, err := c.pool.Query(ctx, `SELECT grp, share FROM baseline_shares WHERE name = $1 ORDER BY grp`, name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var s reports.Share
		if err := rows.Scan(&s.Group, &s.Share); err != nil {
			return nil, err
		}
		b.Shares = append(b.Shares, s)
	}
	return b, rows.Err()
}

// LogExport records an export; At is set to now when zero.
func (c *Coord) LogExport(ctx context.Context, r reports.ExportRecord) (reports.ExportRecord, error) {
	if r.At == 0 {
		r.At = c.now()
	}
	teams, _ := json.Marshal(r.Teams)
	err := c.pool.QueryRow(ctx, `INSERT INTO exports (who, collection, format, teams, rows, complete, at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		r.Who, r.Collection, r.Format, string(teams), r.Rows, r.Complete, r.At).Scan(&r.ID)
	return r, err
}

// Exports lists the export log, newest first, at most limit entries (100 when ≤ 0).
func (c *Coord) Exports(ctx context.Context, limit int) ([]reports.ExportRecord, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := c.pool.Query(ctx, `SELECT id, who, collection, format, teams, rows, complete, at FROM exports ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []reports.ExportRecord{}
	for rows.Next() {
		var r reports.ExportRecord
		var teams string
		if err := rows.Scan(&r.ID, &r.Who, &r.Collection, &r.Format, &teams, &r.Rows, &r.Complete, &r.At); err != nil {
			return nil, err
		}
		json.Unmarshal([]byte(teams), &r.Teams)
		out = append(out, r)
	}
	return out, rows.Err()
}
