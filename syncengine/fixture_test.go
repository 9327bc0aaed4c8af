package syncengine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fieldnotes/fieldnotes/schema"
)

var updateFixture = flag.Bool("update-fixture", false, "rewrite testdata/oplog/v1 (only when the format is deliberately versioned)")

// fixtureDir holds the op log of the first release. Later versions must keep reading it
// and reach the same state: it is never rewritten, only joined by v2, v3, ...
const fixtureDir = "../testdata/oplog/v1"

// fixtureOps is a day at a gurdwara and a market: two tablets, three languages, an
// interpreter switching language mid-conversation, a theme added and removed
// concurrently, a consent withdrawn (erasing its conversation), a record erased, and
// fields and a collection this release doesn't know.
func fixtureOps() []Op {
	const (
		eng  = "0193a4c2-0000-7000-8000-000000000001"
		p1   = "0193a4c2-0000-7000-8000-0000000000a1"
		p2   = "0193a4c2-0000-7000-8000-0000000000a2"
		c1   = "0193a4c2-0000-7000-8000-0000000000c1"
		c2   = "0193a4c2-0000-7000-8000-0000000000c2"
		v1   = "0193a4c2-0000-7000-8000-0000000000d1"
		v2   = "0193a4c2-0000-7000-8000-0000000000d2"
		v3   = "0193a4c2-0000-7000-8000-0000000000d3"
		unk  = "0193a4c2-0000-7000-8000-0000000000f1"
		tabA = "0193a4c2-aaaa-7000-8000-000000000001"
		tabB = "0193a4c2-bbbb-7000-8000-000000000002"
	)
	var ops []Op
	counters := map[string]uint64{}
	ts := int64(1_763_812_800_000)
	add := func(node, coll, rec, kind, field string, value any, observed ...string) {
		counters[node]++
		ts += 1000
		var raw json.RawMessage
		if value != nil {
			raw, _ = json.Marshal(value)
		}
		ops = append(ops, Op{Node: node, Counter: counters[node], TS: ts, Collection: coll, Record: rec, Kind: kind, Field: field, Value: raw, Observed: observed})
	}
	answer := func(text, pl, al, en string) map[string]any {
		return map[string]any{"text": text, "prompt_locale": pl, "answer_locale": al, "translation_en": en}
	}
	add(tabA, schema.Engagement, eng, "set", "title", "Health chat at the gurdwara")
	add(tabA, schema.Engagement, eng, "set", "team", "north")
	add(tabA, schema.Engagement, eng, "set", "venue_type", "place_of_worship")
	add(tabA, schema.Engagement, eng, "set", "area", "LS7")
	add(tabA, schema.Engagement, eng, "add", "languages", "pa")
	add(tabA, schema.Engagement, eng, "add", "languages", "ur")
	add(tabA, schema.Engagement, eng, "set", "prompt_set", "community_conversation")
	add(tabA, schema.Engagement, eng, "set", "prompt_set_version", 1)
	// A participant who speaks Punjabi, through an interpreter.
	add(tabA, schema.Participant, p1, "set", "engagement", eng)
	add(tabA, schema.Participant, p1, "set", "preferred_locale", "pa")
	add(tabA, schema.Participant, p1, "add", "communities", "Sikh")
	add(tabA, schema.Consent, c1, "set", "participant", p1)
	add(tabA, schema.Consent, c1, "set", "engagement", eng)
	add(tabA, schema.Consent, c1, "set", "statement_id", "fieldnotes_standard")
	add(tabA, schema.Consent, c1, "set", "statement_version", 1)
	add(tabA, schema.Consent, c1, "set", "statement_locale", "pa")
	add(tabA, schema.Consent, c1, "add", "scopes", "record_views")
	add(tabA, schema.Consent, c1, "add", "scopes", "equality_monitoring")
	add(tabA, schema.Consent, c1, "set", "method", "interpreter")
	add(tabA, schema.Consent, c1, "set", "interpreter", "Amrit")
	add(tabA, schema.Participant, p1, "set", "eq_religion", "sikh")
	add(tabA, schema.Conversation, v1, "set", "engagement", eng)
	add(tabA, schema.Conversation, v1, "set", "participant", p1)
	add(tabA, schema.Conversation, v1, "set", "consent", c1)
	add(tabA, schema.Conversation, v1, "add", "locales", "pa")
	add(tabA, schema.Conversation, v1, "set", "answer.what_works", answer("ਡਾਕਟਰ ਚੰਗੇ ਹਨ", "pa", "pa", "The doctors are good"))
	add(tabA, schema.Conversation, v1, "append", "language_switches", map[string]any{"at_prompt": "what_could_be_better", "from": "pa", "to": "en", "at": ts})
	add(tabA, schema.Conversation, v1, "add", "locales", "en")
	add(tabA, schema.Conversation, v1, "set", "answer.what_could_be_better", answer("Getting an appointment", "en", "en", ""))
	add(tabA, schema.Conversation, v1, "add", "themes", "booking_appointments")
	add(tabA, schema.Conversation, v1, "append", "notes", "Interpreter helped with the second half")
	add(tabA, schema.Conversation, v1, "set", "future_field", map[string]any{"added_in": "v9"})
	// A second tablet at the market: Urdu, then a withdrawal.
	add(tabB, schema.Participant, p2, "set", "engagement", eng)
	add(tabB, schema.Participant, p2, "set", "contact_phone", "07700 900123")
	add(tabB, schema.Consent, c2, "set", "participant", p2)
	add(tabB, schema.Consent, c2, "set", "engagement", eng)
	add(tabB, schema.Consent, c2, "add", "scopes", "record_views")
	add(tabB, schema.Consent, c2, "add", "scopes", "contact_for_feedback")
	add(tabB, schema.Conversation, v2, "set", "engagement", eng)
	add(tabB, schema.Conversation, v2, "set", "consent", c2)
	add(tabB, schema.Conversation, v2, "set", "answer.what_works", answer("فارمیسی قریب ہے", "ur", "ur", "The pharmacy is close"))
	add(tabB, schema.Consent, c2, "withdraw", "", map[string]any{"reason": "changed their mind"})
	// Concurrent add and remove of one theme: tablet B removes the add it saw, tablet A adds again.
	add(tabB, schema.Conversation, v1, "remove", "themes", "booking_appointments", tabA+":30")
	add(tabA, schema.Conversation, v1, "add", "themes", "booking_appointments")
	add(tabA, schema.Conversation, v1, "add", "themes", "transport")
	// A group conversation, later erased; and a collection this release doesn't know.
	add(tabB, schema.Conversation, v3, "set", "engagement", eng)
	add(tabB, schema.Conversation, v3, "set", "group_size", 6)
	add(tabB, schema.Conversation, v3, "erase", "", nil)
	add(tabB, "survey_photo", unk, "set", "caption", "Noticeboard")
	return ops
}

func TestOpLogFixtureV1(t *testing.T) {
	path := filepath.Join(fixtureDir, "ops.ndjson")
	if *updateFixture {
		var buf bytes.Buffer
		for _, op := range fixtureOps() {
			b, _ := json.Marshal(op)
			buf.Write(b)
			buf.WriteByte('\n')
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ops []Op
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		op, err := DecodeOp(sc.Bytes())
		if err != nil {
			t.Fatalf("line %d: %v", len(ops)+1, err)
		}
		ops = append(ops, op)
	}
	ctx := context.Background()
	s := MustOpen(t, fixedWall(t0))
	res, err := s.Apply(ctx, ops, ApplyOptions{Hub: true})
	if err != nil || len(res.Rejected) > 0 {
		t.Fatalf("v1 ops no longer apply: %v %+v", err, res.Rejected)
	}
	hash, n, err := s.StateHash(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	mem := NewMemory(fixedWall(t0), DefaultMaxSkew.Milliseconds())
	mem.Apply(ops, ApplyOptions{})
	if hash != mem.Hash() {
		t.Fatalf("store and memory disagree on v1: %s vs %s", hash, mem.Hash())
	}
	hashPath := filepath.Join(fixtureDir, "state.sha256")
	if *updateFixture {
		os.WriteFile(hashPath, []byte(hash+"\n"), 0o644)
	}
	want, err := os.ReadFile(hashPath)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(want)); got != hash {
		t.Fatalf("v1 op log now hashes to %s, was %s: a merge rule or the hash changed", hash, got)
	}

	get := func(coll, id string) Record {
		r, err := s.Get(ctx, RecordKey{coll, id})
		if err != nil {
			t.Fatalf("%s/%s: %v", coll, id, err)
		}
		return r
	}
	v1 := get(schema.Conversation, "0193a4c2-0000-7000-8000-0000000000d1")
	if got := string(v1.Fields["themes"]); got != `["booking_appointments","transport"]` {
		t.Errorf("themes = %s: the concurrent add should win over the remove", got)
	}
	if got := string(v1.Fields["future_field"]); got != `{"added_in":"v9"}` {
		t.Errorf("unknown field = %s", got)
	}
	if !get(schema.Conversation, "0193a4c2-0000-7000-8000-0000000000d2").Erased {
		t.Error("the conversation under the withdrawn consent is not erased")
	}
	if _, ok := get(schema.Participant, "0193a4c2-0000-7000-8000-0000000000a2").Fields["contact_phone"]; ok {
		t.Error("the withdrawn participant's phone number survived")
	}
	if !get(schema.Consent, "0193a4c2-0000-7000-8000-0000000000c2").Withdrawn {
		t.Error("the consent is not withdrawn")
	}
	if !get(schema.Conversation, "0193a4c2-0000-7000-8000-0000000000d3").Erased {
		t.Error("the erased group conversation is back")
	}
	if got := string(get("survey_photo", "0193a4c2-0000-7000-8000-0000000000f1").Fields["caption"]); got != `"Noticeboard"` {
		t.Errorf("unknown collection caption = %s", got)
	}
	if n != 7 {
		t.Errorf("live records = %d, want 7", n)
	}
}
