package console

import (
	"html/template"
	"net/http"

	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/labstack/echo/v4"
)

type deviceListData struct {
	Devices []store.Device
	Teams   []string
	Form    form.Code
	// A code just made (shown once).
	Code, CodeURI string
	CodeTeam      string
	CodeExpires   int64
	QR            template.HTML
}

func (h *Console) devicePage(c echo.Context, d deviceListData, errs form.Errors, status int) error {
	w := current(c)
	ctx := c.Request().Context()
	devs, err := h.Store.Devices(ctx, w.Teams)
	if err != nil {
		return h.internal(c, err)
	}
	teams, err := h.teams(ctx, w)
	if err != nil {
		return h.internal(c, err)
	}
	d.Devices, d.Teams = devs, teams
	p := h.newPage(c, "console.nav.devices", d)
	p.Errors = h.fieldErrors(p, errs)
	p.Status = status
	return h.render(c, "device_list", p)
}

func (h *Console) deviceList(c echo.Context) error {
	return h.devicePage(c, deviceListData{}, nil, http.StatusOK)
}
