package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/jackc/pgx/v5"
)

// The auth entities, statement for statement the SQLite store's (server/store/sqlite).

// --- teams

func (db *DB) CreateTeam(ctx context.Context, t store.Team) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO teams (name, created_at) VALUES ($1, $2)`, t.Name, t.CreatedAt)
	if isUnique(err) {
		return store.ErrConflict
	}
	return err
}

func (db *DB) Team(ctx context.Context, name string) (store.Team, error) {
	var t store.Team
	err := db.pool.QueryRow(ctx, `SELECT name, created_at FROM teams WHERE name = $1`, name).Scan(&t.Name, &t.CreatedAt)
	return t, notFound(err)
}

func (db *DB) Teams(ctx context.Context, names []string) ([]store.Team, error) {
	q, args := `SELECT name, created_at FROM teams`, []any{}
	if names != nil {
		q += ` WHERE name = ANY($1)`
		args = append(args, names)
	}
	rows, err := db.pool.Query(ctx, q+` ORDER BY name`, args...)
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
	return db.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO users (id, email, role, node_id, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			u.ID, strings.ToLower(u.Email), u.Role, u.NodeID, u.PasswordHash, u.CreatedAt)
		if isUnique(err) {
			return store.ErrConflict
		}
		if err != nil {
			return err
		}
		for _, t := range u.Teams {
			_, err := tx.Exec(ctx, `INSERT INTO user_teams (user_id, team) VALUES ($1, $2) ON CONFLICT DO NOTHING`, u.ID, t)
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
	coalesce((SELECT array_agg(team ORDER BY team) FROM user_teams WHERE user_id = users.id), '{}')`

func scanUser(sc pgx.Row) (store.User, error) {
	var u store.User
	if err := sc.Scan(&u.ID, &u.Email, &u.Role, &u.NodeID, &u.PasswordHash, &u.CreatedAt, &u.Teams); err != nil {
		return store.User{}, err
	}
	if u.Teams == nil {
		u.Teams = []string{}
	}
	return u, nil
}

func (db *DB) UserByEmail(ctx context.Context, email string) (store.User, error) {
	u, err := scanUser(db.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1`, strings.ToLower(email)))
	return u, notFound(err)
}

func (db *DB) UserByID(ctx context.Context, id string) (store.User, error) {
	u, err := scanUser(db.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	return u, notFound(err)
}

func (db *DB) Users(ctx context.Context) ([]store.User, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY email`)
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
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, err
}

// --- devices and enrolment

func (db *DB) CreateEnrolmentCode(ctx context.Context, c store.EnrolmentCode) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO enrolment_codes (hash, team, label, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		c.Hash, c.Team, c.Label, c.CreatedBy, c.CreatedAt, c.ExpiresAt)
	switch {
	case isForeignKey(err):
		return store.ErrNotFound
	case isUnique(err):
		return store.ErrConflict
	}
	return err
}

// useCode checks an enrolment code and marks it used by deviceID. The row is locked, so
// two devices racing with one code can't both have it.
func useCode(ctx context.Context, tx pgx.Tx, codeHash string, now int64, deviceID string) (store.EnrolmentCode, error) {
	var c store.EnrolmentCode
	var used *int64
	err := tx.QueryRow(ctx, `SELECT team, label, created_by, expires_at, used_at FROM enrolment_codes WHERE hash = $1 FOR UPDATE`, codeHash).
		Scan(&c.Team, &c.Label, &c.CreatedBy, &c.ExpiresAt, &used)
	if err != nil {
		return c, notFound(err)
	}
	switch {
	case used != nil:
		return c, store.ErrUsed
	case now >= c.ExpiresAt:
		return c, store.ErrExpired
	}
	_, err = tx.Exec(ctx, `UPDATE enrolment_codes SET used_at = $1, device_id = $2 WHERE hash = $3`, now, deviceID, codeHash)
	return c, err
}

func (db *DB) Reenrol(ctx context.Context, codeHash, previousHash string, now int64, label string, first store.RefreshToken) (store.Device, error) {
	var d store.Device
	err := db.tx(ctx, func(tx pgx.Tx) error {
		c, err := useCode(ctx, tx, codeHash, now, "")
		if err != nil {
			return err
		}
		var id string
		err = tx.QueryRow(ctx, `SELECT subject_id FROM refresh_tokens WHERE hash = $1 AND subject_kind = $2`, previousHash, store.SubjectDevice).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrUnknownToken
		} else if err != nil {
			return err
		}
		if d, err = scanDevice(tx.QueryRow(ctx, `SELECT `+deviceColumns+` FROM devices WHERE id = $1 FOR UPDATE`, id)); err != nil {
			return notFound(err)
		}
		if d.Revoked {
			return store.ErrRevoked
		}
		if c.Team != d.Team {
			return store.ErrScope
		}
		if _, err := tx.Exec(ctx, `UPDATE enrolment_codes SET device_id = $1 WHERE hash = $2`, d.ID, codeHash); err != nil {
			return err
		}
		if label != "" {
			d.Label = label
		}
		d.LastSeenAt, d.TokensRevokedAt = now, 0
		if _, err := tx.Exec(ctx, `UPDATE devices SET tokens_revoked_at = NULL, last_seen_at = $1, label = $2 WHERE id = $3`, now, d.Label, d.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, $1) WHERE subject_kind = $2 AND subject_id = $3`, now, store.SubjectDevice, d.ID); err != nil {
			return err
		}
		first.SubjectKind, first.SubjectID = store.SubjectDevice, d.ID
		return insertToken(ctx, tx, first)
	})
	if err != nil {
		return store.Device{}, err
	}
	return d, nil
}

func (db *DB) Enrol(ctx context.Context, codeHash string, now int64, d store.Device, first store.RefreshToken) (store.Device, error) {
	err := db.tx(ctx, func(tx pgx.Tx) error {
		c, err := useCode(ctx, tx, codeHash, now, d.ID)
		if err != nil {
			return err
		}
		d.Team, d.EnrolledBy, d.EnrolledAt, d.LastSeenAt = c.Team, c.CreatedBy, now, now
		if d.Label == "" {
			d.Label = c.Label
		}
		if _, err := tx.Exec(ctx, `INSERT INTO devices (id, node_id, team, label, enrolled_by, enrolled_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			d.ID, d.NodeID, d.Team, d.Label, d.EnrolledBy, d.EnrolledAt, d.LastSeenAt); err != nil {
			if isUnique(err) {
				return store.ErrConflict
			}
			return err
		}
		first.SubjectKind, first.SubjectID = store.SubjectDevice, d.ID
		return insertToken(ctx, tx, first)
	})
	if err != nil {
		return store.Device{}, err
	}
	return d, nil
}

const deviceColumns = `id, node_id, team, label, enrolled_by, enrolled_at, last_seen_at, revoked_at, tokens_revoked_at`

func scanDevice(sc pgx.Row) (store.Device, error) {
	var d store.Device
	var revoked, tokensRevoked *int64
	if err := sc.Scan(&d.ID, &d.NodeID, &d.Team, &d.Label, &d.EnrolledBy, &d.EnrolledAt, &d.LastSeenAt, &revoked, &tokensRevoked); err != nil {
		return store.Device{}, err
	}
	if revoked != nil {
		d.Revoked, d.RevokedAt = true, *revoked
	}
	if tokensRevoked != nil {
		d.TokensRevokedAt = *tokensRevoked
	}
	return d, nil
}

func (db *DB) Device(ctx context.Context, id string) (store.Device, error) {
	d, err := scanDevice(db.pool.QueryRow(ctx, `SELECT `+deviceColumns+` FROM devices WHERE id = $1`, id))
	return d, notFound(err)
}

func (db *DB) Devices(ctx context.Context, teams []string) ([]store.Device, error) {
	q, args := `SELECT `+deviceColumns+` FROM devices`, []any{}
	if teams != nil {
		q += ` WHERE team = ANY($1)`
		args = append(args, teams)
	}
	rows, err := db.pool.Query(ctx, q+` ORDER BY enrolled_at, id`, args...)
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
	err := db.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE devices SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2`, now, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, $1) WHERE subject_kind = 'device' AND subject_id = $2`, now, id); err != nil {
			return err
		}
		d, err = scanDevice(tx.QueryRow(ctx, `SELECT `+deviceColumns+` FROM devices WHERE id = $1`, id))
		return err
	})
	return d, err
}

func (db *DB) TouchDevice(ctx context.Context, id string, now int64) error {
	_, err := db.pool.Exec(ctx, `UPDATE devices SET last_seen_at = greatest(last_seen_at, $1) WHERE id = $2 AND last_seen_at < $1`, now, id)
	return err
}

// --- refresh tokens

func insertToken(ctx context.Context, tx pgx.Tx, t store.RefreshToken) error {
	_, err := tx.Exec(ctx, `INSERT INTO refresh_tokens (hash, subject_kind, subject_id, family, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		t.Hash, t.SubjectKind, t.SubjectID, t.Family, t.CreatedAt, t.ExpiresAt)
	if isUnique(err) {
		return store.ErrConflict
	}
	return err
}

func (db *DB) CreateRefreshToken(ctx context.Context, t store.RefreshToken) error {
	return db.tx(ctx, func(tx pgx.Tx) error { return insertToken(ctx, tx, t) })
}

func (db *DB) RotateRefreshToken(ctx context.Context, oldHash string, now int64, next store.RefreshToken) (store.RefreshToken, error) {
	var old store.RefreshToken
	reused := false
	err := db.tx(ctx, func(tx pgx.Tx) error {
		var used, revoked *int64
		// Locked: two instances given the same token at once must not both rotate it.
		err := tx.QueryRow(ctx, `SELECT hash, subject_kind, subject_id, family, created_at, expires_at, used_at, revoked_at FROM refresh_tokens WHERE hash = $1 FOR UPDATE`, oldHash).
			Scan(&old.Hash, &old.SubjectKind, &old.SubjectID, &old.Family, &old.CreatedAt, &old.ExpiresAt, &used, &revoked)
		if err != nil {
			return notFound(err)
		}
		if used != nil {
			old.UsedAt = *used
		}
		old.Revoked = revoked != nil
		if used != nil {
			// A copy of a token already exchanged: end the chain and the device's tokens
			// (not the device). Committed; the caller still gets ErrReused.
			reused = true
			if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, $1) WHERE family = $2`, now, old.Family); err != nil {
				return err
			}
			if old.SubjectKind == store.SubjectDevice {
				if _, err := tx.Exec(ctx, `UPDATE devices SET tokens_revoked_at = coalesce(tokens_revoked_at, $1) WHERE id = $2`, now, old.SubjectID); err != nil {
					return err
				}
			}
			return nil
		}
		if revoked != nil {
			return store.ErrRevoked
		}
		if now >= old.ExpiresAt {
			return store.ErrExpired
		}
		if old.SubjectKind == store.SubjectDevice {
			var rv *int64
			if err := tx.QueryRow(ctx, `SELECT revoked_at FROM devices WHERE id = $1`, old.SubjectID).Scan(&rv); err != nil {
				return notFound(err)
			}
			if rv != nil {
				return store.ErrRevoked
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET used_at = $1 WHERE hash = $2`, now, oldHash); err != nil {
			return err
		}
		next.SubjectKind, next.SubjectID, next.Family = old.SubjectKind, old.SubjectID, old.Family
		next.CreatedAt, next.ExpiresAt = now, now+(old.ExpiresAt-old.CreatedAt)
		return insertToken(ctx, tx, next)
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
	err = db.pool.QueryRow(ctx, `SELECT 'user', id, email FROM users WHERE node_id = $1
		UNION ALL SELECT 'device', id, label FROM devices WHERE node_id = $1 LIMIT 1`, node).Scan(&kind, &id, &label)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", "", false, nil
	}
	return kind, id, label, err == nil, err
}

// EnrolmentCode reads a code back by its hash (the demo checks its printed code is still
// usable). ErrNotFound.
func (db *DB) EnrolmentCode(ctx context.Context, codeHash string) (store.EnrolmentCode, error) {
	c := store.EnrolmentCode{Hash: codeHash}
	var used *int64
	var device *string
	err := db.pool.QueryRow(ctx, `SELECT team, label, created_by, created_at, expires_at, used_at, device_id FROM enrolment_codes WHERE hash = $1`, codeHash).
		Scan(&c.Team, &c.Label, &c.CreatedBy, &c.CreatedAt, &c.ExpiresAt, &used, &device)
	if err != nil {
		return c, notFound(err)
	}
	if used != nil {
		c.UsedAt = *used
	}
	if device != nil {
		c.DeviceID = *device
	}
	return c, nil
}
