package console

import (
	"errors"
	"html/template"
	"net/http"
	"sort"

	"github.com/fieldnotes/fieldnotes/locales"
	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/fieldnotes/fieldnotes/server/reports"
	"github.com/labstack/echo/v4"
)

type reportData struct {
	Form          form.Report
	Groupings     []string
	Engagements   []engagementRow
	Participation *reports.Participation
	Themes        *reports.Themes
	Gaps          *reports.Gaps
	Chart         template.HTML
	Suppressed    bool // some cell is suppressed: the legend says why
	Rejected      bool // rejected conversations are left out (the reports say so)
}

// groupLabel is a row's label: an engagement's title, a venue type in words, else the
// group as reported.
func (p *page) GroupLabel(groupBy, group, label string) string {
	switch {
	case label != "":
		return label
	case group == "not_recorded" || group == "prefer_not_to_say":
		return p.T("console.report.group." + group)
	case groupBy == reports.ByVenueType:
		return p.T("venue_type." + group)
	case groupBy == reports.ByLanguage:
		return langNameOr(group)
	}
	return group
}

func (h *Console) reportShow(c echo.Context) error {
	w := current(c)
	ctx := c.Request().Context()
	f := form.ParseReport(c.QueryParams())
	d := reportData{Form: f, Groupings: reports.Groupings}
	engs, err := h.scan(ctx, w, schema.Engagement)
	if err != nil {
		return h.internal(c, err)
	}
	for _, e := range engs {
		d.Engagements = append(d.Engagements, engagementOf(e.ID, e.Team, e.Fields))
	}
	sort.Slice(d.Engagements, func(i, j int) bool { return d.Engagements[i].Title < d.Engagements[j].Title })
	p := h.newPage(c, "console.nav.reports", &d)
	qv, errs := f.Query()
	var q reports.Query
	if len(errs) == 0 {
		def := reports.ByCommunity
		if f.Kind == "gaps" {
			def = reports.ByEthnicity
		}
		q, err = reports.ParseQuery(qv, def)
		var re *reports.Error
		if errors.As(err, &re) {
			errs = append(errs, form.Error{Field: re.Param, Message: "console.report.invalid"})
		} else if err != nil {
			return h.internal(c, err)
		}
		q.Teams = w.Teams
	}
	if len(errs) == 0 && f.Kind == "gaps" && f.Baseline == "" {
		errs = append(errs, form.Error{Field: "baseline", Message: "console.form.required"})
	}
	if len(errs) > 0 {
		p.Errors = h.fieldErrors(p, errs)
		p.Status = http.StatusUnprocessableEntity
		return h.render(c, "report_show", p)
	}
	var labels []string
	var values []*int
	switch f.Kind {
	case "participation":
		if d.Participation, err = h.Coord.Reports.Participation(ctx, q); err != nil {
			return h.reportError(c, p, err)
		}
		for _, r := range d.Participation.Rows {
			labels, values = append(labels, p.GroupLabel(d.Participation.GroupBy, r.Group, r.Label)), append(values, r.Participants)
			d.Suppressed = d.Suppressed || r.Suppressed
		}
		d.Suppressed = d.Suppressed || d.Participation.Total.Suppressed
		d.Chart = barChart(p, "participation", p.T("console.report.chart_participation"), p.T("console.report.participants"), labels, values)
	case "themes":
		if d.Themes, err = h.Coord.Reports.Themes(ctx, q); err != nil {
			return h.reportError(c, p, err)
		}
		for _, t := range d.Themes.Total.Themes {
			labels, values = append(labels, t.Theme), append(values, t.Conversations)
			d.Suppressed = d.Suppressed || t.Suppressed
		}
		for _, r := range d.Themes.Rows {
			d.Suppressed = d.Suppressed || r.Suppressed
			for _, t := range r.Themes {
				d.Suppressed = d.Suppressed || t.Suppressed
			}
		}
		d.Chart = barChart(p, "themes", p.T("console.report.chart_themes"), p.T("console.report.conversations"), labels, values)
	case "gaps":
		if d.Gaps, err = h.Coord.Reports.Gaps(ctx, h.Coord.Coord, f.Baseline, q); err != nil {
			return h.reportError(c, p, err)
		}
		for _, r := range d.Gaps.Rows {
			d.Suppressed = d.Suppressed || r.Suppressed
		}
	}
	return h.render(c, "report_show", p)
}

// reportError shows a report the reports package refused (an unknown baseline, a bad
// parameter) as a form problem.
func (h *Console) reportError(c echo.Context, p *page, err error) error {
	var re *reports.Error
	if !errors.As(err, &re) {
		return h.internal(c, err)
	}
	field := re.Param
	msg := "console.report.invalid"
	if re.Code == "not_found" {
		field, msg = "baseline", "console.report.baseline_unknown"
	}
	p.Errors = h.fieldErrors(p, form.Errors{{Field: field, Message: msg}})
	p.Status = http.StatusUnprocessableEntity
	return h.render(c, "report_show", p)
}

// langNameOr names a language in itself when it is one of ours, else gives the tag.
func langNameOr(tag string) string {
	for _, l := range supportedLanguages() {
		if l == tag {
			return locales.Name(tag) + " (" + tag + ")"
		}
	}
	return tag
}
