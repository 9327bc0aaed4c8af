// Package coordapi is the coordinators' HTTP API: reports, baselines and gaps, decisions
// and feedback, exports and the export log, and the per-engagement audit trail. It
// mounts on the server's authenticated /v1 group through api.Server.Mount and only
// translates HTTP to the domain packages (server/reports, server/feedback,
// server/export) and their errors to api.Error codes.
//
// Wiring (one line, in server/app after the Extensions loop):
//
//	srv.Mount(coordapi.Routes(cfg.Data))
package coordapi

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/api"
	"github.com/fieldnotes/fieldnotes/server/disclosure"
	"github.com/fieldnotes/fieldnotes/server/export"
	"github.com/fieldnotes/fieldnotes/server/feedback"
	"github.com/fieldnotes/fieldnotes/server/reports"
	"github.com/fieldnotes/fieldnotes/server/reports/pgcoord"
	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
)

// Codes this API adds to the server's (append-only; messages error.<code> in locales).
const (
	CodeInvalidBaseline = reports.CodeInvalidBaseline // 422: a baseline CSV that fails validation
	CodeNotAcceptable   = export.CodeNotAcceptable    // 406: an export format we don't make
)

var statuses = map[string]int{
	CodeInvalidBaseline:        http.StatusUnprocessableEntity,
	CodeNotAcceptable:          http.StatusNotAcceptable,
	api.CodeInvalidQuery:       http.StatusBadRequest,
	api.CodeNotFound:           http.StatusNotFound,
	api.CodeOutOfScope:         http.StatusForbidden,
	api.CodeTeamRequired:       http.StatusUnprocessableEntity,
	api.CodeUnknownCollection:  http.StatusNotFound,
	schema.CodeInvalidField:    http.StatusUnprocessableEntity,
	schema.CodeInvalidType:     http.StatusUnprocessableEntity,
	schema.CodeInvalidEnum:     http.StatusUnprocessableEntity,
	schema.CodeRequired:        http.StatusUnprocessableEntity,
	schema.CodeInvalidRecordID: http.StatusUnprocessableEntity,
}

// Handlers holds what the routes use.
type Handlers struct {
	Deps     api.Deps
	Reports  *reports.Service
	Coord    reports.CoordStore
	Feedback *feedback.Service
	Export   *export.Exporter
}

// Routes returns the extension that mounts the coordinators' routes, keeping coord.db in
// dataDir. The read model is warmed in the background at mount.
func Routes(dataDir string) func(g *echo.Group, d api.Deps) {
	return func(g *echo.Group, d api.Deps) {
		h, err := New(d, filepath.Join(dataDir, "coord.db"))
		if err != nil {
			d.Log.Error().Err(err).Msg("coordinator API not mounted: its tables did not open")
			return
		}
		go func() {
			if err := h.Reports.Index.Refresh(context.Background()); err != nil {
				d.Log.Warn().Err(err).Msg("warming the report index")
			}
		}()
		h.Mount(g)
	}
}

var (
	coordMu sync.Mutex
	coords  = map[string]*reports.Coord{}
)

// pgStore is the store on PostgreSQL: the coordinators' tables go in its database.
type pgStore interface {
	Pool() *pgxpool.Pool
}

// New builds the handlers on deps, opening (once per path) coord.db at coordPath, or
// the coordinators' tables in the store's own database when it is PostgreSQL.
func New(d api.Deps, coordPath string) (*Handlers, error) {
	if pg, ok := d.Store.(pgStore); ok {
		coord, err := pgcoord.Open(context.Background(), pg.Pool())
		if err != nil {
			return nil, err
		}
		if d.Now != nil {
			coord.Now = func() int64 { return d.Now().UnixMilli() }
		}
		return newHandlers(d, coord), nil
	}
	coordMu.Lock()
	coord := coords[coordPath]
	if coord == nil {
		var err error
		if coord, err = reports.OpenCoord(coordPath); err != nil {
			coordMu.Unlock()
			return nil, err
		}
		coords[coordPath] = coord
	}
	coordMu.Unlock()
	if d.Now != nil {
		coord.Now = func() int64 { return d.Now().UnixMilli() }
	}
	return newHandlers(d, coord), nil
}

func newHandlers(d api.Deps, coord reports.CoordStore) *Handlers {
	ix := reports.NewIndex(d.Store)
	h := &Handlers{Deps: d, Coord: coord, Reports: &reports.Service{Index: ix},
		Feedback: &feedback.Service{Replica: d.Store, Index: ix},
		Export:   &export.Exporter{Replica: d.Store, Index: ix, Coord: coord}}
	if d.Now != nil {
		h.Feedback.Now = func() int64 { return d.Now().UnixMilli() }
	}
	return h
}

// Mount registers the routes on the authenticated /v1 group.
func (h *Handlers) Mount(g *echo.Group) {
	coord := api.RequireRole(store.RoleCoordinator, store.RoleAdmin)
	g.GET("/reports/participation", h.participation, coord)
	g.GET("/reports/themes", h.themes, coord)
	g.GET("/reports/gaps", h.gaps, coord)
	g.PUT("/baselines/:name", h.putBaseline, coord)
	g.GET("/baselines/:name", h.getBaseline, coord)
	g.POST("/decisions", h.createDecision, coord)
	g.POST("/decisions/:id/feedback", h.queueFeedback, coord)
	g.GET("/feedback", h.listFeedback, coord)
	g.PATCH("/feedback/:id", h.patchFeedback, coord)
	g.GET("/export/:collection", h.export, coord)
	g.GET("/exports", h.exports, coord)
	g.GET("/engagements/:id/audit", h.audit, coord)
}

// fail turns a domain error into an api.Error (stable code, status, details).
func fail(err error) error {
	var (
		re *reports.Error
		fe *feedback.Error
		ee *export.Error
		de *disclosure.Error
		ae *api.Error
	)
	mk := func(code string, details map[string]any) error {
		st, ok := statuses[code]
		if !ok {
			st = api.Status(code)
		}
		return &api.Error{Code: code, Status: st, Details: details, Err: err}
	}
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &re):
		return mk(re.Code, re.Details)
	case errors.As(err, &fe):
		return mk(fe.Code, fe.Details)
	case errors.As(err, &ee):
		return mk(ee.Code, ee.Details)
	case errors.As(err, &de):
		return mk(api.CodeInvalidQuery, map[string]any{"field": de.Param})
	}
	return err
}

func (h *Handlers) query(c echo.Context, defaultGroupBy string) (reports.Query, error) {
	q, err := reports.ParseQuery(c.QueryParams(), defaultGroupBy)
	if err != nil {
		return q, fail(err)
	}
	if q.Teams, err = api.ScopeTeams(c, c.QueryParam("team")); err != nil {
		return q, err
	}
	return q, nil
}

func (h *Handlers) participation(c echo.Context) error {
	q, err := h.query(c, reports.ByCommunity)
	if err != nil {
		return err
	}
	rep, err := h.Reports.Participation(c.Request().Context(), q)
	if err != nil {
		return fail(err)
	}
	return c.JSON(http.StatusOK, rep)
}

func (h *Handlers) themes(c echo.Context) error {
	q, err := h.query(c, reports.ByCommunity)
	if err != nil {
		return err
	}
	rep, err := h.Reports.Themes(c.Request().Context(), q)
	if err != nil {
		return fail(err)
	}
	return c.JSON(http.StatusOK, rep)
}

func (h *Handlers) gaps(c echo.Context) error {
	name := strings.TrimSpace(c.QueryParam("baseline"))
	if name == "" {
		return api.Fail(api.CodeInvalidQuery, map[string]any{"field": "baseline"})
	}
	q, err := h.query(c, reports.ByEthnicity)
	if err != nil {
		return err
	}
	rep, err := h.Reports.Gaps(c.Request().Context(), h.Coord, name, q)
	if err != nil {
		return fail(err)
	}
	if g := c.QueryParam("group_by"); g != "" && q.GroupBy != rep.GroupBy {
		return api.Fail(api.CodeInvalidQuery, map[string]any{"field": "group_by", "baseline_group_by": rep.GroupBy})
	}
	return c.JSON(http.StatusOK, rep)
}

func (h *Handlers) putBaseline(c echo.Context) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return api.Fail(api.CodeBodyTooLarge)
	}
	b, err := reports.ParseBaseline(c.Param("name"), c.QueryParam("group_by"), bytes.NewReader(body))
	if err != nil {
		return fail(err)
	}
	if err := h.Coord.PutBaseline(c.Request().Context(), b, api.Caller(c).Subject); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, b)
}

func (h *Handlers) getBaseline(c echo.Context) error {
	b, err := h.Coord.Baseline(c.Request().Context(), c.Param("name"))
	if err != nil {
		return fail(err)
	}
	return c.JSON(http.StatusOK, b)
}

func caller(c echo.Context) feedback.Caller {
	p := api.Caller(c)
	return feedback.Caller{Node: p.Node, Teams: p.Teams}
}

func (h *Handlers) createDecision(c echo.Context) error {
	var in feedback.DecisionInput
	if err := api.DecodeStrict(c, &in); err != nil {
		return err
	}
	d, err := h.Feedback.Decide(c.Request().Context(), caller(c), in)
	if err != nil {
		return fail(err)
	}
	r := d.Record
	// 200, as every success in the protocol.
	return c.JSON(http.StatusOK, map[string]any{"id": r.ID, "team": r.Team, "fields": r.Fields, "updated_ts": r.UpdatedTS, "left_out_erased": d.LeftOutErased})
}

func (h *Handlers) queueFeedback(c echo.Context) error {
	res, err := h.Feedback.QueueFeedback(c.Request().Context(), caller(c), c.Param("id"))
	if err != nil {
		return fail(err)
	}
	return c.JSON(http.StatusOK, res)
}

func wantsCSV(c echo.Context) bool {
	return strings.Contains(strings.ToLower(c.Request().Header.Get(echo.HeaderAccept)), "text/csv")
}

// WriteCSV writes rows (a header, then data) as an Excel-friendly CSV download (BOM,
// CRLF, formula guard). The console's downloads use it too.
func WriteCSV(c echo.Context, filename string, rows [][]string) error {
	return writeCSV(c, filename, rows)
}

// writeCSV writes rows as Excel-friendly CSV (BOM, CRLF, formula guard).
func writeCSV(c echo.Context, filename string, rows [][]string) error {
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, export.ContentTypeCSV)
	w.Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+filename+`"`)
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, "\ufeff")
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	for i, r := range rows {
		if i > 0 {
			for j := range r {
				r[j] = export.Cell(r[j])
			}
		}
		if err := cw.Write(r); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func (h *Handlers) listFeedback(c echo.Context) error {
	teams, err := api.ScopeTeams(c, c.QueryParam("team"))
	if err != nil {
		return err
	}
	items, err := h.Feedback.List(c.Request().Context(), teams, c.QueryParam("status"))
	if err != nil {
		return fail(err)
	}
	if wantsCSV(c) {
		rows := [][]string{append([]string(nil), feedback.MailMergeHeader...)}
		for _, it := range items {
			rows = append(rows, it.MailMergeRow())
		}
		return writeCSV(c, "feedback.csv", rows)
	}
	return c.JSON(http.StatusOK, map[string]any{"feedback": items})
}

func (h *Handlers) patchFeedback(c echo.Context) error {
	var in struct {
		Status string `json:"status"`
	}
	if err := api.DecodeStrict(c, &in); err != nil {
		return err
	}
	it, err := h.Feedback.SetStatus(c.Request().Context(), caller(c), c.Param("id"), in.Status)
	if err != nil {
		return fail(err)
	}
	return c.JSON(http.StatusOK, it)
}

func (h *Handlers) export(c echo.Context) error {
	teams, err := api.ScopeTeams(c, c.QueryParam("team"))
	if err != nil {
		return err
	}
	format, err := export.FormatFor(c.Request().Header.Get(echo.HeaderAccept))
	if err != nil {
		return fail(err)
	}
	req := export.Request{Who: api.Caller(c).Subject, Teams: teams, Collection: c.Param("collection"), Format: format}
	switch c.QueryParam("include_rejected") {
	case "", "false", "0":
	case "true", "1":
		req.IncludeRejected = true
	default:
		return fail(&reports.Error{Code: reports.CodeInvalidQuery, Param: "include_rejected", Message: "include_rejected must be true or false", Details: map[string]any{"field": "include_rejected"}})
	}
	if err := req.Validate(); err != nil {
		return fail(err)
	}
	w := c.Response()
	if format == export.CSV {
		w.Header().Set(echo.HeaderContentType, export.ContentTypeCSV)
		w.Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+req.Collection+`.csv"`)
	} else {
		w.Header().Set(echo.HeaderContentType, export.ContentTypeNDJSON)
	}
	w.WriteHeader(http.StatusOK)
	// Once streaming has started an error can only cut the body short; the export log
	// records it as incomplete.
	if _, err := h.Export.Export(c.Request().Context(), w, req); err != nil {
		h.Deps.Log.Warn().Err(err).Str("collection", req.Collection).Msg("export cut short")
	}
	return nil
}

func (h *Handlers) exports(c echo.Context) error {
	log, err := h.Coord.Exports(c.Request().Context(), 500)
	if err != nil {
		return err
	}
	p := api.Caller(c)
	out := []reports.ExportRecord{}
	for _, r := range log {
		visible := p.IsAdmin()
		for _, t := range r.Teams {
			visible = visible || p.CanSee(t)
		}
		if visible {
			out = append(out, r)
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"exports": out})
}

func (h *Handlers) audit(c echo.Context) error {
	pol, err := disclosure.ParsePolicy(c.QueryParam("policy"), c.QueryParam("min_cell"))
	if err != nil {
		return fail(err)
	}
	t, err := h.Feedback.Trail(c.Request().Context(), h.Reports, caller(c), c.Param("id"), pol)
	if err != nil {
		return fail(err)
	}
	if wantsCSV(c) {
		return writeCSV(c, "audit-"+t.Engagement.ID+".csv", t.CSVRows())
	}
	return c.JSON(http.StatusOK, t)
}
