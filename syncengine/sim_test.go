package syncengine

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"

	"github.com/fieldnotes/fieldnotes/schema"
	"pgregory.net/rapid"
)

// The world the simulated replicas write into: a few records shared by every replica so
// that edits collide.
var (
	simEngagement   = "01900000-0000-7000-8000-000000000001"
	simParticipants = []string{"01900000-0000-7000-8000-0000000000a1", "01900000-0000-7000-8000-0000000000a2", "01900000-0000-7000-8000-0000000000a3"}
	simConsents     = []string{"01900000-0000-7000-8000-0000000000c1", "01900000-0000-7000-8000-0000000000c2", "01900000-0000-7000-8000-0000000000c3"}
	simConvs        = []string{"01900000-0000-7000-8000-0000000000d1", "01900000-0000-7000-8000-0000000000d2", "01900000-0000-7000-8000-0000000000d3", "01900000-0000-7000-8000-0000000000d4"}
	simUnknown      = "01900000-0000-7000-8000-0000000000f1"
)

// simReplica is one tablet in a simulation: an in-memory replica, its node id, its wall
// clock (which a test can set a year out) and the ops it wrote.
type simReplica struct {
	node    string
	wall    int64
	skew    int64
	mem     *Memory
	written []Op
}

func newSimReplica(i int, skew int64) *simReplica {
	r := &simReplica{node: fmt.Sprintf("node-%02d", i), wall: 1_763_812_800_000, skew: skew}
	r.mem = NewMemory(func() int64 { r.wall++; return r.wall + r.skew }, DefaultMaxSkew.Milliseconds())
	return r
}

// drawChange picks a random local edit, biased towards collisions on a few fields.
func drawChange(t *rapid.T) Change {
	conv := rapid.SampledFrom(simConvs).Draw(t, "conv")
	consent := rapid.SampledFrom(simConsents).Draw(t, "consent")
	part := rapid.SampledFrom(simParticipants).Draw(t, "participant")
	word := rapid.SampledFrom([]string{"transport", "language", "opening_hours", "cost"}).Draw(t, "word")
	switch rapid.IntRange(0, 15).Draw(t, "action") {
	case 0:
		return Change{schema.Engagement, simEngagement, schema.KindSet, "title", rapid.SampledFrom([]string{"Market day", "Gurdwara visit", "Café chat"}).Draw(t, "title")}
	case 1:
		return Change{schema.Conversation, conv, schema.KindSet, "interpreter", rapid.SampledFrom([]string{"Amrit", "Fatima", "Ion"}).Draw(t, "interp")}
	case 2:
		return Change{schema.Conversation, conv, schema.KindAdd, "themes", word}
	case 3:
		return Change{schema.Conversation, conv, schema.KindRemove, "themes", word}
	case 4:
		return Change{schema.Conversation, conv, schema.KindAppend, "notes", "said " + word}
	case 5:
		return Change{schema.Conversation, conv, schema.KindSet, "consent", consent}
	case 6:
		return Change{schema.Consent, consent, schema.KindSet, "participant", part}
	case 7:
		return Change{schema.Consent, consent, schema.KindAdd, "scopes", rapid.SampledFrom(schema.ConsentScopes).Draw(t, "scope")}
	case 8:
		return Change{schema.Consent, consent, schema.KindWithdraw, "", nil}
	case 9:
		return Change{schema.Participant, part, schema.KindSet, "contact_email", word + "@example.org"}
	case 10:
		return Change{schema.Participant, part, schema.KindSet, "eq_ethnicity", rapid.SampledFrom(schema.Ethnicities).Draw(t, "eth")}
	case 11:
		return Change{schema.Conversation, conv, schema.KindSet, "answer.what_works", map[string]any{"text": "the " + word, "prompt_locale": "pa", "answer_locale": "pa", "translation_en": word}}
	case 12:
		return Change{schema.Conversation, conv, schema.KindDelete, "", nil}
	case 13:
		if rapid.IntRange(0, 3).Draw(t, "rare") == 0 {
			return Change{schema.Conversation, conv, schema.KindErase, "", nil}
		}
		return Change{schema.Conversation, conv, schema.KindSet, "group_size", rapid.IntRange(2, 9).Draw(t, "size")}
	case 14:
		return Change{schema.Conversation, conv, schema.KindSet, "future_field", map[string]any{"v": word}}
	default:
		return Change{"future_collection", simUnknown, schema.KindSet, "anything", word}
	}
}

// simulate runs n replicas making random edits with random partial syncs between them,
// so that some edits are concurrent and some causally ordered. It returns every op
// written, per node in counter order.
func simulate(t *rapid.T, reps []*simReplica) map[string][]Op {
	steps := rapid.IntRange(1, 40).Draw(t, "steps")
	for s := 0; s < steps; s++ {
		r := reps[rapid.IntRange(0, len(reps)-1).Draw(t, "who")]
		if rapid.IntRange(0, 4).Draw(t, "sync?") == 0 {
			// r hears a prefix of another replica's ops, as if over a flaky link.
			from := reps[rapid.IntRange(0, len(reps)-1).Draw(t, "from")]
			n := rapid.IntRange(0, len(from.written)).Draw(t, "prefix")
			if _, err := r.mem.Apply(from.written[:n], ApplyOptions{}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		ops, res, err := r.mem.Write(r.node, []Change{drawChange(t)})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rejected) > 0 {
			t.Fatalf("local op rejected: %+v", res.Rejected)
		}
		r.written = append(r.written, ops...)
	}
	out := map[string][]Op{}
	for _, r := range reps {
		out[r.node] = r.written
	}
	return out
}

// deliver feeds every op to apply in a random interleaving that keeps each node's ops
// in counter order, in random batches, with duplicates and replayed batches.
func deliver(t *rapid.T, label string, byNode map[string][]Op, apply func([]Op)) {
	nodes := make([]string, 0, len(byNode))
	for n := range byNode {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	next := map[string]int{}
	var sent []Op
	for {
		var live []string
		for _, n := range nodes {
			if next[n] < len(byNode[n]) {
				live = append(live, n)
			}
		}
		if len(live) == 0 {
			break
		}
		size := rapid.IntRange(1, 8).Draw(t, label+"-batch")
		var b []Op
		for i := 0; i < size && len(live) > 0; i++ {
			k := rapid.IntRange(0, len(live)-1).Draw(t, label+"-node")
			n := live[k]
			b = append(b, byNode[n][next[n]])
			next[n]++
			if next[n] == len(byNode[n]) {
				live = append(live[:k], live[k+1:]...)
			}
		}
		if len(sent) > 0 && rapid.IntRange(0, 3).Draw(t, label+"-dup") == 0 {
			b = append(b, sent[rapid.IntRange(0, len(sent)-1).Draw(t, label+"-dupof")])
		}
		apply(b)
		sent = append(sent, b...)
		if rapid.IntRange(0, 5).Draw(t, label+"-replay") == 0 {
			apply(b) // a retry after a lost acknowledgement
		}
	}
}

func drawReplicas(t *rapid.T) []*simReplica {
	n := rapid.IntRange(2, 20).Draw(t, "replicas")
	reps := make([]*simReplica, n)
	for i := range reps {
		reps[i] = newSimReplica(i, 0)
	}
	return reps
}

func mustApply(t *rapid.T, m *Memory) func([]Op) {
	return func(ops []Op) {
		res, err := m.Apply(ops, ApplyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rejected) > 0 {
			t.Fatalf("rejected: %+v", res.Rejected)
		}
	}
}

// Any order, any batching, duplicates and replays: the same state hash everywhere.
func TestPropertyConvergenceAnyOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		reps := drawReplicas(t)
		byNode := simulate(t, reps)
		var want string
		for i := 0; i < 3; i++ {
			rx := newSimReplica(100+i, 0)
			deliver(t, fmt.Sprint("rx", i), byNode, mustApply(t, rx.mem))
			if i == 0 {
				want = rx.mem.Hash()
			} else if got := rx.mem.Hash(); got != want {
				t.Fatalf("receiver %d hash %s, receiver 0 %s", i, got, want)
			}
		}
		// The writers themselves, once they hear everything, agree too.
		for _, r := range reps {
			deliver(t, "back-"+r.node, byNode, mustApply(t, r.mem))
			if got := r.mem.Hash(); got != want {
				t.Fatalf("%s hash %s, receivers %s", r.node, got, want)
			}
		}
	})
}

// erasedKeys works out, from the ops alone, which records must end up erased: those with
// an erase op, and conversations ever recorded under a consent that was withdrawn.
func erasedKeys(byNode map[string][]Op) map[RecordKey]bool {
	erased := map[RecordKey]bool{}
	withdrawn := map[string]bool{}
	underConsent := map[string][]string{}
	for _, ops := range byNode {
		for _, op := range ops {
			switch {
			case op.Kind == schema.KindErase:
				erased[op.Key()] = true
			case op.Kind == schema.KindWithdraw:
				withdrawn[op.Record] = true
			case op.Collection == schema.Conversation && op.Field == "consent":
				var c string
				json.Unmarshal(op.Value, &c)
				underConsent[c] = append(underConsent[c], op.Record)
			}
		}
	}
	for c := range withdrawn {
		for _, conv := range underConsent[c] {
			erased[RecordKey{schema.Conversation, conv}] = true
		}
	}
	return erased
}

// An erased record never comes back, whatever arrives after, and none of its ops stay.
func TestPropertyErasedNeverReturns(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		reps := drawReplicas(t)
		byNode := simulate(t, reps)
		rx := newSimReplica(100, 0)
		gone := map[RecordKey]bool{}
		deliver(t, "rx", byNode, func(ops []Op) {
			mustApply(t, rx.mem)(ops)
			for _, k := range rx.mem.Erased() {
				gone[k] = true
			}
			for k := range gone {
				if rx.mem.Record(k) != nil {
					t.Fatalf("%v came back after it was erased", k)
				}
			}
		})
		want := erasedKeys(byNode)
		for k := range want {
			if !gone[k] {
				t.Fatalf("%v should be erased", k)
			}
		}
		for k := range gone {
			if !want[k] {
				t.Fatalf("%v erased but nothing asked for it", k)
			}
		}
		for _, op := range rx.mem.Ops() {
			if gone[op.Key()] && !KeptOnErase(&op) {
				t.Fatalf("op %s of erased %v still in the log", op.ID(), op.Key())
			}
		}
	})
}

// A withdrawn consent never un-withdraws, and the participant's contact and equality
// answers written before the withdrawal are gone from every replica.
func TestPropertyWithdrawalIsSticky(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		reps := drawReplicas(t)
		byNode := simulate(t, reps)
		rx := newSimReplica(100, 0)
		withdrawn := map[string]bool{}
		deliver(t, "rx", byNode, func(ops []Op) {
			mustApply(t, rx.mem)(ops)
			for _, c := range simConsents {
				st := rx.mem.Record(RecordKey{schema.Consent, c})
				if withdrawn[c] && (st == nil || !st.Withdrawn) {
					t.Fatalf("consent %s un-withdrew", c)
				}
				if st != nil && st.Withdrawn {
					withdrawn[c] = true
				}
			}
		})
		// Work out from the ops which participant fields must be gone.
		cut := map[string]Stamp{} // consent -> latest withdraw
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
		for c, st := range cut {
			for _, p := range parts[c] {
				for _, op := range rx.mem.Ops() {
					if op.Record == p && schema.ErasedOnWithdrawal(schema.Participant, op.Field) && !st.Less(op.Stamp()) {
						t.Fatalf("participant %s field %s written before withdrawal of %s survived", p, op.Field, c)
					}
				}
			}
		}
	})
}

// Unknown fields and collections pass through a replica untouched: what it hands on is
// byte for byte what it was given, and a second replica sees the same values.
func TestPropertyUnknownFieldsSurvive(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		src := newSimReplica(1, 0)
		var written []Op
		n := rapid.IntRange(1, 20).Draw(t, "n")
		for i := 0; i < n; i++ {
			field := rapid.StringMatching(`[a-z][a-z0-9_]{0,12}`).Draw(t, "field")
			if _, known := schema.Lookup(schema.Conversation, field); known {
				field = "x_" + field
			}
			val := map[string]any{"s": rapid.String().Draw(t, "s"), "n": rapid.IntRange(-1000, 1000).Draw(t, "num"), "list": []any{"a", true, nil}}
			coll := rapid.SampledFrom([]string{schema.Conversation, "future_collection"}).Draw(t, "coll")
			ops, res, err := src.mem.Write(src.node, []Change{{coll, simConvs[i%len(simConvs)], schema.KindSet, field, val}})
			if err != nil || len(res.Rejected) > 0 {
				t.Fatalf("write: %v %+v", err, res.Rejected)
			}
			written = append(written, ops...)
		}
		// Through JSON, as over the wire, to a middle replica and on to a last one.
		wire, _ := json.Marshal(src.mem.Ops())
		var got []Op
		if err := json.Unmarshal(wire, &got); err != nil {
			t.Fatal(err)
		}
		mid := newSimReplica(2, 0)
		mustApply(t, mid.mem)(got)
		last := newSimReplica(3, 0)
		mustApply(t, last.mem)(mid.mem.Ops())
		for _, op := range written {
			for _, m := range []*Memory{mid.mem, last.mem} {
				st := m.Record(op.Key())
				if st == nil {
					t.Fatalf("record %v lost", op.Key())
				}
				if r := st.Fields[op.Field]; r.S == op.Stamp() && string(r.V) != string(op.Value) {
					t.Fatalf("field %s: got %s want %s", op.Field, r.V, op.Value)
				}
			}
		}
		if src.mem.Hash() != last.mem.Hash() {
			t.Fatal("hash differs after passing through")
		}
	})
}
