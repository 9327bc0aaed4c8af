package syncengine

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/fieldnotes/fieldnotes/schema"
	"pgregory.net/rapid"
)

// The properties in this file model what a tablet really does, where those in sim_test.go
// hand every op ever written to every replica. A tablet has its own store; what it pushes
// is what that store still holds of its own ops above the last acknowledged counter (the
// SDK's push, client-sdk/sync.go), so a withdrawal or erasure made before a push purges
// ops that never leave it. Every exchange goes tablet → hub → tablet: push, take the
// restamped copies, adopt hub time; pull pages from a cursor, apply them, purge what the
// page's `erased` lists, adopt hub time. Syncs fail half-way (a lost answer, a dropped
// page) and tablets write, withdraw, erase, delete and remove before, between and after.

// fleetTablet is one tablet as the SDK keeps it.
type fleetTablet struct {
	node    string
	skew    int64
	mem     *Memory
	acked   uint64 // the highest own counter the hub acknowledged
	cursor  int64  // the pull cursor
	written []Op   // every op it ever wrote, including those purged before a push
}

type fleet struct {
	real    int64
	hub     *Memory
	tablets []*fleetTablet
}

func newFleet(t *rapid.T) *fleet {
	f := &fleet{real: 1_763_812_800_000}
	f.hub = NewMemory(func() int64 { return f.real }, DefaultMaxSkew.Milliseconds())
	n := rapid.IntRange(2, 6).Draw(t, "tablets")
	for i := 0; i < n; i++ {
		// Most clocks are near right; now and then one is a few minutes out, under or over
		// the skew the hub tolerates.
		var skew int64
		if rapid.IntRange(0, 3).Draw(t, "skewed") == 0 {
			skew = rapid.Int64Range(-10*60_000, 10*60_000).Draw(t, "skew")
		}
		tb := &fleetTablet{node: fmt.Sprintf("tablet-%02d", i), skew: skew}
		tb.mem = NewMemory(func() int64 { return f.real + skew }, DefaultMaxSkew.Milliseconds())
		f.tablets = append(f.tablets, tb)
	}
	return f
}

// drawTabletChange is drawChange with more of what purges: withdrawals and erasures.
func drawTabletChange(t *rapid.T) Change {
	conv := rapid.SampledFrom(simConvs).Draw(t, "conv")
	consent := rapid.SampledFrom(simConsents).Draw(t, "consent")
	switch rapid.IntRange(0, 9).Draw(t, "purging") {
	case 0:
		return Change{schema.Consent, consent, schema.KindWithdraw, "", nil}
	case 1:
		return Change{schema.Conversation, conv, schema.KindErase, "", nil}
	case 2:
		return Change{schema.Conversation, conv, schema.KindSet, "consent", consent}
	}
	return drawChange(t)
}

func (f *fleet) write(t *rapid.T, tb *fleetTablet, c Change) {
	ops, res, err := tb.mem.Write(tb.node, []Change{c})
	if err != nil || len(res.Rejected) > 0 {
		t.Fatalf("%s write: %v %+v", tb.node, err, res.Rejected)
	}
	tb.written = append(tb.written, ops...)
}

// push sends what the tablet's store still holds above its acknowledged counter, in
// batches. If lose is set, the hub commits a batch but its answer never arrives.
func (f *fleet) push(t *rapid.T, tb *fleetTablet, batch int, lose bool) {
	for {
		ops := tb.mem.OpsFrom(tb.node, tb.acked, batch)
		if len(ops) == 0 {
			return
		}
		wire := throughJSON(t, ops)
		res, err := f.hub.Apply(wire, ApplyOptions{Hub: true, OnlyNode: tb.node})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rejected) > 0 {
			t.Fatalf("%s push rejected: %+v", tb.node, res.Rejected)
		}
		if lose {
			return
		}
		if len(res.Restamped) > 0 {
			if _, err := tb.mem.Apply(throughJSON(t, res.Restamped), ApplyOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		tb.mem.Clock().Adopt(f.hub.Clock().Physical(), DefaultMaxSkew.Milliseconds())
		tb.acked = ops[len(ops)-1].Counter
	}
}

// pull follows the cursor page by page; stopAfter > 0 drops the connection after that many
// pages (the cursor is kept for each page applied).
func (f *fleet) pull(t *rapid.T, tb *fleetTablet, limit, stopAfter int) {
	for page := 1; ; page++ {
		p := f.hub.Pull(tb.cursor, limit)
		res, err := tb.mem.Apply(throughJSON(t, p.Ops), ApplyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rejected) > 0 {
			t.Fatalf("%s pull rejected: %+v", tb.node, res.Rejected)
		}
		if err := tb.mem.Purge(p.Erased); err != nil {
			t.Fatal(err)
		}
		tb.mem.Clock().Adopt(f.hub.Clock().Physical(), DefaultMaxSkew.Milliseconds())
		tb.cursor = p.Cursor
		if !p.More || page == stopAfter {
			return
		}
	}
}

// sync is the SDK's Sync: push everything, then pull everything.
func (f *fleet) sync(t *rapid.T, tb *fleetTablet) {
	f.push(t, tb, 50, false)
	f.pull(t, tb, 50, 0)
}

// throughJSON sends ops over the wire and back, as the SDK and the server do.
func throughJSON(t *rapid.T, ops []Op) []Op {
	b, err := json.Marshal(ops)
	if err != nil {
		t.Fatal(err)
	}
	var out []Op
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// run plays a random day in the field: tablets write and sync in any interleaving, with
// syncs that fail half-way.
func (f *fleet) run(t *rapid.T) {
	steps := rapid.IntRange(1, 60).Draw(t, "steps")
	for s := 0; s < steps; s++ {
		f.real += rapid.Int64Range(1, 30_000).Draw(t, "tick")
		tb := f.tablets[rapid.IntRange(0, len(f.tablets)-1).Draw(t, "who")]
		switch rapid.IntRange(0, 9).Draw(t, "step") {
		case 0:
			f.sync(t, tb)
		case 1:
			f.push(t, tb, rapid.IntRange(1, 8).Draw(t, "push-batch"), rapid.Bool().Draw(t, "lose-answer"))
		case 2:
			f.pull(t, tb, rapid.IntRange(1, 8).Draw(t, "page"), rapid.IntRange(0, 2).Draw(t, "stop-after"))
		default:
			f.write(t, tb, drawTabletChange(t))
		}
	}
}

// finish is a final full sync round: every tablet syncs, then every tablet syncs again to
// hear what the others pushed in the first round.
func (f *fleet) finish(t *rapid.T) {
	for round := 0; round < 2; round++ {
		for _, tb := range f.tablets {
			f.real += 1000
			f.sync(t, tb)
		}
	}
}

func (f *fleet) written() map[string][]Op {
	out := map[string][]Op{}
	for _, tb := range f.tablets {
		out[tb.node] = tb.written
	}
	return out
}

// After a final full sync every tablet's state hash equals the hub's.
func TestPropertyTabletsConvergeWithHub(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		f := newFleet(t)
		f.run(t)
		f.finish(t)
		want := f.hub.Hash()
		for _, tb := range f.tablets {
			if got := tb.mem.Hash(); got != want {
				logDiff(t, f.hub, tb.mem)
				t.Fatalf("%s hash %s, hub %s", tb.node, got, want)
			}
		}
	})
}

// What a withdrawal or erasure covers is gone from the hub and every tablet, whether or not
// it ever left the tablet that wrote it: no replica shows the record, and no op holding
// what was said stays in any log.
func TestPropertyTabletErasureReachesEveryone(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		f := newFleet(t)
		f.run(t)
		f.finish(t)
		byNode := f.written()
		gone := erasedKeys(byNode)
		// The cut is where the hub put the withdrawal: it may have restamped it.
		cuts := withdrawalCuts(map[string][]Op{"hub": f.hub.Ops()})
		replicas := map[string]*Memory{"hub": f.hub}
		for _, tb := range f.tablets {
			replicas[tb.node] = tb.mem
		}
		for name, m := range replicas {
			for k := range gone {
				if m.Record(k) != nil {
					t.Fatalf("%s still shows erased %v", name, k)
				}
			}
			for _, op := range m.Ops() {
				if gone[op.Key()] && !KeptOnErase(&op) {
					t.Fatalf("%s still holds op %s (%s %s) of erased %v", name, op.ID(), op.Kind, op.Field, op.Key())
				}
				if op.Collection == schema.Participant && schema.ErasedOnWithdrawal(op.Collection, op.Field) {
					if cut, ok := cuts[op.Record]; ok && !cut.Less(op.Stamp()) {
						t.Fatalf("%s still holds %s of participant %s, written before the withdrawal", name, op.Field, op.Record)
					}
				}
			}
		}
	})
}

// withdrawalCuts works out from the ops, per participant, the latest withdrawal of any
// consent that names them: their contact and equality answers written at or before it
// must be gone.
func withdrawalCuts(byNode map[string][]Op) map[string]Stamp {
	cut := map[string]Stamp{} // consent -> latest withdrawal
	parts := map[string][]string{}
	for _, ops := range byNode {
		for _, op := range ops {
			if op.Kind == schema.KindWithdraw && cut[op.Record].Less(op.Stamp()) {
				cut[op.Record] = op.Stamp()
			}
			if op.Collection == schema.Consent && op.Field == "participant" {
				var p string
				json.Unmarshal(op.Value, &p)
				parts[op.Record] = append(parts[op.Record], p)
			}
		}
	}
	out := map[string]Stamp{}
	for c, st := range cut {
		for _, p := range parts[c] {
			if out[p].Less(st) {
				out[p] = st
			}
		}
	}
	return out
}
