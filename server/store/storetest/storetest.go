// Package storetest is the test suite every store.Store implementation runs:
//
//	func TestStore(t *testing.T) { storetest.Run(t, func(t *testing.T) store.Store { … }) }
//
// newStore returns an empty store whose clock reads real time; the suite closes it.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/google/uuid"
)

// Run runs every case against fresh stores from newStore.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Teams", teams},
		{"Users", users},
		{"EnrolOK", enrolOK},
		{"EnrolErrors", enrolErrors},
		{"Revoke", revoke},
		{"RefreshRotation", refreshRotation},
		{"RefreshReuseRevokesTokensNotDevice", refreshReuseKeepsDevice},
		{"ReenrolKeepsTheNode", reenrol},
		{"NodeOwner", nodeOwner},
		{"ReplicaPushPullState", replica},
		{"ReplicaScope", replicaScope},
		{"ReplicaWithdraw", replicaWithdraw},
		{"ReplicaConcurrentApply", replicaConcurrent},
		{"ReplicaOpIDReused", replicaOpIDReused},
		{"ReplicaWriteAsBesideTheNodesClient", replicaWriteAsBesideClient},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t)
			t.Cleanup(func() { s.Close() })
			if err := s.Ping(context.Background()); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			c.fn(t, s)
		})
	}
}

var ctx = context.Background()

func now() int64 { return time.Now().UnixMilli() }

func id() string { return uuid.Must(uuid.NewV7()).String() }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

func teams(t *testing.T, s store.Store) {
	must(t, s.CreateTeam(ctx, store.Team{Name: "north", CreatedAt: now()}))
	must(t, s.CreateTeam(ctx, store.Team{Name: "south", CreatedAt: now()}))
	wantErr(t, s.CreateTeam(ctx, store.Team{Name: "north", CreatedAt: now()}), store.ErrConflict)
	got, err := s.Team(ctx, "north")
	must(t, err)
	if got.Name != "north" || got.CreatedAt == 0 {
		t.Fatalf("Team = %+v", got)
	}
	_, err = s.Team(ctx, "west")
	wantErr(t, err, store.ErrNotFound)
	all, err := s.Teams(ctx, nil)
	must(t, err)
	if len(all) != 2 || all[0].Name != "north" || all[1].Name != "south" {
		t.Fatalf("Teams(nil) = %+v", all)
	}
	some, err := s.Teams(ctx, []string{"south", "west"})
	must(t, err)
	if len(some) != 1 || some[0].Name != "south" {
		t.Fatalf("Teams(south, west) = %+v", some)
	}
	none, err := s.Teams(ctx, []string{})
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("Teams([]) = %+v", none)
	}
}

func newUser(email, role string, teams ...string) store.User {
	return store.User{ID: id(), Email: email, Role: role, Teams: teams, NodeID: id(), PasswordHash: "$argon2id$x", CreatedAt: now()}
}

func users(t *testing.T, s store.Store) {
	must(t, s.CreateTeam(ctx, store.Team{Name: "north", CreatedAt: now()}))
	n, err := s.CountUsers(ctx)
	must(t, err)
	if n != 0 {
		t.Fatalf("CountUsers = %d", n)
	}
	u := newUser("Coord@Example.org", store.RoleCoordinator, "north")
	must(t, s.CreateUser(ctx, u))
	wantErr(t, s.CreateUser(ctx, newUser("coord@example.org", store.RoleAdmin)), store.ErrConflict)
	wantErr(t, s.CreateUser(ctx, newUser("other@example.org", store.RoleCoordinator, "nowhere")), store.ErrNotFound)
	got, err := s.UserByEmail(ctx, "COORD@example.org")
	must(t, err)
	if got.ID != u.ID || got.Email != "coord@example.org" || got.Role != u.Role || got.NodeID != u.NodeID || got.PasswordHash != u.PasswordHash || len(got.Teams) != 1 || got.Teams[0] != "north" {
		t.Fatalf("UserByEmail = %+v", got)
	}
	byID, err := s.UserByID(ctx, u.ID)
	must(t, err)
	if byID.Email != got.Email {
		t.Fatalf("UserByID = %+v", byID)
	}
	_, err = s.UserByID(ctx, id())
	wantErr(t, err, store.ErrNotFound)
	_, err = s.UserByEmail(ctx, "nobody@example.org")
	wantErr(t, err, store.ErrNotFound)
	must(t, s.CreateUser(ctx, newUser("admin@example.org", store.RoleAdmin)))
	all, err := s.Users(ctx)
	must(t, err)
	if len(all) != 2 || all[0].Email != "admin@example.org" || len(all[0].Teams) != 0 {
		t.Fatalf("Users = %+v", all)
	}
	if n, _ := s.CountUsers(ctx); n != 2 {
		t.Fatalf("CountUsers = %d", n)
	}
}

func code(t *testing.T, s store.Store, hash string, ttl time.Duration) {
	t.Helper()
	must(t, s.CreateEnrolmentCode(ctx, store.EnrolmentCode{Hash: hash, Team: "north", Label: "tablet", CreatedBy: "u1", CreatedAt: now(), ExpiresAt: now() + ttl.Milliseconds()}))
}

func token(hash string, ttl time.Duration) store.RefreshToken {
	return store.RefreshToken{Hash: hash, Family: id(), CreatedAt: now(), ExpiresAt: now() + ttl.Milliseconds()}
}

func enrol(t *testing.T, s store.Store, codeHash, tokenHash string) store.Device {
	t.Helper()
	d, err := s.Enrol(ctx, codeHash, now(), store.Device{ID: id(), NodeID: id()}, token(tokenHash, time.Hour))
	must(t, err)
	return d
}

func enrolOK(t *testing.T, s store.Store) {
	must(t, s.CreateTeam(ctx, store.Team{Name: "north", CreatedAt: now()}))
	code(t, s, "c1", time.Minute)
	d := enrol(t, s, "c1", "r1")
	if d.Team != "north" || d.Label != "tablet" || d.EnrolledBy != "u1" || d.EnrolledAt == 0 || d.Revoked {
		t.Fatalf("Enrol = %+v", d)
	}
	got, err := s.Device(ctx, d.ID)
	must(t, err)
	if got != d {
		t.Fatalf("Device = %+v, want %+v", got, d)
	}
	code(t, s, "c2", time.Minute)
	d2, err := s.Enrol(ctx, "c2", now(), store.Device{ID: id(), NodeID: id(), Label: "own label"}, token("r2", time.Hour))
	must(t, err)
	if d2.Label != "own label" {
		t.Fatalf("label = %q", d2.Label)
	}
	list, err := s.Devices(ctx, []string{"north"})
	must(t, err)
	if len(list) != 2 {
		t.Fatalf("Devices = %+v", list)
	}
	if list, _ := s.Devices(ctx, []string{"south"}); len(list) != 0 {
		t.Fatalf("Devices(south) = %+v", list)
	}
	if list, _ := s.Devices(ctx, nil); len(list) != 2 {
		t.Fatalf("Devices(nil) = %+v", list)
	}
	must(t, s.TouchDevice(ctx, d.ID, now()+60_000))
	got, _ = s.Device(ctx, d.ID)
	if got.LastSeenAt <= d.LastSeenAt {
		t.Fatalf("TouchDevice: last seen %d", got.LastSeenAt)
	}
}

func enrolErrors(t *testing.T, s store.Store) {
	must(t, s.CreateTeam(ctx, store.Team{Name: "north", CreatedAt: now()}))
	wantErr(t, s.CreateEnrolmentCode(ctx, store.EnrolmentCode{Hash: "x", Team: "nowhere", CreatedAt: now(), ExpiresAt: now() + 1000}), store.ErrNotFound)
	_, err := s.Enrol(ctx, "unknown", now(), store.Device{ID: id(), NodeID: id()}, token("r0", time.Hour))
	wantErr(t, err, store.ErrNotFound)
	code(t, s, "used", time.Minute)
	enrol(t, s, "used", "r1")
	_, err = s.Enrol(ctx, "used", now(), store.Device{ID: id(), NodeID: id()}, token("r2", time.Hour))
	wantErr(t, err, store.ErrUsed)
	code(t, s, "old", -time.Second)
	_, err = s.Enrol(ctx, "old", now(), store.Device{ID: id(), NodeID: id()}, token("r3", time.Hour))
	wantErr(t, err, store.ErrExpired)
	// A failed enrolment leaves nothing behind.
	if list, _ := s.Devices(ctx, nil); len(list) != 1 {
		t.Fatalf("Devices = %d, want 1", len(list))
	}
}

func revoke(t *testing.T, s store.Store) {
	must(t, s.CreateTeam(ctx, store.Team{Name: "north", CreatedAt: now()}))
	code(t, s, "c1", time.Minute)
	d := enrol(t, s, "c1", "r1")
	got, err := s.RevokeDevice(ctx, d.ID, now())
	must(t, err)
	if !got.Revoked || got.RevokedAt == 0 {
		t.Fatalf("RevokeDevice = %+v", got)
	}
	again, err := s.RevokeDevice(ctx, d.ID, now()+5000)
	must(t, err)
	if again.RevokedAt != got.RevokedAt {
		t.Fatal("revoking twice moved the revocation time")
	}
	_, err = s.RotateRefreshToken(ctx, "r1", now(), token("r2", time.Hour))
	wantErr(t, err, store.ErrRevoked)
	_, err = s.RevokeDevice(ctx, id(), now())
	wantErr(t, err, store.ErrNotFound)
}

func refreshRotation(t *testing.T, s store.Store) {
	u := newUser("a@example.org", store.RoleAdmin)
	must(t, s.CreateUser(ctx, u))
	first := token("t1", time.Hour)
	first.SubjectKind, first.SubjectID = store.SubjectUser, u.ID
	must(t, s.CreateRefreshToken(ctx, first))
	old, err := s.RotateRefreshToken(ctx, "t1", now(), token("t2", time.Hour))
	must(t, err)
	if old.SubjectKind != store.SubjectUser || old.SubjectID != u.ID || old.Family != first.Family {
		t.Fatalf("Rotate = %+v", old)
	}
	old, err = s.RotateRefreshToken(ctx, "t2", now(), token("t3", time.Hour))
	must(t, err)
	if old.Family != first.Family {
		t.Fatal("rotation left the family")
	}
	_, err = s.RotateRefreshToken(ctx, "nope", now(), token("t4", time.Hour))
	wantErr(t, err, store.ErrNotFound)
	exp := token("e1", -time.Second)
	exp.SubjectKind, exp.SubjectID = store.SubjectUser, u.ID
	must(t, s.CreateRefreshToken(ctx, exp))
	_, err = s.RotateRefreshToken(ctx, "e1", now(), token("e2", time.Hour))
	wantErr(t, err, store.ErrExpired)
	// Reusing t1 revokes the family: t3, the live link, stops working.
	_, err = s.RotateRefreshToken(ctx, "t1", now(), token("t5", time.Hour))
	wantErr(t, err, store.ErrReused)
	_, err = s.RotateRefreshToken(ctx, "t3", now(), token("t6", time.Hour))
	wantErr(t, err, store.ErrRevoked)
}

func refreshReuseKeepsDevice(t *testing.T, s store.Store) {
	must(t, s.CreateTeam(ctx, store.Team{Name: "north", CreatedAt: now()}))
	code(t, s, "c1", time.Minute)
	d := enrol(t, s, "c1", "r1")
	_, err := s.RotateRefreshToken(ctx, "r1", now(), token("r2", time.Hour))
	must(t, err)
	_, err = s.RotateRefreshToken(ctx, "r1", now(), token("r3", time.Hour))
	wantErr(t, err, store.ErrReused)
	got, err := s.Device(ctx, d.ID)
	must(t, err)
	// Its tokens end, but the device is not revoked: a revoked tablet wipes its store,
	// and a lost refresh answer must not cost a worker unsynced conversations.
	if got.Revoked || got.TokensRevokedAt == 0 {
		t.Fatalf("after reuse: revoked=%v tokens_revoked_at=%d, want only its tokens revoked", got.Revoked, got.TokensRevokedAt)
	}
	_, err = s.RotateRefreshToken(ctx, "r2", now(), token("r4", time.Hour))
	wantErr(t, err, store.ErrRevoked)
}

func reenrol(t *testing.T, s store.Store) {
	must(t, s.CreateTeam(ctx, store.Team{Name: "north", CreatedAt: now()}))
	must(t, s.CreateTeam(ctx, store.Team{Name: "south", CreatedAt: now()}))
	code(t, s, "c1", time.Minute)
	d := enrol(t, s, "c1", "r1")
	_, err := s.RotateRefreshToken(ctx, "r1", now(), token("r2", time.Hour))
	must(t, err)
	_, err = s.RotateRefreshToken(ctx, "r1", now(), token("r3", time.Hour)) // the lost answer's retry
	wantErr(t, err, store.ErrReused)

	code(t, s, "c2", time.Minute)
	_, err = s.Reenrol(ctx, "c2", "no-such-token", now(), "", token("x1", time.Hour))
	wantErr(t, err, store.ErrUnknownToken)
	_, err = s.Reenrol(ctx, "no-such-code", "r1", now(), "", token("x2", time.Hour))
	wantErr(t, err, store.ErrNotFound)
	must(t, s.CreateEnrolmentCode(ctx, store.EnrolmentCode{Hash: "south1", Team: "south", CreatedBy: "u1", CreatedAt: now(), ExpiresAt: now() + 60000}))
	_, err = s.Reenrol(ctx, "south1", "r1", now(), "", token("x3", time.Hour))
	wantErr(t, err, store.ErrScope)

	// Any token it was ever given proves it is that tablet; it comes back as itself.
	got, err := s.Reenrol(ctx, "c2", "r2", now(), "tablet again", token("r4", time.Hour))
	must(t, err)
	if got.ID != d.ID || got.NodeID != d.NodeID || got.TokensRevokedAt != 0 || got.Label != "tablet again" {
		t.Fatalf("Reenrol = %+v, enrolled as %+v", got, d)
	}
	stored, err := s.Device(ctx, d.ID)
	must(t, err)
	if stored.TokensRevokedAt != 0 || stored.Revoked {
		t.Fatalf("after Reenrol: %+v", stored)
	}
	_, err = s.RotateRefreshToken(ctx, "r4", now(), token("r5", time.Hour))
	must(t, err)
	_, err = s.Reenrol(ctx, "c2", "r1", now(), "", token("x4", time.Hour))
	wantErr(t, err, store.ErrUsed)

	// A tablet a coordinator revoked (lost, stolen) can't come back this way.
	_, err = s.RevokeDevice(ctx, d.ID, now())
	must(t, err)
	code(t, s, "c3", time.Minute)
	_, err = s.Reenrol(ctx, "c3", "r5", now(), "", token("x5", time.Hour))
	wantErr(t, err, store.ErrRevoked)
}

func nodeOwner(t *testing.T, s store.Store) {
	must(t, s.CreateTeam(ctx, store.Team{Name: "north", CreatedAt: now()}))
	u := newUser("c@example.org", store.RoleCoordinator, "north")
	must(t, s.CreateUser(ctx, u))
	code(t, s, "c1", time.Minute)
	d := enrol(t, s, "c1", "r1")
	kind, who, label, ok, err := s.NodeOwner(ctx, u.NodeID)
	must(t, err)
	if !ok || kind != "user" || who != u.ID || label != "c@example.org" {
		t.Fatalf("NodeOwner(user) = %s %s %s %v", kind, who, label, ok)
	}
	kind, who, label, ok, err = s.NodeOwner(ctx, d.NodeID)
	must(t, err)
	if !ok || kind != "device" || who != d.ID || label != "tablet" {
		t.Fatalf("NodeOwner(device) = %s %s %s %v", kind, who, label, ok)
	}
	if _, _, _, ok, err := s.NodeOwner(ctx, id()); ok || err != nil {
		t.Fatalf("NodeOwner(unknown) = %v %v", ok, err)
	}
}

func setOp(node string, counter uint64, coll, rec, field string, v any) syncengine.Op {
	b, _ := json.Marshal(v)
	return syncengine.Op{Node: node, Counter: counter, TS: now(), Collection: coll, Record: rec, Kind: "set", Field: field, Value: b}
}

func replica(t *testing.T, s store.Store) {
	node, eng := id(), id()
	ops := []syncengine.Op{setOp(node, 1, "engagement", eng, "team", "north"), setOp(node, 2, "engagement", eng, "title", "Market day")}
	for i := 0; i < 10; i++ {
		ops = append(ops, setOp(node, uint64(3+i), "conversation", id(), "engagement", eng))
	}
	opt := syncengine.ApplyOptions{Hub: true, Teams: []string{"north"}, Team: "north", OnlyNode: node}
	res, err := s.Apply(ctx, ops, opt)
	must(t, err)
	if res.Accepted != len(ops) || len(res.Rejected) != 0 {
		t.Fatalf("Apply = %+v", res)
	}
	res, err = s.Apply(ctx, ops, opt)
	must(t, err)
	if res.Duplicates != len(ops) || res.Accepted != 0 {
		t.Fatalf("Apply again = %+v", res)
	}
	top, err := s.MaxSeq(ctx)
	must(t, err)
	if top != int64(len(ops)) {
		t.Fatalf("MaxSeq = %d, want %d", top, len(ops))
	}
	var pulled []syncengine.Op
	cursor := int64(0)
	for {
		page, err := s.Pull(ctx, []string{"north"}, cursor, 5)
		must(t, err)
		pulled = append(pulled, page.Ops...)
		cursor = page.Cursor
		if !page.More {
			break
		}
	}
	if len(pulled) != len(ops) {
		t.Fatalf("pulled %d ops, want %d", len(pulled), len(ops))
	}
	hash, n, err := s.StateHash(ctx, []string{"north"})
	must(t, err)
	if n != 11 || len(hash) != 64 {
		t.Fatalf("StateHash = %s, %d", hash, n)
	}
	r, err := s.Get(ctx, syncengine.RecordKey{Collection: "engagement", Record: eng})
	must(t, err)
	if string(r.Fields["title"]) != `"Market day"` || r.Team != "north" {
		t.Fatalf("Get = %+v", r)
	}
	_, err = s.Get(ctx, syncengine.RecordKey{Collection: "engagement", Record: id()})
	wantErr(t, err, syncengine.ErrNotFound)
	page, next, err := s.Records(ctx, syncengine.RecordQuery{Collection: "conversation", Teams: []string{"north"}, Limit: 4})
	must(t, err)
	if len(page) != 4 || next == "" {
		t.Fatalf("Records = %d, next %q", len(page), next)
	}
	count := 0
	must(t, s.Scan(ctx, "conversation", nil, func(syncengine.Record) error { count++; return nil }))
	if count != 10 {
		t.Fatalf("Scan = %d", count)
	}
	hist, err := s.History(ctx, syncengine.RecordKey{Collection: "engagement", Record: eng})
	must(t, err)
	if len(hist) != 2 {
		t.Fatalf("History = %d ops", len(hist))
	}
	if ts := s.ServerTime(); ts < now()-60_000 || ts > now()+60_000 {
		t.Fatalf("ServerTime = %d", ts)
	}
}

func replicaScope(t *testing.T, s store.Store) {
	node, eng := id(), id()
	_, err := s.Apply(ctx, []syncengine.Op{setOp(node, 1, "engagement", eng, "team", "south")}, syncengine.ApplyOptions{Hub: true})
	must(t, err)
	other := id()
	res, err := s.Apply(ctx, []syncengine.Op{
		setOp(other, 1, "engagement", eng, "title", "mine now"),
		setOp(node, 2, "engagement", eng, "title", "not my node"),
	}, syncengine.ApplyOptions{Hub: true, Teams: []string{"north"}, Team: "north", OnlyNode: other})
	must(t, err)
	if len(res.Rejected) != 2 || res.Rejected[0].Code != syncengine.CodeOutOfScope || res.Rejected[1].Code != syncengine.CodeNotOwnNode {
		t.Fatalf("Rejected = %+v", res.Rejected)
	}
	page, err := s.Pull(ctx, []string{"north"}, 0, 100)
	must(t, err)
	if len(page.Ops) != 0 {
		t.Fatalf("north pulled %d south ops", len(page.Ops))
	}
}

func replicaWithdraw(t *testing.T, s store.Store) {
	node, coord, eng, part, consent, conv := id(), id(), id(), id(), id(), id()
	_, err := s.Apply(ctx, []syncengine.Op{
		setOp(node, 1, "engagement", eng, "team", "north"),
		setOp(node, 2, "participant", part, "engagement", eng),
		setOp(node, 3, "participant", part, "contact_email", "p@example.org"),
		setOp(node, 4, "consent", consent, "engagement", eng),
		setOp(node, 5, "consent", consent, "participant", part),
		setOp(node, 6, "conversation", conv, "engagement", eng),
		setOp(node, 7, "conversation", conv, "consent", consent),
	}, syncengine.ApplyOptions{Hub: true, Teams: []string{"north"}, Team: "north"})
	must(t, err)
	before, err := s.MaxSeq(ctx)
	must(t, err)
	ops, _, err := s.WriteAs(ctx, coord, []syncengine.Change{{Collection: "consent", Record: consent, Kind: "withdraw", Value: map[string]string{"reason": "asked"}}},
		syncengine.ApplyOptions{Hub: true, Teams: []string{"north"}})
	must(t, err)
	if len(ops) != 1 || ops[0].Node != coord || ops[0].Counter != syncengine.ForeignCounterBase+1 {
		t.Fatalf("WriteAs = %+v (the hub numbers a coordinator's node from ForeignCounterBase+1)", ops)
	}
	page, err := s.Pull(ctx, []string{"north"}, before, 100)
	must(t, err)
	if !containsKey(page.Erased, syncengine.RecordKey{Collection: "conversation", Record: conv}) {
		t.Fatalf("erased = %+v", page.Erased)
	}
	r, err := s.Get(ctx, syncengine.RecordKey{Collection: "conversation", Record: conv})
	must(t, err)
	if !r.Erased {
		t.Fatal("conversation not erased")
	}
	p, err := s.Get(ctx, syncengine.RecordKey{Collection: "participant", Record: part})
	must(t, err)
	if _, ok := p.Fields["contact_email"]; ok {
		t.Fatal("contact_email survived the withdrawal")
	}
	c, err := s.Get(ctx, syncengine.RecordKey{Collection: "consent", Record: consent})
	must(t, err)
	if !c.Withdrawn {
		t.Fatal("consent not withdrawn")
	}
}

// replicaConcurrent: batches applied at once (which a store may commit together) each
// get their own result, and nothing is lost or doubled.
func replicaConcurrent(t *testing.T, s store.Store) {
	eng := id()
	_, err := s.Apply(ctx, []syncengine.Op{setOp(id(), 1, "engagement", eng, "team", "north")}, syncengine.ApplyOptions{Hub: true})
	must(t, err)
	const devices, perDevice = 20, 30
	var wg sync.WaitGroup
	errs := make(chan error, devices*2)
	for d := 0; d < devices; d++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			node := id()
			opt := syncengine.ApplyOptions{Hub: true, Teams: []string{"north"}, Team: "north", OnlyNode: node}
			var ops []syncengine.Op
			for i := 0; i < perDevice; i++ {
				ops = append(ops, setOp(node, uint64(i+1), "conversation", id(), "engagement", eng))
			}
			forged := setOp(id(), 1, "conversation", id(), "engagement", eng)
			for half := 0; half < 2; half++ {
				batch := ops[half*perDevice/2 : (half+1)*perDevice/2]
				if half == 1 {
					batch = append(append([]syncengine.Op{}, batch...), forged, ops[0]) // one not own, one duplicate
				}
				res, err := s.Apply(ctx, batch, opt)
				switch {
				case err != nil:
					errs <- err
				case res.Accepted != perDevice/2:
					errs <- fmt.Errorf("accepted %d, want %d", res.Accepted, perDevice/2)
				case half == 1 && (res.Duplicates != 1 || len(res.Rejected) != 1 || res.Rejected[0].Code != syncengine.CodeNotOwnNode):
					errs <- fmt.Errorf("second half: %+v", res)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	top, err := s.MaxSeq(ctx)
	must(t, err)
	if top != 1+devices*perDevice {
		t.Fatalf("MaxSeq = %d, want %d", top, 1+devices*perDevice)
	}
}

func containsKey(keys []syncengine.RecordKey, k syncengine.RecordKey) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

// One (node, counter), one op: the same op again is a duplicate, another body under it is
// refused with op_id_reused and the first value stays.
func replicaOpIDReused(t *testing.T, s store.Store) {
	node, eng := id(), id()
	first := setOp(node, 1, "engagement", eng, "title", "Market day")
	opt := syncengine.ApplyOptions{Hub: true, Team: "north"}
	res, err := s.Apply(ctx, []syncengine.Op{setOp(node, 2, "engagement", eng, "team", "north"), first}, opt)
	must(t, err)
	if res.Accepted != 2 {
		t.Fatalf("first push: %+v", res)
	}
	res, err = s.Apply(ctx, []syncengine.Op{first}, opt)
	must(t, err)
	if res.Duplicates != 1 || len(res.Rejected) != 0 {
		t.Fatalf("same op again: %+v", res)
	}
	res, err = s.Apply(ctx, []syncengine.Op{setOp(node, 1, "engagement", eng, "title", "Gurdwara visit")}, opt)
	must(t, err)
	if len(res.Rejected) != 1 || res.Rejected[0].Code != syncengine.CodeOpIDReused || res.Duplicates != 0 || res.Accepted != 0 {
		t.Fatalf("reused id: %+v", res)
	}
	r, err := s.Get(ctx, syncengine.RecordKey{Collection: "engagement", Record: eng})
	must(t, err)
	if string(r.Fields["title"]) != `"Market day"` {
		t.Fatalf("title = %s, want the first op's", r.Fields["title"])
	}
}

// The hub writes a coordinator's changes under their node while their own client pushes
// ops it numbers from 1 under the same node: no op of either is refused.
func replicaWriteAsBesideClient(t *testing.T, s store.Store) {
	coord, eng := id(), id()
	opt := syncengine.ApplyOptions{Hub: true, Team: "north"}
	_, err := s.Apply(ctx, []syncengine.Op{setOp(id(), 1, "engagement", eng, "team", "north")}, opt)
	must(t, err)
	for round := 0; round < 3; round++ {
		_, _, err := s.WriteAs(ctx, coord, []syncengine.Change{{Collection: "engagement", Record: eng, Kind: "set", Field: "topic", Value: fmt.Sprint("console ", round)}}, opt)
		must(t, err)
		res, err := s.Apply(ctx, []syncengine.Op{setOp(coord, uint64(round+1), "engagement", eng, "title", fmt.Sprint("client ", round))}, syncengine.ApplyOptions{Hub: true, OnlyNode: coord, Team: "north"})
		must(t, err)
		if res.Accepted != 1 || len(res.Rejected) != 0 {
			t.Fatalf("round %d: client op %+v", round, res)
		}
	}
}
