package console

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/fieldnotes/fieldnotes/syncengine"
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
	ch := promptSetChanges(ps.ID, ps.Team, f.Name, version, f.Prompts)
	// Engagements using the set name the version they now use, in the same batch.
	engs, err := h.scan(ctx, w, schema.Engagement)
	if err != nil {
		return h.internal(c, err)
	}
	for _, e := range engs {
		if e.Team == ps.Team && fields(e.Fields).str("prompt_set") == ps.ID {
			ch = append(ch, syncengine.Change{Collection: schema.Engagement, Record: e.ID, Kind: schema.KindSet, Field: "prompt_set_version", Value: version})
		}
	}
	if err := h.write(ctx, w, ps.Team, ch); err != nil {
		return h.internal(c, err)
	}
	h.audit(c, "prompt_set_version", ps.Team, "prompt_set/"+ps.ID, fmt.Sprintf("version=%d", version))
	return seeOther(c, "/console/prompt-sets/"+ps.ID+"?done=saved")
}
