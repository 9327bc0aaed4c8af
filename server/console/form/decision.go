package form

import (
	"net/url"
	"slices"
	"strings"
)

// Decision is the form that records a decision.
type Decision struct {
	Title, Outcome, Reason, Team, ThemesRaw string
	Themes, Conversations                   []string
	Summary                                 map[string]string
}

// ParseDecision reads the form: summary.<language> fields, themes comma-separated,
// conversation (repeated) the linked conversations' ids.
func ParseDecision(v url.Values, languages []string) Decision {
	f := Decision{Title: strings.TrimSpace(v.Get("title")), Outcome: v.Get("outcome"), Reason: strings.TrimSpace(v.Get("reason")),
		Team: v.Get("team"), ThemesRaw: v.Get("themes"), Summary: map[string]string{}}
	f.Themes = SplitThemes(f.ThemesRaw)
	for _, id := range append(v["conversation"], v["id"]...) {
		if id != "" && !slices.Contains(f.Conversations, id) {
			f.Conversations = append(f.Conversations, id)
		}
	}
	for _, l := range languages {
		if s := strings.TrimSpace(v.Get("summary." + l)); s != "" {
			f.Summary[l] = s
		}
	}
	return f
}

// SplitThemes reads a comma-separated list of themes (lower-cased, no repeats).
func SplitThemes(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		t = strings.ToLower(strings.TrimSpace(t))
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// Progress is a dated progress entry on a decision.
type Progress struct {
	Text, DateRaw string
	At            int64
}

// ParseProgress reads the form.
func ParseProgress(v url.Values) Progress {
	return Progress{Text: strings.TrimSpace(v.Get("text")), DateRaw: v.Get("date")}
}

// Validate: some text (at most 2000 bytes) and a date.
func (f *Progress) Validate() Errors {
	var es Errors
	if f.Text == "" {
		es.add("text", "console.form.required")
	} else if len(f.Text) > 2000 {
		es.add("text", "console.form.too_long")
	}
	var ok bool
	if f.At, ok = Date(f.DateRaw); !ok || f.At == 0 {
		es.add("date", "console.form.invalid_date")
	}
	return es
}

// DecisionUpdate changes a decision's outcome, reason and summaries.
type DecisionUpdate struct {
	Outcome, Reason string
	Stage           string // the decision's progress: planned, under_way or done ("": unchanged)
	Summary         map[string]string
}

// ParseDecisionUpdate reads the form.
func ParseDecisionUpdate(v url.Values, languages []string) DecisionUpdate {
	f := DecisionUpdate{Stage: v.Get("stage"), Outcome: v.Get("outcome"), Reason: strings.TrimSpace(v.Get("reason")), Summary: map[string]string{}}
	for _, l := range languages {
		if s := strings.TrimSpace(v.Get("summary." + l)); s != "" {
			f.Summary[l] = s
		}
	}
	return f
}
