// Package chart draws horizontal bar charts as inline SVG, each paired with an HTML data
// table holding the same numbers, for server-rendered pages (the annual report, the public
// "You said, we did" page, the console).
//
// What it guarantees, so pages built on it pass an accessibility and CSP review:
//
//   - the SVG has role="img", a <title> and a <desc> (a text alternative listing every
//     value), referenced by aria-labelledby; the table repeats the data for everyone;
//   - a suppressed count (disclosure control) is drawn as a marked gap with the caller's
//     marker text, never as a zero bar, and the table says the same;
//   - right-to-left charts (Arabic, Urdu) are mirrored: labels on the right, bars growing
//     leftwards;
//   - colours meet WCAG 2.2 AA (3:1 for bars against white, 4.5:1 for text); series after
//     the first differ by shape (outline) as well as colour;
//   - no script, no style attributes: only SVG presentation attributes (fill=, stroke=),
//     so a strict Content-Security-Policy (style-src 'self') blocks nothing.
//
// Text is escaped by html/template; callers pass plain strings, already translated.
// The package imports only the standard library.
package chart

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Value is one number in a chart: a count, a share, or a suppressed cell.
type Value struct {
	N          float64
	Suppressed bool
}

// Count is a published count: nil (suppressed by disclosure control) becomes a
// suppressed Value, never zero.
func Count(p *int) Value {
	if p == nil {
		return Value{Suppressed: true}
	}
	return Value{N: float64(*p)}
}

// Number is a plain number.
func Number(f float64) Value { return Value{N: f} }

// Share is a fraction (0.25) or nil when it cannot be computed (suppressed).
func Share(p *float64) Value {
	if p == nil {
		return Value{Suppressed: true}
	}
	return Value{N: *p}
}

// Row is one bar (or one group of bars, one per series) and its label.
type Row struct {
	Label  string
	Values []Value // one per series
}

// Chart is a horizontal bar chart and its data table.
type Chart struct {
	// ID is unique on the page ([A-Za-z0-9_-], made safe if not); it prefixes the ids
	// aria-labelledby points at.
	ID string
	// Title names the chart (the SVG <title>, the table's <caption>).
	Title string
	// Summary is an optional sentence put before the values in the text alternative.
	Summary string
	// LabelHeader heads the table's first column ("Community", "Language").
	LabelHeader string
	// Series names the values of each row (table column headers, legend); one name for
	// a simple chart. At most 3.
	Series []string
	Rows   []Row
	// Suppressed is the marker shown for a suppressed value, in the page's language
	// (e.g. "suppressed"). Required when any value is suppressed.
	Suppressed string
	// Dir is "rtl" for right-to-left languages; anything else is left to right.
	Dir string
	// Format writes a value (default: integers as is, others to one decimal place).
	// Pass a locale-aware formatter, or Percent.
	Format func(float64) string
	// Max is the value of a full-width bar (default: the largest value).
	Max float64
	// Width is the drawing's width in user units (default 640); the SVG scales to its
	// container.
	Width int
}

// Percent formats a fraction as a whole-number percentage ("25%"), keeping one decimal
// place below 10% so small shares are not shown as 0.
func Percent(f float64) string {
	p := f * 100
	if p != 0 && math.Abs(p) < 10 {
		return strconv.FormatFloat(p, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(math.Round(p), 'f', 0, 64) + "%"
}

func defaultFormat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'f', 1, 64)
}

// Palette: each series' fill and stroke. All reach at least 3:1 against white (WCAG
// 1.4.11); the second is an outline, so it reads apart from the first without colour.
var palette = []struct{ fill, stroke string }{
	{"#005eb8", "#005eb8"}, // NHS blue, 6.7:1 on white
	{"#ffffff", "#212b32"}, // white, dark outline (15:1)
	{"#007f3b", "#007f3b"}, // NHS dark green, 5.2:1
}

const (
	textColour  = "#212b32" // 15:1 on white
	mutedColour = "#4c6272" // 6.6:1 on white: suppression markers
	fontSize    = 13
	barHeight   = 18
	barGap      = 4  // between bars of one row
	rowGap      = 12 // between rows
	pad         = 8
	legendRow   = 24
)

// ErrTooManySeries is returned for more series than the palette distinguishes.
var ErrTooManySeries = fmt.Errorf("chart: at most %d series", len(palette))

// Validate reports a chart the package cannot draw faithfully.
func (c *Chart) Validate() error {
	if len(c.Series) == 0 {
		return fmt.Errorf("chart %q: no series", c.ID)
	}
	if len(c.Series) > len(palette) {
		return ErrTooManySeries
	}
	for _, r := range c.Rows {
		if len(r.Values) != len(c.Series) {
			return fmt.Errorf("chart %q: row %q has %d values for %d series", c.ID, r.Label, len(r.Values), len(c.Series))
		}
		for _, v := range r.Values {
			if v.Suppressed && c.Suppressed == "" {
				return fmt.Errorf("chart %q: a suppressed value needs Chart.Suppressed marker text", c.ID)
			}
			if !v.Suppressed && (math.IsNaN(v.N) || math.IsInf(v.N, 0) || v.N < 0) {
				return fmt.Errorf("chart %q: row %q: value %v cannot be drawn", c.ID, r.Label, v.N)
			}
		}
	}
	return nil
}

func (c *Chart) format(v Value) string {
	if v.Suppressed {
		return c.Suppressed
	}
	if c.Format != nil {
		return c.Format(v.N)
	}
	return defaultFormat(v.N)
}

func (c *Chart) id() string {
	var b strings.Builder
	for _, r := range c.ID {
		if r < utf8.RuneSelf && (r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 || !(b.String()[0] >= 'a' && b.String()[0] <= 'z' || b.String()[0] >= 'A' && b.String()[0] <= 'Z') {
		return "chart-" + b.String()
	}
	return b.String()
}

// TitleID and DescID are the ids of the SVG's <title> and <desc>; TableID the table's.
func (c *Chart) TitleID() string { return c.id() + "-title" }
func (c *Chart) DescID() string  { return c.id() + "-desc" }
func (c *Chart) TableID() string { return c.id() + "-table" }

// Description is the text alternative: the summary, then "label: value" for every row
// (series named when there are several).
func (c *Chart) Description() string {
	var parts []string
	for _, r := range c.Rows {
		vals := make([]string, len(r.Values))
		for i, v := range r.Values {
			if len(c.Series) > 1 {
				vals[i] = c.Series[i] + " " + c.format(v)
			} else {
				vals[i] = c.format(v)
			}
		}
		parts = append(parts, r.Label+": "+strings.Join(vals, ", "))
	}
	d := strings.Join(parts, "; ") + "."
	if len(c.Rows) == 0 {
		d = ""
	}
	if c.Summary != "" {
		d = strings.TrimSpace(c.Summary + " " + d)
	}
	return d
}

type svgBar struct {
	X, Y, W, H                float64
	Fill, Stroke              string
	Suppressed                bool
	TextX, TextY              float64
	Text, Anchor              string
	MarkX1, MarkX2, MarkY     float64 // the dashed marker of a suppressed value
	LabelX, LabelY            float64
	Label, LabelAnchor, Title string
}

type svgLegend struct {
	X, Y, TextX, TextY float64
	Fill, Stroke, Name string
	Anchor             string
}

type svgData struct {
	ID, TitleID, DescID string
	Title, Desc, Dir    string
	Width, Height       int
	TextColour, Muted   string
	FontSize            int
	Bars                []svgBar
	Labels              []svgBar
	Legend              []svgLegend
	AxisX, AxisY1       float64
	AxisY2              float64
}

var svgTmpl = template.Must(template.New("svg").Parse(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-labelledby="{{.TitleID}} {{.DescID}}" viewBox="0 0 {{.Width}} {{.Height}}" width="100%" preserveAspectRatio="xMinYMin meet" font-size="{{.FontSize}}" fill="{{.TextColour}}"{{if eq .Dir "rtl"}} direction="rtl"{{end}}>
<title id="{{.TitleID}}">{{.Title}}</title>
<desc id="{{.DescID}}">{{.Desc}}</desc>
{{- range .Legend}}
<rect x="{{.X}}" y="{{.Y}}" width="14" height="14" fill="{{.Fill}}" stroke="{{.Stroke}}" stroke-width="2"/><text x="{{.TextX}}" y="{{.TextY}}" text-anchor="{{.Anchor}}">{{.Name}}</text>
{{- end}}
{{- range .Labels}}
<text x="{{.LabelX}}" y="{{.LabelY}}" text-anchor="{{.LabelAnchor}}">{{.Label}}</text>
{{- end}}
<line x1="{{.AxisX}}" y1="{{.AxisY1}}" x2="{{.AxisX}}" y2="{{.AxisY2}}" stroke="{{.TextColour}}" stroke-width="1"/>
{{- range .Bars}}
{{- if .Suppressed}}
<line x1="{{.MarkX1}}" y1="{{.MarkY}}" x2="{{.MarkX2}}" y2="{{.MarkY}}" stroke="{{$.Muted}}" stroke-width="2" stroke-dasharray="4 3"/><text x="{{.TextX}}" y="{{.TextY}}" text-anchor="{{.Anchor}}" fill="{{$.Muted}}" font-style="italic">{{.Text}}</text>
{{- else}}
<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="{{.Fill}}" stroke="{{.Stroke}}" stroke-width="2"/><text x="{{.TextX}}" y="{{.TextY}}" text-anchor="{{.Anchor}}">{{.Text}}</text>
{{- end}}
{{- end}}
</svg>`))

var tableTmpl = template.Must(template.New("table").Parse(`<table class="chart-data" id="{{.ID}}"{{if .Dir}} dir="{{.Dir}}"{{end}}>
<caption>{{.Title}}</caption>
<thead><tr><th scope="col">{{.LabelHeader}}</th>{{range .Series}}<th scope="col">{{.}}</th>{{end}}</tr></thead>
<tbody>
{{- range .Rows}}
<tr><th scope="row">{{.Label}}</th>{{range .Cells}}{{if .Suppressed}}<td class="suppressed">{{.Text}}</td>{{else}}<td>{{.Text}}</td>{{end}}{{end}}</tr>
{{- end}}
</tbody>
</table>`))

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// SVG draws the chart. It fails only on a chart Validate rejects.
func (c *Chart) SVG() (template.HTML, error) {
	if err := c.Validate(); err != nil {
		return "", err
	}
	width := c.Width
	if width <= 0 {
		width = 640
	}
	rtl := c.Dir == "rtl"
	W := float64(width)
	labelW := math.Round(W * 0.36)
	valueW := 0.0 // room after the longest bar for its value text
	for _, r := range c.Rows {
		for _, v := range r.Values {
			if n := float64(utf8.RuneCountInString(c.format(v)))*fontSize*0.62 + pad; n > valueW {
				valueW = n
			}
		}
	}
	plotW := W - labelW - valueW - 2*pad
	if plotW < W*0.2 {
		plotW = W * 0.2
	}
	max := c.Max
	for _, r := range c.Rows {
		for _, v := range r.Values {
			if !v.Suppressed && v.N > max && c.Max <= 0 {
				max = v.N
			}
		}
	}
	// x maps a distance from the axis to a coordinate, mirrored for rtl.
	axis := pad + labelW
	if rtl {
		axis = W - pad - labelW
	}
	x := func(d float64) float64 {
		if rtl {
			return round1(axis - d)
		}
		return round1(axis + d)
	}
	anchorEnd, anchorStart := "end", "start" // with direction=rtl these mirror themselves

	d := svgData{ID: c.id(), TitleID: c.TitleID(), DescID: c.DescID(), Title: c.Title, Desc: c.Description(),
		Dir: c.Dir, Width: width, TextColour: textColour, Muted: mutedColour, FontSize: fontSize}
	y := float64(pad)
	if len(c.Series) > 1 {
		lx := float64(pad)
		for i, name := range c.Series {
			lg := svgLegend{Y: y, TextY: y + 12, Fill: palette[i].fill, Stroke: palette[i].stroke, Name: name, Anchor: anchorStart}
			if rtl {
				lg.X, lg.TextX = W-lx-14, W-lx-20
			} else {
				lg.X, lg.TextX = lx, lx+20
			}
			d.Legend = append(d.Legend, lg)
			lx += 20 + float64(utf8.RuneCountInString(name))*fontSize*0.62 + 2*pad
		}
		y += legendRow
	}
	d.AxisY1 = y - rowGap/2
	maxLabel := int(labelW / (fontSize * 0.55))
	for _, r := range c.Rows {
		groupH := float64(len(r.Values))*barHeight + float64(len(r.Values)-1)*barGap
		lab := svgBar{LabelY: round1(y + groupH/2 + fontSize*0.35), Label: shorten(r.Label, maxLabel), LabelAnchor: anchorEnd}
		lab.LabelX = x(-pad)
		d.Labels = append(d.Labels, lab)
		for i, v := range r.Values {
			b := svgBar{Y: y, H: barHeight, Fill: palette[i].fill, Stroke: palette[i].stroke, Text: c.format(v), Anchor: anchorStart,
				TextY: round1(y + barHeight/2 + fontSize*0.35)}
			if v.Suppressed {
				b.Suppressed = true
				b.MarkY = round1(y + barHeight/2)
				b.MarkX1, b.MarkX2 = x(0), x(24)
				b.TextX = x(30)
			} else {
				w := 0.0
				if max > 0 {
					w = math.Min(v.N/max, 1) * plotW
				}
				if w > 0 && w < 2 {
					w = 2 // a non-zero value is never drawn as nothing
				}
				w = round1(w)
				b.W = w
				b.X = x(0)
				if rtl {
					b.X = x(w)
				}
				b.TextX = x(w + 6)
			}
			d.Bars = append(d.Bars, b)
			y += barHeight + barGap
		}
		y += rowGap - barGap
	}
	d.AxisY2 = y - rowGap/2
	if len(c.Rows) == 0 {
		d.AxisY2 = d.AxisY1
	}
	d.AxisX = round1(axis)
	d.Height = int(math.Ceil(y + pad))
	var buf bytes.Buffer
	if err := svgTmpl.Execute(&buf, d); err != nil {
		return "", err
	}
	return template.HTML(buf.String()), nil
}

func shorten(s string, n int) string {
	if n < 4 || utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

type tableCell struct {
	Text       string
	Suppressed bool
}

type tableRow struct {
	Label string
	Cells []tableCell
}

// Table writes the data table: a caption, a header row (LabelHeader, then the series),
// one row per Row with its label as a row header; a suppressed value is a cell of class
// "suppressed" holding the marker text.
func (c *Chart) Table() (template.HTML, error) {
	if err := c.Validate(); err != nil {
		return "", err
	}
	d := struct {
		ID, Dir, Title, LabelHeader string
		Series                      []string
		Rows                        []tableRow
	}{ID: c.TableID(), Title: c.Title, LabelHeader: c.LabelHeader, Series: c.Series}
	if c.Dir == "rtl" {
		d.Dir = "rtl"
	}
	for _, r := range c.Rows {
		tr := tableRow{Label: r.Label}
		for _, v := range r.Values {
			tr.Cells = append(tr.Cells, tableCell{Text: c.format(v), Suppressed: v.Suppressed})
		}
		d.Rows = append(d.Rows, tr)
	}
	var buf bytes.Buffer
	if err := tableTmpl.Execute(&buf, d); err != nil {
		return "", err
	}
	return template.HTML(buf.String()), nil
}

// HTML is the chart and its table in one <figure class="chart-figure">: the SVG, then
// the table. Use it unless the page lays them out apart.
func (c *Chart) HTML() (template.HTML, error) {
	svg, err := c.SVG()
	if err != nil {
		return "", err
	}
	tab, err := c.Table()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(`<figure class="chart-figure" id="`)
	b.WriteString(template.HTMLEscapeString(c.id()))
	b.WriteString(`">`)
	b.WriteString(string(svg))
	b.WriteString("\n")
	b.WriteString(string(tab))
	b.WriteString("</figure>")
	return template.HTML(b.String()), nil
}
