package annual

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

func timeMS(ms int64) time.Time { return time.UnixMilli(ms) }

// FindChromium names the browser PDFs are printed with: path if given (the --chromium
// flag or FIELDNOTES_CHROMIUM), else the first of chromium, chromium-browser,
// google-chrome, google-chrome-stable on PATH. "" when there is none.
func FindChromium(path string) string {
	if path != "" {
		if p, err := exec.LookPath(path); err == nil {
			return p
		}
		return ""
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Printer prints HTML pages to PDF with headless Chromium, a few at a time.
type Printer struct {
	// Chromium is the browser's path; "" means none: every print fails with
	// pdf_unavailable.
	Chromium string
	// Timeout bounds one print (default 60 s).
	Timeout time.Duration
	sem     chan struct{}
}

// NewPrinter prints with chromium ("" for none), at most two at once (each browser is
// a few hundred MB).
func NewPrinter(chromium string) *Printer {
	return &Printer{Chromium: chromium, sem: make(chan struct{}, 2)}
}

// ErrNoBrowser: there is no browser to print with.
var ErrNoBrowser = &Error{Code: CodePDFUnavailable, Message: "no Chromium browser: install chromium or set FIELDNOTES_CHROMIUM / --chromium"}

// PDF prints a self-contained HTML page (no external resources) on A4, the page's own
// @page rules (margins, page numbers) applying, as a tagged PDF with an outline. Fonts
// the page uses are embedded by Chromium.
func (p *Printer) PDF(ctx context.Context, html []byte) ([]byte, error) {
	if p == nil || p.Chromium == "" {
		return nil, ErrNoBrowser
	}
	select {
	case p.sem <- struct{}{}:
		defer func() { <-p.sem }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	dir, err := os.MkdirTemp("", "fieldnotes-pdf-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "report.html")
	if err := os.WriteFile(file, html, 0o600); err != nil {
		return nil, err
	}
	timeout := p.Timeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(p.Chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
	)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	if err := chromedp.Do(bctx, chromedp.Navigate("file://"+file)); err != nil {
		return nil, browserErr(err)
	}
	pdf, err := chromedp.Run(bctx, chromedp.PrintToPDF(
		chromedp.PDFPaper(chromedp.PaperA4),
		func(pp *page.PrintToPDFParams) {
			t := true
			pp.PreferCSSPageSize = &t
			pp.GenerateTaggedPDF = &t
			pp.GenerateDocumentOutline = &t
		},
	))
	if err != nil {
		return nil, browserErr(err)
	}
	return pdf, nil
}

// browserErr turns a browser that would not start into pdf_unavailable.
func browserErr(err error) error {
	var ee *exec.Error
	var pe *os.PathError
	if errors.As(err, &ee) || errors.As(err, &pe) {
		return &Error{Code: CodePDFUnavailable, Message: fmt.Sprintf("the browser did not start: %v", err)}
	}
	return err
}
