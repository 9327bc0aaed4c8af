package console

import (
	"context"
	"errors"
	"net/http"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/labstack/echo/v4"
)

func (h *Console) loadPromptSet(ctx context.Context, w *who, id string) (promptSetRow, error) {
	r, err := h.record(ctx, w, schema.PromptSet, id)
	if err != nil {
		return promptSetRow{}, err
	}
	engs, err := h.scan(ctx, w, schema.Engagement)
	if err != nil {
		return promptSetRow{}, err
	}
	return promptSetOf(r, engagementLanguages(engs)[id]), nil
}

// promptSetShow shows every prompt and choice per language, marking missing
// translations, and a form to save a new version (the sheet of the current one).
func (h *Console) promptSetShow(c echo.Context) error {
	ps, err := h.loadPromptSet(c.Request().Context(), current(c), c.Param("id"))
	if errors.Is(err, errGone) {
		return h.notFound(c)
	} else if err != nil {
		return h.internal(c, err)
	}
	f := form.PromptSet{Name: ps.Name, Team: ps.Team, Sheet: form.Sheet(ps.Prompts, ps.Languages)}
	return h.promptSetForm(c, promptSetFormData{ID: ps.ID, Set: &ps, Form: f}, nil, http.StatusOK)
}
