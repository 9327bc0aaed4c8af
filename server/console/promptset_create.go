package console

import (
	"net/http"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/auth"
	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/labstack/echo/v4"
)

func promptSetChanges(id, team, name string, version int64, prompts []form.Prompt) []syncengine.Change {
	return []syncengine.Change{
		{Collection: schema.PromptSet, Record: id, Kind: schema.KindSet, Field: "team", Value: team},
		{Collection: schema.PromptSet, Record: id, Kind: schema.KindSet, Field: "name", Value: name},
		{Collection: schema.PromptSet, Record: id, Kind: schema.KindSet, Field: "version", Value: version},
		{Collection: schema.PromptSet, Record: id, Kind: schema.KindSet, Field: "prompts", Value: prompts},
	}
}

func (h *Console) promptSetCreate(c echo.Context) error {
	w := current(c)
	ctx := c.Request().Context()
	f := form.ParsePromptSet(mustForm(c), upload(c, "file"))
	teams, err := h.teams(ctx, w)
	if err != nil {
		return h.internal(c, err)
	}
	if errs := f.Validate(teams); len(errs) > 0 {
		return h.promptSetForm(c, promptSetFormData{Form: f}, errs, http.StatusUnprocessableEntity)
	}
	id := auth.NewID()
	if err := h.write(ctx, w, f.Team, promptSetChanges(id, f.Team, f.Name, 1, f.Prompts)); err != nil {
		return h.internal(c, err)
	}
	h.audit(c, "prompt_set_create", f.Team, "prompt_set/"+id, "version=1")
	return seeOther(c, "/console/prompt-sets/"+id+"?done=saved")
}
