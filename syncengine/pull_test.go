package syncengine

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/google/uuid"
)

// scopeFixture fills a hub with two teams' records, interleaved in ingest order: records
// that name their team, records whose team comes through their engagement (in the same
// batch or an earlier one), a record whose engagement the hub hasn't seen (it takes the
// pusher's team), and an erasure in each team.
func scopeFixture(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	set := func(node string, counter uint64, coll, rec, field string, v any) Op {
		if field == "engagement" {
			v = named(v.(string))
		}
		b, _ := json.Marshal(v)
		return Op{Node: node, Counter: counter, TS: t0 + int64(counter), Collection: coll, Record: named(rec), Kind: schema.KindSet, Field: field, Value: b}
	}
	apply := func(team string, ops ...Op) {
		t.Helper()
		res, err := s.Apply(ctx, ops, ApplyOptions{Hub: true, Teams: []string{team}, Team: team})
		if err != nil || len(res.Rejected) > 0 {
			t.Fatalf("apply: %v %+v", err, res.Rejected)
		}
	}
	apply("north", set("n", 1, schema.Engagement, "eng-n", "team", "north"))
	apply("south", set("s", 1, schema.Engagement, "eng-s", "team", "south"), set("s", 2, schema.Conversation, "conv-s1", "engagement", "eng-s"))
	for i := uint64(0); i < 6; i++ {
		apply("north", set("n", 2+2*i, schema.Conversation, fmt.Sprint("conv-n", i), "engagement", "eng-n"),
			set("n", 3+2*i, schema.Conversation, fmt.Sprint("conv-n", i), "summary", "busy market"))
		apply("south", set("s", 3+i, schema.Participant, fmt.Sprint("part-s", i), "engagement", "eng-s"))
	}
	// The engagement is unknown here: the record takes the pushing device's team.
	apply("south", set("s", 20, schema.Conversation, "conv-s-unknown", "engagement", "eng-elsewhere"))
	// A team's own record whose engagement comes later in the same batch.
	apply("north", set("n", 30, schema.Consent, "consent-n", "engagement", "eng-n2"), set("n", 31, schema.Engagement, "eng-n2", "team", "north"))
	for i, e := range []struct{ team, coll, rec string }{{"north", schema.Conversation, "conv-n1"}, {"south", schema.Participant, "part-s2"}} {
		op := Op{Node: "coord", Counter: uint64(1 + i), TS: t0 + 100, Collection: e.coll, Record: named(e.rec), Kind: schema.KindErase}
		if res, err := s.Apply(ctx, []Op{op}, ApplyOptions{Hub: true, Teams: []string{e.team}}); err != nil || res.Accepted != 1 {
			t.Fatalf("erase: %v %+v", err, res)
		}
	}
}

// named is a record id for a name.
func named(name string) string { return uuid.NewSHA1(uuid.NameSpaceURL, []byte(name)).String() }

// joinedPull is what a pull must return, worked out the long way: every op joined to its
// record, filtered by the record's team.
func joinedPull(t *testing.T, s *Store, teams []string) (ops []string, erased []RecordKey) {
	t.Helper()
	filter, args := teamFilter("r.team", teams)
	rows, err := s.r.Query(`SELECT n.node, o.counter FROM ops o JOIN nodes n ON n.nid = o.nid JOIN records r ON r.rid = o.rid WHERE 1`+filter+` ORDER BY o.seq`, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	ops = []string{}
	for rows.Next() {
		var node string
		var counter int64
		rows.Scan(&node, &counter)
		ops = append(ops, fmt.Sprint(node, "/", counter))
	}
	efilter, eargs := teamFilter("team", teams)
	erows, err := s.r.Query(`SELECT collection, id FROM records WHERE erased_seq IS NOT NULL`+efilter+` ORDER BY erased_seq`, eargs...)
	if err != nil {
		t.Fatal(err)
	}
	defer erows.Close()
	erased = []RecordKey{}
	for erows.Next() {
		var k RecordKey
		erows.Scan(&k.Collection, &k.Record)
		erased = append(erased, k)
	}
	return ops, erased
}

func pullAll(t *testing.T, s *Store, teams []string, limit int) (ops []string, erased []RecordKey) {
	t.Helper()
	ops, erased = []string{}, []RecordKey{}
	var cursor int64
	for {
		page, err := s.Pull(context.Background(), teams, cursor, limit)
		if err != nil {
			t.Fatal(err)
		}
		for _, op := range page.Ops {
			if op.Collection == "" || op.Record == "" || op.Kind == "" {
				t.Fatalf("op without a name: %+v", op)
			}
			ops = append(ops, fmt.Sprint(op.Node, "/", op.Counter))
		}
		erased = append(erased, page.Erased...)
		if page.Cursor < cursor {
			t.Fatalf("cursor went back from %d to %d", cursor, page.Cursor)
		}
		cursor = page.Cursor
		if !page.More {
			return ops, erased
		}
	}
}

func TestPullScopesByRecordTeam(t *testing.T) {
	s := MustOpen(t, fixedWall(t0+1000))
	scopeFixture(t, s)
	checkPulls(t, s)
}

func checkPulls(t *testing.T, s *Store) {
	t.Helper()
	for _, teams := range [][]string{{"north"}, {"south"}, {"north", "south"}, {"south", "north", "south"}, {"east"}, {}, nil} {
		want, wantErased := joinedPull(t, s, teams)
		for _, limit := range []int{1, 2, 5, 1000} {
			got, erased := pullAll(t, s, teams, limit)
			if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(erased, wantErased) {
				t.Fatalf("teams %q, pages of %d: pulled %v erased %v; want %v erased %v", teams, limit, got, erased, want, wantErased)
			}
		}
		if teams != nil && len(teams) == 1 && teams[0] != "east" && len(want) == 0 {
			t.Fatalf("team %s has no ops: the fixture is wrong", teams[0])
		}
	}
	north, _ := joinedPull(t, s, []string{"north"})
	south, _ := joinedPull(t, s, []string{"south"})
	all, _ := joinedPull(t, s, nil)
	if len(north)+len(south) != len(all) || len(north) == 0 || len(south) == 0 {
		t.Fatalf("north %d + south %d != all %d", len(north), len(south), len(all))
	}
}
