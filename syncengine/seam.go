package syncengine

import (
	"encoding/json"
	"fmt"
	"hash"
	"time"

	"github.com/fieldnotes/fieldnotes/schema"
)

// This file is the seam for replica stores outside this package (the server's store on
// PostgreSQL): they bring the storage of one batch (Txn) and run the very merge the
// SQLite store and Memory run (Merger), so the rules exist once. A store keeps records as
// the bytes Row.Encode gives and hashes them with HashRecord, so its state hash is
// byte-identical to the SQLite store's for the same ops.

// Row is one record as the merge sees it during a batch. Stores outside this package
// read it through its methods and make one with DecodeRow or Txn.Create's NewRow.
type Row = row

// NewRow is a new, empty record of team, not yet stored.
func NewRow(k RecordKey, team string) *Row {
	return &row{key: k, team: team, state: &State{}, isNew: true, dirty: true}
}

// DecodeRow rebuilds a stored record from the bytes Encode gave. An erased record has
// neither.
func DecodeRow(k RecordKey, team string, erased bool, state, view []byte) (*Row, error) {
	r := &row{key: k, team: team, state: &State{}, erased: erased}
	if len(state) > 0 {
		err := decodeState(state, r.state)
		if err == nil {
			err = fillValues(r.state, view)
		}
		if err != nil {
			return nil, fmt.Errorf("record %s/%s: corrupt state: %w", k.Collection, k.Record, err)
		}
	}
	return r, nil
}

// Key is the record's identity.
func (r *row) Key() RecordKey { return r.key }

// Team is the team the record belongs to; it never changes.
func (r *row) Team() string { return r.team }

// Erased reports whether the record is a tombstone.
func (r *row) Erased() bool { return r.erased }

// IsNew reports whether the record was made in this batch and is not stored yet.
func (r *row) IsNew() bool { return r.isNew }

// Dirty reports whether the batch changed the record since it was loaded or saved.
func (r *row) Dirty() bool { return r.dirty }

// Saved marks the record as stored as it is now.
func (r *row) Saved() { r.isNew, r.dirty = false, false }

// RowEncoding is what a store keeps of a record: the merge state and the visible view
// (nil when the record shows nothing), the flags, and the wall time of its latest op.
// An erased record keeps nothing but its identity.
type RowEncoding struct {
	State, View        []byte
	Deleted, Withdrawn bool
	UpdatedTS          int64
}

// Encode is the record as a store keeps it: the same bytes the SQLite store writes.
func (r *row) Encode() RowEncoding {
	if r.erased {
		return RowEncoding{UpdatedTS: r.state.UpdatedTS}
	}
	return RowEncoding{State: encodeState(r.state), View: r.state.visibleView(),
		Deleted: r.state.Deleted(), Withdrawn: r.state.Withdrawn, UpdatedTS: r.state.UpdatedTS}
}

// Txn is one batch's storage, for a store outside this package; the store makes the
// batch one transaction. Methods have the meaning of the SQLite store's (sqltxn.go).
type Txn interface {
	// Load returns the record, or nil if the replica has never heard of it. The same *Row
	// is returned for the same key within a batch.
	Load(k RecordKey) (*Row, error)
	// Create makes a new, empty record in team (NewRow), returned by Load from then on.
	Create(k RecordKey, team string) *Row
	// LookupOp returns the stored op (this batch's included) with op's identity
	// (node, counter), if any.
	LookupOp(op *Op) (stored *Op, found bool, err error)
	// InsertOp stores op unless (node, counter) is already stored; then it returns the
	// stored copy and dup=true.
	InsertOp(op *Op, r *Row) (stored *Op, dup bool, err error)
	// ReplaceOp overwrites the stored copy's stamp.
	ReplaceOp(op *Op) error
	// OpsOf lists a record's stored ops (this batch's included).
	OpsOf(r *Row) ([]Op, error)
	// PurgeOps deletes the links from an erased record and its ops, all but those
	// KeptOnErase (which prove the erasure and hold nothing anyone said).
	PurgeOps(r *Row) error
	// PurgeFieldOps deletes the record's ops on fields stamped at or before cut
	// (!cut.Less(op.Stamp())).
	PurgeFieldOps(r *Row, fields []string, cut Stamp) error
	// AddRef notes a link of kind from a record to an id (idempotent).
	AddRef(kind string, from *Row, to string) error
	// RefsTo lists the records with a link of kind to an id, in (collection, id) order.
	RefsTo(kind, to string) ([]RecordKey, error)
	// RefsFrom lists the ids a record links to with kind, in order.
	RefsFrom(kind string, from *Row) ([]string, error)
}

type txnAdapter struct{ t Txn }

func (a txnAdapter) load(k RecordKey) (*row, error)             { return a.t.Load(k) }
func (a txnAdapter) create(k RecordKey, team string) *row       { return a.t.Create(k, team) }
func (a txnAdapter) lookupOp(op *Op) (*Op, bool, error)         { return a.t.LookupOp(op) }
func (a txnAdapter) insertOp(op *Op, r *row) (*Op, bool, error) { return a.t.InsertOp(op, r) }
func (a txnAdapter) replaceOp(op *Op) error                     { return a.t.ReplaceOp(op) }
func (a txnAdapter) opsOf(r *row) ([]Op, error)                 { return a.t.OpsOf(r) }
func (a txnAdapter) purgeOps(r *row) error                      { return a.t.PurgeOps(r) }
func (a txnAdapter) purgeFieldOps(r *row, f []string, cut Stamp) error {
	return a.t.PurgeFieldOps(r, f, cut)
}
func (a txnAdapter) addRef(kind string, from *row, to string) error {
	return a.t.AddRef(kind, from, to)
}
func (a txnAdapter) refsTo(kind, to string) ([]RecordKey, error) { return a.t.RefsTo(kind, to) }
func (a txnAdapter) refsFrom(kind string, from *row) ([]string, error) {
	return a.t.RefsFrom(kind, from)
}

// Merger is the merge rules over storage a caller brings: the engine every replica runs.
// Calls must not overlap (a store serialises its batches).
type Merger struct{ e engine }

// NewMerger returns the merge for a hub or replica whose clock is clock; maxSkew 0 means
// DefaultMaxSkew.
func NewMerger(clock *Clock, maxSkew time.Duration) *Merger {
	if maxSkew == 0 {
		maxSkew = DefaultMaxSkew
	}
	return &Merger{e: engine{clock: clock, maxSkew: maxSkew.Milliseconds()}}
}

// Clock is the merge's hybrid logical clock.
func (m *Merger) Clock() *Clock { return m.e.clock }

// MaxSkew is how far ahead (ms) the hub lets an op be stamped.
func (m *Merger) MaxSkew() int64 { return m.e.maxSkew }

// Apply merges a batch through t, as Store.Apply does; ops is modified in place
// (restamps). Several calls on one Txn are a group commit (Store.ApplyGroup).
func (m *Merger) Apply(t Txn, ops []Op, opt ApplyOptions) (Result, error) {
	return m.e.apply(txnAdapter{t}, ops, opt)
}

// Stamp turns changes into ops of node numbered from counter+1 and stamped by the clock,
// as Store.WriteAs does: a remove observes every add of the element t holds.
func (m *Merger) Stamp(t Txn, node string, counter uint64, changes []Change) ([]Op, error) {
	return stampChanges(m.e.clock, txnAdapter{t}, node, counter, changes)
}

// stampChanges is how every replica turns local changes into ops: numbered from
// counter+1, stamped by clock, and a remove observes every add of the element the
// replica holds (so a concurrent add elsewhere still wins).
func stampChanges(clock *Clock, t txn, node string, counter uint64, changes []Change) ([]Op, error) {
	ops := make([]Op, 0, len(changes))
	for _, c := range changes {
		raw, err := c.encodeValue()
		if err != nil {
			return nil, err
		}
		counter++
		ts, tc := clock.Now()
		op := Op{Node: node, Counter: counter, TS: ts, TC: tc, Collection: c.Collection, Record: c.Record, Kind: c.Kind, Field: c.Field, Value: raw}
		if c.Kind == schema.KindRemove {
			if op.Observed, err = observedAdds(t, op.Key(), c.Field, raw); err != nil {
				return nil, err
			}
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// observedAdds lists the add ops of an element the replica holds.
func observedAdds(t txn, k RecordKey, field string, value json.RawMessage) ([]string, error) {
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

// HashRecord adds one stored record to a state hash, exactly as the SQLite store's
// StateHash does: records in (collection, id) byte order, skipping live ones whose view
// is nil. The hash starts as sha256.New().
func HashRecord(h hash.Hash, k RecordKey, erased, deleted, withdrawn bool, view []byte) {
	writeHashParts(h, k, erased, deleted, withdrawn, func() []byte { return view })
}
