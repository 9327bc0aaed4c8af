package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/fieldnotes/fieldnotes/server/store/postgres"
	"github.com/fieldnotes/fieldnotes/server/store/postgres/pgtest"
	"github.com/fieldnotes/fieldnotes/server/store/sqlite"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

// BenchmarkApplyVsSQLite applies the same 480-op pushes (20 conversations of 24 ops) to
// the SQLite store and to PostgreSQL, one after the other, and reports PostgreSQL's rate
// as a ratio of SQLite's measured in the same run.
//
//	pg_virtualenv sh -c 'FIELDNOTES_TEST_DATABASE_URL=… go test ./server/store/postgres -run ^$ -bench ApplyVsSQLite -benchtime 20x'
func BenchmarkApplyVsSQLite(b *testing.B) {
	pg, err := postgres.Open(context.Background(), pgtest.URL(b), postgres.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer pg.Close()
	lite, err := sqlite.Open(b.TempDir(), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer lite.Close()
	ctx := context.Background()
	eng := uid()
	for _, s := range []store.Store{lite, pg} {
		if _, err := s.Apply(ctx, []syncengine.Op{{Node: uid(), Counter: 1, TS: time.Now().UnixMilli(), Collection: "engagement", Record: eng, Kind: "set", Field: "team", Value: []byte(`"north"`)}}, syncengine.ApplyOptions{Hub: true}); err != nil {
			b.Fatal(err)
		}
	}
	batches := make([][]syncengine.Op, b.N)
	for i := range batches {
		node := uid()
		for c := 0; c < 20; c++ {
			p, cs, v := uid(), uid(), uid()
			add := func(coll, rec, field, val string) {
				batches[i] = append(batches[i], syncengine.Op{Node: node, Counter: uint64(len(batches[i]) + 1), TS: time.Now().UnixMilli(),
					Collection: coll, Record: rec, Kind: "set", Field: field, Value: []byte(val)})
			}
			add("participant", p, "engagement", `"`+eng+`"`)
			add("participant", p, "preferred_locale", `"pa"`)
			add("consent", cs, "participant", `"`+p+`"`)
			add("consent", cs, "engagement", `"`+eng+`"`)
			add("conversation", v, "engagement", `"`+eng+`"`)
			add("conversation", v, "consent", `"`+cs+`"`)
			for a := 0; a < 18; a++ {
				add("conversation", v, fmt.Sprintf("answer.q%d", a), `{"text":"The GP surgery is hard to reach by phone in the morning."}`)
			}
		}
	}
	rate := map[string]float64{}
	b.ResetTimer()
	for _, s := range []struct {
		name string
		st   store.Store
	}{{"sqlite", lite}, {"postgres", pg}} {
		start := time.Now()
		for _, ops := range batches {
			if _, err := s.st.Apply(ctx, ops, syncengine.ApplyOptions{Hub: true, Teams: []string{"north"}}); err != nil {
				b.Fatal(err)
			}
		}
		rate[s.name] = float64(b.N*480) / time.Since(start).Seconds()
	}
	b.ReportMetric(rate["sqlite"], "sqlite-ops/s")
	b.ReportMetric(rate["postgres"], "postgres-ops/s")
	b.ReportMetric(rate["postgres"]/rate["sqlite"], "postgres/sqlite")
}
