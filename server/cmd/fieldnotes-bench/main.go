// Command fieldnotes-bench measures the hub against PouchDB + express-pouchdb, side by side
// in the same run, with the same workload and a client that behaves like a tablet.
//
// Each system is started fresh: Fieldnotes' server in-process on a loopback port, the
// PouchDB peer (testdata/peers/pouchdb, `npm ci` on first use) as a node process. Then
// 50 tablets push 200 conversations each at once (a participant, a consent and a
// conversation with ten answers: 24 ops, or 3 PouchDB documents), in the SDK's 500-op
// requests; then 5 fresh tablets pull everything at once in the SDK's 2,000-op pages.
// PouchDB's tablets speak PouchDB 9's replication protocol as db.replicate.to/from sends
// it (pouchrep.go: _revs_diff, _bulk_docs new_edits=false, _changes?style=all_docs,
// _bulk_get, checkpoints), in batches of the same number of conversations;
// -pouchdb-client bulk gives them the cheapest requests instead (_bulk_docs, and
// _changes?include_docs pages). Every tablet has its own Go default transport (gzip
// accepted), its request bodies are encoded before the clock starts (those that depend
// on an answer are put together from pre-encoded documents), and pulled documents are
// kept as raw JSON per op or document while the clock runs.
//
// After each system's run it checks that every puller got every op (document) exactly
// once, and that what the pullers hold hashes equal to the source: for Fieldnotes, a
// fresh replica built from the pulled ops against the server's state hash; for PouchDB,
// the pulled documents against the pushed ones. It prints both systems' rates in
// conversations per second and the ratios; with -runs N, the median and range.
//
//	go run ./server/cmd/fieldnotes-bench [-runs 3] [-devices 50] [-conversations 200] [-pullers 5]
//	    [-push-ops 500] [-pull-ops 2000] [-systems fieldnotes,pouchdb] [-cpuprofile cpu.prof]
//	    [-database-url postgres://…] [-pouchdb-client replicate|bulk] [-pouchdb-mode minimumForPouchDB|fullCouchDB]
//
// -systems also takes fieldnotes-pg (the hub on PostgreSQL, -database-url or
// FIELDNOTES_DATABASE_URL, a fresh schema per run) and fieldnotes-pg2 (two hub instances on
// that database: each tablet pushes to one and pulls from the other); the summary gives
// their rates against the hub on SQLite.
//
// It exits non-zero if a check fails (lost, duplicated, hash), not if a bar is missed.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"time"
)

// The bar (DESIGN.md): the hub moves conversations at least three times as fast as PouchDB.
const bar = 3.0

type options struct {
	devices, conversations, pullers int
	pushOps, pullOps                int
	runs                            int
	systems                         []string
	pouchDir, pouchMode             string
	pouchClient                     string // replicate or bulk
	cpuprofile                      string
	keep                            bool
	databaseURL                     string // for fieldnotes-pg and fieldnotes-pg2
}

// system is one side of the comparison. setup and check are not timed.
type system interface {
	name() string
	pid() int // the server's process if it runs in its own, else 0
	setup(w *workload) error
	push() (phase, error)
	pull() (phase, error)
	check() (check, error)
	close(keep bool)
}

func main() {
	var o options
	var systems string
	flag.IntVar(&o.devices, "devices", 50, "tablets pushing at once")
	flag.IntVar(&o.conversations, "conversations", 200, "conversations each tablet pushes")
	flag.IntVar(&o.pullers, "pullers", 5, "fresh tablets pulling everything at once")
	flag.IntVar(&o.pushOps, "push-ops", 500, "ops per push request (the SDK's batch); PouchDB gets the same conversations per _bulk_docs")
	flag.IntVar(&o.pullOps, "pull-ops", 2000, "ops per pull page (the SDK's page); PouchDB gets the same conversations per _changes page")
	flag.IntVar(&o.runs, "runs", 1, "runs of every system, alternating; the summary gives the median and range")
	flag.StringVar(&systems, "systems", "fieldnotes,pouchdb,pouchdb-record", "systems to run, in this order: fieldnotes, pouchdb (a document per change), pouchdb-record (a document per record), fieldnotes-pg, fieldnotes-pg2")
	flag.StringVar(&o.pouchDir, "pouchdb", "", "the PouchDB peer's directory (default: testdata/peers/pouchdb in this module)")
	flag.StringVar(&o.pouchMode, "pouchdb-mode", "minimumForPouchDB", "express-pouchdb's mode: minimumForPouchDB (sync routes only) or fullCouchDB (its default)")
	flag.StringVar(&o.pouchClient, "pouchdb-client", "replicate", "the PouchDB tablets' client: replicate (PouchDB 9's replication protocol, as db.replicate.to/from sends it) or bulk (_bulk_docs and _changes?include_docs only)")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write CPU profiles of Fieldnotes' push and pull phases (last run) to FILE.push and FILE.pull")
	flag.BoolVar(&o.keep, "keep", false, "keep the data directories")
	flag.StringVar(&o.databaseURL, "database-url", os.Getenv("FIELDNOTES_DATABASE_URL"), "PostgreSQL for -systems fieldnotes-pg and fieldnotes-pg2 (each run gets a fresh schema, dropped after)")
	flag.Parse()
	o.systems = strings.Split(systems, ",")
	if _, err := bench(o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fieldnotes-bench:", err)
		os.Exit(1)
	}
}

// result is one system's run.
type result struct {
	push, pull phase
	check      check
}

// bench runs every system o.runs times and prints each run and a summary. It returns the
// results by system; the error is set if anything failed to run or a check failed.
func bench(o options, out io.Writer) (map[string][]result, error) {
	if o.devices < 1 || o.conversations < 1 || o.pullers < 1 || o.pushOps < 1 || o.pullOps < 1 || o.runs < 1 {
		return nil, errors.New("-devices, -conversations, -pullers, -push-ops, -pull-ops and -runs must be positive")
	}
	for _, s := range o.systems {
		pouchSystem := docsPerConv[s] > 0
		if s != "fieldnotes" && !pouchSystem && pgSystems[s] == 0 {
			return nil, fmt.Errorf("unknown system %q (fieldnotes, pouchdb, pouchdb-record, fieldnotes-pg, fieldnotes-pg2)", s)
		}
		if pgSystems[s] > 0 && o.databaseURL == "" {
			return nil, fmt.Errorf("%s needs -database-url or FIELDNOTES_DATABASE_URL", s)
		}
		if pouchSystem && o.pouchMode != "minimumForPouchDB" && o.pouchMode != "fullCouchDB" {
			return nil, fmt.Errorf("-pouchdb-mode %q: minimumForPouchDB or fullCouchDB", o.pouchMode)
		}
		if pouchSystem && o.pouchClient != "replicate" && o.pouchClient != "bulk" {
			return nil, fmt.Errorf("-pouchdb-client %q: replicate or bulk", o.pouchClient)
		}
		if pouchSystem && o.pouchDir == "" {
			dir, err := findPeer()
			if err != nil {
				return nil, err
			}
			o.pouchDir = dir
		}
	}
	w0 := newWorkload(o)
	fmt.Fprintf(out, "fieldnotes-bench: %d tablets × %d conversations (%d ops each) pushed at once, %d ops per request;\n",
		o.devices, o.conversations, opsPerConv, o.pushOps)
	fmt.Fprintf(out, "  then %d fresh tablets pull everything at once, %d ops per page; GOMAXPROCS=%d\n",
		o.pullers, o.pullOps, runtime.GOMAXPROCS(0))
	for _, s := range o.systems {
		if docsPerConv[s] > 0 {
			fmt.Fprintf(out, "  %s: %s; %d documents a conversation, %d per push batch, %d per pull batch\n",
				s, pouchDocModels[s], docsPerConv[s], w0.pushDocs(s), w0.pullDocs(s))
		}
	}
	if slices.ContainsFunc(o.systems, func(s string) bool { return docsPerConv[s] > 0 }) {
		fmt.Fprintf(out, "  PouchDB client %s: %s; express-pouchdb mode %s\n", o.pouchClient, pouchClients[o.pouchClient], o.pouchMode)
	}
	results := map[string][]result{}
	var failed error
	for run := 1; run <= o.runs; run++ {
		fmt.Fprintf(out, "\n== run %d of %d\n", run, o.runs)
		w := newWorkload(o) // fresh ids each run; the same for every system in the run
		for _, name := range o.systems {
			var s system
			if name == "fieldnotes" {
				s = &hub{}
			} else if n := pgSystems[name]; n > 0 {
				s = &hub{system: name, instances: n, databaseURL: o.databaseURL}
			} else {
				s = &pouch{system: name, peerDir: o.pouchDir, mode: o.pouchMode, client: o.pouchClient}
			}
			r, err := runOne(s, w, o, run == o.runs)
			if err != nil {
				return results, fmt.Errorf("%s: %w", name, err)
			}
			results[name] = append(results[name], r)
			printRun(out, name, r)
			if !r.check.ok() {
				failed = fmt.Errorf("%s: a check failed", name)
			}
		}
	}
	printSummary(out, o, results)
	return results, failed
}

func runOne(s system, w *workload, o options, last bool) (r result, err error) {
	defer s.close(o.keep)
	if err := s.setup(w); err != nil {
		return r, fmt.Errorf("setup: %w", err)
	}
	prof := func(phase string) func() {
		if o.cpuprofile == "" || !last || s.name() != "fieldnotes" {
			return func() {}
		}
		f, err := os.Create(o.cpuprofile + "." + phase)
		if err != nil {
			return func() {}
		}
		pprof.StartCPUProfile(f)
		return func() { pprof.StopCPUProfile(); f.Close() }
	}
	runtime.GC() // the other system's garbage is not this one's to collect
	stop, cpu, wire := prof("push"), cpuTime(s.pid()), wireBytes.Load()
	r.push, err = s.push()
	r.push.cpu, r.push.wire = cpuTime(s.pid())-cpu, wireBytes.Load()-wire
	stop()
	if err != nil {
		return r, fmt.Errorf("push: %w", err)
	}
	runtime.GC()
	stop, cpu, wire = prof("pull"), cpuTime(s.pid()), wireBytes.Load()
	r.pull, err = s.pull()
	r.pull.cpu, r.pull.wire = cpuTime(s.pid())-cpu, wireBytes.Load()-wire
	stop()
	if err != nil {
		return r, fmt.Errorf("pull: %w", err)
	}
	if r.check, err = s.check(); err != nil {
		return r, fmt.Errorf("check: %w", err)
	}
	return r, nil
}

// pouchDocModels says what each PouchDB data model is.
var pouchDocModels = map[string]string{
	"pouchdb":        "a document per change (PouchDB's \"every doc is a delta\": concurrent changes to a record merge, as the hub's ops do)",
	"pouchdb-record": "a document per record (participant, consent, conversation: the fewest documents, but concurrent changes to a record conflict)",
}

// pouchClients says what each PouchDB client sends.
var pouchClients = map[string]string{
	"replicate": "PouchDB 9's replicator (push: _revs_diff, _bulk_docs new_edits=false, checkpoint GET+PUT per batch; pull: _changes?style=all_docs, _bulk_get?revs=true&latest=true, info, checkpoint GET+PUT per batch)",
	"bulk":      "the cheapest requests (push: _bulk_docs; pull: _changes?include_docs=true)",
}

func printRun(out io.Writer, name string, r result) {
	unit := "ops"
	if docsPerConv[name] > 0 {
		unit = "documents"
	}
	if r.push.batches > 0 { // PouchDB's replicator: several requests per batch
		fmt.Fprintf(out, "%-14s push %6.0f conversations/s  (%d %s in %d batches, %d requests, %v, CPU %v; batch p50 %v, p99 %v)\n", name, r.push.rate(),
			r.push.units, unit, r.push.batches, r.push.requests, r.push.wall.Round(time.Millisecond), r.push.cpu.Round(10*time.Millisecond),
			r.push.pct(0.5).Round(100*time.Microsecond), r.push.pct(0.99).Round(100*time.Microsecond))
		fmt.Fprintf(out, "%-14s pull %6.0f conversations/s  (%d %s in %d batches, %d requests, %.1f MB on the wire, %v, CPU %v; batch p50 %v, p99 %v)\n", "", r.pull.rate(),
			r.pull.units, unit, r.pull.batches, r.pull.requests, float64(r.pull.wire)/1e6, r.pull.wall.Round(time.Millisecond), r.pull.cpu.Round(10*time.Millisecond),
			r.pull.pct(0.5).Round(100*time.Microsecond), r.pull.pct(0.99).Round(100*time.Microsecond))
		fmt.Fprintf(out, "%-14s check: lost %d, duplicated %d; %s: %s\n", "", r.check.lost, r.check.duplicated, r.check.detail, verdict(r.check.ok(), "equal", "NOT EQUAL"))
		return
	}
	fmt.Fprintf(out, "%-14s push %6.0f conversations/s  (%d %s in %d requests, %v, CPU %v; request p50 %v, p99 %v)\n", name, r.push.rate(),
		r.push.units, unit, r.push.requests, r.push.wall.Round(time.Millisecond), r.push.cpu.Round(10*time.Millisecond),
		r.push.pct(0.5).Round(100*time.Microsecond), r.push.pct(0.99).Round(100*time.Microsecond))
	fmt.Fprintf(out, "%-14s pull %6.0f conversations/s  (%d %s in %d pages, %.1f MB on the wire, %v, CPU %v; page p50 %v, p99 %v)\n", "", r.pull.rate(),
		r.pull.units, unit, r.pull.requests, float64(r.pull.wire)/1e6, r.pull.wall.Round(time.Millisecond), r.pull.cpu.Round(10*time.Millisecond),
		r.pull.pct(0.5).Round(100*time.Microsecond), r.pull.pct(0.99).Round(100*time.Microsecond))
	fmt.Fprintf(out, "%-14s check: lost %d, duplicated %d; %s: %s\n", "", r.check.lost, r.check.duplicated, r.check.detail, verdict(r.check.ok(), "equal", "NOT EQUAL"))
}

// printSummary gives each system's rates and, with both systems, the ratio of each run
// (the two systems ran under the same conditions): median and range.
func printSummary(out io.Writer, o options, results map[string][]result) {
	fmt.Fprintf(out, "\n== summary over %d run(s): median [min–max]\n", o.runs)
	rates := func(name string, f func(result) float64) []float64 {
		var v []float64
		for _, r := range results[name] {
			v = append(v, f(r))
		}
		return v
	}
	push := func(r result) float64 { return r.push.rate() }
	pull := func(r result) float64 { return r.pull.rate() }
	for _, name := range o.systems {
		fmt.Fprintf(out, "%-14s push %s conversations/s   pull %s conversations/s\n", name, spread(rates(name, push), "%.0f"), spread(rates(name, pull), "%.0f"))
	}
	printStoreRatios(out, o, results)
	for _, peer := range o.systems {
		if docsPerConv[peer] > 0 {
			printRatios(out, results["fieldnotes"], results[peer], peer)
		}
	}
}

// printRatios compares Fieldnotes with one PouchDB system, run by run.
func printRatios(out io.Writer, hub, peer []result, name string) {
	if len(hub) == 0 || len(hub) != len(peer) {
		return
	}
	ratio := func(f func(result) float64) []float64 {
		var v []float64
		for i := range hub {
			v = append(v, f(hub[i])/f(peer[i]))
		}
		return v
	}
	pr := ratio(func(r result) float64 { return r.push.rate() })
	lr := ratio(func(r result) float64 { return r.pull.rate() })
	fmt.Fprintf(out, "vs %-14s push %s×   pull %s×   (bar %.0f×: push %s, pull %s)\n", name, spread(pr, "%.2f"), spread(lr, "%.2f"), bar,
		verdict(median(pr) >= bar, "met", "NOT MET"), verdict(median(lr) >= bar, "met", "NOT MET"))
	// The same comparison in CPU time (servers and clients), which other load on the
	// machine disturbs much less than wall time: a check on a noisy run, not the bar.
	pc := ratio(func(r result) float64 { return float64(r.push.conversations) / r.push.cpu.Seconds() })
	lc := ratio(func(r result) float64 { return float64(r.pull.conversations) / r.pull.cpu.Seconds() })
	if median(pc) > 0 && median(lc) > 0 {
		fmt.Fprintf(out, "   %-14s push %s×   pull %s×   (conversations per CPU-second)\n", "by CPU", spread(pc, "%.2f"), spread(lc, "%.2f"))
	}
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func spread(v []float64, f string) string {
	if len(v) == 1 {
		return fmt.Sprintf(f, v[0])
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return fmt.Sprintf(f+" ["+f+"–"+f+"]", median(s), s[0], s[len(s)-1])
}

func verdict(ok bool, yes, no string) string {
	if ok {
		return yes
	}
	return no
}
