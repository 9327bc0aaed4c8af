package form

import (
	"net/url"
	"slices"

	"github.com/fieldnotes/fieldnotes/schema"
)

// Engagement is the engagement form (create and edit).
type Engagement struct {
	Title, Topic, Team, VenueName, VenueType, Area string
	StartsAt, EndsAt                               int64
	StartsRaw, EndsRaw                             string
	Languages                                      []string
	PromptSet                                      string
	Published                                      bool
}

// ParseEngagement reads the form.
func ParseEngagement(v url.Values) Engagement {
	f := Engagement{Team: v.Get("team"), VenueType: v.Get("venue_type"), PromptSet: v.Get("prompt_set"),
		StartsRaw: v.Get("starts_at"), EndsRaw: v.Get("ends_at"), Published: v.Get("published") == "true"}
	f.Title, _ = clean(v.Get("title"), 10_000)
	f.Topic, _ = clean(v.Get("topic"), 10_000)
	f.VenueName, _ = clean(v.Get("venue_name"), 10_000)
	f.Area, _ = clean(v.Get("area"), 10_000)
	for _, l := range v["languages"] {
		if !slices.Contains(f.Languages, l) {
			f.Languages = append(f.Languages, l)
		}
	}
	slices.Sort(f.Languages)
	return f
}

// Validate checks the form; teams are those the person may choose, promptSets the ids
// they may pick.
func (f *Engagement) Validate(teams, promptSets []string) Errors {
	var es Errors
	if f.Title == "" {
		es.add("title", "console.form.required")
	} else if len(f.Title) > 500 {
		es.add("title", "console.form.too_long")
	}
	for _, s := range []struct{ field, v string }{{"topic", f.Topic}, {"venue_name", f.VenueName}, {"area", f.Area}} {
		if _, ok := clean(s.v, 500); !ok {
			es.add(s.field, "console.form.too_long")
		}
	}
	if !slices.Contains(teams, f.Team) {
		es.add("team", "console.form.team_required")
	}
	if f.VenueType != "" && !slices.Contains(schema.VenueTypes, f.VenueType) {
		es.add("venue_type", "console.form.invalid_choice")
	}
	var ok bool
	if f.StartsAt, ok = Date(f.StartsRaw); !ok {
		es.add("starts_at", "console.form.invalid_date")
	}
	if f.EndsAt, ok = Date(f.EndsRaw); !ok {
		es.add("ends_at", "console.form.invalid_date")
	}
	if f.StartsAt > 0 && f.EndsAt > 0 && f.EndsAt < f.StartsAt {
		es.add("ends_at", "console.engagement.ends_before_start")
	}
	if len(f.Languages) == 0 {
		es.add("languages", "console.engagement.languages_required")
	}
	for _, l := range f.Languages {
		if !schema.ValidLocale(l) {
			es.add("languages", "console.form.invalid_choice")
			break
		}
	}
	if !slices.Contains(promptSets, f.PromptSet) {
		es.add("prompt_set", "console.form.invalid_choice")
	}
	return es
}
