package console

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/labstack/echo/v4"
)

// promptSetUpdate saves a new version of a prompt set; tablets get it at their next pull.
func (h *Console) promptSetUpdate(c echo.Context) error {
	w := current(c)
	ctx := c.Request().Context()
	ps, err := h.loadPromptSet(ctx, w, c.Param("id"))
	if errors.Is(err, errGone) {
		return h.notFound(c)
	} else if err != nil {
		return h.internal(c, err)
	}
	f := form.ParsePromptSet(mustForm(c), upload(c, "file"))
	f.Team = ps.Team
	if errs := f.Validate([]string{ps.Team}); len(errs) > 0 {
		return h.promptSetForm(c, promptSetFormData{ID: ps.ID, Set: &ps, Form: f}, errs, http.StatusUnprocessableEntity)
	}
	version := ps.Version + 1
	if err := h.write(ctx, w, ps.Team, promptSetChanges(ps.ID, ps.Team, f.Name, version, f.Prompts)); err != nil {
		return h.internal(c, err)
	}
	h.audit(c, "prompt_set_version", ps.Team, "prompt_set/"+ps.ID, fmt.Sprintf("version=%d", version))
	return seeOther(c, "/console/prompt-sets/"+ps.ID+"?done=saved")
}
