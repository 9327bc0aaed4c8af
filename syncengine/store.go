package syncengine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fieldnotes/fieldnotes/schema"
)

// Store is a replica on SQLite: the op log, the materialised records and tombstones, and
// the ingest sequence pull cursors count in. One writer (every batch is one immediate
// transaction), many readers; WAL; freed pages zeroed so erased text doesn't linger.
type Store struct {
	engine
	path string
	w, r *sql.DB

	mu      sync.Mutex // one writer; guards what follows
	nextSeq int64
	nextRid int64
	nodes   map[string]int64
	stmts   map[string]*sql.Stmt // see stmts.go
	// recent holds records as the last committed batch left them, so that the next
	// write to the same record (a tablet's next answer) needs no read, decode or refill.
	// Only the writer touches it (under mu); any rollback empties it.
	recent map[RecordKey]cachedRow
	// metaCache holds meta values the writer has read or written (node id, counters);
	// SetMeta and any rollback empty it.
	metaCache map[string]string
	getRecord *sql.Stmt // Get, on the reader pool
	ckpt      *checkpointer
	// topCounters is, per node, at least the highest counter stored (see topCounter).
	topCounters map[int64]uint64
	// committedSeq is the highest seq (op or erasure) committed, for MaxSeq.
	committedSeq atomic.Int64
}

type cachedRow struct {
	row *row
	rid int64
}

// recentLimit bounds the cache; past it the cache starts again empty.
const recentLimit = 1024

// Options configure a store.
type Options struct {
	// Now returns wall time in Unix ms; time.Now when nil. Tests inject a clock.
	Now func() int64
	// MaxSkew bounds how far ahead of the hub an op may be stamped; DefaultMaxSkew when 0.
	MaxSkew time.Duration
	// PageSize, if set, is the page size of a store created now (a power of two from 512
	// to 65536). SQLite writes the WAL one page per system call, so a hub committing
	// many ops at a time gains from big pages (see Hub); a tablet committing one
	// answer at a time does better with SQLite's default 4 KiB.
	PageSize int
	// MmapSize, if set, memory-maps up to that many bytes of the file for readers. A hub
	// serving pulls reads many pages and gains (a read syscall per page was a fifth of
	// pull time); a tablet's small reads lose, because each read transaction remaps the
	// file its writer keeps growing (munmap was a fifth of capture time).
	MmapSize int64
	// BackgroundCheckpoint moves WAL checkpoints off the writer onto a goroutine of their
	// own (checkpoint.go). A hub's writer gains. A tablet's too: in line, one commit in
	// every thousand WAL pages runs SQLite's checkpoint and its two fsyncs, which is what
	// made one capture in a hundred take ~12 ms (go test -trace: 58% of the capture's
	// syscall time was full_fsync under sqlite3WalDefaultHook).
	BackgroundCheckpoint bool
	// CheckpointAfterCommits, with BackgroundCheckpoint, is how many commits pass between
	// background checkpoints (at most one every 200 ms either way); 0 means every commit.
	// A tablet commits an answer at a time, so checkpointing after each would fsync far
	// more often than SQLite's own 1,000-page cadence.
	CheckpointAfterCommits int
	// OpenDB, if set, opens the store's database/sql handles instead of modernc's
	// "sqlite" driver: a tablet opens its store over an encrypting driver (see
	// client-sdk/internal/atrest). It gets the DSN this package builds, "file:PATH?" with
	// "_pragma=NAME(VALUE)" in order and "_txlock=immediate" for the writer, which is the
	// syntax of both drivers; the SQL run over the handles is the same either way.
	OpenDB func(dsn string) (*sql.DB, error)
}

// Tablet returns o tuned for a device's store: SQLite's default pages and no memory
// map (a tablet's small reads lose with one), checkpoints off the writer every 64
// commits (a 10-answer conversation is 12).
func Tablet(o Options) Options {
	o.BackgroundCheckpoint, o.CheckpointAfterCommits = true, 64
	return o
}

// openDB opens a handle on dsn with opt's driver (modernc.go registers "sqlite").
func (opt Options) openDB(dsn string) (*sql.DB, error) {
	if opt.OpenDB != nil {
		return opt.OpenDB(dsn)
	}
	return sql.Open("sqlite", dsn)
}

// Hub returns o tuned for the server's store, which takes many devices' ops at once and
// serves their pulls: 16 KiB pages (SQLite writes the WAL a page per system call, and
// commit was a third of the hub's writer time with 4 KiB pages), memory-mapped reads,
// and checkpoints off the writer. Measured with fieldnotes-bench; a tablet keeps
// SQLite's defaults, which measured better for capture.
func Hub(o Options) Options {
	o.PageSize, o.MmapSize, o.BackgroundCheckpoint = 16384, 256<<20, true
	return o
}

// Connection roles, each with its own pragmas (every pooled connection gets them).
type connRole int

const (
	roleWriter       connRole = iota // the one writer: immediate transactions
	roleReader                       // many readers, read-only
	roleCheckpointer                 // copies the WAL back (checkpoint.go)
)

func dsn(path string, role connRole, opt Options) string {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(NORMAL)", "secure_delete(ON)"} {
		q.Add("_pragma", p)
	}
	switch role {
	case roleWriter:
		q.Set("_txlock", "immediate")
		// A big transaction (a group commit) otherwise spills pages to the WAL before it
		// commits, and statement journals (multi-row INSERTs) go to a temporary file.
		q.Add("_pragma", "cache_size(-65536)")
		q.Add("_pragma", "temp_store(MEMORY)")
		if opt.BackgroundCheckpoint {
			q.Add("_pragma", "wal_autocheckpoint(0)") // the checkpointer does it, off the writer's path
		}
	case roleReader:
		q.Add("_pragma", "query_only(1)")
		if opt.MmapSize > 0 {
			q.Add("_pragma", fmt.Sprintf("mmap_size(%d)", opt.MmapSize))
		}
	}
	return "file:" + path + "?" + q.Encode()
}

// createWithPageSize makes a new database file with the given page size and WAL on.
// The page size can't change once a database is in WAL mode, and the driver applies the
// DSN's pragmas in name order (journal_mode before page_size), hence this first
// connection. An existing file is left as it is.
func createWithPageSize(path string, opt Options) error {
	pageSize := opt.PageSize
	if pageSize == 0 {
		return nil
	}
	if _, err := os.Stat(path); err == nil || !errors.Is(err, os.ErrNotExist) {
		return nil
	}
	db, err := opt.openDB("file:" + path)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec(fmt.Sprintf("PRAGMA page_size = %d; PRAGMA journal_mode = WAL", pageSize))
	return err
}

// Open opens (creating if needed) the replica store at path and applies migrations.
func Open(path string, opt Options) (*Store, error) {
	now := opt.Now
	if now == nil {
		now = func() int64 { return time.Now().UnixMilli() }
	}
	skew := opt.MaxSkew
	if skew == 0 {
		skew = DefaultMaxSkew
	}
	if err := createWithPageSize(path, opt); err != nil {
		return nil, err
	}
	w, err := opt.openDB(dsn(path, roleWriter, opt))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	s := &Store{engine: engine{clock: NewClock(now), maxSkew: skew.Milliseconds()}, path: path, w: w, nodes: map[string]int64{}}
	if err := s.migrate(); err != nil {
		w.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	if err := s.prepareStatements(); err != nil {
		w.Close()
		return nil, fmt.Errorf("prepare %s: %w", path, err)
	}
	r, err := opt.openDB(dsn(path, roleReader, opt))
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(8)
	s.r = r
	if s.getRecord, err = r.Prepare(`SELECT ` + recordColumns + ` FROM records WHERE collection = ? AND id = ?`); err != nil {
		s.Close()
		return nil, err
	}
	if opt.BackgroundCheckpoint {
		if s.ckpt, err = startCheckpointer(path, opt); err != nil {
			s.Close()
			return nil, err
		}
	}
	if err := s.loadCounters(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the store.
func (s *Store) Close() error {
	var err error
	for _, st := range s.stmts {
		st.Close()
	}
	if s.getRecord != nil {
		s.getRecord.Close()
	}
	if s.ckpt != nil {
		s.ckpt.close()
	}
	if s.r != nil {
		err = s.r.Close()
	}
	if e := s.w.Close(); e != nil {
		err = e
	}
	return err
}

// Clock is the replica's hybrid logical clock.
func (s *Store) Clock() *Clock { return s.clock }

// MaxSkew is how far ahead (ms) the hub lets an op be stamped.
func (s *Store) MaxSkew() int64 { return s.maxSkew }

// Ping checks the store answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

func (s *Store) migrate() error {
	if _, err := s.w.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return err
	}
	for _, m := range schema.Migrations() {
		var n int
		if err := s.w.QueryRow(`SELECT count(*) FROM schema_migrations WHERE name = ?`, m.Name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		tx, err := s.w.Begin()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(m.SQL); err != nil {
			tx.Rollback()
			return fmt.Errorf("%s: %w", m.Name, err)
		}
		if _, err := tx.Exec(`INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, m.Name, s.clock.wall()); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// loadCounters restores the in-memory sequences and the clock after open or rollback.
func (s *Store) loadCounters() error {
	var seq, eseq, rid sql.NullInt64
	if err := s.w.QueryRow(`SELECT (SELECT max(seq) FROM ops), (SELECT max(erased_seq) FROM records), (SELECT max(rid) FROM records)`).Scan(&seq, &eseq, &rid); err != nil {
		return err
	}
	s.nextSeq = max(seq.Int64, eseq.Int64) + 1
	s.committedSeq.Store(s.nextSeq - 1)
	s.nextRid = rid.Int64 + 1
	s.nodes = map[string]int64{}
	if v, ok, err := s.meta(s.w, metaClock); err != nil {
		return err
	} else if ok {
		var ts int64
		var tc uint32
		var off int64
		if _, err := fmt.Sscanf(v, "%d %d %d", &ts, &tc, &off); err == nil {
			s.clock.Observe(ts, tc)
			s.clock.SetOffset(off)
		}
	}
	return nil
}

const (
	metaClock   = "clock"
	metaNode    = "node"
	metaTeam    = "team"
	metaCounter = "counter"
)

type querier interface {
	QueryRow(query string, args ...any) *sql.Row
}

func (s *Store) meta(q querier, key string) (string, bool, error) {
	var v string
	err := q.QueryRow(qGetMeta, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return v, err == nil, err
}

// metaCached reads a meta value through the writer's cache. Called under mu.
func (s *Store) metaCached(q querier, key string) (string, bool, error) {
	if v, ok := s.metaCache[key]; ok {
		return v, true, nil
	}
	v, ok, err := s.meta(q, key)
	if err == nil && ok {
		if s.metaCache == nil {
			s.metaCache = map[string]string{}
		}
		s.metaCache[key] = v
	}
	return v, ok, err
}

// Meta reads one setting of this replica (sync cursors, tokens the SDK keeps).
func (s *Store) Meta(key string) (string, bool, error) { return s.meta(s.r, key) }

// SetMeta writes settings in one transaction.
func (s *Store) SetMeta(ctx context.Context, kv map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.metaCache = nil
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for k, v := range kv {
		if _, err := tx.Exec(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, k, v); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Identity is the node id and team this replica writes as.
func (s *Store) Identity() (node, team string, err error) {
	node, _, err = s.meta(s.r, metaNode)
	if err != nil {
		return "", "", err
	}
	team, _, err = s.meta(s.r, metaTeam)
	return node, team, err
}

// SetIdentity records the node id and team given at enrolment.
func (s *Store) SetIdentity(ctx context.Context, node, team string) error {
	return s.SetMeta(ctx, map[string]string{metaNode: node, metaTeam: team})
}

// Apply merges a batch of ops in one transaction: all of it is durable when Apply
// returns, or none of it is. Invalid ops are listed in Result.Rejected, never dropped.
func (s *Store) Apply(ctx context.Context, ops []Op, opt ApplyOptions) (Result, error) {
	cp := make([]Op, len(ops))
	copy(cp, ops)
	validateAll(cp)
	s.mu.Lock()
	defer s.mu.Unlock()
	res, _, err := s.applyLocked(ctx, opt, func(*sqlTxn) ([]Op, error) { return cp, nil }, false)
	return res, err
}

// validateAll validates a big batch (a pulled page, a bulk import) on every core before
// the writer takes it, as the hub's request handlers do for pushes: validation is pure
// and was a sixth of applying a page. An op that fails stays unvalidated and is refused
// in order, with the same error, by the writer.
func validateAll(ops []Op) {
	workers := min(runtime.GOMAXPROCS(0), len(ops)/1024)
	if workers < 2 {
		return
	}
	var wg sync.WaitGroup
	per := (len(ops) + workers - 1) / workers
	for from := 0; from < len(ops); from += per {
		wg.Add(1)
		go func(chunk []Op) {
			defer wg.Done()
			for i := range chunk {
				chunk[i].Validate()
			}
		}(ops[from:min(from+per, len(ops))])
	}
	wg.Wait()
}

// RejectedError is a local write that failed validation; nothing was stored.
type RejectedError struct{ Rejected []Rejection }

func (e *RejectedError) Error() string {
	r := e.Rejected[0]
	return fmt.Sprintf("%s: %s: %s", r.Code, r.Field, r.Message)
}

// applyLocked runs one batch in one immediate transaction. prepare makes the ops inside
// the transaction (Write numbers them there). If reject is set, any rejected op rolls
// the whole batch back.
func (s *Store) applyLocked(ctx context.Context, opt ApplyOptions, prepare func(*sqlTxn) ([]Op, error), rejectAll bool) (res Result, ops []Op, err error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return Result{}, nil, err
	}
	t := &sqlTxn{s: s, tx: tx, rows: map[RecordKey]*row{}}
	defer func() {
		if err != nil {
			tx.Rollback()
			s.recent = nil // rows in it may carry the failed batch's changes
			s.metaCache = nil
			if lerr := s.loadCounters(); lerr != nil {
				err = errors.Join(err, lerr)
			}
		}
	}()
	if ops, err = prepare(t); err != nil {
		return Result{}, nil, err
	}
	if len(ops) > prefetchFrom {
		if err = t.prefetch(ops); err != nil {
			return Result{}, nil, err
		}
	}
	if res, err = s.engine.apply(t, ops, opt); err != nil {
		return Result{}, nil, err
	}
	if rejectAll && len(res.Rejected) > 0 {
		return Result{}, nil, &RejectedError{Rejected: res.Rejected}
	}
	if err = t.flush(); err != nil {
		return Result{}, nil, err
	}
	if err = tx.Commit(); err != nil {
		return Result{}, nil, err
	}
	s.committedSeq.Store(s.nextSeq - 1)
	if s.ckpt != nil {
		s.ckpt.committed()
	}
	t.keepRecent()
	if len(res.Erased) > 0 {
		s.scrubWAL()
	}
	return res, ops, nil
}

// prefetchFrom is the batch size above which existence checks are done in bulk; a
// tablet's one-answer write is cheaper checked op by op.
const prefetchFrom = 16

// scrubWAL checkpoints and truncates the WAL so erased text does not survive in old
// frames, nor in the database file's copy of a page the purge zeroed in the WAL.
// secure_delete has already zeroed the freed pages. On the hub the checkpointer does it,
// off the writer, retrying while readers hold old snapshots; a tablet does it in line.
func (s *Store) scrubWAL() {
	if s.ckpt != nil {
		s.ckpt.erased()
		return
	}
	s.w.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
}

// Change is a local edit before it becomes an op.
type Change struct {
	Collection string
	Record     string
	Kind       string
	Field      string
	Value      any // encoded as JSON; a json.RawMessage is used as is
}

// encodeValue is the change's value as JSON (a json.RawMessage is taken as it is).
func (c Change) encodeValue() (json.RawMessage, error) {
	switch v := c.Value.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		return v, nil
	default:
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode %s.%s: %w", c.Collection, c.Field, err)
		}
		return raw, nil
	}
}

// Write turns local changes into ops stamped by this replica's clock and node and
// applies them in one transaction. A change that fails validation stores nothing and
// returns a *RejectedError. A remove observes every add of the element this replica
// holds, so a concurrent add elsewhere still wins.
func (s *Store) Write(ctx context.Context, changes []Change, opt ApplyOptions) ([]Op, Result, error) {
	return s.WriteAs(ctx, "", changes, opt)
}

// ForeignCounterBase is where the hub's counters for another node start (2^52). A
// coordinator's client may push ops under the same node the hub writes that person's API
// and console changes under; it numbers them from 1, and the hub numbers its own above
// this base (and above any counter stored for the node), so the two never collide. 2^52
// stays within the integers a JSON number carries exactly (2^53) in every client.
const ForeignCounterBase uint64 = 1 << 52

// WriteAs is Write with ops of another node than the replica's own: the hub writes a
// coordinator's changes under that person's node, so the history shows who made them.
// Each node's counter is kept in meta, so counters never repeat even after a purge; for
// another node it starts above ForeignCounterBase and above every counter stored for
// that node.
func (s *Store) WriteAs(ctx context.Context, node string, changes []Change, opt ApplyOptions) ([]Op, Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	counterKey := metaCounter
	if node != "" {
		counterKey = metaCounter + ":" + node
	}
	res, ops, err := s.applyLocked(ctx, opt, func(t *sqlTxn) ([]Op, error) {
		if node == "" {
			own, ok, err := s.metaCached(t, metaNode)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, errors.New("syncengine: replica has no node id (not enrolled)")
			}
			node = own
		}
		cv, _, err := s.metaCached(t, counterKey)
		if err != nil {
			return nil, err
		}
		counter, _ := strconv.ParseUint(cv, 10, 64)
		if counterKey != metaCounter {
			counter = max(counter, ForeignCounterBase)
			if nid, ok, err := t.lookupNid(node); err != nil {
				return nil, err
			} else if ok {
				top, err := t.topCounter(nid)
				if err != nil {
					return nil, err
				}
				counter = max(counter, top)
			}
		}
		ops, err := stampChanges(s.clock, t, node, counter, changes)
		if err != nil {
			return nil, err
		}
		cv = strconv.FormatUint(counter+uint64(len(ops)), 10)
		if _, err = t.exec(qSetMeta, counterKey, cv); err == nil {
			if s.metaCache == nil {
				s.metaCache = map[string]string{}
			}
			s.metaCache[counterKey] = cv // dropped with the rest if the batch rolls back
		}
		return ops, err
	}, true)
	return ops, res, err
}
