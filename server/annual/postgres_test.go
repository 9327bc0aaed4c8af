package annual

import (
	"testing"

	"github.com/fieldnotes/fieldnotes/server/reports/reportstest"
)

// TestAnnualOnPostgres makes the annual report again with the fixture, the baselines and
// the export log in PostgreSQL.
func TestAnnualOnPostgres(t *testing.T) {
	reportstest.RunOnPostgres(t, map[string]func(*testing.T){
		"ReportGolden": TestReportGolden, "ReportContents": TestReportContents, "ReportFiguresAreTheReports": TestReportFiguresAreTheReports,
		"TextsVersioned": TestTextsVersioned, "PublicPage": TestPublicPage, "ReportEmptyYear": TestReportEmptyYear,
	})
}
