package reports

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/disclosure"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

// benchVersion keys the cached 1M-op fixture; bump it when the fixture changes.
const benchVersion = "v1"

const (
	benchConversations = 200_000
	benchParticipants  = 25_000
	benchEngagements   = 20
)

// benchStore opens the 1M-op store, building it once under os.TempDir (about a minute;
// later runs reuse it). Ops: 20 engagements, 25,000 participants (3 ops), 25,000
// consents (3 ops), 200,000 conversations (4 ops, half with a theme): ≈1.05M ops.
func benchStore(b *testing.B) *syncengine.Store {
	b.Helper()
	dir := filepath.Join(os.TempDir(), "fieldnotes-reports-bench-"+benchVersion)
	path := filepath.Join(dir, "replica.db")
	done := filepath.Join(dir, "done")
	if _, err := os.Stat(done); err != nil {
		os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		buildBenchStore(b, path)
		if err := os.WriteFile(done, nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	st, err := syncengine.Open(path, syncengine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

func buildBenchStore(b *testing.B, path string) {
	st, err := syncengine.Open(path, syncengine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	id := func(kind, n int) string { return fmt.Sprintf("00000000-0000-7000-8%03d-%012d", kind, n) }
	var counter uint64
	ts := int64(1_763_812_800_000)
	var ops []syncengine.Op
	op := func(coll, rec, kind, field string, v any) {
		raw, _ := json.Marshal(v)
		counter++
		ts++
		ops = append(ops, syncengine.Op{Node: "bench", Counter: counter, TS: ts, Collection: coll, Record: rec, Kind: kind, Field: field, Value: raw})
	}
	flush := func() {
		res, err := st.Apply(ctx, ops, syncengine.ApplyOptions{Hub: true, Team: "bench"})
		if err != nil || len(res.Rejected) > 0 {
			b.Fatalf("apply: %v %+v", err, res.Rejected)
		}
		ops = ops[:0]
	}
	comms := []string{"Punjabi Sikh", "Bangladeshi", "Somali", "Polish", "Roma", "Irish Traveller", "Syrian", "Welsh speakers"}
	langs := []string{"pa", "bn", "so", "pl", "ro", "en", "ar", "cy"}
	themes := []string{"transport", "opening_hours", "interpreters", "booking", "cost"}
	for e := range benchEngagements {
		op(schema.Engagement, id(1, e), schema.KindSet, "team", "bench")
		op(schema.Engagement, id(1, e), schema.KindSet, "title", fmt.Sprintf("Engagement %d", e))
		op(schema.Engagement, id(1, e), schema.KindSet, "venue_type", schema.VenueTypes[e%len(schema.VenueTypes)])
	}
	flush()
	for p := range benchParticipants {
		eng := id(1, p%benchEngagements)
		op(schema.Participant, id(2, p), schema.KindSet, "engagement", eng)
		op(schema.Participant, id(2, p), schema.KindAdd, "communities", comms[p%len(comms)])
		op(schema.Participant, id(2, p), schema.KindSet, "eq_ethnicity", schema.Ethnicities[p%len(schema.Ethnicities)])
		op(schema.Consent, id(3, p), schema.KindSet, "participant", id(2, p))
		op(schema.Consent, id(3, p), schema.KindAdd, "scopes", schema.ScopeRecordViews)
		op(schema.Consent, id(3, p), schema.KindAdd, "scopes", schema.ScopeEqualityMonitoring)
		if len(ops) >= 50_000 {
			flush()
		}
	}
	flush()
	for c := range benchConversations {
		p := c % benchParticipants
		op(schema.Conversation, id(4, c), schema.KindSet, "participant", id(2, p))
		op(schema.Conversation, id(4, c), schema.KindSet, "engagement", id(1, p%benchEngagements))
		op(schema.Conversation, id(4, c), schema.KindSet, "consent", id(3, p))
		op(schema.Conversation, id(4, c), schema.KindSet, "started_at", ts+int64(c)*60_000)
		if c%2 == 0 {
			op(schema.Conversation, id(4, c), schema.KindAdd, "themes", themes[c%len(themes)])
		}
		_ = langs
		if len(ops) >= 50_000 {
			flush()
		}
	}
	flush()
}

// BenchmarkParticipationReport1M: the participation report over ≈1.05M ops (200,000
// conversations), the index warm (every call still checks the replica for changes).
// It reports the one-off cold build of the index too, and, as the baseline measured in
// the same run, one Scan of the 200,000 conversation records (what a report without the
// read model would have to do at least).
func BenchmarkParticipationReport1M(b *testing.B) {
	st := benchStore(b)
	ctx := context.Background()
	n, _ := st.CountOps(ctx)
	b.Logf("ops in store: %d", n)
	start := time.Now()
	rows := 0
	if err := st.Scan(ctx, schema.Conversation, nil, func(syncengine.Record) error { rows++; return nil }); err != nil {
		b.Fatal(err)
	}
	scan := time.Since(start)
	s := &Service{Index: NewIndex(st)}
	start = time.Now()
	if err := s.Index.Refresh(ctx); err != nil {
		b.Fatal(err)
	}
	cold := time.Since(start)
	for _, c := range []struct{ name, groupBy, policy string }{
		{"community/nhs", ByCommunity, "nhs"},
		{"ethnicity/nhs", ByEthnicity, "nhs"},
		{"engagement/cell", ByEngagement, "cell"},
	} {
		b.Run(c.name, func(b *testing.B) {
			pol, _ := disclosure.ParsePolicy(c.policy, "")
			q := Query{GroupBy: c.groupBy, Policy: pol}
			for b.Loop() {
				rep, err := s.Participation(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				if rep.Total.Conversations == nil || *rep.Total.Conversations != 200_000 {
					b.Fatalf("total %+v", rep.Total)
				}
			}
			per := float64(b.Elapsed().Milliseconds()) / float64(b.N)
			b.ReportMetric(per, "ms/report")
			b.ReportMetric(float64(cold.Milliseconds()), "cold-index-ms")
			b.ReportMetric(float64(scan.Milliseconds()), "baseline-scan-ms")
			b.ReportMetric(per/float64(scan.Milliseconds()), "report/scan")
		})
	}
}

// BenchmarkThemeReport1M: the theme report over the same store, index warm.
func BenchmarkThemeReport1M(b *testing.B) {
	st := benchStore(b)
	ctx := context.Background()
	s := &Service{Index: NewIndex(st)}
	if err := s.Index.Refresh(ctx); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, groupBy, policy string }{
		{"community/nhs", ByCommunity, "nhs"},
		{"venue_type/cell", ByVenueType, "cell"},
	} {
		b.Run(c.name, func(b *testing.B) {
			pol, _ := disclosure.ParsePolicy(c.policy, "")
			for b.Loop() {
				if _, err := s.Themes(ctx, Query{GroupBy: c.groupBy, Policy: pol}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/report")
		})
	}
}
