package console

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/fieldnotes/fieldnotes/server/api"
	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/labstack/echo/v4"
)

// withdrawalDo withdraws the consent through the API's own withdrawal (api.WithdrawConsent):
// one withdraw op under the person's node that erases, in the same transaction, every
// conversation recorded under it and the participant's contact and equality fields.
// Tablets erase them at their next pull.
func (h *Console) withdrawalDo(c echo.Context) error {
	f := form.ParseWithdraw(mustForm(c))
	if errs := f.Validate(); len(errs) > 0 {
		return h.withdrawalPage(c, f.Consent, f, errs, http.StatusUnprocessableEntity)
	}
	w := current(c)
	r, err := h.record(c.Request().Context(), w, "consent", f.Consent)
	if errors.Is(err, errGone) {
		return h.withdrawalPage(c, f.Consent, f, nil, http.StatusNotFound)
	} else if err != nil {
		return h.internal(c, err)
	}
	res, err := api.WithdrawConsent(c.Request().Context(), h.Store, w.principal(), f.Consent, f.Reason)
	var ae *api.Error
	if errors.As(err, &ae) && ae.Code != api.CodeInternal {
		return h.withdrawalPage(c, f.Consent, f, nil, http.StatusNotFound)
	} else if err != nil {
		return h.internal(c, err)
	}
	h.audit(c, "withdraw", r.Team, "consent/"+f.Consent, "erased="+strconv.Itoa(len(res.Erased))+" already="+strconv.FormatBool(res.AlreadyWithdrawn))
	d := withdrawalData{Done: true, Erased: len(res.Erased), Query: f.Consent}
	return h.render(c, "withdrawal", h.newPage(c, "console.nav.withdrawals", &d))
}
