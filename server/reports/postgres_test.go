package reports

import (
	"testing"

	"github.com/fieldnotes/fieldnotes/server/reports/reportstest"
)

// TestReportsOnPostgres runs the reports' fixture tests with the fixture in PostgreSQL.
func TestReportsOnPostgres(t *testing.T) {
	reportstest.RunOnPostgres(t, map[string]func(*testing.T){
		"ParticipationGolden": TestParticipationGolden, "TrueCountsMatchSpec": TestTrueCountsMatchSpec,
		"ReportAfterWithdrawal": TestReportAfterWithdrawal, "RejectedLeftOut": TestRejectedLeftOut, "ThemesCellAudit": TestThemesCellAudit,
	})
}
