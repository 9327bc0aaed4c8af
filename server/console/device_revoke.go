package console

import (
	"errors"
	"strconv"

	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/labstack/echo/v4"
)

func itoa(n int) string { return strconv.Itoa(n) }

func (h *Console) loadDevice(c echo.Context) (store.Device, error) {
	d, err := h.Store.Device(c.Request().Context(), c.Param("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !current(c).canSee(d.Team)) {
		return d, errGone
	}
	return d, err
}

func (h *Console) deviceRevoke(c echo.Context) error {
	d, err := h.loadDevice(c)
	if errors.Is(err, errGone) {
		return h.notFound(c)
	} else if err != nil {
		return h.internal(c, err)
	}
	if _, err := h.Store.RevokeDevice(c.Request().Context(), d.ID, h.nowMS()); err != nil {
		return h.internal(c, err)
	}
	h.audit(c, "device_revoke", d.Team, "device/"+d.ID, "")
	return seeOther(c, "/console/devices?done=revoked")
}
