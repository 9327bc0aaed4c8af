package syncengine

import (
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
)

// sqlTxn is one batch's view of the SQLite store. Records touched by the batch are
// loaded once, merged in memory, and written back once at flush.
type sqlTxn struct {
	s     *Store
	tx    *sql.Tx
	rows  map[RecordKey]*row
	rids  map[*row]int64
	bound map[string]*sql.Stmt // prepared statements bound to tx
	// New ops are numbered at once but written at flush, many rows per INSERT: one
	// statement per op was most of ingest time. known holds the stored copy of every op
	// this batch could collide with, read up front by prefetch, so duplicates need no
	// lookup (and a reused id, a different body under a stored identity, is seen).
	// pending[i] has seq firstPending+i: nothing else takes a seq until flush.
	pending      []pendingOp
	firstPending int64
	pendingBy    map[opKey]int32    // op identity -> index in pending
	known        map[opKey]Op       // stored copies read by prefetch or lookupOp
	fetched      map[int64]bool     // nids whose ops in this batch were prefetched
	absent       map[RecordKey]bool // records prefetch found missing: load needs no query
	pendingRefs  []any              // links not yet written, 3 values each: see addRef
	// touched records in first-touch order, so flush writes deterministically
	order []*row
}

// keepRecent keeps the batch's records, as committed, for the next batch.
func (t *sqlTxn) keepRecent() {
	if t.s.recent == nil || len(t.s.recent)+len(t.order) > recentLimit {
		t.s.recent = make(map[RecordKey]cachedRow, recentLimit)
	}
	if len(t.order) > recentLimit {
		return
	}
	for _, r := range t.order {
		r.isNew, r.dirty = false, false
		t.s.recent[r.key] = cachedRow{row: r, rid: t.rids[r]}
	}
}

func (t *sqlTxn) rid(r *row) int64 { return t.rids[r] }

func (t *sqlTxn) remember(r *row, rid int64) *row {
	if t.rids == nil {
		t.rids = map[*row]int64{}
	}
	t.rows[r.key] = r
	t.rids[r] = rid
	t.order = append(t.order, r)
	return r
}

func (t *sqlTxn) load(k RecordKey) (*row, error) {
	if r, ok := t.rows[k]; ok {
		return r, nil
	}
	if t.absent[k] {
		return nil, nil
	}
	if c, ok := t.s.recent[k]; ok {
		t.rows[k] = c.row
		if t.rids == nil {
			t.rids = map[*row]int64{}
		}
		t.rids[c.row] = c.rid
		t.order = append(t.order, c.row)
		return c.row, nil
	}
	var (
		rid   int64
		team  string
		state []byte
		eseq  sql.NullInt64
		seqs  []byte
		view  []byte
	)
	err := t.QueryRow(qLoadRecord, k.Collection, k.Record).Scan(&rid, &team, &state, &eseq, &seqs, &view)
	if errors.Is(err, sql.ErrNoRows) {
		if t.absent == nil {
			t.absent = map[RecordKey]bool{}
		}
		t.absent[k] = true
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r := &row{key: k, team: team, state: &State{}, erased: eseq.Valid, seqs: decodeSeqs(seqs)}
	if len(state) > 0 {
		err := decodeState(state, r.state)
		if err == nil {
			err = fillValues(r.state, view)
		}
		if err != nil {
			return nil, fmt.Errorf("record %s/%s: corrupt state: %w", k.Collection, k.Record, err)
		}
	}
	return t.remember(r, rid), nil
}

func (t *sqlTxn) create(k RecordKey, team string) *row {
	delete(t.absent, k)
	rid := t.s.nextRid
	t.s.nextRid++
	return t.remember(&row{key: k, team: team, state: &State{}, isNew: true, dirty: true}, rid)
}

func (t *sqlTxn) nid(node string) (int64, error) {
	if id, ok := t.s.nodes[node]; ok {
		return id, nil
	}
	var id int64
	err := t.QueryRow(qNodeID, node).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		res, ierr := t.exec(qNewNode, node)
		if ierr != nil {
			return 0, ierr
		}
		if id, err = res.LastInsertId(); err == nil && t.fetched != nil {
			t.fetched[id] = true // a node new to this replica has nothing stored
		}
	}
	if err != nil {
		return 0, err
	}
	t.s.nodes[node] = id
	return id, nil
}

type opKey struct {
	nid     int64
	counter uint64
}

type pendingOp struct {
	seq, nid, rid int64
	op            Op
	dead          bool // purged before it was written
}

// prefetch reads the stamps of any already-stored ops that share an identity with the
// batch's ops: one query per node and 500 counters instead of one per op.
func (t *sqlTxn) prefetch(ops []Op) error {
	t.known, t.fetched = map[opKey]Op{}, map[int64]bool{}
	t.pendingBy, t.pending = make(map[opKey]int32, len(ops)), make([]pendingOp, 0, len(ops))
	if err := t.prefetchRecords(ops); err != nil {
		return err
	}
	byNode := map[string][]any{}
	for i := range ops {
		byNode[ops[i].Node] = append(byNode[ops[i].Node], int64(ops[i].Counter))
	}
	for node, counters := range byNode {
		nid, ok, err := t.lookupNid(node)
		if err != nil {
			return err
		}
		if !ok {
			continue // a node never seen: nothing of it is stored
		}
		t.fetched[nid] = true
		// Only counters at or below the node's highest stored one can be duplicates; a
		// tablet pushes in counter order, so usually there are none to look up.
		top, err := t.topCounter(nid)
		if err != nil {
			return err
		}
		maybe := counters[:0:0]
		for _, c := range counters {
			if uint64(c.(int64)) <= top {
				maybe = append(maybe, c)
			}
		}
		counters = maybe
		for start := 0; start < len(counters); start += 500 {
			chunk := counters[start:min(start+500, len(counters))]
			rows, err := t.tx.Query(`SELECT `+opColumns+` FROM ops o JOIN nodes n ON n.nid = o.nid JOIN records r ON r.rid = o.rid
				WHERE o.nid = ? AND o.counter IN (`+placeholders(len(chunk))+`)`, append([]any{nid}, chunk...)...)
			if err != nil {
				return err
			}
			for rows.Next() {
				op, err := scanOp(rows)
				if err != nil {
					rows.Close()
					return err
				}
				t.known[opKey{nid, op.Counter}] = op
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
	}
	return nil
}

// prefetchRecords loads every record the batch touches, 500 per query, and notes the
// ones that don't exist yet, so load needs no query for them.
func (t *sqlTxn) prefetchRecords(ops []Op) error {
	want := map[RecordKey]bool{}
	byColl := map[string][]any{}
	for i := range ops {
		k := ops[i].Key()
		if !want[k] {
			want[k] = true
			byColl[k.Collection] = append(byColl[k.Collection], k.Record)
		}
	}
	for coll, ids := range byColl {
		if err := t.prefetchIDs(coll, ids, want); err != nil {
			return err
		}
	}
	t.absent = want
	return nil
}

// prefetchIDs removes from want the records of coll that exist, 500 ids per query (on
// the (collection, id) index).
func (t *sqlTxn) prefetchIDs(coll string, ids []any, want map[RecordKey]bool) error {
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		rows, err := t.tx.Query(`SELECT collection, id FROM records WHERE collection = ? AND id IN (`+placeholders(len(chunk))+`)`, append([]any{coll}, chunk...)...)
		if err != nil {
			return err
		}
		var found []RecordKey
		for rows.Next() {
			var k RecordKey
			if err := rows.Scan(&k.Collection, &k.Record); err != nil {
				rows.Close()
				return err
			}
			found = append(found, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, k := range found {
			delete(want, k) // exists: load reads it when the merge needs it
		}
	}
	return nil
}

// topCounter is the highest counter of nid's stored ops (0 if none), read once and then
// kept by the writer. It only rises: a purge leaves it, which is safe, since anything at
// or below it is looked up.
func (t *sqlTxn) topCounter(nid int64) (uint64, error) {
	if c, ok := t.s.topCounters[nid]; ok {
		return c, nil
	}
	var top sql.NullInt64
	if err := t.QueryRow(qTopCounter, nid).Scan(&top); err != nil {
		return 0, err
	}
	if t.s.topCounters == nil {
		t.s.topCounters = map[int64]uint64{}
	}
	t.s.topCounters[nid] = uint64(top.Int64)
	return uint64(top.Int64), nil
}

func (t *sqlTxn) lookupNid(node string) (int64, bool, error) {
	if id, ok := t.s.nodes[node]; ok {
		return id, true, nil
	}
	var id int64
	err := t.QueryRow(qNodeID, node).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	t.s.nodes[node] = id
	return id, true, nil
}

// lookupOp returns the stored copy of the op with op's identity, if any, from what
// prefetch read, the batch's own new ops, or one query.
func (t *sqlTxn) lookupOp(op *Op) (*Op, bool, error) {
	nid, ok, err := t.lookupNid(op.Node)
	if err != nil || !ok {
		return nil, false, err // a node never seen: nothing of it is stored
	}
	key := opKey{nid, op.Counter}
	if i, ok := t.pendingBy[key]; ok {
		st := t.pending[i].op
		return &st, true, nil
	}
	if st, ok := t.known[key]; ok {
		return &st, true, nil
	}
	if t.fetched[nid] {
		return nil, false, nil
	}
	// Not prefetched (a small batch, or a node this batch was the first to name): look
	// it up, unless it is above anything stored for the node.
	top, err := t.topCounter(nid)
	if err != nil || op.Counter > top {
		return nil, false, err
	}
	stored, err := scanOp(t.QueryRow(qOpByID, nid, int64(op.Counter)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	t.initKnown()
	t.known[key] = stored
	return &stored, true, nil
}

func (t *sqlTxn) initKnown() {
	if t.known == nil {
		t.known, t.fetched, t.pendingBy = map[opKey]Op{}, map[int64]bool{}, map[opKey]int32{}
	}
}

func (t *sqlTxn) insertOp(op *Op, r *row) (*Op, bool, error) {
	if stored, dup, err := t.lookupOp(op); err != nil || dup {
		return stored, dup, err
	}
	nid, err := t.nid(op.Node)
	if err != nil {
		return nil, false, err
	}
	key := opKey{nid, op.Counter}
	seq := t.s.nextSeq
	t.s.nextSeq++
	t.initKnown()
	if len(t.pending) == 0 {
		t.firstPending = seq
	}
	t.pendingBy[key] = int32(len(t.pending))
	t.pending = append(t.pending, pendingOp{seq: seq, nid: nid, rid: t.rid(r), op: *op})
	// Keep the node's top counter above this op, loading it first if need be: loaded
	// later in this batch, it would miss this op (not written until flush), and a
	// lower-numbered op of the node later in the batch would leave it too low, so a
	// repeat of this op in a later batch would not be looked up.
	top, err := t.topCounter(nid)
	if err != nil {
		return nil, false, err
	}
	if op.Counter > top {
		t.s.topCounters[nid] = op.Counter // only ever raised: a rollback leaves it high, which is safe
	}
	r.seqs = append(r.seqs, seq)
	r.dirty = true
	return nil, false, nil
}

func (t *sqlTxn) replaceOp(op *Op) error {
	nid, err := t.nid(op.Node)
	if err != nil {
		return err
	}
	key := opKey{nid, op.Counter}
	if k, ok := t.known[key]; ok {
		k.TS, k.TC = op.TS, op.TC
		t.known[key] = k
	}
	if i, ok := t.pendingBy[key]; ok {
		p := &t.pending[i]
		p.op.TS, p.op.TC = op.TS, op.TC
		return nil
	}
	_, err = t.exec(qRestampOp, op.TS, int64(op.TC), nid, int64(op.Counter))
	return err
}

// deleteOp removes one op, written or still pending.
func (t *sqlTxn) deleteOp(seq int64) error {
	if i, ok := t.pendingIndex(seq); ok {
		t.pending[i].dead = true
		return nil
	}
	_, err := t.exec(qDeleteOp, seq)
	return err
}

// opsBySeq reads the ops with these seqs, pending or written, in seq order.
func (t *sqlTxn) opsBySeq(seqs []int64) ([]seqOp, error) {
	var out []seqOp
	var stored []int64
	for _, seq := range seqs {
		if i, ok := t.pendingIndex(seq); ok {
			if !t.pending[i].dead {
				out = append(out, seqOp{seq, t.pending[i].op})
			}
		} else {
			stored = append(stored, seq)
		}
	}
	fromDB, err := readSeqOps(t.tx, stored)
	if err != nil {
		return nil, err
	}
	out = append(out, fromDB...)
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out, nil
}

// writePending inserts the batch's new ops, 100 rows per statement.
func (t *sqlTxn) writePending() error {
	const cols = 10
	args := make([]any, 0, len(t.pending)*cols)
	for _, p := range t.pending {
		if p.dead { // purged in its own batch
			continue
		}
		var field, value, observed any
		if p.op.Field != "" {
			field = p.op.Field
		}
		if len(p.op.Value) > 0 {
			value = []byte(p.op.Value)
		}
		if len(p.op.Observed) > 0 {
			b, _ := json.Marshal(p.op.Observed)
			observed = string(b)
		}
		args = append(args, p.seq, p.nid, int64(p.op.Counter), p.rid, p.op.TS, int64(p.op.TC), p.op.Kind, field, value, observed)
	}
	if err := t.insertRows(insertOpsSizes, insertOpsQuery, cols, args); err != nil {
		return err
	}
	t.pending, t.pendingBy = nil, map[opKey]int32{}
	return nil
}

// pendingIndex is where the op numbered seq waits in pending, if it does.
func (t *sqlTxn) pendingIndex(seq int64) (int, bool) {
	i := seq - t.firstPending
	if len(t.pending) == 0 || i < 0 || i >= int64(len(t.pending)) {
		return 0, false
	}
	return int(i), true
}

const opColumns = `n.node, o.counter, o.ts, o.tc, r.collection, r.id, o.kind, o.field, o.value, o.observed`

func scanOp(sc interface{ Scan(...any) error }, extra ...any) (Op, error) {
	var (
		op              Op
		counter         int64
		tc              int64
		field, observed sql.NullString
		value           []byte
	)
	dest := append([]any{&op.Node, &counter, &op.TS, &tc, &op.Collection, &op.Record, &op.Kind, &field, &value, &observed}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return Op{}, err
	}
	op.Counter, op.TC, op.Field = uint64(counter), uint32(tc), field.String
	if len(value) > 0 {
		op.Value = json.RawMessage(value)
	}
	if observed.Valid {
		if err := json.Unmarshal([]byte(observed.String), &op.Observed); err != nil {
			return Op{}, err
		}
	}
	return op, nil
}

func (t *sqlTxn) opsOf(r *row) ([]Op, error) {
	sops, err := t.opsBySeq(r.seqs)
	out := make([]Op, len(sops))
	for i, so := range sops {
		out[i] = so.op
	}
	return out, err
}

func (t *sqlTxn) purgeOps(r *row) error {
	sops, err := t.opsBySeq(r.seqs)
	if err != nil {
		return err
	}
	var kept []int64
	for _, so := range sops {
		if KeptOnErase(&so.op) {
			kept = append(kept, so.seq)
			continue
		}
		if err := t.deleteOp(so.seq); err != nil {
			return err
		}
	}
	r.seqs = kept
	if err := t.flushRefs(); err != nil {
		return err
	}
	_, err = t.exec(qDeleteRefs, t.rid(r))
	return err
}

func (t *sqlTxn) purgeFieldOps(r *row, fields []string, cut Stamp) error {
	sops, err := t.opsBySeq(r.seqs)
	if err != nil {
		return err
	}
	kept := make([]int64, 0, len(sops))
	for _, so := range sops {
		if slices.Contains(fields, so.op.Field) && !cut.Less(so.op.Stamp()) {
			if err := t.deleteOp(so.seq); err != nil {
				return err
			}
			continue
		}
		kept = append(kept, so.seq)
	}
	r.seqs, r.dirty = kept, true
	return nil
}

// addRef notes a link; links are written many per INSERT before anything reads or
// deletes links, and at flush (one statement per link was a tenth of applying a page).
func (t *sqlTxn) addRef(kind string, from *row, to string) error {
	t.pendingRefs = append(t.pendingRefs, kind, t.rid(from), to)
	return nil
}

func (t *sqlTxn) flushRefs() error {
	if err := t.insertRows(insertRefsSizes, insertRefsQuery, 3, t.pendingRefs); err != nil {
		return err
	}
	t.pendingRefs = t.pendingRefs[:0]
	return nil
}

// insertRows runs a multi-row INSERT over args, cols values a row, in chunks of the
// prepared sizes (largest first, one row at the end).
func (t *sqlTxn) insertRows(sizes []int, query func(rows int) string, cols int, args []any) error {
	for len(args) > 0 {
		n, size := len(args)/cols, 1
		for _, s := range sizes {
			if n >= s {
				size = s
				break
			}
		}
		if _, err := t.exec(query(size), args[:size*cols]...); err != nil {
			return err
		}
		args = args[size*cols:]
	}
	return nil
}

func (t *sqlTxn) refsTo(kind, to string) ([]RecordKey, error) {
	if err := t.flushRefs(); err != nil {
		return nil, err
	}
	rows, err := t.query(qRefsTo, kind, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RecordKey
	for rows.Next() {
		var k RecordKey
		if err := rows.Scan(&k.Collection, &k.Record); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Records made earlier in this batch are not in the table yet.
	for _, r := range t.order {
		if r.isNew && !slices.Contains(out, r.key) {
			if ok, err := t.batchRef(kind, r, to); err != nil {
				return nil, err
			} else if ok {
				out = append(out, r.key)
			}
		}
	}
	return out, nil
}

// batchRef reports whether a record not yet flushed refers to `to`. refsTo has written
// the batch's pending links first, so a new record's links are in the table even though
// its row is not.
func (t *sqlTxn) batchRef(kind string, r *row, to string) (bool, error) {
	var n int
	err := t.QueryRow(qRefFrom, kind, to, t.rid(r)).Scan(&n)
	return n > 0, err
}

func (t *sqlTxn) refsFrom(kind string, from *row) ([]string, error) {
	if err := t.flushRefs(); err != nil {
		return nil, err
	}
	rows, err := t.query(qRefsFrom, kind, t.rid(from))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// flush writes every touched record once, and the clock.
func (t *sqlTxn) flush() error {
	if err := t.writePending(); err != nil {
		return err
	}
	if err := t.flushRefs(); err != nil {
		return err
	}
	var dirty []*row
	for _, r := range t.order {
		if r.dirty {
			dirty = append(dirty, r)
		}
	}
	recs := t.encodeRecords(dirty)
	// New records go in many rows per INSERT (one statement per record was a fifth of a
	// group commit); records already stored are updated one by one.
	var fresh []any
	for i, r := range dirty {
		if r.isNew {
			fresh = append(fresh, recs[i]...)
		} else if _, err := t.exec(qUpsertRecord, recs[i]...); err != nil {
			return err
		}
	}
	if err := t.insertRows(insertRecordsSizes, insertRecordsQuery, recordCols, fresh); err != nil {
		return err
	}
	ts, tc := t.s.clock.Last()
	_, err := t.exec(qSetMeta, metaClock, fmt.Sprintf("%d %d %d", ts, tc, t.s.clock.Offset()))
	return err
}

// recordCols is the number of values in a record's row (qUpsertRecord, insertRecordsQuery).
const recordCols = 11

// encodeRecords makes each dirty record's row (qUpsertRecord's arguments). Erased
// records take their seqs here in order; the states and views, pure functions of each
// record, are encoded on every core when there are many, off the single writer's path.
func (t *sqlTxn) encodeRecords(dirty []*row) [][]any {
	out := make([][]any, len(dirty))
	for i, r := range dirty {
		var eseq any
		if r.erased {
			eseq = t.s.nextSeq
			t.s.nextSeq++
		}
		out[i] = []any{t.rid(r), r.key.Collection, r.key.Record, r.team, nil, nil, false, false, r.state.UpdatedTS, eseq, encodeSeqs(r.seqs)}
	}
	encode := func(from, to int) {
		for i := from; i < to; i++ {
			if r := dirty[i]; !r.erased {
				out[i][4], out[i][5] = encodeState(r.state), r.state.visibleView()
				out[i][6], out[i][7] = r.state.Deleted(), r.state.Withdrawn
			}
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(dirty)/64)
	if workers < 2 {
		encode(0, len(dirty))
		return out
	}
	var wg sync.WaitGroup
	per := (len(dirty) + workers - 1) / workers
	for from := 0; from < len(dirty); from += per {
		wg.Add(1)
		go func(from, to int) {
			defer wg.Done()
			encode(from, to)
		}(from, min(from+per, len(dirty)))
	}
	wg.Wait()
	return out
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func anys(xs []string) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

type seqOp struct {
	seq int64
	op  Op
}

// readSeqOps reads written ops by seq, in seq order.
func readSeqOps(q interface {
	Query(string, ...any) (*sql.Rows, error)
}, seqs []int64) ([]seqOp, error) {
	var out []seqOp
	for start := 0; start < len(seqs); start += 500 {
		chunk := seqs[start:min(start+500, len(seqs))]
		args := make([]any, len(chunk))
		for i, s := range chunk {
			args[i] = s
		}
		rows, err := q.Query(`SELECT `+opColumns+`, o.seq FROM ops o JOIN nodes n ON n.nid = o.nid JOIN records r ON r.rid = o.rid
			WHERE o.seq IN (`+placeholders(len(chunk))+`) ORDER BY o.seq`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var so seqOp
			if so.op, err = scanOp(rows, &so.seq); err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, so)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func encodeSeqs(seqs []int64) []byte {
	if len(seqs) == 0 {
		return nil
	}
	b := make([]byte, 0, len(seqs)*3)
	prev := int64(0)
	for _, s := range seqs {
		b = binary.AppendVarint(b, s-prev) // deltas: seqs of one record are close together
		prev = s
	}
	return b
}

func decodeSeqs(b []byte) []int64 {
	var out []int64
	prev := int64(0)
	for len(b) > 0 {
		d, n := binary.Varint(b)
		if n <= 0 {
			break
		}
		prev += d
		out = append(out, prev)
		b = b[n:]
	}
	return out
}
