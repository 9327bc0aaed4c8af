package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// The workload both systems get: the same conversations, the same batching.
const opsPerConv = 24 // participant 4, consent 7, conversation 3 + 10 answers

// The PouchDB side's data models, by system name, and their documents per conversation.
//
// pouchdb-record: one document per record (participant, consent, conversation). The fewest
// documents, but not the same guarantees: two devices changing one conversation (a
// tablet's note, a coordinator's review) make a PouchDB conflict whose losing revision
// PouchDB hides, where the hub merges field by field.
//
// pouchdb: every change a document, "every doc is a delta" (PouchDB's conflicts guide,
// "Accountants don't use erasers"; the delta-pouch plugin): the PouchDB design that
// merges concurrent changes to one record without conflicts, which is what the hub's
// ops do. One document per op.
var docsPerConv = map[string]int{"pouchdb": opsPerConv, "pouchdb-record": 3}

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

// conversation is one realistic capture: a participant, their consent and a conversation
// with ten answers. Each system encodes it its own way (24 ops; 3 documents).
type conversation struct {
	n                                    int // position in the whole workload: picks locale, age, answers
	participant, consent, conversationID string
}

func (c conversation) locale() string      { return locales[c.n%len(locales)] }
func (c conversation) age() string         { return ages[c.n%len(ages)] }
func (c conversation) answer(j int) string { return answers[(c.n+j)%len(answers)] }

// workload is every device's conversations under one engagement.
type workload struct {
	engagement string
	devices    [][]conversation
	pushOps    int // ops per push request (the SDK's batch)
	pullOps    int // ops per pull page (the SDK's page)
	pullers    int
}

func newWorkload(o options) *workload {
	w := &workload{engagement: uuid.Must(uuid.NewV7()).String(), devices: make([][]conversation, o.devices),
		pushOps: o.pushOps, pullOps: o.pullOps, pullers: o.pullers}
	for i := range w.devices {
		w.devices[i] = make([]conversation, o.conversations)
		for j := range w.devices[i] {
			w.devices[i][j] = conversation{n: i*o.conversations + j, participant: uuid.Must(uuid.NewV7()).String(),
				consent: uuid.Must(uuid.NewV7()).String(), conversationID: uuid.Must(uuid.NewV7()).String()}
		}
	}
	return w
}

func (w *workload) conversations() int { return len(w.devices) * len(w.devices[0]) }

// pushDocs and pullDocs are a PouchDB system's request and page sizes: the same number of
// conversations per request as the hub's ops.
func (w *workload) pushDocs(system string) int {
	return max(1, w.pushOps*docsPerConv[system]/opsPerConv)
}
func (w *workload) pullDocs(system string) int {
	return max(1, w.pullOps*docsPerConv[system]/opsPerConv)
}

// phase is one timed phase of one system.
type phase struct {
	conversations int // conversations moved (pull: summed over pullers)
	units         int // ops or documents moved
	requests      int
	batches       int // replication batches (PouchDB's replicate client; lat is then per batch)
	wall          time.Duration
	cpu           time.Duration // the server's and the clients' CPU time (0 where not measured)
	wire          int64         // response bytes the clients read off the wire
	lat           []time.Duration
}

func (p phase) rate() float64 { return float64(p.conversations) / p.wall.Seconds() }

func (p phase) pct(q float64) time.Duration {
	if len(p.lat) == 0 {
		return 0
	}
	l := append([]time.Duration(nil), p.lat...)
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	return l[min(len(l)-1, int(q*float64(len(l))))]
}

// check is what a system's run is judged on besides speed.
type check struct {
	lost, duplicated int    // summed over pullers
	hash, wantHash   string // what the pullers hold, and what they should
	detail           string
}

func (c check) ok() bool {
	return c.lost == 0 && c.duplicated == 0 && c.hash != "" && c.hash == c.wantHash
}

// newTablet is one simulated device's HTTP client: Go's default transport (its own
// connections, gzip responses accepted and decoded), as a tablet's would be, except that
// it counts the bytes it reads off the wire.
func newTablet() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{c}, nil
	}
	return &http.Client{Transport: tr, Timeout: 5 * time.Minute}
}

// wireBytes counts the bytes every tablet has read from its connections.
var wireBytes atomic.Int64

type countingConn struct{ net.Conn }

func (c countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	wireBytes.Add(int64(n))
	return n, err
}

// do sends one request and returns the response body (decoded from gzip by the transport).
func do(c *http.Client, method, url, token string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: %d %.300s", method, url, res.StatusCode, b)
	}
	return b, nil
}

func doJSON(c *http.Client, method, url, token string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	b, err := do(c, method, url, token, body)
	if err != nil || out == nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// pushAll runs every device's requests, all devices at once, and times the whole.
// send returns how many units (ops or documents) the server acknowledged.
func pushAll(bodies [][][]byte, send func(dev int, body []byte) error) (phase, error) {
	var p phase
	lat := make([][]time.Duration, len(bodies))
	errs := make([]error, len(bodies))
	ready := make(chan struct{})
	done := make(chan int)
	for i := range bodies {
		go func() {
			defer func() { done <- i }()
			<-ready
			for _, b := range bodies[i] {
				t := time.Now()
				if errs[i] = send(i, b); errs[i] != nil {
					return
				}
				lat[i] = append(lat[i], time.Since(t))
			}
		}()
	}
	start := time.Now()
	close(ready)
	for range bodies {
		<-done
	}
	p.wall = time.Since(start)
	for i := range bodies {
		if errs[i] != nil {
			return p, errs[i]
		}
		p.lat = append(p.lat, lat[i]...)
		p.requests += len(bodies[i])
	}
	return p, nil
}

// pullAll runs every puller at once, each fetching pages until the last; a page is kept as
// the system's client keeps it (raw JSON per op or document) for the checks after the clock.
func pullAll(pullers int, page func(puller int, cursor string) (items []json.RawMessage, next string, more bool, err error)) (phase, [][]json.RawMessage, error) {
	var p phase
	got := make([][]json.RawMessage, pullers)
	lat := make([][]time.Duration, pullers)
	errs := make([]error, pullers)
	ready := make(chan struct{})
	done := make(chan int)
	for i := 0; i < pullers; i++ {
		go func() {
			defer func() { done <- i }()
			<-ready
			cursor := ""
			for {
				t := time.Now()
				items, next, more, err := page(i, cursor)
				if err != nil {
					errs[i] = err
					return
				}
				lat[i] = append(lat[i], time.Since(t))
				got[i] = append(got[i], items...)
				if !more {
					return
				}
				cursor = next
			}
		}()
	}
	start := time.Now()
	close(ready)
	for i := 0; i < pullers; i++ {
		<-done
	}
	p.wall = time.Since(start)
	for i := range errs {
		if errs[i] != nil {
			return p, nil, errs[i]
		}
		p.lat = append(p.lat, lat[i]...)
		p.requests += len(lat[i])
		p.units += len(got[i])
	}
	return p, got, nil
}

// canonicalHash hashes documents by id, each re-encoded canonically (sorted keys) without
// the fields named in drop.
func canonicalHash(docs map[string]map[string]any, drop ...string) string {
	ids := make([]string, 0, len(docs))
	for id := range docs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	h := sha256.New()
	for _, id := range ids {
		d := docs[id]
		for _, k := range drop {
			delete(d, k)
		}
		b, _ := json.Marshal(d)
		fmt.Fprintf(h, "%s\x00%d\x00", id, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}
