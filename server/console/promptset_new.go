package console

import (
	"io"
	"net/http"

	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/labstack/echo/v4"
)

type promptSetFormData struct {
	ID    string // "" for a new set
	Set   *promptSetRow
	Form  form.PromptSet
	Teams []string
}

const sampleSheet = "type,name,label::en,label::cy,label::pl\n" +
	"text,what_works,What works well for you?,Beth sy'n gweithio'n dda i chi?,Co działa dla Ciebie dobrze?\n" +
	"select_one,travel,How did you get here?,Sut daethoch chi yma?,Jak tu dotarłeś?\n" +
	"choice,bus,Bus,Bws,Autobus\n" +
	"choice,walk,Walked,Cerdded,Pieszo\n"

func (h *Console) promptSetForm(c echo.Context, d promptSetFormData, errs form.Errors, status int) error {
	teams, err := h.teams(c.Request().Context(), current(c))
	if err != nil {
		return h.internal(c, err)
	}
	d.Teams = teams
	if d.Form.Team == "" && len(teams) == 1 {
		d.Form.Team = teams[0]
	}
	title := "console.prompt_set.new"
	if d.ID != "" {
		title = "console.prompt_set.version"
	}
	p := h.newPage(c, title, d)
	p.Errors = h.fieldErrors(p, errs)
	p.Status = status
	name := "promptset_form"
	if d.Set != nil {
		name = "promptset_show"
	}
	return h.render(c, name, p)
}

func (h *Console) promptSetNew(c echo.Context) error {
	return h.promptSetForm(c, promptSetFormData{Form: form.PromptSet{Sheet: sampleSheet}}, nil, http.StatusOK)
}

// upload reads an uploaded file field (at most 1 MiB), nil when there is none.
func upload(c echo.Context, name string) []byte {
	fh, err := c.FormFile(name)
	if err != nil || fh.Size == 0 || fh.Size > 1<<20 {
		return nil
	}
	f, err := fh.Open()
	if err != nil {
		return nil
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, 1<<20))
	return b
}
