package console

import (
	"errors"
	"net/http"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/labstack/echo/v4"
)

// conversationThemes adds or removes a theme (an add-wins set: a tablet's concurrent add
// survives a removal here).
func (h *Console) conversationThemes(c echo.Context) error {
	r, _, err := h.loadConversation(c, c.Param("id"))
	if errors.Is(err, errGone) {
		return h.notFound(c)
	} else if err != nil {
		return h.internal(c, err)
	}
	f := form.ParseTheme(mustForm(c))
	if errs := f.Validate(); len(errs) > 0 {
		return h.conversationPage(c, form.Review{}, errs, http.StatusUnprocessableEntity)
	}
	kind := schema.KindAdd
	if f.Remove {
		kind = schema.KindRemove
	}
	ch := []syncengine.Change{{Collection: schema.Conversation, Record: r.ID, Kind: kind, Field: "themes", Value: f.Theme}}
	if err := h.write(c.Request().Context(), current(c), r.Team, ch); err != nil {
		return h.internal(c, err)
	}
	h.audit(c, "theme_"+kind, r.Team, "conversation/"+r.ID, "theme="+f.Theme)
	return seeOther(c, "/console/conversations/"+r.ID+"?done=saved")
}
