// Package api is the Fieldnotes HTTP API on echo: auth (JWT access tokens, rotating
// refresh tokens, device enrolment and revocation), teams and users, sync push/pull/state,
// records with their audit history, central consent withdrawal, and the service endpoints
// (/healthz, /readyz, /metrics, /v1/locales, /v1/openapi.json). docs/PROTOCOL.md is the
// contract.
//
// # Extension point
//
// Other server packages (reports, decisions and feedback, exports) add their routes with
// Server.Mount; the wiring does it for every function in app.Extensions:
//
//	// server/reports/routes.go
//	func Routes(g *echo.Group, d api.Deps) {
//		g.GET("/reports/participation", participation(d), api.RequireRole(store.RoleCoordinator, store.RoleAdmin))
//	}
//
//	// server/app/ext_coord.go
//	func init() {
//		Extensions = append(Extensions, func(g *echo.Group, d api.Deps) { coordapi.Routes(d.DataDir)(g, d) })
//	}
//
// g is the authenticated /v1 group: every request in it carries a verified Principal
// (Caller(c)), is rate limited per caller, and has a 64 KiB body limit with gzip request
// bodies decoded. Handlers return errors made with Fail (stable codes, see errors.go) and
// use ScopeTeams to turn an optional ?team= into the teams the caller may see.
//
// This package never imports client-sdk.
package api

import (
	"context"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fieldnotes/fieldnotes/server/auth"
	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/rs/zerolog"
)

// Deps is what handlers need; extensions get the same.
type Deps struct {
	Store  store.Store
	Tokens *auth.Tokens
	Log    zerolog.Logger
	// Now is wall time; time.Now when nil.
	Now func() time.Time
	// DataDir is the server's data directory (extensions keep their own files there).
	DataDir string
}

// Options tune limits; zero values take the defaults.
type Options struct {
	PushBodyLimit  int64   // bytes, after gzip decoding; default 8 MiB
	BodyLimit      int64   // every other request; default 64 KiB
	MaxPushOps     int     // default 5000
	RatePerSecond  float64 // per caller; default 50
	RateBurst      int     // default 100
	AuthRate       float64 // login, enrol and refresh per client IP; default 20/s
	AuthBurst      int     // default 200
	Argon2         auth.Argon2Params
	EnrolmentTTL   time.Duration // default 15 min
	DeviceTokenTTL time.Duration // device refresh tokens; default 180 days
	UserTokenTTL   time.Duration // people's refresh tokens; default 30 days
	// Registry receives the metrics; a fresh one when nil.
	Metrics *Metrics
	// Instances, if set, is how many server instances share the store (PostgreSQL);
	// each enforces its share of every rate and burst, so a caller spread across
	// instances by a load balancer still gets the configured rate in all.
	Instances func() int
}

func (o *Options) defaults() {
	if o.PushBodyLimit == 0 {
		o.PushBodyLimit = 8 << 20
	}
	if o.BodyLimit == 0 {
		o.BodyLimit = 64 << 10
	}
	if o.MaxPushOps == 0 {
		o.MaxPushOps = 5000
	}
	if o.RatePerSecond == 0 {
		o.RatePerSecond = 50
	}
	if o.RateBurst == 0 {
		o.RateBurst = 100
	}
	if o.AuthRate == 0 {
		o.AuthRate = 20
	}
	if o.AuthBurst == 0 {
		o.AuthBurst = 200
	}
	if o.Argon2 == (auth.Argon2Params{}) {
		o.Argon2 = auth.DefaultArgon2
	}
	if o.EnrolmentTTL == 0 {
		o.EnrolmentTTL = 15 * time.Minute
	}
	if o.DeviceTokenTTL == 0 {
		o.DeviceTokenTTL = 180 * 24 * time.Hour
	}
	if o.UserTokenTTL == 0 {
		o.UserTokenTTL = 30 * 24 * time.Hour
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics()
	}
}

// Server is the API.
type Server struct {
	Deps
	opt     Options
	echo    *echo.Echo
	v1      *echo.Group // authenticated
	limiter *limiter
	authLim *limiter
	metrics *Metrics

	seenMu sync.Mutex
	seen   map[string]time.Time // device id -> last time last_seen_at was written
}

// New builds the API on deps.
func New(deps Deps, opt Options) *Server {
	opt.defaults()
	if deps.Now == nil {
		deps.Now = time.Now
	}
	s := &Server{
		Deps:    deps,
		opt:     opt,
		echo:    echo.New(),
		limiter: newLimiter(opt.RatePerSecond, opt.RateBurst, deps.Now),
		authLim: newLimiter(opt.AuthRate, opt.AuthBurst, deps.Now),
		metrics: opt.Metrics,
		seen:    map[string]time.Time{},
	}
	s.limiter.instances, s.authLim.instances = opt.Instances, opt.Instances
	e := s.echo
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = echo.ExtractIPDirect() // X-Forwarded-For is the client's to forge
	e.Logger.SetOutput(io.Discard)

	e.Use(middleware.RequestID())
	e.Use(s.requestLogger())
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisablePrintStack: true,
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.Log.Error().Err(err).Bytes("stack", stack).Msg("panic")
			return Internal(err)
		},
	}))
	e.Use(s.lingerOnError) // outside gzip: the error it sends at once is small and plain
	e.Use(gzipResponses())

	s.routes()
	return s
}

// Mount lets another package register routes on the authenticated /v1 group. register
// must not call g.Use (echo would then route unknown /v1 paths through it).
func (s *Server) Mount(register func(g *echo.Group, d Deps)) { register(s.v1, s.Deps) }

// Echo is the underlying router (for tests and the wiring).
func (s *Server) Echo() *echo.Echo { return s.echo }

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Metrics are the server's Prometheus metrics.
func (s *Server) Metrics() *Metrics { return s.metrics }

func (s *Server) routes() {
	e := s.echo
	body := bodyLimit(s.opt.BodyLimit)
	e.GET("/healthz", s.healthz)
	e.HEAD("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", echo.WrapHandler(s.metrics.Handler()))
	e.GET("/v1/locales", s.listLocales)
	e.GET("/v1/openapi.json", s.openAPI)

	e.POST("/v1/auth/login", s.login, body, s.limitByIP)
	e.POST("/v1/auth/refresh", s.refresh, body, s.limitByIP)
	e.POST("/v1/devices/enrol", s.enrol, body, s.limitByIP)

	// Every other /v1 route needs a token. Push has a larger body limit than the rest.
	v1 := e.Group("/v1", s.authenticate, s.limitByCaller, s.bodyLimitByRoute)
	s.v1 = v1
	people := RequireRole(store.RoleCoordinator, store.RoleAdmin)
	admin := RequireRole(store.RoleAdmin)
	anyone := RequireRole(store.RoleDevice, store.RoleCoordinator, store.RoleAdmin)

	v1.GET("/auth/me", s.me, anyone)
	v1.POST("/teams", s.createTeam, admin)
	v1.GET("/teams", s.listTeams, people)
	v1.POST("/users", s.createUser, admin)
	v1.GET("/users", s.listUsers, admin)
	v1.POST("/devices/enrolment-codes", s.createEnrolmentCode, people)
	v1.GET("/devices", s.listDevices, people)
	v1.POST("/devices/:device_id/revoke", s.revokeDevice, people)

	v1.POST("/sync/push", s.push, anyone)
	v1.GET("/sync/pull", s.pull, anyone)
	v1.GET("/sync/state", s.state, anyone)

	v1.GET("/records/:collection", s.listRecords, people)
	v1.GET("/records/:collection/:id", s.getRecord, people)
	v1.POST("/consents/:id/withdraw", s.withdrawConsent, people)

	// echo routes unmatched /v1 paths through the group's middleware (so they would answer
	// 401 to a caller without a token); an unknown path is a 404 for everyone.
	e.RouteNotFound("/v1", s.notFound)
	e.RouteNotFound("/v1/*", s.notFound)
}

// notFound answers a /v1 path no route matched with this method: 405 when the path exists
// with other methods (echo's own 405 is shadowed by the group's catch-all), else 404.
func (s *Server) notFound(c echo.Context) error {
	path := c.Request().URL.Path
	var allow []string
	for _, r := range s.echo.Routes() {
		if r.Method != c.Request().Method && !strings.HasPrefix(r.Method, "echo_") && !strings.HasSuffix(r.Path, "*") && matchRoute(r.Path, path) {
			allow = append(allow, r.Method)
		}
	}
	if len(allow) > 0 {
		sort.Strings(allow)
		c.Response().Header().Set(echo.HeaderAllow, strings.Join(allow, ", "))
		return Fail(CodeMethodNotAllowed)
	}
	return Fail(CodeNotFound)
}

// matchRoute matches a request path against an echo route pattern with :params.
func matchRoute(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if strings.HasPrefix(ps[i], ":") {
			if xs[i] == "" {
				return false
			}
		} else if ps[i] != xs[i] {
			return false
		}
	}
	return true
}

// bodyLimitByRoute gives push its larger limit and every other route the default.
func (s *Server) bodyLimitByRoute(next echo.HandlerFunc) echo.HandlerFunc {
	small, large := bodyLimit(s.opt.BodyLimit)(next), bodyLimit(s.opt.PushBodyLimit)(next)
	return func(c echo.Context) error {
		if c.Path() == "/v1/sync/push" {
			return large(c)
		}
		return small(c)
	}
}

// AllowLogin takes a token from the per-IP bucket that limits the API's login, refresh
// and enrol routes, so that other sign-in forms (the console's) share the same limit. When
// none is left it says how long until one is.
func (s *Server) AllowLogin(ip string) (bool, time.Duration) { return s.authLim.allow(ip) }

// Options are the server's limits and password parameters, defaults filled in.
func (s *Server) Options() Options { return s.opt }

// Close releases nothing yet; the store is closed by its owner.
func (s *Server) Close(ctx context.Context) error { return nil }
