package syncengine

import (
	"bytes"
	"encoding/json"
	"slices"
	"time"

	"github.com/fieldnotes/fieldnotes/schema"
)

// DefaultMaxSkew is how far ahead of the hub's clock an op may be stamped before the hub
// restamps it.
const DefaultMaxSkew = 5 * time.Minute

// row is one record as the merge sees it during a batch.
type row struct {
	key    RecordKey
	team   string
	state  *State
	erased bool
	isNew  bool // not yet stored
	dirty  bool
	seqs   []int64 // the SQLite store's seqs of this record's ops
}

// txn is what the merge needs from a replica's storage for one batch. Implementations
// make the whole batch one transaction.
type txn interface {
	// load returns the record, or nil if the replica has never heard of it. The same
	// *row is returned for the same key within a batch.
	load(k RecordKey) (*row, error)
	// create makes a new, empty record in team.
	create(k RecordKey, team string) *row
	// lookupOp returns the stored op with op's identity (node, counter), if any.
	lookupOp(op *Op) (stored *Op, found bool, err error)
	// insertOp stores op unless (node, counter) is already stored; then it returns the
	// stored copy and dup=true.
	insertOp(op *Op, r *row) (stored *Op, dup bool, err error)
	// replaceOp overwrites the stored copy's stamp (the hub restamped it).
	replaceOp(op *Op) error
	// opsOf lists a record's stored ops.
	opsOf(r *row) ([]Op, error)
	// purgeOps drops an erased record's ops, all but those keptOnErase.
	purgeOps(r *row) error
	purgeFieldOps(r *row, fields []string, cut Stamp) error
	addRef(kind string, from *row, to string) error
	refsTo(kind, to string) ([]RecordKey, error)
	refsFrom(kind string, from *row) ([]string, error)
}

// Ref kinds: the links a consent withdrawal follows.
const (
	refConsentOf     = "conversation.consent" // conversation -> consent it was recorded under
	refParticipantOf = "consent.participant"  // consent -> participant it belongs to
)

// ApplyOptions says who is applying a batch and where.
type ApplyOptions struct {
	// Hub restamps ops stamped more than MaxSkew ahead of its clock; replicas that are not
	// the hub take the hub's copy of an op they already hold.
	Hub bool
	// Teams limits the batch to records of these teams; nil allows every team.
	Teams []string
	// Team is given to new records whose team can't be worked out from the batch.
	Team string
	// OnlyNode, if set, rejects ops from any other node (a device pushes only its own).
	OnlyNode string
}

// Result reports what a batch did.
type Result struct {
	Accepted   int         `json:"accepted"`
	Duplicates int         `json:"duplicates"`
	Rejected   []Rejection `json:"rejected"`
	Restamped  []Op        `json:"restamped"`
	// Erased lists the records this batch erased, directly or through a withdrawal.
	Erased []RecordKey `json:"-"`
}

// engine applies batches with the merge rules. It is the same for every storage.
type engine struct {
	clock   *Clock
	maxSkew int64
}

func (e *engine) apply(t txn, ops []Op, opt ApplyOptions) (Result, error) {
	res := Result{Rejected: []Rejection{}, Restamped: []Op{}}
	b := batch{engine: e, t: t, opt: opt, res: &res}
	b.scan(ops)
	for i := range ops {
		if err := b.one(&ops[i]); err != nil {
			return Result{}, err
		}
	}
	return res, nil
}

type batch struct {
	*engine
	t   txn
	opt ApplyOptions
	res *Result
	// what the batch itself says about teams: engagement -> team, record -> engagement
	teamOf map[string]string
	engOf  map[string]string
}

// scan notes which team each new record in the batch belongs to, whatever the op order.
func (b *batch) scan(ops []Op) {
	b.teamOf, b.engOf = map[string]string{}, map[string]string{}
	for i := range ops {
		op := &ops[i]
		if op.Kind != schema.KindSet {
			continue
		}
		field, via := schema.TeamOf(op.Collection)
		if field == "" || op.Field != field {
			continue
		}
		var s string
		if json.Unmarshal(op.Value, &s) != nil {
			continue
		}
		if via {
			b.engOf[op.Record] = s
		} else {
			b.teamOf[op.Record] = s
		}
	}
}

func (b *batch) reject(op *Op, code, field, msg string) {
	b.res.Rejected = append(b.res.Rejected, Rejection{Node: op.Node, Counter: op.Counter, Code: code, Field: field, Message: msg})
}

func (b *batch) allowed(team string) bool {
	if b.opt.Teams == nil {
		return true
	}
	for _, t := range b.opt.Teams {
		if t == team {
			return true
		}
	}
	return false
}

// teamFor works out a new record's team: its own team field, or its engagement's team.
func (b *batch) teamFor(op *Op) (string, error) {
	field, via := schema.TeamOf(op.Collection)
	switch {
	case field != "" && !via:
		if t, ok := b.teamOf[op.Record]; ok {
			return t, nil
		}
	case via:
		if eng, ok := b.engOf[op.Record]; ok {
			if r, err := b.t.load(RecordKey{schema.Engagement, eng}); err != nil {
				return "", err
			} else if r != nil {
				return r.team, nil
			}
			if t, ok := b.teamOf[eng]; ok {
				return t, nil
			}
		}
	}
	return b.opt.Team, nil
}

func (b *batch) one(op *Op) error {
	if !op.validated {
		if verr := op.Validate(); verr != nil {
			b.reject(op, verr.Code, verr.Field, verr.Message)
			return nil
		}
	}
	if b.opt.OnlyNode != "" && op.Node != b.opt.OnlyNode {
		b.reject(op, CodeNotOwnNode, "node", "a device may push only its own ops")
		return nil
	}
	// One identity, one op: the same body again is a duplicate; another body under a
	// stored identity is refused, never silently dropped (OpenRosa's instanceID rule).
	if stored, found, err := b.t.lookupOp(op); err != nil {
		return err
	} else if found && !sameChange(stored, op) {
		b.reject(op, CodeOpIDReused, "counter", "this node already used this counter for another op")
		return nil
	}
	k := op.Key()
	r, err := b.t.load(k)
	if err != nil {
		return err
	}
	if r == nil {
		team, err := b.teamFor(op)
		if err != nil {
			return err
		}
		if !b.allowed(team) {
			b.reject(op, CodeOutOfScope, "record", "record belongs to another team")
			return nil
		}
		r = b.t.create(k, team)
	} else if !b.allowed(r.team) {
		b.reject(op, CodeOutOfScope, "record", "record belongs to another team")
		return nil
	}
	if r.erased {
		// Erasure dominates: whatever arrives later for the record is discarded.
		b.res.Accepted++
		return nil
	}
	if ok, err := b.inScope(op, r); err != nil || !ok {
		return err
	}

	if b.opt.Hub {
		if now := b.clock.Physical(); op.TS > now+b.maxSkew {
			op.TS, op.TC = b.clock.Now()
			b.res.Restamped = append(b.res.Restamped, *op)
		} else {
			b.clock.Observe(op.TS, op.TC)
		}
	} else {
		b.clock.Observe(op.TS, op.TC)
	}

	if r.state.erasedField(op.Field, op.Stamp()) {
		// Written before a withdrawal that erased the field: discarded, never stored.
		b.res.Accepted++
		return nil
	}
	stored, dup, err := b.t.insertOp(op, r)
	if err != nil {
		return err
	}
	if dup {
		b.res.Duplicates++
		if stored.TS != op.TS || stored.TC != op.TC {
			if b.opt.Hub {
				if n := len(b.res.Restamped); n > 0 && b.res.Restamped[n-1].Node == op.Node && b.res.Restamped[n-1].Counter == op.Counter {
					b.res.Restamped = b.res.Restamped[:n-1] // restamped just now, but already held
				}
				b.res.Restamped = append(b.res.Restamped, *stored) // the device missed our answer last time
			} else {
				return b.restamp(op, r)
			}
		}
		return nil
	}
	b.res.Accepted++
	return b.merge(op, r)
}

// sameChange reports whether two ops with one identity say the same thing, whatever
// their stamps (the hub may have restamped the one it holds).
func sameChange(a, b *Op) bool {
	return a.Collection == b.Collection && a.Record == b.Record && a.Kind == b.Kind && a.Field == b.Field &&
		bytes.Equal(a.Value, b.Value) && slices.Equal(a.Observed, b.Observed)
}

// inScope refuses ops that would move a record to another team.
func (b *batch) inScope(op *Op, r *row) (bool, error) {
	if b.opt.Teams == nil || op.Kind != schema.KindSet {
		return true, nil
	}
	field, via := schema.TeamOf(op.Collection)
	if field == "" || op.Field != field {
		return true, nil
	}
	var s string
	if json.Unmarshal(op.Value, &s) != nil {
		return true, nil
	}
	team := s
	if via {
		eng, err := b.t.load(RecordKey{schema.Engagement, s})
		if err != nil {
			return false, err
		}
		if eng == nil {
			return true, nil // an engagement we haven't seen yet
		}
		team = eng.team
	}
	if team != r.team {
		b.reject(op, CodeOutOfScope, op.Field, "a record can't move to another team")
		return false, nil
	}
	return true, nil
}

// merge applies a new op to its record and follows what a consent withdrawal covers.
func (b *batch) merge(op *Op, r *row) error {
	if op.Kind == schema.KindErase {
		return b.erase(r)
	}
	wasWithdrawn := r.state.Withdrawn
	r.state.apply(op)
	r.dirty = true

	switch {
	case op.Collection == schema.Conversation && op.Kind == schema.KindSet && op.Field == "consent":
		var consent string
		if json.Unmarshal(op.Value, &consent) != nil {
			return nil
		}
		if err := b.t.addRef(refConsentOf, r, consent); err != nil {
			return err
		}
		c, err := b.t.load(RecordKey{schema.Consent, consent})
		if err != nil || c == nil || !c.state.Withdrawn {
			return err
		}
		return b.erase(r)

	case op.Collection == schema.Consent && op.Kind == schema.KindSet && op.Field == "participant":
		var p string
		if json.Unmarshal(op.Value, &p) != nil {
			return nil
		}
		if err := b.t.addRef(refParticipantOf, r, p); err != nil {
			return err
		}
		if r.state.Withdrawn {
			return b.eraseParticipantFields(r, p)
		}

	case op.Collection == schema.Consent && op.Kind == schema.KindWithdraw:
		convs, err := b.t.refsTo(refConsentOf, op.Record)
		if err != nil {
			return err
		}
		for _, k := range convs {
			c, err := b.t.load(k)
			if err != nil {
				return err
			}
			if c != nil && !c.erased {
				if err := b.erase(c); err != nil {
					return err
				}
			}
		}
		if wasWithdrawn && r.state.WithdrawnAt != op.Stamp() {
			return nil // an earlier-stamped repeat: the cut is already later
		}
		ps, err := b.t.refsFrom(refParticipantOf, r)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if err := b.eraseParticipantFields(r, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// erasableFields are the participant fields a withdrawal erases.
var erasableFields = func() []string {
	var out []string
	for _, f := range schema.Fields(schema.Participant) {
		if f.Erasable {
			out = append(out, f.Name)
		}
	}
	return out
}()

func (b *batch) eraseParticipantFields(consent *row, participant string) error {
	k := RecordKey{schema.Participant, participant}
	p, err := b.t.load(k)
	if err != nil {
		return err
	}
	if p == nil {
		p = b.t.create(k, consent.team)
	}
	if p.erased {
		return nil
	}
	cut := consent.state.WithdrawnAt
	p.state.eraseFields(erasableFields, cut)
	p.dirty = true
	return b.t.purgeFieldOps(p, erasableFields, cut)
}

// KeptOnErase reports whether an erased record keeps op in its log: the ops that say why
// it is erased and hold nothing anyone said — its erase ops, and a conversation's ops
// setting its consent (an id). A tablet that erases a record, or withdraws the consent it
// was recorded under, before the record's ops left it still pushes these, so the hub and
// every other replica erase it too and all hold the same tombstones (ARCHITECTURE.md,
// "Erasure that never left the tablet").
func KeptOnErase(op *Op) bool {
	return op.Kind == schema.KindErase ||
		op.Collection == schema.Conversation && op.Kind == schema.KindSet && op.Field == "consent"
}

func (b *batch) erase(r *row) error {
	if r.erased {
		return nil
	}
	r.erased, r.dirty = true, true
	r.state = &State{}
	b.res.Erased = append(b.res.Erased, r.key)
	return b.t.purgeOps(r)
}

// restamp takes the hub's copy of an op this replica already holds and rebuilds the
// record from its ops, since the op's place in the order changed. A restamped withdrawal
// moves the cut it made in its participants' fields, so those are recomputed too.
func (b *batch) restamp(op *Op, r *row) error {
	if err := b.t.replaceOp(op); err != nil {
		return err
	}
	if err := b.rebuild(r, r.state.ErasedBefore); err != nil {
		return err
	}
	if op.Kind != schema.KindWithdraw {
		return nil
	}
	parts, err := b.t.refsFrom(refParticipantOf, r)
	if err != nil {
		return err
	}
	for _, p := range parts {
		pr, err := b.t.load(RecordKey{schema.Participant, p})
		if err != nil {
			return err
		}
		if pr == nil || pr.erased {
			continue
		}
		consents, err := b.t.refsTo(refParticipantOf, p)
		if err != nil {
			return err
		}
		var cut Stamp
		for _, ck := range consents {
			c, err := b.t.load(ck)
			if err != nil {
				return err
			}
			if c != nil && c.state.Withdrawn && cut.Less(c.state.WithdrawnAt) {
				cut = c.state.WithdrawnAt
			}
		}
		var cuts map[string]Stamp
		if !cut.IsZero() {
			cuts = map[string]Stamp{}
			for _, f := range erasableFields {
				cuts[f] = cut
			}
		}
		if err := b.rebuild(pr, cuts); err != nil {
			return err
		}
	}
	return nil
}

// rebuild recomputes a record's state from its stored ops under the given field cuts
// (which come from other records, so they are passed in rather than rebuilt).
func (b *batch) rebuild(r *row, cuts map[string]Stamp) error {
	ops, err := b.t.opsOf(r)
	if err != nil {
		return err
	}
	fresh := &State{}
	if len(cuts) > 0 {
		fresh.ErasedBefore = cuts
	}
	for i := range ops {
		if ops[i].Kind != schema.KindErase {
			fresh.apply(&ops[i])
		}
	}
	r.state, r.dirty = fresh, true
	return nil
}
