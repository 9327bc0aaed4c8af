package syncengine

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
)

// TestApplyGroupMatchesApply: a group commit gives each batch the result it would get
// applied alone, in order, and the same state.
func TestApplyGroupMatchesApply(t *testing.T) {
	ctx := context.Background()
	open := func() *Store {
		s, err := Open(filepath.Join(t.TempDir(), "r.db"), Options{Now: func() int64 { return 1_800_000_000_000 }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	id := func(i int) string { return fmt.Sprintf("01900000-0000-7000-8000-%012d", i) }
	set := func(node string, c uint64, coll, rec, field string, v any) Op {
		b, _ := json.Marshal(v)
		return Op{Node: node, Counter: c, TS: 1_800_000_000_000 + int64(c), Collection: coll, Record: rec, Kind: "set", Field: field, Value: b}
	}
	north := ApplyOptions{Hub: true, Teams: []string{"north"}, Team: "north", OnlyNode: "a"}
	south := ApplyOptions{Hub: true, Teams: []string{"south"}, Team: "south", OnlyNode: "b"}
	var batches []Batch
	batches = append(batches, Batch{Opt: north, Ops: []Op{set("a", 1, "engagement", id(1), "team", "north")}})
	var big []Op
	for i := 0; i < 30; i++ {
		big = append(big, set("a", uint64(2+i), "conversation", id(100+i), "engagement", id(1)))
	}
	batches = append(batches, Batch{Opt: north, Ops: big})
	batches = append(batches, Batch{Opt: south, Ops: []Op{
		set("b", 1, "engagement", id(2), "team", "south"),
		set("b", 2, "engagement", id(1), "title", "not ours"), // out of scope
		set("a", 99, "engagement", id(2), "title", "forged"),  // not own node
	}})
	batches = append(batches, Batch{Opt: north, Ops: big[:5]}) // duplicates within the group
	batches = append(batches, Batch{Opt: north, Ops: []Op{set("a", 50, "engagement", id(1), "venue_type", "spaceship")}})

	one, group := open(), open()
	var want []Result
	for _, b := range batches {
		r, err := one.Apply(ctx, b.Ops, b.Opt)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, r)
	}
	got, err := group.ApplyGroup(ctx, batches)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		w, _ := json.Marshal(want[i])
		g, _ := json.Marshal(got[i])
		if string(w) != string(g) {
			t.Errorf("batch %d: group %s, alone %s", i, g, w)
		}
	}
	h1, n1, _ := one.StateHash(ctx, nil)
	h2, n2, _ := group.StateHash(ctx, nil)
	if h1 != h2 || n1 != n2 {
		t.Fatalf("state %s/%d vs %s/%d", h1, n1, h2, n2)
	}
	m1, _ := one.MaxSeq(ctx)
	m2, _ := group.MaxSeq(ctx)
	if m1 != m2 {
		t.Fatalf("MaxSeq %d vs %d", m1, m2)
	}
}
