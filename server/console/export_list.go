package console

import (
	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/reports"
	"github.com/labstack/echo/v4"
)

type exportData struct {
	Collections []string
	Log         []reports.ExportRecord
	Emails      map[string]string
}

// exportList offers every collection as CSV or NDJSON and shows the export log (exports
// of the person's teams; admins see all).
func (h *Console) exportList(c echo.Context) error {
	w := current(c)
	ctx := c.Request().Context()
	log, err := h.Coord.Coord.Exports(ctx, 200)
	if err != nil {
		return h.internal(c, err)
	}
	d := exportData{Collections: schema.Collections, Emails: map[string]string{}}
	for _, r := range log {
		visible := w.isAdmin()
		for _, t := range r.Teams {
			visible = visible || w.canSee(t)
		}
		if visible {
			d.Log = append(d.Log, r)
			if _, ok := d.Emails[r.Who]; !ok {
				if u, err := h.Store.UserByID(ctx, r.Who); err == nil {
					d.Emails[r.Who] = u.Email
				}
			}
		}
	}
	return h.render(c, "export_list", h.newPage(c, "console.nav.exports", d))
}
