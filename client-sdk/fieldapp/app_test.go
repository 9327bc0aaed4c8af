package fieldapp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	sdk "github.com/fieldnotes/fieldnotes/client-sdk"
	"github.com/fieldnotes/fieldnotes/locales"
)

// testApp is the app over a device with a local identity and one engagement, served
// in-process on httptest (a loopback listener).
type testApp struct {
	testing.TB
	dev  *sdk.Device
	app  *App
	srv  *httptest.Server
	eng  string
	host string
}

func newTestApp(t testing.TB, opts ...sdk.Option) *testApp {
	t.Helper()
	dev, err := sdk.Open(t.TempDir(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Close() })
	ctx := context.Background()
	if err := dev.SetLocalIdentity(ctx, "0193a4c2-0000-7000-8000-00000000f001", "team-a"); err != nil {
		t.Fatal(err)
	}
	eng, err := dev.StartEngagement(ctx, sdk.EngagementInput{Title: "Market day", VenueType: "market", VenueName: "Rag market", Languages: []string{"en", "ar", "cy"}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(dev, Options{AutoSync: -1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	a.AllowHost(u.Host)
	return &testApp{TB: t, dev: dev, app: a, srv: srv, eng: eng, host: u.Host}
}

type resp struct {
	status int
	body   string
	header http.Header
}

// do sends a request as the browser would from our own page: same-origin, with the token
// unless the form says otherwise; lang sets the worker's language cookie.
func (ta *testApp) do(method, path string, form url.Values, lang string, hdr map[string]string) resp {
	ta.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, ta.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if lang != "" {
		req.AddCookie(&http.Cookie{Name: "lang", Value: lang})
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		ta.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, string(b), res.Header}
}

func (ta *testApp) post(path string, form url.Values, lang string) resp {
	if form.Get("csrf") == "" {
		form.Set("csrf", ta.app.csrf)
	}
	return ta.do("POST", path, form, lang, map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": ta.srv.URL})
}

// consent records a consent through the form and returns the conversation id.
func (ta *testApp) consent(lang string, scopes ...string) string {
	ta.Helper()
	f := url.Values{"lang": {lang}, "method": {"verbal"}, "scope": scopes}
	r := ta.post("/engagements/"+ta.eng+"/consent", f, "")
	m := regexp.MustCompile(`^/conversations/([0-9a-f-]+)/prompts/1$`).FindStringSubmatch(r.header.Get("Location"))
	if r.status != http.StatusSeeOther || m == nil {
		ta.Fatalf("consent: %d %s %s", r.status, r.header.Get("Location"), r.body)
	}
	return m[1]
}

func msg(lang, id string, data map[string]any) string {
	s, _ := locales.Localize(lang, id, data)
	return s
}

// has checks that the page holds text (as html/template escapes it).
func has(t *testing.T, r resp, text string) {
	t.Helper()
	esc := strings.NewReplacer("'", "&#39;", "\"", "&#34;", "&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(text)
	if !strings.Contains(r.body, esc) {
		t.Errorf("page (%d) lacks %q", r.status, text)
	}
}

func TestBadInput(t *testing.T) {
	ta := newTestApp(t)
	t.Run("UnknownEngagement", func(t *testing.T) {
		r := ta.do("GET", "/engagements/0193a4c2-0000-7000-8000-0000000000aa/consent", nil, "cy", nil)
		if r.status != http.StatusNotFound {
			t.Fatalf("status %d", r.status)
		}
		has(t, r, msg("cy", "error.not_found", nil))
		if !strings.Contains(r.body, `<html lang="cy" dir="ltr">`) {
			t.Error("error page not in Welsh")
		}
	})
	t.Run("UnknownConversation", func(t *testing.T) {
		r := ta.do("GET", "/conversations/nope/prompts/1", nil, "ar", nil)
		if r.status != http.StatusNotFound {
			t.Fatalf("status %d", r.status)
		}
		has(t, r, msg("ar", "error.not_found", nil))
		if !strings.Contains(r.body, `dir="rtl"`) {
			t.Error("Arabic error page is not right to left")
		}
	})
	t.Run("MissingCSRF", func(t *testing.T) {
		f := url.Values{"lang": {"en"}, "method": {"verbal"}, "scope": {"record_views"}}
		r := ta.do("POST", "/engagements/"+ta.eng+"/consent", f, "pl", nil)
		if r.status != http.StatusForbidden {
			t.Fatalf("status %d", r.status)
		}
		has(t, r, msg("pl", "fieldapp.error.csrf", nil))
	})
	t.Run("WrongCSRF", func(t *testing.T) {
		f := url.Values{"csrf": {strings.Repeat("0", 64)}, "lang": {"en"}, "method": {"verbal"}}
		if r := ta.post("/engagements/"+ta.eng+"/consent", f, ""); r.status != http.StatusForbidden {
			t.Fatalf("status %d", r.status)
		}
	})
	t.Run("CrossSiteWithToken", func(t *testing.T) {
		f := url.Values{"csrf": {ta.app.csrf}, "lang": {"en"}, "method": {"verbal"}}
		for _, h := range []map[string]string{{"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}} {
			if r := ta.do("POST", "/engagements/"+ta.eng+"/consent", f, "", h); r.status != http.StatusForbidden {
				t.Errorf("%v: status %d", h, r.status)
			}
		}
	})
	t.Run("WrongHost", func(t *testing.T) {
		r := ta.do("GET", "/engagements", nil, "", map[string]string{"Host": "evil.example:80"})
		if r.status != http.StatusMisdirectedRequest {
			t.Fatalf("status %d", r.status)
		}
	})
	t.Run("InvalidMethodEnum", func(t *testing.T) {
		f := url.Values{"lang": {"ro"}, "method": {"telepathy"}, "scope": {"record_views"}}
		r := ta.post("/engagements/"+ta.eng+"/consent", f, "")
		if r.status != http.StatusBadRequest {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		has(t, r, msg("ro", "error.invalid_enum", map[string]any{"Field": "method", "Allowed": "verbal, written, interpreter"}))
	})
	t.Run("InvalidScopeEnum", func(t *testing.T) {
		f := url.Values{"lang": {"en"}, "method": {"verbal"}, "scope": {"record_views", "sell_my_data"}}
		if r := ta.post("/engagements/"+ta.eng+"/consent", f, ""); r.status != http.StatusBadRequest {
			t.Fatalf("status %d", r.status)
		}
	})
	t.Run("MethodMissing", func(t *testing.T) {
		f := url.Values{"lang": {"so"}, "scope": {"record_views"}}
		r := ta.post("/engagements/"+ta.eng+"/consent", f, "")
		if r.status != http.StatusBadRequest {
			t.Fatalf("status %d", r.status)
		}
		has(t, r, msg("so", "fieldapp.consent.method_missing", nil))
		if !strings.Contains(r.body, `value="record_views" checked`) {
			t.Error("the scopes ticked were lost")
		}
	})
	t.Run("UnsupportedLanguage", func(t *testing.T) {
		f := url.Values{"lang": {"xx"}, "method": {"verbal"}, "scope": {"record_views"}}
		if r := ta.post("/engagements/"+ta.eng+"/consent", f, ""); r.status != http.StatusBadRequest {
			t.Fatalf("status %d", r.status)
		}
	})
	if cs, _ := ta.dev.Consents(context.Background(), ""); len(cs) != 0 {
		t.Fatalf("bad input recorded %d consents", len(cs))
	}

	conv := ta.consent("en", "record_views")
	t.Run("InvalidChoice", func(t *testing.T) {
		r := ta.post("/conversations/"+conv+"/prompts/1", url.Values{"choice": {"gp", "spaceship"}}, "")
		if r.status != http.StatusBadRequest {
			t.Fatalf("status %d", r.status)
		}
		has(t, r, msg("en", "error.invalid_enum", map[string]any{"Field": "services_used", "Allowed": ""})[:20])
	})
	t.Run("NoSuchPrompt", func(t *testing.T) {
		for _, n := range []string{"0", "99", "x"} {
			if r := ta.do("GET", "/conversations/"+conv+"/prompts/"+n, nil, "", nil); r.status != http.StatusNotFound {
				t.Errorf("prompt %s: status %d", n, r.status)
			}
		}
	})
	t.Run("InvalidEqualityEnum", func(t *testing.T) {
		r := ta.post("/conversations/"+conv+"/equality", url.Values{"eq_sex": {"banana"}}, "")
		if r.status != http.StatusBadRequest {
			t.Fatalf("status %d", r.status)
		}
	})
	t.Run("ContactWithoutConsent", func(t *testing.T) {
		r := ta.do("GET", "/conversations/"+conv+"/contact", nil, "", nil)
		if r.status != http.StatusForbidden {
			t.Fatalf("status %d", r.status)
		}
		has(t, r, msg("en", "error.consent_scope_missing", map[string]any{"Scope": msg("en", "scope.name.contact_for_feedback", nil)}))
		r = ta.post("/conversations/"+conv+"/contact", url.Values{"email": {"a@b.example"}}, "")
		if r.status != http.StatusForbidden {
			t.Fatalf("post status %d", r.status)
		}
	})
	t.Run("SwitchToUnknownLanguage", func(t *testing.T) {
		r := ta.post("/conversations/"+conv+"/language", url.Values{"lang": {"klingon"}, "at": {"services_used"}}, "")
		if r.status != http.StatusBadRequest {
			t.Fatalf("status %d", r.status)
		}
	})
	t.Run("OffsiteReturn", func(t *testing.T) {
		r := ta.post("/language", url.Values{"lang": {"cy"}, "return": {"//evil.example/x"}}, "")
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
			t.Fatalf("status %d to %q", r.status, r.header.Get("Location"))
		}
	})
	c, err := ta.dev.Conversation(context.Background(), conv)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Answers) != 0 || len(c.LanguageSwitches) != 0 {
		t.Fatalf("bad input was stored: %+v", c)
	}
	if p, _ := ta.dev.Participant(context.Background(), c.Participant); len(p.Equality) != 0 || p.ContactEmail != "" {
		t.Fatalf("bad input was stored: %+v", p)
	}
}

// TestConversationFlow drives one conversation through the handlers: answers, a language
// switch recorded at its prompt, resume, equality, contact, notes, finish and receipt.
func TestConversationFlow(t *testing.T) {
	ta := newTestApp(t)
	ctx := context.Background()
	conv := ta.consent("en", "record_views", "equality_monitoring", "contact_for_feedback")
	if r := ta.post("/conversations/"+conv+"/prompts/1", url.Values{"choice": {"gp", "pharmacy"}}, ""); r.header.Get("Location") != "/conversations/"+conv+"/prompts/2" {
		t.Fatalf("after prompt 1: %d %s", r.status, r.header.Get("Location"))
	}
	r := ta.post("/conversations/"+conv+"/language", url.Values{"lang": {"ar"}, "at": {"what_works"}, "return": {"/conversations/" + conv + "/prompts/2"}}, "")
	if r.header.Get("Location") != "/conversations/"+conv+"/prompts/2" {
		t.Fatalf("switch: %d %s", r.status, r.header.Get("Location"))
	}
	page := ta.do("GET", "/conversations/"+conv+"/prompts/2", nil, "", nil)
	if !strings.Contains(page.body, `<html lang="ar" dir="rtl">`) {
		t.Fatal("after the switch the prompt is not in Arabic, right to left")
	}
	q, _ := locales.Localize("ar", locales.PromptMessageID(locales.CommunityConversation, "what_works"), nil)
	has(t, page, q)
	ta.post("/conversations/"+conv+"/prompts/2", url.Values{"answer": {"الصيدلية قريبة"}, "translation_en": {"The pharmacy is near"}}, "")
	// Resume: the first prompt without an answer.
	if r := ta.do("GET", "/conversations/"+conv, nil, "", nil); r.header.Get("Location") != "/conversations/"+conv+"/prompts/3" {
		t.Fatalf("resume went to %q", r.header.Get("Location"))
	}
	c, _ := ta.dev.Conversation(ctx, conv)
	if len(c.LanguageSwitches) != 1 || c.LanguageSwitches[0].AtPrompt != "what_works" || c.LanguageSwitches[0].From != "en" || c.LanguageSwitches[0].To != "ar" {
		t.Fatalf("switches %+v", c.LanguageSwitches)
	}
	a, _ := c.Answer("what_works")
	if a.PromptLocale != "ar" || a.TranslationEN != "The pharmacy is near" {
		t.Fatalf("answer %+v", a)
	}
	if a, _ := c.Answer("services_used"); len(a.Choices) != 2 || a.PromptLocale != "en" {
		t.Fatalf("answer %+v", a)
	}
	r = ta.post("/conversations/"+conv+"/equality", url.Values{"eq_age_band": {"25_34"}, "eq_religion": {"prefer_not_to_say"}}, "")
	if r.header.Get("Location") != "/conversations/"+conv+"/contact" {
		t.Fatalf("equality → %q", r.header.Get("Location"))
	}
	r = ta.post("/conversations/"+conv+"/contact", url.Values{"email": {"not-an-email"}}, "")
	if r.status != http.StatusBadRequest {
		t.Fatalf("bad email: %d", r.status)
	}
	ta.post("/conversations/"+conv+"/contact", url.Values{"email": {"amina@example.org"}}, "")
	r = ta.post("/conversations/"+conv+"/notes", url.Values{"note": {"Busy stall"}, "themes": {"Transport, waiting times"}, "go": {"finish"}}, "")
	c, _ = ta.dev.Conversation(ctx, conv)
	if r.header.Get("Location") != "/consents/"+c.Consent+"/receipt" || c.EndedAt == 0 {
		t.Fatalf("finish → %q ended %d", r.header.Get("Location"), c.EndedAt)
	}
	if len(c.Notes) != 1 || len(c.Themes) != 2 {
		t.Fatalf("notes %v themes %v", c.Notes, c.Themes)
	}
	p, _ := ta.dev.Participant(ctx, c.Participant)
	if p.Equality["eq_age_band"] != "25_34" || p.Equality["eq_religion"] != "prefer_not_to_say" || p.ContactEmail != "amina@example.org" {
		t.Fatalf("participant %+v", p)
	}
	// The receipt is in the participant's language: the consent statement's (English here).
	rc := ta.do("GET", "/consents/"+c.Consent+"/receipt", nil, "cy", nil)
	has(t, rc, c.Consent)
	has(t, rc, msg("en", "fieldapp.receipt.keep", nil))
	// Withdraw on the spot erases the conversation.
	if r := ta.post("/consents/"+c.Consent+"/withdraw", url.Values{"reason": {"changed mind"}}, ""); r.status != http.StatusSeeOther {
		t.Fatalf("withdraw: %d %s", r.status, r.body)
	}
	if _, err := ta.dev.Conversation(ctx, conv); err == nil {
		t.Fatal("conversation still readable after withdrawal")
	}
	if r := ta.do("GET", "/conversations/"+conv+"/prompts/1", nil, "", nil); r.status != http.StatusGone && r.status != http.StatusNotFound {
		t.Fatalf("erased conversation page: %d", r.status)
	}
}

// TestNoInlineScriptOrStyle: the CSP forbids inline script; no page may depend on it.
func TestNoInlineScriptOrStyle(t *testing.T) {
	ta := newTestApp(t)
	conv := ta.consent("ur", "record_views", "equality_monitoring", "contact_for_feedback")
	c, _ := ta.dev.Conversation(context.Background(), conv)
	for _, path := range []string{"/enrol", "/engagements", "/engagements/" + ta.eng + "/consent", "/conversations",
		"/conversations/" + conv + "/prompts/1", "/conversations/" + conv + "/prompts/2", "/conversations/" + conv + "/equality",
		"/conversations/" + conv + "/contact", "/conversations/" + conv + "/notes", "/consents/" + c.Consent + "/receipt",
		"/consents/" + c.Consent + "/withdraw", "/sync", "/nope"} {
		r := ta.do("GET", path, nil, "", nil)
		if r.status >= 500 {
			t.Errorf("%s: %d", path, r.status)
		}
		if !strings.Contains(r.header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("%s: CSP %q", path, r.header.Get("Content-Security-Policy"))
		}
		for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(r.body, -1) {
			if !strings.Contains(tag, ` src="/static/`) {
				t.Errorf("%s: inline script %s", path, tag)
			}
		}
		if m := regexp.MustCompile(`\son[a-z]+=|\sstyle=`).FindString(r.body); m != "" {
			t.Errorf("%s: inline handler or style %q", path, m)
		}
	}
	if r := ta.do("GET", "/conversations/"+conv+"/prompts/1", nil, "", nil); !strings.Contains(r.body, `<html lang="ur" dir="rtl">`) {
		t.Error("Urdu conversation is not right to left")
	}
}

func TestParseEnrolment(t *testing.T) {
	for _, c := range []struct{ in, server, code string }{
		{"https://hub.example.org/enrol?code=abcd-2345", "https://hub.example.org", "ABCD2345"},
		{"https://hub.example.org/base/console/devices/enrol?code=ACDE3467", "https://hub.example.org/base", "ACDE3467"},
		{"http://127.0.0.1:8080/#code=ACDE3467", "http://127.0.0.1:8080", "ACDE3467"},
		{"fieldnotes://enrol?server=https%3A%2F%2Fhub.example.org%2F&code=ACDE3467", "https://hub.example.org", "ACDE3467"},
		// What the console's QR code holds (server/console/qr.go).
		{"fieldnotes:enrol?code=ACDE3467&server=http%3A%2F%2F127.0.0.1%3A8080", "http://127.0.0.1:8080", "ACDE3467"},
		{`{"server": "https://hub.example.org/", "code": "acde3467"}`, "https://hub.example.org", "ACDE3467"},
		{` {"url": "http://10.0.0.2:8080", "code": "ACDE3467"} `, "http://10.0.0.2:8080", "ACDE3467"},
	} {
		s, code, ok := ParseEnrolment(c.in)
		if !ok || s != c.server || code != c.code {
			t.Errorf("%s: got %q %q %v", c.in, s, code, ok)
		}
	}
	for _, bad := range []string{"", "https://hub.example.org", "ACDE3467", "{}", `{"server":"x"}`, "::"} {
		if _, _, ok := ParseEnrolment(bad); ok {
			t.Errorf("%q: parsed", bad)
		}
	}
}

func TestEnrolBadInput(t *testing.T) {
	dev, err := sdk.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	a, _ := New(dev, Options{AutoSync: -1})
	srv := httptest.NewServer(a)
	defer srv.Close()
	ta := &testApp{TB: t, dev: dev, app: a, srv: srv}
	if r := ta.do("GET", "/", nil, "", nil); r.header.Get("Location") != "/enrol" {
		t.Fatalf("unenrolled home → %q", r.header.Get("Location"))
	}
	for _, c := range []struct {
		form url.Values
		id   string
	}{
		{url.Values{"code": {"ACDE3467"}}, "fieldapp.enrol.server_missing"},
		{url.Values{"server": {"hub.example.org"}, "code": {"ACDE3467"}}, "fieldapp.enrol.server_invalid"},
		{url.Values{"server": {"http://127.0.0.1:9"}}, "fieldapp.enrol.code_missing"},
	} {
		r := ta.post("/enrol", c.form, "bn")
		if r.status != http.StatusBadRequest {
			t.Errorf("%v: status %d", c.form, r.status)
		}
		has(t, r, msg("bn", c.id, nil))
	}
	// Nothing listens on port 9: the error says so in the worker's language.
	r := ta.post("/enrol", url.Values{"server": {"http://127.0.0.1:9"}, "code": {"ACDE3467"}}, "gu")
	if r.status != http.StatusServiceUnavailable {
		t.Errorf("unreachable server: status %d", r.status)
	}
	has(t, r, (&sdk.Error{Code: sdk.CodeConnectionRefused}).Message("gu"))
	if _, err := dev.Identity(); err == nil {
		t.Fatal("failed enrolment left an identity")
	}
}

// TestStartLoopbackOnly: Start listens on loopback only, answers under its own address
// (and localhost) and refuses another Host; Stop stops it.
func TestStartLoopbackOnly(t *testing.T) {
	dev, err := sdk.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	for _, bad := range []string{"0.0.0.0:0", ":0", "192.0.2.7:80", "example.org:80", "no-port"} {
		if _, err := Start(dev, bad, Options{AutoSync: -1}); !errors.Is(err, ErrNotLoopback) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	srv, err := Start(dev, "localhost:0", Options{AutoSync: -1})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(srv.URL)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for host, want := range map[string]int{u.Host: http.StatusSeeOther, "localhost:" + u.Port(): http.StatusSeeOther, "attacker.example:" + u.Port(): http.StatusMisdirectedRequest} {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		req.Host = host
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("Host %s: %d, want %d", host, res.StatusCode, want)
		}
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(srv.URL); err == nil {
		t.Fatal("still serving after Stop")
	}
}

// TestConsentWithoutRecordViews: a person who agrees to be contacted but not to have their
// views written down gets a consent (and its receipt) and no conversation.
func TestConsentWithoutRecordViews(t *testing.T) {
	ta := newTestApp(t)
	r := ta.post("/engagements/"+ta.eng+"/consent", url.Values{"lang": {"pt"}, "method": {"written"}, "scope": {"contact_for_feedback"}}, "")
	m := regexp.MustCompile(`^/consents/([0-9a-f-]+)/receipt$`).FindStringSubmatch(r.header.Get("Location"))
	if r.status != http.StatusSeeOther || m == nil {
		t.Fatalf("%d → %q", r.status, r.header.Get("Location"))
	}
	if cs, _ := ta.dev.Conversations(context.Background(), ""); len(cs) != 0 {
		t.Fatalf("%d conversations started without record_views", len(cs))
	}
	rc := ta.do("GET", "/consents/"+m[1]+"/receipt", nil, "", nil)
	if !strings.Contains(rc.body, `<html lang="pt" dir="ltr">`) {
		t.Error("the receipt is not in the participant's language")
	}
	has(t, rc, msg("pt", "fieldapp.receipt.keep", nil))
	has(t, rc, m[1])
}

// TestStaticAssets: every asset is served from the binary, and none refers to anywhere
// else (the NHS.UK stylesheet is served without its remote web font).
func TestStaticAssets(t *testing.T) {
	ta := newTestApp(t)
	for path, ctype := range map[string]string{
		"/static/nhsuk/nhsuk-frontend.min.css": "text/css", "/static/nhsuk/nhsuk-frontend.min.js": "javascript",
		"/static/app.css": "text/css", "/static/app.js": "javascript", "/static/init.js": "javascript",
		"/static/nhsuk/favicon.svg": "image/svg+xml",
	} {
		r := ta.do("GET", path, nil, "", nil)
		if r.status != http.StatusOK || !strings.Contains(r.header.Get("Content-Type"), ctype) {
			t.Errorf("%s: %d %q", path, r.status, r.header.Get("Content-Type"))
		}
		if m := regexp.MustCompile(`url\(\s*["']?(https?:)?//|https?://[a-z]`).FindString(r.body); m != "" && !strings.HasSuffix(path, ".svg") && !strings.HasSuffix(path, ".min.js") {
			t.Errorf("%s refers elsewhere: %q", path, m)
		}
	}
	css := ta.do("GET", "/static/nhsuk/nhsuk-frontend.min.css", nil, "", nil).body
	if strings.Contains(css, "assets.nhs.uk") || strings.Contains(css, "@font-face") || !strings.Contains(css, ".nhsuk-button{") {
		t.Error("the served NHS.UK stylesheet still loads a web font, or lost its rules")
	}
}
