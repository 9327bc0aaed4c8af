package fieldapp

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	sdk "github.com/fieldnotes/fieldnotes/client-sdk"
	"github.com/fieldnotes/fieldnotes/locales"
)

type templates struct{ pages map[string]*template.Template }

func loadTemplates() (*templates, error) {
	base, err := template.New("layout.html").Funcs(template.FuncMap{
		"add": func(a, b int) int { return a + b },
	}).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, _ := fs.Glob(templateFS, "templates/*.html")
	t := &templates{pages: map[string]*template.Template{}}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "layout" {
			continue
		}
		c, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := c.ParseFS(templateFS, n); err != nil {
			return nil, err
		}
		t.pages[name] = c
	}
	return t, nil
}

// langOption is one language in the language control.
type langOption struct {
	Tag, Name, Dir string
	Selected       bool
}

// langBar is the language control every page shows: where it sends the choice, and how.
type langBar struct {
	Action  string
	Method  string            // get or post
	Hidden  map[string]string // extra fields (post adds csrf itself)
	Options []langOption
}

// page is what every template gets.
type page struct {
	Lang, Dir string
	Title     string
	CSRF      string
	Nav       string
	LangBar   langBar
	Notice    string
	Problem   string
	Enrolled  bool
	Data      any
}

// T is message id in the page's language.
func (p *page) T(id string) string { return tr(p.Lang, id, nil) }

// TD is message id with template data given as key, value pairs.
func (p *page) TD(id string, kv ...any) string {
	d := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		d[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return tr(p.Lang, id, d)
}

// TN is a message with plural forms.
func (p *page) TN(id string, n int) string {
	s, _ := locales.LocalizePlural(p.Lang, id, n, nil)
	return s
}

// Bi is message id in the page's language and, on a page in another language, in English
// too: the worker finds Next, Finish, Sync now… whatever language the participant reads.
func (p *page) Bi(id string) template.HTML {
	own := template.HTMLEscapeString(p.T(id))
	if p.Lang == "en" {
		return template.HTML(own)
	}
	return template.HTML(own + ` <span class="app-en" lang="en" dir="ltr">(` + template.HTMLEscapeString(tr("en", id, nil)) + `)</span>`)
}

// In is message id in another language (the participant's, on a page in the worker's).
func (p *page) In(lang, id string) string { return tr(lang, id, nil) }

// DirOf is the writing direction of a language, for dir= on a passage in it.
func (p *page) DirOf(lang string) string { return locales.Direction(lang) }

// NameOf is a language's name in itself.
func (p *page) NameOf(lang string) string { return locales.Name(lang) }

// Time formats ms since the epoch as a local time of day (and date when not today).
func (p *page) Time(ms int64) string {
	if ms == 0 {
		return ""
	}
	t := time.UnixMilli(ms).Local()
	if y, m, d := t.Date(); y == time.Now().Year() && m == time.Now().Month() && d == time.Now().Day() {
		return t.Format("15:04")
	}
	return t.Format("2006-01-02 15:04")
}

func tr(lang, id string, data map[string]any) string {
	s, _ := locales.Localize(lang, id, data)
	return s
}

func langOptions(current string) []langOption {
	var out []langOption
	for _, t := range locales.Supported {
		tag := t.String()
		out = append(out, langOption{Tag: tag, Name: locales.Name(tag), Dir: locales.Direction(tag), Selected: tag == current})
	}
	return out
}

// normLang is the supported tag for lang ("" when lang is not one of ours).
func normLang(lang string) string {
	if lang == "" {
		return ""
	}
	for _, t := range locales.Supported {
		if t.String() == lang {
			return lang
		}
	}
	return ""
}

// uiLang is the worker's language: the lang cookie, else the browser's Accept-Language.
func (a *App) uiLang(r *http.Request) string {
	if c, err := r.Cookie("lang"); err == nil {
		if l := normLang(c.Value); l != "" {
			return l
		}
	}
	return locales.Match(r.Header.Get("Accept-Language")).String()
}

// newPage starts a page in lang with the worker's language control (a cookie).
func (a *App) newPage(r *http.Request, lang, titleID string) *page {
	p := &page{Lang: lang, Dir: locales.Direction(lang), CSRF: a.csrf}
	p.Title = p.T(titleID)
	p.LangBar = langBar{Action: "/language", Method: "post", Hidden: map[string]string{"return": r.URL.RequestURI()}, Options: langOptions(lang)}
	_, err := a.dev.Identity()
	p.Enrolled = err == nil
	if n := r.URL.Query().Get("notice"); n != "" && strings.HasPrefix(n, "fieldapp.notice.") {
		p.Notice = p.T(n)
	}
	return p
}

func (a *App) render(w http.ResponseWriter, status int, name string, p *page) {
	t, ok := a.tmpl.pages[name]
	if !ok {
		http.Error(w, "no template "+name, http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		a.opts.Logger.Error("render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", p.Lang)
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fail answers an error page in lang: message id with data, and a way back.
func (a *App) fail(w http.ResponseWriter, r *http.Request, status int, lang, id string, data map[string]any) {
	p := a.newPage(r, lang, "fieldapp.error.title")
	p.Problem = tr(lang, id, data)
	a.render(w, status, "error", p)
}

// failErr answers an SDK error in lang with the status that fits its code.
func (a *App) failErr(w http.ResponseWriter, r *http.Request, lang string, err error) {
	status, msg := errorStatus(err), ""
	var e *sdk.Error
	if errors.As(err, &e) {
		msg = e.Message(lang)
	} else {
		msg = tr(lang, "error.internal", nil)
	}
	if status >= 500 {
		a.opts.Logger.Error("field app error", "path", r.URL.Path, "err", err)
	}
	p := a.newPage(r, lang, "fieldapp.error.title")
	p.Problem = msg
	a.render(w, status, "error", p)
}

func errorStatus(err error) int {
	var e *sdk.Error
	if !errors.As(err, &e) {
		return http.StatusInternalServerError
	}
	switch e.Code {
	case sdk.CodeNotFound:
		return http.StatusNotFound
	case sdk.CodeRecordErased:
		return http.StatusGone
	case sdk.CodeInvalidField, sdk.CodeInvalidEnum, sdk.CodeRequired, "invalid_type", sdk.CodeInvalidServerURL:
		return http.StatusBadRequest
	case sdk.CodeConsentRequired, sdk.CodeConsentScopeMissing, sdk.CodeConsentWithdrawn, "forbidden":
		return http.StatusForbidden
	case sdk.CodeNotEnrolled:
		return http.StatusConflict
	case sdk.CodeOffline, sdk.CodeConnectionRefused:
		return http.StatusServiceUnavailable
	}
	if e.Status >= 400 && e.Status < 500 {
		return e.Status
	}
	if e.Status >= 500 {
		return http.StatusBadGateway
	}
	return http.StatusInternalServerError
}

func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}
