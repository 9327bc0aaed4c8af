// Package store is what the Fieldnotes server keeps, behind an interface narrow enough
// that a PostgreSQL implementation can be added next to the SQLite one: the replica (the
// CRDT op log and the records it materialises, from syncengine) and the auth entities
// (teams, users, devices, enrolment codes, refresh tokens).
//
// Every implementation must pass storetest.Run. Methods return the sentinel errors below
// (wrapped or not); anything else is an internal failure. Secrets never reach a store in
// clear: enrolment codes and refresh tokens are stored as hashes made by the caller.
//
// This package imports syncengine for its types only; it never imports net/http or echo.
package store

import (
	"context"
	"errors"

	"github.com/fieldnotes/fieldnotes/syncengine"
)

// Sentinel errors. The API maps each one to a stable error code.
var (
	ErrNotFound = errors.New("store: not found")      // no such entity
	ErrConflict = errors.New("store: already exists") // a unique name or email is taken
	ErrUsed     = errors.New("store: already used")   // a one-use enrolment code was used
	ErrExpired  = errors.New("store: expired")        // a code or token is past its expiry
	ErrReused   = errors.New("store: token reused")   // a rotated refresh token came back
	ErrRevoked  = errors.New("store: revoked")        // the device or token was revoked
	ErrScope    = errors.New("store: another team")   // the entity belongs to another team
	// ErrUnknownToken: a refresh token given as proof names no device.
	ErrUnknownToken = errors.New("store: unknown refresh token")
)

// Store is everything the server keeps.
type Store interface {
	Replica
	Auth
	// Ping checks both the replica and the auth data answer.
	Ping(ctx context.Context) error
	Close() error
}

// Replica is the server's copy of the CRDT: every op any device pushed, numbered in ingest
// order, and the records they materialise. The semantics are syncengine.Store's; see there.
type Replica interface {
	// Apply merges a batch in one transaction, durable when it returns.
	Apply(ctx context.Context, ops []syncengine.Op, opt syncengine.ApplyOptions) (syncengine.Result, error)
	// WriteAs stamps changes as ops of node (a coordinator's own node) and applies them.
	// A change that fails validation stores nothing: *syncengine.RejectedError.
	WriteAs(ctx context.Context, node string, changes []syncengine.Change, opt syncengine.ApplyOptions) ([]syncengine.Op, syncengine.Result, error)
	// Pull pages through ops ingested after cursor in the teams' records (nil: all).
	Pull(ctx context.Context, teams []string, cursor int64, limit int) (syncengine.PullResult, error)
	// MaxSeq is the ingest high-water mark.
	MaxSeq(ctx context.Context) (int64, error)
	// StateHash is the canonical hash of the teams' live records and their count.
	StateHash(ctx context.Context, teams []string) (string, int, error)
	// Get returns one record (a tombstone if erased) or syncengine.ErrNotFound.
	Get(ctx context.Context, k syncengine.RecordKey) (syncengine.Record, error)
	// Records lists a page of one collection in id order.
	Records(ctx context.Context, q syncengine.RecordQuery) ([]syncengine.Record, string, error)
	// Scan calls fn for every live record of a collection in the teams, flat in memory.
	Scan(ctx context.Context, collection string, teams []string, fn func(syncengine.Record) error) error
	// History lists a record's ops in stamp order.
	History(ctx context.Context, k syncengine.RecordKey) ([]syncengine.Op, error)
	// ServerTime is the hub's clock (Unix ms) as devices should adopt it.
	ServerTime() int64
}

// Roles.
const (
	RoleAdmin       = "admin"
	RoleCoordinator = "coordinator"
	RoleDevice      = "device"
)

// Team is a field team. Its name is its identity: records carry it in their `team` field.
type Team struct {
	Name      string
	CreatedAt int64 // Unix ms
}

// User is a person who logs in: an admin or a coordinator.
type User struct {
	ID           string // UUIDv7
	Email        string // stored lower-cased
	Role         string // RoleAdmin or RoleCoordinator
	Teams        []string
	NodeID       string // the op node the server writes this person's changes under
	PasswordHash string // an encoded argon2id hash, never the password
	CreatedAt    int64
}

// Device is an enrolled tablet.
type Device struct {
	ID         string // UUIDv7
	NodeID     string // its replica id: every op it pushes carries it
	Team       string
	Label      string
	EnrolledBy string // user id that issued the code
	EnrolledAt int64
	LastSeenAt int64
	Revoked    bool
	RevokedAt  int64
	// TokensRevokedAt is set when a used refresh token was presented again: every token
	// the device holds is dead, but the device is not revoked (it keeps its data) and can
	// be enrolled again with a new code.
	TokensRevokedAt int64
}

// EnrolmentCode is a one-use code a coordinator hands to a device. Only its hash is kept.
type EnrolmentCode struct {
	Hash      string
	Team      string
	Label     string
	CreatedBy string // user id
	CreatedAt int64
	ExpiresAt int64
	UsedAt    int64 // 0 while unused
	DeviceID  string
}

// Refresh token subjects.
const (
	SubjectUser   = "user"
	SubjectDevice = "device"
)

// RefreshToken is one link of a rotation chain. Only its hash is kept. Family groups the
// chain: presenting a used link revokes the whole family, and for a device the device.
type RefreshToken struct {
	Hash        string
	SubjectKind string // SubjectUser or SubjectDevice
	SubjectID   string
	Family      string
	CreatedAt   int64
	ExpiresAt   int64
	UsedAt      int64
	Revoked     bool
}

// Auth is who may call the server.
type Auth interface {
	// CreateTeam: ErrConflict if the name is taken.
	CreateTeam(ctx context.Context, t Team) error
	// Team: ErrNotFound.
	Team(ctx context.Context, name string) (Team, error)
	// Teams lists teams by name; names nil lists every team, otherwise only those named.
	Teams(ctx context.Context, names []string) ([]Team, error)

	// CreateUser: ErrConflict if the email is taken, ErrNotFound if a team is unknown.
	CreateUser(ctx context.Context, u User) error
	// UserByEmail and UserByID: ErrNotFound.
	UserByEmail(ctx context.Context, email string) (User, error)
	UserByID(ctx context.Context, id string) (User, error)
	// Users lists every user by email.
	Users(ctx context.Context) ([]User, error)
	// CountUsers is how many users exist (bootstrap creates the first admin if none).
	CountUsers(ctx context.Context) (int, error)

	// CreateEnrolmentCode stores a new code. ErrNotFound if the team is unknown.
	CreateEnrolmentCode(ctx context.Context, c EnrolmentCode) error
	// Enrol consumes the code with hash codeHash at time now and, in the same
	// transaction, creates d (its Team is taken from the code, its Label from the code
	// when empty) and stores its first refresh token. ErrNotFound for an unknown code,
	// ErrUsed if it was used, ErrExpired if it is past its expiry.
	Enrol(ctx context.Context, codeHash string, now int64, d Device, first RefreshToken) (Device, error)
	// Reenrol uses a code to sign an existing device in again, keeping its id and node id
	// (so ops it has not pushed can still be pushed). The device is the one that was
	// given the refresh token whose hash is previousHash (a proof that the caller is that
	// tablet, valid even after its tokens were revoked). It must be in the code's team
	// (ErrScope) and not revoked by a coordinator (ErrRevoked); an unknown token is
	// ErrUnknownToken. The code's errors are Enrol's. Its old tokens stay revoked; first
	// starts a new family.
	Reenrol(ctx context.Context, codeHash, previousHash string, now int64, label string, first RefreshToken) (Device, error)
	// Device: ErrNotFound.
	Device(ctx context.Context, id string) (Device, error)
	// Devices lists devices of the teams (nil: all), by enrolment time.
	Devices(ctx context.Context, teams []string) ([]Device, error)
	// RevokeDevice marks the device revoked at now (idempotent) and revokes its refresh
	// tokens. ErrNotFound.
	RevokeDevice(ctx context.Context, id string, now int64) (Device, error)
	// TouchDevice records the device was seen at now.
	TouchDevice(ctx context.Context, id string, now int64) error

	// CreateRefreshToken stores a new token (a login starts a family).
	CreateRefreshToken(ctx context.Context, t RefreshToken) error
	// RotateRefreshToken marks the token with hash oldHash used at now and stores next
	// (only its Hash is taken) in the same family, for the same subject and with the same
	// lifetime as the old link, in one transaction; it returns the old token, also (as far
	// as it is known) with an error. ErrNotFound for an unknown token; ErrExpired;
	// ErrRevoked if its family or device was revoked; ErrReused if it was already used, in
	// which case the family is revoked and, for a device, the device too (committed even
	// though an error is returned).
	RotateRefreshToken(ctx context.Context, oldHash string, now int64, next RefreshToken) (RefreshToken, error)

	// NodeOwner names who writes under an op node: a user or a device. ok is false for
	// nodes that are neither (the hub itself, or unknown).
	NodeOwner(ctx context.Context, node string) (kind, id, label string, ok bool, err error)
}
