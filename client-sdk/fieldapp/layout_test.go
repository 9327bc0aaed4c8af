package fieldapp_test

import (
	"context"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"fmt"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	sdk "github.com/fieldnotes/fieldnotes/client-sdk"
	"github.com/fieldnotes/fieldnotes/client-sdk/fieldapp"
)

// TestLayouts shows every kind of screen at 1280×800 and at 768×1024 with the text at 200%
// (root font 32px instead of 16px): nothing scrolls sideways,
// targets stay at least 44px, axe finds nothing, and the language control and the
// primary button are still there.
func TestLayouts(t *testing.T) {
	if testing.Short() {
		t.Skip("browser: not in -short")
	}
	b := newBrowser(t)
	dev, err := sdk.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	ctx := context.Background()
	if err := dev.SetLocalIdentity(ctx, "0193a4c2-0000-7000-8000-00000000f00d", "team-a"); err != nil {
		t.Fatal(err)
	}
	eng, err := dev.StartEngagement(ctx, sdk.EngagementInput{Title: "Gurdwara open day", VenueType: "place_of_worship", VenueName: "Gurdwara Sahib", Languages: []string{"pa", "ur", "en"}})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := dev.RecordConsent(ctx, sdk.ConsentInput{Engagement: eng, StatementLocale: "ur", Method: "verbal",
		Scopes: []string{"record_views", "equality_monitoring", "contact_for_feedback"}})
	if err != nil {
		t.Fatal(err)
	}
	conv, err := dev.StartConversation(ctx, sdk.ConversationInput{Consent: ref.ID, Locales: []string{"ur"}})
	if err != nil {
		t.Fatal(err)
	}
	app, err := fieldapp.New(dev, fieldapp.Options{AutoSync: -1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app)
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	app.AllowHost(u.Host)
	screens := map[string]string{
		"engagements": "/engagements", "consent": "/engagements/" + eng + "/consent?lang=pa",
		"prompt choice": "/conversations/" + conv + "/prompts/1", "prompt text": "/conversations/" + conv + "/prompts/2",
		"equality": "/conversations/" + conv + "/equality", "contact": "/conversations/" + conv + "/contact",
		"notes": "/conversations/" + conv + "/notes", "receipt": "/consents/" + ref.ID + "/receipt",
		"sync": "/sync", "conversations": "/conversations", "enrol": "/enrol",
	}
	langOf := map[string]string{"consent": "pa", "prompt choice": "ur", "prompt text": "ur", "equality": "ur",
		"contact": "ur", "notes": "ur", "receipt": "ur"}
	for _, size := range []struct {
		name          string
		width, height int64
		font          int64
	}{{"1280x800", 1280, 800, 16}, {"768x1024 text 200%", 768, 1024, 32}} {
		b.do(chromedp.EmulateViewport(size.width, size.height))
		for name, path := range screens {
			b.open(srv.URL + path)
			if size.font != 16 {
				// What a browser's text size setting does to a rem-based page: the root
				// font grows (set through the CSSOM, which the CSP allows).
				eval[bool](b, fmt.Sprintf(`document.documentElement.style.fontSize = '%dpx'; true`, size.font))
			}
			lang := langOf[name]
			if lang == "" {
				lang = "en"
			}
			b.checkScreen(name+" "+size.name, lang)
			if !eval[bool](b, `!!document.getElementById('lang-select') && !!document.querySelector('main .nhsuk-button, main button')`) {
				t.Errorf("%s at %s: the language control or the main button is missing", name, size.name)
			}
			if size.font == 32 {
				// The text really is twice as big: the root font (what rem means) is 32px.
				if px := eval[float64](b, `parseFloat(getComputedStyle(document.documentElement).fontSize)`); px != 32 {
					t.Fatalf("%s: root font size at 200%% text is %.0fpx", name, px)
				}
			}
		}
	}
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("test server on %s", srv.URL)
	}
}

// TestQRScan: where the browser has BarcodeDetector and a camera, "Scan the QR code" reads
// the console's code and fills the server address and the enrolment code, in both forms
// (a link, JSON). The camera and the detector are stand-ins injected before the page
// loads; the page's own script does the rest.
func TestQRScan(t *testing.T) {
	if testing.Short() {
		t.Skip("browser: not in -short")
	}
	b := newBrowser(t)
	dev, err := sdk.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	app, err := fieldapp.New(dev, fieldapp.Options{AutoSync: -1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app)
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	app.AllowHost(u.Host)
	stub := `
window.BarcodeDetector = class { constructor(o) {} async detect(v) { return [{rawValue: sessionStorage.getItem('qr') || ''}] } };
if (navigator.mediaDevices) navigator.mediaDevices.getUserMedia = async () => {
  const c = document.createElement('canvas'); c.width = 64; c.height = 64;
  c.getContext('2d').fillRect(0, 0, 64, 64);
  return c.captureStream(5);
};`
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: stub})
		return err
	}))
	for _, c := range []struct{ qr, server, code string }{
		{"https://hub.example.org/enrol?code=ACDE3467", "https://hub.example.org", "ACDE3467"},
		{`{"server": "http://127.0.0.1:8080", "code": "TUVW4679"}`, "http://127.0.0.1:8080", "TUVW4679"},
		{"fieldnotes:enrol?code=CDEF3467&server=https%3A%2F%2Fhub.example.org%2Fnhs", "https://hub.example.org/nhs", "CDEF3467"},
	} {
		b.open(srv.URL + "/enrol")
		eval[bool](b, fmt.Sprintf(`sessionStorage.setItem('qr', %q); true`, c.qr))
		b.open(srv.URL + "/enrol")
		if eval[bool](b, `document.querySelector('[data-scan]').hidden`) {
			t.Fatal("the scan button is hidden although the browser can scan")
		}
		b.checkScreen("enrol with scan", "en")
		eval[bool](b, fmt.Sprintf(`__button(%q).click(); true`, msg("en", "fieldapp.enrol.scan")))
		b.do(chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.getElementById('code').value === %q`, c.code), chromedp.WithPollingTimeout(10*time.Second)))
		if got := eval[string](b, `document.getElementById('server').value`); got != c.server {
			t.Errorf("%s: server %q, want %q", c.qr, got, c.server)
		}
		if got := eval[string](b, `document.querySelector('[data-scan-status]').textContent`); got != msg("en", "fieldapp.enrol.scanned") {
			t.Errorf("%s: status %q", c.qr, got)
		}
	}
}

// TestWithoutJavaScript: with script switched off in the page, a worker can still take
// consent, answer, switch the language (recorded), finish and press Sync now: every form
// is a plain form.
func TestWithoutJavaScript(t *testing.T) {
	if testing.Short() {
		t.Skip("browser: not in -short")
	}
	b := newBrowser(t)
	dev, err := sdk.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	ctx := context.Background()
	if err := dev.SetLocalIdentity(ctx, "0193a4c2-0000-7000-8000-00000000f0aa", "team-a"); err != nil {
		t.Fatal(err)
	}
	_, err = dev.StartEngagement(ctx, sdk.EngagementInput{Title: "Library", VenueType: "library", Languages: []string{"so", "en"}})
	if err != nil {
		t.Fatal(err)
	}
	app, err := fieldapp.New(dev, fieldapp.Options{AutoSync: -1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app)
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	app.AllowHost(u.Host)
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
	b.open(srv.URL + "/engagements")
	if eval[bool](b, `document.body.classList.contains('js-enabled')`) {
		t.Fatal("the page's script ran")
	}
	b.press("Start a conversation")
	b.language("so")
	if got := eval[string](b, `document.documentElement.lang`); got != "so" || !strings.Contains(b.path(), "/consent") {
		t.Fatalf("consent in %q at %s, want so", got, b.path())
	}
	b.tick(msg("so", "consent.scope.record_views"))
	b.tick(msg("so", "consent.method.verbal"))
	b.press(msg("so", "fieldapp.next"))
	conv := strings.Split(b.path(), "/")[2]
	b.tick(choice("so", "services_used", "pharmacy"))
	b.press(msg("so", "fieldapp.next"))
	b.language("en")
	if b.path() != "/conversations/"+conv+"/prompts/2" || eval[string](b, `document.documentElement.lang`) != "en" {
		t.Fatalf("after the switch: %s", b.path())
	}
	b.fill(prompt("en", "what_works"), "The library has a nurse on Tuesdays")
	b.press("Next")
	for strings.Contains(b.path(), "/prompts/") {
		b.press("Next")
	}
	b.press("Finish")
	if !strings.HasSuffix(b.path(), "/receipt") {
		t.Fatalf("after Finish: %s", b.path())
	}
	c, err := dev.Conversation(ctx, conv)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.LanguageSwitches) != 1 || c.LanguageSwitches[0].From != "so" || c.LanguageSwitches[0].To != "en" || c.EndedAt == 0 || len(c.Answers) != 2 {
		t.Fatalf("stored: %+v", c)
	}
	b.open(srv.URL + "/sync")
	b.press("Sync now")
	if b.path() != "/sync" {
		t.Fatalf("Sync now without script went to %s", b.path())
	}
	// This tablet has no server: the page says why the sync did not happen.
	if !strings.Contains(b.text(), (&sdk.Error{Code: sdk.CodeNotEnrolled}).Message("en")) {
		t.Errorf("no reason shown after Sync now:\n%s", b.text())
	}
}

// TestLanguageControlStaysInView: scrolled to the bottom of the longest screen (the
// equality questions), at tablet size and with 200% text, the language control is still
// on screen.
func TestLanguageControlStaysInView(t *testing.T) {
	if testing.Short() {
		t.Skip("browser: not in -short")
	}
	b := newBrowser(t)
	dev, err := sdk.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	ctx := context.Background()
	dev.SetLocalIdentity(ctx, "0193a4c2-0000-7000-8000-00000000f0bb", "team-a")
	eng, _ := dev.StartEngagement(ctx, sdk.EngagementInput{VenueType: "festival"})
	ref, err := dev.RecordConsent(ctx, sdk.ConsentInput{Engagement: eng, StatementLocale: "ar", Method: "verbal", Scopes: []string{"record_views", "equality_monitoring"}})
	if err != nil {
		t.Fatal(err)
	}
	conv, err := dev.StartConversation(ctx, sdk.ConversationInput{Consent: ref.ID})
	if err != nil {
		t.Fatal(err)
	}
	app, _ := fieldapp.New(dev, fieldapp.Options{AutoSync: -1})
	srv := httptest.NewServer(app)
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	app.AllowHost(u.Host)
	for _, font := range []int{16, 32} {
		b.open(srv.URL + "/conversations/" + conv + "/equality")
		eval[bool](b, fmt.Sprintf(`document.documentElement.style.fontSize = '%dpx'; window.scrollTo(0, document.body.scrollHeight); true`, font))
		time.Sleep(100 * time.Millisecond)
		if !eval[bool](b, `window.scrollY > 1000`) {
			t.Fatalf("font %dpx: the page did not scroll", font)
		}
		if !eval[bool](b, `(() => { const r = document.getElementById('lang-select').getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight })()`) {
			t.Errorf("font %dpx: the language control is out of view after scrolling", font)
		}
		// The skip link's target is not hidden under the bar (WCAG 2.4.11): the page
		// leaves room for the bar when it scrolls to an anchor.
		under := eval[string](b, `(() => {
		  location.hash = ''; window.scrollTo(0, document.body.scrollHeight); location.hash = '#main';
		  const bar = document.querySelector('.app-langbar-wrap').getBoundingClientRect().bottom;
		  const h = document.querySelector('main h1').getBoundingClientRect();
		  return h.top < bar ? Math.round(h.top) + ' < ' + Math.round(bar) : '' })()`)
		if under != "" {
			t.Errorf("font %dpx: after the skip link the heading is under the language bar: %s", font, under)
		}
	}
}
