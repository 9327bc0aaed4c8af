package fieldapp_test

// The whole journey in a real browser at tablet size, against the real binaries: the
// server (fieldnotes-server --demo) and the field app (fieldnotes app), each its own
// process. axe-core checks every screen, in English and in Arabic.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/fieldnotes/fieldnotes/locales"
)

var (
	buildOnce sync.Once
	bins      map[string]string
	buildErr  error
)

// buildBinaries compiles the server and the fieldnotes CLI once per test run.
func buildBinaries(t *testing.T) map[string]string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fieldapp-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		bins = map[string]string{"server": filepath.Join(dir, "fieldnotes-server"), "cli": filepath.Join(dir, "fieldnotes")}
		for name, pkg := range map[string]string{"server": "./server/cmd/fieldnotes-server", "cli": "./client-sdk/cmd/fieldnotes"} {
			cmd := exec.Command("go", "build", "-o", bins[name], pkg)
			cmd.Dir = "../.."
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return bins
}

// proc is a running binary whose first matching stdout line gave its URL.
type proc struct {
	cmd    *exec.Cmd
	URL    string
	stderr *bytes.Buffer
	done   chan error
}

func startProc(t *testing.T, bin string, args []string, urlOf func(line string) (string, bool)) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "FIELDNOTES_JWT_SECRET=fieldapp-e2e-0123456789abcdef0123456789abcdef")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := urlOf(sc.Text()); ok {
				urlc <- u
			}
		}
		io.Copy(io.Discard, out)
	}()
	go func() { p.done <- cmd.Wait() }()
	select {
	case p.URL = <-urlc:
	case err := <-p.done:
		t.Fatalf("%s exited: %v\n%s", bin, err, p.stderr)
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("%s did not start:\n%s", bin, p.stderr)
	}
	t.Cleanup(func() { p.stop(t, syscall.SIGKILL) })
	return p
}

// stop signals the process and checks that it exits 0 (unless it is being killed).
func (p *proc) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Signal(sig)
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil && sig != syscall.SIGKILL {
			t.Errorf("%s exit after %v: %v\n%s", p.cmd.Path, sig, err, p.stderr)
		}
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		t.Errorf("%s did not stop on %v", p.cmd.Path, sig)
	}
}

func startHub(t *testing.T, data, addr string, demo bool) *proc {
	args := []string{"--addr", addr, "--data", data}
	if demo {
		args = append(args, "--demo")
	}
	return startProc(t, buildBinaries(t)["server"], args, func(l string) (string, bool) {
		u, ok := strings.CutPrefix(l, "listening on ")
		return strings.TrimSpace(u), ok
	})
}

func startApp(t *testing.T, data string) *proc {
	return startProc(t, buildBinaries(t)["cli"], []string{"app", "--data", data, "--addr", "127.0.0.1:0", "--sync-every", "1s"},
		func(l string) (string, bool) { return strings.TrimSpace(l), strings.HasPrefix(l, "http://127.0.0.1:") })
}

// coordinator is a signed-in coordinator on the hub.
type coordinator struct {
	url, token string
}

func (c *coordinator) get(t *testing.T, path string, out any) {
	t.Helper()
	req, _ := http.NewRequest("GET", c.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
}

type hubRecord struct {
	ID     string                     `json:"id"`
	Fields map[string]json.RawMessage `json:"fields"`
}

func (r hubRecord) str(f string) string {
	var s string
	json.Unmarshal(r.Fields[f], &s)
	return s
}

// browser is a headless Chromium tab.
type browser struct {
	t   *testing.T
	ctx context.Context
	axe string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := "/usr/bin/chromium"
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("FIELDNOTES_REQUIRE_BROWSER") == "1" {
			t.Fatalf("chromium not found at %s and FIELDNOTES_REQUIRE_BROWSER=1", path)
		}
		t.Skipf("chromium not found at %s: skipping the browser test (FIELDNOTES_REQUIRE_BROWSER=1 makes this fail)", path)
	}
	axe, err := os.ReadFile("../../testdata/axe/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "en-GB"),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	b := &browser{t: t, ctx: ctx, axe: string(axe)}
	// The first run starts the browser: it gets the browser's own context, no timeout.
	// Every page records what its CSP blocked: nothing may even try to load from elsewhere.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(768, 1024, chromedp.EmulatePortrait, chromedp.EmulateTouch),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
				Source: `window.__csp = []; document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`})
			return err
		})); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v (at %s)", err, b.location())
	}
}

func (b *browser) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	return loc
}

func eval[T any](b *browser, js string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("eval %s: %v (at %s)", js, err, b.location())
	}
	return v
}

// helpers find controls the way a person (or a screen reader) does: by their name.
const helpers = `
window.__t = (s) => (s || '').replace(/\s+/g, ' ').trim();
window.__label = (name) => {
  for (const l of document.querySelectorAll('label')) {
    const t = __t(l.textContent);
    if (t === name || t.startsWith(name + ' (')) return document.getElementById(l.htmlFor) || l.querySelector('input,select,textarea');
  }
  throw new Error('no control labelled ' + JSON.stringify(name) + ' on ' + location.pathname);
};
window.__button = (name) => {
  for (const el of document.querySelectorAll('button, a[role=button], a')) {
    const t = __t(el.textContent);
    if ((t === name || t.startsWith(name + ' (')) && el.offsetParent !== null) return el;
  }
  throw new Error('no button ' + JSON.stringify(name) + ' on ' + location.pathname);
};
true`

func (b *browser) ready() {
	b.t.Helper()
	// The page may be navigating while we ask: ask again until the new one is loaded.
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.readyState === 'complete' && !window.__old`))
		cancel()
		if err == nil && ok {
			break
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("page did not load: %v (at %s)", err, b.location())
		}
		time.Sleep(50 * time.Millisecond)
	}
	eval[bool](b, helpers)
}

func (b *browser) open(url string) {
	b.t.Helper()
	b.do(chromedp.Navigate(url))
	b.ready()
}

// press clicks the button or link with this name and waits for the next page.
func (b *browser) press(name string) {
	b.t.Helper()
	eval[bool](b, fmt.Sprintf(`window.__old = true; __button(%q).click(); true`, name))
	b.ready()
}

func (b *browser) fill(label, value string) {
	b.t.Helper()
	eval[bool](b, fmt.Sprintf(`(() => { const c = __label(%q); c.value = %q; return true })()`, label, value))
}

func (b *browser) tick(label string) {
	b.t.Helper()
	eval[bool](b, fmt.Sprintf(`(() => { const c = __label(%q); if (!c.checked) c.click(); return c.checked })()`, label))
}

// language picks a language in the language control (found by its name "Language"
// wherever the page is) and sends it with the control's button.
func (b *browser) language(tag string) {
	b.t.Helper()
	eval[bool](b, fmt.Sprintf(`(() => {
      const sel = [...document.querySelectorAll('select')].find(s => s.labels[0] && s.labels[0].textContent.includes('Language'))
        || __label(%q);
      window.__old = true;
      sel.value = %q;
      sel.form.querySelector('button').click();
      return true })()`, msg("en", "fieldapp.language"), tag))
	b.ready()
}

func (b *browser) text() string { return eval[string](b, `document.body.innerText`) }

func (b *browser) path() string { return eval[string](b, `location.pathname`) }

// checkScreen runs axe-core (WCAG 2.2 AA rules) on the page and fails on any violation;
// it also checks that the page is in lang and that nothing scrolls sideways.
func (b *browser) checkScreen(name, lang string) {
	b.t.Helper()
	if got := eval[string](b, `document.documentElement.lang + ' ' + document.documentElement.dir`); got != lang+" "+locales.Direction(lang) {
		b.t.Errorf("%s: <html lang dir> = %q, want %s %s", name, got, lang, locales.Direction(lang))
	}
	if v := eval[string](b, `JSON.stringify(window.__csp || [])`); v != "[]" {
		b.t.Errorf("%s: the page tried to load what its CSP forbids: %s", name, v)
	}
	if !eval[bool](b, `typeof axe !== 'undefined'`) {
		eval[bool](b, b.axe+";true")
	}
	res := eval[string](b, `axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a','wcag2aa','wcag21a','wcag21aa','wcag22aa']}})
      .then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)}))))`)
	if res != "[]" {
		b.t.Errorf("axe on %s (%s, %s): %s", name, lang, b.path(), res)
	}
	small := eval[string](b, `JSON.stringify([...document.querySelectorAll('main button, main select, main input:not([type=hidden]):not([type=radio]):not([type=checkbox]), main textarea, main .nhsuk-radios__label, main .nhsuk-checkboxes__label, header a, header button, header select, main a.app-biglink')]
      .filter(e => e.offsetParent !== null).map(e => [e, e.getBoundingClientRect()]).filter(([e, r]) => r.height < 44 || r.width < 44)
      .map(([e, r]) => e.outerHTML.slice(0, 80) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height)))`)
	if small != "[]" {
		b.t.Errorf("%s: touch targets under 44px: %s", name, small)
	}
	if w := eval[bool](b, `document.documentElement.scrollWidth > window.innerWidth + 1`); w {
		b.t.Errorf("%s: the page scrolls sideways at %s", name, eval[string](b, `window.innerWidth + 'px'`))
	}
	if dir := os.Getenv("FIELDAPP_SCREENSHOTS"); dir != "" {
		ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
		defer cancel()
		if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
			os.WriteFile(filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+"-"+lang+".png"), png, 0o644)
		}
	}
}

func msg(lang, id string) string {
	s, _ := locales.Localize(lang, id, nil)
	return s
}

func prompt(lang, id string) string {
	s, _ := locales.Localize(lang, locales.PromptMessageID(locales.CommunityConversation, id), nil)
	return s
}

func choice(lang, p, c string) string {
	s, _ := locales.Localize(lang, locales.ChoiceMessageID(locales.CommunityConversation, p, c), nil)
	return s
}

// syncNow presses "Sync now" and waits until nothing is waiting to be sent.
func (b *browser) syncNow(appURL string) {
	b.t.Helper()
	b.open(appURL + "sync")
	eval[bool](b, fmt.Sprintf(`__button(%q).click(); true`, msg(eval[string](b, `document.documentElement.lang`), "fieldapp.sync.now")))
	deadline := time.Now().Add(60 * time.Second)
	for {
		st := eval[string](b, `fetch('/sync/status').then(r => r.text())`)
		var v struct {
			Running bool   `json:"running"`
			Pending int    `json:"pending"`
			Last    int64  `json:"last_sync"`
			Problem string `json:"problem"`
		}
		json.Unmarshal([]byte(st), &v)
		if !v.Running && v.Pending == 0 && v.Last > 0 && v.Problem == "" {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("sync did not finish: %s", st)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// holdPort keeps a stopped server's port while it is down, so that no other test's
// listener is given it before the server comes back on it. A connection is closed at once:
// to the tablet the server is still away.
func holdPort(t *testing.T, addr string) io.Closer {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("hold %s: %v", addr, err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return ln
}

func TestJourney(t *testing.T) {
	if testing.Short() {
		t.Skip("browser journey: not in -short")
	}
	b := newBrowser(t)
	hubData, tabData := t.TempDir(), t.TempDir()
	hub := startHub(t, hubData, "127.0.0.1:0", true)
	hubAddr := strings.TrimPrefix(hub.URL, "http://") // it comes back on the same port
	var demo struct {
		Team        string `json:"team"`
		Coordinator struct{ Email, Password string }
		Code        string `json:"enrolment_code"`
		Engagement  string `json:"engagement_id"`
	}
	raw, err := os.ReadFile(filepath.Join(hubData, "demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(raw, &demo)
	app := startApp(t, tabData)

	// Enrol with the code, typed.
	b.open(app.URL)
	if b.path() != "/enrol" {
		t.Fatalf("a new tablet opens on %s, not /enrol", b.path())
	}
	b.checkScreen("enrol", "en")
	b.fill("Server address", hub.URL)
	b.fill("Enrolment code", demo.Code)
	b.press("Enrol this tablet")
	if b.path() != "/engagements" {
		t.Fatalf("after enrolment: %s\n%s", b.path(), b.text())
	}
	// Sync, then the demo engagement is there.
	b.syncNow(app.URL)
	b.checkScreen("sync", "en")
	b.open(app.URL + "engagements")
	if !strings.Contains(b.text(), "Start a conversation") {
		t.Fatalf("no engagement after sync:\n%s", b.text())
	}
	b.checkScreen("engagements", "en")

	// Conversation 1, in English, with a switch to Arabic and back.
	b.press("Start a conversation")
	b.language("en")
	b.checkScreen("consent", "en")
	for _, s := range locales.ConsentScopes {
		b.tick(msg("en", locales.ScopeMessageID(s)))
	}
	b.tick(msg("en", locales.MethodMessageID("verbal")))
	b.press("Next")
	conv1 := strings.Split(b.path(), "/")[2]
	if b.path() != "/conversations/"+conv1+"/prompts/1" {
		t.Fatalf("after consent: %s", b.path())
	}
	b.checkScreen("prompt choice", "en")
	b.tick(choice("en", "services_used", "gp"))
	b.tick(choice("en", "services_used", "pharmacy"))
	b.press("Next")
	b.checkScreen("prompt text", "en")
	b.fill(prompt("en", "what_works"), "The pharmacist explains things well")
	b.press("Next") // → prompt 3, what_could_be_better
	b.language("ar")
	if !strings.Contains(b.text(), prompt("ar", "what_could_be_better")) || b.path() != "/conversations/"+conv1+"/prompts/3" {
		t.Fatalf("after switching to Arabic at prompt 3 (%s):\n%s", b.path(), b.text())
	}
	b.checkScreen("prompt text", "ar")
	// The worker still finds the contract's controls by their English names.
	for _, name := range []string{"Next", "Language"} {
		if !eval[bool](b, fmt.Sprintf(`[...document.querySelectorAll('button, label')].some(e => e.textContent.includes(%q))`, name)) {
			t.Errorf("no control named %q on the Arabic page", name)
		}
	}
	b.fill(prompt("ar", "what_could_be_better"), "مواعيد أقصر في العيادة")
	b.fill(msg("ar", "fieldapp.prompt.translation"), "Shorter waits at the surgery")
	b.press(msg("ar", "fieldapp.next")) // → prompt 4, barriers
	b.checkScreen("prompt choice", "ar")
	b.tick(choice("ar", "barriers", "language"))
	b.language("en")
	if b.path() != "/conversations/"+conv1+"/prompts/4" || !strings.Contains(b.text(), prompt("en", "barriers")) {
		t.Fatalf("after switching back to English: %s", b.path())
	}
	b.tick(choice("en", "barriers", "language"))
	b.press("Next") // → prompt 5
	// Reload mid-conversation: the same prompt, in English, and on from there.
	at := b.path()
	b.do(chromedp.Reload())
	b.ready()
	if b.path() != at || eval[string](b, `document.documentElement.lang`) != "en" {
		t.Fatalf("reload: %s (%s), was %s", b.path(), eval[string](b, `document.documentElement.lang`), at)
	}
	for strings.Contains(b.path(), "/prompts/") {
		b.press("Next")
	}
	if !strings.HasSuffix(b.path(), "/equality") {
		t.Fatalf("after the prompts: %s", b.path())
	}
	b.checkScreen("equality", "en")
	for _, q := range locales.EqualityQuestions() {
		// Each question has "Prefer not to say"; tick it on the first, a value on the second.
		if q.Field == "eq_age_band" {
			eval[bool](b, `document.getElementById('eq_age_band-prefer_not_to_say').click(); true`)
		}
	}
	eval[bool](b, `document.getElementById('eq_carer-no').click(); true`)
	if n := eval[int](b, `document.querySelectorAll('input[value=prefer_not_to_say]').length`); n != len(locales.EqualityQuestions()) {
		t.Errorf("%d questions offer prefer not to say, want %d", n, len(locales.EqualityQuestions()))
	}
	b.press("Next")
	b.checkScreen("contact", "en")
	b.fill(msg("en", "fieldapp.contact.email"), "amina@example.org")
	b.press("Next")
	b.checkScreen("notes", "en")
	b.fill(msg("en", "fieldapp.notes.note"), "Busy stall, long queue")
	b.fill(msg("en", "fieldapp.notes.themes"), "access, waiting times")
	b.press("Finish")
	if !strings.HasPrefix(b.path(), "/consents/") || !strings.HasSuffix(b.path(), "/receipt") {
		t.Fatalf("after Finish: %s", b.path())
	}
	consent1 := strings.Split(b.path(), "/")[2]
	if !strings.Contains(b.text(), consent1) {
		t.Fatal("the receipt does not show the consent id")
	}
	b.checkScreen("receipt", "en")
	b.open(app.URL + "conversations")
	b.checkScreen("conversations", "en")
	b.open(app.URL + "consents/" + consent1 + "/withdraw?lang=en")
	b.checkScreen("withdraw", "en")
	b.open(app.URL + "nope")
	b.checkScreen("error", "en")

	// The server goes away: conversation 2 is recorded offline, all in Arabic.
	hub.stop(t, syscall.SIGTERM)
	hold := holdPort(t, hubAddr)
	b.open(app.URL + "engagements")
	b.language("ar")
	b.checkScreen("engagements", "ar")
	b.press(msg("ar", "fieldapp.engagements.start"))
	b.language("ar")
	b.checkScreen("consent", "ar")
	for _, s := range []string{"record_views", "equality_monitoring", "contact_for_feedback"} {
		b.tick(msg("ar", locales.ScopeMessageID(s)))
	}
	b.tick(msg("ar", locales.MethodMessageID("interpreter")))
	b.fill(msg("ar", "fieldapp.consent.interpreter"), "Son")
	b.press(msg("ar", "fieldapp.next"))
	conv2 := strings.Split(b.path(), "/")[2]
	b.tick(choice("ar", "services_used", "hospital"))
	b.press(msg("ar", "fieldapp.next"))
	b.fill(prompt("ar", "what_works"), "الممرضات لطيفات")
	b.press(msg("ar", "fieldapp.next"))
	for strings.Contains(b.path(), "/prompts/") {
		b.press(msg("ar", "fieldapp.next"))
	}
	b.checkScreen("equality", "ar")
	b.press(msg("ar", "fieldapp.next"))
	b.checkScreen("contact", "ar")
	b.press(msg("ar", "fieldapp.next"))
	b.checkScreen("notes", "ar")
	b.press(msg("ar", "fieldapp.finish"))
	b.checkScreen("receipt", "ar")
	consent2 := strings.Split(b.path(), "/")[2]
	b.open(app.URL + "consents/" + consent2 + "/withdraw")
	b.checkScreen("withdraw", "ar")
	b.open(app.URL + "conversations")
	b.checkScreen("conversations", "ar")
	b.open(app.URL + "sync")
	b.checkScreen("sync", "ar")
	var offline struct {
		Pending int    `json:"pending"`
		Text    string `json:"pending_text"`
	}
	json.Unmarshal([]byte(eval[string](b, `fetch('/sync/status').then(r => r.text())`)), &offline)
	if offline.Pending == 0 || !strings.Contains(b.text(), offline.Text) {
		t.Errorf("offline, the sync screen does not show what is waiting: %+v", offline)
	}
	if !strings.Contains(b.text(), msg("ar", "fieldapp.sync.offline")) {
		t.Errorf("offline, the sync screen does not say the server cannot be reached:\n%s", b.text())
	}
	// Conversation 3 is withdrawn on the spot: the person changes their mind.
	b.open(app.URL + "engagements")
	b.press(msg("ar", "fieldapp.engagements.start"))
	b.language("en")
	b.tick(msg("en", locales.ScopeMessageID("record_views")))
	b.tick(msg("en", locales.MethodMessageID("written")))
	b.press("Next")
	conv3 := strings.Split(b.path(), "/")[2]
	b.tick(choice("en", "services_used", "dentist"))
	b.press("Next")
	b.open(app.URL + "conversations")
	b.language("en")
	consent3 := eval[string](b, fmt.Sprintf(`document.querySelector('[data-conversation=%q] a[href$="/withdraw"]').getAttribute('href').split('/')[2]`, conv3))
	eval[bool](b, fmt.Sprintf(`window.__old = true; document.querySelector('[data-conversation=%q] a[href$="/withdraw"]').click(); true`, conv3))
	b.ready()
	b.press(msg("en", "fieldapp.withdraw.confirm"))
	if card := eval[string](b, fmt.Sprintf(`(document.querySelector('[data-conversation=%q]') || {innerText: 'gone'}).innerText`, conv3)); strings.Contains(card, choice("en", "services_used", "dentist")) {
		t.Errorf("conversation 3 still shows what was said after withdrawal:\n%s", card)
	}
	if !strings.Contains(b.text(), msg("en", "fieldapp.notice.withdrawn")) {
		t.Error("no notice after the withdrawal")
	}
	b.language("ar")
	b.open(app.URL + "nope")
	b.checkScreen("error", "ar")
	b.open(app.URL + "enrol")
	b.checkScreen("enrol", "ar")

	// Stop the app, start it again on the same data, bring the server back, sync.
	app.stop(t, syscall.SIGINT)
	app = startApp(t, tabData)
	hold.Close()
	hub = startHub(t, hubData, hubAddr, false)
	b.open(app.URL + "conversations")
	if !strings.Contains(b.text(), msg("en", "fieldapp.conversations.title")) && !strings.Contains(b.text(), msg("ar", "fieldapp.conversations.title")) {
		t.Fatalf("the restarted app does not show the day's conversations:\n%s", b.text())
	}
	// Automatic sync: the server is back, and without a tap or a reload the status panel
	// (refreshed by the script) comes to say that nothing is waiting.
	b.language("en")
	zero, _ := locales.LocalizePlural("en", "cli.status_pending", 0, nil)
	if eval[string](b, `document.querySelector('[data-sync=pending]').textContent`) == zero {
		t.Fatal("before the automatic sync, nothing is shown as waiting")
	}
	eval[bool](b, `window.__stay = true`)
	deadline := time.Now().Add(45 * time.Second)
	for eval[string](b, `document.querySelector('[data-sync=pending]').textContent`) != zero {
		if time.Now().After(deadline) {
			t.Fatalf("no automatic sync shown: %q", eval[string](b, `document.querySelector('[data-sync=pending]').textContent`))
		}
		time.Sleep(250 * time.Millisecond)
	}
	if !eval[bool](b, `window.__stay === true`) {
		t.Fatal("the page reloaded: the panel was not refreshed in place")
	}
	b.syncNow(app.URL)

	// Both conversations are on the server with the right languages.
	c := &coordinator{url: hub.URL}
	var login struct {
		AccessToken string `json:"access_token"`
	}
	body, _ := json.Marshal(map[string]string{"email": demo.Coordinator.Email, "password": demo.Coordinator.Password})
	res, err := http.Post(hub.URL+"/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(res.Body).Decode(&login)
	res.Body.Close()
	c.token = login.AccessToken
	var list struct {
		Records []hubRecord `json:"records"`
	}
	c.get(t, "/v1/records/conversation?team="+demo.Team+"&limit=1000", &list)
	got := map[string]hubRecord{}
	for _, r := range list.Records {
		got[r.ID] = r
	}
	r1, ok1 := got[conv1]
	r2, ok2 := got[conv2]
	if !ok1 || !ok2 {
		t.Fatalf("on the server: %v, want %s and %s", keys(got), conv1, conv2)
	}
	var sw []struct{ AtPrompt, From, To string }
	var raw1 []map[string]any
	json.Unmarshal(r1.Fields["language_switches"], &raw1)
	for _, s := range raw1 {
		sw = append(sw, struct{ AtPrompt, From, To string }{fmt.Sprint(s["at_prompt"]), fmt.Sprint(s["from"]), fmt.Sprint(s["to"])})
	}
	want := []struct{ AtPrompt, From, To string }{{"what_could_be_better", "en", "ar"}, {"barriers", "ar", "en"}}
	if !slices.Equal(sw, want) {
		t.Errorf("conversation 1 switches on the server: %+v, want %+v", sw, want)
	}
	var loc1, loc2 []string
	json.Unmarshal(r1.Fields["locales"], &loc1)
	json.Unmarshal(r2.Fields["locales"], &loc2)
	slices.Sort(loc1)
	if !slices.Equal(loc1, []string{"ar", "en"}) || !slices.Equal(loc2, []string{"ar"}) {
		t.Errorf("locales on the server: %v and %v", loc1, loc2)
	}
	var a3 struct {
		PromptLocale  string `json:"prompt_locale"`
		TranslationEN string `json:"translation_en"`
	}
	json.Unmarshal(r1.Fields["answer.what_could_be_better"], &a3)
	if a3.PromptLocale != "ar" || a3.TranslationEN != "Shorter waits at the surgery" {
		t.Errorf("answer given in Arabic: %+v", a3)
	}
	if _, ok := got[conv3]; ok {
		t.Error("the conversation withdrawn on the tablet is on the server")
	}
	var k3 struct {
		Withdrawn bool `json:"withdrawn"`
	}
	c.get(t, "/v1/records/consent/"+consent3, &k3)
	if !k3.Withdrawn {
		t.Error("the withdrawal did not reach the server")
	}
	var k hubRecord
	c.get(t, "/v1/records/consent/"+consent2, &k)
	if k.str("statement_locale") != "ar" || k.str("method") != "interpreter" {
		t.Errorf("consent 2 on the server: %s", k.Fields)
	}
	if len(r2.Fields["ended_at"]) == 0 {
		t.Error("conversation 2 did not end on the server")
	}

	// The coordinator reviews conversation 1 (has issues, with a comment); at the next
	// sync the tablet shows it in the day's conversations.
	var me struct {
		NodeID string `json:"node_id"`
	}
	c.get(t, "/v1/auth/me", &me)
	now := time.Now().UnixMilli()
	ops := []map[string]any{
		{"node": me.NodeID, "counter": now, "ts": now, "tc": 0, "collection": "conversation", "record": conv1, "kind": "set", "field": "review_state", "value": "has_issues"},
		{"node": me.NodeID, "counter": now + 1, "ts": now, "tc": 1, "collection": "conversation", "record": conv1, "kind": "set", "field": "review_comment", "value": "Please add the venue to the note"},
	}
	body, _ = json.Marshal(map[string]any{"ops": ops})
	req, _ := http.NewRequest("POST", hub.URL+"/v1/sync/push?team="+demo.Team, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pushed, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(pushed), `"accepted":2`) {
		t.Fatalf("coordinator review push: %d %s", res.StatusCode, pushed)
	}
	b.syncNow(app.URL)
	b.open(app.URL + "conversations")
	b.language("en")
	card := eval[string](b, fmt.Sprintf(`document.querySelector('[data-conversation=%q]').innerText`, conv1))
	if !strings.Contains(card, msg("en", "review.state.has_issues")) || !strings.Contains(card, "Please add the venue to the note") {
		t.Errorf("the review does not show on the tablet:\n%s", card)
	}
	if card2 := eval[string](b, fmt.Sprintf(`document.querySelector('[data-conversation=%q]').innerText`, conv2)); !strings.Contains(card2, msg("en", "review.state.received")) {
		t.Errorf("conversation 2 is not shown as received:\n%s", card2)
	}
	b.checkScreen("conversations reviewed", "en")
	// The worker does what the coordinator asked: a note on the finished conversation.
	eval[bool](b, fmt.Sprintf(`window.__old = true; document.querySelector('[data-conversation=%q] a[href$="/notes"]').click(); true`, conv1))
	b.ready()
	b.fill(msg("en", "fieldapp.notes.note"), "Venue: Sparkhill Community Centre, main hall")
	b.press(msg("en", "fieldapp.notes.save"))
	b.syncNow(app.URL)
	var after hubRecord
	c.get(t, "/v1/records/conversation/"+conv1, &after)
	var notes []string
	json.Unmarshal(after.Fields["notes"], &notes)
	if len(notes) != 2 || notes[1] != "Venue: Sparkhill Community Centre, main hall" {
		t.Errorf("notes on the server after the fix: %q", notes)
	}
	app.stop(t, syscall.SIGINT)
	hub.stop(t, syscall.SIGTERM)
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
