package sqlite

import (
	"testing"

	"github.com/fieldnotes/fieldnotes/server/store"
)

// The audit log is append-only in the database itself: even SQL on the writer can't
// change or delete an entry.
func TestAuditAppendOnly(t *testing.T) {
	db, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.AppendAudit(t.Context(), store.AuditEntry{Action: "sign_in", Actor: "u"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.ExecContext(t.Context(), `UPDATE audit_log SET action = 'x'`); err == nil {
		t.Error("UPDATE on audit_log succeeded")
	}
	if _, err := db.w.ExecContext(t.Context(), `DELETE FROM audit_log`); err == nil {
		t.Error("DELETE on audit_log succeeded")
	}
	got, _ := db.Audit(t.Context(), store.AuditQuery{})
	if len(got) != 1 || got[0].Action != "sign_in" {
		t.Fatalf("entries: %+v", got)
	}
}
