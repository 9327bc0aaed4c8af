package postgres_test

import (
	"context"
	"testing"

	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/fieldnotes/fieldnotes/server/store/postgres"
	"github.com/fieldnotes/fieldnotes/server/store/postgres/pgtest"
	"github.com/fieldnotes/fieldnotes/server/store/storetest"
)

func open(t *testing.T, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, pgtest.URL(t)) })
}

func TestReopen(t *testing.T) {
	url := pgtest.URL(t)
	db := open(t, url)
	if err := db.CreateTeam(t.Context(), store.Team{Name: "north", CreatedAt: 1}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = open(t, url)
	defer db.Close()
	if _, err := db.Team(t.Context(), "north"); err != nil {
		t.Fatalf("after reopen: %v", err)
	}
}
