package console

import (
	"errors"
	"fmt"

	"github.com/fieldnotes/fieldnotes/server/feedback"
	"github.com/labstack/echo/v4"
)

// feedbackQueue queues feedback for a decision (as POST /v1/decisions/{id}/feedback).
func (h *Console) feedbackQueue(c echo.Context) error {
	d, _, err := h.loadDecision(c)
	if errors.Is(err, errGone) {
		return h.notFound(c)
	} else if err != nil {
		return h.internal(c, err)
	}
	res, err := h.Coord.Feedback.QueueFeedback(c.Request().Context(), current(c).caller(), d.ID)
	var fe *feedback.Error
	if errors.As(err, &fe) {
		return h.notFound(c)
	} else if err != nil {
		return h.internal(c, err)
	}
	h.audit(c, "feedback_queue", d.Team, "decision/"+d.ID, fmt.Sprintf("queued=%d skipped_no_consent=%d skipped_no_contact=%d already=%d",
		res.Queued, res.SkippedNoConsent, res.SkippedNoContact, res.AlreadyQueued))
	return seeOther(c, "/console/feedback?decision="+d.ID+"&done=queued")
}
