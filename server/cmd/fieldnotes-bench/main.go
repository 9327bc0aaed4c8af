// Command fieldnotes-bench is the server's load harness. It starts the real server
// in-process on a loopback port with a fresh data directory, enrols simulated devices
// with enrolment codes, has them all push conversations at once (participant + consent +
// conversation with 10 answers: 24 ops each), then has fresh devices pull everything at
// once, checks that every pushed op came back exactly once to every puller and that a
// replica built from the pulled ops has the server's state hash, and prints throughput
// against the PouchDB + express-pouchdb baseline measured on this machine.
//
//	go run ./server/cmd/fieldnotes-bench [-devices 50] [-conversations 200] [-batch 1,20] [-pullers 5] [-cpuprofile cpu.prof]
//	    [-stores sqlite,postgres,postgres2 -database-url postgres://…]
//
// -stores runs the same workload on each store in one run and prints them side by side:
// sqlite (the default, a data directory), postgres (one server on the database given by
// -database-url or FIELDNOTES_DATABASE_URL, in a fresh schema per run) and postgres2 (two
// server instances on that database: devices push to one and pull from the other).
//
// The device side is plain net/http and the syncengine wire types, as a tablet would
// speak the protocol.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/google/uuid"
)

// The baseline: PouchDB + express-pouchdb moved the same workload on this machine at
// these rates; the targets are three times that.
const (
	baselinePush = 869.0
	baselinePull = 1082.0
	targetPush   = 2600.0
	targetPull   = 3300.0
	opsPerConv   = 24
)

type options struct {
	devices, conversations, pullers, pullLimit int
	batches                                    []int
	cpuprofile                                 string
	keep                                       bool
	stores                                     []string // sqlite, postgres, postgres2
	databaseURL                                string
	store                                      string // the one being run
}

func main() {
	var o options
	var batches string
	flag.IntVar(&o.devices, "devices", 50, "devices pushing at once")
	flag.IntVar(&o.conversations, "conversations", 200, "conversations each device pushes")
	flag.StringVar(&batches, "batch", "1,20", "conversations per push request (20 ≈ the client SDK's 500-op push batch); a comma list runs each on a fresh server")
	flag.IntVar(&o.pullers, "pullers", 5, "fresh devices pulling everything at once")
	flag.IntVar(&o.pullLimit, "pull-limit", 5000, "ops per pull page")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write CPU profiles of the push and pull phases to FILE.push and FILE.pull (the last -batch run)")
	flag.BoolVar(&o.keep, "keep", false, "keep the data directories")
	var stores string
	flag.StringVar(&stores, "stores", "sqlite", "stores to run on, a comma list of sqlite, postgres (one instance), postgres2 (two instances, push to one, pull from the other)")
	flag.StringVar(&o.databaseURL, "database-url", os.Getenv("FIELDNOTES_DATABASE_URL"), "PostgreSQL for -stores postgres/postgres2 (each run gets a fresh schema, dropped after)")
	flag.Parse()
	for _, st := range strings.Split(stores, ",") {
		switch st = strings.TrimSpace(st); st {
		case "sqlite", "postgres", "postgres2":
			if st != "sqlite" && o.databaseURL == "" {
				fmt.Fprintln(os.Stderr, "-stores "+st+" needs -database-url or FIELDNOTES_DATABASE_URL")
				os.Exit(2)
			}
			o.stores = append(o.stores, st)
		default:
			fmt.Fprintln(os.Stderr, "bad -stores:", st)
			os.Exit(2)
		}
	}
	for _, b := range strings.Split(batches, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(b))
		if err != nil || n < 1 {
			fmt.Fprintln(os.Stderr, "bad -batch:", b)
			os.Exit(2)
		}
		o.batches = append(o.batches, n)
	}
	fmt.Printf("fieldnotes-bench: %d devices × %d conversations (%d ops each), then %d pullers; GOMAXPROCS=%d\n",
		o.devices, o.conversations, opsPerConv, o.pullers, runtime.GOMAXPROCS(0))
	ok := true
	for _, st := range o.stores {
		o.store = st
		for _, b := range o.batches {
			if !run(o, b) {
				ok = false
			}
		}
	}
	printSummary()
	if !ok {
		os.Exit(1)
	}
}

// profile starts a CPU profile of one phase when asked for; the returned func stops it.
func profile(o options, batch int, phase string) func() {
	if o.cpuprofile == "" || batch != o.batches[len(o.batches)-1] {
		return func() {}
	}
	f, err := os.Create(o.cpuprofile + "." + phase)
	if err != nil {
		fail(err)
	}
	pprof.StartCPUProfile(f)
	return func() { pprof.StopCPUProfile(); f.Close() }
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "fieldnotes-bench:", err)
	os.Exit(1)
}

// client speaks the protocol over loopback.
type client struct {
	base string
	http *http.Client
}

func (c *client) do(method, path, token string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != 200 {
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	if out == nil {
		return nil
	}
	if raw, ok := out.(*[]byte); ok {
		*raw = b
		return nil
	}
	return json.Unmarshal(b, out)
}

func (c *client) post(path, token string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return c.do("POST", path, token, b, out)
}

type tokens struct {
	AccessToken string `json:"access_token"`
	NodeID      string `json:"node_id"`
	DeviceID    string `json:"device_id"`
}

type device struct {
	tokens
	counter uint64
}

func (d *device) op(coll, rec, kind, field string, v any) syncengine.Op {
	d.counter++
	b, _ := json.Marshal(v)
	return syncengine.Op{Node: d.NodeID, Counter: d.counter, TS: time.Now().UnixMilli(), TC: 0, Collection: coll, Record: rec, Kind: kind, Field: field, Value: b}
}

var (
	locales = []string{"en", "pa", "ur", "pl", "cy", "bn", "so", "ro", "gu", "ar"}
	ages    = []string{"16_24", "25_34", "35_44", "45_54", "55_64", "65_74", "75_plus", "prefer_not_to_say"}
	prompts = []string{"services_used", "what_works", "what_could_be_better", "barriers", "gp_access_rating",
		"needed_interpreter", "hear_back_preference", "anything_else", "travel_time", "pharmacy_use"}
	answers = []string{
		"The GP surgery is hard to reach by phone in the morning; I gave up twice last month.",
		"The pharmacist explains things in Punjabi, which helps my mother a lot.",
		"We need evening appointments, I work shifts at the warehouse.",
		"Interpreters are booked but often do not turn up, so my son translates.",
	}
)

// conversation is one realistic capture: a participant, their consent, and a
// conversation with ten answers — 24 ops.
func (d *device) conversation(eng string, i int) []syncengine.Op {
	p, c, v := uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String()
	loc := locales[i%len(locales)]
	ops := []syncengine.Op{
		d.op("participant", p, "set", "engagement", eng),
		d.op("participant", p, "set", "preferred_locale", loc),
		d.op("participant", p, "set", "eq_age_band", ages[i%len(ages)]),
		d.op("participant", p, "add", "communities", "Sparkhill Punjabi community"),

		d.op("consent", c, "set", "participant", p),
		d.op("consent", c, "set", "engagement", eng),
		d.op("consent", c, "set", "statement_id", "fieldnotes_standard"),
		d.op("consent", c, "set", "statement_version", 1),
		d.op("consent", c, "set", "statement_locale", loc),
		d.op("consent", c, "add", "scopes", "record_views"),
		d.op("consent", c, "set", "method", "verbal"),

		d.op("conversation", v, "set", "engagement", eng),
		d.op("conversation", v, "set", "participant", p),
		d.op("conversation", v, "set", "consent", c),
	}
	for j, pr := range prompts {
		ops = append(ops, d.op("conversation", v, "set", "answer."+pr, map[string]any{
			"text": answers[(i+j)%len(answers)], "prompt_locale": loc, "answer_locale": loc, "translation_en": answers[(i+j)%len(answers)],
		}))
	}
	return ops
}

func run(o options, batch int) bool {
	fmt.Printf("\n== %s, batch: %d conversation(s) per push (%d ops per request)\n", o.store, batch, batch*opsPerConv)
	dir, err := os.MkdirTemp("", "fieldnotes-bench-")
	if err != nil {
		fail(err)
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		fail(err)
	}
	defer logf.Close()
	srvs, cleanup := startServers(o, dir, logf)
	defer cleanup()

	tr := &http.Transport{MaxIdleConns: 4 * o.devices, MaxIdleConnsPerHost: 4 * o.devices, IdleConnTimeout: time.Minute}
	cs := make([]*client, len(srvs))
	for i, srv := range srvs {
		cs[i] = &client{base: srv.URL(), http: &http.Client{Transport: tr, Timeout: 5 * time.Minute}}
	}
	c := cs[0]
	// With two instances, device i pushes to instance i%2 and pulls from the other.
	pushTo := func(i int) *client { return cs[i%len(cs)] }
	pullFrom := func(i int) *client { return cs[(i+1)%len(cs)] }

	// Set up: a team, a coordinator, an engagement, devices enrolled with codes.
	var admin, coord tokens
	must(c.post("/v1/auth/login", "", map[string]string{"email": "admin@bench.local", "password": "bench-admin-password"}, &admin))
	must(c.post("/v1/teams", admin.AccessToken, map[string]string{"name": "bench"}, nil))
	must(c.post("/v1/users", admin.AccessToken, map[string]any{"email": "coord@bench.local", "password": "bench-coord-password", "role": "coordinator", "teams": []string{"bench"}}, nil))
	must(c.post("/v1/auth/login", "", map[string]string{"email": "coord@bench.local", "password": "bench-coord-password"}, &coord))
	co := &device{tokens: coord}
	eng := uuid.Must(uuid.NewV7()).String()
	engOps := []syncengine.Op{co.op("engagement", eng, "set", "team", "bench"), co.op("engagement", eng, "set", "title", "Bench engagement"),
		co.op("engagement", eng, "set", "venue_type", "community_centre")}
	var pr syncengine.PushResponse
	must(c.post("/v1/sync/push", coord.AccessToken, syncengine.PushRequest{Ops: engOps}, &pr))
	if pr.Accepted != len(engOps) {
		fail(fmt.Errorf("engagement push: %+v", pr))
	}
	enrol := func(n int, label string) []*device {
		out := make([]*device, n)
		var wg sync.WaitGroup
		for i := range out {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var code struct{ Code string }
				must(c.post("/v1/devices/enrolment-codes", coord.AccessToken, map[string]string{"team": "bench", "label": label}, &code))
				d := &device{}
				must(c.post("/v1/devices/enrol", "", map[string]string{"code": code.Code, "label": fmt.Sprintf("%s %d", label, i)}, &d.tokens))
				out[i] = d
			}()
		}
		wg.Wait()
		return out
	}
	t0 := time.Now()
	pushers := enrol(o.devices, "pusher")
	pullers := enrol(o.pullers, "puller")
	fmt.Printf("enrolled %d devices in %v\n", o.devices+o.pullers, time.Since(t0).Round(time.Millisecond))

	// Build every request body first: the harness measures the server, not encoding.
	bodies := make([][][]byte, o.devices)
	for i, d := range pushers {
		for k := 0; k < o.conversations; k += batch {
			var ops []syncengine.Op
			for j := k; j < min(k+batch, o.conversations); j++ {
				ops = append(ops, d.conversation(eng, i*o.conversations+j)...)
			}
			b, _ := json.Marshal(syncengine.PushRequest{Ops: ops})
			bodies[i] = append(bodies[i], b)
		}
	}

	// Push: every device at once.
	stop := profile(o, batch, "push")
	var mu sync.Mutex
	var lat []time.Duration
	var pushErr error
	start := time.Now()
	var wg sync.WaitGroup
	for i, d := range pushers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, len(bodies[i]))
			for _, b := range bodies[i] {
				t := time.Now()
				var res syncengine.PushResponse
				err := pushTo(i).do("POST", "/v1/sync/push", d.AccessToken, b, &res)
				mine = append(mine, time.Since(t))
				if err == nil && (res.Duplicates != 0 || len(res.Rejected) != 0 || res.Accepted*0 != 0) {
					err = fmt.Errorf("push: %d accepted, %d duplicates, %d rejected", res.Accepted, res.Duplicates, len(res.Rejected))
				}
				if err != nil {
					mu.Lock()
					pushErr = err
					mu.Unlock()
					return
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	pushWall := time.Since(start)
	stop()
	if pushErr != nil {
		fail(pushErr)
	}
	convs := o.devices * o.conversations
	totalOps := convs * opsPerConv
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	pushRate := float64(convs) / pushWall.Seconds()
	fmt.Printf("push: %d conversations (%d ops) in %d requests, %v\n", convs, totalOps, len(lat), pushWall.Round(time.Millisecond))
	fmt.Printf("  %.0f conversations/s, %.0f ops/s; latency p50 %v, p99 %v\n", pushRate, float64(totalOps)/pushWall.Seconds(),
		pct(0.50).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond))
	fmt.Printf("  vs PouchDB %.0f/s: %.2f×; target %.0f/s: %s\n", baselinePush, pushRate/baselinePush, targetPush, verdict(pushRate >= targetPush))

	// Pull: fresh devices, everything, at once.
	type pulled struct {
		seen  map[string][]byte // node -> counter bitmap
		dups  int
		n     int
		pages [][]byte
		err   error
	}
	results := make([]*pulled, len(pullers))
	stop = profile(o, batch, "pull")
	start = time.Now()
	for i, d := range pullers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &pulled{seen: map[string][]byte{}}
			results[i] = r
			cursor := ""
			for {
				var raw []byte
				if r.err = pullFrom(i).do("GET", fmt.Sprintf("/v1/sync/pull?cursor=%s&limit=%d", cursor, o.pullLimit), d.AccessToken, nil, &raw); r.err != nil {
					return
				}
				var page struct {
					Ops []struct {
						Node    string `json:"node"`
						Counter uint64 `json:"counter"`
					} `json:"ops"`
					Cursor string `json:"cursor"`
					More   bool   `json:"more"`
				}
				if r.err = json.Unmarshal(raw, &page); r.err != nil {
					return
				}
				for _, op := range page.Ops {
					bm := r.seen[op.Node]
					for uint64(len(bm))*8 <= op.Counter {
						bm = append(bm, make([]byte, len(bm)+64)...)
					}
					if bm[op.Counter/8]&(1<<(op.Counter%8)) != 0 {
						r.dups++
					}
					bm[op.Counter/8] |= 1 << (op.Counter % 8)
					r.seen[op.Node] = bm
					r.n++
				}
				if i == 0 {
					r.pages = append(r.pages, raw)
				}
				if !page.More {
					return
				}
				cursor = page.Cursor
			}
		}()
	}
	wg.Wait()
	pullWall := time.Since(start)
	stop()

	// Check: every pushed op came back exactly once to every puller.
	ok := true
	want := totalOps + len(engOps)
	for i, r := range results {
		if r.err != nil {
			fmt.Printf("  puller %d: %v\n", i, r.err)
			ok = false
			continue
		}
		missing := 0
		for _, d := range append(pushers, co) {
			bm := r.seen[d.NodeID]
			for k := uint64(1); k <= d.counter; k++ {
				if uint64(len(bm))*8 <= k || bm[k/8]&(1<<(k%8)) == 0 {
					missing++
				}
			}
		}
		if r.n != want || r.dups != 0 || missing != 0 {
			fmt.Printf("  puller %d: %d ops, want %d; %d duplicated, %d missing\n", i, r.n, want, r.dups, missing)
			ok = false
		}
	}
	pullRate := float64(convs*len(pullers)) / pullWall.Seconds()
	fmt.Printf("pull: %d devices × %d ops (limit %d per page) in %v\n", len(pullers), want, o.pullLimit, pullWall.Round(time.Millisecond))
	fmt.Printf("  %.0f conversations/s, %.0f ops/s pulled in total\n", pullRate, float64(want*len(pullers))/pullWall.Seconds())
	fmt.Printf("  vs PouchDB %.0f/s: %.2f×; target %.0f/s: %s\n", baselinePull, pullRate/baselinePull, targetPull, verdict(pullRate >= targetPull))

	// Check: a replica built from what was pulled has the server's state hash.
	local, err := syncengine.Open(filepath.Join(dir, "puller.db"), syncengine.Options{})
	if err != nil {
		fail(err)
	}
	defer local.Close()
	t0 = time.Now()
	applied := 0
	for _, raw := range results[0].pages {
		var page syncengine.PullResponse
		must(json.Unmarshal(raw, &page))
		if _, err := local.Apply(context.Background(), page.Ops, syncengine.ApplyOptions{Team: "bench"}); err != nil {
			fail(err)
		}
		applied += len(page.Ops)
	}
	applyWall := time.Since(t0)
	hash, n, err := local.StateHash(context.Background(), nil)
	must(err)
	var state syncengine.StateResponse
	must(c.do("GET", "/v1/sync/state", pullers[0].AccessToken, nil, &state))
	same := hash == state.Hash && n == state.Records
	for _, other := range cs[1:] { // every instance reports the same state
		var st syncengine.StateResponse
		must(other.do("GET", "/v1/sync/state", pullers[0].AccessToken, nil, &st))
		same = same && st == state
	}
	summary = append(summary, summaryRow{store: o.store, instances: len(cs), batch: batch, push: pushRate, pull: pullRate,
		pushP50: pct(0.50), ok: ok && same})
	fmt.Printf("check: lost 0, duplicated 0 per puller: %s; state hash %s… (%d records) equal on a fresh replica: %s (it applied %.0f ops/s)\n",
		verdict(ok), state.Hash[:12], state.Records, verdict(same), float64(applied)/applyWall.Seconds())
	return ok && same
}

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "NOT MET"
}

func must(err error) {
	if err != nil {
		fail(err)
	}
}
