package console

import (
	"net/url"

	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/labstack/echo/v4"
)

// mustForm parses the request's form (urlencoded or multipart); an unreadable body gives
// an empty form, which then fails validation or CSRF.
func mustForm(c echo.Context) url.Values {
	v, err := c.FormParams()
	if err != nil {
		return url.Values{}
	}
	return v
}

// fieldErrors translates form errors for the error summary.
func (h *Console) fieldErrors(p *page, es form.Errors) []fieldError {
	out := make([]fieldError, 0, len(es))
	for _, e := range es {
		out = append(out, fieldError{Field: e.Field, Message: p.T(e.Message)})
	}
	return out
}
