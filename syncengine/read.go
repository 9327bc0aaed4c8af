package syncengine

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/fieldnotes/fieldnotes/schema"
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
//
// Each team's ops are one range scan of ops_team_seq (an op carries its record's team,
// which never changes); node and record names are looked up once per page for the
// distinct nodes and records on it, not joined op by op.
func (s *Store) Pull(ctx context.Context, teams []string, cursor int64, limit int) (PullResult, error) {
	if limit <= 0 {
		limit = 1000
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return PullResult{}, err
	}
	defer tx.Rollback()
	var got []pulledOp
	if teams == nil {
		if got, err = pullRange(ctx, tx, nil, `SELECT `+pullColumns+` FROM ops WHERE seq > ? ORDER BY seq LIMIT ?`, cursor, limit+1); err != nil {
			return PullResult{}, err
		}
	} else {
		seen := map[string]bool{}
		for _, team := range teams {
			if seen[team] {
				continue
			}
			seen[team] = true
			if got, err = pullRange(ctx, tx, got, `SELECT `+pullColumns+` FROM ops INDEXED BY ops_team_seq WHERE team = ? AND seq > ? ORDER BY seq LIMIT ?`, team, cursor, limit+1); err != nil {
				return PullResult{}, err
			}
		}
		if len(seen) > 1 {
			// Each team's first limit+1 ops hold the first limit+1 of all of them.
			sort.Slice(got, func(i, j int) bool { return got[i].seq < got[j].seq })
		}
	}
	res := PullResult{Erased: []RecordKey{}}
	if len(got) > limit {
		got, res.More = got[:limit], true
		res.Cursor = got[limit-1].seq
	} else {
		var top sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT max(coalesce((SELECT max(seq) FROM ops), 0), coalesce((SELECT max(erased_seq) FROM records), 0))`).Scan(&top); err != nil {
			return PullResult{}, err
		}
		res.Cursor = max(top.Int64, cursor)
	}
	if res.Ops, err = nameOps(ctx, tx, got); err != nil {
		return PullResult{}, err
	}
	// Without the index named, SQLite (no ANALYZE statistics) reads the erasures through
	// records_team: every record of the team, on every page.
	if teams != nil && len(teams) == 0 {
		return res, nil // no team: nothing erased to tell of either
	}
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

// pulledOp is an op read for a pull before its node and record are named.
type pulledOp struct {
	seq, nid, rid int64
	op            Op
}

const pullColumns = `seq, nid, counter, ts, tc, rid, kind, field, value, observed`

// pullRange appends the ops a pull query returns.
func pullRange(ctx context.Context, tx *sql.Tx, out []pulledOp, query string, args ...any) ([]pulledOp, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			p               pulledOp
			counter, tc     int64
			kind            sql.RawBytes
			field, observed sql.NullString
			value           []byte
		)
		if err := rows.Scan(&p.seq, &p.nid, &counter, &p.op.TS, &tc, &p.rid, &kind, &field, &value, &observed); err != nil {
			return nil, err
		}
		p.op.Counter, p.op.TC, p.op.Kind, p.op.Field = uint64(counter), uint32(tc), internKind(kind), field.String
		if len(value) > 0 {
			p.op.Value = json.RawMessage(value)
		}
		if observed.Valid {
			if err := json.Unmarshal([]byte(observed.String), &p.op.Observed); err != nil {
				return nil, err
			}
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// internKind returns the schema's own string for a known op kind, so a page of ops
// doesn't hold a copy of "set" per op.
func internKind(b []byte) string {
	for _, k := range schema.Kinds {
		if string(b) == k {
			return k
		}
	}
	return string(b)
}

// nameOps fills in the ops' node ids and record names: one lookup per distinct node and
// record on the page (a conversation's 24 ops name three records), through the narrow
// records_ident index rather than the wide record rows.
func nameOps(ctx context.Context, tx *sql.Tx, got []pulledOp) ([]Op, error) {
	nodes, records := map[int64]string{}, map[int64]RecordKey{}
	var nids, rids []any
	for i := range got {
		if _, ok := nodes[got[i].nid]; !ok {
			nodes[got[i].nid] = ""
			nids = append(nids, got[i].nid)
		}
		if _, ok := records[got[i].rid]; !ok {
			records[got[i].rid] = RecordKey{}
			rids = append(rids, got[i].rid)
		}
	}
	const chunk = 500
	for len(nids) > 0 {
		part := nids[:min(chunk, len(nids))]
		nids = nids[len(part):]
		rows, err := tx.QueryContext(ctx, `SELECT nid, node FROM nodes WHERE nid IN (`+placeholders(len(part))+`)`, part...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var nid int64
			var node string
			if err := rows.Scan(&nid, &node); err != nil {
				rows.Close()
				return nil, err
			}
			nodes[nid] = node
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	for len(rids) > 0 {
		part := rids[:min(chunk, len(rids))]
		rids = rids[len(part):]
		rows, err := tx.QueryContext(ctx, `SELECT rid, collection, id FROM records INDEXED BY records_ident WHERE rid IN (`+placeholders(len(part))+`)`, part...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var rid int64
			var k RecordKey
			if err := rows.Scan(&rid, &k.Collection, &k.Record); err != nil {
				rows.Close()
				return nil, err
			}
			records[rid] = k
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	ops := make([]Op, len(got))
	for i := range got {
		op := got[i].op
		op.Node = nodes[got[i].nid]
		k := records[got[i].rid]
		op.Collection, op.Record = k.Collection, k.Record
		if op.Node == "" || op.Record == "" {
			return nil, fmt.Errorf("syncengine: op %d names no node or record", got[i].seq)
		}
		ops[i] = op
	}
	return ops, nil
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
	after := ""
	for {
		page, next, err := s.Records(ctx, RecordQuery{Collection: collection, Teams: teams, After: after, Limit: 500})
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
