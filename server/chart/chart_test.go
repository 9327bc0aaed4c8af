package chart

import (
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func ip(n int) *int { return &n }

func sample() Chart {
	return Chart{
		ID:          "by-language",
		Title:       "People reached by language",
		LabelHeader: "Language",
		Series:      []string{"People"},
		Rows: []Row{
			{Label: "Punjabi", Values: []Value{Count(ip(40))}},
			{Label: "Urdu", Values: []Value{Count(ip(20))}},
			{Label: "Polish", Values: []Value{Count(nil)}},
			{Label: "Somali", Values: []Value{Count(ip(0))}},
		},
		Suppressed: "suppressed",
	}
}

// svgElems parses the SVG and returns its elements in order (name and attributes).
type elem struct {
	name  string
	attrs map[string]string
	text  string
}

func parseSVG(t *testing.T, s string) []elem {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(s))
	var out []elem
	var open []int // indexes into out of the elements not yet closed
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v\n%s", err, s)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			e := elem{name: tk.Name.Local, attrs: map[string]string{}}
			for _, a := range tk.Attr {
				e.attrs[a.Name.Local] = a.Value
			}
			out = append(out, e)
			open = append(open, len(out)-1)
		case xml.EndElement:
			open = open[:len(open)-1]
		case xml.CharData:
			if len(open) > 0 {
				out[open[len(open)-1]].text += string(tk)
			}
		}
	}
	return out
}

func f(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return v
}

func TestSVGAccessibleName(t *testing.T) {
	c := sample()
	svg, err := c.SVG()
	if err != nil {
		t.Fatal(err)
	}
	els := parseSVG(t, string(svg))
	root := els[0]
	if root.name != "svg" || root.attrs["role"] != "img" {
		t.Fatalf("root = %s role=%q, want svg role=img", root.name, root.attrs["role"])
	}
	if got, want := root.attrs["aria-labelledby"], "by-language-title by-language-desc"; got != want {
		t.Errorf("aria-labelledby = %q, want %q", got, want)
	}
	var title, desc string
	for _, e := range els {
		switch {
		case e.name == "title" && e.attrs["id"] == "by-language-title":
			title = e.text
		case e.name == "desc" && e.attrs["id"] == "by-language-desc":
			desc = e.text
		}
	}
	if title != "People reached by language" {
		t.Errorf("title = %q", title)
	}
	if want := "Punjabi: 40; Urdu: 20; Polish: suppressed; Somali: 0."; desc != want {
		t.Errorf("desc = %q, want %q", desc, want)
	}
}

func TestSuppressedIsMarkedNotZero(t *testing.T) {
	c := sample()
	svg, _ := c.SVG()
	els := parseSVG(t, string(svg))
	var rects []elem
	var marks, suppressedTexts int
	for _, e := range els {
		if e.name == "rect" {
			rects = append(rects, e)
		}
		if e.name == "line" && e.attrs["stroke-dasharray"] != "" {
			marks++
		}
		if e.name == "text" && e.text == "suppressed" {
			suppressedTexts++
		}
	}
	// Punjabi, Urdu and Somali get a rect (Somali's is 0 wide); Polish gets none.
	if len(rects) != 3 {
		t.Fatalf("%d bars, want 3 (no bar for the suppressed value)", len(rects))
	}
	if marks != 1 || suppressedTexts != 1 {
		t.Errorf("suppressed value: %d dashed marks and %d marker texts, want 1 and 1", marks, suppressedTexts)
	}
	if w := f(t, rects[2].attrs["width"]); w != 0 {
		t.Errorf("zero bar is %v wide", w)
	}
	if a, b := f(t, rects[0].attrs["width"]), f(t, rects[1].attrs["width"]); a <= b || b <= 0 || a/b < 1.99 || a/b > 2.01 {
		t.Errorf("bar widths %v and %v are not in proportion 40:20", a, b)
	}

	tab, err := c.Table()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(tab), `<tr><th scope="row">Polish</th><td class="suppressed">suppressed</td></tr>`) {
		t.Errorf("table does not mark Polish as suppressed:\n%s", tab)
	}
	if !strings.Contains(string(tab), `<tr><th scope="row">Somali</th><td>0</td></tr>`) {
		t.Errorf("table does not show Somali's 0:\n%s", tab)
	}
}

func TestRTLMirrors(t *testing.T) {
	ltr, rtl := sample(), sample()
	rtl.Dir = "rtl"
	a, _ := ltr.SVG()
	b, _ := rtl.SVG()
	la, lb := parseSVG(t, string(a)), parseSVG(t, string(b))
	if lb[0].attrs["direction"] != "rtl" || la[0].attrs["direction"] != "" {
		t.Errorf("direction: ltr %q, rtl %q", la[0].attrs["direction"], lb[0].attrs["direction"])
	}
	W := 640.0
	for i := range la {
		if la[i].name != "rect" {
			continue
		}
		xl, wl := f(t, la[i].attrs["x"]), f(t, la[i].attrs["width"])
		xr, wr := f(t, lb[i].attrs["x"]), f(t, lb[i].attrs["width"])
		if wl != wr || absf(xr-(W-xl-wl)) > 0.11 {
			t.Errorf("bar %d: ltr x=%v w=%v, rtl x=%v w=%v: not mirrored", i, xl, wl, xr, wr)
		}
	}
	// Labels sit right of the axis in rtl, left of it in ltr.
	var axisL, axisR float64
	for i := range la {
		if la[i].name == "line" && la[i].attrs["stroke-dasharray"] == "" {
			axisL, axisR = f(t, la[i].attrs["x1"]), f(t, lb[i].attrs["x1"])
		}
	}
	for i := range la {
		if la[i].name == "text" && la[i].text == "Punjabi" {
			if f(t, la[i].attrs["x"]) >= axisL || f(t, lb[i].attrs["x"]) <= axisR {
				t.Errorf("label x: ltr %s (axis %v), rtl %s (axis %v)", la[i].attrs["x"], axisL, lb[i].attrs["x"], axisR)
			}
		}
	}
	tab, _ := rtl.Table()
	if !strings.Contains(string(tab), `dir="rtl"`) {
		t.Errorf("rtl table has no dir=rtl")
	}
}

func absf(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// A strict CSP (no 'unsafe-inline') blocks style attributes and inline script; the
// output must have neither, and no event handler attributes.
func TestNoInlineStyleOrScript(t *testing.T) {
	c := sample()
	c.Series = []string{"People", "Population"}
	for i := range c.Rows {
		c.Rows[i].Values = append(c.Rows[i].Values, Number(10))
	}
	h, err := c.HTML()
	if err != nil {
		t.Fatal(err)
	}
	s := string(h)
	for _, bad := range []string{`\sstyle=`, `<style`, `<script`, `javascript:`, `\son[a-z]+=`} {
		if regexp.MustCompile(bad).MatchString(s) {
			t.Errorf("output matches %s", bad)
		}
	}
}

func TestEscapesText(t *testing.T) {
	c := sample()
	c.Title = `<script>alert(1)</script>`
	c.Rows[0].Label = `"><img src=x onerror=alert(1)>`
	h, err := c.HTML()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(h), "<script>") || strings.Contains(string(h), "<img") {
		t.Errorf("text not escaped:\n%s", h)
	}
	parseSVG(t, string(mustSVG(t, c)))
}

func mustSVG(t *testing.T, c Chart) string {
	t.Helper()
	s, err := c.SVG()
	if err != nil {
		t.Fatal(err)
	}
	return string(s)
}

func TestSeriesLegendAndTable(t *testing.T) {
	c := Chart{ID: "gap", Title: "Reach against Census 2021", LabelHeader: "Ethnic group",
		Series: []string{"People we heard from", "Population"}, Format: Percent, Suppressed: "suppressed",
		Rows: []Row{
			{Label: "Asian", Values: []Value{Number(0.5), Number(0.25)}},
			{Label: "Black", Values: []Value{Share(nil), Number(0.09)}},
		}}
	svg := mustSVG(t, c)
	els := parseSVG(t, svg)
	var legendTexts []string
	for _, e := range els {
		if e.name == "text" && (e.text == "People we heard from" || e.text == "Population") {
			legendTexts = append(legendTexts, e.text)
		}
	}
	if len(legendTexts) != 2 {
		t.Errorf("legend texts %v", legendTexts)
	}
	if want := "Asian: People we heard from 50%, Population 25%; Black: People we heard from suppressed, Population 9.0%."; c.Description() != want {
		t.Errorf("desc = %q, want %q", c.Description(), want)
	}
	tab, _ := c.Table()
	for _, want := range []string{`<th scope="col">Ethnic group</th><th scope="col">People we heard from</th><th scope="col">Population</th>`,
		`<tr><th scope="row">Black</th><td class="suppressed">suppressed</td><td>9.0%</td></tr>`, `<caption>Reach against Census 2021</caption>`} {
		if !strings.Contains(string(tab), want) {
			t.Errorf("table lacks %s:\n%s", want, tab)
		}
	}
}

func TestValidate(t *testing.T) {
	for name, c := range map[string]Chart{
		"NoSeries":         {ID: "a", Rows: []Row{{Label: "x", Values: []Value{Number(1)}}}},
		"TooManySeries":    {ID: "a", Series: []string{"1", "2", "3", "4"}},
		"WrongValueCount":  {ID: "a", Series: []string{"n"}, Rows: []Row{{Label: "x", Values: []Value{Number(1), Number(2)}}}},
		"SuppressedNoText": {ID: "a", Series: []string{"n"}, Rows: []Row{{Label: "x", Values: []Value{Count(nil)}}}},
		"Negative":         {ID: "a", Series: []string{"n"}, Rows: []Row{{Label: "x", Values: []Value{Number(-1)}}}},
		"NaN":              {ID: "a", Series: []string{"n"}, Rows: []Row{{Label: "x", Values: []Value{Number(nan())}}}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := c.HTML(); err == nil {
				t.Errorf("no error")
			}
		})
	}
}

func nan() float64 { z := 0.0; return z / z }

func TestIDsMadeSafe(t *testing.T) {
	c := sample()
	c.ID = `1 "x"`
	svg := mustSVG(t, c)
	els := parseSVG(t, svg)
	if got := els[0].attrs["aria-labelledby"]; got != "chart-1__x_-title chart-1__x_-desc" {
		t.Errorf("aria-labelledby = %q", got)
	}
}

func TestEmptyChart(t *testing.T) {
	c := Chart{ID: "none", Title: "Nothing yet", Series: []string{"People"}, LabelHeader: "Group"}
	h, err := c.HTML()
	if err != nil {
		t.Fatal(err)
	}
	parseSVG(t, mustSVG(t, c))
	if !strings.Contains(string(h), "<caption>Nothing yet</caption>") {
		t.Errorf("no caption:\n%s", h)
	}
}

func TestPercent(t *testing.T) {
	for in, want := range map[float64]string{0: "0%", 0.25: "25%", 0.054: "5.4%", 1: "100%", 0.1234: "12%"} {
		if got := Percent(in); got != want {
			t.Errorf("Percent(%v) = %q, want %q", in, got, want)
		}
	}
}
