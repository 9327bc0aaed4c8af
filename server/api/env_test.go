package api_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fieldnotes/fieldnotes/server/api"
	"github.com/fieldnotes/fieldnotes/server/auth"
	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/fieldnotes/fieldnotes/server/store/postgres"
	"github.com/fieldnotes/fieldnotes/server/store/postgres/pgtest"
	"github.com/fieldnotes/fieldnotes/server/store/sqlite"
	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/rs/zerolog"
)

// env is one server on a temp directory with two teams (north, south), an admin, a
// coordinator and an enrolled device per team, and an engagement per team.
type env struct {
	t      *testing.T
	srv    *api.Server
	st     store.Store
	key    []byte
	offset atomic.Int64 // ms added to wall time: tests move the server's clock
	tokens *auth.Tokens

	admin        string // access tokens
	coordN       string
	coordS       string
	devN, devS   device
	engN, engS   string // engagement ids
	coordNUser   api.TokenResponse
	allow5xx     bool
	requestCount int
}

type device struct {
	api.TokenResponse
	counter uint64
}

const testSecret = "test-secret-key-0123456789abcdef-0123456789"

func (e *env) now() time.Time {
	return time.Now().Add(time.Duration(e.offset.Load()) * time.Millisecond)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvLogging(t, zerolog.Nop())
}

// onPostgres makes newEnv open its store on PostgreSQL (TestAPIOnPostgres).
var onPostgres bool

func openStore(t *testing.T, now func() int64) (store.Store, error) {
	if onPostgres {
		return postgres.Open(t.Context(), pgtest.URL(t), postgres.Options{Now: now})
	}
	return sqlite.Open(t.TempDir(), sqlite.Options{Now: now})
}

// TestAPIOnPostgres runs the API's tests again with the store on PostgreSQL.
func TestAPIOnPostgres(t *testing.T) {
	pgtest.URL(t) // skips (or fails in CI) when there is no PostgreSQL
	onPostgres = true
	defer func() { onPostgres = false }()
	for _, c := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"ForgedTokens", TestForgedTokens}, {"Login", TestLogin}, {"Refresh", TestRefresh}, {"Enrolment", TestEnrolment},
		{"Revocation", TestRevocation}, {"Admin", TestAdmin}, {"Reenrol", TestReenrol}, {"LogsCarryNoPersonalData", TestLogsCarryNoPersonalData},
		{"Records", TestRecords}, {"Service", TestService}, {"RateLimit", TestRateLimit}, {"ReadyzWhenStoreClosed", TestReadyzWhenStoreClosed},
		{"Mount", TestMount}, {"PushErrors", TestPushErrors}, {"PushIdempotentAndRestamp", TestPushIdempotentAndRestamp},
		{"PullStateAndWithdrawal", TestPullStateAndWithdrawal}, {"CoordinatorPush", TestCoordinatorPush},
	} {
		t.Run(c.name, c.fn)
	}
}

// newEnvLogging is newEnv with the server's logs going to log.
func newEnvLogging(t *testing.T, log zerolog.Logger) *env {
	t.Helper()
	e := &env{t: t, key: []byte(testSecret)}
	st, err := openStore(t, func() int64 { return e.now().UnixMilli() })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.st = st
	e.tokens = auth.NewTokens(e.key, auth.Issuer, auth.Audience, auth.AccessTTL, e.now)
	e.srv = api.New(api.Deps{Store: st, Tokens: e.tokens, Log: log, Now: e.now},
		api.Options{Argon2: auth.TestArgon2, RatePerSecond: 1000, RateBurst: 1000})

	admin, err := api.NewUser("admin@example.org", "admin-password", store.RoleAdmin, nil, auth.TestArgon2, e.now().UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateUser(t.Context(), admin); err != nil {
		t.Fatal(err)
	}
	e.admin = e.login("admin@example.org", "admin-password").AccessToken
	for _, team := range []string{"north", "south"} {
		e.ok("POST", "/v1/teams", e.admin, map[string]any{"name": team}, nil)
		e.ok("POST", "/v1/users", e.admin, map[string]any{"email": "coord-" + team + "@example.org", "password": "coord-password", "role": "coordinator", "teams": []string{team}}, nil)
	}
	e.coordNUser = e.login("coord-north@example.org", "coord-password")
	e.coordN = e.coordNUser.AccessToken
	e.coordS = e.login("coord-south@example.org", "coord-password").AccessToken
	e.devN = e.enrol(e.coordN, "north")
	e.devS = e.enrol(e.coordS, "south")
	e.engN = e.engagement(&e.devN, "north")
	e.engS = e.engagement(&e.devS, "south")
	return e
}

func (e *env) login(email, password string) api.TokenResponse {
	e.t.Helper()
	var tr api.TokenResponse
	e.ok("POST", "/v1/auth/login", "", map[string]any{"email": email, "password": password}, &tr)
	return tr
}

func (e *env) code(token, team string) string {
	e.t.Helper()
	var res api.EnrolmentCodeResponse
	e.ok("POST", "/v1/devices/enrolment-codes", token, map[string]any{"team": team, "label": "tablet"}, &res)
	return res.Code
}

func (e *env) enrol(token, team string) device {
	e.t.Helper()
	var d device
	e.ok("POST", "/v1/devices/enrol", "", map[string]any{"code": e.code(token, team), "label": "tablet " + team}, &d.TokenResponse)
	return d
}

// op makes the device's next op.
func (d *device) op(coll, rec, kind, field string, v any) syncengine.Op {
	d.counter++
	op := syncengine.Op{Node: d.NodeID, Counter: d.counter, TS: time.Now().UnixMilli(), Collection: coll, Record: rec, Kind: kind, Field: field}
	if v != nil {
		op.Value, _ = json.Marshal(v)
	}
	return op
}

func (e *env) push(d *device, ops ...syncengine.Op) syncengine.PushResponse {
	e.t.Helper()
	var res syncengine.PushResponse
	e.ok("POST", "/v1/sync/push", d.AccessToken, syncengine.PushRequest{Ops: ops}, &res)
	return res
}

func (e *env) engagement(d *device, team string) string {
	e.t.Helper()
	id := auth.NewID()
	res := e.push(d, d.op("engagement", id, "set", "team", team), d.op("engagement", id, "set", "title", "Market day"),
		d.op("engagement", id, "set", "venue_type", "market"))
	if res.Accepted != 3 {
		e.t.Fatalf("engagement push: %+v", res)
	}
	return id
}

// conversation pushes participant + consent + conversation; returns their ids.
func (e *env) conversation(d *device, eng string) (participant, consent, conversation string) {
	e.t.Helper()
	participant, consent, conversation = auth.NewID(), auth.NewID(), auth.NewID()
	res := e.push(d,
		d.op("participant", participant, "set", "engagement", eng),
		d.op("participant", participant, "set", "contact_email", "someone@example.org"),
		d.op("participant", participant, "set", "eq_age_band", "25_34"),
		d.op("consent", consent, "set", "engagement", eng),
		d.op("consent", consent, "set", "participant", participant),
		d.op("consent", consent, "add", "scopes", "record_views"),
		d.op("conversation", conversation, "set", "engagement", eng),
		d.op("conversation", conversation, "set", "consent", consent),
		d.op("conversation", conversation, "set", "participant", participant),
		d.op("conversation", conversation, "set", "answer.what_works", map[string]any{"text": "The pharmacy", "prompt_locale": "pa", "answer_locale": "pa", "translation_en": "The pharmacy"}),
	)
	if res.Accepted != 10 || len(res.Rejected) != 0 {
		e.t.Fatalf("conversation push: %+v", res)
	}
	return
}

// response is what a request returned.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) errCode() string {
	var b syncengine.ErrorBody
	json.Unmarshal(r.body, &b)
	return b.Error.Code
}

// req is a request for do.
type req struct {
	method, path string
	token        string
	body         any // string and []byte are sent as they are; anything else as JSON
	header       map[string]string
	gzip         bool
}

// do runs one request in-process and fails the test on any 5xx.
func (e *env) do(r req) response {
	e.t.Helper()
	var rd io.Reader
	switch b := r.body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	if r.gzip && rd != nil {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		io.Copy(w, rd)
		w.Close()
		rd = &buf
	}
	hr := httptest.NewRequest(r.method, r.path, rd)
	if rd != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.gzip {
		hr.Header.Set("Content-Encoding", "gzip")
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, hr)
	e.requestCount++
	res := response{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
	if res.status >= 500 && !e.allow5xx {
		e.t.Fatalf("%s %s: %d (a 5xx is always a bug): %s", r.method, r.path, res.status, res.body)
	}
	if res.status >= 400 {
		var b syncengine.ErrorBody
		if err := json.Unmarshal(res.body, &b); err != nil || b.Error.Code == "" || b.Error.Message == "" {
			if r.method != http.MethodHead {
				e.t.Fatalf("%s %s: %d without an error body: %s", r.method, r.path, res.status, res.body)
			}
		}
	}
	return res
}

// ok runs a request that must answer 200 and decodes its body into out.
func (e *env) ok(method, path, token string, body, out any) response {
	e.t.Helper()
	res := e.do(req{method: method, path: path, token: token, body: body})
	if res.status != http.StatusOK {
		e.t.Fatalf("%s %s: %d %s", method, path, res.status, res.body)
	}
	if out != nil {
		if err := json.Unmarshal(res.body, out); err != nil {
			e.t.Fatalf("%s %s: decode: %v", method, path, err)
		}
	}
	return res
}

// scenario is one API test case: a request and what must come back.
type scenario struct {
	name   string
	req    req
	status int
	code   string // the error code expected, "" for success
	check  func(t *testing.T, r response)
}

func (e *env) run(t *testing.T, scenarios []scenario) {
	t.Helper()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			e.t = t
			res := e.do(sc.req)
			if res.status != sc.status {
				t.Fatalf("status = %d, want %d: %s", res.status, sc.status, res.body)
			}
			if got := res.errCode(); got != sc.code {
				t.Fatalf("code = %q, want %q: %s", got, sc.code, res.body)
			}
			if sc.check != nil {
				sc.check(t, res)
			}
		})
	}
}
