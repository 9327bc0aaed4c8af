package console_test

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/annual"
	"github.com/fieldnotes/fieldnotes/server/console"
	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

// write applies changes to a team's records as a tablet would.
func (e *env) write(team string, ch ...syncengine.Change) {
	e.t.Helper()
	if _, _, err := e.st.WriteAs(context.Background(), "seed-"+team, ch, syncengine.ApplyOptions{Hub: true, Team: team}); err != nil {
		e.t.Fatal(err)
	}
}

// field reads a record's field as JSON.
func (e *env) field(coll, id, f string) string {
	e.t.Helper()
	r, err := e.st.Get(context.Background(), syncengine.RecordKey{Collection: coll, Record: id})
	if err != nil {
		e.t.Fatal(err)
	}
	if raw, ok := r.Fields[f]; ok {
		return string(raw)
	}
	return "<absent>"
}

// The annual report page: the report as a web page and a PDF for the person's teams,
// and the governance and strategy texts with their versions.
func TestAnnualPage(t *testing.T) {
	e := newEnv(t)
	today := time.Now().UTC()
	from, to := today.AddDate(-1, 0, 1).Format(time.DateOnly), today.Format(time.DateOnly)
	period := "from=" + from + "&to=" + to
	e.run(t, []scenario{
		{name: "NoSession", method: "GET", path: "/console/annual", status: 303, location: "/console/sign-in?next=%2Fconsole%2Fannual"},
		{name: "Page", who: "north", method: "GET", path: "/console/annual", status: 200,
			contains: []string{`href="/console/annual" aria-current="page"`, `action="/console/annual/report"`, `formaction="/console/annual/report.pdf"`,
				`name="from" type="date" value="` + from + `"`, `name="to" type="date" value="` + to + `"`, `<option value="en" lang="en" selected>`,
				"Team: north", "Governance", "Strategy", "No version saved yet.", `id="text-north-governance"`},
			absent: []string{"Team: south"}},
		{name: "PageWelsh", who: "north", lang: "cy", method: "GET", path: "/console/annual", status: 200,
			contains: []string{"Adroddiad blynyddol", "Testunau llywodraethu a strategaeth", `<option value="cy" lang="cy" selected>`}},
		{name: "PageAdminEveryTeam", who: "admin", method: "GET", path: "/console/annual", status: 200, contains: []string{"Team: north", "Team: south"}},
		{name: "TextWithoutCSRF", who: "north", method: "POST", path: "/console/annual/texts", form: url.Values{"team": {"north"}, "kind": {"governance"}, "text": {"Board minutes."}}, noCSRF: true, status: 403, contains: []string{"did not come from this page"}},
		{name: "TextEmpty", who: "north", method: "POST", path: "/console/annual/texts", form: url.Values{"team": {"north"}, "kind": {"governance"}, "text": {"  "}}, status: 422, contains: []string{"There is a problem", `href="#text-north-governance"`, "Fill in this field"}},
		{name: "TextTooLong", who: "north", method: "POST", path: "/console/annual/texts", form: url.Values{"team": {"north"}, "kind": {"strategy"}, "text": {strings.Repeat("x", 17<<10)}}, status: 422, contains: []string{"too long"}},
		{name: "TextOtherTeam", who: "north", method: "POST", path: "/console/annual/texts", form: url.Values{"team": {"south"}, "kind": {"governance"}, "text": {"Hijack"}}, status: 404},
		{name: "TextUnknownTeam", who: "admin", method: "POST", path: "/console/annual/texts", form: url.Values{"team": {"nowhere"}, "kind": {"governance"}, "text": {"x"}}, status: 404},
		{name: "TextUnknownKind", who: "north", method: "POST", path: "/console/annual/texts", form: url.Values{"team": {"north"}, "kind": {"vision"}, "text": {"x"}}, status: 404},
		{name: "TextSave", who: "north", method: "POST", path: "/console/annual/texts", form: url.Values{"team": {"north"}, "kind": {"governance"}, "text": {"First governance text."}}, status: 303, location: "/console/annual?done=saved"},
		{name: "TextSaveAgain", who: "north", method: "POST", path: "/console/annual/texts", form: url.Values{"team": {"north"}, "kind": {"governance"}, "text": {"Second governance text."}}, status: 303},
		{name: "TextShown", who: "north", method: "GET", path: "/console/annual", status: 200,
			contains: []string{"Second governance text.", "north@example.org", "Earlier versions (1)", "First governance text.", "<strong>Version 1</strong>"}},
		{name: "TextNotShownToSouth", who: "south", method: "GET", path: "/console/annual", status: 200, absent: []string{"governance text."}},
		{name: "TextAudited", who: "north", method: "GET", path: "/console/audit", status: 200, contains: []string{"annual_text", "version=2"}},
		{name: "Report", who: "north", method: "GET", path: "/console/annual/report?" + period + "&lang=en&policy=nhs", status: 200,
			contains: []string{`<html lang="en"`, "Market day north", "Second governance text."}, absent: []string{"Market day south", "fn-nav"}},
		{name: "ReportWelsh", who: "north", method: "GET", path: "/console/annual/report?" + period + "&lang=cy&policy=cell&min_cell=3", status: 200, contains: []string{`<html lang="cy"`, "Market day north"}},
		{name: "ReportAdminEveryTeam", who: "admin", method: "GET", path: "/console/annual/report?" + period, status: 200, contains: []string{"Market day north", "Market day south"}},
		{name: "ReportSouth", who: "south", method: "GET", path: "/console/annual/report?" + period, status: 200, contains: []string{"Market day south"}, absent: []string{"Market day north", "Second governance text."}},
		{name: "ReportBadDate", who: "north", method: "GET", path: "/console/annual/report?from=2026-02-30&to=" + to, status: 422, contains: []string{"There is a problem", `href="#from"`, "Enter two real dates"}},
		{name: "ReportBackwards", who: "north", method: "GET", path: "/console/annual/report?from=" + to + "&to=" + from, status: 422, contains: []string{`href="#to"`, "Enter two real dates"}},
		{name: "ReportNoDates", who: "north", method: "GET", path: "/console/annual/report", status: 422, contains: []string{`href="#from"`}},
		{name: "ReportBadLanguage", who: "north", method: "GET", path: "/console/annual/report?" + period + "&lang=xx", status: 422, contains: []string{`href="#lang"`, "This setting is not valid"}},
		{name: "ReportBadMinCell", who: "north", method: "GET", path: "/console/annual/report?" + period + "&policy=cell&min_cell=1", status: 422, contains: []string{`href="#min_cell"`}},
		{name: "PDFWithoutBrowser", who: "north", method: "GET", path: "/console/annual/report.pdf?" + period, status: 503, contains: []string{"cannot make PDF files"}},
		{name: "PDFWithoutBrowserWelsh", who: "north", lang: "cy", method: "GET", path: "/console/annual/report.pdf?" + period, status: 503, contains: []string{"Ni all y gweinydd hwn wneud ffeiliau PDF"}},
	})

	// The report is a standalone page: its own policy (inline styles by hash), not the
	// console's; and it is recorded in the export log like the API's.
	c := e.client("").signIn("north")
	req := "/console/annual/report?" + period
	st, _, h := c.do("GET", req, nil)
	if csp := h.Get("Content-Security-Policy"); st != 200 || !strings.Contains(csp, "style-src 'sha256-") || strings.Contains(csp, "script-src 'self'") {
		t.Errorf("report: %d, CSP %q", st, csp)
	}
	if h.Get("Cache-Control") != "no-store" || h.Get("Content-Language") != "en" {
		t.Errorf("report headers: %v", h)
	}
	log, err := e.st.Audit(context.Background(), store.AuditQuery{Action: "annual_text"})
	if err != nil || len(log) != 2 || log[0].Team != "north" {
		t.Errorf("audit of the texts: %v %+v", err, log)
	}
}

// Picking an answer for the engagement's public page, from the conversation's page.
func TestQuotePicking(t *testing.T) {
	e := newEnv(t)
	conv := e.ids["conversation.north"]
	e.run(t, []scenario{
		// The seeded consent covers record_views and contact_for_feedback, not quote.
		{name: "NoQuoteConsentNoButton", who: "north", method: "GET", path: "/console/conversations/{conversation.north}", status: 200,
			contains: []string{`id="public-quote"`, "This engagement is not published yet", `href="/console/engagements/` + e.ids["engagement.north"] + `"`},
			absent:   []string{"Use on the public page", `action="/console/conversations/` + conv + `/public-quote"`}},
		{name: "NoQuoteConsentRefused", who: "north", method: "POST", path: "/console/conversations/{conversation.north}/public-quote", form: url.Values{"prompt": {"what_works"}, "action": {"use"}}, status: 422, contains: []string{"did not agree to be quoted, so their answer"}},
	})
	if got := e.field(schema.Conversation, conv, "public_quote"); got != "<absent>" {
		t.Fatalf("public_quote written without quote consent: %s", got)
	}
	for _, team := range []string{"north", "south"} {
		e.write(team, syncengine.Change{Collection: schema.Consent, Record: e.ids["consent."+team], Kind: schema.KindAdd, Field: "scopes", Value: schema.ScopeQuote})
	}
	e.run(t, []scenario{
		{name: "ButtonForTextAnswerOnly", who: "north", method: "GET", path: "/console/conversations/{conversation.north}", status: 200,
			contains: []string{"Use on the public page", `name="prompt" value="what_works"`}, absent: []string{`name="prompt" value="hear_back_preference"`, "Used on the public page"}},
		{name: "OtherTeamConversation", who: "north", method: "POST", path: "/console/conversations/{conversation.south}/public-quote", form: url.Values{"prompt": {"what_works"}, "action": {"use"}}, status: 404},
		{name: "WithoutCSRF", who: "north", method: "POST", path: "/console/conversations/{conversation.north}/public-quote", form: url.Values{"prompt": {"what_works"}, "action": {"use"}}, noCSRF: true, status: 403},
		{name: "ChoiceAnswerRefused", who: "north", method: "POST", path: "/console/conversations/{conversation.north}/public-quote", form: url.Values{"prompt": {"hear_back_preference"}, "action": {"use"}}, status: 422, contains: []string{"Only a text answer"}},
		{name: "UnknownPromptRefused", who: "north", method: "POST", path: "/console/conversations/{conversation.north}/public-quote", form: url.Values{"prompt": {"nope"}, "action": {"use"}}, status: 422},
		{name: "Pick", who: "north", method: "POST", path: "/console/conversations/{conversation.north}/public-quote", form: url.Values{"prompt": {"what_works"}, "action": {"use"}}, status: 303, location: "/console/conversations/" + conv + "?done=quote#public-quote"},
		{name: "Picked", who: "north", method: "GET", path: "/console/conversations/{conversation.north}?done=quote", status: 200, contains: []string{"The public page choice is saved.", "Used on the public page", "Stop using on the public page"}},
		{name: "PickAudited", who: "north", method: "GET", path: "/console/audit", status: 200, contains: []string{"public_quote", "prompt=what_works"}},
	})
	if got := e.field(schema.Conversation, conv, "public_quote"); got != `"what_works"` {
		t.Fatalf("public_quote = %s, want what_works", got)
	}
	if got := e.field(schema.Conversation, e.ids["conversation.south"], "public_quote"); got != "<absent>" {
		t.Fatalf("south's conversation was picked: %s", got)
	}
	e.write("north", syncengine.Change{Collection: schema.Engagement, Record: e.ids["engagement.north"], Kind: schema.KindSet, Field: "published", Value: true})
	e.run(t, []scenario{
		{name: "PublishedLink", who: "north", method: "GET", path: "/console/conversations/{conversation.north}", status: 200,
			contains: []string{"This engagement is published", `href="/public/engagements/` + e.ids["engagement.north"] + `"`}, absent: []string{"not published yet"}},
		{name: "Stop", who: "north", method: "POST", path: "/console/conversations/{conversation.north}/public-quote", form: url.Values{"prompt": {"what_works"}, "action": {"stop"}}, status: 303},
	})
	if got := e.field(schema.Conversation, conv, "public_quote"); got != "null" && got != "<absent>" {
		t.Fatalf("public_quote after stop = %s, want null", got)
	}
	e.run(t, []scenario{
		{name: "Reject", who: "north", method: "POST", path: "/console/conversations/{conversation.north}/review", form: url.Values{"review_state": {"rejected"}, "review_comment": {"Off topic"}}, status: 303},
		{name: "RejectedNoButton", who: "north", method: "GET", path: "/console/conversations/{conversation.north}", status: 200, contains: []string{"rejected in review"}, absent: []string{"Use on the public page"}},
		{name: "RejectedRefused", who: "north", method: "POST", path: "/console/conversations/{conversation.north}/public-quote", form: url.Values{"prompt": {"what_works"}, "action": {"use"}}, status: 422, contains: []string{"rejected in review"}},
	})
	if got := e.field(schema.Conversation, conv, "public_quote"); got != "null" && got != "<absent>" {
		t.Fatalf("a rejected conversation was picked: %s", got)
	}
}

// With a browser the PDF is a download of a real PDF, for the person's teams.
func TestAnnualPDF(t *testing.T) {
	chromium := annual.FindChromium("")
	if chromium == "" {
		if os.Getenv("FIELDNOTES_REQUIRE_BROWSER") == "1" {
			t.Fatal("no chromium and FIELDNOTES_REQUIRE_BROWSER=1")
		}
		t.Skip("no chromium on PATH: the PDF download is not tested (apt-get install chromium)")
	}
	e := newEnv(t, func(d *console.Deps) { d.Printer = annual.NewPrinter(chromium) })
	c := e.client("").signIn("north")
	to := time.Now().UTC().Format(time.DateOnly)
	st, body, h := c.do("GET", "/console/annual/report.pdf?from=2020-01-01&to="+to+"&lang=cy", nil)
	if st != 200 || h.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(body, "%PDF-") {
		t.Fatalf("PDF: %d %s %.40q", st, h.Get("Content-Type"), body)
	}
	if cd := h.Get("Content-Disposition"); cd != `attachment; filename="annual-report-2020-01-01-`+to+`-cy.pdf"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	log, err := e.coord.Coord.Exports(context.Background(), 10)
	if err != nil || len(log) != 1 || log[0].Collection != annual.ExportName || log[0].Format != "pdf" || !log[0].Complete ||
		log[0].Who != e.users["north"].ID || strings.Join(log[0].Teams, ",") != "north" {
		t.Errorf("export log: %v %+v", err, log)
	}
}
