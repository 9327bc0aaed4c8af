package console

import (
	"github.com/fieldnotes/fieldnotes/server/coordapi"
	"github.com/fieldnotes/fieldnotes/server/feedback"
	"github.com/labstack/echo/v4"
)

// feedbackCSV downloads the mail-merge file of queued messages (contact details only
// where consent still covers contact), as GET /v1/feedback with Accept: text/csv.
func (h *Console) feedbackCSV(c echo.Context) error {
	w := current(c)
	items, err := h.Coord.Feedback.List(c.Request().Context(), w.Teams, "queued")
	if err != nil {
		return h.internal(c, err)
	}
	decision := c.QueryParam("decision")
	rows := [][]string{append([]string(nil), feedback.MailMergeHeader...)}
	for _, it := range items {
		if decision == "" || it.Decision == decision {
			rows = append(rows, it.MailMergeRow())
		}
	}
	h.audit(c, "feedback_mail_merge", "", "", "rows="+itoa(len(rows)-1))
	return coordapi.WriteCSV(c, "feedback.csv", rows)
}
