package app

import (
	"context"
	"path/filepath"

	"github.com/fieldnotes/fieldnotes/server/api"
	"github.com/fieldnotes/fieldnotes/server/coordapi"
	"github.com/labstack/echo/v4"
)

// The coordinators' API (reports, baselines and gaps, decisions and feedback, exports,
// audit trails) is mounted on every server, and the annual report and public pages on
// top of the same read model (see annual.go).
func init() {
	Wirings = append(Wirings, func(srv *api.Server, d api.Deps, cfg Config) error {
		h, err := coordapi.New(d, filepath.Join(d.DataDir, "coord.db"))
		if err != nil {
			return err
		}
		h.Feedback.PublicURL = cfg.PublicURL
		go func() {
			if err := h.Reports.Index.Refresh(context.Background()); err != nil {
				d.Log.Warn().Err(err).Msg("warming the report index")
			}
		}()
		srv.Mount(func(g *echo.Group, _ api.Deps) { h.Mount(g) })
		return wireAnnual(srv, d, cfg, h)
	})
}
