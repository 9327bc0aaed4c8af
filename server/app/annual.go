package app

import (
	"context"

	"github.com/fieldnotes/fieldnotes/server/annual"
	"github.com/fieldnotes/fieldnotes/server/api"
	"github.com/fieldnotes/fieldnotes/server/coordapi"
	"github.com/labstack/echo/v4"
)

// wireAnnual mounts the annual involvement report (GET /v1/reports/annual, its texts,
// publishing and quote picks) and the public "You said, we did" page
// (/public/engagements/{id}) on the coordinators' read model and coord.db.
func wireAnnual(srv *api.Server, d api.Deps, cfg Config, ch *coordapi.Handlers) error {
	if err := annual.EnsureCensusBaselines(context.Background(), ch.Coord); err != nil {
		return err
	}
	chromium := annual.FindChromium(cfg.Chromium)
	if chromium == "" {
		d.Log.Warn().Str("chromium", cfg.Chromium).Msg("no Chromium: the annual report is served as HTML only (PDF requests get pdf_unavailable)")
	}
	h := &annual.Handlers{Svc: &annual.Service{Reports: ch.Reports, Coord: ch.Coord, Replica: d.Store, Now: d.Now},
		Printer: annual.NewPrinter(chromium), Store: d.Store}
	srv.Mount(func(g *echo.Group, _ api.Deps) { h.Mount(g) })
	h.MountPublic(srv.Echo())
	return nil
}
