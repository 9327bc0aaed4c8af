package syncengine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fieldnotes/fieldnotes/schema"
	"pgregory.net/rapid"
)

// MustOpen opens a store in a temp dir with an injectable wall clock.
func MustOpen(tb testing.TB, wall func() int64) *Store {
	tb.Helper()
	s, err := Open(filepath.Join(tb.TempDir(), "replica.db"), Options{Now: wall})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func fixedWall(start int64) func() int64 {
	t := start
	return func() int64 { t++; return t }
}

const t0 = 1_763_812_800_000

func TestStoreWriteAndRead(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t, fixedWall(t0))
	if err := s.SetIdentity(ctx, "tablet-1", "team-a"); err != nil {
		t.Fatal(err)
	}
	eng, conv := simEngagement, simConvs[0]
	ops, res, err := s.Write(ctx, []Change{
		{schema.Engagement, eng, schema.KindSet, "title", "Market day"},
		{schema.Engagement, eng, schema.KindSet, "team", "team-a"},
		{schema.Conversation, conv, schema.KindSet, "engagement", eng},
		{schema.Conversation, conv, schema.KindAdd, "themes", "transport"},
		{schema.Conversation, conv, schema.KindAdd, "themes", "language"},
		{schema.Conversation, conv, schema.KindAppend, "notes", "first"},
	}, ApplyOptions{Team: "team-a"})
	if err != nil || res.Accepted != 6 {
		t.Fatalf("write: %v %+v", err, res)
	}
	if ops[0].Counter != 1 || ops[5].Counter != 6 {
		t.Fatalf("counters %d..%d", ops[0].Counter, ops[5].Counter)
	}
	if _, _, err := s.Write(ctx, []Change{{schema.Conversation, conv, schema.KindRemove, "themes", "transport"}}, ApplyOptions{Team: "team-a"}); err != nil {
		t.Fatal(err)
	}
	r, err := s.Get(ctx, RecordKey{schema.Conversation, conv})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(r.Fields["themes"]); got != `["language"]` {
		t.Fatalf("themes = %s", got)
	}
	if r.Team != "team-a" {
		t.Fatalf("team = %q", r.Team)
	}

	t.Run("ErrRejectedStoresNothing", func(t *testing.T) {
		before, _ := s.CountOps(ctx)
		_, _, err := s.Write(ctx, []Change{
			{schema.Conversation, conv, schema.KindAppend, "notes", "second"},
			{schema.Engagement, eng, schema.KindSet, "venue_type", "spaceship"},
		}, ApplyOptions{})
		var rej *RejectedError
		if !asErr(err, &rej) || rej.Rejected[0].Code != schema.CodeInvalidEnum {
			t.Fatalf("err = %v", err)
		}
		after, _ := s.CountOps(ctx)
		if after != before {
			t.Fatalf("ops %d -> %d after a rejected batch", before, after)
		}
		// and the counter was not used up
		ops, _, err := s.Write(ctx, []Change{{schema.Conversation, conv, schema.KindAppend, "notes", "third"}}, ApplyOptions{})
		if err != nil || ops[0].Counter != 8 {
			t.Fatalf("counter after rollback = %d, %v", ops[0].Counter, err)
		}
	})

	t.Run("PullMatchesHash", func(t *testing.T) {
		hub := MustOpen(t, fixedWall(t0+1000))
		all, err := s.OpsFrom(ctx, "tablet-1", 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := hub.Apply(ctx, all, ApplyOptions{Hub: true, Teams: []string{"team-a"}, Team: "team-a", OnlyNode: "tablet-1"}); err != nil {
			t.Fatal(err)
		}
		fresh := MustOpen(t, fixedWall(t0))
		var cursor int64
		for {
			page, err := hub.Pull(ctx, []string{"team-a"}, cursor, 3)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := fresh.Apply(ctx, page.Ops, ApplyOptions{Team: "team-a"}); err != nil {
				t.Fatal(err)
			}
			cursor = page.Cursor
			if !page.More {
				break
			}
		}
		h1, n1, _ := s.StateHash(ctx, nil)
		h2, n2, _ := hub.StateHash(ctx, []string{"team-a"})
		h3, n3, _ := fresh.StateHash(ctx, nil)
		if h1 != h2 || h2 != h3 || n1 != 2 || n2 != n1 || n3 != n1 {
			t.Fatalf("hashes %s/%d %s/%d %s/%d", h1, n1, h2, n2, h3, n3)
		}
		if h, _, _ := hub.StateHash(ctx, []string{"team-b"}); h == h2 {
			t.Fatal("another team's hash should differ")
		}
	})
	t.Run("WriteAsKeepsEachNodesCounter", func(t *testing.T) {
		// The hub numbers another node's ops above ForeignCounterBase, clear of the
		// counters that node's own client uses.
		for i, want := range []uint64{ForeignCounterBase + 1, ForeignCounterBase + 2} {
			ops, _, err := s.WriteAs(ctx, "coordinator-7", []Change{{schema.Conversation, conv, schema.KindAppend, "notes", fmt.Sprint("from the office ", i)}}, ApplyOptions{})
			if err != nil || ops[0].Counter != want || ops[0].Node != "coordinator-7" {
				t.Fatalf("WriteAs #%d: %+v %v", i, ops, err)
			}
		}
		ops, _, err := s.Write(ctx, []Change{{schema.Conversation, conv, schema.KindAppend, "notes", "tablet again"}}, ApplyOptions{})
		if err != nil || ops[0].Counter != 9 || ops[0].Node != "tablet-1" {
			t.Fatalf("own counter after WriteAs: %+v %v", ops, err)
		}
	})
	t.Run("WriteAsNeverCollidesWithTheNodesOwnClient", func(t *testing.T) {
		// coordinator-8's own client numbers its ops from 1 and pushes them; the hub writes
		// for coordinator-8 too, before and after. Every op lands; none is refused.
		client := func(counter uint64, text string) Op {
			return Op{Node: "coordinator-8", Counter: counter, TS: t0 + 100, Collection: schema.Conversation, Record: conv, Kind: schema.KindAppend, Field: "notes", Value: json.RawMessage(fmt.Sprintf("%q", text))}
		}
		hubWrite := func(text string) Op {
			ops, _, err := s.WriteAs(ctx, "coordinator-8", []Change{{schema.Conversation, conv, schema.KindAppend, "notes", text}}, ApplyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return ops[0]
		}
		first := hubWrite("console 1")
		res, err := s.Apply(ctx, []Op{client(1, "client 1"), client(2, "client 2")}, ApplyOptions{Hub: true, OnlyNode: "coordinator-8"})
		if err != nil || res.Accepted != 2 || len(res.Rejected) != 0 {
			t.Fatalf("client push: %+v %v", res, err)
		}
		second := hubWrite("console 2")
		if second.Counter != first.Counter+1 || first.Counter <= ForeignCounterBase {
			t.Fatalf("hub counters %d, %d", first.Counter, second.Counter)
		}
		// A client that strays into the hub's range pushes the hub's counter past it.
		res, _ = s.Apply(ctx, []Op{client(second.Counter+10, "stray")}, ApplyOptions{Hub: true})
		if res.Accepted != 1 {
			t.Fatalf("stray: %+v", res)
		}
		if third := hubWrite("console 3"); third.Counter != second.Counter+11 {
			t.Fatalf("after a stray client op the hub wrote counter %d", third.Counter)
		}
	})
}

func asErr[T error](err error, target *T) bool {
	e, ok := err.(T)
	if ok {
		*target = e
	}
	return ok
}

// The store merges exactly like the in-memory replica, whatever the batching.
func TestPropertyStoreMatchesMemory(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		reps := make([]*simReplica, rapid.IntRange(2, 6).Draw(rt, "replicas"))
		for i := range reps {
			reps[i] = newSimReplica(i, 0)
		}
		byNode := simulate(rt, reps)
		mem := newSimReplica(100, 0)
		deliver(rt, "mem", byNode, mustApply(rt, mem.mem))
		s := MustOpen(t, fixedWall(t0))
		deliver(rt, "sql", byNode, func(ops []Op) {
			res, err := s.Apply(context.Background(), ops, ApplyOptions{})
			if err != nil || len(res.Rejected) > 0 {
				rt.Fatalf("apply: %v %+v", err, res.Rejected)
			}
		})
		h, _, err := s.StateHash(context.Background(), nil)
		if err != nil {
			rt.Fatal(err)
		}
		if want := mem.mem.Hash(); h != want {
			rt.Fatalf("store hash %s, memory %s", h, want)
		}
		// What each node would push (the fleet properties use Memory's OpsFrom) is the same,
		// but for the ops that prove an erasure: one that arrives after its record was
		// erased is discarded, so which of those a replica holds depends on the order.
		gone := erasedKeys(byNode)
		for node := range byNode {
			got, err := s.OpsFrom(context.Background(), node, 0, 1<<20)
			if err != nil {
				rt.Fatal(err)
			}
			outbox := func(ops []Op) map[string]Op {
				m := map[string]Op{}
				for _, o := range ops {
					if !(gone[o.Key()] && KeptOnErase(&o)) {
						m[o.ID()] = o
					}
				}
				return m
			}
			a, b := outbox(got), outbox(mem.mem.OpsFrom(node, 0, 0))
			if len(a) != len(b) {
				rt.Fatalf("%s: store would push %d ops, memory %d", node, len(a), len(b))
			}
			for id, o := range a {
				if m, ok := b[id]; !ok || !sameChange(&o, &m) {
					rt.Fatalf("%s: store would push %s, memory not", node, id)
				}
			}
		}
		// Erased records' ops are purged from the log, but for those that say why.
		for k := range erasedKeys(byNode) {
			hist, _ := s.History(context.Background(), k)
			for _, op := range hist {
				if !KeptOnErase(&op) {
					rt.Fatalf("erased %v still has op %s (%s %s)", k, op.ID(), op.Kind, op.Field)
				}
			}
		}
	})
}

// A value must reach a tablet byte for byte as the hub stored it, through encoding/json.
func TestValueSurvivesTheWire(t *testing.T) {
	for _, v := range []string{`"<b>Tom & Jerry</b>"`, `"line\u2028sep"`, "\"ਡਾਕਟਰ \u2029\"", `{"text":"a < b","n":1}`, `[1, 2,  "x"]`} {
		op := Op{Node: "n", Counter: 1, TS: t0, Collection: "conversation", Record: simConvs[0], Kind: "set", Field: "x", Value: json.RawMessage(v)}
		if err := op.Validate(); err != nil {
			t.Fatal(err)
		}
		wire, _ := json.Marshal(PullResponse{Ops: []Op{op}})
		var got PullResponse
		if err := json.Unmarshal(wire, &got); err != nil {
			t.Fatal(err)
		}
		if string(got.Ops[0].Value) != string(op.Value) {
			t.Errorf("%s: stored %s, arrives as %s", v, op.Value, got.Ops[0].Value)
		}
	}
}

func TestValueCanonical(t *testing.T) {
	op := Op{Node: "n", Counter: 1, TS: t0, Collection: "conversation", Record: simConvs[0], Kind: "set", Field: "x", Value: json.RawMessage(` {"b": 1, "a": "<&>"} `)}
	if err := op.Validate(); err != nil {
		t.Fatal(err)
	}
	if string(op.Value) != `{"b":1,"a":"\u003c\u0026\u003e"}` {
		t.Fatalf("canonical = %s", op.Value)
	}
}

// The writer leaves checkpoints to the background checkpointer: committed pages still
// reach the database file, so the WAL doesn't grow without end.
func TestCheckpointerCopiesTheWALBack(t *testing.T) {
	// The hub checkpoints after every commit, a tablet after every 64: 100 commits reach
	// both, and the writer never checkpoints itself.
	for name, opt := range map[string]Options{"Hub": Hub(Options{}), "Tablet": Tablet(Options{})} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "replica.db")
			s, err := Open(path, opt)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			start, _ := os.Stat(path)
			for i := 0; i < 100; i++ {
				ops := workload(10)
				for j := range ops {
					ops[j].Node = fmt.Sprintf("tablet-%02d", i) // each batch new ops, not a reuse of the last one's ids
				}
				res, err := s.Apply(ctx, ops, ApplyOptions{Hub: true})
				if err != nil || len(res.Rejected) > 0 {
					t.Fatal(err, res.Rejected)
				}
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Size() > start.Size()+256<<10 {
					return // pages were copied from the WAL into the database file
				}
				if time.Now().After(deadline) {
					t.Fatalf("database file still %d bytes: nothing checkpointed", fi.Size())
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// After an erasure the text is gone from the files themselves, not just from queries:
// freed pages are zeroed (secure_delete) and the WAL is truncated, so a seized tablet or
// a copied server file doesn't hold what a withdrawn participant said.
func TestErasedTextLeavesTheFiles(t *testing.T) {
	ctx := context.Background()
	for _, opt := range []Options{{}, Hub(Options{})} {
		dir := t.TempDir()
		path := filepath.Join(dir, "replica.db")
		s, err := Open(path, opt)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetIdentity(ctx, "tablet-1", "team-a"); err != nil {
			t.Fatal(err)
		}
		const secret = "my-neighbour-Zofia-told-me-about-her-diagnosis"
		conv, consent := simConvs[0], simConsents[0]
		if _, _, err := s.Write(ctx, []Change{
			{schema.Conversation, conv, schema.KindSet, "consent", consent},
			{schema.Conversation, conv, schema.KindSet, "answer.what_works", map[string]any{"text": secret, "prompt_locale": "pl", "answer_locale": "pl"}},
			{schema.Conversation, conv, schema.KindAppend, "notes", secret + " (note)"},
		}, ApplyOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Write(ctx, []Change{{schema.Consent, consent, schema.KindWithdraw, "", nil}}, ApplyOptions{}); err != nil {
			t.Fatal(err)
		}
		if r, err := s.Get(ctx, RecordKey{schema.Conversation, conv}); err != nil || !r.Erased {
			t.Fatalf("conversation not erased: %+v %v", r, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), "Zofia") {
				t.Errorf("page size %d: %s still holds the erased text", opt.PageSize, e.Name())
			}
		}
	}
}

// On the hub a pull may hold an old snapshot while a withdrawal commits, which keeps a
// checkpoint from completing. Once the reader lets go, the checkpointer finishes the
// scrub, with the store still open: the text leaves the database file and the WAL.
func TestHubScrubsAfterAReaderLetsGo(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(filepath.Join(dir, "replica.db"), Hub(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const secret = "Zofia-said-the-clinic-lost-her-letter"
	conv, consent := simConvs[0], simConsents[0]
	if _, _, err := s.WriteAs(ctx, "tablet-1", []Change{
		{schema.Conversation, conv, schema.KindSet, "consent", consent},
		{schema.Conversation, conv, schema.KindSet, "answer.what_works", map[string]any{"text": secret, "prompt_locale": "pl", "answer_locale": "pl"}},
	}, ApplyOptions{Hub: true}); err != nil {
		t.Fatal(err)
	}
	// A long pull: a read transaction open across the withdrawal.
	rx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := rx.QueryRow(`SELECT count(*) FROM ops`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.WriteAs(ctx, "coordinator-1", []Change{{schema.Consent, consent, schema.KindWithdraw, "", nil}}, ApplyOptions{Hub: true}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	rx.Rollback()
	holds := func() []string {
		var out []string
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil && strings.Contains(string(b), "Zofia") {
				out = append(out, e.Name())
			}
		}
		return out
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		files := holds()
		if len(files) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("with the store open, %v still hold the erased text", files)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
