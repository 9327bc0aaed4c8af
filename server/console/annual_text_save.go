package console

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/annual"
	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/labstack/echo/v4"
)

// annualTextSave saves a new version of a team's governance or strategy text, as the
// person's ops (annual.PutText), and records it in the audit log. Another team's or an
// unknown team or kind is a 404; an empty or too long text shows the page again.
func (h *Console) annualTextSave(c echo.Context) error {
	w := current(c)
	ctx := c.Request().Context()
	f := form.ParseAnnualText(mustForm(c))
	if !slices.Contains(annual.Kinds, f.Kind) || f.Team == "" || !w.canSee(f.Team) {
		return h.notFound(c)
	}
	if _, err := h.Store.Team(ctx, f.Team); errors.Is(err, store.ErrNotFound) {
		return h.notFound(c)
	} else if err != nil {
		return h.internal(c, err)
	}
	t, err := annual.PutText(ctx, h.Store, w.User.NodeID, w.User.ID, f.Team, f.Kind, f.Text, h.nowMS())
	var ae *annual.Error
	if errors.As(err, &ae) {
		msg := "console.annual.text_too_long"
		if ae.Code == schema.CodeRequired {
			msg = "console.form.required"
		}
		return h.annualPage(c, form.ParseAnnual(nil, lang(c), h.Now()), &f,
			form.Errors{{Field: "text-" + f.Team + "-" + f.Kind, Message: msg}}, http.StatusUnprocessableEntity)
	} else if err != nil {
		return h.internal(c, err)
	}
	h.audit(c, "annual_text", f.Team, "annual_text/"+f.Kind, fmt.Sprintf("version=%d", t.Version))
	return seeOther(c, "/console/annual?done=saved")
}
