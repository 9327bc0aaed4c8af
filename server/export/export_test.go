package export

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/reports"
	"github.com/fieldnotes/fieldnotes/server/reports/reportstest"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

var ctx = context.Background()

func setup(t *testing.T) (*reportstest.Fixture, *Exporter) {
	t.Helper()
	f := reportstest.Build(t)
	coord, err := reports.OpenCoord(filepath.Join(t.TempDir(), "coord.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { coord.Close() })
	return f, &Exporter{Replica: f.Store, Index: reports.NewIndex(f.Store), Coord: coord}
}

func ndjsonRows(t *testing.T, e *Exporter, coll string) map[string]ndjsonRow {
	t.Helper()
	var buf bytes.Buffer
	n, err := e.Export(ctx, &buf, Request{Who: "u1", Teams: []string{reportstest.North}, Collection: coll, Format: NDJSON})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]ndjsonRow{}
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r ndjsonRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		out[r.ID] = r
	}
	if len(out) != n {
		t.Fatalf("%d rows read, %d reported", len(out), n)
	}
	return out
}

// expectConversations checks the conversation export against the spec: exactly the
// conversations under a valid record_views consent, verbatim text only with quote.
func expectConversations(t *testing.T, f *reportstest.Fixture, rows map[string]ndjsonRow) {
	t.Helper()
	want := 0
	for _, p := range f.People {
		for _, c := range p.Convs {
			r, ok := rows[c.ID]
			if p.Team != reportstest.North || !p.Has(schema.ScopeRecordViews) {
				if ok {
					t.Errorf("person %d: conversation exported without consent", p.N)
				}
				continue
			}
			want++
			if !ok {
				t.Errorf("person %d: conversation missing", p.N)
				continue
			}
			var text map[string]any
			json.Unmarshal(r.Fields["answer.what_could_be_better"], &text)
			var choice map[string]any
			json.Unmarshal(r.Fields["answer.services_used"], &choice)
			_, hasNotes := r.Fields["notes"]
			if p.Has(schema.ScopeQuote) {
				if text["text"] == nil || text["translation_en"] == nil || !hasNotes {
					t.Errorf("person %d: quote consent but verbatim text missing: %v", p.N, r.Fields)
				}
			} else if text != nil || hasNotes {
				t.Errorf("person %d: verbatim text without quote consent: %s / notes %v", p.N, r.Fields["answer.what_could_be_better"], hasNotes)
			}
			if choice["choice"] == nil {
				t.Errorf("person %d: choice answer dropped", p.N)
			}
		}
	}
	want += len(f.Groups)
	if len(rows) != want {
		t.Errorf("%d conversations exported, want %d", len(rows), want)
	}
}

func expectParticipants(t *testing.T, f *reportstest.Fixture, rows map[string]ndjsonRow) {
	t.Helper()
	want := 0
	for _, p := range f.People {
		r, ok := rows[p.ID]
		if p.Team != reportstest.North || p.Withdrawn {
			if ok {
				t.Errorf("person %d exported after withdrawal", p.N)
			}
			continue
		}
		want++
		if !ok {
			t.Errorf("person %d missing", p.N)
			continue
		}
		_, email := r.Fields["contact_email"]
		_, phone := r.Fields["contact_phone"]
		_, name := r.Fields["contact_name"]
		if p.Has(schema.ScopeContactForFeedback) != (name && (email || phone)) {
			t.Errorf("person %d: contact consent %v, fields %v", p.N, p.Has(schema.ScopeContactForFeedback), r.Fields)
		}
		_, eth := r.Fields["eq_ethnicity"]
		_, age := r.Fields["eq_age_band"]
		if !p.Has(schema.ScopeEqualityMonitoring) && (eth || age) {
			t.Errorf("person %d: equality answers without consent", p.N)
		}
		if p.Has(schema.ScopeEqualityMonitoring) && p.Ethnicity != "" && !eth {
			t.Errorf("person %d: equality answer dropped", p.N)
		}
	}
	if len(rows) != want {
		t.Errorf("%d participants exported, want %d", len(rows), want)
	}
}

func TestExportAppliesConsent(t *testing.T) {
	f, e := setup(t)
	expectConversations(t, f, ndjsonRows(t, e, schema.Conversation))
	expectParticipants(t, f, ndjsonRows(t, e, schema.Participant))
	cons := ndjsonRows(t, e, schema.Consent)
	if r := cons[f.Person(50).Consent]; r.Withdrawn == nil || !*r.Withdrawn {
		t.Errorf("withdrawn consent: %+v", r)
	}

	t.Run("AfterWithdrawal", func(t *testing.T) {
		f.Withdraw(t, 3)
		f.Withdraw(t, 8)
		convs := ndjsonRows(t, e, schema.Conversation)
		expectConversations(t, f, convs)
		if _, ok := convs[f.Person(3).Convs[1].ID]; ok {
			t.Fatal("withdrawn conversation exported")
		}
		expectParticipants(t, f, ndjsonRows(t, e, schema.Participant))
	})

	t.Run("Logged", func(t *testing.T) {
		log, err := e.Coord.Exports(ctx, 0)
		if err != nil || len(log) != 5 || log[0].Who != "u1" || log[0].Collection != schema.Participant || !log[0].Complete || log[0].Rows == 0 {
			t.Fatalf("%+v %v", log, err)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		if _, err := e.Export(ctx, &bytes.Buffer{}, Request{Collection: "secrets", Format: CSV}); err == nil || err.(*Error).Code != CodeUnknownCollection {
			t.Fatal(err)
		}
		if _, err := FormatFor("application/pdf"); err == nil {
			t.Fatal("pdf accepted")
		}
		if f, _ := FormatFor("application/x-ndjson"); f != NDJSON {
			t.Fatal(f)
		}
	})
}

// A conversation rejected in review is left out of the export unless the request
// includes rejected ones; one with issues stays.
func TestExportLeavesOutRejected(t *testing.T) {
	f, e := setup(t)
	p := f.Person(1)
	rejected, flagged := p.Convs[0].ID, f.Person(2).Convs[0].ID
	f.Review(t, rejected, schema.ReviewRejected, "duplicate of another record")
	f.Review(t, flagged, schema.ReviewHasIssues, "translation missing")
	convs := ndjsonRows(t, e, schema.Conversation)
	if _, ok := convs[rejected]; ok {
		t.Error("rejected conversation exported by default")
	}
	if _, ok := convs[flagged]; !ok {
		t.Error("has_issues conversation left out")
	}
	var buf bytes.Buffer
	if _, err := e.Export(ctx, &buf, Request{Who: "u1", Teams: []string{reportstest.North}, Collection: schema.Conversation, Format: NDJSON, IncludeRejected: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), rejected) {
		t.Error("include_rejected did not export the rejected conversation")
	}
}

func TestCSVIsExcelFriendly(t *testing.T) {
	f, e := setup(t)
	var buf bytes.Buffer
	n, err := e.Export(ctx, &buf, Request{Who: "u1", Teams: []string{reportstest.North}, Collection: schema.Conversation, Format: CSV})
	if err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	if !bytes.HasPrefix(raw, []byte("\ufeff")) {
		t.Fatal("no BOM")
	}
	if bytes.Count(raw, []byte("\r\n")) < n+1 {
		t.Fatal("not CRLF")
	}
	r := csv.NewReader(bytes.NewReader(raw[3:]))
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n+1 {
		t.Fatalf("%d records for %d rows", len(recs), n)
	}
	head := recs[0]
	col := func(name string) int {
		for i, h := range head {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %s in %v", name, head)
		return -1
	}
	text, choice, themes := col("answer.what_could_be_better.text"), col("answer.services_used.choice"), col("themes")
	p1 := f.Person(1) // has quote consent
	for _, rec := range recs[1:] {
		if rec[0] != p1.Convs[0].ID {
			continue
		}
		want := fmt.Sprintf("'=HYPERLINK(\"x\") said by %d, \"quoted\"\nsecond line", p1.N)
		if rec[text] != want {
			t.Errorf("text cell %q, want %q", rec[text], want)
		}
		if rec[choice] != "gp; pharmacy" || rec[themes] == "" {
			t.Errorf("choice %q themes %q", rec[choice], rec[themes])
		}
		return
	}
	t.Fatal("person 1's conversation not found")
}

func TestCell(t *testing.T) {
	for in, want := range map[string]string{"=1+1": "'=1+1", "+44 7700": "'+44 7700", "-2": "'-2", "@SUM": "'@SUM", "plain": "plain", "": ""} {
		if got := Cell(in); got != want {
			t.Errorf("Cell(%q) = %q", in, got)
		}
	}
}

// buildN writes n conversations (under one consent with every scope) into a store.
func buildN(t testing.TB, n int) *syncengine.Store {
	st, err := syncengine.Open(filepath.Join(t.TempDir(), "r.db"), syncengine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	eng, cons := reportstest.ID(1, 1), reportstest.ID(3, 1)
	ch := []syncengine.Change{
		{Collection: schema.Engagement, Record: eng, Kind: schema.KindSet, Field: "team", Value: "t"},
		{Collection: schema.Consent, Record: cons, Kind: schema.KindSet, Field: "engagement", Value: eng},
		{Collection: schema.Consent, Record: cons, Kind: schema.KindAdd, Field: "scopes", Value: schema.ScopeRecordViews},
		{Collection: schema.Consent, Record: cons, Kind: schema.KindAdd, Field: "scopes", Value: schema.ScopeQuote},
	}
	for i := range n {
		id := reportstest.ID(4, i)
		ch = append(ch,
			syncengine.Change{Collection: schema.Conversation, Record: id, Kind: schema.KindSet, Field: "engagement", Value: eng},
			syncengine.Change{Collection: schema.Conversation, Record: id, Kind: schema.KindSet, Field: "consent", Value: cons},
			syncengine.Change{Collection: schema.Conversation, Record: id, Kind: schema.KindSet, Field: "answer.what_works", Value: map[string]any{
				"text": strings.Repeat("what works for me is ", 10), "prompt_locale": "en", "answer_locale": "en"}})
		if len(ch) > 5000 {
			if _, _, err := st.WriteAs(ctx, "n", ch, syncengine.ApplyOptions{Hub: true}); err != nil {
				t.Fatal(err)
			}
			ch = ch[:0]
		}
	}
	if _, _, err := st.WriteAs(ctx, "n", ch, syncengine.ApplyOptions{Hub: true}); err != nil {
		t.Fatal(err)
	}
	return st
}

// peakWriter samples the live heap while an export writes.
type peakWriter struct {
	n, peak uint64
}

func (w *peakWriter) Write(p []byte) (int, error) {
	w.n++
	if w.n%20 == 0 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		w.peak = max(w.peak, ms.HeapAlloc)
	}
	return len(p), nil
}

func exportPeak(t *testing.T, n int) uint64 {
	st := buildN(t, n)
	e := &Exporter{Replica: st, Index: reports.NewIndex(st)}
	if err := e.Index.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	w := &peakWriter{}
	rows, err := e.Export(ctx, w, Request{Collection: schema.Conversation, Format: CSV})
	if err != nil || rows != n {
		t.Fatalf("%d rows, %v", rows, err)
	}
	if w.peak < base {
		return 0
	}
	return w.peak - base
}

// Memory while exporting does not grow with the number of rows: 10× the rows, about
// the same peak (the index, which holds a few fields per record, is built before).
func TestExportMemoryFlat(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(5)) // peak ≈ live, not GC lag
	small := exportPeak(t, 400)
	large := exportPeak(t, 4000)
	t.Logf("peak heap above baseline: %d rows %d KiB, %d rows %d KiB", 400, small>>10, 4000, large>>10)
	if large > 2*small+4<<20 {
		t.Fatalf("peak grew from %d KiB to %d KiB for 10× the rows", small>>10, large>>10)
	}
}
