package console

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/fieldnotes/fieldnotes/server/feedback"
	"github.com/labstack/echo/v4"
)

// decisionCreate records a decision through the feedback package (as POST /v1/decisions).
func (h *Console) decisionCreate(c echo.Context) error {
	f := form.ParseDecision(mustForm(c), supportedLanguages())
	in := feedback.DecisionInput{Title: f.Title, Summary: f.Summary, Outcome: f.Outcome, Reason: f.Reason,
		Themes: f.Themes, Conversations: f.Conversations, Team: f.Team}
	r, err := h.Coord.Feedback.CreateDecision(c.Request().Context(), current(c).caller(), in)
	var fe *feedback.Error
	if errors.As(err, &fe) {
		return h.decisionForm(c, f, form.Errors{decisionError(fe)}, http.StatusUnprocessableEntity)
	} else if err != nil {
		return h.internal(c, err)
	}
	h.audit(c, "decision_create", r.Team, "decision/"+r.ID, fmt.Sprintf("outcome=%s conversations=%d", f.Outcome, len(f.Conversations)))
	return seeOther(c, "/console/decisions/"+r.ID+"?done=saved")
}

// decisionError maps the feedback package's field errors onto the form's fields.
func decisionError(fe *feedback.Error) form.Error {
	field := fe.Field
	switch {
	case strings.HasPrefix(field, "conversations"):
		field = "conversations"
	case strings.HasPrefix(field, "themes"):
		field = "themes"
	case strings.HasPrefix(field, "summary."):
		field = "summary"
	}
	msg, ok := decisionMessages[field]
	if !ok {
		msg = "console.form.invalid_choice"
	}
	return form.Error{Field: field, Message: msg}
}

var decisionMessages = map[string]string{
	"title":         "console.form.required",
	"outcome":       "console.decision.outcome_required",
	"reason":        "console.decision.reason_required",
	"conversations": "console.decision.conversations_invalid",
	"themes":        "console.decision.themes_invalid",
	"summary":       "console.decision.summary_invalid",
	"team":          "console.form.team_required",
}
