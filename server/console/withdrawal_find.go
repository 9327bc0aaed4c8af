package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/fieldnotes/fieldnotes/server/reports"
	"github.com/labstack/echo/v4"
)

type withdrawalData struct {
	Query         string
	Found         bool
	Consent       consentView
	Team          string
	Conversations int      // recorded under it: erased here and on every tablet
	Fields        []string // the participant's contact and equality fields that are cut
	Form          form.Withdraw
	Done          bool
	Erased        int
}

// withdrawalFind looks a consent up by the id on the participant's receipt and says
// exactly what withdrawing it will erase.
func (h *Console) withdrawalFind(c echo.Context) error {
	return h.withdrawalPage(c, strings.TrimSpace(c.QueryParam("consent")), form.Withdraw{}, nil, http.StatusOK)
}

func (h *Console) withdrawalPage(c echo.Context, id string, f form.Withdraw, errs form.Errors, status int) error {
	w := current(c)
	ctx := c.Request().Context()
	d := withdrawalData{Query: id, Form: f}
	p := h.newPage(c, "console.nav.withdrawals", &d)
	if id != "" {
		if !schema.ValidRecordID(id) {
			errs = append(errs, form.Error{Field: "consent", Message: "console.withdrawal.not_found"})
		} else {
			r, err := h.record(ctx, w, schema.Consent, id)
			switch {
			case errors.Is(err, errGone):
				errs = append(errs, form.Error{Field: "consent", Message: "console.withdrawal.not_found"})
			case err != nil:
				return h.internal(c, err)
			default:
				cf := fields(r.Fields)
				d.Found, d.Team = true, r.Team
				d.Consent = consentView{ID: r.ID, StatementID: cf.str("statement_id"), StatementVersion: cf.num("statement_version"),
					StatementLocale: cf.str("statement_locale"), Method: cf.str("method"), Interpreter: cf.str("interpreter"),
					RecordedBy: cf.str("recorded_by"), GivenAt: cf.num("given_at"), Scopes: cf.strs("scopes"), Withdrawn: r.Withdrawn, Found: true}
				err := h.Coord.Reports.Index.Read(ctx, func(v *reports.View) error {
					v.Conversations(func(cv *reports.Conversation) {
						if cv.Consent == id {
							d.Conversations++
						}
					})
					return nil
				})
				if err != nil {
					return h.internal(c, err)
				}
				if pr, err := h.record(ctx, w, schema.Participant, cf.str("participant")); err == nil {
					for _, fld := range append(append([]string{}, schema.ContactFields...), equalityFields()...) {
						if _, ok := pr.Fields[fld]; ok {
							d.Fields = append(d.Fields, fld)
						}
					}
				}
			}
		}
	}
	if len(errs) > 0 && status == http.StatusOK {
		status = http.StatusNotFound
	}
	p.Errors = h.fieldErrors(p, errs)
	p.Status = status
	return h.render(c, "withdrawal", p)
}

func equalityFields() []string {
	out := make([]string, 0, len(schema.EqualityQuestions))
	for _, q := range schema.EqualityQuestions {
		out = append(out, q.Field)
	}
	return out
}
