// Package postgres is the server's store on PostgreSQL (github.com/jackc/pgx/v5, pgxpool):
// the replica (op log, records, ingest sequence, erasure) and the auth entities in one
// database, for a deployment that outgrows the embedded SQLite store or runs several
// server instances on one database.
//
// The merge is syncengine's own (syncengine.Merger over this package's Txn), so a
// record's stored bytes and the state hash are the SQLite store's for the same ops.
// Every write transaction first locks the one row of table hub, which holds the ingest
// sequence and the hub's clock: sequence order is commit order, so a pull cursor never
// skips an op committed late, and instances sharing the database share one clock.
// Migrations are embedded and applied under an advisory lock.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the PostgreSQL implementation of store.Store.
type DB struct {
	pool   *pgxpool.Pool
	now    func() int64
	merge  *syncengine.Merger
	pushes *committer
	vacuum *vacuumer
	reg    *registry
	closed sync.Once
}

var _ store.Store = (*DB)(nil)

// Options configure Open.
type Options struct {
	// Now is wall time in Unix ms (time.Now when nil); tests inject a clock.
	Now func() int64
	// MaxSkew bounds how far ahead of the hub a pushed op may be stamped.
	MaxSkew time.Duration
	// MaxConns caps the pool (pgxpool's default when 0).
	MaxConns int32
	// Heartbeat is how often the instance records itself alive (DefaultHeartbeat when 0).
	Heartbeat time.Duration
}

// IsURL reports whether s names a PostgreSQL database (postgres:// or postgresql://).
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Open connects to the database at url, applies migrations not yet applied (under an
// advisory lock, so instances starting together take turns) and returns the store.
func Open(ctx context.Context, url string, opt Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database url: %w", err)
	}
	if opt.MaxConns > 0 {
		cfg.MaxConns = opt.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	now := opt.Now
	if now == nil {
		now = func() int64 { return time.Now().UnixMilli() }
	}
	db := &DB{pool: pool, now: now, merge: syncengine.NewMerger(syncengine.NewClock(now), opt.MaxSkew)}
	var ts, tc int64
	if err := pool.QueryRow(ctx, `SELECT clock_ts, clock_tc FROM hub`).Scan(&ts, &tc); err != nil {
		pool.Close()
		return nil, err
	}
	db.merge.Clock().Observe(ts, uint32(tc))
	if db.reg, err = startRegistry(ctx, pool, opt.Heartbeat); err != nil {
		pool.Close()
		return nil, err
	}
	db.pushes = newCommitter(db)
	db.vacuum = newVacuumer(pool)
	return db, nil
}

// Pool is the connection pool, for the server's other tables on the same database.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Migrate applies the embedded migrations not yet applied, each in its own transaction,
// while holding a session advisory lock keyed by the schema, so that two instances
// starting at once don't both apply one.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return MigrateFS(ctx, pool, "store", migrations, "migrations")
}

// MigrateFS applies the .sql files of dir in fsys in name order, once each, recorded in
// schema_migrations under set (each package's migrations are a set of their own).
func MigrateFS(ctx context.Context, pool *pgxpool.Pool, set string, fsys fs.FS, dir string) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	const key = `hashtext('fieldnotes.migrate.' || current_schema())`
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+key+`)`); err != nil {
		return err
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock(`+key+`)`)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		set_name TEXT NOT NULL, name TEXT NOT NULL, applied_at BIGINT NOT NULL, PRIMARY KEY (set_name, name))`); err != nil {
		return err
	}
	names, err := fs.Glob(fsys, dir+"/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, path := range names {
		name := strings.TrimPrefix(path, dir+"/")
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE set_name = $1 AND name = $2`, set, name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		body, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return fmt.Errorf("migration %s/%s: %w", set, name, err)
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (set_name, name, applied_at) VALUES ($1, $2, $3)`, set, name, time.Now().UnixMilli())
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Close commits the batches already queued and closes the pool.
func (db *DB) Close() error {
	db.closed.Do(func() {
		db.pushes.close()
		db.vacuum.close()
		db.reg.close()
		db.pool.Close()
	})
	return nil
}

// Ping checks the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.pool.Ping(ctx) }

// ServerTime is the hub clock's physical time.
func (db *DB) ServerTime() int64 { return db.merge.Clock().Physical() }

// tx runs fn in one transaction.
func (db *DB) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, fn)
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func isUnique(err error) bool     { return pgCode(err) == "23505" }
func isForeignKey(err error) bool { return pgCode(err) == "23503" }

func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}
