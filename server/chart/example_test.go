package chart_test

import (
	"fmt"

	"github.com/fieldnotes/fieldnotes/server/chart"
)

// A participation report's rows as a chart with its table. Pass counts as they were
// published: nil (suppressed) is drawn as a marked gap, never as 0. In a page template,
// put the result (template.HTML) where the figure goes; translate every string first.
func Example() {
	n := func(v int) *int { return &v }
	c := chart.Chart{
		ID:          "by-language",
		Title:       "People reached, by language",
		LabelHeader: "Language",
		Series:      []string{"People"},
		Suppressed:  "hidden",
		Dir:         "ltr", // "rtl" for ar and ur: locales.Direction(lang)
		Rows: []chart.Row{
			{Label: "Polski", Values: []chart.Value{chart.Count(n(40))}},
			{Label: "Soomaali", Values: []chart.Value{chart.Count(nil)}},
		},
	}
	html, err := c.HTML() // <figure> with the <svg role="img"> and the <table>
	if err != nil {
		panic(err)
	}
	fmt.Println(len(html) > 0)
	fmt.Println(c.Description())
	// Output:
	// true
	// Polski: 40; Soomaali: hidden.
}
