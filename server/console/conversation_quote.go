package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/fieldnotes/fieldnotes/server/annual"
	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/labstack/echo/v4"
)

// conversationQuote picks one text answer of a conversation for its engagement's public
// page, or takes the pick back (action=stop), with the same rules as
// PUT /v1/conversations/{id}/public-quote (annual.PickQuote): a text answer, a consent
// that covers quote and is not withdrawn. A conversation rejected in review can't be
// picked either (the reports leave it out). Another team's conversation is a 404.
func (h *Console) conversationQuote(c echo.Context) error {
	w := current(c)
	r, _, err := h.loadConversation(c, c.Param("id"))
	if errors.Is(err, errGone) {
		return h.notFound(c)
	} else if err != nil {
		return h.internal(c, err)
	}
	v := mustForm(c)
	var prompt *string
	if v.Get("action") != "stop" {
		p := strings.TrimSpace(v.Get("prompt"))
		prompt = &p
	}
	value, err := annual.PickQuote(c.Request().Context(), h.Store, w.User.NodeID, w.Teams, r, prompt)
	switch {
	case errors.Is(err, annual.ErrRejected):
		return h.conversationPage(c, form.Review{}, form.Errors{{Field: "public-quote", Message: "console.quote.rejected"}}, http.StatusUnprocessableEntity)
	case errors.Is(err, annual.ErrNotTextAnswer):
		return h.conversationPage(c, form.Review{}, form.Errors{{Field: "public-quote", Message: "console.quote.not_text"}}, http.StatusUnprocessableEntity)
	case errors.Is(err, annual.ErrNoQuoteConsent):
		return h.conversationPage(c, form.Review{}, form.Errors{{Field: "public-quote", Message: "console.quote.no_consent"}}, http.StatusUnprocessableEntity)
	case err != nil:
		return h.internal(c, err)
	}
	detail := "prompt="
	if s, ok := value.(string); ok {
		detail += s
	}
	h.audit(c, "public_quote", r.Team, "conversation/"+r.ID, detail)
	return seeOther(c, "/console/conversations/"+r.ID+"?done=quote#public-quote")
}
