package syncengine

import (
	"fmt"
	"testing"

	"github.com/fieldnotes/fieldnotes/schema"
	"pgregory.net/rapid"
)

const year = int64(365 * 24 * 3600 * 1000)

// hubSim is a hub and its tablets sharing one "real" time; each tablet's wall clock is
// real time plus its own error.
type hubSim struct {
	real    int64
	hub     *Memory
	tablets []*skewTablet
}

type skewTablet struct {
	node  string
	skew  int64
	mem   *Memory
	acked uint64 // pushes send what the store still holds above this, as the SDK does
}

func newHubSim(skews []int64) *hubSim {
	s := &hubSim{real: 1_763_812_800_000}
	s.hub = NewMemory(func() int64 { return s.real }, DefaultMaxSkew.Milliseconds())
	for i, sk := range skews {
		tb := &skewTablet{node: fmt.Sprintf("tablet-%02d", i), skew: sk}
		sk := sk
		tb.mem = NewMemory(func() int64 { return s.real + sk }, DefaultMaxSkew.Milliseconds())
		s.tablets = append(s.tablets, tb)
	}
	return s
}

func (s *hubSim) write(t *rapid.T, tb *skewTablet, c Change) {
	if _, res, err := tb.mem.Write(tb.node, []Change{c}); err != nil || len(res.Rejected) > 0 {
		t.Fatalf("write: %v %+v", err, res.Rejected)
	}
}

// sync is one exchange as the sync client does it: push, take restamped copies, adopt
// hub time, pull everything.
func (s *hubSim) sync(t *rapid.T, tb *skewTablet) {
	outbox := tb.mem.OpsFrom(tb.node, tb.acked, 0)
	res, err := s.hub.Apply(outbox, ApplyOptions{Hub: true, OnlyNode: tb.node})
	if err != nil || len(res.Rejected) > 0 {
		t.Fatalf("push: %v %+v", err, res.Rejected)
	}
	if _, err := tb.mem.Apply(res.Restamped, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := len(outbox); n > 0 {
		tb.acked = outbox[n-1].Counter
	}
	tb.mem.Clock().Adopt(s.hub.Clock().Physical(), DefaultMaxSkew.Milliseconds())
	if _, err := tb.mem.Apply(s.hub.Ops(), ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := tb.mem.Purge(s.hub.Erased()); err != nil {
		t.Fatal(err)
	}
}

// A tablet a year ahead and one a year behind still sync and converge with the hub, and
// once the fast one has synced it does not win a conflict made after that.
func TestPropertySkewedClocksConverge(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(2, 20).Draw(t, "tablets")
		skews := make([]int64, n)
		skews[0], skews[1] = year, -year // the fast one and the slow one
		for i := 2; i < n; i++ {
			skews[i] = rapid.Int64Range(-10*60*1000, 10*60*1000).Draw(t, "skew")
		}
		s := newHubSim(skews)
		rounds := rapid.IntRange(1, 30).Draw(t, "rounds")
		for r := 0; r < rounds; r++ {
			s.real += rapid.Int64Range(1, 60_000).Draw(t, "tick")
			tb := s.tablets[rapid.IntRange(0, n-1).Draw(t, "who")]
			if rapid.Bool().Draw(t, "sync") {
				s.sync(t, tb)
			} else {
				s.write(t, tb, drawChange(t))
			}
		}
		fast, other := s.tablets[0], s.tablets[1+rapid.IntRange(0, n-2).Draw(t, "other")]
		s.sync(t, fast)
		s.sync(t, other) // its clock, too, is on hub time now (it may be the slow one)

		// After both synced, both edit one field; the other tablet edits later in real time.
		s.real += 1000
		s.write(t, fast, Change{schema.Engagement, simEngagement, schema.KindSet, "venue_name", "fast tablet's venue"})
		// Later by more than the skew the hub tolerates: within that window an HLC orders
		// edits by what each replica has seen, not by wall time (other tablets here run up
		// to 10 minutes fast, and the hub accepts ops up to 5 minutes ahead).
		s.real += DefaultMaxSkew.Milliseconds() + 60_000
		s.write(t, other, Change{schema.Engagement, simEngagement, schema.KindSet, "venue_name", "later edit"})
		order := []*skewTablet{fast, other}
		if rapid.Bool().Draw(t, "other-first") {
			order = []*skewTablet{other, fast}
		}
		for _, tb := range order {
			s.sync(t, tb)
		}
		for round := 0; round < 2; round++ { // the second round hears what the first pushed
			for _, tb := range s.tablets {
				s.sync(t, tb)
			}
		}
		want := s.hub.Hash()
		for _, tb := range s.tablets {
			if got := tb.mem.Hash(); got != want {
				logDiff(t, s.hub, tb.mem)
				t.Fatalf("%s (skew %d) hash %s, hub %s", tb.node, tb.skew, got, want)
			}
		}
		if st := s.hub.Record(RecordKey{schema.Engagement, simEngagement}); st != nil {
			if v, _ := st.FieldString("venue_name"); v != "later edit" {
				t.Fatalf("venue_name = %q: the fast tablet won a conflict made after it synced", v)
			}
		}
		// No op the hub holds is stamped beyond its skew bound.
		limit := s.hub.Clock().Physical() + DefaultMaxSkew.Milliseconds()
		for _, op := range s.hub.Ops() {
			if op.TS > limit {
				t.Fatalf("op %s stamped %d, beyond hub time %d", op.ID(), op.TS, limit)
			}
		}
	})
}
