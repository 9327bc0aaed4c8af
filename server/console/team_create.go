package console

import (
	"errors"
	"net/http"

	"github.com/fieldnotes/fieldnotes/server/api"
	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/labstack/echo/v4"
)

// teamCreate adds a team.
func (h *Console) teamCreate(c echo.Context) error {
	f := form.ParseTeam(mustForm(c))
	if !api.ValidTeamName(f.Name) {
		return h.userPage(c, userData{Team: f}, form.Errors{{Field: "name", Message: "console.team.invalid"}}, http.StatusUnprocessableEntity)
	}
	err := h.Store.CreateTeam(c.Request().Context(), store.Team{Name: f.Name, CreatedAt: h.nowMS()})
	if errors.Is(err, store.ErrConflict) {
		return h.userPage(c, userData{Team: f}, form.Errors{{Field: "name", Message: "console.team.taken"}}, http.StatusUnprocessableEntity)
	} else if err != nil {
		return h.internal(c, err)
	}
	h.audit(c, "team_create", f.Name, "team/"+f.Name, "")
	return seeOther(c, "/console/users?done=team")
}
