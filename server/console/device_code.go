package console

import (
	"net/http"

	"github.com/fieldnotes/fieldnotes/locales"
	"github.com/fieldnotes/fieldnotes/server/api"
	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/labstack/echo/v4"
)

// serverURL is the address tablets reach this server at, as the browser did.
func serverURL(c echo.Context) string { return c.Scheme() + "://" + c.Request().Host }

// deviceCode makes a one-use enrolment code (as POST /v1/devices/enrolment-codes does)
// and shows it once, as text and as a QR code of the server's URL and the code.
func (h *Console) deviceCode(c echo.Context) error {
	w := current(c)
	ctx := c.Request().Context()
	f := form.ParseCode(mustForm(c))
	teams, err := h.teams(ctx, w)
	if err != nil {
		return h.internal(c, err)
	}
	if errs := f.Validate(teams); len(errs) > 0 {
		return h.devicePage(c, deviceListData{Form: f}, errs, http.StatusUnprocessableEntity)
	}
	code, exp, err := api.IssueEnrolmentCode(ctx, h.Store, f.Team, f.Label, w.User.ID, h.Now(), h.EnrolmentTTL)
	if err != nil {
		return h.internal(c, err)
	}
	uri := enrolmentURI(serverURL(c), code)
	label, _ := locales.Localize(lang(c), "console.device.qr_label", map[string]any{"Code": code})
	svg, err := qrSVG(uri, label)
	if err != nil {
		return h.internal(c, err)
	}
	h.audit(c, "enrolment_code", f.Team, "", "label_length="+itoa(len(f.Label)))
	return h.devicePage(c, deviceListData{Code: code, CodeURI: uri, CodeTeam: f.Team, CodeExpires: exp, QR: svg}, nil, http.StatusOK)
}
