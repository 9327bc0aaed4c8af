package annual

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/fieldnotes/fieldnotes/locales"
	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/api"
	"github.com/fieldnotes/fieldnotes/server/reports"
	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/labstack/echo/v4"
)

// Handlers serves the annual report, its texts, the public page and the coordinator's
// switches for it (publishing an engagement, picking a quote).
type Handlers struct {
	Svc     *Service
	Printer *Printer
	Store   store.Store
}

// ExportName is the annual report's "collection" in the export log (GET /v1/exports).
const ExportName = "annual_report"

var statuses = map[string]int{
	CodeInvalidQuery:           http.StatusBadRequest,
	CodeNotFound:               http.StatusNotFound,
	CodePDFUnavailable:         http.StatusServiceUnavailable,
	schema.CodeRequired:        http.StatusUnprocessableEntity,
	schema.CodeInvalidField:    http.StatusUnprocessableEntity,
	schema.CodeInvalidType:     http.StatusUnprocessableEntity,
	schema.CodeInvalidRecordID: http.StatusUnprocessableEntity,
	api.CodeTeamRequired:       http.StatusUnprocessableEntity,
	api.CodeOutOfScope:         http.StatusForbidden,
}

// fail turns a domain error into an api.Error.
func fail(err error) error {
	var e *Error
	var ae *api.Error
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &e):
		st, ok := statuses[e.Code]
		if !ok {
			st = api.Status(e.Code)
		}
		var d map[string]any
		if e.Field != "" {
			d = map[string]any{"field": e.Field}
		}
		return &api.Error{Code: e.Code, Status: st, Details: d, Err: err}
	}
	var rej *syncengine.RejectedError
	if errors.As(err, &rej) && len(rej.Rejected) > 0 {
		r := rej.Rejected[0]
		return api.Fail(r.Code, map[string]any{"field": r.Field})
	}
	return err
}

// Mount registers the coordinators' routes on the authenticated /v1 group.
func (h *Handlers) Mount(g *echo.Group) {
	coord := api.RequireRole(store.RoleCoordinator, store.RoleAdmin)
	g.GET("/reports/annual", h.report, coord)
	g.GET("/annual-texts/:kind", h.getText, coord)
	g.PUT("/annual-texts/:kind", h.putText, coord)
	g.PUT("/engagements/:id/published", h.publish, coord)
	g.PUT("/conversations/:id/public-quote", h.pickQuote, coord)
	g.PUT("/decisions/:id/progress", h.progress, coord)
}

type progressRequest struct {
	Progress *string `json:"progress"`
}

// progress answers PUT /v1/decisions/{id}/progress {"progress": "under_way"}.
func (h *Handlers) progress(c echo.Context) error {
	r, err := h.loadRecord(c, schema.Decision, c.Param("id"))
	if err != nil {
		return err
	}
	var req progressRequest
	if err := api.DecodeStrict(c, &req); err != nil {
		return err
	}
	if req.Progress == nil {
		return api.FailField(schema.CodeRequired, "progress")
	}
	if !slices.Contains(schema.DecisionProgress, *req.Progress) {
		return api.Fail(schema.CodeInvalidEnum, map[string]any{"field": "progress", "allowed": strings.Join(schema.DecisionProgress, ", ")})
	}
	p := api.Caller(c)
	if _, _, err := h.Svc.Replica.WriteAs(c.Request().Context(), p.Node, []syncengine.Change{
		{Collection: schema.Decision, Record: r.ID, Kind: schema.KindSet, Field: "progress", Value: *req.Progress},
	}, syncengine.ApplyOptions{Hub: true, Teams: p.Teams, Team: r.Team}); err != nil {
		return fail(err)
	}
	return c.JSON(http.StatusOK, map[string]any{"decision": r.ID, "progress": *req.Progress})
}

// MountPublic registers the public page (no sign-in) on the root router.
func (h *Handlers) MountPublic(e *echo.Echo) {
	e.GET("/public/engagements/:id", h.public)
	e.HEAD("/public/engagements/:id", h.public)
}

func wants(c echo.Context, mime string) bool {
	return strings.Contains(strings.ToLower(c.Request().Header.Get(echo.HeaderAccept)), mime)
}

func setPageHeaders(c echo.Context, csp string) {
	hd := c.Response().Header()
	hd.Set("Content-Security-Policy", csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
}

// report answers GET /v1/reports/annual: HTML, or PDF with Accept: application/pdf.
func (h *Handlers) report(c echo.Context) error {
	q, err := ParseQuery(c.QueryParams(), c.Request().Header.Get("Accept-Language"))
	if err != nil {
		return fail(err)
	}
	if q.Teams, err = api.ScopeTeams(c, strings.TrimSpace(c.QueryParam("team"))); err != nil {
		return err
	}
	pdf := wants(c, "application/pdf")
	if !pdf && !wants(c, "text/html") && !wants(c, "text/*") && !wants(c, "*/*") && c.Request().Header.Get(echo.HeaderAccept) != "" {
		return &api.Error{Code: "not_acceptable", Status: http.StatusNotAcceptable}
	}
	out, csp, err := h.Svc.Make(c.Request().Context(), h.Printer, q, api.Caller(c).Subject, pdf)
	if err != nil {
		return fail(err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	if pdf {
		c.Response().Header().Set(echo.HeaderContentDisposition, `inline; filename="`+FileName(q)+`.pdf"`)
		return c.Blob(http.StatusOK, "application/pdf", out)
	}
	setPageHeaders(c, csp)
	c.Response().Header().Set("Content-Language", q.Lang)
	return c.HTMLBlob(http.StatusOK, out)
}

// FileName is a report's file name without its extension.
func FileName(q Query) string { return "annual-report-" + q.From + "-" + q.To + "-" + q.Lang }

// Make builds the report q asks for (q.Teams already scoped to the caller's teams, nil
// for every team), renders it as HTML, and with pdf prints it with p. It records in the
// export log that who made it. The HTML comes with the Content-Security-Policy it must
// be served with (it is a standalone printable page); csp is "" for a PDF. With pdf and
// no browser it fails with ErrNoBrowser before doing any work.
func (s *Service) Make(ctx context.Context, p *Printer, q Query, who string, pdf bool) (out []byte, csp string, err error) {
	if pdf && (p == nil || p.Chromium == "") {
		return nil, "", ErrNoBrowser // before the work: the answer is the same
	}
	rep, err := s.Build(ctx, q)
	if err != nil {
		return nil, "", err
	}
	var buf bytes.Buffer
	if csp, err = RenderHTML(&buf, rep); err != nil {
		return nil, "", err
	}
	// The export log records who made a report with people's words in it: rows is the
	// number of quotes it carries.
	logged := func(format string, complete bool) error {
		if s.Coord == nil {
			return nil
		}
		teams := q.Teams
		if teams == nil {
			for _, t := range rep.Texts {
				teams = append(teams, t.Team)
			}
		}
		quotes := 0
		for _, e := range rep.Entries {
			quotes += len(e.Quotes)
		}
		_, err := s.Coord.LogExport(context.WithoutCancel(ctx), reports.ExportRecord{Who: who,
			Collection: ExportName, Format: format, Teams: teams, Rows: quotes, Complete: complete})
		return err
	}
	if pdf {
		out, err := p.PDF(ctx, buf.Bytes())
		if lerr := logged("pdf", err == nil); lerr != nil && err == nil {
			err = lerr
		}
		if err != nil {
			return nil, "", err
		}
		return out, "", nil
	}
	if err := logged("html", true); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), csp, nil
}

// teamFor is the one team a text belongs to: ?team=, or the caller's only team.
func teamFor(c echo.Context) (string, error) {
	team := strings.TrimSpace(c.QueryParam("team"))
	teams, err := api.ScopeTeams(c, team)
	if err != nil {
		return "", err
	}
	if len(teams) != 1 {
		return "", api.FailField(api.CodeTeamRequired, "team")
	}
	return teams[0], nil
}

func (h *Handlers) getText(c echo.Context) error {
	kind := c.Param("kind")
	if !slices.Contains(Kinds, kind) {
		return fail(&Error{Code: CodeNotFound, Field: "kind"})
	}
	team, err := teamFor(c)
	if err != nil {
		return err
	}
	t, ok, err := GetText(c.Request().Context(), h.Svc.Replica, team, kind)
	if err != nil {
		return err
	}
	if !ok {
		return fail(&Error{Code: CodeNotFound, Field: "kind"})
	}
	return c.JSON(http.StatusOK, t)
}

type textRequest struct {
	Text *string `json:"text"`
}

func (h *Handlers) putText(c echo.Context) error {
	kind := c.Param("kind")
	if !slices.Contains(Kinds, kind) {
		return fail(&Error{Code: CodeNotFound, Field: "kind"})
	}
	team, err := teamFor(c)
	if err != nil {
		return err
	}
	var req textRequest
	if err := api.DecodeStrict(c, &req); err != nil {
		return err
	}
	if req.Text == nil {
		return api.FailField(schema.CodeRequired, "text")
	}
	if _, err := h.Store.Team(c.Request().Context(), team); errors.Is(err, store.ErrNotFound) {
		return api.Fail(api.CodeUnknownTeam, map[string]any{"team": team, "field": "team"})
	}
	p := api.Caller(c)
	t, err := PutText(c.Request().Context(), h.Svc.Replica, p.Node, p.Subject, team, kind, *req.Text, h.Svc.now().UnixMilli())
	if err != nil {
		return fail(err)
	}
	return c.JSON(http.StatusOK, t)
}

// loadRecord reads a record the caller may change: 404 unknown or erased, 403 another
// team's.
func (h *Handlers) loadRecord(c echo.Context, coll, id string) (syncengine.Record, error) {
	if !schema.ValidRecordID(id) {
		return syncengine.Record{}, api.FailField(api.CodeNotFound, "id")
	}
	r, err := h.Svc.Replica.Get(c.Request().Context(), syncengine.RecordKey{Collection: coll, Record: id})
	if errors.Is(err, syncengine.ErrNotFound) || (err == nil && (r.Erased || r.Deleted)) {
		return r, api.FailField(api.CodeNotFound, "id")
	}
	if err != nil {
		return r, err
	}
	if !api.Caller(c).CanSee(r.Team) {
		return r, api.Fail(api.CodeOutOfScope, map[string]any{"team": r.Team})
	}
	return r, nil
}

type publishRequest struct {
	Published *bool `json:"published"`
}

// publish answers PUT /v1/engagements/{id}/published {"published": true|false}.
func (h *Handlers) publish(c echo.Context) error {
	r, err := h.loadRecord(c, schema.Engagement, c.Param("id"))
	if err != nil {
		return err
	}
	var req publishRequest
	if err := api.DecodeStrict(c, &req); err != nil {
		return err
	}
	if req.Published == nil {
		return api.FailField(schema.CodeRequired, "published")
	}
	p := api.Caller(c)
	if _, _, err := h.Svc.Replica.WriteAs(c.Request().Context(), p.Node, []syncengine.Change{
		{Collection: schema.Engagement, Record: r.ID, Kind: schema.KindSet, Field: PublishedField, Value: *req.Published},
	}, syncengine.ApplyOptions{Hub: true, Teams: p.Teams, Team: r.Team}); err != nil {
		return fail(err)
	}
	return c.JSON(http.StatusOK, map[string]any{"engagement": r.ID, "published": *req.Published, "url": "/public/engagements/" + r.ID})
}

type quoteRequest struct {
	Prompt *string `json:"prompt"`
}

// pickQuote answers PUT /v1/conversations/{id}/public-quote {"prompt": "what_works"} (or
// null to take the pick back). The answer must be a text answer, and the conversation's
// consent must cover quote and not be withdrawn (422 invalid_field otherwise).
func (h *Handlers) pickQuote(c echo.Context) error {
	r, err := h.loadRecord(c, schema.Conversation, c.Param("id"))
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return api.Fail(api.CodeBodyTooLarge)
	}
	var req quoteRequest
	if err := api.DecodeStrictBytes(raw, &req); err != nil {
		return err
	}
	var present map[string]json.RawMessage
	json.Unmarshal(raw, &present)
	if _, ok := present["prompt"]; !ok {
		return api.FailField(schema.CodeRequired, "prompt")
	}
	p := api.Caller(c)
	value, err := PickQuote(c.Request().Context(), h.Svc.Replica, p.Node, p.Teams, r, req.Prompt)
	var e *Error
	if errors.As(err, &e) && e.Code == schema.CodeInvalidField {
		return api.Fail(schema.CodeInvalidField, map[string]any{"field": e.Field, "reason": e.Message})
	} else if err != nil {
		return fail(err)
	}
	return c.JSON(http.StatusOK, map[string]any{"conversation": r.ID, "public_quote": value})
}

// The reasons PickQuote refuses a pick (code invalid_field, field prompt).
var (
	ErrNotTextAnswer  = &Error{Code: schema.CodeInvalidField, Field: "prompt", Message: "not a text answer of this conversation"}
	ErrNoQuoteConsent = &Error{Code: schema.CodeInvalidField, Field: "prompt", Message: "the consent does not cover quote"}
	// ErrRejected: a conversation rejected in review is never quoted.
	ErrRejected = &Error{Code: schema.CodeInvalidField, Field: "prompt", Message: "the conversation was rejected in review"}
)

// CanQuote tells whether conversation r's consent covers quote and is not withdrawn.
func CanQuote(ctx context.Context, rp Replica, r syncengine.Record) bool {
	var consent string
	field(r, "consent", &consent)
	if !schema.ValidRecordID(consent) {
		return false
	}
	cr, err := rp.Get(ctx, syncengine.RecordKey{Collection: schema.Consent, Record: consent})
	if err != nil || cr.Erased || cr.Deleted || cr.Withdrawn {
		return false
	}
	var scopes []string
	field(cr, "scopes", &scopes)
	return slices.Contains(scopes, schema.ScopeQuote)
}

// PickQuote sets conversation r's public quote to its text answer to prompt (nil takes
// the pick back), as ops under node for a caller of teams (nil: every team). The answer
// must be a text answer (ErrNotTextAnswer) and the consent must cover quote and not be
// withdrawn (ErrNoQuoteConsent), and the conversation not rejected in review (ErrRejected).
// It returns the value written: the prompt id, or nil.
// The caller has checked that r is live and in the caller's teams.
func PickQuote(ctx context.Context, rp Replica, node string, teams []string, r syncengine.Record, prompt *string) (any, error) {
	var value any // null: no pick
	if prompt != nil {
		pr := strings.TrimSpace(*prompt)
		var a struct {
			Text string `json:"text"`
		}
		field(r, schema.AnswerPrefix+pr, &a)
		if pr == "" || strings.TrimSpace(a.Text) == "" {
			return nil, ErrNotTextAnswer
		}
		var review string
		field(r, "review_state", &review)
		if review == schema.ReviewRejected {
			return nil, ErrRejected
		}
		if !CanQuote(ctx, rp, r) {
			return nil, ErrNoQuoteConsent
		}
		value = pr
	}
	if _, _, err := rp.WriteAs(ctx, node, []syncengine.Change{
		{Collection: schema.Conversation, Record: r.ID, Kind: schema.KindSet, Field: PublicQuoteField, Value: value},
	}, syncengine.ApplyOptions{Hub: true, Teams: teams, Team: r.Team}); err != nil {
		return nil, err
	}
	return value, nil
}

// public answers GET /public/engagements/{id}: no sign-in, no cookies, cacheable. The
// visitor's language is ?lang= when it names a supported language, else
// Accept-Language. Unknown and unpublished engagements get the same 404 page.
func (h *Handlers) public(c echo.Context) error {
	lang := locales.Match(c.Request().Header.Get("Accept-Language")).String()
	if l, err := ParseLang(c.QueryParam("lang"), ""); err == nil && c.QueryParam("lang") != "" {
		lang = l
	}
	hd := c.Response().Header()
	hd.Set("Vary", "Accept-Language")
	hd.Set("Content-Language", lang)
	var buf bytes.Buffer
	p, err := h.Svc.BuildPublic(c.Request().Context(), c.Param("id"), lang)
	status := http.StatusOK
	var csp string
	switch {
	case errors.Is(err, ErrNotPublished):
		status = http.StatusNotFound
		hd.Set("Cache-Control", "public, max-age=60")
		if csp, err = RenderNotFound(&buf, lang); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		if csp, err = RenderPublic(&buf, p, h.Svc.now().UnixMilli()); err != nil {
			return err
		}
		hd.Set("Cache-Control", "public, max-age=300")
	}
	setPageHeaders(c, csp)
	if status == http.StatusOK {
		sum := sha256.Sum256(buf.Bytes())
		etag := `"` + hex.EncodeToString(sum[:16]) + `"`
		hd.Set("ETag", etag)
		if match := c.Request().Header.Get("If-None-Match"); match != "" && etagMatches(match, etag) {
			return c.NoContent(http.StatusNotModified)
		}
	}
	return c.HTMLBlob(status, buf.Bytes())
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(t), "W/"))
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}
