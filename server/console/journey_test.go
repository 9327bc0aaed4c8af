package console_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	sdk "github.com/fieldnotes/fieldnotes/client-sdk"
	"github.com/fieldnotes/fieldnotes/client-sdk/fieldapp"
)

// TestJourney is one coordinator's day in the console against the real server binary,
// with a real tablet (the SDK, in-process): sign in → a prompt set in three languages →
// an engagement using it → an enrolment code → the tablet enrols, records conversations
// and syncs → one is marked "has issues" and the tablet sees the comment after its pull →
// a report with its suppression legend → a decision linked to conversations picked in
// the table → feedback previews per language → a withdrawal, after which the
// conversation is gone from the table, the report and the tablet. axe-core checks each
// page on the way (1280×900), and then a crawl checks every page linked from the console
// at 1280×900 and 768×1024, and in Arabic (right to left).
func TestJourney(t *testing.T) {
	if testing.Short() {
		t.Skip("browser journey: not in -short")
	}
	srv := startServer(t)
	b := newBrowser(t, srv.URL)
	ctx := context.Background()

	// --demo prints the console's address and sign-in.
	for _, want := range []string{srv.URL + "/console/", srv.Demo.Coordinator.Email, srv.Demo.Coordinator.Password} {
		if !strings.Contains(srv.Console, want) {
			t.Errorf("--demo output lacks %q:\n%s", want, srv.Console)
		}
	}

	b.open("/console/engagements")
	if !strings.Contains(b.location(), "/console/sign-in?next=") {
		t.Fatalf("no session: at %s, want the sign-in page", b.location())
	}
	b.checkAxe("sign-in")
	b.signIn(srv.Demo.Coordinator.Email, srv.Demo.Coordinator.Password)
	b.checkAxe("overview")

	// A prompt set in three languages, from an XLSForm-style sheet.
	b.open("/console/prompt-sets/new")
	b.checkAxe("prompt set form")
	b.set("#name", "Bus and clinic")
	b.set("#sheet", "type,name,label::en,label::cy,label::pl\n"+
		"text,what_works,What works well?,Beth sy'n gweithio'n dda?,Co działa dobrze?\n"+
		"text,what_could_be_better,What could be better?,Beth allai fod yn well?,\n"+
		"select_one,travel,How did you come?,Sut daethoch chi?,Jak Pan/Pani przyjechał(a)?\n"+
		"choice,bus,Bus,Bws,Autobus\nchoice,walk,On foot,Ar droed,Pieszo\n")
	b.submit(`main form[action="/console/prompt-sets"] button[type=submit]`)
	psID := regexp.MustCompile(`/console/prompt-sets/([0-9a-f-]{36})`).FindStringSubmatch(b.location())
	if psID == nil {
		t.Fatalf("prompt set not created: at %s\n%s", b.location(), b.text("main"))
	}
	if got := b.text("main"); !strings.Contains(got, "Missing translations: 1") || !strings.Contains(got, "Co działa dobrze?") {
		t.Errorf("prompt set page should show the texts and 1 missing translation:\n%s", got)
	}
	b.checkAxe("prompt set")

	// An engagement with that set, in en, cy and pl.
	b.open("/console/engagements/new")
	b.checkAxe("engagement form")
	b.set("#title", "Clinic open day")
	b.set("#topic", "Getting to the clinic")
	b.set("#venue_name", "Riverside Library")
	b.set("#venue_type", "library")
	b.set("#area", "CF10")
	b.click("#lang-cy")
	b.click("#lang-pl")
	b.set("#prompt_set", psID[1])
	b.submit(`main form[action="/console/engagements"] button[type=submit]`)
	if got := b.text("main"); !strings.Contains(got, "Clinic open day") {
		t.Fatalf("engagement not listed:\n%s", got)
	}

	// An enrolment code, as text and QR.
	b.open("/console/devices")
	b.set("#label", "Tablet A")
	b.submit(`main form[action="/console/devices/codes"] button[type=submit]`)
	code := strings.TrimSpace(b.text("#enrolment-code"))
	if len(code) != 8 || b.eval(`document.querySelector("svg.fn-qr") ? "yes" : "no"`) != "yes" {
		t.Fatalf("no code or QR: %q", code)
	}
	b.checkAxe("enrolment code")
	// The QR code's text is what the field app's scanner reads.
	qrText := b.text("main code")
	if server, qrCode, ok := fieldapp.ParseEnrolment(qrText); !ok || server != srv.URL || qrCode != code {
		t.Errorf("the field app reads the QR text %q as %q %q %v", qrText, server, qrCode, ok)
	}

	// The tablet enrols with it, gets the engagement and its prompt set, records.
	tab, err := sdk.Open(t.TempDir(), sdk.WithRetry(3, 10*time.Millisecond, 100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Close()
	if _, err := tab.Enrol(ctx, srv.URL, code, "Tablet A"); err != nil {
		t.Fatalf("enrol: %v", err)
	}
	if err := tab.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	var eng string
	engs, _ := tab.Engagements(ctx)
	for _, e := range engs {
		if e.Title == "Clinic open day" {
			eng = e.ID
		}
	}
	if eng == "" {
		t.Fatal("the tablet did not get the engagement")
	}
	ps, err := tab.Prompts(ctx, eng)
	if err != nil {
		t.Fatal(err)
	}
	if text, fell := ps.Text("what_works", "pl"); fell || text != "Co działa dobrze?" {
		t.Errorf("prompt in Polish on the tablet: %q (fell back %v)", text, fell)
	}
	type rec struct{ conv, consent, lang string }
	var recs []rec
	answers := map[string]string{"cy": "Mae'r bws yn hwyr", "pl": "Autobus się spóźnia", "en": "The bus is late"}
	for i, lang := range []string{"cy", "cy", "pl", "pl", "en", "en", "cy", "pl", "en"} {
		c, err := tab.RecordConsent(ctx, sdk.ConsentInput{Engagement: eng, StatementLocale: lang, PreferredLocale: lang,
			Communities: []string{"riverside"}, Scopes: []string{"record_views", "quote", "contact_for_feedback"}, Method: "verbal", RecordedBy: "Tablet A"})
		if err != nil {
			t.Fatal(err)
		}
		if err := tab.SetContact(ctx, c.ID, sdk.Contact{Email: "person" + string(rune('a'+i)) + "@example.net"}); err != nil {
			t.Fatal(err)
		}
		conv, err := tab.StartConversation(ctx, sdk.ConversationInput{Engagement: eng, Consent: c.ID, Locales: []string{lang}})
		if err != nil {
			t.Fatal(err)
		}
		if err := tab.Answer(ctx, conv, sdk.AnswerInput{PromptID: "what_could_be_better", Text: answers[lang], PromptLocale: lang, TranslationEN: "The bus is late"}); err != nil {
			t.Fatal(err)
		}
		if err := tab.AddTheme(ctx, conv, "transport"); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec{conv, c.ID, lang})
	}
	if err := tab.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}

	// The conversations arrive in the table; one is marked "has issues".
	b.open("/console/conversations?engagement=" + eng)
	if got := b.text("#conversation-count"); !strings.Contains(got, "9 conversations") {
		t.Fatalf("conversation count: %q", got)
	}
	b.checkAxe("conversations")
	target := recs[0]
	b.open("/console/conversations/" + target.conv)
	if got := b.text("main"); !strings.Contains(got, answers["cy"]) || !strings.Contains(got, "Consent id") || !strings.Contains(got, "What could be better?") {
		t.Errorf("conversation page lacks the answer or consent:\n%s", got)
	}
	b.checkAxe("conversation")
	b.click("#rs-has_issues")
	b.set("#review_comment", "Please add which bus route")
	b.submit(`main form[action$="/review"] button[type=submit]`)
	if got := b.text("#review-comment"); got != "Please add which bus route" {
		t.Errorf("review comment on the page: %q", got)
	}
	if err := tab.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	got, err := tab.Conversation(ctx, target.conv)
	if err != nil {
		t.Fatal(err)
	}
	if got.ReviewState != "has_issues" || got.ReviewComment != "Please add which bus route" {
		t.Errorf("the tablet sees review %q %q, want has_issues and the comment", got.ReviewState, got.ReviewComment)
	}

	// A report with its legend.
	b.open("/console/reports?report=participation&group_by=language&engagement=" + eng)
	legend := b.text("#legend")
	if !strings.Contains(legend, "counts from 1 to 7 are hidden") || !strings.Contains(legend, "rejected") {
		t.Errorf("report legend: %q", legend)
	}
	reportBefore := b.text("#report-table")
	if !strings.Contains(reportBefore, "hidden") {
		t.Errorf("3 people per language are suppressed under nhs; table:\n%s", reportBefore)
	}
	b.checkAxe("report")
	b.open("/console/reports?report=themes&group_by=language&policy=cell&min_cell=2&engagement=" + eng)
	if got := b.text("#legend"); !strings.Contains(got, "below the minimum cell") {
		t.Errorf("cell legend: %q", got)
	}
	b.checkAxe("themes report")
	b.set("#name", "riverside-2021")
	b.set("#b-group_by", "age_band")
	b.set("#csv", "group,share\nunder_16,0.2\n16_24,0.1\n25_34,0.15\n35_44,0.15\n45_54,0.15\n55_64,0.1\n65_74,0.1\n75_plus,0.05\n")
	b.submit(`main form[action="/console/reports/baselines"] button[type=submit]`)
	if got := b.text("main"); !strings.Contains(got, "Baseline saved") || !strings.Contains(got, "riverside-2021") {
		t.Errorf("gaps after a baseline upload:\n%s", got)
	}
	b.checkAxe("gaps report")
	b.open("/console/nowhere")
	b.checkAxe("404 page")

	// A decision linked to conversations ticked in the filtered table.
	b.open("/console/conversations?engagement=" + eng + "&theme=transport")
	for _, r := range recs[:6] {
		b.click("#sel-" + r.conv)
	}
	b.submit(`main button[formaction="/console/decisions/new"]`)
	b.checkAxe("decision form")
	b.set("#title", "Later clinic hours on bus days")
	b.click("#outcome-changed")
	b.set("#themes", "transport")
	b.set(`textarea[name="summary.en"]`, "the clinic now opens until 7pm on Tuesdays")
	b.set(`textarea[name="summary.cy"]`, "mae'r clinig bellach ar agor tan 7pm ar ddydd Mawrth")
	b.submit(`main form[action="/console/decisions"] button[type=submit]`)
	if n := b.eval(`String(document.querySelectorAll("#linked li").length)`); n != "6" {
		t.Fatalf("decision links %s conversations, want 6:\n%s", n, b.text("main"))
	}
	// Feedback previews per language: Welsh in Welsh, Polish (no summary) in English.
	cy, pl := b.text("#preview-cy"), b.text("#preview-pl")
	if !strings.Contains(cy, "7pm ar ddydd Mawrth") {
		t.Errorf("Welsh preview:\n%s", cy)
	}
	if !strings.Contains(pl, "in English") || !strings.Contains(pl, "7pm on Tuesdays") {
		t.Errorf("Polish preview (no Polish summary: English, marked):\n%s", pl)
	}
	if got := b.text("#summaries"); !strings.Contains(got, "Missing") {
		t.Errorf("summaries should mark Polish missing:\n%s", got)
	}
	b.checkAxe("decision")
	b.submit(`main form[action$="/feedback"] button[type=submit]`)
	if got := b.text("#feedback-table"); strings.Count(got, "Queued") < 6 {
		t.Errorf("feedback queued for 6 people:\n%s", got)
	}
	b.checkAxe("feedback")

	// A withdrawal: what is erased is said first; then it is gone everywhere.
	gone := recs[2]
	b.open("/console/withdrawals?consent=" + gone.consent)
	if got := b.text("#what-is-erased"); !strings.Contains(got, "erase the 1 conversation") || !strings.Contains(got, "every tablet") {
		t.Errorf("confirmation: %q", got)
	}
	b.checkAxe("withdrawal")
	b.set("#reason", "asked by phone")
	b.click("#confirm")
	b.submit(`main form[action="/console/withdrawals"][method="post"] button[type=submit]`)
	if got := b.text("#withdrawn"); !strings.Contains(got, "1 conversation was erased") {
		t.Fatalf("withdrawal result: %q", got)
	}
	b.checkAxe("withdrawn")
	b.open("/console/conversations?engagement=" + eng)
	if got := b.text("#conversation-count"); !strings.Contains(got, "8 conversations") || strings.Contains(b.eval(`document.body.innerHTML`), gone.conv) {
		t.Errorf("after withdrawal the table still shows it: %q", got)
	}
	if st := b.open("/console/conversations/" + gone.conv); st != http.StatusNotFound {
		t.Errorf("withdrawn conversation's page: %d", st)
	}
	b.open("/console/reports?report=participation&group_by=engagement&policy=cell&min_cell=2&engagement=" + eng)
	// The total row: participants, then conversations (cell rule, min 2: 8 is shown).
	if got := b.eval(`Array.from(document.querySelectorAll("#report-table tr")).pop().innerText.replace(/\s+/g, " ").trim()`); !strings.HasSuffix(got, "8 8") {
		t.Errorf("report total after withdrawal: %q, want 8 participants and 8 conversations", got)
	}
	if err := tab.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := tab.Conversation(ctx, gone.conv); err == nil {
		t.Errorf("the tablet still has the withdrawn conversation")
	}
	left, _ := tab.Conversations(ctx, eng)
	if len(left) != 8 {
		t.Errorf("the tablet has %d conversations after the withdrawal, want 8", len(left))
	}

	// The annual report page: a new version of the governance text, then the report as a
	// web page from the form with scripts off (the forms need none).
	b.open("/console/annual")
	b.checkAxe("annual report page")
	gov := "#text-" + srv.Demo.Team + "-governance"
	b.set(gov, "The board reads what people told us every quarter.")
	b.submit(`main form[action="/console/annual/texts"] button[type=submit]`)
	if got := b.text("main"); !strings.Contains(b.location(), "/console/annual?done=saved") || !strings.Contains(got, "The board reads what people told us every quarter.") {
		t.Errorf("text not saved: at %s\n%s", b.location(), got)
	}
	b.checkAxe("annual report page, text saved")
	b.scripts(false)
	b.click("#annual-view")
	for i := 0; i < 300 && !strings.Contains(b.location(), "/console/annual/report?"); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	for i := 0; i < 100 && b.eval(`document.readyState`) != "complete"; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if got := b.text("body"); !strings.Contains(b.location(), "/console/annual/report?from=") || !strings.Contains(got, "The board reads what people told us every quarter.") {
		t.Errorf("report from the form with scripts off: at %s\n%.300s", b.location(), got)
	}
	b.scripts(true)
	b.checkAxe("annual report")

	// The crawl: every page linked from the console answers 200 and passes axe, at both
	// sizes and in Arabic, right to left.
	parent := b.t
	crawl := func(name string, w, h int64, lang string, check func(t *testing.T, pages []string)) {
		t.Run(name, func(t *testing.T) {
			b.t = t
			defer func() { b.t = parent }()
			b.size(w, h)
			b.open("/console/language?lang=" + lang + "&next=/console/")
			if got := b.eval(`document.documentElement.lang + " " + document.documentElement.dir`); got != lang+" "+map[bool]string{true: "rtl", false: "ltr"}[lang == "ar"] {
				t.Errorf("<html lang dir> = %q", got)
			}
			check(t, b.crawl(name))
		})
	}
	atLeast := func(t *testing.T, pages []string) {
		if len(pages) < 20 {
			t.Errorf("the crawl reached only %d pages: %v", len(pages), pages)
		}
		// The annual report page and the standalone report it links to (axe on both).
		var annualPage, annualReport bool
		for _, p := range pages {
			annualPage = annualPage || p == "/console/annual"
			annualReport = annualReport || strings.HasPrefix(p, "/console/annual/report?")
		}
		if !annualPage || !annualReport {
			t.Errorf("the crawl did not reach the annual page (%v) and its report (%v): %v", annualPage, annualReport, pages)
		}
		t.Logf("%d pages: %v", len(pages), pages)
	}
	crawl("Crawl1280x900", 1280, 900, "en", atLeast)
	crawl("Crawl768x1024", 768, 1024, "en", atLeast)
	crawl("CrawlArabic", 1280, 900, "ar", atLeast)

	// No page threw or was refused anything by its Content-Security-Policy.
	if errs := b.scriptErrors(); len(errs) > 0 {
		t.Errorf("script errors and console errors:\n%s", strings.Join(errs, "\n"))
	}

	// An admin's pages: users and teams, at both sizes and in Arabic.
	b.size(1280, 900)
	b.open("/console/language?lang=en&next=/console/")
	b.eval(`document.querySelector('form[action="/console/sign-out"] button').click(); "ok"`)
	time.Sleep(500 * time.Millisecond)
	b.signIn(adminEmail, adminPassword)
	for _, c := range []struct {
		w, h int64
		lang string
	}{{1280, 900, "en"}, {768, 1024, "en"}, {1280, 900, "ar"}} {
		b.size(c.w, c.h)
		b.open("/console/language?lang=" + c.lang + "&next=/console/users")
		if got := b.text("#users"); !strings.Contains(got, srv.Demo.Coordinator.Email) {
			t.Errorf("users page lists %q", got)
		}
		b.checkAxe("users " + c.lang)
	}
}
