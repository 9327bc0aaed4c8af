package syncengine

import (
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// sqlTxn is one batch's view of the SQLite store. Records touched by the batch are
// loaded once, merged in memory, and written back once at flush.
type sqlTxn struct {
	s    *Store
	tx   *sql.Tx
	rows map[RecordKey]*row
	rids map[*row]int64
	ins  *sql.Stmt
	sel  *sql.Stmt
	// touched records in first-touch order, so flush writes deterministically
	order []*row
}

func (t *sqlTxn) close() {
	for _, st := range []*sql.Stmt{t.ins, t.sel} {
		if st != nil {
			st.Close()
		}
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
	var (
		rid   int64
		team  string
		state []byte
		eseq  sql.NullInt64
		seqs  []byte
	)
	if t.sel == nil {
		var err error
		if t.sel, err = t.tx.Prepare(`SELECT rid, team, state, erased_seq, seqs FROM records WHERE collection = ? AND id = ?`); err != nil {
			return nil, err
		}
	}
	err := t.sel.QueryRow(k.Collection, k.Record).Scan(&rid, &team, &state, &eseq, &seqs)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r := &row{key: k, team: team, state: &State{}, erased: eseq.Valid, seqs: decodeSeqs(seqs)}
	if len(state) > 0 {
		if err := decodeState(state, r.state); err != nil {
			return nil, fmt.Errorf("record %s/%s: corrupt state: %w", k.Collection, k.Record, err)
		}
	}
	return t.remember(r, rid), nil
}

func (t *sqlTxn) create(k RecordKey, team string) *row {
	rid := t.s.nextRid
	t.s.nextRid++
	return t.remember(&row{key: k, team: team, state: &State{}, isNew: true, dirty: true}, rid)
}

func (t *sqlTxn) nid(node string) (int64, error) {
	if id, ok := t.s.nodes[node]; ok {
		return id, nil
	}
	var id int64
	err := t.tx.QueryRow(`SELECT nid FROM nodes WHERE node = ?`, node).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		res, ierr := t.tx.Exec(`INSERT INTO nodes (node) VALUES (?)`, node)
		if ierr != nil {
			return 0, ierr
		}
		id, err = res.LastInsertId()
	}
	if err != nil {
		return 0, err
	}
	t.s.nodes[node] = id
	return id, nil
}

func (t *sqlTxn) insertOp(op *Op, r *row) (*Op, bool, error) {
	nid, err := t.nid(op.Node)
	if err != nil {
		return nil, false, err
	}
	if t.ins == nil {
		t.ins, err = t.tx.Prepare(`INSERT INTO ops (seq, nid, counter, rid, ts, tc, kind, field, value, observed)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (nid, counter) DO NOTHING`)
		if err != nil {
			return nil, false, err
		}
	}
	var observed any
	if len(op.Observed) > 0 {
		b, _ := json.Marshal(op.Observed)
		observed = string(b)
	}
	var field, value any
	if op.Field != "" {
		field = op.Field
	}
	if len(op.Value) > 0 {
		value = []byte(op.Value)
	}
	seq := t.s.nextSeq
	res, err := t.ins.Exec(seq, nid, int64(op.Counter), t.rid(r), op.TS, int64(op.TC), op.Kind, field, value, observed)
	if err != nil {
		return nil, false, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, false, err
	} else if n == 1 {
		t.s.nextSeq++
		r.seqs = append(r.seqs, seq)
		r.dirty = true
		return nil, false, nil
	}
	var stored Op
	stored = *op
	err = t.tx.QueryRow(`SELECT ts, tc FROM ops WHERE nid = ? AND counter = ?`, nid, int64(op.Counter)).Scan(&stored.TS, &stored.TC)
	return &stored, true, err
}

func (t *sqlTxn) replaceOp(op *Op) error {
	nid, err := t.nid(op.Node)
	if err != nil {
		return err
	}
	_, err = t.tx.Exec(`UPDATE ops SET ts = ?, tc = ? WHERE nid = ? AND counter = ?`, op.TS, int64(op.TC), nid, int64(op.Counter))
	return err
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
	return readOps(t.tx, r.seqs, "o.seq")
}

func (t *sqlTxn) purgeOps(r *row) error {
	for _, seq := range r.seqs {
		if _, err := t.tx.Exec(`DELETE FROM ops WHERE seq = ?`, seq); err != nil {
			return err
		}
	}
	r.seqs = nil
	_, err := t.tx.Exec(`DELETE FROM refs WHERE from_rid = ?`, t.rid(r))
	return err
}

func (t *sqlTxn) purgeFieldOps(r *row, fields []string, cut Stamp) error {
	ops, err := readOps(t.tx, r.seqs, "o.seq")
	if err != nil {
		return err
	}
	kept := r.seqs[:0:0]
	for i, op := range ops {
		if containsAny(fields, op.Field) && !cut.Less(op.Stamp()) {
			if _, err := t.tx.Exec(`DELETE FROM ops WHERE seq = ?`, r.seqs[i]); err != nil {
				return err
			}
			continue
		}
		kept = append(kept, r.seqs[i])
	}
	r.seqs, r.dirty = kept, true
	return nil
}

func (t *sqlTxn) addRef(kind string, from *row, to string) error {
	_, err := t.tx.Exec(`INSERT INTO refs (kind, from_rid, to_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, kind, t.rid(from), to)
	return err
}

func (t *sqlTxn) refsTo(kind, to string) ([]RecordKey, error) {
	rows, err := t.tx.Query(`SELECT r.collection, r.id FROM refs f JOIN records r ON r.rid = f.from_rid WHERE f.kind = ? AND f.to_id = ? ORDER BY r.collection, r.id`, kind, to)
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
		if r.isNew && !containsKey(out, r.key) {
			if ok, err := t.batchRef(kind, r, to); err != nil {
				return nil, err
			} else if ok {
				out = append(out, r.key)
			}
		}
	}
	return out, nil
}

// batchRef reports whether a record not yet flushed refers to `to`: refs for new records
// are written straight away, so this only matters before flush of the record row itself.
func (t *sqlTxn) batchRef(kind string, r *row, to string) (bool, error) {
	var n int
	err := t.tx.QueryRow(`SELECT count(*) FROM refs WHERE kind = ? AND to_id = ? AND from_rid = ?`, kind, to, t.rid(r)).Scan(&n)
	return n > 0, err
}

func (t *sqlTxn) refsFrom(kind string, from *row) ([]string, error) {
	rows, err := t.tx.Query(`SELECT to_id FROM refs WHERE kind = ? AND from_rid = ? ORDER BY to_id`, kind, t.rid(from))
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

// observedAdds lists the add ops of an element this replica holds.
func (t *sqlTxn) observedAdds(k RecordKey, field string, value json.RawMessage) ([]string, error) {
	r, err := t.load(k)
	if err != nil || r == nil {
		return nil, err
	}
	canon, _, err := canonicalJSON(value)
	if err != nil {
		return nil, nil // validation will reject it
	}
	if el := r.state.Sets[field][string(canon)]; el != nil {
		return append([]string(nil), el.Adds...), nil
	}
	return nil, nil
}

// flush writes every touched record once, and the clock.
func (t *sqlTxn) flush() error {
	stmt, err := t.tx.Prepare(`INSERT INTO records (rid, collection, id, team, state, view, deleted, withdrawn, updated_ts, erased_seq, seqs)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (rid) DO UPDATE SET state = excluded.state, view = excluded.view, deleted = excluded.deleted,
			withdrawn = excluded.withdrawn, updated_ts = excluded.updated_ts, erased_seq = coalesce(records.erased_seq, excluded.erased_seq),
			seqs = excluded.seqs`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, r := range t.order {
		if !r.dirty {
			continue
		}
		var state, view []byte
		var eseq any
		deleted, withdrawn := false, false
		if r.erased {
			eseq = t.s.nextSeq
			t.s.nextSeq++
		} else {
			state = encodeState(r.state)
			view = r.state.visibleView()
			deleted, withdrawn = r.state.Deleted(), r.state.Withdrawn
		}
		if _, err := stmt.Exec(t.rid(r), r.key.Collection, r.key.Record, r.team, state, view, deleted, withdrawn, r.state.UpdatedTS, eseq, encodeSeqs(r.seqs)); err != nil {
			return err
		}
	}
	ts, tc := t.s.clock.Last()
	_, err = t.tx.Exec(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
		metaClock, fmt.Sprintf("%d %d %d", ts, tc, t.s.clock.Offset()))
	return err
}

func containsKey(keys []RecordKey, k RecordKey) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
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

// readOps reads ops by seq, in the order given by orderBy.
func readOps(q interface {
	Query(string, ...any) (*sql.Rows, error)
}, seqs []int64, orderBy string) ([]Op, error) {
	var out []Op
	for start := 0; start < len(seqs); start += 500 {
		chunk := seqs[start:min(start+500, len(seqs))]
		args := make([]any, len(chunk))
		for i, s := range chunk {
			args[i] = s
		}
		rows, err := q.Query(`SELECT `+opColumns+` FROM ops o JOIN nodes n ON n.nid = o.nid JOIN records r ON r.rid = o.rid
			WHERE o.seq IN (`+placeholders(len(chunk))+`) ORDER BY `+orderBy, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			op, err := scanOp(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, op)
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
