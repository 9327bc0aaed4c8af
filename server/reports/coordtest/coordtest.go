// Package coordtest is the suite every reports.CoordStore runs (coord.db and
// PostgreSQL): coordtest.Run(t, newCoord), newCoord returning an empty store.
package coordtest

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/fieldnotes/fieldnotes/server/reports"
)

// Run runs every case against fresh stores from newCoord.
func Run(t *testing.T, newCoord func(t *testing.T) reports.CoordStore) {
	t.Run("Baselines", func(t *testing.T) { baselines(t, newCoord(t)) })
	t.Run("ExportLog", func(t *testing.T) { exportLog(t, newCoord(t)) })
}

var ctx = context.Background()

func baselines(t *testing.T, c reports.CoordStore) {
	_, err := c.Baseline(ctx, "census")
	var re *reports.Error
	if !errors.As(err, &re) || re.Code != reports.CodeNotFound {
		t.Fatalf("unknown baseline: %v, want not_found", err)
	}
	b := &reports.Baseline{Name: "census", GroupBy: "community", Shares: []reports.Share{{Group: "Somali", Share: 0.25}, {Group: "Polish", Share: 0.75}}}
	if err := c.PutBaseline(ctx, b, "user-1"); err != nil {
		t.Fatal(err)
	}
	got, err := c.Baseline(ctx, "census")
	if err != nil {
		t.Fatal(err)
	}
	want := []reports.Share{{Group: "Polish", Share: 0.75}, {Group: "Somali", Share: 0.25}} // by group
	if got.GroupBy != "community" || got.UploadedBy != "user-1" || got.UploadedAt == 0 || !reflect.DeepEqual(got.Shares, want) {
		t.Fatalf("Baseline = %+v", got)
	}
	// A new upload of the same name replaces the old one entirely.
	if err := c.PutBaseline(ctx, &reports.Baseline{Name: "census", GroupBy: "language", Shares: []reports.Share{{Group: "so", Share: 1}}}, "user-2"); err != nil {
		t.Fatal(err)
	}
	got, err = c.Baseline(ctx, "census")
	if err != nil {
		t.Fatal(err)
	}
	if got.GroupBy != "language" || got.UploadedBy != "user-2" || len(got.Shares) != 1 || got.Shares[0].Group != "so" {
		t.Fatalf("replaced Baseline = %+v", got)
	}
}

func exportLog(t *testing.T, c reports.CoordStore) {
	if got, err := c.Exports(ctx, 10); err != nil || len(got) != 0 {
		t.Fatalf("empty log: %v %v", got, err)
	}
	var ids []int64
	for i, teams := range [][]string{nil, {"north"}, {"north", "south"}} {
		r, err := c.LogExport(ctx, reports.ExportRecord{Who: "user-1", Collection: "conversation", Format: "csv", Teams: teams, Rows: 10 * i, Complete: i != 1})
		if err != nil {
			t.Fatal(err)
		}
		if r.At == 0 || r.ID == 0 {
			t.Fatalf("LogExport = %+v", r)
		}
		ids = append(ids, r.ID)
	}
	if !(ids[0] < ids[1] && ids[1] < ids[2]) {
		t.Fatalf("ids %v do not increase", ids)
	}
	got, err := c.Exports(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != ids[2] || got[1].ID != ids[1] {
		t.Fatalf("Exports(2) = %+v, want newest first", got)
	}
	if !reflect.DeepEqual(got[0].Teams, []string{"north", "south"}) || got[0].Rows != 20 || !got[0].Complete || got[1].Complete {
		t.Fatalf("Exports(2) = %+v", got)
	}
}
