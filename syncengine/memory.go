package syncengine

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"sort"

	"github.com/fieldnotes/fieldnotes/schema"
)

// Memory is a replica held in memory: the same merge as the SQLite store, used for the
// in-memory merge benchmark and to check the store against in property tests.
type Memory struct {
	engine
	records map[RecordKey]*row
	ops     map[string]*memOp // by op id
	byRec   map[RecordKey]map[string]bool
	refs    map[string]map[string]map[RecordKey]bool // kind -> to -> from
	refsF   map[string]map[RecordKey]map[string]bool // kind -> from -> to
	// erasedSeq is the ingest sequence at which each record was erased, as the store's
	// erased_seq: pulls list erasures in the span they cover.
	erasedSeq map[RecordKey]int64
	seq       int64
	counter   uint64
}

type memOp struct {
	op  Op
	seq int64
}

// NewMemory returns an empty in-memory replica whose clock reads wall.
func NewMemory(wall func() int64, maxSkew int64) *Memory {
	return &Memory{
		engine:  engine{clock: NewClock(wall), maxSkew: maxSkew},
		records: map[RecordKey]*row{},
		ops:     map[string]*memOp{},
		byRec:   map[RecordKey]map[string]bool{},
		refs:    map[string]map[string]map[RecordKey]bool{},
		refsF:   map[string]map[RecordKey]map[string]bool{},

		erasedSeq: map[RecordKey]int64{},
	}
}

// Clock is the replica's hybrid logical clock.
func (m *Memory) Clock() *Clock { return m.clock }

// Apply merges a batch. Memory has no transactions: the merge never fails half-way.
func (m *Memory) Apply(ops []Op, opt ApplyOptions) (Result, error) {
	cp := make([]Op, len(ops))
	copy(cp, ops)
	return m.engine.apply(memTxn{m}, cp, opt)
}

// Write turns local changes into ops of node, stamped by this replica's clock, and
// applies them. A remove observes the adds of the element this replica holds.
func (m *Memory) Write(node string, changes []Change) ([]Op, Result, error) {
	ops := make([]Op, 0, len(changes))
	for _, c := range changes {
		raw, err := c.encodeValue()
		if err != nil {
			return nil, Result{}, err
		}
		m.counter++
		ts, tc := m.clock.Now()
		op := Op{Node: node, Counter: m.counter, TS: ts, TC: tc, Collection: c.Collection, Record: c.Record, Kind: c.Kind, Field: c.Field, Value: raw}
		if c.Kind == schema.KindRemove {
			if r := m.records[op.Key()]; r != nil {
				if canon, _, err := canonicalJSON(raw); err == nil {
					if el := r.state.Sets[c.Field][string(canon)]; el != nil {
						op.Observed = append([]string(nil), el.Adds...)
					}
				}
			}
		}
		ops = append(ops, op)
	}
	res, err := m.engine.apply(memTxn{m}, ops, ApplyOptions{})
	return ops, res, err
}

// Ops returns every op held, in arrival order.
func (m *Memory) Ops() []Op {
	all := make([]*memOp, 0, len(m.ops))
	for _, o := range m.ops {
		all = append(all, o)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].seq < all[j].seq })
	out := make([]Op, len(all))
	for i, o := range all {
		out[i] = o.op
	}
	return out
}

// OpsFrom lists a node's ops with counter above after, in counter order, at most limit:
// what a device still has to push (Store.OpsFrom).
func (m *Memory) OpsFrom(node string, after uint64, limit int) []Op {
	var out []Op
	for _, o := range m.ops {
		if o.op.Node == node && o.op.Counter > after {
			out = append(out, o.op)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Counter < out[j].Counter })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// Pull returns up to limit ops ingested after cursor, in ingest order, and the records
// erased in the same span, as Store.Pull does (for every team).
func (m *Memory) Pull(cursor int64, limit int) PullResult {
	if limit <= 0 {
		limit = 1000
	}
	all := make([]*memOp, 0, len(m.ops))
	for _, o := range m.ops {
		if o.seq > cursor {
			all = append(all, o)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].seq < all[j].seq })
	res := PullResult{Ops: []Op{}, Erased: []RecordKey{}}
	if len(all) > limit {
		res.More = true
		all = all[:limit]
		res.Cursor = all[len(all)-1].seq
	} else {
		res.Cursor = max(m.seq, cursor)
	}
	for _, o := range all {
		res.Ops = append(res.Ops, o.op)
	}
	type erasure struct {
		k   RecordKey
		seq int64
	}
	var es []erasure
	for k, seq := range m.erasedSeq {
		if seq > cursor && seq <= res.Cursor {
			es = append(es, erasure{k, seq})
		}
	}
	sort.Slice(es, func(i, j int) bool { return es[i].seq < es[j].seq })
	for _, e := range es {
		res.Erased = append(res.Erased, e.k)
	}
	return res
}

// Erased lists the erased records.
func (m *Memory) Erased() []RecordKey {
	var out []RecordKey
	for k, r := range m.records {
		if r.erased {
			out = append(out, k)
		}
	}
	return out
}

// Purge erases records the hub says are erased.
func (m *Memory) Purge(keys []RecordKey) error {
	t := memTxn{m}
	b := batch{engine: &m.engine, t: t, res: &Result{}}
	for _, k := range keys {
		r, _ := t.load(k)
		if r == nil {
			r = t.create(k, "")
		}
		if err := b.erase(r); err != nil {
			return err
		}
	}
	return nil
}

// Record returns a record's state, or nil if it is unknown or erased.
func (m *Memory) Record(k RecordKey) *State {
	r := m.records[k]
	if r == nil || r.erased {
		return nil
	}
	return r.state
}

// Hash is the canonical state hash over every record.
func (m *Memory) Hash() string {
	keys := make([]RecordKey, 0, len(m.records))
	for k := range m.records {
		keys = append(keys, k)
	}
	sortKeys(keys)
	h := sha256.New()
	for _, k := range keys {
		r := m.records[k]
		writeHashLine(h, k, r.erased, r.state)
	}
	return hex.EncodeToString(h.Sum(nil))
}

type memTxn struct{ m *Memory }

func (t memTxn) load(k RecordKey) (*row, error) { return t.m.records[k], nil }

func (t memTxn) create(k RecordKey, team string) *row {
	r := &row{key: k, team: team, state: &State{}, isNew: true}
	t.m.records[k] = r
	return r
}

func (t memTxn) lookupOp(op *Op) (*Op, bool, error) {
	if o, ok := t.m.ops[op.ID()]; ok {
		return &o.op, true, nil
	}
	return nil, false, nil
}

func (t memTxn) insertOp(op *Op, r *row) (*Op, bool, error) {
	id := op.ID()
	if o, ok := t.m.ops[id]; ok {
		return &o.op, true, nil
	}
	t.m.seq++
	t.m.ops[id] = &memOp{op: *op, seq: t.m.seq}
	set := t.m.byRec[r.key]
	if set == nil {
		set = map[string]bool{}
		t.m.byRec[r.key] = set
	}
	set[id] = true
	return nil, false, nil
}

func (t memTxn) replaceOp(op *Op) error {
	if o, ok := t.m.ops[op.ID()]; ok {
		o.op.TS, o.op.TC = op.TS, op.TC
	}
	return nil
}

func (t memTxn) opsOf(r *row) ([]Op, error) {
	var out []Op
	for id := range t.m.byRec[r.key] {
		out = append(out, t.m.ops[id].op)
	}
	return out, nil
}

func (t memTxn) purgeOps(r *row) error {
	for id := range t.m.byRec[r.key] {
		if !KeptOnErase(&t.m.ops[id].op) {
			delete(t.m.ops, id)
			delete(t.m.byRec[r.key], id)
		}
	}
	if _, ok := t.m.erasedSeq[r.key]; !ok {
		t.m.seq++
		t.m.erasedSeq[r.key] = t.m.seq
	}
	return nil
}

func (t memTxn) purgeFieldOps(r *row, fields []string, cut Stamp) error {
	for id := range t.m.byRec[r.key] {
		o := t.m.ops[id].op
		if slices.Contains(fields, o.Field) && !cut.Less(o.Stamp()) {
			delete(t.m.ops, id)
			delete(t.m.byRec[r.key], id)
		}
	}
	return nil
}

func (t memTxn) addRef(kind string, from *row, to string) error {
	if t.m.refs[kind] == nil {
		t.m.refs[kind] = map[string]map[RecordKey]bool{}
		t.m.refsF[kind] = map[RecordKey]map[string]bool{}
	}
	if t.m.refs[kind][to] == nil {
		t.m.refs[kind][to] = map[RecordKey]bool{}
	}
	if t.m.refsF[kind][from.key] == nil {
		t.m.refsF[kind][from.key] = map[string]bool{}
	}
	t.m.refs[kind][to][from.key] = true
	t.m.refsF[kind][from.key][to] = true
	return nil
}

func (t memTxn) refsTo(kind, to string) ([]RecordKey, error) {
	var out []RecordKey
	for k := range t.m.refs[kind][to] {
		out = append(out, k)
	}
	sortKeys(out)
	return out, nil
}

func (t memTxn) refsFrom(kind string, from *row) ([]string, error) {
	var out []string
	for to := range t.m.refsF[kind][from.key] {
		out = append(out, to)
	}
	sort.Strings(out)
	return out, nil
}

func sortKeys(keys []RecordKey) {
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Collection != keys[j].Collection {
			return keys[i].Collection < keys[j].Collection
		}
		return keys[i].Record < keys[j].Record
	})
}
