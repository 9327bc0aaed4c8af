package export

import (
	"testing"

	"github.com/fieldnotes/fieldnotes/server/reports/reportstest"
)

// TestExportOnPostgres runs the exports with the fixture and the export log in PostgreSQL.
func TestExportOnPostgres(t *testing.T) {
	reportstest.RunOnPostgres(t, map[string]func(*testing.T){
		"ExportAppliesConsent": TestExportAppliesConsent, "ExportLeavesOutRejected": TestExportLeavesOutRejected,
		"CSVIsExcelFriendly": TestCSVIsExcelFriendly,
	})
}
