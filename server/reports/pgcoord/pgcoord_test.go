package pgcoord_test

import (
	"context"
	"testing"

	"github.com/fieldnotes/fieldnotes/server/reports"
	"github.com/fieldnotes/fieldnotes/server/reports/coordtest"
	"github.com/fieldnotes/fieldnotes/server/reports/pgcoord"
	"github.com/fieldnotes/fieldnotes/server/store/postgres"
	"github.com/fieldnotes/fieldnotes/server/store/postgres/pgtest"
)

func TestCoordStore(t *testing.T) {
	coordtest.Run(t, func(t *testing.T) reports.CoordStore {
		db, err := postgres.Open(context.Background(), pgtest.URL(t), postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		c, err := pgcoord.Open(context.Background(), db.Pool())
		if err != nil {
			t.Fatal(err)
		}
		return c
	})
}
