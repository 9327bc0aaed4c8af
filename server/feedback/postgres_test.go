package feedback

import (
	"testing"

	"github.com/fieldnotes/fieldnotes/server/reports/reportstest"
)

// TestFeedbackOnPostgres runs decisions and feedback with the fixture in PostgreSQL.
func TestFeedbackOnPostgres(t *testing.T) {
	reportstest.RunOnPostgres(t, map[string]func(*testing.T){
		"CreateDecisionValidation": TestCreateDecisionValidation, "FeedbackLanguagesAndPlurals": TestFeedbackLanguagesAndPlurals,
		"FeedbackListAndWithdrawal": TestFeedbackListAndWithdrawal,
	})
}
