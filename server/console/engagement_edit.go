package console

import (
	"errors"
	"net/http"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/labstack/echo/v4"
)

func (h *Console) loadEngagement(c echo.Context) (engagementRow, error) {
	r, err := h.record(c.Request().Context(), current(c), schema.Engagement, c.Param("id"))
	if err != nil {
		return engagementRow{}, err
	}
	return engagementOf(r.ID, r.Team, r.Fields), nil
}

func (h *Console) engagementEdit(c echo.Context) error {
	e, err := h.loadEngagement(c)
	if errors.Is(err, errGone) {
		return h.notFound(c)
	} else if err != nil {
		return h.internal(c, err)
	}
	f := form.Engagement{Title: e.Title, Topic: e.Topic, Team: e.Team, VenueName: e.VenueName, VenueType: e.VenueType,
		Area: e.Area, StartsRaw: fmtInputDate(e.StartsAt), EndsRaw: fmtInputDate(e.EndsAt), Languages: e.Languages,
		PromptSet: e.PromptSet, Published: e.Published}
	return h.engagementForm(c, e.ID, f, nil, http.StatusOK)
}

func fmtInputDate(ms int64) string {
	if ms <= 0 {
		return ""
	}
	return fmtDate(ms)
}
