package console

import (
	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/labstack/echo/v4"
)

type loginData struct {
	Email, Next string
}

func (h *Console) loginShow(c echo.Context) error {
	if w, _ := h.loadSession(c); w != nil {
		return seeOther(c, form.SafeNext(c.QueryParam("next")))
	}
	return h.render(c, "login", h.newPage(c, "console.sign_in.title", loginData{Next: form.SafeNext(c.QueryParam("next"))}))
}
