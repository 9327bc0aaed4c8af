package annual

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/reports"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

var update = flag.Bool("update", false, "rewrite testdata/annual golden files")

const goldenDir = "../../testdata/annual"

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join(goldenDir, name)
	if *update {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./server/annual -run %s -update)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		a, b := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
		for i := 0; i < len(a) || i < len(b); i++ {
			var x, y string
			if i < len(a) {
				x = a[i]
			}
			if i < len(b) {
				y = b[i]
			}
			if x != y {
				t.Fatalf("%s differs at line %d:\nwant %q\ngot  %q\n(run with -update if the change is meant)", name, i+1, x, y)
			}
		}
	}
}

func renderReport(t *testing.T, f *fixture, lang string) (*Report, string) {
	t.Helper()
	rep, err := f.svc.Build(context.Background(), f.query(lang))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := RenderHTML(&buf, rep); err != nil {
		t.Fatal(err)
	}
	return rep, buf.String()
}

func renderPublic(t *testing.T, f *fixture, id, lang string) string {
	t.Helper()
	p, err := f.svc.BuildPublic(context.Background(), id, lang)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := RenderPublic(&buf, p, f.svc.now().UnixMilli()); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestReportGolden: the report of the fixture's year, in English and Arabic, and the
// published engagement's public page, byte for byte.
func TestReportGolden(t *testing.T) {
	f := newFixture(t)
	for _, lang := range []string{"en", "ar"} {
		_, html := renderReport(t, f, lang)
		golden(t, "report-"+lang+".html", []byte(html))
		golden(t, "public-"+lang+".html", []byte(renderPublic(t, f, f.e1, lang)))
	}
}

// TestReportContents checks what the golden files hold, in words a reviewer can read.
func TestReportContents(t *testing.T) {
	f := newFixture(t)
	rep, html := renderReport(t, f, "en")

	// Sections in the guidance's order.
	last := -1
	for _, h := range []string{"1. Governance", "2. How we put our strategy", "3. Key involvement activities",
		"4. How people&#39;s views informed decisions", "5. Equality and inclusion", "6. About this report"} {
		i := strings.Index(html, h)
		if i < 0 || i < last {
			t.Errorf("section %q missing or out of order", h)
		}
		last = i
	}
	// Engagements of the year only, in date order.
	var titles []string
	for _, e := range rep.Entries {
		titles = append(titles, e.Title)
	}
	if want := []string{"Friday market", "After Friday prayers", "Library drop-in"}; !reflect.DeepEqual(titles, want) {
		t.Errorf("entries %v, want %v", titles, want)
	}
	// The latest governance text, its version and date; the first draft is gone.
	for _, want := range []string{"Community champions sit on it.", "Version 2, updated 2026-03-03.", "We go where people are"} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(html, "A first draft.") {
		t.Error("an old version of the governance text is shown")
	}
	// Quotes: consented ones only; nothing of the withdrawn, the unconsented, the rejected.
	for _, bad := range []string{withdrawnWords, unconsentedWords, rejectedWords} {
		if strings.Contains(html, bad) {
			t.Errorf("report shows %q", bad)
		}
	}
	if !strings.Contains(html, pickedWords) || !strings.Contains(html, pickedEnglish) {
		t.Error("report lacks the picked quote and its translation")
	}
	if n := strings.Count(html, "انتظرت ستة أشهر"); n != 1 { // ten people said it
		t.Errorf("the same words quoted %d times", n)
	}
	// Decisions: English report shows English summaries; not_changed says why.
	for _, want := range []string{englishSummary, "What did not change, and why", "commissioned nationally", "Done", "Planned"} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// Feedback by language: 9 Arabic rounds to 10; 3 Polish is hidden.
	d1 := rep.Entries[0].Decisions[0]
	if len(d1.FedBack) != 2 || d1.FedBack[0].Lang != "ar" || d1.FedBack[0].Count == nil || *d1.FedBack[0].Count != 10 || d1.FedBack[1].Count != nil {
		t.Errorf("fed back %+v", d1.FedBack)
	}
	// Interpreted conversations (10 Arabic + 9 Urdu = 19) round to 20.
	if p := rep.Facts.Interpreted; p == nil || *p != 20 {
		t.Errorf("interpreted %v", rep.Facts.Interpreted)
	}
	// Insight: each theme's decisions and views.
	if len(rep.Insight) != 2 || rep.Insight[0].Theme != "Interpreters" || rep.Insight[0].Decisions != 1 || *rep.Insight[0].Views != 10 {
		t.Errorf("insight %+v", rep.Insight)
	}
	// Census baselines are there: three gap reports.
	if rep.Equality.EthnicityGroup == nil || rep.Equality.AgeBand == nil || rep.Equality.Language == nil {
		t.Errorf("equality %+v", rep.Equality)
	}

	// Arabic: right to left, the Arabic summary, and the English one said to be English.
	_, ar := renderReport(t, f, "ar")
	for _, want := range []string{`<html lang="ar" dir="rtl">`, arabicSummary, "لم يُكتب هذا الملخص باللغة العربية بعد", `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"`, `direction="rtl"`} {
		if !strings.Contains(ar, want) {
			t.Errorf("Arabic report lacks %q", want)
		}
	}
	if strings.Contains(ar, englishSummary) {
		t.Error("Arabic report shows the English summary of a decision that has an Arabic one")
	}
	// Polish: the Polish summary; Welsh (none written): English, saying so in Welsh.
	_, pl := renderReport(t, f, "pl")
	if !strings.Contains(pl, "Na każdą wizytę") || !strings.Contains(pl, `<html lang="pl" dir="ltr">`) {
		t.Error("Polish report lacks the Polish summary")
	}
	_, cy := renderReport(t, f, "cy")
	if !strings.Contains(cy, englishSummary) || !strings.Contains(cy, "Nid yw&#39;r crynodeb hwn wedi&#39;i ysgrifennu yn Cymraeg eto") {
		t.Error("Welsh report does not fall back to English, saying so")
	}
}

// TestReportFiguresAreTheReports: every count in the report is the reports package's for
// the same query (what GET /v1/reports/participation and /themes answer).
func TestReportFiguresAreTheReports(t *testing.T) {
	f := newFixture(t)
	for _, pol := range []string{"nhs", "cell"} {
		q := f.query("en")
		q2, _ := ParseQuery(map[string][]string{"from": {"2026-01-01"}, "to": {"2026-12-31"}, "policy": {pol}}, "")
		q.Policy = q2.Policy
		rep, err := f.svc.Build(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		rs := f.svc.Reports
		ctx := context.Background()
		rq := reports.Query{From: q.FromMS, To: q.ToMS, Teams: q.Teams, Policy: q.Policy}
		want := func(groupBy, eng string) *reports.Participation {
			r := rq
			r.GroupBy, r.Engagement = groupBy, eng
			p, err := rs.Participation(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		if !reflect.DeepEqual(rep.Facts.ByLanguage, want(reports.ByLanguage, "")) {
			t.Errorf("%s: facts differ from the participation report", pol)
		}
		for _, e := range rep.Entries {
			if !reflect.DeepEqual(e.ByCommunity, want(reports.ByCommunity, e.ID)) || !reflect.DeepEqual(e.ByLanguage, want(reports.ByLanguage, e.ID)) {
				t.Errorf("%s: %s differs from the participation report", pol, e.Title)
			}
			r := rq
			r.GroupBy, r.Engagement = reports.ByCommunity, e.ID
			th, _ := rs.Themes(ctx, r)
			if !reflect.DeepEqual(e.Themes, th) {
				t.Errorf("%s: %s themes differ from the theme report", pol, e.Title)
			}
		}
		r := rq
		r.GroupBy = reports.ByEthnicityGroup
		g, _ := rs.Gaps(ctx, f.svc.Coord, DefaultBaseline+"-ethnicity_group", r)
		if !reflect.DeepEqual(rep.Equality.EthnicityGroup, g) {
			t.Errorf("%s: equality differs from the gap report", pol)
		}
		var html bytes.Buffer
		RenderHTML(&html, rep)
		if !strings.Contains(html.String(), "Figures follow the "+pol+" rule") {
			t.Errorf("%s: the report does not state its policy", pol)
		}
	}
}

func TestParseQuery(t *testing.T) {
	ok := map[string][]string{"from": {"2026-01-01"}, "to": {"2026-12-31"}}
	q, err := ParseQuery(ok, "ur-PK,en;q=0.5")
	if err != nil || q.Lang != "ur" || q.Policy.Name != "nhs" || q.Baseline != DefaultBaseline {
		t.Fatalf("%+v %v", q, err)
	}
	if q.ToMS-q.FromMS != 365*86400000 {
		t.Errorf("range %d ms: to is not inclusive", q.ToMS-q.FromMS)
	}
	for name, tc := range map[string]struct {
		v     map[string][]string
		field string
	}{
		"NoFrom":       {map[string][]string{"to": {"2026-01-01"}}, "from"},
		"NoTo":         {map[string][]string{"from": {"2026-01-01"}}, "to"},
		"BadDate":      {map[string][]string{"from": {"2026-13-01"}, "to": {"2026-12-31"}}, "from"},
		"Backwards":    {map[string][]string{"from": {"2026-02-01"}, "to": {"2026-01-01"}}, "to"},
		"BadLang":      {map[string][]string{"from": {"2026-01-01"}, "to": {"2026-12-31"}, "lang": {"fr"}}, "lang"},
		"BadPolicy":    {map[string][]string{"from": {"2026-01-01"}, "to": {"2026-12-31"}, "policy": {"none"}}, "policy"},
		"BadMinCell":   {map[string][]string{"from": {"2026-01-01"}, "to": {"2026-12-31"}, "policy": {"cell"}, "min_cell": {"1"}}, "min_cell"},
		"LongBaseline": {map[string][]string{"from": {"2026-01-01"}, "to": {"2026-12-31"}, "baseline": {strings.Repeat("x", 81)}}, "baseline"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseQuery(tc.v, "")
			e, ok := err.(*Error)
			if !ok || e.Code != CodeInvalidQuery || e.Field != tc.field {
				t.Errorf("got %v, want invalid_query on %s", err, tc.field)
			}
		})
	}
}

func TestTextsVersioned(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	g, ok, err := GetText(ctx, f.st, fxTeam, Governance)
	if err != nil || !ok || g.Version != 2 || len(g.Versions) != 2 || g.Versions[0].Text != "A first draft." || g.UpdatedBy != "user-1" {
		t.Fatalf("%+v %v %v", g, ok, err)
	}
	if _, ok, _ := GetText(ctx, f.st, "south", Governance); ok {
		t.Error("another team has north's text")
	}
	for name, tc := range map[string]struct{ kind, text, code string }{
		"UnknownKind": {"vision", "x", CodeNotFound},
		"Empty":       {Governance, "  ", "required"},
		"TooLong":     {Governance, strings.Repeat("x", MaxTextBytes+1), "invalid_field"},
		"NotUTF8":     {Governance, "\xff\xfe", "invalid_field"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := PutText(ctx, f.st, fxNode, "user-1", fxTeam, tc.kind, tc.text, 1)
			if e, ok := err.(*Error); !ok || e.Code != tc.code {
				t.Errorf("got %v, want %s", err, tc.code)
			}
		})
	}
	if g2, _, _ := GetText(ctx, f.st, fxTeam, Governance); g2.Version != 2 {
		t.Error("a rejected text changed the version")
	}
}

// TestPublicPage: only published engagements, only picked and consented quotes.
func TestPublicPage(t *testing.T) {
	f := newFixture(t)
	html := renderPublic(t, f, f.e1, "en")
	if !strings.Contains(html, pickedWords) || !strings.Contains(html, englishSummary) || !strings.Contains(html, "Friday market") {
		t.Error("public page lacks the picked quote, the decision or the title")
	}
	for _, bad := range []string{withdrawnWords, unconsentedWords, rejectedWords, "Przychodnia powinna"} {
		if strings.Contains(html, bad) {
			t.Errorf("public page shows %q (not picked, or not allowed)", bad)
		}
	}
	for _, id := range []string{f.e2, fxID(kEng, 99), "not-an-id"} {
		if _, err := f.svc.BuildPublic(context.Background(), id, "en"); err != ErrNotPublished {
			t.Errorf("%s: %v, want not published", id, err)
		}
	}
}

// TestReportEmptyYear: a year with no engagement still makes a whole report, saying so,
// and a cell-policy report states its rule.
func TestReportEmptyYear(t *testing.T) {
	f := newFixture(t)
	q, err := ParseQuery(map[string][]string{"from": {"2020-01-01"}, "to": {"2020-12-31"}, "policy": {"cell"}, "min_cell": {"10"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	q.Teams = []string{fxTeam}
	rep, err := f.svc.Build(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := RenderHTML(&buf, rep); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	if len(rep.Entries) != 0 || rep.Facts.Engagements != 0 {
		t.Errorf("entries %d", len(rep.Entries))
	}
	for _, want := range []string{"6. About this report", "counts from 1 to 9 are hidden", "<dt>Engagements</dt><dd>0</dd>", "<dt>Areas</dt><dd>None</dd>"} {
		if !strings.Contains(html, want) {
			t.Errorf("empty report lacks %q", want)
		}
	}
}

// A conversation rejected in review is never picked for the public page, whoever asks
// (the API and the console share PickQuote), even though its consent covers quote.
func TestPickQuoteRefusesRejected(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k := syncengine.RecordKey{Collection: schema.Conversation, Record: f.rejectedConv}
	r, err := f.st.Get(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if !CanQuote(ctx, f.st, r) {
		t.Fatal("fixture: the rejected conversation's consent should cover quote")
	}
	prompt := "what_could_be_better"
	if _, err := PickQuote(ctx, f.st, "coordinator-test", nil, r, &prompt); !errors.Is(err, ErrRejected) {
		t.Fatalf("pick of a rejected conversation: %v, want ErrRejected", err)
	}
	if _, err := PickQuote(ctx, f.st, "coordinator-test", nil, r, nil); err != nil {
		t.Fatalf("clearing the pick of a rejected conversation: %v", err)
	}
	r, _ = f.st.Get(ctx, k)
	if string(r.Fields[PublicQuoteField]) != "" && string(r.Fields[PublicQuoteField]) != "null" {
		t.Errorf("public_quote after clearing: %s", r.Fields[PublicQuoteField])
	}
}
