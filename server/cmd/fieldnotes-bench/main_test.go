package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/fieldnotes/fieldnotes/server/store/postgres/pgtest"
)

// TestBenchSmall runs the harness untimed at a small size so it never rots: 3 tablets ×
// 5 conversations pushed to a real hub and to the PouchDB peer, 2 fresh tablets pulling
// everything, nothing lost or duplicated and the hashes equal on both sides. The PouchDB
// side needs node and npm (npm ci reaches only the npm registry); without them it is
// skipped, unless FIELDNOTES_REQUIRE_NODE=1 (CI), then it fails.
func TestBenchSmall(t *testing.T) {
	systems := []string{"fieldnotes", "pouchdb"}
	_, nodeErr := exec.LookPath("node")
	_, npmErr := exec.LookPath("npm")
	if nodeErr != nil || npmErr != nil {
		if os.Getenv("FIELDNOTES_REQUIRE_NODE") == "1" {
			t.Fatal("node and npm are needed for the PouchDB peer (FIELDNOTES_REQUIRE_NODE=1)")
		}
		systems = systems[:1]
		defer t.Skip("node or npm not found: the PouchDB side did not run (set FIELDNOTES_REQUIRE_NODE=1 to fail instead)")
	}
	var out bytes.Buffer
	results, err := bench(options{devices: 3, conversations: 5, pullers: 2, pushOps: 500, pullOps: 40, runs: 1,
		systems: systems, pouchMode: "minimumForPouchDB"}, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
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
	if !strings.Contains(out.String(), "ratio") && len(systems) == 2 {
		t.Error("no ratio printed")
	}
}

// TestBenchChecksCatchALoss makes sure the checks can fail: a puller that misses an op
// and one that sees an op twice are both counted.
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
