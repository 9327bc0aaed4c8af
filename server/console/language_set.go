package console

import (
	"github.com/fieldnotes/fieldnotes/locales"
	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/labstack/echo/v4"
)

// languageSet remembers the picked language in a cookie (a year) and goes back.
func (h *Console) languageSet(c echo.Context) error {
	l := c.QueryParam("lang")
	for _, t := range locales.Supported {
		if t.String() == l {
			h.setCookie(c, langCookie, l, 365*24*3600)
		}
	}
	return seeOther(c, form.SafeNext(c.QueryParam("next")))
}
