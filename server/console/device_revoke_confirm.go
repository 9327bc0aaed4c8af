package console

import (
	"errors"

	"github.com/labstack/echo/v4"
)

// deviceRevokeConfirm asks before revoking: a revoked tablet wipes its data.
func (h *Console) deviceRevokeConfirm(c echo.Context) error {
	d, err := h.loadDevice(c)
	if errors.Is(err, errGone) {
		return h.notFound(c)
	} else if err != nil {
		return h.internal(c, err)
	}
	return h.render(c, "device_revoke", h.newPage(c, "console.device.revoke_title", d))
}
