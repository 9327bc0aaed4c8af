package console

import "github.com/labstack/echo/v4"

// logout ends the session here and in the store.
func (h *Console) logout(c echo.Context) error {
	w := current(c)
	if err := h.Sessions.DeleteSession(c.Request().Context(), w.Session.Hash); err != nil {
		return h.internal(c, err)
	}
	h.audit(c, "sign_out", "", "", "")
	h.setCookie(c, sessionCookie, "", -1)
	return seeOther(c, "/console/sign-in?done=signed_out")
}
