package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/fieldnotes/fieldnotes/server/store/postgres/pgtest"
	"github.com/fieldnotes/fieldnotes/server/store/sqlite"
	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/google/uuid"
)

// workload is a random but seeded history: two teams' engagements, participants with
// contact details, consents (some withdrawn), conversations with themes, notes,
// deletes and erasures, from several tablets with interleaved clocks.
func workload(seed int64, n int) []syncengine.Op {
	return teamWorkload(seed, n, []string{"north", "south"})
}

// teamWorkload is workload with engagements in the given teams only.
func teamWorkload(seed int64, n int, teams []string) []syncengine.Op {
	rng := rand.New(rand.NewSource(seed))
	newID := func() string { return uuid.Must(uuid.NewRandomFromReader(rng)).String() }
	nodes := []string{newID(), newID(), newID(), newID()}
	counters := map[string]uint64{}
	base := time.Now().UnixMilli() - 3_600_000
	var ops []syncengine.Op
	op := func(coll, rec, kind, field string, v any) {
		node := nodes[rng.Intn(len(nodes))]
		counters[node]++
		var raw json.RawMessage
		if v != nil {
			raw, _ = json.Marshal(v)
		}
		// Clocks interleave and sometimes tie, so stamp order differs from arrival.
		ts := base + int64(len(ops)) - int64(rng.Intn(50))
		ops = append(ops, syncengine.Op{Node: node, Counter: counters[node], TS: ts, TC: uint32(rng.Intn(2)),
			Collection: coll, Record: rec, Kind: kind, Field: field, Value: raw})
	}
	var engs, parts, consents, convs []string
	for _, team := range teams {
		e := newID()
		engs = append(engs, e)
		op("engagement", e, "set", "team", team)
		op("engagement", e, "set", "title", "Market day "+team)
	}
	pick := func(xs []string) string { return xs[rng.Intn(len(xs))] }
	for len(ops) < n {
		switch rng.Intn(14) {
		case 0, 1:
			p := newID()
			parts = append(parts, p)
			op("participant", p, "set", "engagement", pick(engs))
			op("participant", p, "set", "contact_email", fmt.Sprintf("p%d@example.org", len(ops)))
		case 2:
			if len(parts) > 0 {
				c := newID()
				consents = append(consents, c)
				op("consent", c, "set", "engagement", pick(engs))
				op("consent", c, "set", "participant", pick(parts))
			}
		case 3, 4, 5:
			if len(consents) > 0 {
				c := newID()
				convs = append(convs, c)
				op("conversation", c, "set", "engagement", pick(engs))
				op("conversation", c, "set", "consent", pick(consents))
			}
		case 6, 7:
			if len(convs) > 0 {
				op("conversation", pick(convs), "add", "themes", pick([]string{"buses", "gp", "parking", "lighting"}))
			}
		case 8:
			if len(convs) > 0 {
				op("conversation", pick(convs), "remove", "themes", pick([]string{"buses", "gp"}))
			}
		case 9, 10:
			if len(convs) > 0 {
				op("conversation", pick(convs), "append", "notes", fmt.Sprintf("said %d", len(ops)))
			}
		case 11:
			if len(convs) > 0 {
				op("conversation", pick(convs), "delete", "", nil)
			}
		case 12:
			if len(consents) > 0 && rng.Intn(3) == 0 {
				op("consent", pick(consents), "withdraw", "", map[string]string{"reason": "asked"})
			}
		case 13:
			if len(parts) > 0 {
				if rng.Intn(4) == 0 {
					op("participant", pick(parts), "erase", "", nil)
				} else {
					op("participant", pick(parts), "set", "contact_phone", "0700 900 123")
				}
			}
		}
	}
	return ops
}

// TestStateHashMatchesSQLite: the same ops, delivered in the same random batches with
// repeats, give both stores byte-identical state hashes (all and per team), the same
// records and the same pulled ops.
func TestStateHashMatchesSQLite(t *testing.T) {
	pg := open(t, pgtest.URL(t))
	defer pg.Close()
	lite, err := sqlite.Open(t.TempDir(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	ctx := context.Background()
	for seed := int64(1); seed <= 3; seed++ {
		ops := workload(seed, 600)
		rng := rand.New(rand.NewSource(seed))
		for i := 0; i < len(ops); {
			j := min(len(ops), i+1+rng.Intn(40))
			batch := append([]syncengine.Op(nil), ops[i:j]...)
			if i > 0 && rng.Intn(3) == 0 {
				batch = append(batch, ops[rng.Intn(i)]) // a repeat
			}
			opt := syncengine.ApplyOptions{Hub: true, Team: "north"}
			for _, s := range []store.Store{lite, pg} {
				if _, err := s.Apply(ctx, batch, opt); err != nil {
					t.Fatal(err)
				}
			}
			i = j
		}
	}
	for _, teams := range [][]string{nil, {"north"}, {"south"}, {}} {
		hl, nl, err := lite.StateHash(ctx, teams)
		if err != nil {
			t.Fatal(err)
		}
		hp, np, err := pg.StateHash(ctx, teams)
		if err != nil {
			t.Fatal(err)
		}
		if hl != hp || nl != np {
			t.Errorf("teams %v: SQLite %s (%d records), PostgreSQL %s (%d)", teams, hl, nl, hp, np)
		}
		if teams == nil && nl < 50 {
			t.Fatalf("only %d live records: the workload is too thin to compare", nl)
		}
	}
	for _, coll := range []string{"engagement", "participant", "consent", "conversation"} {
		q := syncengine.RecordQuery{Collection: coll, Limit: 100000, WithErased: true, WithDeleted: true}
		rl, _, err := lite.Records(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		rp, _, err := pg.Records(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(rl)
		b, _ := json.Marshal(rp)
		if string(a) != string(b) {
			t.Errorf("%s records differ:\nSQLite     %.400s\nPostgreSQL %.400s", coll, a, b)
		}
	}
	pulled := func(s store.Store) ([]string, int) {
		var ids []string
		erased := 0
		for cursor := int64(0); ; {
			page, err := s.Pull(ctx, []string{"south"}, cursor, 97)
			if err != nil {
				t.Fatal(err)
			}
			for _, op := range page.Ops {
				ids = append(ids, op.ID())
			}
			erased += len(page.Erased)
			cursor = page.Cursor
			if !page.More {
				return ids, erased
			}
		}
	}
	il, el := pulled(lite)
	ip, ep := pulled(pg)
	if el == 0 {
		t.Fatal("no erasure reached the pull: the workload is too thin to compare")
	}
	if fmt.Sprint(il) != fmt.Sprint(ip) || el != ep {
		t.Errorf("pulls differ: SQLite %d ops %d erased, PostgreSQL %d ops %d erased", len(il), el, len(ip), ep)
	}
}
