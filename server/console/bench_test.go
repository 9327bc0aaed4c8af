package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/api"
	"github.com/fieldnotes/fieldnotes/server/auth"
	"github.com/fieldnotes/fieldnotes/server/console"
	"github.com/fieldnotes/fieldnotes/server/coordapi"
	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/fieldnotes/fieldnotes/server/store/sqlite"
	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"
)

const (
	benchVersion       = "v1"
	benchConversations = 200_000
	benchParticipants  = 25_000
	benchEngagements   = 20
)

// benchData opens (building once under os.TempDir, a minute or two) a server data
// directory with 200,000 conversations of 25,000 participants in 20 engagements, and a
// coordinator of their team.
func benchData(b *testing.B) string {
	b.Helper()
	dir := filepath.Join(os.TempDir(), "fieldnotes-console-bench-"+benchVersion)
	if _, err := os.Stat(filepath.Join(dir, "done")); err == nil {
		return dir
	}
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	st, err := sqlite.Open(dir, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if err := st.CreateTeam(ctx, store.Team{Name: "bench", CreatedAt: 1}); err != nil {
		b.Fatal(err)
	}
	u, err := api.NewUser("bench@example.org", password, store.RoleCoordinator, []string{"bench"}, auth.TestArgon2, 1)
	if err != nil {
		b.Fatal(err)
	}
	if err := st.CreateUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	id := func(kind, n int) string { return fmt.Sprintf("00000000-0000-7000-8%03d-%012d", kind, n) }
	var counter uint64
	ts := time.Now().Add(-400 * 24 * time.Hour).UnixMilli()
	var ops []syncengine.Op
	op := func(coll, rec, kind, field string, v any) {
		raw, _ := json.Marshal(v)
		counter++
		ts++
		ops = append(ops, syncengine.Op{Node: "bench", Counter: counter, TS: ts, Collection: coll, Record: rec, Kind: kind, Field: field, Value: raw})
	}
	flush := func() {
		res, err := st.Apply(ctx, ops, syncengine.ApplyOptions{Hub: true, Team: "bench"})
		if err != nil || len(res.Rejected) > 0 {
			b.Fatalf("apply: %v %+v", err, res.Rejected)
		}
		ops = ops[:0]
	}
	langs := []string{"pa", "bn", "so", "pl", "ro", "en", "ar", "cy"}
	themes := []string{"transport", "opening_hours", "interpreters", "booking", "cost"}
	for e := range benchEngagements {
		op(schema.Engagement, id(1, e), schema.KindSet, "team", "bench")
		op(schema.Engagement, id(1, e), schema.KindSet, "title", fmt.Sprintf("Engagement %d", e))
		op(schema.Engagement, id(1, e), schema.KindSet, "venue_type", schema.VenueTypes[e%len(schema.VenueTypes)])
	}
	flush()
	for p := range benchParticipants {
		op(schema.Participant, id(2, p), schema.KindSet, "engagement", id(1, p%benchEngagements))
		op(schema.Consent, id(3, p), schema.KindSet, "participant", id(2, p))
		op(schema.Consent, id(3, p), schema.KindAdd, "scopes", schema.ScopeRecordViews)
		if len(ops) >= 20_000 {
			flush()
		}
	}
	flush()
	for c := range benchConversations {
		p := c % benchParticipants
		rec := id(4, c)
		op(schema.Conversation, rec, schema.KindSet, "participant", id(2, p))
		op(schema.Conversation, rec, schema.KindSet, "engagement", id(1, p%benchEngagements))
		op(schema.Conversation, rec, schema.KindSet, "consent", id(3, p))
		op(schema.Conversation, rec, schema.KindSet, "started_at", ts+int64(c)*60_000)
		op(schema.Conversation, rec, schema.KindAdd, "locales", langs[c%len(langs)])
		op(schema.Conversation, rec, schema.KindAdd, "themes", themes[c%len(themes)])
		if c%10 == 0 {
			op(schema.Conversation, rec, schema.KindSet, "review_state", schema.ReviewApproved)
		}
		if len(ops) >= 20_000 {
			flush()
		}
	}
	flush()
	if err := os.WriteFile(filepath.Join(dir, "done"), nil, 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkConversationList: server time of the conversation table (a page of 50, with
// the total count) over 200,000 conversations, the read model warm; run with
//
//	go test ./server/console -run '^$' -bench ConversationList -benchtime 20x
//
// x_scan is the page's time over one Scan of the 200,000 conversation records measured
// in the same run (what a list without the in-memory read model would do at least).
func BenchmarkConversationList(b *testing.B) {
	dir := benchData(b)
	st, err := sqlite.Open(dir, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	deps := api.Deps{Store: st, Log: zerolog.Nop(), Now: time.Now, DataDir: dir}
	coord, err := coordapi.New(deps, filepath.Join(dir, "coord.db"))
	if err != nil {
		b.Fatal(err)
	}
	c, err := console.New(console.Deps{Store: st, Sessions: st, Audit: st, Coord: coord, Argon2: auth.TestArgon2, Log: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	e := echo.New()
	c.Mount(e)
	c.Warm(context.Background())

	// Sign in once; every request carries the session cookie.
	srv := httptest.NewServer(e)
	defer srv.Close()
	cl := &client{e: &env{t: &testing.T{}, srv: srv}, t: b, http: (&env{srv: srv}).client("").http}
	cl.signIn("bench")

	start := time.Now()
	n := 0
	st.Scan(context.Background(), schema.Conversation, []string{"bench"}, func(syncengine.Record) error { n++; return nil })
	scan := time.Since(start)
	if n != benchConversations {
		b.Fatalf("%d conversations stored", n)
	}

	for _, q := range []struct{ name, query string }{
		{"FirstPage", ""},
		{"Filtered", "engagement=00000000-0000-7000-8001-000000000003&language=pl&theme=transport&review=received&from=2025-01-01"},
		{"Search", "q=00000000-0000-7000-8004-00000019"},
		{"LastPage", "page=4000"},
	} {
		b.Run(q.name, func(b *testing.B) {
			req := func() {
				r := httptest.NewRequest("GET", "/console/conversations?"+q.query, nil)
				for _, ck := range cl.http.Jar.Cookies(mustURL(srv.URL + "/console/")) {
					r.AddCookie(ck)
				}
				w := httptest.NewRecorder()
				e.ServeHTTP(w, r)
				if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `id="conversation-count"`) {
					b.Fatalf("status %d", w.Code)
				}
				io.Discard.Write(w.Body.Bytes())
			}
			req()
			cpu0 := cpuTime()
			b.ResetTimer()
			for b.Loop() {
				req()
			}
			// The machine may be shared: CPU time per page (the process's, GC included)
			// says what a page costs when the server has the cores to itself.
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(scan), "x_scan")
		})
	}
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func mustURL(s string) *url.URL {
	u, _ := url.Parse(s)
	return u
}
