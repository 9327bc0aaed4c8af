package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/annual"
	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/labstack/echo/v4"
)

// annualReport serves the annual report for the form's period, as the standalone
// printable web page (with the report's own Content-Security-Policy) or, at
// /console/annual/report.pdf, as a PDF download. It is scoped to the person's teams as
// GET /v1/reports/annual is, and made by the annual package, which records it in the
// export log.
func (h *Console) annualReport(c echo.Context) error {
	w := current(c)
	pdf := strings.HasSuffix(c.Request().URL.Path, ".pdf")
	q, err := annual.ParseQuery(c.QueryParams(), lang(c))
	var ae *annual.Error
	if errors.As(err, &ae) {
		return h.annualInvalid(c, ae)
	} else if err != nil {
		return h.internal(c, err)
	}
	q.Teams = w.Teams // nil for an admin: every team
	out, csp, err := h.Annual.Make(c.Request().Context(), h.Printer, q, w.User.ID, pdf)
	switch {
	case errors.As(err, &ae) && ae.Code == annual.CodePDFUnavailable:
		return h.errorPage(c, http.StatusServiceUnavailable, "error.pdf_unavailable")
	case errors.As(err, &ae):
		return h.annualInvalid(c, ae)
	case err != nil:
		return h.internal(c, err)
	}
	hd := c.Response().Header()
	if pdf {
		hd.Set(echo.HeaderContentDisposition, `attachment; filename="`+annual.FileName(q)+`.pdf"`)
		return c.Blob(http.StatusOK, "application/pdf", out)
	}
	// The report is a page of its own (inline styles, no console chrome): its policy, not
	// the console's.
	hd.Set("Content-Security-Policy", csp)
	hd.Set("Content-Language", q.Lang)
	return c.HTMLBlob(http.StatusOK, out)
}

// annualInvalid shows the annual page again with the problem on its field.
func (h *Console) annualInvalid(c echo.Context, ae *annual.Error) error {
	f := form.ParseAnnual(c.QueryParams(), lang(c), h.Now())
	msg := "console.report.invalid"
	field := ae.Field
	switch field {
	case "from", "to":
		msg = "console.annual.invalid_period"
	case "":
		field = "from"
	}
	if ae.Code == schema.CodeRequired {
		msg = "console.form.required"
	}
	return h.annualPage(c, f, nil, form.Errors{{Field: field, Message: msg}}, http.StatusUnprocessableEntity)
}
