package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fieldnotes/fieldnotes/server/app"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

// hub is Fieldnotes' side: the real server started in-process on a loopback port with a
// fresh data directory, devices enrolled with codes, the protocol spoken with plain
// net/http and the syncengine wire types, as a tablet speaks it.
type hub struct {
	w     *workload
	dir   string
	srv   *app.Instance
	admin *http.Client

	// On PostgreSQL (stores.go): the system's name, its instances (srv is the first) and
	// the database; "" and 0 for the hub on SQLite in its data directory.
	system      string
	instances   int
	databaseURL string
	srvs        []*app.Instance
	dropSchema  func()

	coord   *hubDevice
	engOps  []syncengine.Op
	pushers []*hubDevice
	pullers []*hubDevice
	bodies  [][][]byte
	pages   [][]json.RawMessage // every puller's ops, as pulled
}

type tokens struct {
	AccessToken string `json:"access_token"`
	NodeID      string `json:"node_id"`
}

type hubDevice struct {
	tokens
	http    *http.Client
	counter uint64
}

func (d *hubDevice) op(coll, rec, kind, field string, v any) syncengine.Op {
	d.counter++
	b, _ := json.Marshal(v)
	return syncengine.Op{Node: d.NodeID, Counter: d.counter, TS: time.Now().UnixMilli(), Collection: coll, Record: rec, Kind: kind, Field: field, Value: b}
}

// ops are one conversation as 24 ops.
func (d *hubDevice) ops(eng string, c conversation) []syncengine.Op {
	loc := c.locale()
	p, k, v := c.participant, c.consent, c.conversationID
	ops := []syncengine.Op{
		d.op("participant", p, "set", "engagement", eng),
		d.op("participant", p, "set", "preferred_locale", loc),
		d.op("participant", p, "set", "eq_age_band", c.age()),
		d.op("participant", p, "add", "communities", "Sparkhill Punjabi community"),

		d.op("consent", k, "set", "participant", p),
		d.op("consent", k, "set", "engagement", eng),
		d.op("consent", k, "set", "statement_id", "fieldnotes_standard"),
		d.op("consent", k, "set", "statement_version", 1),
		d.op("consent", k, "set", "statement_locale", loc),
		d.op("consent", k, "add", "scopes", "record_views"),
		d.op("consent", k, "set", "method", "verbal"),

		d.op("conversation", v, "set", "engagement", eng),
		d.op("conversation", v, "set", "participant", p),
		d.op("conversation", v, "set", "consent", k),
	}
	for j, pr := range prompts {
		ops = append(ops, d.op("conversation", v, "set", "answer."+pr, map[string]any{
			"text": c.answer(j), "prompt_locale": loc, "answer_locale": loc, "translation_en": c.answer(j),
		}))
	}
	return ops
}

func (h *hub) name() string {
	if h.system != "" {
		return h.system
	}
	return "fieldnotes"
}

func (h *hub) pid() int { return 0 } // in this process

func (h *hub) url(path string) string { return h.srv.URL() + path }

// pushURL and pullURL: with two instances, tablet i pushes to one and pulls from the other.
func (h *hub) pushURL(i int, path string) string { return h.srvs[i%len(h.srvs)].URL() + path }
func (h *hub) pullURL(i int, path string) string { return h.srvs[(i+1)%len(h.srvs)].URL() + path }

// setup starts the server, makes a team, a coordinator and the engagement, enrols the
// devices and encodes every push body (none of it timed).
func (h *hub) setup(w *workload) error {
	h.w = w
	var err error
	if h.dir, err = os.MkdirTemp("", "fieldnotes-bench-hub-"); err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(h.dir, "server.log"))
	if err != nil {
		return err
	}
	args := []string{"--addr", "127.0.0.1:0", "--data", h.dir, "--log-level", "warn",
		"--rate", "1000000", "--rate-burst", "1000000", "--auth-rate", "1000000", "--auth-burst", "1000000",
		"--admin-email", "admin@bench.local", "--admin-password", "bench-admin-password"}
	env := func(string) string { return "" }
	if h.instances > 0 { // PostgreSQL: a fresh schema, the signing key shared by the instances
		u, drop, err := freshSchema(h.databaseURL)
		if err != nil {
			return err
		}
		h.dropSchema = drop
		args = append(args, "--database-url", u)
		env = func(k string) string {
			if k == "FIELDNOTES_JWT_SECRET" {
				return benchSecret
			}
			return ""
		}
	}
	for i := 0; i < max(1, h.instances); i++ {
		a := append([]string(nil), args...)
		if i > 0 {
			a[3] = filepath.Join(h.dir, fmt.Sprintf("instance-%d", i)) // its own data directory: only the database is shared
			if err := os.MkdirAll(a[3], 0o700); err != nil {
				return err
			}
		}
		cfg, err := app.ParseConfig(a, env)
		if err != nil {
			return err
		}
		cfg.LogOutput = logf
		srv, err := app.Start(context.Background(), cfg, io.Discard)
		if err != nil {
			return err
		}
		h.srvs = append(h.srvs, srv)
	}
	h.srv = h.srvs[0]
	h.admin = newTablet()
	var admin, coord tokens
	steps := []func() error{
		func() error {
			return doJSON(h.admin, "POST", h.url("/v1/auth/login"), "", map[string]string{"email": "admin@bench.local", "password": "bench-admin-password"}, &admin)
		},
		func() error {
			return doJSON(h.admin, "POST", h.url("/v1/teams"), admin.AccessToken, map[string]string{"name": "bench"}, nil)
		},
		func() error {
			return doJSON(h.admin, "POST", h.url("/v1/users"), admin.AccessToken, map[string]any{"email": "coord@bench.local",
				"password": "bench-coord-password", "role": "coordinator", "teams": []string{"bench"}}, nil)
		},
		func() error {
			return doJSON(h.admin, "POST", h.url("/v1/auth/login"), "", map[string]string{"email": "coord@bench.local", "password": "bench-coord-password"}, &coord)
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	h.coord = &hubDevice{tokens: coord, http: h.admin}
	eng := w.engagement
	h.engOps = []syncengine.Op{h.coord.op("engagement", eng, "set", "team", "bench"), h.coord.op("engagement", eng, "set", "title", "Bench engagement"),
		h.coord.op("engagement", eng, "set", "venue_type", "community_centre")}
	var pr syncengine.PushResponse
	if err := doJSON(h.admin, "POST", h.url("/v1/sync/push"), coord.AccessToken, syncengine.PushRequest{Ops: h.engOps}, &pr); err != nil {
		return err
	}
	if pr.Accepted != len(h.engOps) {
		return fmt.Errorf("engagement push: %+v", pr)
	}
	if h.pushers, err = h.enrol(len(w.devices), "pusher"); err != nil {
		return err
	}
	if h.pullers, err = h.enrol(w.pullers, "puller"); err != nil {
		return err
	}
	// Each tablet's ops in the SDK's push batches, encoded before the clock starts.
	h.bodies = make([][][]byte, len(h.pushers))
	for i, d := range h.pushers {
		var ops []syncengine.Op
		for _, c := range w.devices[i] {
			ops = append(ops, d.ops(eng, c)...)
		}
		for k := 0; k < len(ops); k += w.pushOps {
			b, err := json.Marshal(syncengine.PushRequest{Ops: ops[k:min(k+w.pushOps, len(ops))]})
			if err != nil {
				return err
			}
			h.bodies[i] = append(h.bodies[i], b)
		}
	}
	return nil
}

func (h *hub) enrol(n int, label string) ([]*hubDevice, error) {
	out := make([]*hubDevice, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range out {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var code struct{ Code string }
			if errs[i] = doJSON(h.admin, "POST", h.url("/v1/devices/enrolment-codes"), h.coord.AccessToken, map[string]string{"team": "bench", "label": label}, &code); errs[i] != nil {
				return
			}
			d := &hubDevice{http: newTablet()}
			errs[i] = doJSON(d.http, "POST", h.url("/v1/devices/enrol"), "", map[string]string{"code": code.Code, "label": fmt.Sprintf("%s %d", label, i)}, &d.tokens)
			out[i] = d
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (h *hub) push() (phase, error) {
	p, err := pushAll(h.bodies, func(i int, body []byte) error {
		d := h.pushers[i]
		b, err := do(d.http, "POST", h.pushURL(i, "/v1/sync/push"), d.AccessToken, body)
		if err != nil {
			return err
		}
		var res syncengine.PushResponse
		if err := json.Unmarshal(b, &res); err != nil {
			return err
		}
		if res.Duplicates != 0 || len(res.Rejected) != 0 || res.Accepted == 0 {
			return fmt.Errorf("push: %d accepted, %d duplicates, %d rejected", res.Accepted, res.Duplicates, len(res.Rejected))
		}
		return nil
	})
	p.conversations = h.w.conversations()
	p.units = p.conversations * opsPerConv
	return p, err
}

func (h *hub) pull() (phase, error) {
	p, got, err := pullAll(len(h.pullers), func(i int, cursor string) ([]json.RawMessage, string, bool, error) {
		d := h.pullers[i]
		b, err := do(d.http, "GET", h.pullURL(i, fmt.Sprintf("/v1/sync/pull?cursor=%s&limit=%d", cursor, h.w.pullOps)), d.AccessToken, nil)
		if err != nil {
			return nil, "", false, err
		}
		var page struct {
			Ops    []json.RawMessage `json:"ops"`
			Cursor string            `json:"cursor"`
			More   bool              `json:"more"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			return nil, "", false, err
		}
		return page.Ops, page.Cursor, page.More, nil
	})
	h.pages = got
	p.conversations = h.w.conversations() * len(h.pullers)
	return p, err
}

// check counts, per puller, ops pushed but not pulled and ops pulled twice, then builds a
// fresh replica from the first puller's ops and compares its state hash with the server's.
func (h *hub) check() (check, error) {
	var c check
	want := map[string]uint64{h.coord.NodeID: h.coord.counter}
	for _, d := range h.pushers {
		want[d.NodeID] = d.counter
	}
	for _, ops := range h.pages {
		seen := map[string][]bool{}
		for node, n := range want {
			seen[node] = make([]bool, n+1)
		}
		for _, raw := range ops {
			var id struct {
				Node    string `json:"node"`
				Counter uint64 `json:"counter"`
			}
			if err := json.Unmarshal(raw, &id); err != nil {
				return c, err
			}
			s, ok := seen[id.Node]
			if !ok || id.Counter == 0 || id.Counter >= uint64(len(s)) {
				return c, fmt.Errorf("pulled an op nobody pushed: %s/%d", id.Node, id.Counter)
			}
			if s[id.Counter] {
				c.duplicated++
			}
			s[id.Counter] = true
		}
		for _, s := range seen {
			for _, ok := range s[1:] {
				if !ok {
					c.lost++
				}
			}
		}
	}
	local, err := syncengine.Open(filepath.Join(h.dir, "puller.db"), syncengine.Options{})
	if err != nil {
		return c, err
	}
	defer local.Close()
	ops := make([]syncengine.Op, 0, h.w.pullOps)
	flush := func() error {
		_, err := local.Apply(context.Background(), ops, syncengine.ApplyOptions{Team: "bench"})
		ops = ops[:0]
		return err
	}
	for _, raw := range h.pages[0] {
		var op syncengine.Op
		if err := json.Unmarshal(raw, &op); err != nil {
			return c, err
		}
		if ops = append(ops, op); len(ops) == cap(ops) {
			if err := flush(); err != nil {
				return c, err
			}
		}
	}
	if err := flush(); err != nil {
		return c, err
	}
	var n int
	if c.hash, n, err = local.StateHash(context.Background(), nil); err != nil {
		return c, err
	}
	var state syncengine.StateResponse
	if err := doJSON(h.pullers[0].http, "GET", h.url("/v1/sync/state"), h.pullers[0].AccessToken, nil, &state); err != nil {
		return c, err
	}
	c.wantHash = state.Hash
	c.detail = fmt.Sprintf("state hash of a replica built from the pulled ops %.12s… (%d records), server's %.12s… (%d records)", c.hash, n, state.Hash, state.Records)
	if n != state.Records {
		c.hash = "records differ: " + c.hash
	}
	for i, srv := range h.srvs[1:] { // every instance reports the same state
		var other syncengine.StateResponse
		if err := doJSON(h.pullers[0].http, "GET", srv.URL()+"/v1/sync/state", h.pullers[0].AccessToken, nil, &other); err != nil {
			return c, err
		}
		if other != state {
			c.hash = fmt.Sprintf("instance %d differs: %s", i+2, c.hash)
		}
		c.detail += fmt.Sprintf("; instance %d's %.12s…", i+2, other.Hash)
	}
	return c, nil
}

func (h *hub) close(keep bool) {
	for _, srv := range h.srvs {
		srv.Shutdown(context.Background())
	}
	if h.dropSchema != nil && !keep {
		h.dropSchema()
	}
	if h.dir != "" && !keep {
		os.RemoveAll(h.dir)
	}
}
