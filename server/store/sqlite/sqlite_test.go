package sqlite_test

import (
	"testing"

	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/fieldnotes/fieldnotes/server/store/sqlite"
	"github.com/fieldnotes/fieldnotes/server/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		db, err := sqlite.Open(t.TempDir(), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlite.Open(dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateTeam(t.Context(), store.Team{Name: "north", CreatedAt: 1}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = sqlite.Open(dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Team(t.Context(), "north"); err != nil {
		t.Fatalf("after reopen: %v", err)
	}
}

func TestConsoleStore(t *testing.T) {
	storetest.RunConsole(t, func(t *testing.T) storetest.ConsoleStore {
		db, err := sqlite.Open(t.TempDir(), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}
