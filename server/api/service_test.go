package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fieldnotes/fieldnotes/locales"
	"github.com/fieldnotes/fieldnotes/server/api"
	"github.com/fieldnotes/fieldnotes/server/auth"
	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/fieldnotes/fieldnotes/server/store/postgres"
	"github.com/fieldnotes/fieldnotes/server/store/postgres/pgtest"
	"github.com/labstack/echo/v4"
)

func TestService(t *testing.T) {
	e := newEnv(t)
	e.run(t, []scenario{
		{name: "Healthz", req: req{method: "GET", path: "/healthz"}, status: 200,
			check: func(t *testing.T, r response) {
				if strings.TrimSpace(string(r.body)) != `{"status":"ok"}` {
					t.Fatalf("healthz = %s", r.body)
				}
			}},
		{name: "Readyz", req: req{method: "GET", path: "/readyz"}, status: 200},
		{name: "Metrics", req: req{method: "GET", path: "/metrics"}, status: 200,
			check: func(t *testing.T, r response) {
				for _, want := range []string{"fieldnotes_http_requests_total", `route="/v1/sync/push"`, `fieldnotes_sync_ops_total{outcome="accepted"}`, "fieldnotes_sync_push_batch_ops"} {
					if !strings.Contains(string(r.body), want) {
						t.Fatalf("metrics lack %s", want)
					}
				}
			}},
		{name: "Locales", req: req{method: "GET", path: "/v1/locales"}, status: 200,
			check: func(t *testing.T, r response) {
				var out struct{ Languages []api.Language }
				json.Unmarshal(r.body, &out)
				if len(out.Languages) != len(locales.Supported) || out.Languages[0].Code != "en" || out.Languages[0].Translated != 1 {
					t.Fatalf("locales = %s", r.body)
				}
				for _, l := range out.Languages {
					if l.Code == "ur" && l.Direction != "rtl" {
						t.Fatalf("ur = %+v", l)
					}
				}
			}},
		{name: "OpenAPI", req: req{method: "GET", path: "/v1/openapi.json"}, status: 200},
		{name: "UnknownRoute", req: req{method: "GET", path: "/v1/nothing-here"}, status: 404, code: "not_found"},
		{name: "UnknownRouteOutsideV1", req: req{method: "GET", path: "/nothing"}, status: 404, code: "not_found"},
		{name: "WrongMethodAuthed", req: req{method: "DELETE", path: "/v1/sync/push", token: e.admin}, status: 405, code: "method_not_allowed",
			check: func(t *testing.T, r response) {
				if r.header.Get("Allow") != "POST" {
					t.Fatalf("Allow = %q", r.header.Get("Allow"))
				}
			}},
		{name: "WrongMethodParam", req: req{method: "PUT", path: "/v1/records/conversation/x"}, status: 405, code: "method_not_allowed"},
		{name: "GzipResponse", req: req{method: "GET", path: "/v1/openapi.json", header: map[string]string{"Accept-Encoding": "gzip"}}, status: 200,
			check: func(t *testing.T, r response) {
				if r.header.Get("Content-Encoding") != "gzip" {
					t.Fatal("openapi.json not gzipped when accepted")
				}
			}},
		{name: "RequestID", req: req{method: "GET", path: "/healthz"}, status: 200,
			check: func(t *testing.T, r response) {
				if r.header.Get(echo.HeaderXRequestID) == "" {
					t.Fatal("no request id")
				}
			}},
	})
}

// TestOpenAPICoversRoutes: every registered route is in openapi.json, and every operation
// in it names its responses.
func TestOpenAPICoversRoutes(t *testing.T) {
	e := newEnv(t)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("openapi = %q", doc.OpenAPI)
	}
	param := regexp.MustCompile(`:([a-z_]+)`)
	for _, r := range e.srv.Echo().Routes() {
		if strings.HasPrefix(r.Method, "echo_") || strings.HasSuffix(r.Path, "*") {
			continue
		}
		path := param.ReplaceAllString(r.Path, "{$1}")
		ops, ok := doc.Paths[path]
		if !ok {
			t.Errorf("route %s %s is not in openapi.json", r.Method, path)
			continue
		}
		if _, ok := ops[strings.ToLower(r.Method)]; !ok {
			t.Errorf("route %s %s: method not in openapi.json", r.Method, path)
		}
	}
	// The issue-6 endpoints of the contract are described too.
	for _, p := range []string{"/v1/reports/participation", "/v1/reports/themes", "/v1/reports/gaps", "/v1/baselines/{name}",
		"/v1/decisions", "/v1/decisions/{id}/feedback", "/v1/feedback", "/v1/export/{collection}"} {
		if _, ok := doc.Paths[p]; !ok {
			t.Errorf("%s is not in openapi.json", p)
		}
	}
}

// TestErrorCodesHaveMessages: every code the API maps has an English message.
func TestErrorCodesHaveMessages(t *testing.T) {
	for _, code := range []string{api.CodeMalformedJSON, api.CodeBodyTooLarge, api.CodeUnsupportedMediaType, api.CodeUnknownCollection,
		api.CodeUnauthorized, api.CodeInvalidToken, api.CodeTokenExpired, api.CodeDeviceRevoked, api.CodeForbidden, api.CodeOutOfScope,
		api.CodeNotFound, api.CodeRecordErased, api.CodeInvalidCredentials, api.CodeEnrolmentCodeInvalid, api.CodeEnrolmentCodeUsed,
		api.CodeEnrolmentCodeExpired, api.CodeRefreshTokenInvalid, api.CodeRefreshTokenReused, api.CodeRateLimited, api.CodeConflict,
		api.CodeInvalidQuery, api.CodeInvalidCursor, api.CodeTeamRequired, api.CodeUnknownTeam, api.CodeEmailTaken, api.CodeWeakPassword,
		api.CodeInternal, api.CodeStoreUnavailable, api.CodeMethodNotAllowed, "invalid_enum", "invalid_type", "required", "invalid_field",
		"invalid_kind", "invalid_op", "invalid_record_id", "invalid_node", "not_own_node"} {
		if !locales.Has("en", "error."+code) {
			t.Errorf("error.%s has no English message", code)
		}
		if api.Status(code) == http.StatusInternalServerError && code != api.CodeInternal {
			t.Errorf("%s has no status", code)
		}
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t)
	srv := api.New(api.Deps{Store: e.st, Tokens: e.tokens, Now: e.now}, api.Options{Argon2: auth.TestArgon2, RatePerSecond: 1, RateBurst: 2, AuthRate: 1, AuthBurst: 1})
	e.srv = srv
	e.run(t, []scenario{
		{name: "First", req: req{method: "GET", path: "/v1/sync/state", token: e.devN.AccessToken}, status: 200},
		{name: "Second", req: req{method: "GET", path: "/v1/sync/state", token: e.devN.AccessToken}, status: 200},
		{name: "Third", req: req{method: "GET", path: "/v1/sync/state", token: e.devN.AccessToken}, status: 429, code: "rate_limited",
			check: func(t *testing.T, r response) {
				if r.header.Get("Retry-After") == "" {
					t.Fatal("no Retry-After")
				}
			}},
		{name: "OtherDeviceUnaffected", req: req{method: "GET", path: "/v1/sync/state", token: e.devS.AccessToken}, status: 200},
		{name: "LoginFirst", req: req{method: "POST", path: "/v1/auth/login", body: map[string]any{"email": "x@example.org", "password": "whatever"}}, status: 401, code: "invalid_credentials"},
		{name: "LoginLimited", req: req{method: "POST", path: "/v1/auth/login", body: map[string]any{"email": "x@example.org", "password": "whatever"}}, status: 429, code: "rate_limited"},
	})
}

func TestReadyzWhenStoreClosed(t *testing.T) {
	e := newEnv(t)
	e.st.Close()
	e.allow5xx = true // 503 is the right answer here, not a bug
	e.run(t, []scenario{
		{name: "NotReady", req: req{method: "GET", path: "/readyz"}, status: 503, code: "store_unavailable"},
		{name: "StillAlive", req: req{method: "GET", path: "/healthz"}, status: 200},
	})
}

func TestMount(t *testing.T) {
	e := newEnv(t)
	e.srv.Mount(func(g *echo.Group, d api.Deps) {
		g.GET("/ext/whoami", func(c echo.Context) error {
			teams, err := api.ScopeTeams(c, c.QueryParam("team"))
			if err != nil {
				return err
			}
			return c.JSON(200, map[string]any{"sub": api.Caller(c).Subject, "teams": teams})
		}, api.RequireRole(store.RoleCoordinator))
		g.GET("/ext/fail", func(c echo.Context) error {
			return api.Fail("invalid_query", map[string]any{"field": "group_by"})
		})
	})
	e.run(t, []scenario{
		{name: "Authenticated", req: req{method: "GET", path: "/v1/ext/whoami", token: e.coordN}, status: 200},
		{name: "NoToken", req: req{method: "GET", path: "/v1/ext/whoami"}, status: 401, code: "unauthorized"},
		{name: "Role", req: req{method: "GET", path: "/v1/ext/whoami", token: e.devN.AccessToken}, status: 403, code: "forbidden"},
		{name: "Scope", req: req{method: "GET", path: "/v1/ext/whoami?team=south", token: e.coordN}, status: 403, code: "out_of_scope"},
		{name: "Fail", req: req{method: "GET", path: "/v1/ext/fail", token: e.coordN}, status: 400, code: "invalid_query",
			check: func(t *testing.T, r response) {
				if !strings.Contains(string(r.body), "group_by") {
					t.Fatalf("message lacks the field: %s", r.body)
				}
			}},
	})
}

// TestRateLimitSharedAcrossInstances: two API instances on one PostgreSQL database split
// a caller's rate between them, so alternating instances buys no extra requests.
func TestRateLimitSharedAcrossInstances(t *testing.T) {
	url := pgtest.URL(t)
	e := newEnv(t)
	var lastStatus []int
	var servers []*api.Server
	for range 2 {
		st, err := postgres.Open(t.Context(), url, postgres.Options{Heartbeat: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		servers = append(servers, api.New(api.Deps{Store: st, Tokens: e.tokens, Now: e.now},
			api.Options{Argon2: auth.TestArgon2, RatePerSecond: 0.001, RateBurst: 4, Instances: st.Instances}))
	}
	// Both instances count each other after a heartbeat.
	deadline := time.Now().Add(5 * time.Second)
	for {
		ok := true
		for _, s := range servers {
			ok = ok && s.Deps.Store.(*postgres.DB).Instances() == 2
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the instances never counted each other")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The caller's token is signed with the shared key; its subject is the rate key.
	admin, err := api.NewUser("ops@example.org", "ops-password", store.RoleAdmin, nil, auth.TestArgon2, e.now().UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	if err := servers[0].Deps.Store.CreateUser(t.Context(), admin); err != nil {
		t.Fatal(err)
	}
	token, err := e.tokens.Issue(admin.ID, store.RoleAdmin, "")
	if err != nil {
		t.Fatal(err)
	}
	ok := 0
	for i := range 8 {
		req := httptest.NewRequest("GET", "/v1/teams", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		servers[i%2].Echo().ServeHTTP(rec, req)
		lastStatus = append(lastStatus, rec.Code)
		if rec.Code == 200 {
			ok++
		}
	}
	if ok != 4 {
		t.Fatalf("%d requests allowed across two instances with a burst of 4 (statuses %v)", ok, lastStatus)
	}
}
