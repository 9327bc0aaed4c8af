package postgres_test

import (
	"context"
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/fieldnotes/fieldnotes/server/store/postgres/pgtest"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

// TestShardByTeamSimulation is docs/SCALING.md's sharding in small: each team's ops go to
// the PostgreSQL database (here a schema) that holds the team, one database holds every
// team as a reference. Per team the shards' state hashes equal the reference's, and a
// coordinator following a cursor per shard ({shard: seq}) pulls every op and erasure
// exactly once, the same set as one database gives.
func TestShardByTeamSimulation(t *testing.T) {
	ref := open(t, pgtest.URL(t))
	defer ref.Close()
	shards := map[string]store.Store{"a": open(t, pgtest.URL(t)), "b": open(t, pgtest.URL(t))}
	for _, s := range shards {
		defer s.Close()
	}
	shardOf := map[string]string{"north": "a", "east": "a", "south": "b"}
	ctx := context.Background()
	streams := map[string][]syncengine.Op{}
	for i, team := range []string{"north", "east", "south"} {
		streams[team] = teamWorkload(int64(10+i), 400, []string{team})
	}
	// Interleave the teams' pushes in random batches, as devices of every team sync.
	rng := rand.New(rand.NewSource(7))
	pos := map[string]int{}
	left := func() (out []string) {
		for team, ops := range streams {
			if pos[team] < len(ops) {
				out = append(out, team)
			}
		}
		slices.Sort(out)
		return out
	}
	for teams := left(); len(teams) > 0; teams = left() {
		team := teams[rng.Intn(len(teams))]
		i := pos[team]
		j := min(len(streams[team]), i+1+rng.Intn(30))
		opt := syncengine.ApplyOptions{Hub: true, Teams: []string{team}, Team: team}
		for _, s := range []store.Store{ref, shards[shardOf[team]]} {
			res, err := s.Apply(ctx, append([]syncengine.Op(nil), streams[team][i:j]...), opt)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Rejected) > 0 {
				t.Fatalf("%s: rejected %+v", team, res.Rejected[0])
			}
		}
		pos[team] = j
	}
	for team, shard := range shardOf {
		want, wn, err := ref.StateHash(ctx, []string{team})
		if err != nil {
			t.Fatal(err)
		}
		got, gn, err := shards[shard].StateHash(ctx, []string{team})
		if err != nil {
			t.Fatal(err)
		}
		if got != want || gn != wn || wn == 0 {
			t.Errorf("%s on shard %s: %s (%d), one database %s (%d)", team, shard, got, gn, want, wn)
		}
	}
	// A coordinator of every team: one cursor per shard, each followed to its end.
	pull := func(s store.Store, cursor int64) (ops, erased []string, next int64) {
		for {
			page, err := s.Pull(ctx, nil, cursor, 53)
			if err != nil {
				t.Fatal(err)
			}
			for _, op := range page.Ops {
				ops = append(ops, op.ID())
			}
			for _, k := range page.Erased {
				erased = append(erased, k.Collection+"/"+k.Record)
			}
			cursor = page.Cursor
			if !page.More {
				return ops, erased, cursor
			}
		}
	}
	cursor := map[string]int64{}
	var gotOps, gotErased []string
	for _, shard := range []string{"a", "b"} {
		ops, erased, next := pull(shards[shard], cursor[shard])
		gotOps, gotErased, cursor[shard] = append(gotOps, ops...), append(gotErased, erased...), next
	}
	wantOps, wantErased, _ := pull(ref, 0)
	slices.Sort(gotOps)
	slices.Sort(wantOps)
	slices.Sort(gotErased)
	slices.Sort(wantErased)
	if fmt.Sprint(gotOps) != fmt.Sprint(wantOps) || fmt.Sprint(gotErased) != fmt.Sprint(wantErased) || len(wantErased) == 0 {
		t.Errorf("sharded pull: %d ops, %d erased; one database: %d ops, %d erased", len(gotOps), len(gotErased), len(wantOps), len(wantErased))
	}
	// Nothing new: every shard's cursor is at its end.
	for shard, c := range cursor {
		if ops, _, _ := pull(shards[shard], c); len(ops) != 0 {
			t.Errorf("shard %s: %d ops after the end", shard, len(ops))
		}
	}
}
