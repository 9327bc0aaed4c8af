package app

import (
	"context"
	"encoding/json"
	"io"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/auth"
	"github.com/fieldnotes/fieldnotes/server/feedback"
	"github.com/fieldnotes/fieldnotes/server/reports"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

// The demo's field data is a function of the day it is seeded: the same day, the same
// changes (ids included).
func TestDemoDataDeterministic(t *testing.T) {
	now := time.Date(2026, 11, 30, 15, 4, 5, 0, time.UTC)
	gen := func(at time.Time) []syncengine.Change {
		d := newDemoData(at)
		var out []syncengine.Change
		for _, e := range d.engagements {
			out = append(out, d.engagementChanges(e)...)
			for k := 0; k < e.n; k++ {
				c, _ := d.conversationChanges(e, k, 0)
				out = append(out, c...)
			}
		}
		return out
	}
	a, b := gen(now), gen(now.Add(3*time.Hour))
	if len(a) < 5000 {
		t.Fatalf("only %d changes", len(a))
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Fatal("two seedings on the same day differ")
	}
	if c := gen(now.AddDate(0, 0, 1)); reflect.DeepEqual(c[0], a[0]) {
		t.Error("the next day's demo has the same engagement ids")
	}
	for _, ch := range a { // every change is one the protocol accepts
		if f, ok := schema.Lookup(ch.Collection, ch.Field); ok && ch.Kind == schema.KindSet && f.Type == schema.Enum {
			if s, _ := ch.Value.(string); !slices.Contains(f.Values, s) {
				t.Fatalf("%s.%s = %v: not one of %v", ch.Collection, ch.Field, ch.Value, f.Values)
			}
		}
	}
}

// TestDemoSeed seeds a data directory and checks the demo is what reports need: many
// engagements at different venues, conversations in several languages that survive
// disclosure control as numbers, withdrawals, decisions with summaries in several
// languages, queued and sent feedback, published engagements with picked quotes.
func TestDemoSeed(t *testing.T) {
	cfg, err := ParseConfig([]string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--demo", "--log-level", "error"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Argon2 = auth.TestArgon2
	in, err := Start(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Shutdown(context.Background())
	ctx := context.Background()
	st := in.Store
	rs := &reports.Service{Index: reports.NewIndex(st)}
	teams := []string{demoTeam}

	venues := map[string]bool{}
	rep, err := rs.Participation(ctx, reports.Query{GroupBy: reports.ByVenueType, Teams: teams})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Rows {
		if r.Participants != nil && *r.Participants > 0 {
			venues[r.Group] = true
		}
	}
	for _, v := range []string{"cafe", "place_of_worship", "market", "community_centre", "library"} {
		if !venues[v] {
			t.Errorf("no published participants at a %s: %+v", v, rep.Rows)
		}
	}
	if p := rep.Total.Participants; p == nil || *p < 250 {
		t.Errorf("total participants %v", rep.Total.Participants)
	}
	byLang, err := rs.Participation(ctx, reports.Query{GroupBy: reports.ByLanguage, Teams: teams})
	if err != nil {
		t.Fatal(err)
	}
	shown := 0
	for _, r := range byLang.Rows {
		if !r.Suppressed {
			shown++
		}
	}
	if shown < 6 {
		t.Errorf("only %d languages published: %+v", shown, byLang.Rows)
	}

	var withdrawn, quoted, picked, rejected, approved int
	st.Scan(ctx, schema.Consent, teams, func(r syncengine.Record) error {
		if r.Withdrawn {
			withdrawn++
		}
		var scopes []string
		json.Unmarshal(r.Fields["scopes"], &scopes)
		if slices.Contains(scopes, schema.ScopeQuote) {
			quoted++
		}
		return nil
	})
	st.Scan(ctx, schema.Conversation, teams, func(r syncengine.Record) error {
		if _, ok := r.Fields["public_quote"]; ok {
			picked++
		}
		switch string(r.Fields["review_state"]) {
		case `"rejected"`:
			rejected++
		case `"approved"`:
			approved++
		}
		return nil
	})
	if withdrawn != 2 || quoted < 100 || picked < 3 || rejected != 2 || approved < 150 {
		t.Errorf("withdrawn %d, quote consents %d, picked quotes %d, rejected %d, approved %d", withdrawn, quoted, picked, rejected, approved)
	}

	fs := &feedback.Service{Replica: st, Index: rs.Index}
	langs := map[string]bool{}
	decisions := 0
	st.Scan(ctx, schema.Decision, teams, func(r syncengine.Record) error {
		d := feedback.DecisionOf(r)
		decisions++
		for l := range d.Summary {
			langs[l] = true
		}
		if len(d.Conversations) == 0 {
			t.Errorf("decision %q links no conversations", d.Title)
		}
		if _, ok := r.Fields["progress"]; !ok {
			t.Errorf("decision %q has no progress", d.Title)
		}
		return nil
	})
	if decisions != 6 || len(langs) < 7 {
		t.Errorf("%d decisions, summaries in %v", decisions, langs)
	}
	items, err := fs.List(ctx, teams, "")
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]int{}
	locs := map[string]bool{}
	for _, it := range items {
		status[it.Status]++
		locs[it.Locale] = true
	}
	if status["queued"] == 0 || status["sent"] == 0 || len(locs) < 4 {
		t.Errorf("feedback statuses %v in languages %v", status, locs)
	}
}
