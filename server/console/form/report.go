package form

import (
	"net/url"
	"strconv"
	"strings"
)

// Report is the report page's form (GET): which report, grouping, policy, period.
type Report struct {
	Kind, GroupBy, Policy, MinCell, Engagement, Baseline string
	FromRaw, ToRaw                                       string
	IncludeRejected                                      bool // count conversations rejected in review
}

// ParseReport reads the form with its defaults.
func ParseReport(v url.Values) Report {
	f := Report{Kind: v.Get("report"), GroupBy: v.Get("group_by"), Policy: v.Get("policy"), MinCell: strings.TrimSpace(v.Get("min_cell")),
		Engagement: v.Get("engagement"), Baseline: strings.TrimSpace(v.Get("baseline")), FromRaw: v.Get("from"), ToRaw: v.Get("to"),
		IncludeRejected: v.Get("include_rejected") == "true"}
	if f.Kind != "themes" && f.Kind != "gaps" {
		f.Kind = "participation"
	}
	if f.Policy == "" {
		f.Policy = "nhs"
	}
	return f
}

// Query turns the form into the reports package's query parameters (dates as Unix ms,
// the "to" day included). Bad dates are errors on their field.
func (f Report) Query() (url.Values, Errors) {
	var es Errors
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("group_by", f.GroupBy)
	set("policy", f.Policy)
	if f.Policy == "cell" {
		set("min_cell", f.MinCell)
	}
	set("engagement", f.Engagement)
	if f.IncludeRejected {
		v.Set("include_rejected", "true")
	}
	if from, ok := Date(f.FromRaw); !ok {
		es.add("from", "console.form.invalid_date")
	} else if from > 0 {
		v.Set("from", strconv.FormatInt(from, 10))
	}
	if to, ok := Date(f.ToRaw); !ok {
		es.add("to", "console.form.invalid_date")
	} else if to > 0 {
		v.Set("to", strconv.FormatInt(to+24*3600*1000, 10))
	}
	return v, es
}

// Baseline is the baseline upload form.
type Baseline struct {
	Name, GroupBy, CSV string
}

// ParseBaseline reads the form; upload (a file's content) wins over the pasted CSV.
func ParseBaseline(v url.Values, upload []byte) Baseline {
	f := Baseline{Name: strings.TrimSpace(v.Get("name")), GroupBy: v.Get("group_by"), CSV: v.Get("csv")}
	if len(upload) > 0 {
		f.CSV = string(upload)
	}
	return f
}

// Validate checks a name and some CSV are there (the reports package checks the rest).
func (f Baseline) Validate() Errors {
	var es Errors
	if n, ok := clean(f.Name, 100); !ok || n == "" {
		es.add("name", "console.form.required")
	}
	if strings.TrimSpace(f.CSV) == "" {
		es.add("csv", "console.form.required")
	}
	return es
}
