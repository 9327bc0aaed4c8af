package syncengine

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/google/uuid"
)

// conversationOps is the field workload: one participant, their consent and a
// conversation with ten answers, 24 ops, as a tablet writes them.
func conversationOps(node string, counter *uint64, ts int64, engagement string) []Op {
	p, c, v := uuid.NewString(), uuid.NewString(), uuid.NewString()
	var ops []Op
	add := func(coll, rec, kind, field string, value any) {
		*counter++
		raw, _ := json.Marshal(value)
		ops = append(ops, Op{Node: node, Counter: *counter, TS: ts + int64(*counter), Collection: coll, Record: rec, Kind: kind, Field: field, Value: raw})
	}
	add(schema.Participant, p, schema.KindSet, "engagement", engagement)
	add(schema.Participant, p, schema.KindSet, "preferred_locale", "pa")
	add(schema.Participant, p, schema.KindAdd, "communities", "Sikh")
	add(schema.Consent, c, schema.KindSet, "participant", p)
	add(schema.Consent, c, schema.KindSet, "engagement", engagement)
	add(schema.Consent, c, schema.KindSet, "statement_id", "fieldnotes_standard")
	add(schema.Consent, c, schema.KindAdd, "scopes", "record_views")
	add(schema.Consent, c, schema.KindSet, "method", "interpreter")
	add(schema.Conversation, v, schema.KindSet, "engagement", engagement)
	add(schema.Conversation, v, schema.KindSet, "participant", p)
	add(schema.Conversation, v, schema.KindSet, "consent", c)
	add(schema.Conversation, v, schema.KindSet, "started_at", ts)
	for q := 0; q < 10; q++ {
		add(schema.Conversation, v, schema.KindSet, fmt.Sprintf("answer.q%d", q), map[string]any{
			"text":          "The surgery is hard to reach by bus and the phone line is always busy in the morning",
			"prompt_locale": "pa", "answer_locale": "pa", "translation_en": "hard to reach"})
	}
	add(schema.Conversation, v, schema.KindAdd, "themes", "transport")
	add(schema.Conversation, v, schema.KindSet, "ended_at", ts+900_000)
	return ops
}

func workload(conversations int) []Op {
	var counter uint64
	eng := uuid.NewString()
	ops := make([]Op, 0, conversations*24)
	for i := 0; i < conversations; i++ {
		ops = append(ops, conversationOps("tablet-bench", &counter, t0+int64(i)*1000, eng)...)
	}
	return ops
}

// plainInsert is the baseline: the same rows into a plain SQLite table in one
// transaction, with the store's pragmas and a prepared statement. The table has the
// primary key any plain table of these rows would have, the op's identity (node,
// counter), as cr-sqlite's comparison of replicated and plain tables did.
func plainInsert(b *testing.B, path string, opt Options, ops []Op) (wall, cpu time.Duration) {
	if err := createWithPageSize(path, opt); err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn(path, roleWriter, opt))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE ops (node TEXT, counter INTEGER, ts INTEGER, tc INTEGER, collection TEXT, record TEXT, kind TEXT, field TEXT, value BLOB, PRIMARY KEY (node, counter))`); err != nil {
		b.Fatal(err)
	}
	start, cpu0 := time.Now(), cpuTime()
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	stmt, err := tx.Prepare(`INSERT INTO ops VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	for _, op := range ops {
		if _, err := stmt.Exec(op.Node, int64(op.Counter), op.TS, int64(op.TC), op.Collection, op.Record, op.Kind, op.Field, []byte(op.Value)); err != nil {
			b.Fatal(err)
		}
	}
	stmt.Close()
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return time.Since(start), cpuTime() - cpu0
}

// BenchmarkApplyVsPlainInsert applies N ops to a fresh SQLite replica in one batch and,
// side by side, inserts the same rows into a plain table with the same settings;
// apply/plain is the ratio of the two rates (1 = as fast as plain inserts; cr-sqlite is
// about 0.4). "tablet" is a device's store (SQLite's defaults), "hub" the server's
// (Hub options), each against a plain table configured alike.
func BenchmarkApplyVsPlainInsert(b *testing.B) {
	for _, cfg := range []struct {
		name string
		opt  Options
	}{{"tablet", Tablet(Options{})}, {"hub", Hub(Options{})}} {
		for _, n := range []int{1000, 5000} { // conversations; ×24 ops
			b.Run(fmt.Sprintf("%s/ops=%d", cfg.name, n*24), func(b *testing.B) {
				benchApplyVsPlain(b, cfg.opt, n)
			})
		}
	}
}

func benchApplyVsPlain(b *testing.B, opt Options, n int) {
	ops := workload(n)
	var applyT, plainT, applyCPU, plainCPU time.Duration
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		s, err := Open(filepath.Join(dir, "replica.db"), opt)
		if err != nil {
			b.Fatal(err)
		}
		start, cpu0 := time.Now(), cpuTime()
		res, err := s.Apply(context.Background(), ops, ApplyOptions{Hub: true})
		applyT += time.Since(start)
		applyCPU += cpuTime() - cpu0
		if err != nil || res.Accepted != len(ops) {
			b.Fatalf("apply: %v accepted %d", err, res.Accepted)
		}
		s.Close()
		wall, cpu := plainInsert(b, filepath.Join(dir, "plain.db"), opt, ops)
		plainT += wall
		plainCPU += cpu
	}
	b.ReportMetric(plainT.Seconds()/applyT.Seconds(), "apply/plain")
	if applyCPU > 0 {
		// The same ratio in CPU time: steadier than wall time on a shared machine.
		b.ReportMetric(plainCPU.Seconds()/applyCPU.Seconds(), "apply/plain-cpu")
	}
	b.ReportMetric(float64(len(ops)*b.N)/applyT.Seconds(), "apply-ops/s")
	b.ReportMetric(float64(len(ops)*b.N)/plainT.Seconds(), "plain-rows/s")
}

// BenchmarkMemoryMerge is the pure merge: ops/s into an in-memory replica.
func BenchmarkMemoryMerge(b *testing.B) {
	ops := workload(2000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := NewMemory(func() int64 { return t0 }, DefaultMaxSkew.Milliseconds())
		if _, err := m.Apply(ops, ApplyOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(ops)*b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkStateHash260k hashes a replica holding 260,000 ops (Automerge 2.0 loads a
// 260k-op document in about 590 ms; the target is under 600 ms).
func BenchmarkStateHash260k(b *testing.B) {
	ops := workload(260_000 / 24)
	s, err := Open(filepath.Join(b.TempDir(), "replica.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < len(ops); i += 24_000 {
		if _, err := s.Apply(context.Background(), ops[i:min(i+24_000, len(ops))], ApplyOptions{Hub: true}); err != nil {
			b.Fatal(err)
		}
	}
	m := NewMemory(func() int64 { return t0 }, DefaultMaxSkew.Milliseconds())
	m.Apply(ops, ApplyOptions{})
	b.Run("sqlite", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			h, n, err := s.StateHash(context.Background(), nil)
			if err != nil || n == 0 || h == "" {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/hash")
	})
	b.Run("memory", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			m.Hash()
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/hash")
	})
}

// BenchmarkHubPull reads a hub's op log the way devices pull it: one team's ops in
// 2,000-op pages from the start. The hub holds 240,000 ops in 10,000 conversations whose
// records get their team through their engagement, in one team or spread over ten.
func BenchmarkHubPull(b *testing.B) {
	for _, teams := range []int{1, 10} {
		b.Run(fmt.Sprintf("teams=%d", teams), func(b *testing.B) { benchHubPull(b, teams) })
	}
}

func benchHubPull(b *testing.B, teams int) {
	s, err := Open(filepath.Join(b.TempDir(), "replica.db"), Hub(Options{}))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	engs := make([]string, teams)
	var counter uint64
	for t := range engs {
		engs[t] = uuid.NewString()
		counter++
		op := Op{Node: "coordinator", Counter: counter, TS: t0, Collection: schema.Engagement, Record: engs[t], Kind: schema.KindSet,
			Field: "team", Value: json.RawMessage(fmt.Sprintf(`"team-%d"`, t))}
		if _, err := s.Apply(context.Background(), []Op{op}, ApplyOptions{Hub: true}); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < 10_000; i += 20 {
		var ops []Op
		for j := 0; j < 20; j++ {
			ops = append(ops, conversationOps(fmt.Sprintf("tablet-%d", i%50), &counter, t0+int64(i)*1000, engs[(i+j)%teams])...)
		}
		if _, err := s.Apply(context.Background(), ops, ApplyOptions{Hub: true}); err != nil {
			b.Fatal(err)
		}
	}
	want := 10_000/teams*24 + 1
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		var cursor int64
		got := 0
		for {
			page, err := s.Pull(context.Background(), []string{"team-0"}, cursor, 2000)
			if err != nil {
				b.Fatal(err)
			}
			got += len(page.Ops)
			cursor = page.Cursor
			if !page.More {
				break
			}
		}
		if got != want {
			b.Fatalf("pulled %d ops, want %d", got, want)
		}
		n += got
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "ops/s")
}
