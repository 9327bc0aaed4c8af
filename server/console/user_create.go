package console

import (
	"errors"
	"net/http"

	"github.com/fieldnotes/fieldnotes/server/api"
	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/labstack/echo/v4"
)

// userCreate adds a user through the API's own checks and hashing (api.NewUser).
func (h *Console) userCreate(c echo.Context) error {
	ctx := c.Request().Context()
	f := form.ParseUser(mustForm(c))
	all, err := h.Store.Teams(ctx, nil)
	if err != nil {
		return h.internal(c, err)
	}
	names := make([]string, 0, len(all))
	for _, t := range all {
		names = append(names, t.Name)
	}
	again := func(errs form.Errors) error {
		f.Password = ""
		return h.userPage(c, userData{Form: f}, errs, http.StatusUnprocessableEntity)
	}
	if errs := f.Validate(names); len(errs) > 0 {
		return again(errs)
	}
	teams := f.Teams
	if f.Role == store.RoleAdmin {
		teams = nil
	}
	u, err := api.NewUser(f.Email, f.Password, f.Role, teams, h.Argon2, h.nowMS())
	var ae *api.Error
	if errors.As(err, &ae) {
		return again(form.Errors{{Field: "email", Message: "console.user.invalid"}})
	} else if err != nil {
		return h.internal(c, err)
	}
	if err := h.Store.CreateUser(ctx, u); errors.Is(err, store.ErrConflict) {
		return again(form.Errors{{Field: "email", Message: "console.user.email_taken"}})
	} else if err != nil {
		return h.internal(c, err)
	}
	h.audit(c, "user_create", "", "user/"+u.ID, "role="+u.Role)
	return seeOther(c, "/console/users?done=user")
}
