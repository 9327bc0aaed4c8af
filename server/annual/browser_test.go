package annual

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// chromium finds the browser, or skips (fails under FIELDNOTES_REQUIRE_BROWSER=1).
func chromium(t *testing.T) string {
	t.Helper()
	p := FindChromium(os.Getenv("FIELDNOTES_CHROMIUM"))
	if p == "" {
		if os.Getenv("FIELDNOTES_REQUIRE_BROWSER") == "1" {
			t.Fatal("no Chromium found and FIELDNOTES_REQUIRE_BROWSER=1")
		}
		t.Skip("no Chromium found (install chromium or set FIELDNOTES_CHROMIUM); skipping browser test")
	}
	return p
}

func pdftotext(t *testing.T, pdf []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("FIELDNOTES_REQUIRE_BROWSER") == "1" {
			t.Fatal("pdftotext (poppler-utils) not found")
		}
		t.Skip("pdftotext (poppler-utils) not found; skipping")
	}
	path := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	return squash(string(out))
}

// squash makes text extracted from a PDF comparable with what was printed: it drops the
// bidi controls pdftotext puts around right-to-left runs, Arabic vowel marks (which
// extraction moves to a neighbouring letter and separates with spaces) and all white
// space (lines wrap differently in print, and extraction puts right-to-left punctuation
// at the other end of a word).
var squashRE = regexp.MustCompile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\u064b-\u065f\u0670\u0640\\s]+")

func squash(s string) string { return squashRE.ReplaceAllString(s, "") }

// TestPDF prints the fixture's report in English and Arabic with Chromium and reads it
// back with pdftotext: the sections, the figures, the Arabic summary as text, and none of
// the words that must never be shown.
func TestPDF(t *testing.T) {
	pr := NewPrinter(chromium(t))
	f := newFixture(t)
	for _, lang := range []string{"en", "ar"} {
		rep, html := renderReport(t, f, lang)
		pdf, err := pr.PDF(context.Background(), []byte(html))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
			t.Fatalf("%s: not a PDF", lang)
		}
		text := pdftotext(t, pdf)
		l := L{Lang: lang}
		var want []string
		for _, id := range []string{"annual.section.governance", "annual.section.strategy", "annual.section.activities",
			"annual.section.insight", "annual.section.equality", "annual.section.about", "annual.we_asked", "annual.you_said", "annual.we_did", "annual.page"} {
			want = append(want, l.T(id))
		}
		want = append(want, "Friday market", "After Friday prayers", "Library drop-in")
		// Figures, as table rows: total people, the insight table, feedback by language.
		want = append(want, l.T("annual.facts.participants")+" "+l.count(rep.Facts.ByLanguage.Total.Participants).Text,
			"Interpreters 1 10", "Mental health 1 20", l.language("pl")+" "+l.T("annual.hidden"))
		if lang == "ar" {
			want = append(want, arabicSummary, pickedWords)
		} else {
			want = append(want, englishSummary, pickedEnglish)
		}
		for _, w := range want {
			if !strings.Contains(text, squash(w)) {
				t.Errorf("%s PDF lacks %q", lang, w)
			}
		}
		for _, bad := range []string{withdrawnWords, unconsentedWords, rejectedWords, "Zebra", "Otters", "Herons"} {
			if strings.Contains(text, squash(bad)) {
				t.Errorf("%s PDF shows %q", lang, bad)
			}
		}
		if t.Failed() {
			t.Logf("%s PDF text:\n%s", lang, text)
		}
	}
}

func TestPDFUnavailable(t *testing.T) {
	for _, p := range []*Printer{nil, NewPrinter(""), NewPrinter("/nonexistent/chromium")} {
		_, err := p.PDF(context.Background(), []byte("<p>x"))
		if e, ok := err.(*Error); !ok || e.Code != CodePDFUnavailable {
			t.Errorf("%+v: got %v, want pdf_unavailable", p, err)
		}
	}
	if FindChromium("/nonexistent/chromium") != "" {
		t.Error("FindChromium accepted a path that does not exist")
	}
}

// axeRun loads url in Chromium (its CSP in force), checks the page's style sheet applied
// under that CSP, injects axe-core and returns the WCAG 2.2 A/AA violations.
func axeRun(t *testing.T, browser, url string, checkStyle bool) []any {
	t.Helper()
	axe, err := os.ReadFile("../../testdata/axe/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	actx, acancel := chromedp.NewExecAllocator(ctx, chromedp.ExecPath(browser), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()))
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	if err := chromedp.Do(bctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	// The style sheet is allowed by the CSP's hash: the h2 rule applies.
	colour, err := chromedp.Run(bctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector('h1')).fontSize`))
	if checkStyle && (err != nil || colour != "32px") {
		t.Errorf("the page's style did not apply under its CSP (h1 font-size %q, %v)", colour, err)
	}
	// axe is injected through the debugger, which the page's CSP does not govern; bypass
	// it anyway so that the check does not depend on that.
	if err := chromedp.Do(bctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[chromedp.Void](string(axe))); err != nil {
		t.Fatal(err)
	}
	res, err := chromedp.Run(bctx, chromedp.Evaluate[string](`axe.run({runOnly:{type:'tag',values:['wcag2a','wcag2aa','wcag21a','wcag21aa','wcag22aa']}}).then(r => JSON.stringify(r.violations))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	var v []any
	json.Unmarshal([]byte(res), &v)
	return v
}

// TestAxe: the report and the public page, in English and Arabic, as served (with their
// CSP), have no WCAG 2.2 A/AA violation axe-core finds.
func TestAxe(t *testing.T) {
	browser := chromium(t)
	f := newFixture(t)
	pages := map[string]func(lang string) (string, string){
		"report": func(lang string) (string, string) {
			rep, _ := renderReport(t, f, lang)
			var buf bytes.Buffer
			csp, err := RenderHTML(&buf, rep)
			if err != nil {
				t.Fatal(err)
			}
			return buf.String(), csp
		},
		"public": func(lang string) (string, string) {
			p, err := f.svc.BuildPublic(context.Background(), f.e1, lang)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			csp, err := RenderPublic(&buf, p, 0)
			if err != nil {
				t.Fatal(err)
			}
			return buf.String(), csp
		},
	}
	// The check can fail: a page with an image without a text alternative.
	t.Run("control", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`<!DOCTYPE html><html><head><title>x</title></head><body><h1>x</h1><img src="data:,"></body></html>`))
		}))
		defer srv.Close()
		if v := axeRun(t, browser, srv.URL, false); len(v) == 0 {
			t.Error("axe found nothing wrong with a page lacking lang and an image's alt text")
		}
	})
	for name, render := range pages {
		for _, lang := range []string{"en", "ar"} {
			t.Run(name+"-"+lang, func(t *testing.T) {
				html, csp := render(lang)
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Security-Policy", csp)
					w.Header().Set("Content-Type", "text/html; charset=utf-8")
					w.Write([]byte(html))
				}))
				defer srv.Close()
				if v := axeRun(t, browser, srv.URL, true); len(v) > 0 {
					b, _ := json.MarshalIndent(v, "", "  ")
					t.Errorf("%d axe violations:\n%s", len(v), b)
				}
			})
		}
	}
}
