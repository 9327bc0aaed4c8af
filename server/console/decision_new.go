package console

import (
	"net/http"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/labstack/echo/v4"
)

type decisionFormData struct {
	Form      form.Decision
	Teams     []string
	Outcomes  []string
	Languages []string
}

func (h *Console) decisionForm(c echo.Context, f form.Decision, errs form.Errors, status int) error {
	teams, err := h.teams(c.Request().Context(), current(c))
	if err != nil {
		return h.internal(c, err)
	}
	p := h.newPage(c, "console.decision.new", decisionFormData{Form: f, Teams: teams, Outcomes: schema.Outcomes, Languages: supportedLanguages()})
	p.Errors = h.fieldErrors(p, errs)
	p.Status = status
	return h.render(c, "decision_form", p)
}

// decisionNew shows the decision form, with the conversations ticked in the
// conversation table (posted here) already linked.
func (h *Console) decisionNew(c echo.Context) error {
	v := c.QueryParams()
	if c.Request().Method == http.MethodPost {
		v = mustForm(c)
	}
	f := form.ParseDecision(v, supportedLanguages())
	return h.decisionForm(c, form.Decision{Conversations: f.Conversations, Outcome: "in_progress", Summary: map[string]string{}}, nil, http.StatusOK)
}
