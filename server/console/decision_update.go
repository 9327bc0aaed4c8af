package console

import (
	"errors"
	"net/http"
	"slices"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/labstack/echo/v4"
)

// decisionUpdate records a new outcome, reason or summaries (LWW fields, the person's ops).
func (h *Console) decisionUpdate(c echo.Context) error {
	d, _, stage, err := h.loadDecisionStage(c)
	if errors.Is(err, errGone) {
		return h.notFound(c)
	} else if err != nil {
		return h.internal(c, err)
	}
	f := form.ParseDecisionUpdate(mustForm(c), supportedLanguages())
	var errs form.Errors
	if !slices.Contains(schema.Outcomes, f.Outcome) {
		errs = append(errs, form.Error{Field: "outcome", Message: "console.decision.outcome_required"})
	}
	if f.Outcome == "not_changed" && f.Reason == "" {
		errs = append(errs, form.Error{Field: "reason", Message: "console.decision.reason_required"})
	}
	if f.Stage != "" && !slices.Contains(schema.DecisionProgress, f.Stage) {
		errs = append(errs, form.Error{Field: "stage", Message: "console.form.invalid_choice"})
	}
	if len(f.Reason) > 4000 {
		errs = append(errs, form.Error{Field: "reason", Message: "console.form.too_long"})
	}
	for _, s := range f.Summary {
		if len(s) > 4000 {
			errs = append(errs, form.Error{Field: "summary", Message: "console.form.too_long"})
			break
		}
	}
	if len(errs) > 0 {
		return h.decisionPage(c, errs, http.StatusUnprocessableEntity)
	}
	set := func(field string, v any) syncengine.Change {
		return syncengine.Change{Collection: schema.Decision, Record: d.ID, Kind: schema.KindSet, Field: field, Value: v}
	}
	var ch []syncengine.Change
	if f.Outcome != d.Outcome {
		ch = append(ch, set("outcome", f.Outcome))
	}
	if f.Stage != "" && f.Stage != stage {
		ch = append(ch, set("progress", f.Stage))
	}
	if f.Reason != d.Reason {
		ch = append(ch, set("reason", f.Reason))
	}
	for _, l := range supportedLanguages() {
		if s, ok := f.Summary[l]; ok && s != d.Summary[l] {
			ch = append(ch, set(schema.SummaryPrefix+l, s))
		}
	}
	if len(ch) > 0 {
		if err := h.write(c.Request().Context(), current(c), d.Team, ch); err != nil {
			return h.internal(c, err)
		}
		h.audit(c, "decision_update", d.Team, "decision/"+d.ID, "outcome="+f.Outcome)
	}
	return seeOther(c, "/console/decisions/"+d.ID+"?done=saved")
}
