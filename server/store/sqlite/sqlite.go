// Package sqlite is the server's store on embedded SQLite (modernc.org/sqlite, no cgo):
// the replica in <data>/replica.db (syncengine.Store, hub mode) and the auth entities in
// <data>/server.db with their own embedded migrations. Both files use one writer
// connection (immediate transactions) and a pool of readers, WAL.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/fieldnotes/fieldnotes/syncengine"
	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the SQLite implementation of store.Store.
type DB struct {
	*syncengine.Store
	w, r   *sql.DB
	now    func() int64
	pushes *committer
	// device is the lookup every device request makes (revocation is checked each
	// time), compiled once rather than per request.
	device *sql.Stmt
}

var _ store.Store = (*DB)(nil)

// Options configure Open.
type Options struct {
	// Now is wall time in Unix ms (time.Now when nil); tests inject a clock.
	Now func() int64
	// MaxSkew bounds how far ahead of the hub a pushed op may be stamped.
	MaxSkew time.Duration
}

func dsn(path string, writer bool) string {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(ON)"} {
		q.Add("_pragma", p)
	}
	if writer {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// Open opens (creating if needed) the store in directory dir.
func Open(dir string, opt Options) (*DB, error) {
	now := opt.Now
	if now == nil {
		now = func() int64 { return time.Now().UnixMilli() }
	}
	rep, err := syncengine.Open(filepath.Join(dir, "replica.db"), syncengine.Hub(syncengine.Options{Now: now, MaxSkew: opt.MaxSkew}))
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "server.db")
	w, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		rep.Close()
		return nil, err
	}
	w.SetMaxOpenConns(1)
	db := &DB{Store: rep, w: w, now: now, pushes: newCommitter(rep)}
	if err := db.migrate(); err != nil {
		db.pushes.close()
		w.Close()
		rep.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	if db.r, err = sql.Open("sqlite", dsn(path, false)); err != nil {
		db.Close()
		return nil, err
	}
	db.r.SetMaxOpenConns(8)
	if db.device, err = db.r.Prepare(`SELECT ` + deviceColumns + ` FROM devices WHERE id = ?`); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func (db *DB) migrate() error {
	if _, err := db.w.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return err
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, n := range names {
		name := strings.TrimPrefix(n, "migrations/")
		var done int
		if err := db.w.QueryRow(`SELECT count(*) FROM schema_migrations WHERE name = ?`, name).Scan(&done); err != nil {
			return err
		}
		if done > 0 {
			continue
		}
		body, err := migrations.ReadFile(n)
		if err != nil {
			return err
		}
		err = db.tx(context.Background(), func(tx *sql.Tx) error {
			if _, err := tx.Exec(string(body)); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			_, err := tx.Exec(`INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, name, db.now())
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Apply merges a batch, durable when it returns. Batches applied at the same time share
// one transaction (group commit); each gets its own Result, as if applied alone.
func (db *DB) Apply(ctx context.Context, ops []syncengine.Op, opt syncengine.ApplyOptions) (syncengine.Result, error) {
	return db.pushes.apply(ctx, ops, opt)
}

// Close closes both databases, after committing the batches already queued.
func (db *DB) Close() error {
	db.pushes.close()
	var errs []error
	if db.device != nil {
		errs = append(errs, db.device.Close())
	}
	if db.r != nil {
		errs = append(errs, db.r.Close())
	}
	errs = append(errs, db.w.Close(), db.Store.Close())
	return errors.Join(errs...)
}

// Ping checks both databases answer.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.Store.Ping(ctx); err != nil {
		return err
	}
	var one int
	return db.r.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
}

// ServerTime is the hub clock's physical time.
func (db *DB) ServerTime() int64 { return db.Store.Clock().Physical() }

// tx runs fn in one immediate write transaction.
func (db *DB) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func constraint(err error, codes ...int) bool {
	var se *sqlitedrv.Error
	if !errors.As(err, &se) {
		return false
	}
	for _, c := range codes {
		if se.Code() == c {
			return true
		}
	}
	return false
}

func isUnique(err error) bool {
	return constraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

func isForeignKey(err error) bool { return constraint(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY) }

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// --- teams

func (db *DB) CreateTeam(ctx context.Context, t store.Team) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO teams (name, created_at) VALUES (?, ?)`, t.Name, t.CreatedAt)
	if isUnique(err) {
		return store.ErrConflict
	}
	return err
}

func (db *DB) Team(ctx context.Context, name string) (store.Team, error) {
	var t store.Team
	err := db.r.QueryRowContext(ctx, `SELECT name, created_at FROM teams WHERE name = ?`, name).Scan(&t.Name, &t.CreatedAt)
	return t, notFound(err)
}

func (db *DB) Teams(ctx context.Context, names []string) ([]store.Team, error) {
	q, args := `SELECT name, created_at FROM teams`, []any{}
	if names != nil {
		q += ` WHERE name IN (SELECT value FROM json_each(?))`
		args = append(args, jsonList(names))
	}
	rows, err := db.r.QueryContext(ctx, q+` ORDER BY name`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.Team{}
	for rows.Next() {
		var t store.Team
		if err := rows.Scan(&t.Name, &t.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// --- users

func (db *DB) CreateUser(ctx context.Context, u store.User) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO users (id, email, role, node_id, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			u.ID, strings.ToLower(u.Email), u.Role, u.NodeID, u.PasswordHash, u.CreatedAt)
		if isUnique(err) {
			return store.ErrConflict
		}
		if err != nil {
			return err
		}
		for _, t := range u.Teams {
			_, err := tx.Exec(`INSERT INTO user_teams (user_id, team) VALUES (?, ?) ON CONFLICT DO NOTHING`, u.ID, t)
			if isForeignKey(err) {
				return fmt.Errorf("team %q: %w", t, store.ErrNotFound)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

const userColumns = `id, email, role, node_id, password_hash, created_at,
	coalesce((SELECT json_group_array(team) FROM (SELECT team FROM user_teams WHERE user_id = users.id ORDER BY team)), '[]')`

func scanUser(sc interface{ Scan(...any) error }) (store.User, error) {
	var u store.User
	var teams string
	if err := sc.Scan(&u.ID, &u.Email, &u.Role, &u.NodeID, &u.PasswordHash, &u.CreatedAt, &teams); err != nil {
		return store.User{}, err
	}
	u.Teams = parseList(teams)
	return u, nil
}

func (db *DB) UserByEmail(ctx context.Context, email string) (store.User, error) {
	u, err := scanUser(db.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = ?`, strings.ToLower(email)))
	return u, notFound(err)
}

func (db *DB) UserByID(ctx context.Context, id string) (store.User, error) {
	u, err := scanUser(db.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	return u, notFound(err)
}

func (db *DB) Users(ctx context.Context) ([]store.User, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY email`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, err
}

// --- devices and enrolment

func (db *DB) CreateEnrolmentCode(ctx context.Context, c store.EnrolmentCode) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO enrolment_codes (hash, team, label, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		c.Hash, c.Team, c.Label, c.CreatedBy, c.CreatedAt, c.ExpiresAt)
	switch {
	case isForeignKey(err):
		return store.ErrNotFound
	case isUnique(err):
		return store.ErrConflict
	}
	return err
}

// EnrolmentCode reads the code with hash codeHash without using it (the --demo seed asks
// whether the code it printed before is still good). ErrNotFound if there is none.
func (db *DB) EnrolmentCode(ctx context.Context, codeHash string) (store.EnrolmentCode, error) {
	c := store.EnrolmentCode{Hash: codeHash}
	var used sql.NullInt64
	var device sql.NullString
	err := db.r.QueryRowContext(ctx, `SELECT team, label, created_by, created_at, expires_at, used_at, device_id FROM enrolment_codes WHERE hash = ?`, codeHash).
		Scan(&c.Team, &c.Label, &c.CreatedBy, &c.CreatedAt, &c.ExpiresAt, &used, &device)
	if err != nil {
		return c, notFound(err)
	}
	c.UsedAt, c.DeviceID = used.Int64, device.String
	return c, nil
}

// useCode checks an enrolment code and marks it used by deviceID.
func useCode(tx *sql.Tx, codeHash string, now int64, deviceID string) (store.EnrolmentCode, error) {
	var c store.EnrolmentCode
	var used sql.NullInt64
	err := tx.QueryRow(`SELECT team, label, created_by, expires_at, used_at FROM enrolment_codes WHERE hash = ?`, codeHash).
		Scan(&c.Team, &c.Label, &c.CreatedBy, &c.ExpiresAt, &used)
	if err != nil {
		return c, notFound(err)
	}
	switch {
	case used.Valid:
		return c, store.ErrUsed
	case now >= c.ExpiresAt:
		return c, store.ErrExpired
	}
	_, err = tx.Exec(`UPDATE enrolment_codes SET used_at = ?, device_id = ? WHERE hash = ?`, now, deviceID, codeHash)
	return c, err
}

func (db *DB) Reenrol(ctx context.Context, codeHash, previousHash string, now int64, label string, first store.RefreshToken) (store.Device, error) {
	var d store.Device
	err := db.tx(ctx, func(tx *sql.Tx) error {
		// The code first, so its errors read as they do for a first enrolment; the
		// transaction takes the mark back if anything below fails.
		c, err := useCode(tx, codeHash, now, "")
		if err != nil {
			return err
		}
		var id string
		err = tx.QueryRow(`SELECT subject_id FROM refresh_tokens WHERE hash = ? AND subject_kind = ?`, previousHash, store.SubjectDevice).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrUnknownToken
		} else if err != nil {
			return err
		}
		if d, err = scanDevice(tx.QueryRow(`SELECT `+deviceColumns+` FROM devices WHERE id = ?`, id)); err != nil {
			return notFound(err)
		}
		if d.Revoked {
			return store.ErrRevoked
		}
		if _, err := tx.Exec(`UPDATE enrolment_codes SET device_id = ? WHERE hash = ?`, d.ID, codeHash); err != nil {
			return err
		}
		if c.Team != d.Team {
			return store.ErrScope
		}
		if label != "" {
			d.Label = label
		}
		d.LastSeenAt, d.TokensRevokedAt = now, 0
		if _, err := tx.Exec(`UPDATE devices SET tokens_revoked_at = NULL, last_seen_at = ?, label = ? WHERE id = ?`, now, d.Label, d.ID); err != nil {
			return err
		}
		// Whatever of its old families is still live ends here: the tablet starts afresh.
		if _, err := tx.Exec(`UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE subject_kind = ? AND subject_id = ?`, now, store.SubjectDevice, d.ID); err != nil {
			return err
		}
		first.SubjectKind, first.SubjectID = store.SubjectDevice, d.ID
		return insertToken(tx, first)
	})
	if err != nil {
		return store.Device{}, err
	}
	return d, nil
}

func (db *DB) Enrol(ctx context.Context, codeHash string, now int64, d store.Device, first store.RefreshToken) (store.Device, error) {
	err := db.tx(ctx, func(tx *sql.Tx) error {
		c, err := useCode(tx, codeHash, now, d.ID)
		if err != nil {
			return err
		}
		d.Team, d.EnrolledBy, d.EnrolledAt, d.LastSeenAt = c.Team, c.CreatedBy, now, now
		if d.Label == "" {
			d.Label = c.Label
		}
		if _, err := tx.Exec(`INSERT INTO devices (id, node_id, team, label, enrolled_by, enrolled_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			d.ID, d.NodeID, d.Team, d.Label, d.EnrolledBy, d.EnrolledAt, d.LastSeenAt); err != nil {
			if isUnique(err) {
				return store.ErrConflict
			}
			return err
		}
		first.SubjectKind, first.SubjectID = store.SubjectDevice, d.ID
		return insertToken(tx, first)
	})
	if err != nil {
		return store.Device{}, err
	}
	return d, nil
}

const deviceColumns = `id, node_id, team, label, enrolled_by, enrolled_at, last_seen_at, revoked_at, tokens_revoked_at`

func scanDevice(sc interface{ Scan(...any) error }) (store.Device, error) {
	var d store.Device
	var revoked, tokensRevoked sql.NullInt64
	if err := sc.Scan(&d.ID, &d.NodeID, &d.Team, &d.Label, &d.EnrolledBy, &d.EnrolledAt, &d.LastSeenAt, &revoked, &tokensRevoked); err != nil {
		return store.Device{}, err
	}
	d.Revoked, d.RevokedAt, d.TokensRevokedAt = revoked.Valid, revoked.Int64, tokensRevoked.Int64
	return d, nil
}

func (db *DB) Device(ctx context.Context, id string) (store.Device, error) {
	d, err := scanDevice(db.device.QueryRowContext(ctx, id))
	return d, notFound(err)
}

func (db *DB) Devices(ctx context.Context, teams []string) ([]store.Device, error) {
	q, args := `SELECT `+deviceColumns+` FROM devices`, []any{}
	if teams != nil {
		q += ` WHERE team IN (SELECT value FROM json_each(?))`
		args = append(args, jsonList(teams))
	}
	rows, err := db.r.QueryContext(ctx, q+` ORDER BY enrolled_at, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.Device{}
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func (db *DB) RevokeDevice(ctx context.Context, id string, now int64) (store.Device, error) {
	var d store.Device
	err := db.tx(ctx, func(tx *sql.Tx) error {
		if err := revokeDevice(tx, id, now); err != nil {
			return err
		}
		var err error
		d, err = scanDevice(tx.QueryRow(`SELECT `+deviceColumns+` FROM devices WHERE id = ?`, id))
		return err
	})
	return d, err
}

func revokeDevice(tx *sql.Tx, id string, now int64) error {
	res, err := tx.Exec(`UPDATE devices SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, now, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	_, err = tx.Exec(`UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE subject_kind = 'device' AND subject_id = ?`, now, id)
	return err
}

func (db *DB) TouchDevice(ctx context.Context, id string, now int64) error {
	_, err := db.w.ExecContext(ctx, `UPDATE devices SET last_seen_at = max(last_seen_at, ?) WHERE id = ?`, now, id)
	return err
}

// --- refresh tokens

func insertToken(tx *sql.Tx, t store.RefreshToken) error {
	_, err := tx.Exec(`INSERT INTO refresh_tokens (hash, subject_kind, subject_id, family, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		t.Hash, t.SubjectKind, t.SubjectID, t.Family, t.CreatedAt, t.ExpiresAt)
	if isUnique(err) {
		return store.ErrConflict
	}
	return err
}

func (db *DB) CreateRefreshToken(ctx context.Context, t store.RefreshToken) error {
	return db.tx(ctx, func(tx *sql.Tx) error { return insertToken(tx, t) })
}

func (db *DB) RotateRefreshToken(ctx context.Context, oldHash string, now int64, next store.RefreshToken) (store.RefreshToken, error) {
	var old store.RefreshToken
	reused := false
	err := db.tx(ctx, func(tx *sql.Tx) error {
		var used, revoked sql.NullInt64
		err := tx.QueryRow(`SELECT hash, subject_kind, subject_id, family, created_at, expires_at, used_at, revoked_at FROM refresh_tokens WHERE hash = ?`, oldHash).
			Scan(&old.Hash, &old.SubjectKind, &old.SubjectID, &old.Family, &old.CreatedAt, &old.ExpiresAt, &used, &revoked)
		if err != nil {
			return notFound(err)
		}
		old.UsedAt, old.Revoked = used.Int64, revoked.Valid
		if used.Valid {
			// Someone holds a copy of a token already exchanged: end the whole chain and,
			// for a tablet, every token it holds (its access tokens too). Not the tablet
			// itself: the likeliest cause is a refresh whose answer was lost, and a
			// revoked tablet wipes what it has not synced. Committed; the caller still
			// gets ErrReused.
			reused = true
			if _, err := tx.Exec(`UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE family = ?`, now, old.Family); err != nil {
				return err
			}
			if old.SubjectKind == store.SubjectDevice {
				if _, err := tx.Exec(`UPDATE devices SET tokens_revoked_at = coalesce(tokens_revoked_at, ?) WHERE id = ?`, now, old.SubjectID); err != nil {
					return err
				}
			}
			return nil
		}
		if revoked.Valid {
			return store.ErrRevoked
		}
		if now >= old.ExpiresAt {
			return store.ErrExpired
		}
		if old.SubjectKind == store.SubjectDevice {
			var rv sql.NullInt64
			if err := tx.QueryRow(`SELECT revoked_at FROM devices WHERE id = ?`, old.SubjectID).Scan(&rv); err != nil {
				return notFound(err)
			}
			if rv.Valid {
				return store.ErrRevoked
			}
		}
		if _, err := tx.Exec(`UPDATE refresh_tokens SET used_at = ? WHERE hash = ?`, now, oldHash); err != nil {
			return err
		}
		next.SubjectKind, next.SubjectID, next.Family = old.SubjectKind, old.SubjectID, old.Family
		next.CreatedAt, next.ExpiresAt = now, now+(old.ExpiresAt-old.CreatedAt)
		return insertToken(tx, next)
	})
	if err != nil {
		return old, err
	}
	if reused {
		return old, store.ErrReused
	}
	return old, nil
}

// NodeOwner names the user or device that writes under node.
func (db *DB) NodeOwner(ctx context.Context, node string) (kind, id, label string, ok bool, err error) {
	err = db.r.QueryRowContext(ctx, `SELECT 'user', id, email FROM users WHERE node_id = ?1
		UNION ALL SELECT 'device', id, label FROM devices WHERE node_id = ?1 LIMIT 1`, node).Scan(&kind, &id, &label)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", "", false, nil
	}
	return kind, id, label, err == nil, err
}
