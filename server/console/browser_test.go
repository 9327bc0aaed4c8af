package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Browser tests: the real server binary, Debian's chromium driven by chromedp, axe-core
// on every page. Without chromium they skip, unless FIELDNOTES_REQUIRE_BROWSER=1.

var (
	buildOnce sync.Once
	serverBin string
	buildErr  error
)

func buildServer(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fieldnotes-console-")
		if err != nil {
			buildErr = err
			return
		}
		serverBin = filepath.Join(dir, "fieldnotes-server")
		cmd := exec.Command("go", "build", "-o", serverBin, "./server/cmd/fieldnotes-server")
		cmd.Dir = "../.."
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return serverBin
}

type demoInfo struct {
	Team        string `json:"team"`
	Coordinator struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	} `json:"coordinator"`
	EnrolmentCode string `json:"enrolment_code"`
	EngagementID  string `json:"engagement_id"`
}

const (
	adminEmail    = "admin@example.org"
	adminPassword = "admin-password-for-tests"
)

type liveServer struct {
	URL     string
	Demo    demoInfo
	Console string // what --demo printed about the console
}

// startServer runs the real binary with --demo on a fresh data directory.
func startServer(t *testing.T) *liveServer {
	t.Helper()
	bin := buildServer(t)
	data := t.TempDir()
	cmd := exec.Command(bin, "--addr", "127.0.0.1:0", "--data", data, "--demo", "--log-level", "warn")
	cmd.Env = append(os.Environ(), "FIELDNOTES_JWT_SECRET=console-browser-test-0123456789abcdef0123",
		"FIELDNOTES_ADMIN_EMAIL="+adminEmail, "FIELDNOTES_ADMIN_PASSWORD="+adminPassword)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urlc := make(chan string, 1)
	var printed strings.Builder
	var mu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			mu.Lock()
			printed.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				urlc <- strings.TrimSpace(u)
			}
		}
	}()
	s := &liveServer{}
	select {
	case s.URL = <-urlc:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("server did not start")
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
		}
	})
	b, err := os.ReadFile(filepath.Join(data, "demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s.Demo); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the rest of the demo text
	mu.Lock()
	s.Console = printed.String()
	mu.Unlock()
	return s
}

// browser is one headless chromium tab.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	axe  string

	mu       sync.Mutex
	jsErrors []string // script exceptions and console errors (CSP refusals among them)
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	path := "/usr/bin/chromium"
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("FIELDNOTES_REQUIRE_BROWSER") == "1" {
			t.Fatalf("chromium not found at %s and FIELDNOTES_REQUIRE_BROWSER=1", path)
		}
		t.Skipf("chromium not found at %s: browser tests skipped (apt-get install chromium)", path)
	}
	axe, err := os.ReadFile("../../testdata/axe/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	ctx, cancelC := context.WithTimeout(ctx, 6*time.Minute)
	t.Cleanup(func() { cancelC(); cancelB(); cancelA() })
	b := &browser{t: t, ctx: ctx, base: base, axe: string(axe)}
	// Every script exception and console error is kept: a CSP refusal or a broken
	// module would show there, not in the page.
	if err := chromedp.Listen(ctx, func(ev any) {
		var msg string
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			msg = "exception: " + e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError && e.Entry.Source != cdplog.EntrySourceNetwork {
				msg = string(e.Entry.Source) + ": " + e.Entry.Text + " " + e.Entry.URL
			}
		}
		if msg != "" {
			b.mu.Lock()
			b.jsErrors = append(b.jsErrors, msg)
			b.mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	b.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, cdplog.Enable, cdp.Empty{})
		return err
	}))
	b.size(1280, 900)
	return b
}

// scriptErrors returns the script exceptions and console errors seen so far.
func (b *browser) scriptErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.jsErrors...)
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v (at %s)", err, b.location())
	}
}

// scripts turns the page's scripts on or off (a visitor with JavaScript off).
func (b *browser) scripts(on bool) {
	b.t.Helper()
	b.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !on})
		return err
	}))
}

func (b *browser) size(w, h int64) { b.do(chromedp.EmulateViewport(w, h)) }

// open navigates to path and returns the HTTP status of the page.
func (b *browser) open(path string) int64 {
	b.t.Helper()
	res, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(b.base+path))
	if err != nil {
		b.t.Fatalf("open %s: %v", path, err)
	}
	return res.Status
}

func (b *browser) location() string {
	loc, _ := chromedp.Run(b.ctx, chromedp.Location())
	return loc
}

func (b *browser) eval(js string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.t.Fatalf("eval %s: %v", js, err)
	}
	return v
}

func (b *browser) text(css string) string {
	b.t.Helper()
	return b.eval(`(document.querySelector(` + jsString(css) + `) || {innerText: ""}).innerText`)
}

func jsString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// set fills a form control (input, textarea or select) by CSS selector.
func (b *browser) set(css, value string) {
	b.t.Helper()
	b.do(chromedp.WaitReady(chromedp.CSS(css)), chromedp.SetValue(chromedp.CSS(css), value))
}

func (b *browser) click(css string) { b.t.Helper(); b.do(chromedp.Click(chromedp.CSS(css))) }

// submit clicks a submit button and waits until the next page has loaded.
func (b *browser) submit(css string) {
	b.t.Helper()
	b.eval(`window.__fnOld = "1"; "ok"`)
	b.do(chromedp.Click(chromedp.CSS(css)))
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(window.__fnOld === undefined && document.readyState === "complete") ? "new" : "old"`))
		if err == nil && v == "new" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Fatalf("no new page after clicking %s (at %s)", css, b.location())
}

// checkAxe runs axe-core on the page and fails on any WCAG 2.2 A/AA violation.
func (b *browser) checkAxe(name string) {
	b.t.Helper()
	b.eval(b.axe + `; "ok"`)
	out, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`axe.run({runOnly:{type:'tag',values:['wcag2a','wcag2aa','wcag21a','wcag21aa','wcag22aa']}}).then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ") + " :: " + n.failureSummary)}))))`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("axe on %s: %v", name, err)
	}
	if out != "[]" {
		var pretty []any
		json.Unmarshal([]byte(out), &pretty)
		p, _ := json.MarshalIndent(pretty, "", "  ")
		b.t.Errorf("axe: %s (%s) has violations:\n%s", name, b.location(), p)
	}
}

func (b *browser) signIn(email, password string) {
	b.t.Helper()
	if st := b.open("/console/"); st != 200 {
		b.t.Fatalf("sign-in page: %d", st)
	}
	if !strings.Contains(b.location(), "/console/sign-in") {
		b.t.Fatalf("not sent to sign in: %s", b.location())
	}
	b.set("#email", email)
	b.set("#password", password)
	b.submit(`main form[action="/console/sign-in"] button[type=submit]`)
	if !strings.HasSuffix(strings.SplitN(b.location(), "?", 2)[0], "/console/") {
		b.t.Fatalf("after sign-in at %s: %s", b.location(), b.text("main"))
	}
}

// crawl visits every console page linked from the console (breadth first, from the
// navigation), checks each answers 200 and passes axe, at the current size.
func (b *browser) crawl(label string) []string {
	b.t.Helper()
	seen := map[string]bool{"/console/": true}
	queue := []string{"/console/"}
	var visited []string
	for len(queue) > 0 && len(visited) < 80 {
		path := queue[0]
		queue = queue[1:]
		if st := b.open(path); st != 200 {
			b.t.Errorf("%s: GET %s answered %d", label, path, st)
			continue
		}
		visited = append(visited, path)
		b.checkAxe(label + " " + path)
		var links []string
		raw := b.eval(`JSON.stringify(Array.from(document.querySelectorAll("a[href]")).filter(a => !a.hasAttribute("download")).map(a => a.getAttribute("href")))`)
		json.Unmarshal([]byte(raw), &links)
		for _, l := range links {
			u, err := url.Parse(l)
			if err != nil || (u.Host != "" && !strings.HasPrefix(b.base, u.Scheme+"://"+u.Host)) || !strings.HasPrefix(u.Path, "/console/") {
				continue
			}
			p := u.Path
			if u.RawQuery != "" {
				p += "?" + u.RawQuery
			}
			// One page per route shape is enough for the crawl: collapse ids.
			key := shape(u.Path)
			if u.RawQuery != "" && !strings.Contains(u.RawQuery, "page=") {
				key += "?" + strings.Split(u.RawQuery, "=")[0]
			}
			if !seen[key] {
				seen[key] = true
				queue = append(queue, p)
			}
		}
	}
	return visited
}

// shape replaces ids in a path so /console/conversations/<a> and /<b> count once.
func shape(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if len(s) == 36 && strings.Count(s, "-") == 4 {
			parts[i] = "{id}"
		}
	}
	return strings.Join(parts, "/")
}
