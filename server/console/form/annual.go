package form

import (
	"net/url"
	"strings"
	"time"
)

// Annual is the annual report page's form (GET): the period, the report's language and
// the disclosure policy. Empty dates default to the last 12 months up to today.
type Annual struct {
	From, To, Lang, Policy, MinCell string
}

// ParseAnnual reads the form with its defaults; lang defaults to the coordinator's
// language, today is the date the default period ends on.
func ParseAnnual(v url.Values, lang string, today time.Time) Annual {
	f := Annual{From: strings.TrimSpace(v.Get("from")), To: strings.TrimSpace(v.Get("to")), Lang: strings.TrimSpace(v.Get("lang")),
		Policy: strings.TrimSpace(v.Get("policy")), MinCell: strings.TrimSpace(v.Get("min_cell"))}
	today = today.UTC()
	if f.To == "" {
		f.To = today.Format(time.DateOnly)
	}
	if f.From == "" {
		f.From = today.AddDate(-1, 0, 1).Format(time.DateOnly)
	}
	if f.Lang == "" {
		f.Lang = lang
	}
	if f.Policy == "" {
		f.Policy = "nhs"
	}
	return f
}

// Values are the query parameters of the report's address.
func (f Annual) Values() url.Values {
	v := url.Values{"from": {f.From}, "to": {f.To}, "lang": {f.Lang}, "policy": {f.Policy}}
	if f.Policy == "cell" && f.MinCell != "" {
		v.Set("min_cell", f.MinCell)
	}
	return v
}

// AnnualText is a new version of a governance or strategy text.
type AnnualText struct {
	Team, Kind, Text string
}

// ParseAnnualText reads the text form. The text is kept as typed (line breaks matter).
func ParseAnnualText(v url.Values) AnnualText {
	return AnnualText{Team: strings.TrimSpace(v.Get("team")), Kind: strings.TrimSpace(v.Get("kind")), Text: v.Get("text")}
}
