package console

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/fieldnotes/fieldnotes/server/feedback"
	"github.com/labstack/echo/v4"
)

// feedbackStatus marks a message sent or failed.
func (h *Console) feedbackStatus(c echo.Context) error {
	v := mustForm(c)
	status := v.Get("status")
	back := "/console/feedback?" + url.Values{"decision": {v.Get("decision")}}.Encode()
	if status != "sent" && status != "failed" {
		return h.errorPageWith(c, http.StatusUnprocessableEntity, form.Errors{{Field: "status", Message: "console.form.invalid_choice"}}, back)
	}
	it, err := h.Coord.Feedback.SetStatus(c.Request().Context(), current(c).caller(), c.Param("id"), status)
	var fe *feedback.Error
	if errors.As(err, &fe) {
		return h.notFound(c)
	} else if err != nil {
		return h.internal(c, err)
	}
	h.audit(c, "feedback_"+status, "", "feedback/"+it.ID, "decision="+it.Decision)
	return seeOther(c, back+"&done=status")
}
