package sdk

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fieldnotes/fieldnotes/client-sdk/internal/atrest"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

// DBName is the store's file name inside the device's directory.
const DBName = "fieldnotes.db"

// Keys the SDK keeps in the store's meta table.
const (
	metaServer       = "sdk.server"
	metaDeviceID     = "sdk.device_id"
	metaLabel        = "sdk.label"
	metaAccess       = "sdk.access_token"
	metaRefresh      = "sdk.refresh_token"
	metaExpiresAt    = "sdk.access_expires_at"
	metaAcked        = "sdk.acked_counter"
	metaCursor       = "sdk.pull_cursor"
	metaLastSync     = "sdk.last_sync"
	metaLastError    = "sdk.last_sync_error"
	metaRejected     = "sdk.rejected"
	metaEngineCount  = "counter" // syncengine's own op counter for this node (read only)
	defaultBatch     = 500
	defaultPageLimit = 5000
)

// Device is one tablet's Fieldnotes: its store, identity and sync client. Its methods
// are safe for concurrent use; Sync runs one at a time.
type Device struct {
	dir   string
	opts  options
	mu    sync.RWMutex // write-locked only to wipe; capture holds it for reading
	store *syncengine.Store
	wiped bool

	syncMu sync.Mutex         // one sync at a time
	authMu sync.Mutex         // one token refresh at a time
	hook   func(string) error // test hook: crash points inside Sync
	cache  cache
	key    *atrest.Key // the store key while the store is open; nil when unencrypted
}

type options struct {
	now        func() time.Time
	httpClient *http.Client
	logger     *slog.Logger
	batch      int
	pageLimit  int
	retries    int
	backoff    time.Duration
	maxBackoff time.Duration
	lang       string
	gzipOver   int
	onSync     func(error)
	key        []byte       // the store key (WithStoreKey); nil: unencrypted
	onWipe     func() error // WithWipeHook
	// openDB opens an unencrypted store's handles: defaultOpenDB, or another driver
	// (benchmarks comparing drivers); nil: syncengine's default, modernc.
	openDB func(string) (*sql.DB, error)
	// inlineCheckpoint (benchmarks only) has SQLite checkpoint on the writer, as the
	// store did before syncengine.Tablet, for a side-by-side comparison.
	inlineCheckpoint bool
}

// Option configures Open.
type Option func(*options)

// WithClock sets the wall clock (tests); time.Now by default.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithHTTPClient sets the HTTP client the sync client uses.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithLogger sets the logger. It logs ids and counts, never what a participant said.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithBatch sets how many ops one push carries (default 500) and how many one pull page
// asks for (default 2000).
func WithBatch(push, pull int) Option {
	return func(o *options) {
		if push > 0 {
			o.batch = push
		}
		if pull > 0 {
			o.pageLimit = pull
		}
	}
}

// WithRetry bounds retries of one request (network errors, 5xx, 429): attempts after the
// first, and the base and cap of the exponential backoff with full jitter.
func WithRetry(retries int, base, limit time.Duration) Option {
	return func(o *options) { o.retries, o.backoff, o.maxBackoff = retries, base, limit }
}

// WithLanguage sets the worker's language, sent as Accept-Language.
func WithLanguage(lang string) Option { return func(o *options) { o.lang = lang } }

// WithSyncListener is called after every sync AutoSync attempts, with its error (nil on
// success).
func WithSyncListener(fn func(error)) Option { return func(o *options) { o.onSync = fn } }

// WithStoreKey encrypts the store at rest with key, 32 bytes the platform keystore keeps
// (Android Keystore, iOS Keychain) and passes in: the database, its WAL and its index
// are all written through Adiantum (see client-sdk/internal/atrest), so nothing a
// participant said is readable in the device's files. Open copies the key, and the
// caller may clear its slice. A store written without a key is encrypted in place the
// first time it is opened with one; an encrypted store opened with the wrong key, or
// without one, is refused with ErrStoreKey and left as it is.
func WithStoreKey(key []byte) Option {
	return func(o *options) { o.key = bytes.Clone(key) }
}

// WithWipeHook is called once the store has been wiped (the server revoked the device,
// or Wipe), after its files and the SDK's copy of the key are gone: the platform
// destroys the key it keeps there, so the ciphertext left on flash can never be read.
// Its error is returned by the call that wiped.
func WithWipeHook(fn func() error) Option { return func(o *options) { o.onWipe = fn } }

// Open opens (creating if needed) the device store <dir>/fieldnotes.db.
func Open(dir string, opts ...Option) (*Device, error) {
	o := options{
		now:        time.Now,
		httpClient: &http.Client{Timeout: 60 * time.Second},
		logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		batch:      defaultBatch,
		pageLimit:  defaultPageLimit,
		retries:    5,
		backoff:    250 * time.Millisecond,
		maxBackoff: 15 * time.Second,
		lang:       "en",
		gzipOver:   32 << 10,
		openDB:     defaultOpenDB,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	now := o.now
	path := filepath.Join(dir, DBName)
	so := syncengine.Tablet(syncengine.Options{Now: func() int64 { return now().UnixMilli() }, OpenDB: o.openDB})
	if o.inlineCheckpoint {
		so.BackgroundCheckpoint = false
	}
	var key *atrest.Key
	if o.key != nil {
		var err error
		if key, err = openKey(path, o.key); err != nil {
			return nil, err
		}
		clear(o.key)
		o.key = nil
		so.OpenDB = key.OpenDB
	} else if state, err := atrest.Inspect(path); err != nil {
		return nil, err
	} else if state == atrest.Encrypted {
		return nil, &Error{Code: CodeStoreKey, Detail: "the store is encrypted and no key was given"}
	}
	st, err := syncengine.Open(path, so)
	if err != nil {
		if key != nil {
			key.Destroy()
		}
		return nil, err
	}
	return &Device{dir: dir, opts: o, store: st, key: key}, nil
}

// openKey readies the store key for the store at path: a plain store (written before
// encryption) is encrypted in place; an encrypted one must open with this key.
func openKey(path string, raw []byte) (*atrest.Key, error) {
	key, err := atrest.New(raw)
	if err != nil {
		return nil, &Error{Code: CodeStoreKey, Detail: err.Error()}
	}
	if err := atrest.Recover(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		key.Destroy()
		return nil, err
	}
	state, err := atrest.Inspect(path)
	switch {
	case err != nil:
	case state == atrest.Plain:
		err = key.Encrypt(path)
	case state == atrest.Encrypted:
		if verr := key.Verify(path); verr != nil {
			err = &Error{Code: CodeStoreKey, Detail: "the key does not open this store", Err: verr}
		}
	}
	if err != nil {
		key.Destroy()
		return nil, err
	}
	return key, nil
}

// Close closes the store.
func (d *Device) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.wiped || d.store == nil {
		return nil
	}
	err := d.store.Close()
	d.store = nil
	if d.key != nil {
		d.key.Destroy()
		d.key = nil
	}
	return err
}

// Store is the underlying replica (read it; write through the Device).
func (d *Device) Store() *syncengine.Store { return d.store }

// Dir is the directory the store lives in.
func (d *Device) Dir() string { return d.dir }

// use runs fn with the store while holding the device read lock.
func (d *Device) use(fn func(s *syncengine.Store) error) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.wiped {
		return ErrRevoked
	}
	if d.store == nil {
		return &Error{Code: CodeInternal, Detail: "device is closed"}
	}
	return fn(d.store)
}

// wipe closes the store and deletes its files: the server revoked this device.
func (d *Device) wipe() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.wiped {
		return nil
	}
	d.wiped = true
	d.cache.forgetIdentity()
	d.cache.invalidate()
	var errs []error
	if d.store != nil {
		errs = append(errs, d.store.Close())
		d.store = nil
	}
	base := filepath.Join(d.dir, DBName)
	for _, p := range []string{base, base + "-wal", base + "-shm", base + "-journal"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if d.key != nil {
		d.key.Destroy()
		d.key = nil
	}
	if d.opts.onWipe != nil {
		errs = append(errs, d.opts.onWipe())
	}
	d.opts.logger.Warn("store wiped", "dir", d.dir)
	return errors.Join(errs...)
}

// Wipe deletes the store and destroys its key (WithWipeHook), as a revocation does:
// for a tablet handed back or lost track of. Changes not yet synced are lost with it.
// The Device can't be used afterwards (ErrRevoked).
func (d *Device) Wipe() error { return d.wipe() }

// Wiped reports whether the store was wiped after the server revoked the device.
func (d *Device) Wiped() bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.wiped
}

// Identity is what enrolment gave this device.
type Identity struct {
	Server   string
	DeviceID string
	Node     string
	Team     string
	Label    string
}

// Identity returns the device's identity; ErrNotEnrolled before Enrol.
func (d *Device) Identity() (Identity, error) {
	var id Identity
	err := d.use(func(s *syncengine.Store) error {
		var err error
		if id.Node, id.Team, err = s.Identity(); err != nil {
			return err
		}
		for k, p := range map[string]*string{metaServer: &id.Server, metaDeviceID: &id.DeviceID, metaLabel: &id.Label} {
			if *p, _, err = s.Meta(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Identity{}, err
	}
	if id.Node == "" {
		return Identity{}, ErrNotEnrolled
	}
	return id, nil
}

// SetLocalIdentity gives an unenrolled device a node id and team without a server: for
// demos, tests and a device that is enrolled some other way.
func (d *Device) SetLocalIdentity(ctx context.Context, node, team string) error {
	defer d.cache.forgetIdentity()
	return d.use(func(s *syncengine.Store) error { return s.SetIdentity(ctx, node, team) })
}

// now is hub-corrected wall time in ms (the clock learns the hub's offset at every sync),
// so a tablet with a wrong clock still records sensible times.
func (d *Device) now(s *syncengine.Store) int64 { return s.Clock().Physical() }
