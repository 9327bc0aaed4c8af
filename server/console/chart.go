package console

import (
	"html/template"

	"github.com/fieldnotes/fieldnotes/server/chart"
)

// barChart draws one series as inline SVG with server/chart (suppressed counts marked,
// mirrored right to left, no script or style attributes). The page's own table next to
// it holds the same numbers.
func barChart(p *page, id, title, series string, labels []string, values []*int) template.HTML {
	c := chart.Chart{ID: id, Title: title, LabelHeader: series, Series: []string{series},
		Suppressed: p.T("console.report.suppressed"), Dir: p.Dir}
	for i, l := range labels {
		c.Rows = append(c.Rows, chart.Row{Label: l, Values: []chart.Value{chart.Count(values[i])}})
	}
	if len(c.Rows) == 0 {
		return ""
	}
	svg, err := c.SVG()
	if err != nil {
		return ""
	}
	return svg
}
