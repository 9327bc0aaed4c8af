package console

import (
	"context"
	"net/http"

	"github.com/fieldnotes/fieldnotes/locales"
	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/labstack/echo/v4"
)

// engagementFormData is what the engagement form shows.
type engagementFormData struct {
	ID         string // "" when creating
	Form       form.Engagement
	Teams      []string
	VenueTypes []string
	Languages  []string
	PromptSets []promptSetChoice
}

type promptSetChoice struct {
	ID, Name, Team string // Team "" for the built-in set, usable by every team
	Version        int64
}

// promptSetChoices lists the built-in set and the person's prompt sets.
func (h *Console) promptSetChoices(ctx context.Context, w *who) ([]promptSetChoice, error) {
	out := []promptSetChoice{}
	if b, ok := locales.BuiltinPromptSet(locales.CommunityConversation); ok {
		out = append(out, promptSetChoice{ID: b.ID, Name: b.ID, Version: int64(b.Version)})
	}
	recs, err := h.scan(ctx, w, schema.PromptSet)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		f := fields(r.Fields)
		out = append(out, promptSetChoice{ID: r.ID, Name: f.str("name"), Team: r.Team, Version: f.num("version")})
	}
	return out, nil
}

func supportedLanguages() []string {
	out := make([]string, 0, len(locales.Supported))
	for _, t := range locales.Supported {
		out = append(out, t.String())
	}
	return out
}

func (h *Console) engagementForm(c echo.Context, id string, f form.Engagement, errs form.Errors, status int) error {
	w := current(c)
	ctx := c.Request().Context()
	teams, err := h.teams(ctx, w)
	if err != nil {
		return h.internal(c, err)
	}
	sets, err := h.promptSetChoices(ctx, w)
	if err != nil {
		return h.internal(c, err)
	}
	if f.Team == "" && len(teams) == 1 {
		f.Team = teams[0]
	}
	title := "console.engagement.new"
	if id != "" {
		title = "console.engagement.edit"
	}
	p := h.newPage(c, title, engagementFormData{ID: id, Form: f, Teams: teams, VenueTypes: schema.VenueTypes, Languages: supportedLanguages(), PromptSets: sets})
	p.Errors = h.fieldErrors(p, errs)
	p.Status = status
	return h.render(c, "engagement_form", p)
}

func (h *Console) engagementNew(c echo.Context) error {
	return h.engagementForm(c, "", form.Engagement{Languages: []string{"en"}, PromptSet: locales.CommunityConversation}, nil, http.StatusOK)
}
