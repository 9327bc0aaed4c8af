package console

import (
	"net/http"

	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/labstack/echo/v4"
)

type userData struct {
	Users []store.User
	Teams []store.Team
	Form  form.User
	Team  form.Team
}

func (h *Console) userPage(c echo.Context, d userData, errs form.Errors, status int) error {
	ctx := c.Request().Context()
	users, err := h.Store.Users(ctx)
	if err != nil {
		return h.internal(c, err)
	}
	teams, err := h.Store.Teams(ctx, nil)
	if err != nil {
		return h.internal(c, err)
	}
	d.Users, d.Teams = users, teams
	p := h.newPage(c, "console.nav.users", d)
	p.Errors = h.fieldErrors(p, errs)
	p.Status = status
	return h.render(c, "user_list", p)
}

func (h *Console) userList(c echo.Context) error {
	return h.userPage(c, userData{Form: form.User{Role: "coordinator"}}, nil, http.StatusOK)
}
