package store

import "context"

// Session is a signed-in person's browser session (the coordinator console). Only the
// hash of its cookie value is kept.
type Session struct {
	Hash      string // SHA-256 of the cookie value
	UserID    string
	CSRF      string // the token every form of this session carries
	CreatedAt int64  // Unix ms
	ExpiresAt int64  // Unix ms: idle expiry, moved on by Touch up to MaxUntil
	MaxUntil  int64  // Unix ms: absolute expiry
}

// SessionStore keeps console sessions. It is apart from Store so that a store
// implementation may add it without the API needing it.
type SessionStore interface {
	// CreateSession stores a new session.
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session with this hash: ErrNotFound if there is none, ErrExpired
	// if it expired before now (and is then deleted).
	Session(ctx context.Context, hash string, now int64) (Session, error)
	// TouchSession moves the idle expiry to expiresAt (never past MaxUntil).
	TouchSession(ctx context.Context, hash string, expiresAt int64) error
	// DeleteSession ends one session (sign-out). Deleting an unknown session is not an error.
	DeleteSession(ctx context.Context, hash string) error
	// DeleteExpiredSessions removes every session expired before now.
	DeleteExpiredSessions(ctx context.Context, now int64) error
}

// AuditEntry is one coordinator or admin action. It carries ids and counts, never what a
// participant said or their contact details.
type AuditEntry struct {
	ID     int64
	At     int64  // Unix ms
	Actor  string // user id ("" for a failed sign-in)
	Email  string // the actor's email (or the email tried)
	Role   string
	Action string // e.g. sign_in, enrolment_code, device_revoke, review, withdraw …
	Team   string
	Target string // "collection/id", a device id …
	Detail string // ids, counts, states: never participant text
}

// AuditQuery filters the audit log; zero values do not filter. Teams nil means every team.
type AuditQuery struct {
	Teams    []string
	Action   string
	Actor    string // matches actor id or email, exactly
	Self     string // with Teams set: also list this user's own entries that have no team
	From, To int64  // [From, To) on At
	Before   int64  // entries with ID < Before (paging); 0: from the newest
	Limit    int    // default 100
}

// AuditLog is an append-only record of coordinators' and admins' actions.
type AuditLog interface {
	// AppendAudit adds an entry (ID and, when zero, At are set by the log).
	AppendAudit(ctx context.Context, e AuditEntry) error
	// Audit lists entries newest first. Entries without a team are listed for admins
	// (Teams nil) and to their actor (Self).
	Audit(ctx context.Context, q AuditQuery) ([]AuditEntry, error)
}
