package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/fieldnotes/fieldnotes/server/store/postgres"
	"github.com/fieldnotes/fieldnotes/server/store/postgres/pgtest"
	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

func uid() string { return uuid.Must(uuid.NewV7()).String() }

// TestCursorsGapFreeUnderConcurrentCommits: writers on three store instances (three
// pools, as three server processes) commit batches while pullers on a fourth follow
// their cursors page by page. Every puller ends with every op exactly once: no op was
// skipped because a lower sequence number committed after a higher one was read.
func TestCursorsGapFreeUnderConcurrentCommits(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	writers := []*postgres.DB{open(t, url), open(t, url), open(t, url)}
	reader := open(t, url)
	defer func() {
		for _, w := range writers {
			w.Close()
		}
		reader.Close()
	}()
	eng := uid()
	if _, err := writers[0].Apply(ctx, []syncengine.Op{{Node: uid(), Counter: 1, TS: time.Now().UnixMilli(), Collection: "engagement", Record: eng, Kind: "set", Field: "team", Value: []byte(`"north"`)}},
		syncengine.ApplyOptions{Hub: true}); err != nil {
		t.Fatal(err)
	}
	const perWriter, batches, batchSize = 4, 12, 5
	var wg sync.WaitGroup
	var writing atomic.Int32
	total := 1 + len(writers)*perWriter*batches*batchSize
	errs := make(chan error, 100)
	for w := range writers {
		for g := 0; g < perWriter; g++ {
			wg.Add(1)
			writing.Add(1)
			go func() {
				defer wg.Done()
				defer writing.Add(-1)
				node := uid()
				counter := uint64(0)
				for b := 0; b < batches; b++ {
					ops := make([]syncengine.Op, batchSize)
					for i := range ops {
						counter++
						ops[i] = syncengine.Op{Node: node, Counter: counter, TS: time.Now().UnixMilli(), Collection: "conversation", Record: uid(),
							Kind: "set", Field: "engagement", Value: []byte(`"` + eng + `"`)}
					}
					if _, err := writers[w].Apply(ctx, ops, syncengine.ApplyOptions{Hub: true, Teams: []string{"north"}, OnlyNode: node}); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
	}
	var pullers sync.WaitGroup
	for p := 0; p < 3; p++ {
		pullers.Add(1)
		go func() {
			defer pullers.Done()
			seen := map[string]int{}
			cursor := int64(0)
			for {
				done := writing.Load() == 0 // read before the pull: the last pass sees everything
				page, err := reader.Pull(ctx, []string{"north"}, cursor, 7)
				if err != nil {
					errs <- err
					return
				}
				for _, op := range page.Ops {
					seen[op.ID()]++
				}
				cursor = page.Cursor
				if !page.More && done {
					break
				}
			}
			dups := 0
			for _, n := range seen {
				if n > 1 {
					dups++
				}
			}
			if len(seen) != total || dups > 0 {
				errs <- fmt.Errorf("puller saw %d distinct ops of %d (%d repeated)", len(seen), total, dups)
			}
		}()
	}
	wg.Wait()
	pullers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestPlainSequenceSkips shows what the hub row prevents: with numbers from a plain
// sequence, a transaction that took number 1 and commits after one that took 2 is
// skipped by a puller that read 2 in between. The same interleaving against the store
// can't happen: the second writer waits for the first.
func TestPlainSequenceSkips(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	db := open(t, url)
	defer db.Close()
	pool := db.Pool()
	if _, err := pool.Exec(ctx, `CREATE TABLE plain (seq BIGSERIAL PRIMARY KEY, v TEXT)`); err != nil {
		t.Fatal(err)
	}
	slow, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := slow.Exec(ctx, `INSERT INTO plain (v) VALUES ('first')`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO plain (v) VALUES ('second')`); err != nil {
		t.Fatal(err)
	}
	var cursor int64
	if err := pool.QueryRow(ctx, `SELECT max(seq) FROM plain`).Scan(&cursor); err != nil {
		t.Fatal(err)
	}
	if err := slow.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var after int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM plain WHERE seq > $1`, cursor).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if cursor != 2 || after != 0 {
		t.Fatalf("plain sequence: cursor %d, %d after it", cursor, after)
	}
	// 'first' (seq 1) committed after the puller's cursor passed it: lost to that puller.

	// The store: a writer holding the hub row (a slow transaction on another instance)
	// makes every other writer wait, so nothing commits behind a cursor.
	other := open(t, url)
	defer other.Close()
	hold, err := pool.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hold.Exec(ctx, `SELECT seq FROM hub FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	applied := make(chan error, 1)
	go func() {
		_, err := other.Apply(ctx, []syncengine.Op{{Node: uid(), Counter: 1, TS: time.Now().UnixMilli(), Collection: "engagement", Record: uid(), Kind: "set", Field: "team", Value: []byte(`"north"`)}},
			syncengine.ApplyOptions{Hub: true})
		applied <- err
	}()
	select {
	case err := <-applied:
		t.Fatalf("a writer committed while another held the hub row: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := hold.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-applied; err != nil {
		t.Fatal(err)
	}
}

// TestMigrateTwoAtOnce: instances starting together on an empty database each apply
// nothing twice (without the advisory lock, the second CREATE TABLE fails).
func TestMigrateTwoAtOnce(t *testing.T) {
	url := pgtest.URL(t)
	var wg sync.WaitGroup
	dbs := make([]*postgres.DB, 4)
	errs := make([]error, len(dbs))
	for i := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dbs[i], errs[i] = postgres.Open(context.Background(), url, postgres.Options{})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
		defer dbs[i].Close()
	}
	var n, distinct int
	if err := dbs[0].Pool().QueryRow(context.Background(), `SELECT count(*), count(DISTINCT name) FROM schema_migrations`).Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n != distinct || n < 2 {
		t.Fatalf("schema_migrations: %d rows, %d distinct", n, distinct)
	}
}

// TestErasureDeletesRows: after a withdrawal the conversation's text and the
// participant's contact details are in no row of any table, and the tables are vacuumed.
func TestErasureDeletesRows(t *testing.T) {
	db := open(t, pgtest.URL(t))
	defer db.Close()
	ctx := context.Background()
	node, eng, part, consent, conv := uid(), uid(), uid(), uid(), uid()
	now := time.Now().UnixMilli()
	set := func(c uint64, coll, rec, field, v string) syncengine.Op {
		return syncengine.Op{Node: node, Counter: c, TS: now + int64(c), Collection: coll, Record: rec, Kind: "set", Field: field, Value: []byte(v)}
	}
	ops := []syncengine.Op{
		set(1, "engagement", eng, "team", `"north"`),
		set(2, "participant", part, "engagement", `"`+eng+`"`),
		set(3, "participant", part, "contact_email", `"amina@example.org"`),
		set(4, "consent", consent, "participant", `"`+part+`"`),
		set(5, "conversation", conv, "consent", `"`+consent+`"`),
		{Node: node, Counter: 6, TS: now + 6, Collection: "conversation", Record: conv, Kind: "append", Field: "notes", Value: []byte(`"the bus never comes"`)},
	}
	if _, err := db.Apply(ctx, ops, syncengine.ApplyOptions{Hub: true}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.WriteAs(ctx, uid(), []syncengine.Change{{Collection: "consent", Record: consent, Kind: "withdraw"}}, syncengine.ApplyOptions{Hub: true}); err != nil {
		t.Fatal(err)
	}
	for _, needle := range []string{"the bus never comes", "amina@example.org"} {
		var n int
		err := db.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM ops WHERE position($1::bytea IN coalesce(value, '')) > 0)
			+ (SELECT count(*) FROM records WHERE position($1::bytea IN coalesce(view, '')) > 0 OR position($1::bytea IN coalesce(state, '')) > 0)`,
			[]byte(needle)).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%q is still in %d rows", needle, n)
		}
	}
	// What is left of the conversation proves the erasure and says nothing (its consent id).
	left, err := db.History(ctx, syncengine.RecordKey{Collection: "conversation", Record: conv})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range left {
		if !syncengine.KeptOnErase(&op) {
			t.Errorf("the erased conversation still has op %s %s.%s", op.ID(), op.Kind, op.Field)
		}
	}
	select {
	case err := <-db.VacuumRan():
		if err != nil {
			t.Fatalf("vacuum after the erasure: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no vacuum after the erasure")
	}
}

// TestRotateOnTwoInstancesAtOnce: the same refresh token presented to two instances at
// once is exchanged once; the other presentation is a reuse (the row is locked).
func TestRotateOnTwoInstancesAtOnce(t *testing.T) {
	url := pgtest.URL(t)
	a, b := open(t, url), open(t, url)
	defer a.Close()
	defer b.Close()
	ctx := context.Background()
	now := time.Now().UnixMilli()
	for round := 0; round < 10; round++ {
		old := fmt.Sprintf("hash-%d", round)
		if err := a.CreateRefreshToken(ctx, store.RefreshToken{Hash: old, SubjectKind: store.SubjectUser, SubjectID: "u1", Family: old, CreatedAt: now, ExpiresAt: now + 3_600_000}); err != nil {
			t.Fatal(err)
		}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, db := range []*postgres.DB{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = db.RotateRefreshToken(ctx, old, now+1, store.RefreshToken{Hash: fmt.Sprintf("%s-next-%d", old, i)})
			}()
		}
		wg.Wait()
		okN, reused := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				okN++
			case errors.Is(err, store.ErrReused):
				reused++
			default:
				t.Fatal(err)
			}
		}
		if okN != 1 || reused != 1 {
			t.Fatalf("round %d: %d exchanged, %d reused; want one of each", round, okN, reused)
		}
	}
}

// TestWriteAsOnTwoInstances: one coordinator writing through two instances at once
// (the console on one, the API on the other) never gets a counter twice, so no write is
// taken for a duplicate of another and dropped.
func TestWriteAsOnTwoInstances(t *testing.T) {
	url := pgtest.URL(t)
	a, b := open(t, url), open(t, url)
	defer a.Close()
	defer b.Close()
	ctx := context.Background()
	coord, dec := uid(), uid()
	opt := syncengine.ApplyOptions{Hub: true, Team: "north"}
	if _, _, err := a.WriteAs(ctx, coord, []syncengine.Change{{Collection: "decision", Record: dec, Kind: "set", Field: "team", Value: "north"}}, opt); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	counters := map[uint64]bool{}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db := []*postgres.DB{a, b}[i%2]
			ops, res, err := db.WriteAs(ctx, coord, []syncengine.Change{
				{Collection: "decision", Record: dec, Kind: "add", Field: "themes", Value: fmt.Sprintf("theme %d", i)},
				{Collection: "decision", Record: dec, Kind: "set", Field: "title", Value: fmt.Sprintf("title %d", i)},
			}, opt)
			if err == nil && (res.Accepted != 2 || res.Duplicates != 0) {
				err = fmt.Errorf("write %d: %+v", i, res)
			}
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			for _, op := range ops {
				if counters[op.Counter] {
					errs <- fmt.Errorf("counter %d given twice", op.Counter)
				}
				counters[op.Counter] = true
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	hist, err := b.History(ctx, syncengine.RecordKey{Collection: "decision", Record: dec})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1+80 || len(counters) != 80 {
		t.Fatalf("history has %d ops, %d counters handed out; want 81 and 80", len(hist), len(counters))
	}
}

// TestSessionOnTwoInstances: a console session signed in on one instance is valid on
// the other, and signing out on the other ends it on both.
func TestSessionOnTwoInstances(t *testing.T) {
	url := pgtest.URL(t)
	a, b := open(t, url), open(t, url)
	defer a.Close()
	defer b.Close()
	ctx := context.Background()
	n := time.Now().UnixMilli()
	s := store.Session{Hash: "cookie-hash", UserID: "u1", CSRF: "csrf", CreatedAt: n, ExpiresAt: n + 60_000, MaxUntil: n + 3_600_000}
	if err := a.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Session(ctx, s.Hash, n+1); err != nil || got != s {
		t.Fatalf("on the other instance: %+v %v", got, err)
	}
	if err := b.DeleteSession(ctx, s.Hash); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Session(ctx, s.Hash, n+2); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after sign-out on the other instance: %v", err)
	}
}
