package console

import "github.com/fieldnotes/fieldnotes/schema"

// Review states (schema's, ODK's). A conversation without review_state is received.
const (
	ReviewReceived  = schema.ReviewReceived
	ReviewHasIssues = schema.ReviewHasIssues
)

// ReviewStates in the order the console lists them.
var ReviewStates = schema.ReviewStates
