package postgres

import (
	"context"
	"errors"
	"strconv"

	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/jackc/pgx/v5"
)

// The console's sessions and audit log, the SQLite store's statement for statement, in
// the database every instance shares.

var (
	_ store.SessionStore = (*DB)(nil)
	_ store.AuditLog     = (*DB)(nil)
)

// CreateSession stores a console session.
func (db *DB) CreateSession(ctx context.Context, s store.Session) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO console_sessions (hash, user_id, csrf, created_at, expires_at, max_until) VALUES ($1, $2, $3, $4, $5, $6)`,
		s.Hash, s.UserID, s.CSRF, s.CreatedAt, s.ExpiresAt, s.MaxUntil)
	if isUnique(err) {
		return store.ErrConflict
	}
	return err
}

// Session reads a session; an expired one is deleted and reported as store.ErrExpired.
func (db *DB) Session(ctx context.Context, hash string, now int64) (store.Session, error) {
	var s store.Session
	err := db.pool.QueryRow(ctx, `SELECT hash, user_id, csrf, created_at, expires_at, max_until FROM console_sessions WHERE hash = $1`, hash).
		Scan(&s.Hash, &s.UserID, &s.CSRF, &s.CreatedAt, &s.ExpiresAt, &s.MaxUntil)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, store.ErrNotFound
	} else if err != nil {
		return s, err
	}
	if now >= s.ExpiresAt || now >= s.MaxUntil {
		db.DeleteSession(ctx, hash)
		return s, store.ErrExpired
	}
	return s, nil
}

// TouchSession moves the idle expiry on, never past the absolute one.
func (db *DB) TouchSession(ctx context.Context, hash string, expiresAt int64) error {
	_, err := db.pool.Exec(ctx, `UPDATE console_sessions SET expires_at = least($1, max_until) WHERE hash = $2`, expiresAt, hash)
	return err
}

// DeleteSession ends a session.
func (db *DB) DeleteSession(ctx context.Context, hash string) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM console_sessions WHERE hash = $1`, hash)
	return err
}

// DeleteExpiredSessions removes sessions past either expiry.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now int64) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM console_sessions WHERE expires_at <= $1 OR max_until <= $1`, now)
	return err
}

// AppendAudit adds an entry to the append-only audit log.
func (db *DB) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	if e.At == 0 {
		e.At = db.now()
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO audit_log (at, actor, email, role, action, team, target, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		e.At, e.Actor, e.Email, e.Role, e.Action, e.Team, e.Target, e.Detail)
	return err
}

// Audit lists entries newest first.
func (db *DB) Audit(ctx context.Context, q store.AuditQuery) ([]store.AuditEntry, error) {
	sqlq, args := `SELECT id, at, actor, email, role, action, team, target, detail FROM audit_log WHERE true`, []any{}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + itoa(len(args))
	}
	if q.Teams != nil {
		sqlq += ` AND (team = ANY(` + arg(q.Teams) + `) OR (team = '' AND actor = ` + arg(q.Self) + `))`
	}
	if q.Action != "" {
		sqlq += ` AND action = ` + arg(q.Action)
	}
	if q.Actor != "" {
		p := arg(q.Actor)
		sqlq += ` AND (actor = ` + p + ` OR email = ` + p + `)`
	}
	if q.From > 0 {
		sqlq += ` AND at >= ` + arg(q.From)
	}
	if q.To > 0 {
		sqlq += ` AND at < ` + arg(q.To)
	}
	if q.Before > 0 {
		sqlq += ` AND id < ` + arg(q.Before)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	sqlq += ` ORDER BY id DESC LIMIT ` + arg(limit)
	rows, err := db.pool.Query(ctx, sqlq, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.AuditEntry{}
	for rows.Next() {
		var e store.AuditEntry
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.Email, &e.Role, &e.Action, &e.Team, &e.Target, &e.Detail); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func itoa(n int) string { return strconv.Itoa(n) }
