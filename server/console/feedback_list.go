package console

import (
	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/feedback"
	"github.com/labstack/echo/v4"
)

// feedbackRow is a feedback item as the list shows it: never the contact details
// (those are only in the mail-merge download).
type feedbackRow struct {
	ID, Decision, DecisionTitle, Locale, Channel, Status, Subject string
	Fallback                                                      bool
	QueuedAt                                                      int64
}

type feedbackListData struct {
	Rows             []feedbackRow
	Status, Decision string
	Statuses         []string
}

func (h *Console) feedbackList(c echo.Context) error {
	w := current(c)
	ctx := c.Request().Context()
	status := c.QueryParam("status")
	if !contains(schema.FeedbackStatuses, status) {
		status = ""
	}
	decision := c.QueryParam("decision")
	items, err := h.Coord.Feedback.List(ctx, w.Teams, status)
	if err != nil {
		return h.internal(c, err)
	}
	titles := map[string]string{}
	recs, err := h.scan(ctx, w, schema.Decision)
	if err != nil {
		return h.internal(c, err)
	}
	for _, r := range recs {
		titles[r.ID] = feedback.DecisionOf(r).Title
	}
	d := feedbackListData{Status: status, Decision: decision, Statuses: schema.FeedbackStatuses}
	for _, it := range items {
		if decision != "" && it.Decision != decision {
			continue
		}
		d.Rows = append(d.Rows, feedbackRow{ID: it.ID, Decision: it.Decision, DecisionTitle: titles[it.Decision], Locale: it.Locale,
			Channel: it.Channel, Status: it.Status, Subject: it.Subject, Fallback: it.Fallback, QueuedAt: it.QueuedAt})
	}
	return h.render(c, "feedback_list", h.newPage(c, "console.nav.feedback", d))
}
