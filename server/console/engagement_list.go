package console

import (
	"sort"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/labstack/echo/v4"
)

// engagementRow is one engagement as listed and edited.
type engagementRow struct {
	ID, Title, Topic, Team, VenueName, VenueType, Area, PromptSet string
	PromptSetVersion                                              int64
	StartsAt, EndsAt                                              int64
	Languages                                                     []string
	Published                                                     bool
}

func engagementOf(id, team string, f fields) engagementRow {
	e := engagementRow{ID: id, Team: team, Title: f.str("title"), Topic: f.str("topic"), VenueName: f.str("venue_name"),
		VenueType: f.str("venue_type"), Area: f.str("area"), PromptSet: f.str("prompt_set"), PromptSetVersion: f.num("prompt_set_version"),
		StartsAt: f.num("starts_at"), EndsAt: f.num("ends_at"), Languages: f.strs("languages"), Published: f.boolean("published")}
	if t := f.str("team"); t != "" {
		e.Team = t
	}
	return e
}

func (h *Console) engagementList(c echo.Context) error {
	w := current(c)
	recs, err := h.scan(c.Request().Context(), w, schema.Engagement)
	if err != nil {
		return h.internal(c, err)
	}
	rows := make([]engagementRow, 0, len(recs))
	for _, r := range recs {
		rows = append(rows, engagementOf(r.ID, r.Team, r.Fields))
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].StartsAt != rows[j].StartsAt {
			return rows[i].StartsAt > rows[j].StartsAt
		}
		return rows[i].ID < rows[j].ID
	})
	return h.render(c, "engagement_list", h.newPage(c, "console.nav.engagements", rows))
}
