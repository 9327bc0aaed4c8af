package console

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/fieldnotes/fieldnotes/server/reports"
	"github.com/labstack/echo/v4"
)

// baselineUpload stores a Census 2021 baseline (group,share CSV) for the gaps report.
// Every problem in the file is listed at once.
func (h *Console) baselineUpload(c echo.Context) error {
	f := form.ParseBaseline(mustForm(c), upload(c, "file"))
	p := h.newPage(c, "console.nav.reports", &reportData{Form: form.ParseReport(url.Values{"report": {"gaps"}}), Groupings: reports.Groupings})
	if errs := f.Validate(); len(errs) > 0 {
		p.Errors = h.fieldErrors(p, errs)
		p.Status = http.StatusUnprocessableEntity
		return h.render(c, "report_show", p)
	}
	b, err := reports.ParseBaseline(f.Name, f.GroupBy, strings.NewReader(f.CSV))
	var re *reports.Error
	if errors.As(err, &re) {
		p.Errors = []fieldError{{Field: "csv", Message: p.T("console.report.baseline_invalid")}}
		if probs, ok := re.Details["problems"].([]reports.BaselineProblem); ok {
			for _, pr := range probs {
				p.Errors = append(p.Errors, fieldError{Field: "csv", Message: p.T("console.report.baseline_problem", "Line", pr.Line, "Field", pr.Field, "Value", pr.Value)})
			}
		}
		p.Status = http.StatusUnprocessableEntity
		return h.render(c, "report_show", p)
	} else if err != nil {
		return h.internal(c, err)
	}
	if err := h.Coord.Coord.PutBaseline(c.Request().Context(), b, current(c).User.ID); err != nil {
		return h.internal(c, err)
	}
	h.audit(c, "baseline_upload", "", "baseline/"+b.Name, "group_by="+b.GroupBy)
	return seeOther(c, "/console/reports?report=gaps&baseline="+url.QueryEscape(b.Name)+"&group_by="+b.GroupBy+"&done=baseline")
}
