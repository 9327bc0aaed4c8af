package reports_test

import (
	"path/filepath"
	"testing"

	"github.com/fieldnotes/fieldnotes/server/reports"
	"github.com/fieldnotes/fieldnotes/server/reports/coordtest"
)

func TestCoordStore(t *testing.T) {
	coordtest.Run(t, func(t *testing.T) reports.CoordStore {
		c, err := reports.OpenCoord(filepath.Join(t.TempDir(), "coord.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	})
}
