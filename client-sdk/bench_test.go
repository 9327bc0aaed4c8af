package sdk

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/google/uuid"
	"github.com/ncruces/go-sqlite3/driver"
)

// Benchmarks for the device quality bars (DESIGN.md): capture, open, pull.
//
//	go test ./client-sdk -run '^$' -bench . -benchtime 1x   (fixtures are built once per run)

// BenchmarkCaptureConversation: consent + a 10-answer conversation, every step its own
// committed transaction, as in the field, on a plain store (modernc) and on one
// encrypted at rest (Adiantum over ncruces/go-sqlite3) side by side, with ncruces's
// driver unencrypted between them to tell the driver's cost from the cipher's. Reports
// p50-ms and p99-ms per conversation, and step-p50-us/step-p99-us per committed step.
//
//	go test ./client-sdk -run '^$' -bench CaptureConversation -count 3
func BenchmarkCaptureConversation(b *testing.B) {
	for _, store := range []struct {
		name string
		opts []Option
	}{
		{"plain", nil},
		// ncruces's driver without encryption: what the other SQLite costs by itself.
		{"ncruces-plain", []Option{func(o *options) { o.openDB = func(dsn string) (*sql.DB, error) { return driver.Open(dsn) } }}},
		{"encrypted", []Option{WithStoreKey(bytes.Repeat([]byte{0x5a}, 32))}},
	} {
		b.Run(store.name, func(b *testing.B) { benchCapture(b, store.opts...) })
	}
}

func benchCapture(b *testing.B, opts ...Option) {
	ctx := context.Background()
	d := MustOpenDevice(b, opts...)
	eng := mustEngagement(b, d)
	prompts := []string{"p01", "p02", "p03", "p04", "p05", "p06", "p07", "p08", "p09", "p10"}
	lat := make([]time.Duration, 0, b.N)
	steps := make([]time.Duration, 0, 12*b.N)
	step := func(start time.Time) time.Time {
		now := time.Now()
		steps = append(steps, now.Sub(start))
		return now
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		c, err := d.RecordConsent(ctx, ConsentInput{Engagement: eng, StatementLocale: "pa", Scopes: []string{"record_views", "quote"}, Method: "verbal", RecordedBy: "worker-1"})
		if err != nil {
			b.Fatal(err)
		}
		t := step(start)
		conv, err := d.StartConversation(ctx, ConversationInput{Consent: c.ID, Locales: []string{"pa"}})
		if err != nil {
			b.Fatal(err)
		}
		t = step(t)
		for _, p := range prompts {
			if err := d.Answer(ctx, conv, AnswerInput{PromptID: p, Text: "ਡਾਕਟਰ ਚੰਗੇ ਹਨ ਪਰ ਮੁਲਾਕਾਤ ਲੈਣਾ ਔਖਾ ਹੈ", PromptLocale: "pa", TranslationEN: "The doctors are good but getting an appointment is hard"}); err != nil {
				b.Fatal(err)
			}
			t = step(t)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	reportPercentiles(b, lat)
	sort.Slice(steps, func(i, j int) bool { return steps[i] < steps[j] })
	b.ReportMetric(float64(steps[len(steps)/2].Microseconds()), "step-p50-us")
	b.ReportMetric(float64(steps[min(len(steps)-1, len(steps)*99/100)].Microseconds()), "step-p99-us")
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// The 100,000-op fixtures, built once per test binary run and removed by TestMain.
var (
	fixtureOnce sync.Once
	fixtureDir  string
	fixtureErr  error
)

const fixtureOps = 100_000

// genOps makes n ops of a realistic shape: engagements, consents, conversations with
// answers, as one field node would write them.
func genOps(node string, n int) []syncengine.Op {
	ops := make([]syncengine.Op, 0, n)
	ts := int64(t0)
	var counter uint64
	add := func(coll, rec, kind, field, value string) {
		counter++
		ts++
		ops = append(ops, syncengine.Op{Node: node, Counter: counter, TS: ts, Collection: coll, Record: rec, Kind: kind, Field: field, Value: []byte(value)})
	}
	eng := uuid.Must(uuid.NewV7()).String()
	add(schema.Engagement, eng, "set", "team", `"`+testTeam+`"`)
	add(schema.Engagement, eng, "set", "venue_type", `"market"`)
	for len(ops) < n {
		c, conv := uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String()
		add(schema.Consent, c, "set", "engagement", `"`+eng+`"`)
		add(schema.Consent, c, "add", "scopes", `"record_views"`)
		add(schema.Consent, c, "set", "method", `"verbal"`)
		add(schema.Conversation, conv, "set", "engagement", `"`+eng+`"`)
		add(schema.Conversation, conv, "set", "consent", `"`+c+`"`)
		for i := 0; i < 10; i++ {
			add(schema.Conversation, conv, "set", fmt.Sprintf("answer.p%02d", i), `{"answer_locale":"pa","prompt_locale":"pa","text":"ਡਾਕਟਰ ਚੰਗੇ ਹਨ ਪਰ ਮੁਲਾਕਾਤ ਲੈਣਾ ਔਖਾ ਹੈ","translation_en":"The doctors are good but getting an appointment is hard"}`)
		}
		add(schema.Conversation, conv, "append", "notes", `"busy stall"`)
	}
	return ops[:n]
}

// fixtures builds a hub store and a device store each holding 100,000 ops.
func fixtures(b *testing.B) (hubPath, devDir string) {
	fixtureOnce.Do(func() {
		fixtureDir, fixtureErr = os.MkdirTemp("", "fieldnotes-bench-")
		if fixtureErr != nil {
			return
		}
		ctx := context.Background()
		ops := genOps("0193a4c2-0000-7000-8000-00000000f001", fixtureOps)
		hub, err := syncengine.Open(filepath.Join(fixtureDir, "hub.db"), syncengine.Options{Now: func() int64 { return t0 + 1_000_000 }})
		if err != nil {
			fixtureErr = err
			return
		}
		dev, err := Open(filepath.Join(fixtureDir, "device"))
		if err != nil {
			fixtureErr = err
			return
		}
		dev.SetLocalIdentity(ctx, testNode, testTeam)
		for i := 0; i < len(ops); i += 5000 {
			batch := ops[i:min(i+5000, len(ops))]
			if _, err := hub.Apply(ctx, batch, syncengine.ApplyOptions{Hub: true, Team: testTeam}); err != nil {
				fixtureErr = err
				return
			}
			if _, err := dev.Store().Apply(ctx, batch, syncengine.ApplyOptions{Team: testTeam}); err != nil {
				fixtureErr = err
				return
			}
		}
		fixtureErr = errorsJoin(hub.Close(), dev.Close())
	})
	if fixtureErr != nil {
		b.Fatal(fixtureErr)
	}
	return filepath.Join(fixtureDir, "hub.db"), filepath.Join(fixtureDir, "device")
}

func errorsJoin(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

// BenchmarkOpenStore100k opens (and closes) a device store holding 100,000 ops.
func BenchmarkOpenStore100k(b *testing.B) {
	_, dir := fixtures(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, err := Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := d.Identity(); err != nil { // first real read
			b.Fatal(err)
		}
		b.StopTimer()
		d.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/open")
}

// BenchmarkPull100k: a fresh device pulls 100,000 ops from the test hub over loopback.
// Reports ops/s and the peak Go heap during the pull (sampled every 5 ms).
func BenchmarkPull100k(b *testing.B) {
	hubPath, _ := fixtures(b)
	ctx := context.Background()
	var total time.Duration
	var peak uint64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		hubDB := filepath.Join(dir, "hub.db")
		copyFile(b, hubPath, hubDB)
		// Configured as the server configures its store (reads memory-mapped).
		st, err := syncengine.Open(hubDB, syncengine.Hub(syncengine.Options{}))
		if err != nil {
			b.Fatal(err)
		}
		hub := &testHub{tb: b, store: st, team: testTeam, codes: map[string]bool{}, access: map[string]*hubDevice{}, refresh: map[string]*hubDevice{}}
		srv := &http.Server{Handler: hub}
		hub.srv = startServer(b, srv, hub)
		d := mustEnrol(b, hub, filepath.Join(dir, "device"), WithClock(time.Now))
		runtime.GC()
		stop := make(chan struct{})
		var sampled atomic.Uint64
		go sampleHeap(stop, &sampled)
		b.StartTimer()
		start := time.Now()
		rep, err := d.SyncReport(ctx, nil)
		total += time.Since(start)
		b.StopTimer()
		close(stop)
		if err != nil || rep.Pulled != fixtureOps {
			b.Fatalf("pulled %d: %v", rep.Pulled, err)
		}
		peak = max(peak, sampled.Load())
		d.Close()
		hub.srv.Close()
		st.Close()
	}
	b.ReportMetric(float64(fixtureOps*b.N)/total.Seconds(), "ops/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
}

func sampleHeap(stop chan struct{}, peak *atomic.Uint64) {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	var ms runtime.MemStats
	for {
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse > peak.Load() {
			peak.Store(ms.HeapInuse)
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

func copyFile(b *testing.B, from, to string) {
	data, err := os.ReadFile(from)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		b.Fatal(err)
	}
}
