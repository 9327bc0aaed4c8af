package console

import (
	"fmt"
	"html/template"
	"strings"
)

// bar is one bar of a chart; Value nil means suppressed.
type bar struct {
	Label string
	Value *int
}

// barChart draws horizontal bars as inline SVG (presentation attributes only, so the
// CSP needs no inline style). Suppressed values get a grey stub and the word for it; the
// data table next to the chart is what screen readers read, so the SVG is one labelled
// image.
func barChart(title string, bars []bar, suppressedWord string) template.HTML {
	const labelW, barW, rowH, pad = 220, 360, 28, 8
	maxV := 1
	for _, b := range bars {
		if b.Value != nil && *b.Value > maxV {
			maxV = *b.Value
		}
	}
	h := len(bars)*rowH + 2*pad
	var s strings.Builder
	fmt.Fprintf(&s, `<svg class="fn-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`,
		labelW+barW+80, h, labelW+barW+80, h, template.HTMLEscapeString(title))
	for i, b := range bars {
		y := pad + i*rowH
		label := b.Label
		if len([]rune(label)) > 28 {
			label = string([]rune(label)[:27]) + "…"
		}
		fmt.Fprintf(&s, `<text x="%d" y="%d" text-anchor="end">%s</text>`, labelW-8, y+18, template.HTMLEscapeString(label))
		if b.Value == nil {
			fmt.Fprintf(&s, `<rect class="fn-bar fn-bar--suppressed" x="%d" y="%d" width="6" height="%d"/><text x="%d" y="%d">%s</text>`,
				labelW, y+4, rowH-8, labelW+12, y+18, template.HTMLEscapeString(suppressedWord))
			continue
		}
		w := *b.Value * barW / maxV
		fmt.Fprintf(&s, `<rect class="fn-bar" x="%d" y="%d" width="%d" height="%d"/><text x="%d" y="%d">%d</text>`,
			labelW, y+4, w, rowH-8, labelW+w+6, y+18, *b.Value)
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String())
}
