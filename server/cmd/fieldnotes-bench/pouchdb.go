package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// pouch is the baseline: PouchDB 9 behind express-pouchdb (testdata/peers/pouchdb), run
// as its own node process on a loopback port, given the same conversations as one
// document per record. Its tablets speak PouchDB's replication protocol (client
// "replicate", pouchrep.go) or, with client "bulk", the cheapest requests that move the
// same documents: _bulk_docs to push, _changes?include_docs to pull.
type pouch struct {
	system  string // pouchdb (a document per change) or pouchdb-record (per record)
	w       *workload
	peerDir string
	mode    string // express-pouchdb's mode
	client  string // "replicate" or "bulk"
	dir     string
	cmd     *exec.Cmd
	stdin   io.Closer
	base    string
	bodies  [][][]byte                // bulk: each tablet's _bulk_docs bodies
	tablets []*pushTablet             // replicate: each tablet's documents as its PouchDB holds them
	pushed  map[string]map[string]any // every document pushed, by id, for the hash check
	pulled  [][]json.RawMessage       // every puller's _changes results (bulk) or documents (replicate)
	clients []*http.Client
}

// The replicate client's batch sizes (batch_size, the changes feed's limit) are the
// workload's, not PouchDB's default 100 (9780), so that both systems move the same
// conversations per request: w.pushDocs(p.system) documents a push batch (62 for the SDK's 500-op
// requests; fewer than 100, so PouchDB makes more round trips than its default would) and
// w.pullDocs() a pull batch (250 for the SDK's 2,000-op pages; more than 100, which only
// favours PouchDB: fewer round trips, each checkpointed once).

func (p *pouch) name() string { return p.system }

func (p *pouch) pid() int { return p.cmd.Process.Pid }

// findPeer is testdata/peers/pouchdb in the module that holds the working directory.
func findPeer() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			peer := filepath.Join(dir, "testdata", "peers", "pouchdb")
			if _, err := os.Stat(filepath.Join(peer, "package.json")); err != nil {
				return "", fmt.Errorf("no PouchDB peer at %s (give -pouchdb DIR)", peer)
			}
			return peer, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the fieldnotes module: give -pouchdb DIR")
		}
		dir = parent
	}
}

// npmCI installs the peer's locked dependencies when node_modules is missing or older
// than the lockfile. Only the npm registry is reached; install scripts are not run
// (leveldown ships prebuilt binaries in its package).
func npmCI(peerDir string, log io.Writer) error {
	lock, err := os.Stat(filepath.Join(peerDir, "package-lock.json"))
	if err != nil {
		return err
	}
	if inst, err := os.Stat(filepath.Join(peerDir, "node_modules", ".package-lock.json")); err == nil && !inst.ModTime().Before(lock.ModTime()) {
		return nil
	}
	fmt.Fprintf(log, "npm ci in %s (first use)\n", peerDir)
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts")
	cmd.Dir = peerDir
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm ci in %s: %w", peerDir, err)
	}
	return nil
}

func (p *pouch) setup(w *workload) error {
	p.w = w
	if err := npmCI(p.peerDir, os.Stderr); err != nil {
		return err
	}
	var err error
	if p.dir, err = os.MkdirTemp("", "fieldnotes-bench-pouchdb-"); err != nil {
		return err
	}
	if err := p.start(); err != nil {
		return err
	}
	admin := newTablet()
	if _, err := do(admin, "PUT", p.base+"/bench", "", nil); err != nil {
		return err
	}
	p.pushed = map[string]map[string]any{}
	eng := map[string]any{"_id": w.engagement, "type": "engagement", "team": "bench", "title": "Bench engagement", "venue_type": "community_centre"}
	if err := p.bulk(admin, []map[string]any{eng}); err != nil {
		return err
	}
	p.bodies = make([][][]byte, len(w.devices))
	p.tablets = make([]*pushTablet, len(w.devices))
	for i, convs := range w.devices {
		var docs []map[string]any
		for _, c := range convs {
			docs = append(docs, p.docs(w.engagement, c)...)
		}
		if p.client == "replicate" {
			if p.tablets[i], err = newPushTablet(docs, w.pushDocs(p.system)); err != nil {
				return err
			}
			continue
		}
		for k := 0; k < len(docs); k += w.pushDocs(p.system) {
			b, err := json.Marshal(map[string]any{"docs": docs[k:min(k+w.pushDocs(p.system), len(docs))]})
			if err != nil {
				return err
			}
			p.bodies[i] = append(p.bodies[i], b)
		}
	}
	p.clients = make([]*http.Client, max(len(w.devices), w.pullers))
	for i := range p.clients {
		p.clients[i] = newTablet()
	}
	return nil
}

// start runs node server.js and waits for the URL it prints.
func (p *pouch) start() error {
	logf, err := os.Create(filepath.Join(p.dir, "peer.log"))
	if err != nil {
		return err
	}
	p.cmd = exec.Command("node", "server.js", filepath.Join(p.dir, "db"), p.mode)
	p.cmd.Dir = p.peerDir
	p.cmd.Stderr = logf
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stdin, err := p.cmd.StdinPipe() // the peer exits when this closes
	if err != nil {
		return err
	}
	p.stdin = stdin
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("start the PouchDB peer: %w", err)
	}
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- s
		io.Copy(logf, stdout)
	}()
	select {
	case s := <-line:
		var hello struct{ URL string }
		if err := json.Unmarshal([]byte(s), &hello); err != nil || hello.URL == "" {
			log, _ := os.ReadFile(logf.Name())
			return fmt.Errorf("the PouchDB peer did not start: %q %s", s, log)
		}
		p.base = hello.URL
		return nil
	case <-time.After(time.Minute):
		return errors.New("the PouchDB peer did not start within a minute")
	}
}

// docs are one conversation as PouchDB documents, one per record.
func (p *pouch) docs(eng string, c conversation) []map[string]any {
	var docs []map[string]any
	if p.system == "pouchdb" {
		docs = changeDocs(eng, c)
	} else {
		docs = recordDocs(eng, c)
	}
	for _, d := range docs {
		p.keep(d)
	}
	return docs
}

// recordDocs are one conversation as one document per record.
func recordDocs(eng string, c conversation) []map[string]any {
	loc := c.locale()
	answers := map[string]any{}
	for j, pr := range prompts {
		answers[pr] = map[string]any{"text": c.answer(j), "prompt_locale": loc, "answer_locale": loc, "translation_en": c.answer(j)}
	}
	return []map[string]any{
		{"_id": c.participant, "type": "participant", "engagement": eng, "preferred_locale": loc, "eq_age_band": c.age(),
			"communities": []any{"Sparkhill Punjabi community"}},
		{"_id": c.consent, "type": "consent", "participant": c.participant, "engagement": eng, "statement_id": "fieldnotes_standard",
			"statement_version": 1, "statement_locale": loc, "scopes": []any{"record_views"}, "method": "verbal"},
		{"_id": c.conversationID, "type": "conversation", "engagement": eng, "participant": c.participant, "consent": c.consent, "answers": answers},
	}
}

// changeDocs are one conversation as one document per change, the hub's 24 ops (hub.go)
// with the same values: the record and field changed, how, and when.
func changeDocs(eng string, c conversation) []map[string]any {
	loc := c.locale()
	p, k, v := c.participant, c.consent, c.conversationID
	var docs []map[string]any
	change := func(coll, rec, kind, field string, value any) {
		n := len(docs)
		docs = append(docs, map[string]any{"_id": fmt.Sprintf("%s-%02d", v, n), "type": "change", "collection": coll, "record": rec,
			"kind": kind, "field": field, "value": value, "ts": int64(1764547200000) + int64(c.n)*1000 + int64(n)})
	}
	change("participant", p, "set", "engagement", eng)
	change("participant", p, "set", "preferred_locale", loc)
	change("participant", p, "set", "eq_age_band", c.age())
	change("participant", p, "add", "communities", "Sparkhill Punjabi community")
	change("consent", k, "set", "participant", p)
	change("consent", k, "set", "engagement", eng)
	change("consent", k, "set", "statement_id", "fieldnotes_standard")
	change("consent", k, "set", "statement_version", 1)
	change("consent", k, "set", "statement_locale", loc)
	change("consent", k, "add", "scopes", "record_views")
	change("consent", k, "set", "method", "verbal")
	change("conversation", v, "set", "engagement", eng)
	change("conversation", v, "set", "participant", p)
	change("conversation", v, "set", "consent", k)
	for j, pr := range prompts {
		change("conversation", v, "set", "answer."+pr, map[string]any{
			"text": c.answer(j), "prompt_locale": loc, "answer_locale": loc, "translation_en": c.answer(j)})
	}
	return docs
}

// keep records a pushed document as JSON will bring it back (numbers as float64).
func (p *pouch) keep(d map[string]any) {
	b, _ := json.Marshal(d)
	var back map[string]any
	json.Unmarshal(b, &back)
	p.pushed[d["_id"].(string)] = back
}

func (p *pouch) bulk(c *http.Client, docs []map[string]any) error {
	for _, d := range docs {
		p.keep(d)
	}
	b, err := json.Marshal(map[string]any{"docs": docs})
	if err != nil {
		return err
	}
	return p.send(c, b)
}

// send posts one _bulk_docs body; every document must come back ok.
func (p *pouch) send(c *http.Client, body []byte) error {
	b, err := do(c, "POST", p.base+"/bench/_bulk_docs", "", body)
	if err != nil {
		return err
	}
	var res []struct {
		OK    bool   `json:"ok"`
		ID    string `json:"id"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return err
	}
	for _, r := range res {
		if !r.OK {
			return fmt.Errorf("_bulk_docs: %s: %s", r.ID, r.Error)
		}
	}
	if len(res) == 0 {
		return errors.New("_bulk_docs: empty answer")
	}
	return nil
}

func (p *pouch) push() (phase, error) {
	if p.client == "replicate" {
		ph, _, err := p.replicateAll(len(p.tablets), func(i int, r *pouchRemote, lat func(time.Duration)) ([]json.RawMessage, error) {
			return nil, p.tablets[i].push(r, lat)
		})
		ph.conversations = p.w.conversations()
		ph.units = ph.conversations * docsPerConv[p.system]
		return ph, err
	}
	ph, err := pushAll(p.bodies, func(i int, body []byte) error { return p.send(p.clients[i], body) })
	ph.conversations = p.w.conversations()
	ph.units = ph.conversations * docsPerConv[p.system]
	return ph, err
}

func (p *pouch) pull() (phase, error) {
	limit := p.w.pullDocs(p.system)
	if p.client == "replicate" {
		ph, got, err := p.replicateAll(p.w.pullers, func(i int, r *pouchRemote, lat func(time.Duration)) ([]json.RawMessage, error) {
			return pullTablet(r, limit, lat)
		})
		p.pulled = got
		for _, g := range got {
			ph.units += len(g)
		}
		ph.conversations = p.w.conversations() * p.w.pullers
		return ph, err
	}
	ph, got, err := pullAll(p.w.pullers, func(i int, since string) ([]json.RawMessage, string, bool, error) {
		if since == "" {
			since = "0"
		}
		b, err := do(p.clients[i], "GET", fmt.Sprintf("%s/bench/_changes?include_docs=true&since=%s&limit=%d", p.base, since, limit), "", nil)
		if err != nil {
			return nil, "", false, err
		}
		var page struct {
			Results []json.RawMessage `json:"results"`
			LastSeq json.RawMessage   `json:"last_seq"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			return nil, "", false, err
		}
		return page.Results, strings.Trim(string(page.LastSeq), `"`), len(page.Results) == limit, nil
	})
	p.pulled = got
	ph.conversations = p.w.conversations() * p.w.pullers
	return ph, err
}

// check counts, per puller, documents pushed but not pulled and documents pulled twice,
// and hashes each puller's documents (without _rev and _revisions) against the documents
// pushed.
func (p *pouch) check() (check, error) {
	c := check{wantHash: canonicalHash(p.pushed)}
	for i, results := range p.pulled {
		docs := map[string]map[string]any{}
		for _, raw := range results {
			var r struct {
				ID  string         `json:"id"`
				Doc map[string]any `json:"doc"`
			}
			if p.client == "replicate" { // the document itself
				if err := json.Unmarshal(raw, &r.Doc); err != nil {
					return c, err
				}
				r.ID, _ = r.Doc["_id"].(string)
			} else if err := json.Unmarshal(raw, &r); err != nil {
				return c, err
			}
			if _, ok := p.pushed[r.ID]; !ok {
				return c, fmt.Errorf("pulled a document nobody pushed: %s", r.ID)
			}
			if _, ok := docs[r.ID]; ok {
				c.duplicated++
			}
			docs[r.ID] = r.Doc
		}
		c.lost += len(p.pushed) - len(docs)
		h := canonicalHash(docs, "_rev", "_revisions")
		if i == 0 {
			c.hash = h
		} else if h != c.hash {
			c.hash = "pullers differ"
		}
	}
	c.detail = fmt.Sprintf("hash of the pulled documents %.12s…, of the pushed %.12s… (%d documents)", c.hash, c.wantHash, len(p.pushed))
	return c, nil
}

// replicateAll runs one replication per tablet, all at once, each with its own client,
// and times the whole; latencies are per batch (its requests and its checkpoint).
func (p *pouch) replicateAll(n int, run func(i int, r *pouchRemote, lat func(time.Duration)) ([]json.RawMessage, error)) (phase, [][]json.RawMessage, error) {
	var ph phase
	remotes := make([]*pouchRemote, n)
	lats := make([][]time.Duration, n)
	got := make([][]json.RawMessage, n)
	errs := make([]error, n)
	for i := range remotes {
		remotes[i] = &pouchRemote{c: p.clients[i], base: p.base, db: "bench"}
	}
	ready := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-ready
			got[i], errs[i] = run(i, remotes[i], func(d time.Duration) { lats[i] = append(lats[i], d) })
		}()
	}
	start := time.Now()
	close(ready)
	wg.Wait()
	ph.wall = time.Since(start)
	for i := range remotes {
		if errs[i] != nil {
			return ph, nil, errs[i]
		}
		ph.lat = append(ph.lat, lats[i]...)
		ph.requests += remotes[i].requests
		ph.batches += len(lats[i])
	}
	return ph, got, nil
}

func (p *pouch) close(keep bool) {
	if p.stdin != nil {
		p.stdin.Close()
	}
	if p.cmd != nil && p.cmd.Process != nil {
		done := make(chan struct{})
		go func() { p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
			<-done
		}
	}
	if p.dir != "" && !keep {
		os.RemoveAll(p.dir)
	}
}
