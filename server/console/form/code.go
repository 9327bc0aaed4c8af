package form

import (
	"net/url"
	"slices"
)

// Code is the form that makes an enrolment code.
type Code struct {
	Team, Label string
}

// ParseCode reads the form.
func ParseCode(v url.Values) Code {
	f := Code{Team: v.Get("team")}
	f.Label, _ = clean(v.Get("label"), 10_000)
	return f
}

// Validate checks the team is the person's and the label is short.
func (f Code) Validate(teams []string) Errors {
	var es Errors
	if !slices.Contains(teams, f.Team) {
		es.add("team", "console.form.team_required")
	}
	if _, ok := clean(f.Label, 200); !ok {
		es.add("label", "console.form.too_long")
	}
	return es
}
