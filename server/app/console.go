package app

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/fieldnotes/fieldnotes/server/annual"
	"github.com/fieldnotes/fieldnotes/server/api"
	"github.com/fieldnotes/fieldnotes/server/console"
	"github.com/fieldnotes/fieldnotes/server/coordapi"
	"github.com/fieldnotes/fieldnotes/server/store"
)

// The coordinator console is served by every server, beside the API.
func init() { Wirings = append(Wirings, mountConsole) }

// consoleStore is what the console needs of the server's store: sessions and the audit
// log besides the rest.
type consoleStore interface {
	store.Store
	store.SessionStore
	store.AuditLog
}

// mountConsole serves the coordinator console under /console/ on the API's router, with
// the API's store, users, login rate limit and the coordinators' domain services, and
// sends the API's own coordinator and admin actions to the same audit log.
func mountConsole(srv *api.Server, d api.Deps, cfg Config) error {
	st, ok := d.Store.(consoleStore)
	if !ok {
		d.Log.Warn().Msg("console not mounted: the store keeps no sessions or audit log")
		return nil
	}
	coord, err := coordapi.New(d, filepath.Join(cfg.Data, "coord.db"))
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	opt := srv.Options()
	c, err := console.New(console.Deps{Store: st, Sessions: st, Audit: st, Coord: coord, AllowLogin: srv.AllowLogin,
		Argon2: cfg.Argon2, Log: d.Log.With().Str("component", "console").Logger(), Now: cfg.Now, EnrolmentTTL: opt.EnrolmentTTL,
		Printer: annual.NewPrinter(annual.FindChromium(cfg.Chromium))})
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	c.Mount(srv.Echo())
	srv.Echo().Use(auditAPI(st, d.Log))
	go c.Warm(context.Background())
	return nil
}

func printConsole(w io.Writer, url string, d *DemoInfo) {
	fmt.Fprintf(w, `
Coordinator console (in a browser):
  %s/console/
  sign in as      %s
  password        %s
`, url, d.Coordinator.Email, d.Coordinator.Password)
}
