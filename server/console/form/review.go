package form

import (
	"github.com/fieldnotes/fieldnotes/schema"
	"net/url"
	"slices"
	"strings"
)

// ReviewStates are the review states a coordinator may set.
var ReviewStates = schema.ReviewStates

// Review is the review form of one conversation, or of a selection (IDs).
type Review struct {
	State, Comment string
	IDs            []string
	All            bool // every conversation matching the filters, not only those ticked
}

// ParseReview reads the form.
func ParseReview(v url.Values) Review {
	f := Review{State: v.Get("review_state"), Comment: strings.TrimSpace(v.Get("review_comment")), All: v.Get("all") == "true"}
	for _, id := range v["id"] {
		if !slices.Contains(f.IDs, id) {
			f.IDs = append(f.IDs, id)
		}
	}
	return f
}

// Validate: a known state; a comment for has_issues and rejected (at most 2000 bytes).
func (f Review) Validate() Errors {
	var es Errors
	if !slices.Contains(ReviewStates, f.State) {
		es.add("review_state", "console.review.state_required")
	}
	if (f.State == "has_issues" || f.State == "rejected") && f.Comment == "" {
		es.add("review_comment", "console.review.comment_required")
	}
	if len(f.Comment) > 2000 {
		es.add("review_comment", "console.form.too_long")
	}
	return es
}

// Theme is the form that adds or removes one theme.
type Theme struct {
	Theme  string
	Remove bool
}

// ParseTheme reads the form.
func ParseTheme(v url.Values) Theme {
	t, _ := clean(v.Get("theme"), 10_000)
	return Theme{Theme: strings.ToLower(t), Remove: v.Get("action") == "remove"}
}

// Validate: a theme of 1 to 200 characters.
func (f Theme) Validate() Errors {
	var es Errors
	if f.Theme == "" || len(f.Theme) > 200 {
		es.add("theme", "console.form.required")
	}
	return es
}
