// Package console is the coordinator console: the coordinators' and admins' side of
// Fieldnotes in the browser, served under /console/ by the same server as the API.
//
// Pages are html/template files embedded in the binary and rendered on the server; every
// page and form works without JavaScript. The layout follows Miniflux: one small file
// per page action (noun_verb.go), form parsing in package form, every route in
// routes.go, sessions in session.go and CSRF in csrf.go. Handlers call the same domain
// packages as the JSON API (the store, server/reports, server/feedback, server/export,
// server/coordapi's services, server/annual, server/auth): never the API over HTTP, never a copy of its
// logic. Writes go through the store's WriteAs under the signed-in person's op node, so
// tablets receive them at their next pull.
//
// URLs and logs carry ids only, never what a participant said or their contact details.
// This package never imports client-sdk.
package console

import (
	"context"
	"embed"
	"io/fs"
	"regexp"
	"time"

	"github.com/fieldnotes/fieldnotes/server/annual"
	"github.com/fieldnotes/fieldnotes/server/auth"
	"github.com/fieldnotes/fieldnotes/server/coordapi"
	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Deps is what the console needs. Coord holds the domain services the coordinators' JSON
// API uses (reports, feedback, export, coord.db).
type Deps struct {
	Store    store.Store
	Sessions store.SessionStore
	Audit    store.AuditLog
	Coord    *coordapi.Handlers
	// AllowLogin is the API's per-IP login limiter (api.Server.AllowLogin).
	AllowLogin func(ip string) (bool, time.Duration)
	Argon2     auth.Argon2Params
	Log        zerolog.Logger
	Now        func() time.Time
	// EnrolmentTTL is how long a new enrolment code is valid (the API's).
	EnrolmentTTL time.Duration
	// Annual makes the annual involvement report and keeps its texts (built on Coord's
	// reports and the store when nil). Printer prints its PDF; nil: no browser, a PDF
	// gets the pdf_unavailable page.
	Annual  *annual.Service
	Printer *annual.Printer
	// SessionIdle and SessionMax bound a session (defaults 2 hours idle, 12 hours).
	SessionIdle, SessionMax time.Duration
}

// Console serves the pages.
type Console struct {
	Deps
	pages  *templates
	static fs.FS
	nhsCSS []byte // the vendored NHS.UK CSS without its remote font faces
}

// New builds the console.
func New(d Deps) (*Console, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.SessionIdle == 0 {
		d.SessionIdle = 2 * time.Hour
	}
	if d.SessionMax == 0 {
		d.SessionMax = 12 * time.Hour
	}
	if d.EnrolmentTTL == 0 {
		d.EnrolmentTTL = 15 * time.Minute
	}
	if d.Argon2 == (auth.Argon2Params{}) {
		d.Argon2 = auth.DefaultArgon2
	}
	if d.AllowLogin == nil {
		d.AllowLogin = func(string) (bool, time.Duration) { return true, 0 }
	}
	if d.Annual == nil {
		d.Annual = &annual.Service{Reports: d.Coord.Reports, Coord: d.Coord.Coord, Replica: d.Store, Now: d.Now}
	}
	t, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	st, _ := fs.Sub(staticFiles, "static")
	css, err := fs.ReadFile(st, nhsCSSPath)
	if err != nil {
		return nil, err
	}
	return &Console{Deps: d, pages: t, static: st, nhsCSS: remoteFonts.ReplaceAll(css, nil)}, nil
}

// nhsCSSPath is the vendored NHS.UK frontend stylesheet, under static/.
const nhsCSSPath = "nhsuk/nhsuk-frontend.min.css"

// remoteFonts matches the vendored CSS's @font-face rules for Frutiger, which load from
// assets.nhs.uk (the font is licensed to NHS sites). The console serves the stylesheet
// without them: its CSP allows fonts from itself only, a laptop in the field may be
// offline, and the stylesheet already falls back to Arial. The file on disk is unchanged.
var remoteFonts = regexp.MustCompile(`@font-face\{[^}]*https://assets\.nhs\.uk/[^}]*\}`)

// Mount registers the console's routes on e (under /console/, and / redirecting there).
func (h *Console) Mount(e *echo.Echo) { h.routes(e) }

func (h *Console) nowMS() int64 { return h.Now().UnixMilli() }

// Warm fills the in-memory read model (the reports' index) so the first
// page is fast; the server calls it in the background at start.
func (h *Console) Warm(ctx context.Context) {
	if err := h.Coord.Reports.Index.Refresh(ctx); err != nil {
		h.Log.Warn().Err(err).Msg("warming the report index")
	}
}
