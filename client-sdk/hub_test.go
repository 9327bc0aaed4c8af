package sdk

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/google/uuid"
)

// testHub is a thin HTTP shim over a real syncengine.Store in hub mode, speaking the sync
// part of docs/PROTOCOL.md: enrol, refresh, push, pull, state, healthz. It exists so the
// sync client can be unit-tested before and apart from the real server; TestE2E covers the
// real server once both have landed.
type testHub struct {
	tb    testing.TB
	store *syncengine.Store
	srv   *httptest.Server
	team  string

	mu      sync.Mutex
	codes   map[string]bool
	access  map[string]*hubDevice
	refresh map[string]*hubDevice
	n       int

	down       atomic.Bool  // every request gets 503
	failNext   atomic.Int32 // the next n requests get 503
	limitNext  atomic.Int32 // the next n requests get 429 Retry-After: 0
	pushes     atomic.Int32
	gzipPushes atomic.Int32
	requests   atomic.Int32
}

type hubDevice struct {
	id, node, team string
	revoked        bool
}

func newTestHub(tb testing.TB, wall func() int64) *testHub {
	tb.Helper()
	st, err := syncengine.Open(filepath.Join(tb.TempDir(), "hub.db"), syncengine.Options{Now: wall})
	if err != nil {
		tb.Fatal(err)
	}
	h := &testHub{tb: tb, store: st, team: testTeam, codes: map[string]bool{}, access: map[string]*hubDevice{}, refresh: map[string]*hubDevice{}}
	h.srv = httptest.NewServer(h)
	tb.Cleanup(func() { h.srv.Close(); st.Close() })
	return h
}

func (h *testHub) URL() string { return h.srv.URL }

// Code makes a one-time enrolment code.
func (h *testHub) Code() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n++
	c := fmt.Sprintf("CODE-%d", h.n)
	h.codes[c] = true
	return c
}

func (h *testHub) tokens(dev *hubDevice) map[string]any {
	h.n++
	at, rt := fmt.Sprintf("at-%d", h.n), fmt.Sprintf("rt-%d", h.n)
	h.access[at], h.refresh[rt] = dev, dev
	return map[string]any{"device_id": dev.id, "node_id": dev.node, "team": dev.team, "access_token": at, "refresh_token": rt, "expires_in": 900}
}

// ExpireTokens makes every access token issued so far run out.
func (h *testHub) ExpireTokens() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k := range h.access {
		delete(h.access, k)
	}
}

// Revoke switches off every device enrolled so far.
func (h *testHub) Revoke() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, d := range h.refresh {
		d.revoked = true
	}
}

func writeErr(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(syncengine.ErrorBody{Error: syncengine.ErrorDetail{Code: code, Message: code}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (h *testHub) auth(w http.ResponseWriter, r *http.Request) *hubDevice {
	h.mu.Lock()
	defer h.mu.Unlock()
	tok := r.Header.Get("Authorization")
	if len(tok) < 7 {
		writeErr(w, 401, "unauthorized")
		return nil
	}
	dev := h.access[tok[7:]]
	if dev == nil {
		writeErr(w, 401, "token_expired")
		return nil
	}
	if dev.revoked {
		writeErr(w, 401, "device_revoked")
		return nil
	}
	return dev
}

func (h *testHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.requests.Add(1)
	if h.down.Load() || h.failNext.Add(-1) >= 0 {
		writeErr(w, 503, "store_unavailable")
		return
	}
	if h.limitNext.Add(-1) >= 0 {
		w.Header().Set("Retry-After", "0")
		writeErr(w, 429, "rate_limited")
		return
	}
	ctx := r.Context()
	body := r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			writeErr(w, 400, "malformed_json")
			return
		}
		body = zr
	}
	switch r.Method + " " + r.URL.Path {
	case "GET /healthz":
		w.Write([]byte("ok"))
	case "POST /v1/devices/enrol":
		var req struct{ Code, Label string }
		if json.NewDecoder(body).Decode(&req) != nil {
			writeErr(w, 400, "malformed_json")
			return
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if !h.codes[req.Code] {
			writeErr(w, 409, "enrolment_code_invalid")
			return
		}
		delete(h.codes, req.Code)
		dev := &hubDevice{id: uuid.NewString(), node: uuid.Must(uuid.NewV7()).String(), team: h.team}
		writeJSON(w, h.tokens(dev))
	case "POST /v1/auth/refresh":
		var req struct {
			RefreshToken string `json:"refresh_token"`
		}
		json.NewDecoder(body).Decode(&req)
		h.mu.Lock()
		defer h.mu.Unlock()
		dev := h.refresh[req.RefreshToken]
		switch {
		case dev == nil:
			writeErr(w, 401, "refresh_token_invalid")
		case dev.revoked:
			writeErr(w, 401, "device_revoked")
		default:
			delete(h.refresh, req.RefreshToken) // rotate
			writeJSON(w, h.tokens(dev))
		}
	case "POST /v1/sync/push":
		dev := h.auth(w, r)
		if dev == nil {
			return
		}
		h.pushes.Add(1)
		if r.Header.Get("Content-Encoding") == "gzip" {
			h.gzipPushes.Add(1)
		}
		var req syncengine.PushRequest
		if err := json.NewDecoder(body).Decode(&req); err != nil {
			writeErr(w, 400, "malformed_json")
			return
		}
		res, err := h.store.Apply(ctx, req.Ops, syncengine.ApplyOptions{Hub: true, Teams: []string{dev.team}, Team: dev.team, OnlyNode: dev.node})
		if err != nil {
			writeErr(w, 500, "internal")
			return
		}
		writeJSON(w, syncengine.PushResponse{Accepted: res.Accepted, Duplicates: res.Duplicates, Rejected: res.Rejected,
			Restamped: res.Restamped, ServerTS: h.store.Clock().Physical()})
	case "GET /v1/sync/pull":
		dev := h.auth(w, r)
		if dev == nil {
			return
		}
		cursor, ok := syncengine.DecodeCursor(r.URL.Query().Get("cursor"))
		if !ok {
			writeErr(w, 400, "invalid_cursor")
			return
		}
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		limit = min(max(limit, 1), 10000)
		page, err := h.store.Pull(ctx, []string{dev.team}, cursor, limit)
		if err != nil {
			writeErr(w, 500, "internal")
			return
		}
		writeJSON(w, syncengine.PullResponse{Ops: page.Ops, Erased: page.Erased, Cursor: syncengine.EncodeCursor(page.Cursor), More: page.More, ServerTS: h.store.Clock().Physical()})
	case "GET /v1/sync/state":
		dev := h.auth(w, r)
		if dev == nil {
			return
		}
		hash, n, err := h.store.StateHash(ctx, []string{dev.team})
		if err != nil {
			writeErr(w, 500, "internal")
			return
		}
		writeJSON(w, syncengine.StateResponse{Hash: hash, Records: n})
	default:
		io.Copy(io.Discard, body)
		writeErr(w, 404, "not_found")
	}
}

// Hash is the hub's state hash of its team.
func (h *testHub) Hash(tb testing.TB) string {
	tb.Helper()
	hash, _, err := h.store.StateHash(context.Background(), []string{h.team})
	if err != nil {
		tb.Fatal(err)
	}
	return hash
}

func runtime_Gosched() { runtime.Gosched() }

// startServer serves h on a loopback httptest server (benchmarks build the hub by hand).
func startServer(tb testing.TB, _ *http.Server, h *testHub) *httptest.Server {
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv
}
