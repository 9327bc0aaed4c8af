package console

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/fieldnotes/fieldnotes/locales"
	"github.com/labstack/echo/v4"
)

// templates holds each page parsed with the layout.
type templates struct{ byName map[string]*template.Template }

var funcs = template.FuncMap{
	"date":     fmtDate,
	"datetime": fmtDateTime,
	// when and day mark a time up as left to right, so that it reads the same inside
	// right-to-left text (Arabic, Urdu pages).
	"when": func(ms int64) template.HTML { return timeHTML(ms, fmtDateTime(ms)) },
	"day":  func(ms int64) template.HTML { return timeHTML(ms, fmtDate(ms)) },
	"inputDate": func(ms int64) string {
		if ms <= 0 {
			return ""
		}
		return time.UnixMilli(ms).UTC().Format("2006-01-02")
	},
	"join":     strings.Join,
	"has":      func(xs []string, x string) bool { return contains(xs, x) },
	"langName": locales.Name,
	"dir":      locales.Direction,
	"add":      func(a, b int) int { return a + b },
	"deref": func(p *int) string {
		if p == nil {
			return ""
		}
		return fmt.Sprint(*p)
	},
	"q":     url.QueryEscape,
	"list":  func(xs ...string) []string { return xs },
	"pct":   func(f *float64) string { return fmt.Sprintf("%.1f%%", *f*100) },
	"ratio": func(f *float64) string { return fmt.Sprintf("%.2f", *f) },
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func timeHTML(ms int64, text string) template.HTML {
	if ms <= 0 {
		return template.HTML(template.HTMLEscapeString(text))
	}
	iso := time.UnixMilli(ms).UTC().Format(time.RFC3339)
	return template.HTML(`<time dir="ltr" datetime="` + iso + `">` + template.HTMLEscapeString(text) + `</time>`)
}

func fmtDate(ms int64) string {
	if ms <= 0 {
		return "—"
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02")
}

func fmtDateTime(ms int64) string {
	if ms <= 0 {
		return "—"
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04 UTC")
}

func parseTemplates() (*templates, error) {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	t := &templates{byName: map[string]*template.Template{}}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		tpl, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", n, err)
		}
		t.byName[base] = tpl
	}
	return t, nil
}

// navItem is one link of the navigation.
type navItem struct {
	Path, Label string
	Current     bool
}

// langOption is one language of the picker.
type langOption struct {
	Code, Name string
	Current    bool
}

// fieldError is one problem with a form, for the error summary and the field.
type fieldError struct {
	Field, Message string
}

// page is what every template gets.
type page struct {
	Lang, Dir string
	Title     string
	Who       *who
	CSRF      string
	Path      string
	Next      string // the current URL, for the language picker
	Nav       []navItem
	Languages []langOption
	Errors    []fieldError
	Flash     string
	Data      any
	Status    int
}

// T translates a console message; args are name, value pairs for its placeholders.
func (p *page) T(id string, args ...any) string {
	var data map[string]any
	if len(args) > 1 {
		data = map[string]any{}
		for i := 0; i+1 < len(args); i += 2 {
			data[fmt.Sprint(args[i])] = args[i+1]
		}
	}
	text, _ := locales.Localize(p.Lang, id, data)
	return text
}

// N translates a message with plural forms.
func (p *page) N(id string, n int) string {
	text, _ := locales.LocalizePlural(p.Lang, id, n, nil)
	return text
}

// FieldError is the message for a field, "" when it has none.
func (p *page) FieldError(field string) string {
	for _, e := range p.Errors {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

// lang is the request's language: the picker's cookie, else Accept-Language.
func lang(c echo.Context) string {
	if ck, err := c.Cookie(langCookie); err == nil && ck.Value != "" {
		for _, t := range locales.Supported {
			if t.String() == ck.Value {
				return ck.Value
			}
		}
	}
	return locales.Match(c.Request().Header.Get("Accept-Language")).String()
}

// nav is every page reachable from the navigation, in journey order.
var nav = []struct {
	path, label string
	admin       bool
}{
	{"/console/", "console.nav.overview", false},
	{"/console/engagements", "console.nav.engagements", false},
	{"/console/prompt-sets", "console.nav.prompt_sets", false},
	{"/console/devices", "console.nav.devices", false},
	{"/console/conversations", "console.nav.conversations", false},
	{"/console/reports", "console.nav.reports", false},
	{"/console/annual", "console.nav.annual", false},
	{"/console/decisions", "console.nav.decisions", false},
	{"/console/feedback", "console.nav.feedback", false},
	{"/console/withdrawals", "console.nav.withdrawals", false},
	{"/console/exports", "console.nav.exports", false},
	{"/console/audit", "console.nav.audit", false},
	{"/console/users", "console.nav.users", true},
}

func (h *Console) newPage(c echo.Context, titleID string, data any) *page {
	l := lang(c)
	p := &page{Lang: l, Dir: locales.Direction(l), Who: current(c), Path: c.Request().URL.Path,
		Next: c.Request().URL.RequestURI(), Data: data, Status: http.StatusOK}
	p.CSRF = h.csrfToken(c)
	p.Title = p.T(titleID)
	if p.Who != nil {
		for _, n := range nav {
			if n.admin && !p.Who.isAdmin() {
				continue
			}
			cur := p.Path == n.path || (n.path != "/console/" && strings.HasPrefix(p.Path, n.path))
			p.Nav = append(p.Nav, navItem{Path: n.path, Label: p.T(n.label), Current: cur})
		}
	}
	for _, t := range locales.Supported {
		p.Languages = append(p.Languages, langOption{Code: t.String(), Name: locales.Name(t.String()), Current: t.String() == l})
	}
	if d := c.QueryParam("done"); d != "" && validFlash(d) {
		p.Flash = p.T("console.done." + d)
	}
	return p
}

// flashes are the confirmations a redirect may ask to show (?done=…).
var flashes = []string{"saved", "code", "revoked", "reviewed", "withdrawn", "queued", "status", "baseline", "progress", "user", "team", "signed_out", "quote"}

func validFlash(d string) bool { return contains(flashes, d) }

// render writes a page with its status.
func (h *Console) render(c echo.Context, name string, p *page) error {
	tpl := h.pages.byName[name]
	if tpl == nil {
		return h.internal(c, fmt.Errorf("no template %s", name))
	}
	var buf bytes.Buffer
	if err := tpl.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		h.Log.Error().Err(err).Str("template", name).Msg("console render")
		return h.internal(c, err)
	}
	c.Response().Header().Set("Content-Language", p.Lang)
	return c.HTMLBlob(p.Status, buf.Bytes())
}

// errorPage answers with a page saying what went wrong, in the person's language.
func (h *Console) errorPage(c echo.Context, status int, msgID string) error {
	p := h.newPage(c, "console.error.title", map[string]string{"Message": msgID})
	p.Status = status
	tpl := h.pages.byName["error"]
	var buf bytes.Buffer
	if err := tpl.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		return c.String(status, http.StatusText(status))
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// internal logs err (ids only) and answers 500.
func (h *Console) internal(c echo.Context, err error) error {
	h.Log.Error().Err(err).Str("path", c.Path()).Msg("console")
	return h.errorPage(c, http.StatusInternalServerError, "console.error.internal")
}

// notFound answers 404.
func (h *Console) notFound(c echo.Context) error {
	return h.errorPage(c, http.StatusNotFound, "console.error.not_found")
}

// seeOther redirects after a successful form.
func seeOther(c echo.Context, path string) error { return c.Redirect(http.StatusSeeOther, path) }
