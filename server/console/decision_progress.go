package console

import (
	"errors"
	"net/http"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/labstack/echo/v4"
)

// decisionProgress appends a dated progress entry (an append log field, progress_notes;
// `progress` itself is the stage, planned | under_way | done, set on the decision form).
func (h *Console) decisionProgress(c echo.Context) error {
	d, _, err := h.loadDecision(c)
	if errors.Is(err, errGone) {
		return h.notFound(c)
	} else if err != nil {
		return h.internal(c, err)
	}
	f := form.ParseProgress(mustForm(c))
	if errs := f.Validate(); len(errs) > 0 {
		return h.decisionPage(c, errs, http.StatusUnprocessableEntity)
	}
	ch := []syncengine.Change{{Collection: schema.Decision, Record: d.ID, Kind: schema.KindAppend, Field: "progress_notes",
		Value: progressEntry{At: f.At, Text: f.Text}}}
	if err := h.write(c.Request().Context(), current(c), d.Team, ch); err != nil {
		return h.internal(c, err)
	}
	h.audit(c, "decision_progress", d.Team, "decision/"+d.ID, "")
	return seeOther(c, "/console/decisions/"+d.ID+"?done=progress")
}
