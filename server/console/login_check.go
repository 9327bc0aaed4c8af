package console

import (
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/fieldnotes/fieldnotes/server/auth"
	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/labstack/echo/v4"
)

// loginCheck signs a person in with the API's users, passwords and login rate limit.
// A wrong email and a wrong password get the same answer (and the same work).
func (h *Console) loginCheck(c echo.Context) error {
	f := form.ParseLogin(mustForm(c))
	again := func(status int, errs form.Errors) error {
		p := h.newPage(c, "console.sign_in.title", loginData{Email: f.Email, Next: f.Next})
		p.Errors = h.fieldErrors(p, errs)
		p.Status = status
		return h.render(c, "login", p)
	}
	if ok, wait := h.AllowLogin(c.RealIP()); !ok {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Max(1, math.Ceil(wait.Seconds())))))
		return h.errorPage(c, http.StatusTooManyRequests, "console.error.rate_limited")
	}
	if errs := f.Validate(); len(errs) > 0 {
		return again(http.StatusUnprocessableEntity, errs)
	}
	ctx := c.Request().Context()
	fail := func() error {
		h.appendAudit(ctx, store.AuditEntry{At: h.nowMS(), Action: "sign_in_failed", Email: f.Email, Detail: "ip=" + c.RealIP()})
		return again(http.StatusUnauthorized, form.Errors{{Field: "email", Message: "console.sign_in.invalid"}})
	}
	if len(f.Password) > 1024 {
		return fail()
	}
	u, err := h.Store.UserByEmail(ctx, f.Email)
	if errors.Is(err, store.ErrNotFound) {
		auth.CheckNoUser(f.Password, h.Argon2)
		return fail()
	} else if err != nil {
		return h.internal(c, err)
	}
	if !auth.CheckPassword(u.PasswordHash, f.Password) {
		return fail()
	}
	if err := h.startSession(c, u); err != nil {
		return h.internal(c, err)
	}
	h.appendAudit(ctx, store.AuditEntry{At: h.nowMS(), Actor: u.ID, Email: u.Email, Role: u.Role, Action: "sign_in"})
	return seeOther(c, f.Next)
}
