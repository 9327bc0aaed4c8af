package syncengine

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/fieldnotes/fieldnotes/schema"
)

// One (node, counter), one op: the same op again is a duplicate, whatever its stamp (the
// hub may have restamped its copy); another body under that identity is refused with
// op_id_reused and the stored value stays.
func TestOpIDReused(t *testing.T) {
	conv := simConvs[0]
	first := Op{Node: "coord-1", Counter: 7, TS: t0, Collection: schema.Conversation, Record: conv, Kind: schema.KindSet, Field: "interpreter", Value: json.RawMessage(`"Amrit"`)}
	cases := []struct {
		name   string
		change func(*Op)
		reused bool
	}{
		{"SameOpIsDuplicate", func(*Op) {}, false},
		{"SameBodyOtherStampIsDuplicate", func(o *Op) { o.TS += 1000; o.TC = 3 }, false},
		{"SameValueWrittenDifferentlyIsDuplicate", func(o *Op) { o.Value = json.RawMessage(` "Amrit" `) }, false},
		{"ErrOtherValue", func(o *Op) { o.Value = json.RawMessage(`"Fatima"`) }, true},
		{"ErrOtherField", func(o *Op) { o.Field = "group_size"; o.Value = json.RawMessage(`3`) }, true},
		{"ErrOtherRecord", func(o *Op) { o.Record = simConvs[1] }, true},
		{"ErrOtherKind", func(o *Op) { o.Kind = schema.KindDelete; o.Field, o.Value = "", nil }, true},
	}
	type replica struct {
		name  string
		apply func(t *testing.T, ops []Op) Result
		get   func(k RecordKey) map[string]json.RawMessage
	}
	for _, c := range cases {
		mem := NewMemory(fixedWall(t0), DefaultMaxSkew.Milliseconds())
		st := MustOpen(t, fixedWall(t0))
		replicas := []replica{
			{"Memory", func(t *testing.T, ops []Op) Result {
				res, err := mem.Apply(ops, ApplyOptions{Hub: true})
				if err != nil {
					t.Fatal(err)
				}
				return res
			}, func(k RecordKey) map[string]json.RawMessage {
				if s := mem.Record(k); s != nil {
					return s.View()
				}
				return nil
			}},
			{"Store", func(t *testing.T, ops []Op) Result {
				res, err := st.Apply(context.Background(), ops, ApplyOptions{Hub: true})
				if err != nil {
					t.Fatal(err)
				}
				return res
			}, func(k RecordKey) map[string]json.RawMessage {
				r, err := st.Get(context.Background(), k)
				if err != nil {
					return nil
				}
				return r.Fields
			}},
		}
		for _, rp := range replicas {
			t.Run(c.name+"/"+rp.name, func(t *testing.T) {
				if res := rp.apply(t, []Op{first}); res.Accepted != 1 {
					t.Fatalf("first: %+v", res)
				}
				again := first
				c.change(&again)
				// Alone, and within a batch of other ops (the prefetched path).
				batch := []Op{again}
				for i := 0; i < 20; i++ {
					batch = append(batch, Op{Node: "coord-2", Counter: uint64(i + 1), TS: t0 + 1, Collection: schema.Conversation, Record: simConvs[2], Kind: schema.KindAppend, Field: "notes", Value: json.RawMessage(`"n"`)})
				}
				for _, ops := range [][]Op{batch[:1], batch} {
					res := rp.apply(t, ops)
					switch {
					case c.reused && (len(res.Rejected) != 1 || res.Rejected[0].Code != CodeOpIDReused || res.Rejected[0].Counter != 7):
						t.Fatalf("want op_id_reused, got %+v", res)
					case !c.reused && (res.Duplicates < 1 || len(res.Rejected) != 0):
						t.Fatalf("want a duplicate, got %+v", res)
					}
				}
				if v := rp.get(first.Key())["interpreter"]; string(v) != `"Amrit"` {
					t.Fatalf("stored interpreter = %s, want the first op's", v)
				}
				if c.name == "ErrOtherRecord" && rp.get(RecordKey{schema.Conversation, simConvs[1]}) != nil {
					t.Fatal("the refused op made a record")
				}
			})
		}
	}
}

// Two ops with one identity in one batch: the first is taken, the second refused.
func TestOpIDReusedInOneBatch(t *testing.T) {
	a := Op{Node: "coord-1", Counter: 1, TS: t0, Collection: schema.Conversation, Record: simConvs[0], Kind: schema.KindSet, Field: "interpreter", Value: json.RawMessage(`"Amrit"`)}
	b := a
	b.Value = json.RawMessage(`"Ion"`)
	st := MustOpen(t, fixedWall(t0))
	res, err := st.Apply(context.Background(), []Op{a, a, b}, ApplyOptions{Hub: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 1 || res.Duplicates != 1 || len(res.Rejected) != 1 || res.Rejected[0].Code != CodeOpIDReused {
		t.Fatalf("%+v", res)
	}
}

// A node's ops in one batch in falling counter order, then one of them again: still a
// duplicate (the store's per-node top counter must count the batch's own ops).
func TestDuplicateAfterOpsInFallingOrder(t *testing.T) {
	st := MustOpen(t, fixedWall(t0))
	op := func(counter uint64, conv string) Op {
		return Op{Node: "node-02", Counter: counter, TS: t0, Collection: schema.Conversation, Record: conv, Kind: schema.KindDelete}
	}
	ctx := context.Background()
	if res, err := st.Apply(ctx, []Op{op(2, simConvs[0]), op(1, simConvs[1])}, ApplyOptions{}); err != nil || res.Accepted != 2 {
		t.Fatalf("%+v %v", res, err)
	}
	res, err := st.Apply(ctx, []Op{op(2, simConvs[0])}, ApplyOptions{})
	if err != nil || res.Duplicates != 1 {
		t.Fatalf("the same op again: %+v %v", res, err)
	}
}
