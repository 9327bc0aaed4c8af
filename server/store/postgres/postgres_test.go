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

func TestConsoleStore(t *testing.T) {
	storetest.RunConsole(t, func(t *testing.T) storetest.ConsoleStore { return open(t, pgtest.URL(t)) })
}

// TestAuditAppendOnly: the database itself refuses to change or delete an audit entry,
// whoever asks.
func TestAuditAppendOnly(t *testing.T) {
	db := open(t, pgtest.URL(t))
	defer db.Close()
	ctx := context.Background()
	if err := db.AppendAudit(ctx, store.AuditEntry{Action: "sign_in", Actor: "u"}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE audit_log SET action = 'x'`, `DELETE FROM audit_log`, `TRUNCATE audit_log`} {
		if _, err := db.Pool().Exec(ctx, q); err == nil {
			t.Errorf("%s succeeded", q)
		}
	}
	got, err := db.Audit(ctx, store.AuditQuery{})
	if err != nil || len(got) != 1 || got[0].Action != "sign_in" {
		t.Fatalf("entries: %+v %v", got, err)
	}
}
