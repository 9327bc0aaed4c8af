package annual

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/reports"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

// benchVersion keys the cached store; bump it when the fixture changes.
const benchVersion = "v2"

const (
	benchConversations = 200_000
	benchParticipants  = 25_000
	benchEngagements   = 20
	benchDecisions     = 40
)

var benchT0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC).UnixMilli()

// benchStore opens a store of 200,000 conversations (about 1.9M ops), built once under
// os.TempDir (a minute or two) and reused: 20 engagements, 25,000 participants with
// communities and equality answers, consents (half allow quotes), conversations with a
// language, a theme, a text answer with its English translation and, for one in four, an
// interpreter; 40 decisions, each linking 500 conversations of one engagement, and sent
// feedback.
func benchStore(b *testing.B) (*syncengine.Store, *reports.Coord) {
	b.Helper()
	dir := filepath.Join(os.TempDir(), "fieldnotes-annual-bench-"+benchVersion)
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
	coord, err := reports.OpenCoord(filepath.Join(b.TempDir(), "coord.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { coord.Close() })
	if err := EnsureCensusBaselines(context.Background(), coord); err != nil {
		b.Fatal(err)
	}
	return st, coord
}

func buildBenchStore(b *testing.B, path string) {
	st, err := syncengine.Open(path, syncengine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	var counter uint64
	ts := benchT0
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
	langs := []string{"pa", "bn", "so", "pl", "ro", "en", "ar", "cy", "ur", "gu", "pt"}
	comms := []string{"Punjabi Sikh", "Bangladeshi", "Somali", "Polish", "Roma", "White British", "Syrian", "Welsh speakers", "Pakistani", "Gujarati", "Portuguese"}
	themes := []string{"Transport", "Opening hours", "Interpreters", "GP appointments", "Digital access"}
	for e := range benchEngagements {
		id := fxID(kEng, e)
		op(schema.Engagement, id, schema.KindSet, "team", "bench")
		op(schema.Engagement, id, schema.KindSet, "title", fmt.Sprintf("Engagement %d", e))
		op(schema.Engagement, id, schema.KindSet, "topic", "Access to services")
		op(schema.Engagement, id, schema.KindSet, "venue_type", schema.VenueTypes[e%len(schema.VenueTypes)])
		op(schema.Engagement, id, schema.KindSet, "area", fmt.Sprintf("B%d", e+1))
		op(schema.Engagement, id, schema.KindSet, "starts_at", benchT0+int64(e)*86_400_000*15)
		for _, l := range langs[:4+e%6] {
			op(schema.Engagement, id, schema.KindAdd, "languages", l)
		}
		if e%2 == 0 {
			op(schema.Engagement, id, schema.KindSet, PublishedField, true)
		}
	}
	flush()
	for p := range benchParticipants {
		eng := fxID(kEng, p%benchEngagements)
		pid, cid := fxID(kPart, p), fxID(kCons, p)
		op(schema.Participant, pid, schema.KindSet, "engagement", eng)
		op(schema.Participant, pid, schema.KindSet, "preferred_locale", langs[p%len(langs)])
		op(schema.Participant, pid, schema.KindAdd, "communities", comms[p%len(comms)])
		op(schema.Participant, pid, schema.KindSet, "eq_ethnicity", schema.Ethnicities[p%len(schema.Ethnicities)])
		op(schema.Participant, pid, schema.KindSet, "eq_age_band", reports.AgeBands[p%len(reports.AgeBands)])
		op(schema.Consent, cid, schema.KindSet, "participant", pid)
		op(schema.Consent, cid, schema.KindSet, "engagement", eng)
		op(schema.Consent, cid, schema.KindAdd, "scopes", schema.ScopeRecordViews)
		op(schema.Consent, cid, schema.KindAdd, "scopes", schema.ScopeEqualityMonitoring)
		if p%2 == 0 {
			op(schema.Consent, cid, schema.KindAdd, "scopes", schema.ScopeQuote)
		}
		if len(ops) >= 50_000 {
			flush()
		}
	}
	flush()
	for c := range benchConversations {
		p := c % benchParticipants
		id := fxID(kConv, c)
		lang := langs[p%len(langs)]
		op(schema.Conversation, id, schema.KindSet, "participant", fxID(kPart, p))
		op(schema.Conversation, id, schema.KindSet, "engagement", fxID(kEng, p%benchEngagements))
		op(schema.Conversation, id, schema.KindSet, "consent", fxID(kCons, p))
		op(schema.Conversation, id, schema.KindSet, "started_at", benchT0+int64(c)*60_000)
		op(schema.Conversation, id, schema.KindAdd, "locales", lang)
		op(schema.Conversation, id, schema.KindAdd, "themes", themes[c%len(themes)])
		op(schema.Conversation, id, schema.KindSet, "answer.what_could_be_better", map[string]any{
			"text": fmt.Sprintf("Conversation %d: the bus to the hospital takes an hour.", c), "prompt_locale": lang, "answer_locale": lang,
			"translation_en": "The bus to the hospital takes an hour."})
		if c%4 == 0 {
			op(schema.Conversation, id, schema.KindSet, "interpreter", "Interpreter "+lang)
		}
		if len(ops) >= 50_000 {
			flush()
		}
	}
	flush()
	for d := range benchDecisions {
		id := fxID(kDec, d)
		op(schema.Decision, id, schema.KindSet, "team", "bench")
		op(schema.Decision, id, schema.KindSet, "title", fmt.Sprintf("Decision %d", d))
		op(schema.Decision, id, schema.KindSet, "outcome", schema.Outcomes[d%3])
		op(schema.Decision, id, schema.KindSet, "reason", "Because.")
		op(schema.Decision, id, schema.KindSet, "summary.en", "What we changed.")
		op(schema.Decision, id, schema.KindSet, "summary.ar", "ما غيّرناه.")
		op(schema.Decision, id, schema.KindSet, "decided_at", benchT0+int64(d)*86_400_000*7)
		op(schema.Decision, id, schema.KindAdd, "themes", themes[d%len(themes)])
		for k := range 500 { // conversations of one engagement (conversation c is at engagement c mod 20)
			op(schema.Decision, id, schema.KindAdd, "conversations", fxID(kConv, d%benchEngagements+benchEngagements*(k+500*(d/benchEngagements))))
		}
		for k := range 50 {
			fb := fxID(kFb, d*50+k)
			op(schema.Feedback, fb, schema.KindSet, "decision", id)
			op(schema.Feedback, fb, schema.KindSet, "participant", fxID(kPart, (d*500+k)%benchParticipants))
			op(schema.Feedback, fb, schema.KindSet, "locale", langs[k%len(langs)])
			op(schema.Feedback, fb, schema.KindSet, "status", "sent")
		}
	}
	flush()
}

// BenchmarkAnnualReport200k: the whole annual report over 200,000 conversations — build
// (every report, gap report, the conversation scan for interpreters and picks, decisions,
// feedback, quotes) and render to HTML — with the read model warm, as on a running server.
// The cold first build of the read model is reported once as cold_index_ms.
//
//	go test ./server/annual -run '^$' -bench AnnualReport200k -benchtime 3x
func BenchmarkAnnualReport200k(b *testing.B) {
	st, coord := benchStore(b)
	svc := &Service{Reports: &reports.Service{Index: reports.NewIndex(st)}, Coord: coord, Replica: st}
	start := time.Now()
	if err := svc.Reports.Index.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds()), "cold_index_ms")
	q, err := ParseQuery(map[string][]string{"from": {"2026-01-01"}, "to": {"2026-12-31"}, "lang": {"ar"}}, "")
	if err != nil {
		b.Fatal(err)
	}
	var size int
	b.ResetTimer()
	for b.Loop() {
		rep, err := svc.Build(context.Background(), q)
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := RenderHTML(&buf, rep); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
		if rep.Facts.ByLanguage.Total.Conversations == nil || *rep.Facts.ByLanguage.Total.Conversations < 100_000 {
			b.Fatalf("report counts %v conversations", rep.Facts.ByLanguage.Total.Conversations)
		}
	}
	b.ReportMetric(float64(size), "html_bytes")
}

// BenchmarkAnnualPDF200k: the same report printed to PDF by headless Chromium (build,
// render, start the browser, print), as GET /v1/reports/annual with Accept:
// application/pdf does.
//
//	go test ./server/annual -run '^$' -bench AnnualPDF200k -benchtime 2x
func BenchmarkAnnualPDF200k(b *testing.B) {
	browser := FindChromium("")
	if browser == "" {
		b.Skip("no Chromium")
	}
	st, coord := benchStore(b)
	svc := &Service{Reports: &reports.Service{Index: reports.NewIndex(st)}, Coord: coord, Replica: st}
	if err := svc.Reports.Index.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	q, _ := ParseQuery(map[string][]string{"from": {"2026-01-01"}, "to": {"2026-12-31"}, "lang": {"ar"}}, "")
	pr := NewPrinter(browser)
	var size int
	for b.Loop() {
		rep, err := svc.Build(context.Background(), q)
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := RenderHTML(&buf, rep); err != nil {
			b.Fatal(err)
		}
		pdf, err := pr.PDF(context.Background(), buf.Bytes())
		if err != nil {
			b.Fatal(err)
		}
		size = len(pdf)
	}
	b.ReportMetric(float64(size), "pdf_bytes")
}
