package console

import (
	"errors"
	"net/http"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/labstack/echo/v4"
)

// reviewChanges sets review_state and review_comment (LWW registers) on a conversation.
func reviewChanges(id string, f form.Review) []syncengine.Change {
	return []syncengine.Change{
		{Collection: schema.Conversation, Record: id, Kind: schema.KindSet, Field: "review_state", Value: f.State},
		{Collection: schema.Conversation, Record: id, Kind: schema.KindSet, Field: "review_comment", Value: f.Comment},
	}
}

// conversationReview records a coordinator's review as their ops: the tablet that
// recorded the conversation gets it at its next pull.
func (h *Console) conversationReview(c echo.Context) error {
	id := c.Param("id")
	r, _, err := h.loadConversation(c, id)
	if errors.Is(err, errGone) {
		return h.notFound(c)
	} else if err != nil {
		return h.internal(c, err)
	}
	f := form.ParseReview(mustForm(c))
	if errs := f.Validate(); len(errs) > 0 {
		return h.conversationPage(c, f, errs, http.StatusUnprocessableEntity)
	}
	if err := h.write(c.Request().Context(), current(c), r.Team, reviewChanges(r.ID, f)); err != nil {
		return h.internal(c, err)
	}
	h.audit(c, "review", r.Team, "conversation/"+r.ID, "state="+f.State)
	return seeOther(c, "/console/conversations/"+r.ID+"?done=reviewed")
}
