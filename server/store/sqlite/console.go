package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/fieldnotes/fieldnotes/server/store"
)

var (
	_ store.SessionStore = (*DB)(nil)
	_ store.AuditLog     = (*DB)(nil)
)

// CreateSession stores a console session.
func (db *DB) CreateSession(ctx context.Context, s store.Session) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO console_sessions (hash, user_id, csrf, created_at, expires_at, max_until) VALUES (?, ?, ?, ?, ?, ?)`,
		s.Hash, s.UserID, s.CSRF, s.CreatedAt, s.ExpiresAt, s.MaxUntil)
	return err
}

// Session reads a session; an expired one is deleted and reported as store.ErrExpired.
func (db *DB) Session(ctx context.Context, hash string, now int64) (store.Session, error) {
	var s store.Session
	err := db.r.QueryRowContext(ctx, `SELECT hash, user_id, csrf, created_at, expires_at, max_until FROM console_sessions WHERE hash = ?`, hash).
		Scan(&s.Hash, &s.UserID, &s.CSRF, &s.CreatedAt, &s.ExpiresAt, &s.MaxUntil)
	if errors.Is(err, sql.ErrNoRows) {
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
	_, err := db.w.ExecContext(ctx, `UPDATE console_sessions SET expires_at = min(?, max_until) WHERE hash = ?`, expiresAt, hash)
	return err
}

// DeleteSession ends a session.
func (db *DB) DeleteSession(ctx context.Context, hash string) error {
	_, err := db.w.ExecContext(ctx, `DELETE FROM console_sessions WHERE hash = ?`, hash)
	return err
}

// DeleteExpiredSessions removes sessions past either expiry.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now int64) error {
	_, err := db.w.ExecContext(ctx, `DELETE FROM console_sessions WHERE expires_at <= ? OR max_until <= ?`, now, now)
	return err
}

// AppendAudit adds an entry to the append-only audit log.
func (db *DB) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	if e.At == 0 {
		e.At = db.now()
	}
	_, err := db.w.ExecContext(ctx, `INSERT INTO audit_log (at, actor, email, role, action, team, target, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.At, e.Actor, e.Email, e.Role, e.Action, e.Team, e.Target, e.Detail)
	return err
}

// Audit lists entries newest first.
func (db *DB) Audit(ctx context.Context, q store.AuditQuery) ([]store.AuditEntry, error) {
	sqlq, args := `SELECT id, at, actor, email, role, action, team, target, detail FROM audit_log WHERE 1=1`, []any{}
	if q.Teams != nil {
		sqlq += ` AND (team IN (SELECT value FROM json_each(?)) OR (team = '' AND actor = ?))`
		args = append(args, jsonList(q.Teams), q.Self)
	}
	if q.Action != "" {
		sqlq += ` AND action = ?`
		args = append(args, q.Action)
	}
	if q.Actor != "" {
		sqlq += ` AND (actor = ? OR email = ?)`
		args = append(args, q.Actor, q.Actor)
	}
	if q.From > 0 {
		sqlq += ` AND at >= ?`
		args = append(args, q.From)
	}
	if q.To > 0 {
		sqlq += ` AND at < ?`
		args = append(args, q.To)
	}
	if q.Before > 0 {
		sqlq += ` AND id < ?`
		args = append(args, q.Before)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	sqlq += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := db.r.QueryContext(ctx, sqlq, args...)
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
