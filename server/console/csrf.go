package console

import (
	"crypto/subtle"
	"net/http"

	"github.com/fieldnotes/fieldnotes/server/auth"
	"github.com/labstack/echo/v4"
)

// csrfField is the name of the hidden field every form carries.
const csrfField = "csrf"

// csrfToken is the token forms on this request's page must carry: the session's, or
// before sign-in a random value also set in a cookie (double submit), so that a sign-in
// form can't be posted from another site either.
func (h *Console) csrfToken(c echo.Context) string {
	if w := current(c); w != nil {
		return w.Session.CSRF
	}
	if v, _ := c.Get("console.csrf").(string); v != "" {
		return v
	}
	if ck, err := c.Cookie(csrfCookie); err == nil && len(ck.Value) >= 32 && len(ck.Value) <= 100 {
		return ck.Value
	}
	v := auth.NewSecret()
	h.setCookie(c, csrfCookie, v, 3600)
	c.Set("console.csrf", v)
	return v
}

// checkCSRF refuses every state-changing request whose form does not carry the token:
// 403, in the person's language, and nothing is changed.
func (h *Console) checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		want := ""
		if w := current(c); w != nil {
			want = w.Session.CSRF
		} else if ck, err := c.Cookie(csrfCookie); err == nil {
			want = ck.Value
		}
		got := c.FormValue(csrfField)
		if want == "" || len(got) != len(want) || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			return h.errorPage(c, http.StatusForbidden, "console.error.csrf")
		}
		return next(c)
	}
}
