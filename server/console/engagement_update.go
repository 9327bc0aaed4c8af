package console

import (
	"errors"
	"net/http"

	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/labstack/echo/v4"
)

// engagementUpdate writes only the fields that changed, as the person's ops. The team
// can't change (records can't move between teams).
func (h *Console) engagementUpdate(c echo.Context) error {
	old, err := h.loadEngagement(c)
	if errors.Is(err, errGone) {
		return h.notFound(c)
	} else if err != nil {
		return h.internal(c, err)
	}
	f := form.ParseEngagement(mustForm(c))
	f.Team = old.Team
	version, errs, err := h.checkEngagementForm(c, &f)
	if err != nil {
		return h.internal(c, err)
	}
	if len(errs) > 0 {
		return h.engagementForm(c, old.ID, f, errs, http.StatusUnprocessableEntity)
	}
	ch := engagementChanges(old.ID, old, f, version)
	if len(ch) > 0 {
		if err := h.write(c.Request().Context(), current(c), old.Team, ch); err != nil {
			return h.internal(c, err)
		}
		h.audit(c, "engagement_update", old.Team, "engagement/"+old.ID, "")
	}
	return seeOther(c, "/console/engagements?done=saved")
}
