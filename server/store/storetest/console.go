package storetest

import (
	"errors"
	"testing"

	"github.com/fieldnotes/fieldnotes/server/store"
)

// ConsoleStore is a store that also keeps console sessions and the audit log.
type ConsoleStore interface {
	store.Store
	store.SessionStore
	store.AuditLog
}

// RunConsole runs the session and audit-log cases against fresh stores from newStore:
//
//	func TestConsole(t *testing.T) { storetest.RunConsole(t, func(t *testing.T) storetest.ConsoleStore { … }) }
func RunConsole(t *testing.T, newStore func(t *testing.T) ConsoleStore) {
	for _, c := range []struct {
		name string
		fn   func(t *testing.T, s ConsoleStore)
	}{{"Sessions", sessions}, {"AuditLog", auditLog}} {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t)
			t.Cleanup(func() { s.Close() })
			c.fn(t, s)
		})
	}
}

func sessions(t *testing.T, s ConsoleStore) {
	n := now()
	a := store.Session{Hash: "hash-a", UserID: "u1", CSRF: "tok", CreatedAt: n, ExpiresAt: n + 1000, MaxUntil: n + 5000}
	must(t, s.CreateSession(ctx, a))
	got, err := s.Session(ctx, "hash-a", n+10)
	if err != nil || got != a {
		t.Fatalf("Session = %+v, %v; want %+v", got, err, a)
	}
	if _, err := s.Session(ctx, "nope", n); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown session: %v, want ErrNotFound", err)
	}
	// Touch moves the idle expiry, never past the absolute one.
	must(t, s.TouchSession(ctx, "hash-a", n+9000))
	if got, _ := s.Session(ctx, "hash-a", n+10); got.ExpiresAt != n+5000 {
		t.Fatalf("touched past MaxUntil: %d", got.ExpiresAt)
	}
	if _, err := s.Session(ctx, "hash-a", n+5000); !errors.Is(err, store.ErrExpired) {
		t.Fatalf("expired session: %v, want ErrExpired", err)
	}
	if _, err := s.Session(ctx, "hash-a", n); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an expired session is deleted when read: %v", err)
	}
	b := store.Session{Hash: "hash-b", UserID: "u1", CSRF: "t", CreatedAt: n, ExpiresAt: n + 1000, MaxUntil: n + 1000}
	c := store.Session{Hash: "hash-c", UserID: "u2", CSRF: "t", CreatedAt: n, ExpiresAt: n + 100, MaxUntil: n + 100}
	must(t, s.CreateSession(ctx, b))
	must(t, s.CreateSession(ctx, c))
	must(t, s.DeleteExpiredSessions(ctx, n+500))
	if _, err := s.Session(ctx, "hash-c", n); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteExpiredSessions kept hash-c: %v", err)
	}
	must(t, s.DeleteSession(ctx, "hash-b"))
	must(t, s.DeleteSession(ctx, "hash-b")) // twice is fine
	if _, err := s.Session(ctx, "hash-b", n); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted session: %v", err)
	}
}

func auditLog(t *testing.T, s ConsoleStore) {
	n := now()
	for i, e := range []store.AuditEntry{
		{At: n, Actor: "u1", Email: "a@x", Role: "coordinator", Action: "sign_in"},
		{At: n + 1, Actor: "u1", Email: "a@x", Role: "coordinator", Action: "review", Team: "north", Target: "conversation/1"},
		{At: n + 2, Actor: "u2", Email: "b@x", Role: "coordinator", Action: "review", Team: "south", Target: "conversation/2"},
		{At: n + 3, Actor: "u2", Email: "b@x", Role: "coordinator", Action: "sign_in"},
	} {
		if err := s.AppendAudit(ctx, e); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	all, err := s.Audit(ctx, store.AuditQuery{})
	if err != nil || len(all) != 4 || all[0].Action != "sign_in" || all[0].Actor != "u2" {
		t.Fatalf("all, newest first: %+v %v", all, err)
	}
	north, _ := s.Audit(ctx, store.AuditQuery{Teams: []string{"north"}, Self: "u1"})
	if len(north) != 2 || north[0].Team != "north" || north[1].Action != "sign_in" || north[1].Actor != "u1" {
		t.Fatalf("north for u1: %+v", north)
	}
	reviews, _ := s.Audit(ctx, store.AuditQuery{Action: "review", Actor: "b@x"})
	if len(reviews) != 1 || reviews[0].Team != "south" {
		t.Fatalf("reviews by b@x: %+v", reviews)
	}
	page, _ := s.Audit(ctx, store.AuditQuery{Limit: 2})
	older, _ := s.Audit(ctx, store.AuditQuery{Limit: 2, Before: page[1].ID})
	if len(page) != 2 || len(older) != 2 || older[0].ID >= page[1].ID {
		t.Fatalf("paging: %+v then %+v", page, older)
	}
	ranged, _ := s.Audit(ctx, store.AuditQuery{From: n + 1, To: n + 3})
	if len(ranged) != 2 {
		t.Fatalf("[n+1, n+3): %+v", ranged)
	}
}
