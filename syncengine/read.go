package syncengine

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sort"
)

// teamFilter renders "AND r.team IN (…)" for a team list; nil means every team.
func teamFilter(col string, teams []string) (string, []any) {
	if teams == nil {
		return "", nil
	}
	if len(teams) == 0 {
		return " AND 0", nil
	}
	return " AND " + col + " IN (" + placeholders(len(teams)) + ")", anys(teams)
}

// PullResult is one page of a pull.
type PullResult struct {
	Ops    []Op
	Erased []RecordKey
	Cursor int64
	More   bool
}

// Pull returns up to limit ops ingested after cursor in the given teams' records (nil:
// all), in ingest order, and the records erased in the same span. Following Cursor until
// More is false reaches everything committed when the last page was read.
func (s *Store) Pull(ctx context.Context, teams []string, cursor int64, limit int) (PullResult, error) {
	if limit <= 0 {
		limit = 1000
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return PullResult{}, err
	}
	defer tx.Rollback()
	filter, args := teamFilter("r.team", teams)
	rows, err := tx.QueryContext(ctx, `SELECT `+opColumns+`, o.seq FROM ops o JOIN nodes n ON n.nid = o.nid JOIN records r ON r.rid = o.rid
		WHERE o.seq > ?`+filter+` ORDER BY o.seq LIMIT ?`, append(append([]any{cursor}, args...), limit+1)...)
	if err != nil {
		return PullResult{}, err
	}
	res := PullResult{Ops: make([]Op, 0, min(limit, 1024)), Erased: []RecordKey{}}
	var last int64
	for rows.Next() {
		var seq int64
		op, err := scanOp(rows, &seq)
		if err != nil {
			rows.Close()
			return PullResult{}, err
		}
		if len(res.Ops) == limit {
			res.More = true
			break
		}
		res.Ops = append(res.Ops, op)
		last = seq
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return PullResult{}, err
	}
	if res.More {
		res.Cursor = last
	} else {
		var top sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT max(coalesce((SELECT max(seq) FROM ops), 0), coalesce((SELECT max(erased_seq) FROM records), 0))`).Scan(&top); err != nil {
			return PullResult{}, err
		}
		res.Cursor = max(top.Int64, cursor)
	}
	if teams != nil && len(teams) == 0 {
		return res, nil // no team: nothing erased to tell of either
	}
	// Named, because without ANALYZE statistics SQLite reads the erasures through
	// records_team instead: every record of the team, row by row, on every page. That was
	// most of a pull's time (the sqlite3BtreeTableMoveto 42% of fieldnotes-bench's pull
	// profile), not the per-op join, which reads ops and records in step.
	efilter, eargs := teamFilter("team", teams)
	erows, err := tx.QueryContext(ctx, `SELECT collection, id FROM records INDEXED BY records_erased WHERE erased_seq > ? AND erased_seq <= ?`+efilter+` ORDER BY erased_seq`,
		append([]any{cursor, res.Cursor}, eargs...)...)
	if err != nil {
		return PullResult{}, err
	}
	defer erows.Close()
	for erows.Next() {
		var k RecordKey
		if err := erows.Scan(&k.Collection, &k.Record); err != nil {
			return PullResult{}, err
		}
		res.Erased = append(res.Erased, k)
	}
	return res, erows.Err()
}

// StateHash is the canonical hash of the teams' records (nil: all) and how many live
// records it covers. A device and the hub that have seen the same ops have the same hash.
func (s *Store) StateHash(ctx context.Context, teams []string) (string, int, error) {
	filter, args := teamFilter("team", teams)
	rows, err := s.r.QueryContext(ctx, `SELECT collection, id, erased_seq IS NOT NULL, deleted, withdrawn, view FROM records
		WHERE (view IS NOT NULL OR erased_seq IS NOT NULL)`+filter+` ORDER BY collection, id`, args...)
	if err != nil {
		return "", 0, err
	}
	defer rows.Close()
	h := sha256.New()
	n := 0
	var view []byte
	for rows.Next() {
		var k RecordKey
		var erased, deleted, withdrawn bool
		if err := rows.Scan(&k.Collection, &k.Record, &erased, &deleted, &withdrawn, &view); err != nil {
			return "", 0, err
		}
		if !erased {
			n++
		}
		writeHashParts(h, k, erased, deleted, withdrawn, func() []byte { return view })
	}
	if err := rows.Err(); err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// Record is a materialised record as readers see it.
type Record struct {
	Collection string                     `json:"collection"`
	ID         string                     `json:"id"`
	Team       string                     `json:"team"`
	Fields     map[string]json.RawMessage `json:"fields"`
	Deleted    bool                       `json:"deleted,omitempty"`
	Withdrawn  bool                       `json:"withdrawn,omitempty"`
	Erased     bool                       `json:"erased,omitempty"`
	UpdatedTS  int64                      `json:"updated_ts"`
}

// ErrNotFound is returned for a record the replica has never held.
var ErrNotFound = errors.New("syncengine: record not found")

const recordColumns = `collection, id, team, view, deleted, withdrawn, erased_seq IS NOT NULL, updated_ts, rid`

func scanRecord(sc interface{ Scan(...any) error }) (Record, int64, error) {
	var r Record
	var view []byte
	var rid int64
	if err := sc.Scan(&r.Collection, &r.ID, &r.Team, &view, &r.Deleted, &r.Withdrawn, &r.Erased, &r.UpdatedTS, &rid); err != nil {
		return Record{}, 0, err
	}
	r.Fields = map[string]json.RawMessage{}
	if len(view) > 0 {
		if err := json.Unmarshal(view, &r.Fields); err != nil {
			return Record{}, 0, err
		}
	}
	return r, rid, nil
}

// Get returns one record, erased ones included (as a tombstone with no fields).
func (s *Store) Get(ctx context.Context, k RecordKey) (Record, error) {
	r, _, err := scanRecord(s.getRecord.QueryRowContext(ctx, k.Collection, k.Record))
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, ErrNotFound
	}
	return r, err
}

// RecordQuery selects a page of one collection.
type RecordQuery struct {
	Collection   string
	Teams        []string // nil: every team
	UpdatedSince int64    // ms; 0: any
	After        string   // id to continue after
	Limit        int
	// WithErased includes tombstones; WithDeleted includes deleted records.
	WithErased, WithDeleted bool
}

// Records lists a collection in id order. next is the id to pass as After for the next
// page, "" at the end.
func (s *Store) Records(ctx context.Context, q RecordQuery) (out []Record, next string, err error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	filter, args := teamFilter("team", q.Teams)
	where := `collection = ? AND id > ? AND updated_ts >= ?` + filter
	if !q.WithErased {
		where += ` AND erased_seq IS NULL AND view IS NOT NULL`
	}
	if !q.WithDeleted {
		where += ` AND deleted = 0`
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+recordColumns+` FROM records WHERE `+where+` ORDER BY collection, id LIMIT ?`,
		append(append([]any{q.Collection, q.After, q.UpdatedSince}, args...), q.Limit+1)...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	out = []Record{}
	for rows.Next() {
		r, _, err := scanRecord(rows)
		if err != nil {
			return nil, "", err
		}
		if len(out) == q.Limit {
			next = out[len(out)-1].ID
			break
		}
		out = append(out, r)
	}
	return out, next, rows.Err()
}

// Scan calls fn for every live record of a collection in the teams (nil: all), in id
// order, reading in pages so memory stays flat however many there are.
func (s *Store) Scan(ctx context.Context, collection string, teams []string, fn func(Record) error) error {
	return ScanPages(ctx, s.Records, collection, teams, fn)
}

// ScanPages calls fn for every record that records lists for a collection in the teams,
// following its cursor 500 records at a time: Scan for any store that can list a page.
func ScanPages(ctx context.Context, records func(context.Context, RecordQuery) ([]Record, string, error),
	collection string, teams []string, fn func(Record) error) error {
	after := ""
	for {
		page, next, err := records(ctx, RecordQuery{Collection: collection, Teams: teams, After: after, Limit: 500})
		if err != nil {
			return err
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		after = next
	}
}

// History lists a record's ops in (ts, tc, node) order: who changed what, when.
func (s *Store) History(ctx context.Context, k RecordKey) ([]Op, error) {
	var seqs []byte
	err := s.r.QueryRowContext(ctx, `SELECT seqs FROM records WHERE collection = ? AND id = ?`, k.Collection, k.Record).Scan(&seqs)
	if errors.Is(err, sql.ErrNoRows) {
		return []Op{}, nil
	}
	if err != nil {
		return nil, err
	}
	sops, err := readSeqOps(s.r, decodeSeqs(seqs))
	if err != nil {
		return nil, err
	}
	ops := make([]Op, len(sops))
	for i, so := range sops {
		ops[i] = so.op
	}
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].Stamp().Less(ops[j].Stamp()) })
	return ops, nil
}

// OpsFrom lists a node's ops with counter above after, in counter order: what a device
// still has to push.
func (s *Store) OpsFrom(ctx context.Context, node string, after uint64, limit int) ([]Op, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+opColumns+` FROM ops o JOIN nodes n ON n.nid = o.nid JOIN records r ON r.rid = o.rid
		WHERE n.node = ? AND o.counter > ? ORDER BY o.counter LIMIT ?`, node, int64(after), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Op{}
	for rows.Next() {
		op, err := scanOp(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, op)
	}
	return out, rows.Err()
}

// CountOps counts the ops held (after purges).
func (s *Store) CountOps(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM ops`).Scan(&n)
	return n, err
}

// Purge erases records the hub says are erased, in one transaction: their ops leave the
// log and only a tombstone stays. Records this replica never held get a tombstone too, so
// anything for them that arrives later is discarded.
func (s *Store) Purge(ctx context.Context, keys []RecordKey, team string) error {
	if len(keys) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var erased int
	_, _, err := s.applyLocked(ctx, ApplyOptions{}, func(t *sqlTxn) ([]Op, error) {
		b := batch{engine: &s.engine, t: t, res: &Result{}}
		for _, k := range keys {
			r, err := t.load(k)
			if err != nil {
				return nil, err
			}
			if r == nil {
				r = t.create(k, team)
			}
			if err := b.erase(r); err != nil {
				return nil, err
			}
		}
		erased = len(b.res.Erased)
		return nil, nil
	}, false)
	if err == nil && erased > 0 {
		s.scrubWAL()
	}
	return err
}

// IsErased reports whether a record is a tombstone here.
func (s *Store) IsErased(ctx context.Context, k RecordKey) (bool, error) {
	r, err := s.Get(ctx, k)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return r.Erased, err
}

// MaxSeq is the highest ingest sequence committed so far (ops and erasures), 0 for an
// empty store: the hub's high-water mark, encoded with EncodeCursor.
func (s *Store) MaxSeq(ctx context.Context) (int64, error) {
	// The writer publishes it after every commit: no query, and no wait for the writer.
	return s.committedSeq.Load(), nil
}
