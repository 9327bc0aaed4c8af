package syncengine

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"testing"

	"github.com/fieldnotes/fieldnotes/schema"
)

// TestBigBatchMatchesSmallBatches: a batch big enough to be validated on several
// goroutines (validateAll) and to have its records encoded on several (encodeRecords),
// with links from many records to a few consents, the same link made twice in one batch,
// withdrawals and erasures among them, leaves the state Memory and small batches leave.
// Run with -race: the property tests never reach these sizes.
func TestBigBatchMatchesSmallBatches(t *testing.T) {
	ctx := context.Background()
	id := func(kind, i int) string { return fmt.Sprintf("01900000-0000-7000-8000-%04d%08d", kind, i) }
	for seed := int64(1); seed <= 2; seed++ {
		rng := rand.New(rand.NewSource(seed))
		var ops []Op
		counter := uint64(0)
		add := func(coll, rec, kind, field string, v any) {
			counter++
			op := Op{Node: "node-01", Counter: counter, TS: t0 + int64(rng.Intn(100_000)), Collection: coll, Record: rec, Kind: kind, Field: field}
			if v != nil {
				op.Value, _ = json.Marshal(v)
			}
			ops = append(ops, op)
		}
		const convs, consents = 500, 12
		for i := 0; i < consents; i++ {
			add(schema.Consent, id(2, i), schema.KindSet, "participant", id(3, i%5))
			add(schema.Consent, id(2, i), schema.KindAdd, "scopes", schema.ConsentScopes[0])
		}
		for i := 0; i < 5; i++ {
			add(schema.Participant, id(3, i), schema.KindSet, "contact_email", fmt.Sprintf("p%d@example.org", i))
		}
		for i := 0; i < convs; i++ {
			c := id(1, i)
			add(schema.Conversation, c, schema.KindSet, "consent", id(2, i%consents))
			add(schema.Conversation, c, schema.KindSet, "interpreter", "Amrit")
			add(schema.Conversation, c, schema.KindAdd, "themes", "transport")
			add(schema.Conversation, c, schema.KindAppend, "notes", fmt.Sprintf("note %d", i))
			if i%2 == 0 { // an object: decoded (segmentio) on the validating goroutines
				add(schema.Conversation, c, schema.KindSet, "answer.what_works", map[string]any{"text": "the bus", "prompt_locale": "pa", "answer_locale": "pa", "translation_en": "bus"})
			}
			if i%3 == 0 { // the same link again, under another op
				add(schema.Conversation, c, schema.KindSet, "consent", id(2, i%consents))
			}
			if i%50 == 7 {
				add(schema.Conversation, c, schema.KindErase, "", nil)
			}
		}
		for i := 0; i < 3; i++ {
			add(schema.Consent, id(2, i), schema.KindWithdraw, "", nil)
		}
		rng.Shuffle(len(ops), func(i, j int) { ops[i], ops[j] = ops[j], ops[i] })
		ops = append(ops, ops[:40]...) // duplicates in the same batch
		if len(ops) < 2048 {
			t.Fatalf("%d ops: too few to be validated on two goroutines", len(ops))
		}

		mem := NewMemory(fixedWall(t0+1_000_000), DefaultMaxSkew.Milliseconds())
		if res, err := mem.Apply(append([]Op(nil), ops...), ApplyOptions{}); err != nil || len(res.Rejected) > 0 {
			t.Fatalf("memory: %v %+v", err, res.Rejected)
		}
		big := MustOpen(t, fixedWall(t0+1_000_000))
		if res, err := big.Apply(ctx, ops, ApplyOptions{}); err != nil || len(res.Rejected) > 0 {
			t.Fatalf("one batch: %v %+v", err, res.Rejected)
		}
		small := MustOpen(t, fixedWall(t0+1_000_000))
		for start := 0; start < len(ops); start += 7 {
			if res, err := small.Apply(ctx, ops[start:min(start+7, len(ops))], ApplyOptions{}); err != nil || len(res.Rejected) > 0 {
				t.Fatalf("small batches: %v %+v", err, res.Rejected)
			}
		}
		hb, nb, err := big.StateHash(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		hs, ns, err := small.StateHash(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if hb != hs || nb != ns || hb != mem.Hash() {
			t.Fatalf("seed %d: one batch %s/%d, small batches %s/%d, memory %s", seed, hb, nb, hs, ns, mem.Hash())
		}
		cb, _ := big.CountOps(ctx)
		cs, _ := small.CountOps(ctx)
		if cb != cs {
			t.Fatalf("seed %d: one batch holds %d ops, small batches %d", seed, cb, cs)
		}
	}
}
