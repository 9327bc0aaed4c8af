package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/jackc/pgx/v5"
)

// txn is one batch's storage for syncengine.Merger: records touched are loaded once
// (most in one query up front), merged in memory and written back once at flush; new ops
// and links are written in bulk at flush, or earlier when a query needs to see them.
type txn struct {
	ctx     context.Context
	tx      pgx.Tx
	nextSeq int64 // the next ingest sequence number; the hub row is locked
	rows    map[syncengine.RecordKey]*syncengine.Row
	absent  map[syncengine.RecordKey]bool // known not to exist: load needs no query
	order   []*syncengine.Row             // touched records in first-touch order
	known   map[opID]syncengine.Op        // stored or pending ops with the identities the batch uses
	pending []pendingOp
	refs    []pendingRef
	erased  bool // the batch erased something
}

type opID struct {
	node    string
	counter uint64
}

type pendingOp struct {
	seq  int64
	team string
	op   syncengine.Op
}

type pendingRef struct {
	kind string
	from syncengine.RecordKey
	to   string
}

var _ syncengine.Txn = (*txn)(nil)

// lockHub starts a write: it locks the hub row, so writers take turns in commit order,
// and moves the clock past what any instance stamped.
func (db *DB) lockHub(ctx context.Context, tx pgx.Tx) (*txn, error) {
	var seq, ts, tc int64
	if err := tx.QueryRow(ctx, `SELECT seq, clock_ts, clock_tc FROM hub WHERE id = 1 FOR UPDATE`).Scan(&seq, &ts, &tc); err != nil {
		return nil, err
	}
	db.merge.Clock().Observe(ts, uint32(tc))
	return &txn{ctx: ctx, tx: tx, nextSeq: seq + 1, rows: map[syncengine.RecordKey]*syncengine.Row{},
		absent: map[syncengine.RecordKey]bool{}, known: map[opID]syncengine.Op{}}, nil
}

const loadColumns = `collection, id, team, erased_seq IS NOT NULL, state, view`

func (t *txn) scanRow(sc pgx.Row) (*syncengine.Row, error) {
	var (
		k           syncengine.RecordKey
		team        string
		erased      bool
		state, view []byte
	)
	if err := sc.Scan(&k.Collection, &k.Record, &team, &erased, &state, &view); err != nil {
		return nil, err
	}
	r, err := syncengine.DecodeRow(k, team, erased, state, view)
	if err != nil {
		return nil, err
	}
	t.remember(r)
	return r, nil
}

func (t *txn) remember(r *syncengine.Row) {
	t.rows[r.Key()] = r
	delete(t.absent, r.Key())
	t.order = append(t.order, r)
}

// prefetch loads every record the ops touch and the stored ops with their identities:
// two queries, however big the batch. Every op given to the merge is prefetched first,
// so LookupOp needs no query.
func (t *txn) prefetch(ops []syncengine.Op) error {
	var colls, ids []string
	seen := map[syncengine.RecordKey]bool{}
	var nodes []string
	var counters []int64
	for i := range ops {
		k := ops[i].Key()
		if _, loaded := t.rows[k]; !loaded && !seen[k] {
			seen[k] = true
			colls, ids = append(colls, k.Collection), append(ids, k.Record)
		}
		nodes, counters = append(nodes, ops[i].Node), append(counters, int64(ops[i].Counter))
	}
	if len(colls) > 0 {
		rows, err := t.tx.Query(t.ctx, `SELECT `+loadColumns+` FROM records r
			JOIN unnest($1::text[], $2::text[]) AS k(c, i) ON r.collection = k.c AND r.id = k.i`, colls, ids)
		if err != nil {
			return err
		}
		for rows.Next() {
			r, err := t.scanRow(rows)
			if err != nil {
				rows.Close()
				return err
			}
			delete(seen, r.Key())
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for k := range seen {
			t.absent[k] = true
		}
	}
	rows, err := t.tx.Query(t.ctx, `SELECT `+opColumns+` FROM ops o
		JOIN unnest($1::text[], $2::bigint[]) AS k(n, c) ON o.node = k.n AND o.counter = k.c`, nodes, counters)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		op, err := scanOp(rows)
		if err != nil {
			return err
		}
		t.known[opID{op.Node, op.Counter}] = op
	}
	return rows.Err()
}

func (t *txn) Load(k syncengine.RecordKey) (*syncengine.Row, error) {
	if r, ok := t.rows[k]; ok {
		return r, nil
	}
	if t.absent[k] {
		return nil, nil
	}
	r, err := t.scanRow(t.tx.QueryRow(t.ctx, `SELECT `+loadColumns+` FROM records WHERE collection = $1 AND id = $2`, k.Collection, k.Record))
	if errors.Is(err, pgx.ErrNoRows) {
		t.absent[k] = true
		return nil, nil
	}
	return r, err
}

func (t *txn) Create(k syncengine.RecordKey, team string) *syncengine.Row {
	r := syncengine.NewRow(k, team)
	t.remember(r)
	return r
}

// LookupOp returns the stored or pending op with op's identity: every op given to the
// merge was prefetched, so known has it if anything does.
func (t *txn) LookupOp(op *syncengine.Op) (*syncengine.Op, bool, error) {
	if stored, ok := t.known[opID{op.Node, op.Counter}]; ok {
		return &stored, true, nil
	}
	return nil, false, nil
}

// InsertOp numbers a new op, unless its identity is stored (then the stored copy).
func (t *txn) InsertOp(op *syncengine.Op, r *syncengine.Row) (*syncengine.Op, bool, error) {
	id := opID{op.Node, op.Counter}
	if stored, dup := t.known[id]; dup {
		return &stored, true, nil
	}
	t.known[id] = *op
	t.pending = append(t.pending, pendingOp{seq: t.nextSeq, team: r.Team(), op: *op})
	t.nextSeq++
	return nil, false, nil
}

// flushPending writes the new ops and links, so queries see them.
func (t *txn) flushPending() error {
	if len(t.pending) > 0 {
		rows := make([][]any, len(t.pending))
		for i, p := range t.pending {
			o := &p.op
			var field, observed *string
			var value []byte
			if o.Field != "" {
				f := o.Field
				field = &f
			}
			if len(o.Value) > 0 {
				value = o.Value
			}
			if len(o.Observed) > 0 {
				b, _ := json.Marshal(o.Observed)
				s := string(b)
				observed = &s
			}
			rows[i] = []any{p.seq, o.Node, int64(o.Counter), o.Collection, o.Record, p.team, o.TS, int64(o.TC), o.Kind, field, value, observed}
		}
		// COPY: the cheapest way in for many rows; new ops never conflict (InsertOp
		// checked every identity against what is stored).
		if _, err := t.tx.CopyFrom(t.ctx, pgx.Identifier{"ops"}, opCopyColumns, pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		t.pending = t.pending[:0]
	}
	if n := len(t.refs); n > 0 {
		kinds, colls, ids, tos := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		for i, r := range t.refs {
			kinds[i], colls[i], ids[i], tos[i] = r.kind, r.from.Collection, r.from.Record, r.to
		}
		if _, err := t.tx.Exec(t.ctx, `INSERT INTO refs (kind, from_collection, from_id, to_id)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) ON CONFLICT DO NOTHING`, kinds, colls, ids, tos); err != nil {
			return err
		}
		t.refs = t.refs[:0]
	}
	return nil
}

func (t *txn) ReplaceOp(op *syncengine.Op) error {
	if err := t.flushPending(); err != nil {
		return err
	}
	id := opID{op.Node, op.Counter}
	if k, ok := t.known[id]; ok {
		k.TS, k.TC = op.TS, op.TC
		t.known[id] = k
	}
	_, err := t.tx.Exec(t.ctx, `UPDATE ops SET ts = $1, tc = $2 WHERE node = $3 AND counter = $4`, op.TS, int64(op.TC), op.Node, int64(op.Counter))
	return err
}

var opCopyColumns = []string{"seq", "node", "counter", "collection", "record", "team", "ts", "tc", "kind", "field", "value", "observed"}

const opColumns = `node, counter, ts, tc, collection, record, kind, field, value, observed`

func scanOp(sc pgx.Rows, extra ...any) (syncengine.Op, error) {
	var (
		op              syncengine.Op
		counter, tc     int64
		field, observed *string
		value           []byte
	)
	dest := append([]any{&op.Node, &counter, &op.TS, &tc, &op.Collection, &op.Record, &op.Kind, &field, &value, &observed}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return syncengine.Op{}, err
	}
	op.Counter, op.TC = uint64(counter), uint32(tc)
	if field != nil {
		op.Field = *field
	}
	if len(value) > 0 {
		op.Value = json.RawMessage(value)
	}
	if observed != nil {
		if err := json.Unmarshal([]byte(*observed), &op.Observed); err != nil {
			return syncengine.Op{}, err
		}
	}
	return op, nil
}

func (t *txn) opsOfKey(k syncengine.RecordKey) ([]syncengine.Op, []int64, error) {
	if err := t.flushPending(); err != nil {
		return nil, nil, err
	}
	rows, err := t.tx.Query(t.ctx, `SELECT `+opColumns+`, seq FROM ops WHERE collection = $1 AND record = $2 ORDER BY seq`, k.Collection, k.Record)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var ops []syncengine.Op
	var seqs []int64
	for rows.Next() {
		var seq int64
		op, err := scanOp(rows, &seq)
		if err != nil {
			return nil, nil, err
		}
		ops, seqs = append(ops, op), append(seqs, seq)
	}
	return ops, seqs, rows.Err()
}

func (t *txn) OpsOf(r *syncengine.Row) ([]syncengine.Op, error) {
	ops, _, err := t.opsOfKey(r.Key())
	return ops, err
}

func (t *txn) PurgeOps(r *syncengine.Row) error {
	ops, seqs, err := t.opsOfKey(r.Key())
	if err != nil {
		return err
	}
	var gone []int64
	for i := range ops {
		if !syncengine.KeptOnErase(&ops[i]) {
			gone = append(gone, seqs[i])
		}
	}
	t.erased = true
	k := r.Key()
	if _, err := t.tx.Exec(t.ctx, `DELETE FROM ops WHERE seq = ANY($1)`, gone); err != nil {
		return err
	}
	_, err = t.tx.Exec(t.ctx, `DELETE FROM refs WHERE from_collection = $1 AND from_id = $2`, k.Collection, k.Record)
	return err
}

func (t *txn) PurgeFieldOps(r *syncengine.Row, fields []string, cut syncengine.Stamp) error {
	ops, seqs, err := t.opsOfKey(r.Key())
	if err != nil {
		return err
	}
	var gone []int64
	for i := range ops {
		if slices.Contains(fields, ops[i].Field) && !cut.Less(ops[i].Stamp()) {
			gone = append(gone, seqs[i])
		}
	}
	if len(gone) == 0 {
		return nil
	}
	t.erased = true
	_, err = t.tx.Exec(t.ctx, `DELETE FROM ops WHERE seq = ANY($1)`, gone)
	return err
}

func (t *txn) AddRef(kind string, from *syncengine.Row, to string) error {
	t.refs = append(t.refs, pendingRef{kind, from.Key(), to})
	return nil
}

func (t *txn) RefsTo(kind, to string) ([]syncengine.RecordKey, error) {
	if err := t.flushPending(); err != nil {
		return nil, err
	}
	rows, err := t.tx.Query(t.ctx, `SELECT from_collection, from_id FROM refs WHERE kind = $1 AND to_id = $2 ORDER BY from_collection, from_id`, kind, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []syncengine.RecordKey
	for rows.Next() {
		var k syncengine.RecordKey
		if err := rows.Scan(&k.Collection, &k.Record); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

func (t *txn) RefsFrom(kind string, from *syncengine.Row) ([]string, error) {
	if err := t.flushPending(); err != nil {
		return nil, err
	}
	k := from.Key()
	rows, err := t.tx.Query(t.ctx, `SELECT to_id FROM refs WHERE kind = $1 AND from_collection = $2 AND from_id = $3 ORDER BY to_id`, kind, k.Collection, k.Record)
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

// flush writes every record the batch changed, then the sequence and the clock.
func (t *txn) flush(clock *syncengine.Clock) error {
	if err := t.flushPending(); err != nil {
		return err
	}
	var (
		colls, ids, teams  []string
		states, views      [][]byte
		deleted, withdrawn []bool
		updated            []int64
		eseqs              []*int64
	)
	for _, r := range t.order {
		if !r.Dirty() {
			continue
		}
		e := r.Encode()
		var eseq *int64
		if r.Erased() {
			s := t.nextSeq
			t.nextSeq++
			eseq = &s
		}
		k := r.Key()
		colls, ids, teams = append(colls, k.Collection), append(ids, k.Record), append(teams, r.Team())
		states, views = append(states, e.State), append(views, e.View)
		deleted, withdrawn, updated, eseqs = append(deleted, e.Deleted), append(withdrawn, e.Withdrawn), append(updated, e.UpdatedTS), append(eseqs, eseq)
		r.Saved()
	}
	if len(colls) > 0 {
		if _, err := t.tx.Exec(t.ctx, `INSERT INTO records (collection, id, team, state, view, deleted, withdrawn, updated_ts, erased_seq)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::bytea[], $6::bool[], $7::bool[], $8::bigint[], $9::bigint[])
			ON CONFLICT (collection, id) DO UPDATE SET state = excluded.state, view = excluded.view, deleted = excluded.deleted,
				withdrawn = excluded.withdrawn, updated_ts = excluded.updated_ts,
				erased_seq = coalesce(records.erased_seq, excluded.erased_seq)`,
			colls, ids, teams, states, views, deleted, withdrawn, updated, eseqs); err != nil {
			return err
		}
	}
	ts, tc := clock.Last()
	_, err := t.tx.Exec(t.ctx, `UPDATE hub SET seq = $1, clock_ts = greatest(clock_ts, $2),
		clock_tc = CASE WHEN $2 > clock_ts THEN $3 WHEN $2 = clock_ts THEN greatest(clock_tc, $3) ELSE clock_tc END WHERE id = 1`,
		t.nextSeq-1, ts, int64(tc))
	return err
}
