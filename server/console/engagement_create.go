package console

import (
	"net/http"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/auth"
	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/labstack/echo/v4"
)

// engagementChanges are the ops that make the stored engagement (old) look like the form.
func engagementChanges(id string, old engagementRow, f form.Engagement, version int64) []syncengine.Change {
	var ch []syncengine.Change
	set := func(field string, was, now any) {
		if was != now {
			ch = append(ch, syncengine.Change{Collection: schema.Engagement, Record: id, Kind: schema.KindSet, Field: field, Value: now})
		}
	}
	set("team", old.Team, f.Team)
	set("title", old.Title, f.Title)
	set("topic", old.Topic, f.Topic)
	set("venue_name", old.VenueName, f.VenueName)
	if f.VenueType != "" {
		set("venue_type", old.VenueType, f.VenueType)
	}
	set("area", old.Area, f.Area)
	if f.StartsAt > 0 {
		set("starts_at", old.StartsAt, f.StartsAt)
	}
	if f.EndsAt > 0 {
		set("ends_at", old.EndsAt, f.EndsAt)
	}
	set("prompt_set", old.PromptSet, f.PromptSet)
	set("prompt_set_version", old.PromptSetVersion, version)
	set("published", old.Published, f.Published)
	for _, l := range f.Languages {
		if !contains(old.Languages, l) {
			ch = append(ch, syncengine.Change{Collection: schema.Engagement, Record: id, Kind: schema.KindAdd, Field: "languages", Value: l})
		}
	}
	for _, l := range old.Languages {
		if !contains(f.Languages, l) {
			ch = append(ch, syncengine.Change{Collection: schema.Engagement, Record: id, Kind: schema.KindRemove, Field: "languages", Value: l})
		}
	}
	return ch
}

// checkEngagementForm validates the form against what the person may choose and
// returns the chosen prompt set's version.
func (h *Console) checkEngagementForm(c echo.Context, f *form.Engagement) (int64, form.Errors, error) {
	w := current(c)
	ctx := c.Request().Context()
	teams, err := h.teams(ctx, w)
	if err != nil {
		return 0, nil, err
	}
	sets, err := h.promptSetChoices(ctx, w)
	if err != nil {
		return 0, nil, err
	}
	ids := make([]string, 0, len(sets))
	var version int64
	for _, s := range sets {
		if s.Team != "" && s.Team != f.Team {
			continue // tablets of the engagement's team could not pull another team's set
		}
		ids = append(ids, s.ID)
		if s.ID == f.PromptSet {
			version = s.Version
		}
	}
	return version, f.Validate(teams, ids), nil
}

func (h *Console) engagementCreate(c echo.Context) error {
	f := form.ParseEngagement(mustForm(c))
	version, errs, err := h.checkEngagementForm(c, &f)
	if err != nil {
		return h.internal(c, err)
	}
	if len(errs) > 0 {
		return h.engagementForm(c, "", f, errs, http.StatusUnprocessableEntity)
	}
	id := auth.NewID()
	ch := engagementChanges(id, engagementRow{PromptSetVersion: -1}, f, version)
	if err := h.write(c.Request().Context(), current(c), f.Team, ch); err != nil {
		return h.internal(c, err)
	}
	h.audit(c, "engagement_create", f.Team, "engagement/"+id, "")
	return seeOther(c, "/console/engagements?done=saved")
}
