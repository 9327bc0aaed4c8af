package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/fieldnotes/fieldnotes/server/store/postgres/pgtest"
)

// needNode says whether the PouchDB side can run: node and npm (npm ci reaches only the
// npm registry). Without them it returns false, or fails the test when
// FIELDNOTES_REQUIRE_NODE=1 (CI).
func needNode(t *testing.T) bool {
	_, nodeErr := exec.LookPath("node")
	_, npmErr := exec.LookPath("npm")
	if nodeErr != nil || npmErr != nil {
		if os.Getenv("FIELDNOTES_REQUIRE_NODE") == "1" {
			t.Fatal("node and npm are needed for the PouchDB peer (FIELDNOTES_REQUIRE_NODE=1)")
		}
		return false
	}
	return true
}

// TestBenchSmall runs the harness untimed at a small size so it never rots: 3 tablets ×
// 5 conversations pushed to a real hub and to the PouchDB peer, with each PouchDB client
// (PouchDB's replicator, then the cheap bulk requests), 2 fresh tablets pulling
// everything, nothing lost or duplicated and the hashes equal on both sides. Without node
// and npm the PouchDB side is skipped, unless FIELDNOTES_REQUIRE_NODE=1 (CI), then it
// fails.
func TestBenchSmall(t *testing.T) {
	clients := []string{"replicate", "bulk"}
	systems := []string{"fieldnotes", "pouchdb", "pouchdb-record"}
	if !needNode(t) {
		systems, clients = systems[:1], clients[:1]
		defer t.Skip("node or npm not found: the PouchDB side did not run (set FIELDNOTES_REQUIRE_NODE=1 to fail instead)")
	}
	for _, client := range clients {
		var out bytes.Buffer
		results, err := bench(options{devices: 3, conversations: 5, pullers: 2, pushOps: 500, pullOps: 40, runs: 1,
			systems: systems, pouchMode: "minimumForPouchDB", pouchClient: client}, &out)
		t.Log("\n" + out.String())
		if err != nil {
			t.Fatal(client, err)
		}
		for _, name := range systems {
			rs := results[name]
			if len(rs) != 1 {
				t.Fatalf("%s: %d results", name, len(rs))
			}
			r := rs[0]
			if r.check.lost != 0 || r.check.duplicated != 0 || r.check.hash == "" || r.check.hash != r.check.wantHash {
				t.Errorf("%s: lost %d, duplicated %d, hash %q want %q", name, r.check.lost, r.check.duplicated, r.check.hash, r.check.wantHash)
			}
			if r.push.conversations != 15 || r.pull.conversations != 30 {
				t.Errorf("%s: pushed %d conversations, pulled %d; want 15 and 30", name, r.push.conversations, r.pull.conversations)
			}
			if r.pull.requests < 2*2 {
				t.Errorf("%s: %d pull pages; the small page size should make several per puller", name, r.pull.requests)
			}
		}
		if len(systems) == 1 {
			continue
		}
		for _, peer := range systems[1:] {
			if !strings.Contains(out.String(), "vs "+peer+" ") {
				t.Errorf("no ratio against %s printed", peer)
			}
		}
		if !strings.Contains(out.String(), "PouchDB client "+client+":") {
			t.Errorf("the output does not say the PouchDB client %s ran", client)
		}
		// A document per change: the 24 ops of each of the 15 conversations, and the
		// engagement, to each of the 2 pullers.
		if r := results["pouchdb"][0]; r.push.units != 15*24 || r.pull.units != 2*(15*24+1) {
			t.Errorf("pouchdb (a document per change): pushed %d documents, pulled %d; want 360 and 722", r.push.units, r.pull.units)
		}
		r := results["pouchdb-record"][0]
		if client == "replicate" {
			// Push: per tablet GET /db/, GET /, the checkpoint's GET, then one batch (15
			// documents, fewer than the 62 a batch takes): _revs_diff, _bulk_docs and the
			// checkpoint's GET and PUT. Pull: 46 documents (the engagement too) in batches of
			// 5: per puller GET /db/, GET /, GET /db/, 10 pages and the empty one, and per
			// batch _bulk_get, info and the checkpoint's GET and PUT.
			if r.push.batches != 3 || r.push.requests != 3*7 {
				t.Errorf("replicate push: %d batches, %d requests; want 3 and 21", r.push.batches, r.push.requests)
			}
			if r.pull.batches != 2*10 || r.pull.requests != 2*(3+11+4*10) || r.pull.units != 2*46 {
				t.Errorf("replicate pull: %d batches, %d requests, %d documents; want 20, 108, 92", r.pull.batches, r.pull.requests, r.pull.units)
			}
		}
	}
}

// TestBenchChecksCatchALoss makes sure the checks can fail: a puller that misses an op
// and one that sees an op twice are both counted; and, on the real PouchDB peer with the
// replicate client, a pulled document dropped, one pulled twice and one changed after
// the pull are each caught by check().
func TestBenchChecksCatchALoss(t *testing.T) {
	c := check{lost: 1, hash: "a", wantHash: "a"}
	if c.ok() {
		t.Error("a lost op passed the check")
	}
	c = check{duplicated: 1, hash: "a", wantHash: "a"}
	if c.ok() {
		t.Error("a duplicated op passed the check")
	}
	c = check{hash: "a", wantHash: "b"}
	if c.ok() {
		t.Error("different hashes passed the check")
	}
	if !(check{hash: "a", wantHash: "a"}).ok() {
		t.Error("a clean run failed the check")
	}
	if !needNode(t) {
		t.Skip("node or npm not found: the PouchDB replicate client's checks did not run (set FIELDNOTES_REQUIRE_NODE=1 to fail instead)")
	}
	peer, err := findPeer()
	if err != nil {
		t.Fatal(err)
	}
	p := &pouch{system: "pouchdb-record", peerDir: peer, mode: "minimumForPouchDB", client: "replicate"}
	defer p.close(false)
	w := newWorkload(options{devices: 2, conversations: 3, pullers: 2, pushOps: 48, pullOps: 40})
	if err := p.setup(w); err != nil {
		t.Fatal(err)
	}
	if _, err := p.push(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.pull(); err != nil {
		t.Fatal(err)
	}
	if c, err := p.check(); err != nil || !c.ok() {
		t.Fatalf("clean replicate run: %+v, %v", c, err)
	}
	clean := [][]json.RawMessage{append([]json.RawMessage(nil), p.pulled[0]...), append([]json.RawMessage(nil), p.pulled[1]...)}
	p.pulled[1] = p.pulled[1][1:] // puller 2 misses a document
	if c, err := p.check(); err != nil || c.lost != 1 || c.ok() {
		t.Errorf("a lost document: %+v, %v", c, err)
	}
	p.pulled[1] = append(clean[1], clean[1][3]) // puller 2 gets one twice
	if c, err := p.check(); err != nil || c.duplicated != 1 || c.ok() {
		t.Errorf("a duplicated document: %+v, %v", c, err)
	}
	changed := bytes.Replace(clean[0][4], []byte(`"type":"`), []byte(`"type":"x`), 1)
	p.pulled = [][]json.RawMessage{append(append([]json.RawMessage(nil), clean[0][:4]...), append([]json.RawMessage{changed}, clean[0][5:]...)...), clean[1]}
	if c, err := p.check(); err != nil || c.lost != 0 || c.duplicated != 0 || c.ok() {
		t.Errorf("a changed document: %+v, %v", c, err)
	}
}

// TestPouchRevLikePouchDB checks the revs and the replicated documents the replicate
// client sends against PouchDB 9's own: the expected values are what PouchDB 9.0.0
// gave for the same document put into a local database and read back with
// bulkGet({revs: true}) (non-ASCII text, a character outside the BMP, and characters
// JSON.stringify leaves alone but Go would escape as HTML).
func TestPouchRevLikePouchDB(t *testing.T) {
	doc := map[string]any{"_id": "p-1", "type": "participant", "n": 1,
		"answers": map[string]any{"barriers": map[string]any{"text": "Tłumacz <nie> przyszedł & ਪੰਜਾਬੀ 🙂"}}}
	td, err := newTabletDoc(doc)
	if err != nil {
		t.Fatal(err)
	}
	if td.rev != "1-feb572193e0c98d5115d300b2bde66b6" {
		t.Errorf("rev %s, PouchDB's 1-feb572193e0c98d5115d300b2bde66b6", td.rev)
	}
	want := `{"answers":{"barriers":{"text":"Tłumacz <nie> przyszedł & ਪੰਜਾਬੀ 🙂"}},"n":1,"type":"participant","_id":"p-1",` +
		`"_rev":"1-feb572193e0c98d5115d300b2bde66b6","_revisions":{"start":1,"ids":["feb572193e0c98d5115d300b2bde66b6"]}}`
	if string(td.body) != want {
		t.Errorf("document\n %s\nPouchDB's\n %s", td.body, want)
	}
	// The checkpoint's id: base64 md5 of the source's then the target's id, / and +
	// replaced (generateReplicationId; the value is node's binaryMd5 of the same string).
	if id := replicationID("tablet-15", "http://127.0.0.1:5984/bench/"); id != "_local/HwylSD.Pzta_oMj3L4IlDQ==" {
		t.Errorf("replication id %q, PouchDB's _local/HwylSD.Pzta_oMj3L4IlDQ==", id)
	}
	if got := encodeURIComponent("ab.C_9==/+ é"); got != "ab.C_9%3D%3D%2F%2B%20%C3%A9" {
		t.Errorf("encodeURIComponent: %s", got)
	}
}

// TestPouchReplicateFailsOnAFailedEntry: a _bulk_docs (new_edits false) or _bulk_get
// answer with an error in any entry fails the run, as it fails PouchDB's replication.
func TestPouchReplicateFailsOnAFailedEntry(t *testing.T) {
	if err := bulkDocsErrors([]byte(`[]`)); err != nil {
		t.Errorf("an empty _bulk_docs answer (all written): %v", err)
	}
	if err := bulkDocsErrors([]byte(`[{"id":"d1","error":"forbidden","reason":"no"}]`)); err == nil || !strings.Contains(err.Error(), "d1") {
		t.Errorf("a forbidden write passed: %v", err)
	}
	if err := bulkDocsErrors([]byte(`{"error":"bad_request"}`)); err == nil {
		t.Error("a malformed _bulk_docs answer passed")
	}
	docs, err := bulkGetDocs([]byte(`{"results":[{"id":"a","docs":[{"ok":{"_id":"a","_rev":"1-x"}}]},{"id":"b","docs":[{"ok":{"_id":"b","_rev":"1-y"}}]}]}`))
	if err != nil || len(docs) != 2 || string(docs[1]) != `{"_id":"b","_rev":"1-y"}` {
		t.Errorf("a clean _bulk_get answer: %s, %v", docs, err)
	}
	if _, err := bulkGetDocs([]byte(`{"results":[{"id":"a","docs":[{"ok":{"_id":"a"}}]},{"id":"b","docs":[{"error":{"id":"b","rev":"1-y","error":"not_found","reason":"missing"}}]}]}`)); err == nil || !strings.Contains(err.Error(), "b") {
		t.Errorf("a missing document passed: %v", err)
	}
}

// TestBenchPostgresSmall runs the harness untimed on the hub on SQLite, on PostgreSQL and
// on two instances sharing one PostgreSQL: nothing lost or duplicated, every hash equal
// to the server's (and between the instances), the same hash on every store for the same
// workload, and the rates printed against SQLite's.
func TestBenchPostgresSmall(t *testing.T) {
	url := pgtest.URL(t)
	var out bytes.Buffer
	systems := []string{"fieldnotes", "fieldnotes-pg", "fieldnotes-pg2"}
	results, err := bench(options{devices: 3, conversations: 5, pullers: 2, pushOps: 500, pullOps: 40, runs: 1,
		systems: systems, databaseURL: url}, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range systems {
		r := results[name][0]
		if r.check.lost != 0 || r.check.duplicated != 0 || r.check.hash == "" || r.check.hash != r.check.wantHash {
			t.Errorf("%s: lost %d, duplicated %d, hash %q want %q", name, r.check.lost, r.check.duplicated, r.check.hash, r.check.wantHash)
		}
		if r.check.hash != results["fieldnotes"][0].check.hash {
			t.Errorf("%s: hash %s, SQLite's %s for the same workload", name, r.check.hash, results["fieldnotes"][0].check.hash)
		}
	}
	if !strings.Contains(out.String(), "fieldnotes-pg2 push") || !strings.Contains(out.String(), "against the hub on SQLite") {
		t.Error("no PostgreSQL ratios printed")
	}
}
