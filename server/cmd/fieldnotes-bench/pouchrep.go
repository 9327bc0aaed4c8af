package main

// The PouchDB side's default client (-pouchdb-client replicate): each tablet speaks
// PouchDB 9's replication protocol over HTTP exactly as `db.replicate.to(remote)` and
// `db.replicate.from(remote)` send it (issue 14 asks for a client that behaves like a
// tablet), keeping what it pulls as raw JSON per document instead of writing it to a local
// database, as the Fieldnotes side's tablets keep each page's ops as raw JSON.
//
// Line numbers are node_modules/pouchdb/lib/index.js of PouchDB 9.0.0 (testdata/peers/
// pouchdb), and the sequence was checked against a real PouchDB replication with every
// request logged. Where the replicator reads or writes the tablet's own database (the
// local changes feed, _revs_diff and _bulk_docs on a local target, the local checkpoint,
// info() of a local source) there is no request, and the tablet here has no database: it
// is left out, and where the local answer matters the answer a fresh tablet's database
// would give is used (noted below).
//
// One replication (replicate(), 9763):
//
//   - the http adapter's setup(), 6905–6917: GET /db/ (fetchJSON: Accept and Content-Type
//     application/json), once per remote database object;
//   - generateReplicationId, 9726: src.id() and target.id(); the remote's id() (6951) is
//     GET / (ourFetch: no headers), giving "<uuid><db>" or, when the root has no uuid (as
//     express-pouchdb's), the database URL (6961); the local one is the tablet's instance
//     uuid (5094). The id is "_local/" + base64(md5(src id + target id)) with / → . and
//     + → _ (9758), its path component escaped with encodeURIComponent (6716);
//   - getCheckpoint, 9524–9543: GET /db/_local/<id> when the remote is the target (push;
//     404 the first time, and a tablet without a checkpoint of its own starts at 0 either
//     way); when the remote is the source (pull) it reads the local target's checkpoint
//     first, which a fresh tablet does not have, so it starts at 0 with no request;
//   - createTask, 10197: src.info(), GET /db/ without headers (7081–7084) when the remote
//     is the source (pull);
//   - the changes feed, 10161 and 10211: since, limit = batch_size, style=all_docs,
//     return_docs; the http adapter (7641–7646) sends GET /db/_changes?style=all_docs&
//     since=S&limit=L (no feed, heartbeat or timeout for a one-off replication). It reads
//     ahead of the batches, at most batches_limit (10, 9781) waiting, each page one batch,
//     next since = the page's last seq (10114), until a page comes back empty; if nothing
//     is being processed then, it writes the checkpoint with that page's last_seq (10130);
//   - each batch in turn (startNextBatch, 9961): getDiffs (9926), target.revsDiff: POST
//     /db/_revs_diff {"<id>":["<rev>"],…} (7760) when the remote is the target; a fresh
//     local target misses every rev, so a pull asks for all of them; getBatchDocs (9950):
//     src.bulkGet with the missing revs (createBulkGetOpts, 9317): POST
//     /db/_bulk_get?revs=true&latest=true {"docs":[{"id","rev"}…]} (7008) when the remote is
//     the source, an entry with an error fails the batch (9365, 9879); writeDocs (9827):
//     target.bulkDocs({docs, new_edits: false}): POST /db/_bulk_docs (7388) with every doc
//     as the local database gives it back (its fields, then _id, _rev and _revisions
//     {start, ids}) when the remote is the target, an entry with an error fails it
//     (9847); finishBatch (9877): src.info() without waiting for it (9895: GET /db/ on a
//     remote source), then writeCheckpoint (9491): the target's, then the source's
//     checkpoint, each updateCheckpoint (9416): GET /db/_local/<id> (404 → a new document),
//     nothing more if its last_seq is already this one (9435), else the newest entry first
//     in a history of at most 5 (9413, 9445) and PUT /db/_local/<id>, again on 409 (9462).
//
// So a push (local → remote) is GET /db/, GET /, GET /db/_local/<id>, then per batch
// _revs_diff, _bulk_docs, GET and PUT of the checkpoint; a pull (remote → local) is GET
// /db/, GET /, GET /db/, then _changes pages read ahead and per batch _bulk_get, GET /db/,
// GET and PUT of the checkpoint.

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/google/uuid"
)

const (
	batchesLimit      = 10 // replicate(): opts.batches_limit || 10 (9781)
	checkpointHistory = 5  // CHECKPOINT_HISTORY_SIZE (9413)
)

// pouchRev is the rev a PouchDB database gives a new document on put (deterministic_revs,
// on by default, 2641): "1-" + md5 hex of JSON.stringify(doc) (788–795), the string
// hashed as 'binary', i.e. the low byte of each UTF-16 code unit (781). doc is the
// document as the tablet put it, its keys in the order given (Go's: sorted, _id first).
func pouchRev(docJSON []byte) string {
	sum := md5.Sum(binaryString(string(docJSON)))
	return "1-" + hex.EncodeToString(sum[:])
}

// binaryString is a JavaScript string as node's 'binary' (latin1) encoding gives it to
// a hash: the low byte of each UTF-16 code unit.
func binaryString(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u))
	}
	return b
}

// jsJSON encodes v as JSON.stringify would the same value: no HTML escaping.
func jsJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// encodeURIComponent is JavaScript's: everything but A–Z a–z 0–9 - _ . ! ~ * ' ( ) escaped.
func encodeURIComponent(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// tabletDoc is one document in a tablet's PouchDB: its rev, and its JSON as the tablet's
// database gives it back to the replicator (fields, _id, _rev, _revisions).
type tabletDoc struct {
	id, rev string
	body    []byte
}

// newTabletDoc computes, untimed, what the tablet's database holds after putting d.
func newTabletDoc(d map[string]any) (tabletDoc, error) {
	put, err := jsJSON(d)
	if err != nil {
		return tabletDoc{}, err
	}
	id := d["_id"].(string)
	rev := pouchRev(put)
	fields := make(map[string]any, len(d))
	for k, v := range d {
		if k != "_id" {
			fields[k] = v
		}
	}
	body, err := jsJSON(fields)
	if err != nil {
		return tabletDoc{}, err
	}
	tail, err := jsJSON(struct {
		ID        string `json:"_id"`
		Rev       string `json:"_rev"`
		Revisions struct {
			Start int      `json:"start"`
			IDs   []string `json:"ids"`
		} `json:"_revisions"`
	}{ID: id, Rev: rev, Revisions: struct {
		Start int      `json:"start"`
		IDs   []string `json:"ids"`
	}{1, []string{strings.TrimPrefix(rev, "1-")}}})
	if err != nil {
		return tabletDoc{}, err
	}
	body = body[:len(body)-1] // drop "}"
	if len(fields) > 0 {
		body = append(body, ',')
	}
	body = append(body, tail[1:]...)
	return tabletDoc{id: id, rev: rev, body: body}, nil
}

// pouchRemote is one tablet's view of the remote database: the http adapter's requests.
type pouchRemote struct {
	c        *http.Client
	base, db string // http://host:port and the database name
	requests int
	mu       sync.Mutex
}

// req sends one request; fetchJSON (6865–6873) sets Accept and Content-Type to
// application/json on every request it makes, ourFetch (GET / and info()) sets neither.
// It returns the status and body; statuses other than 2xx and those in ok are errors.
func (r *pouchRemote) req(method, path string, fetchJSON bool, body []byte, ok ...int) (int, []byte, error) {
	r.mu.Lock()
	r.requests++
	r.mu.Unlock()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, r.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if fetchJSON {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
	}
	res, err := r.c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(res.Body); err != nil {
		return 0, nil, err
	}
	if res.StatusCode/100 != 2 {
		for _, s := range ok {
			if res.StatusCode == s {
				return res.StatusCode, b.Bytes(), nil
			}
		}
		return res.StatusCode, nil, fmt.Errorf("%s %s: %d %.300s", method, path, res.StatusCode, b.Bytes())
	}
	return res.StatusCode, b.Bytes(), nil
}

// start is setup() (GET /db/) then id() (GET /): the remote's part of the replication id.
func (r *pouchRemote) start() (string, error) {
	if _, _, err := r.req("GET", "/"+r.db+"/", true, nil); err != nil {
		return "", err
	}
	// id() falls back to the database URL when the root's answer has no uuid (6961);
	// a failed request falls back the same way.
	remoteID := r.base + "/" + r.db + "/"
	if _, b, err := r.req("GET", "/", false, nil); err == nil {
		var root struct{ UUID string }
		if json.Unmarshal(b, &root) == nil && root.UUID != "" {
			remoteID = root.UUID + r.db
		}
	}
	return remoteID, nil
}

// replicationID is generateReplicationId (9726) for a replication without filter, doc_ids,
// selector or query_params: binaryMd5 (774–777) of the two ids, base64.
func replicationID(srcID, targetID string) string {
	sum := md5.Sum(binaryString(srcID + targetID))
	s := base64.StdEncoding.EncodeToString(sum[:])
	s = strings.ReplaceAll(strings.ReplaceAll(s, "/", "."), "+", "_")
	return "_local/" + s
}

// checkpointDoc is the checkpointer's document, its keys in the order PouchDB writes them.
type checkpointDoc struct {
	SessionID  string            `json:"session_id"`
	ID         string            `json:"_id"`
	History    []checkpointEntry `json:"history"`
	Replicator string            `json:"replicator"`
	Version    int               `json:"version"`
	LastSeq    json.RawMessage   `json:"last_seq,omitempty"`
	Rev        string            `json:"_rev,omitempty"`
}

type checkpointEntry struct {
	LastSeq   json.RawMessage `json:"last_seq"`
	SessionID string          `json:"session_id"`
}

// writeCheckpoint is updateCheckpoint (9416) on the remote database.
func (r *pouchRemote) writeCheckpoint(repID, session string, seq json.RawMessage) error {
	path := "/" + r.db + "/_local/" + encodeURIComponent(strings.TrimPrefix(repID, "_local/"))
	for {
		status, b, err := r.req("GET", path, true, nil, http.StatusNotFound)
		if err != nil {
			return err
		}
		doc := checkpointDoc{SessionID: session, ID: repID, History: []checkpointEntry{}, Replicator: "pouchdb", Version: 1}
		if status != http.StatusNotFound {
			if err := json.Unmarshal(b, &doc); err != nil {
				return fmt.Errorf("checkpoint %s: %w", repID, err)
			}
		}
		if bytes.Equal(doc.LastSeq, seq) {
			return nil
		}
		hist := []checkpointEntry{{LastSeq: seq, SessionID: session}}
		for _, h := range doc.History {
			if h.SessionID != session {
				hist = append(hist, h)
			}
		}
		doc.History = hist[:min(len(hist), checkpointHistory)]
		doc.Version, doc.Replicator, doc.SessionID, doc.LastSeq = 1, "pouchdb", session, seq
		body, err := jsJSON(doc)
		if err != nil {
			return err
		}
		status, _, err = r.req("PUT", path, true, body, http.StatusConflict)
		if err != nil || status != http.StatusConflict {
			return err
		}
	}
}

// change is one row of a changes feed (style=all_docs).
type change struct {
	ID      string          `json:"id"`
	Seq     json.RawMessage `json:"seq"`
	Changes []struct {
		Rev string `json:"rev"`
	} `json:"changes"`
}

// changesPage is one page of a changes feed.
type changesPage struct {
	Results []change        `json:"results"`
	LastSeq json.RawMessage `json:"last_seq"`
}

// repBatch is one batch: a page of changes and, for a push, its pre-encoded _revs_diff body.
type repBatch struct {
	changes []change
	seq     json.RawMessage
	diff    []byte
}

// replicator is the batch pipeline of replicate() (9763): a changes feed reading ahead of
// at most batchesLimit waiting batches, and the batches processed one at a time, each
// followed by its checkpoint.
type replicator struct {
	feed       func(since json.RawMessage) (changesPage, []byte, error) // page and, for a push, its diff body
	process    func(b repBatch) error                                   // getDiffs, getBatchDocs, writeDocs
	checkpoint func(seq json.RawMessage) error                          // writeCheckpoint
	batchDone  func(d time.Duration)

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []repBatch
	current bool
	done    bool
	err     error
}

func (r *replicator) fail(err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.cond.Broadcast()
	r.mu.Unlock()
}

// run replicates from since 0 (the checkpoint a fresh tablet starts from) to the end.
func (r *replicator) run() error {
	r.cond = sync.NewCond(&r.mu)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // getChanges / onChangesComplete
		defer wg.Done()
		since := json.RawMessage("0")
		for {
			r.mu.Lock()
			for len(r.queue) >= batchesLimit && r.err == nil {
				r.cond.Wait()
			}
			stop := r.err != nil
			r.mu.Unlock()
			if stop {
				return
			}
			page, diff, err := r.feed(since)
			if err != nil {
				r.fail(err)
				return
			}
			r.mu.Lock()
			if len(page.Results) > 0 {
				since = page.Results[len(page.Results)-1].Seq
				r.queue = append(r.queue, repBatch{changes: page.Results, seq: since, diff: diff})
				r.cond.Broadcast()
				r.mu.Unlock()
				continue
			}
			idle := !r.current && len(r.queue) == 0
			r.mu.Unlock()
			if idle { // 10130: nothing in hand, so the checkpoint takes the feed's last_seq
				if err := r.checkpoint(page.LastSeq); err != nil {
					r.fail(err)
					return
				}
			}
			r.mu.Lock()
			r.done = true
			r.cond.Broadcast()
			r.mu.Unlock()
			return
		}
	}()
	for { // startNextBatch
		r.mu.Lock()
		for len(r.queue) == 0 && !r.done && r.err == nil {
			r.cond.Wait()
		}
		if r.err != nil || len(r.queue) == 0 {
			r.mu.Unlock()
			break
		}
		b := r.queue[0]
		r.queue = r.queue[1:]
		r.current = true
		r.mu.Unlock()
		t := time.Now()
		err := r.process(b)
		if err == nil {
			err = r.checkpoint(b.seq)
		}
		if err != nil {
			r.fail(err)
			break
		}
		r.batchDone(time.Since(t))
		r.mu.Lock()
		r.current = false
		r.cond.Broadcast() // finishBatch calls getChanges again
		r.mu.Unlock()
	}
	wg.Wait()
	return r.err
}

// pushTablet is one tablet's documents, in the order it captured them (its local seq
// 1, 2, …), with the _revs_diff body of each batch encoded before the clock starts.
type pushTablet struct {
	instance string // the tablet database's instance uuid (its id())
	batch    int    // batch_size
	docs     []tabletDoc
	pages    []changesPage // the local changes feed, batch_size documents a page
	diffs    [][]byte
}

func newPushTablet(docs []map[string]any, batch int) (*pushTablet, error) {
	t := &pushTablet{instance: uuid.NewString(), batch: batch}
	for _, d := range docs {
		td, err := newTabletDoc(d)
		if err != nil {
			return nil, err
		}
		t.docs = append(t.docs, td)
	}
	for k := 0; k < len(t.docs); k += batch {
		var page changesPage
		var diff bytes.Buffer
		diff.WriteByte('{')
		for j := k; j < min(k+batch, len(t.docs)); j++ {
			d := t.docs[j]
			c := change{ID: d.id, Seq: json.RawMessage(fmt.Sprint(j + 1))}
			c.Changes = append(c.Changes, struct {
				Rev string `json:"rev"`
			}{d.rev})
			page.Results = append(page.Results, c)
			if j > k {
				diff.WriteByte(',')
			}
			id, _ := jsJSON(d.id)
			rev, _ := jsJSON(d.rev)
			fmt.Fprintf(&diff, "%s:[%s]", id, rev)
		}
		diff.WriteByte('}')
		page.LastSeq = page.Results[len(page.Results)-1].Seq
		t.pages = append(t.pages, page)
		t.diffs = append(t.diffs, diff.Bytes())
	}
	return t, nil
}

// push is db.replicate.to(remote) from this tablet.
func (t *pushTablet) push(r *pouchRemote, lat func(time.Duration)) error {
	remoteID, err := r.start()
	if err != nil {
		return err
	}
	repID, session := replicationID(t.instance, remoteID), uuid.NewString()
	byID := make(map[string]int, len(t.docs))
	for i, d := range t.docs {
		byID[d.id] = i
	}
	// getCheckpoint: the remote target's checkpoint (404 for a new tablet); a tablet with
	// no checkpoint of its own starts at 0 whatever it says.
	if _, _, err := r.req("GET", "/"+r.db+"/_local/"+encodeURIComponent(strings.TrimPrefix(repID, "_local/")), true, nil, http.StatusNotFound); err != nil {
		return err
	}
	rep := &replicator{
		feed: func(since json.RawMessage) (changesPage, []byte, error) { // the local changes feed
			var n int
			if err := json.Unmarshal(since, &n); err != nil {
				return changesPage{}, nil, err
			}
			if n >= len(t.docs) {
				return changesPage{Results: []change{}, LastSeq: json.RawMessage(fmt.Sprint(len(t.docs)))}, nil, nil
			}
			return t.pages[n/t.batch], t.diffs[n/t.batch], nil
		},
		process: func(b repBatch) error {
			_, res, err := r.req("POST", "/"+r.db+"/_revs_diff", true, b.diff)
			if err != nil {
				return err
			}
			var missing map[string]struct {
				Missing []string `json:"missing"`
			}
			if err := json.Unmarshal(res, &missing); err != nil {
				return fmt.Errorf("_revs_diff: %w", err)
			}
			var body bytes.Buffer
			body.WriteString(`{"docs":[`)
			n := 0
			for _, c := range b.changes {
				m, ok := missing[c.ID]
				if !ok {
					continue
				}
				d := t.docs[byID[c.ID]]
				for _, rev := range m.Missing {
					if rev != d.rev {
						return fmt.Errorf("_revs_diff: %s misses %s, which this tablet never had", c.ID, rev)
					}
					if n > 0 {
						body.WriteByte(',')
					}
					body.Write(d.body)
					n++
				}
			}
			body.WriteString(`],"new_edits":false}`)
			if n == 0 { // writeDocs: nothing to write, no request
				return nil
			}
			_, res, err = r.req("POST", "/"+r.db+"/_bulk_docs", true, body.Bytes())
			if err != nil {
				return err
			}
			return bulkDocsErrors(res)
		},
		checkpoint: func(seq json.RawMessage) error { return r.writeCheckpoint(repID, session, seq) },
		batchDone:  lat,
	}
	return rep.run()
}

// bulkDocsErrors reads a _bulk_docs answer with new_edits false: successes are left out
// (2306), so any entry is an error, and the run fails on it.
func bulkDocsErrors(b []byte) error {
	var res []struct {
		ID     string `json:"id"`
		Error  string `json:"error"`
		Reason string `json:"reason"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return fmt.Errorf("_bulk_docs: %w", err)
	}
	for _, r := range res {
		if r.Error != "" {
			return fmt.Errorf("_bulk_docs: %s: %s: %s", r.ID, r.Error, r.Reason)
		}
	}
	if len(res) > 0 {
		return fmt.Errorf("_bulk_docs: unexpected answer %.300s", b)
	}
	return nil
}

// bulkGetDocs reads a _bulk_get answer: every document as raw JSON, or an error if any
// entry failed (getDocs sets ok = false, 9365, and finishBatch throws, 9879).
func bulkGetDocs(b []byte) ([]json.RawMessage, error) {
	var res struct {
		Results []struct {
			ID   string `json:"id"`
			Docs []struct {
				OK    json.RawMessage `json:"ok"`
				Error json.RawMessage `json:"error"`
			} `json:"docs"`
		} `json:"results"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, fmt.Errorf("_bulk_get: %w", err)
	}
	var docs []json.RawMessage
	for _, r := range res.Results {
		for _, d := range r.Docs {
			if len(d.Error) > 0 && string(d.Error) != "null" {
				return nil, fmt.Errorf("_bulk_get: %s: %.300s", r.ID, d.Error)
			}
			if len(d.OK) == 0 || string(d.OK) == "null" {
				return nil, fmt.Errorf("_bulk_get: %s: no document", r.ID)
			}
			docs = append(docs, d.OK)
		}
	}
	return docs, nil
}

// pullTablet is db.replicate.from(remote) into a fresh tablet, keeping every document as raw
// JSON; batch is the changes feed's limit (batch_size).
func pullTablet(r *pouchRemote, batch int, lat func(time.Duration)) ([]json.RawMessage, error) {
	remoteID, err := r.start()
	if err != nil {
		return nil, err
	}
	// The id is src.id() + target.id(): the remote, then this tablet's instance uuid.
	repID, session := replicationID(remoteID, uuid.NewString()), uuid.NewString()
	// getCheckpoint reads the local target's checkpoint first, which a fresh tablet has
	// not got: since 0, no request. createTask: src.info().
	if _, _, err := r.req("GET", "/"+r.db+"/", false, nil); err != nil {
		return nil, err
	}
	var mu sync.Mutex
	var got []json.RawMessage
	var info sync.WaitGroup
	var infoErr error
	rep := &replicator{
		feed: func(since json.RawMessage) (changesPage, []byte, error) {
			s := string(since)
			if strings.HasPrefix(s, `"`) {
				json.Unmarshal(since, &s)
			}
			_, b, err := r.req("GET", fmt.Sprintf("/%s/_changes?style=all_docs&since=%s&limit=%d", r.db, encodeURIComponent(s), batch), true, nil)
			if err != nil {
				return changesPage{}, nil, err
			}
			var page changesPage
			if err := json.Unmarshal(b, &page); err != nil {
				return page, nil, fmt.Errorf("_changes: %w", err)
			}
			return page, nil, nil
		},
		process: func(b repBatch) error {
			// getDiffs asks the local target, which misses every rev: all are fetched.
			var body bytes.Buffer
			body.WriteString(`{"docs":[`)
			n := 0
			for _, c := range b.changes {
				for _, ch := range c.Changes {
					if n > 0 {
						body.WriteByte(',')
					}
					e, err := jsJSON(struct {
						ID  string `json:"id"`
						Rev string `json:"rev"`
					}{c.ID, ch.Rev})
					if err != nil {
						return err
					}
					body.Write(e)
					n++
				}
			}
			body.WriteString(`]}`)
			if n == 0 {
				return nil
			}
			_, res, err := r.req("POST", "/"+r.db+"/_bulk_get?revs=true&latest=true", true, body.Bytes())
			if err != nil {
				return err
			}
			docs, err := bulkGetDocs(res)
			if err != nil {
				return err
			}
			mu.Lock()
			got = append(got, docs...)
			mu.Unlock()
			// writeDocs goes to the local target: none here. finishBatch: src.info(),
			// not waited for (the run waits for all of them at its end).
			info.Add(1)
			go func() {
				defer info.Done()
				if _, _, err := r.req("GET", "/"+r.db+"/", false, nil); err != nil {
					mu.Lock()
					infoErr = err
					mu.Unlock()
				}
			}()
			return nil
		},
		// writeCheckpoint: the local target's (none here), then the remote source's.
		checkpoint: func(seq json.RawMessage) error { return r.writeCheckpoint(repID, session, seq) },
		batchDone:  lat,
	}
	err = rep.run()
	info.Wait()
	if err == nil {
		err = infoErr
	}
	return got, err
}
