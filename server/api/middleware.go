package api

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fieldnotes/fieldnotes/server/auth"
	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/rs/zerolog"
	"golang.org/x/time/rate"
)

// Principal is the verified caller of a request.
type Principal struct {
	Subject  string   // user id or device id
	Role     string   // store.RoleAdmin, RoleCoordinator or RoleDevice
	Teams    []string // the teams the caller may see; nil for an admin (every team)
	Node     string   // the op node the caller writes under
	DeviceID string   // set for devices
	Email    string   // set for people; never logged
}

// IsAdmin reports whether the caller sees every team.
func (p *Principal) IsAdmin() bool { return p.Role == store.RoleAdmin }

// CanSee reports whether team is in the caller's scope.
func (p *Principal) CanSee(team string) bool {
	return p.Teams == nil || slices.Contains(p.Teams, team)
}

const principalKey = "fieldnotes.principal"

// Caller returns the request's verified caller (nil on public routes).
func Caller(c echo.Context) *Principal {
	p, _ := c.Get(principalKey).(*Principal)
	return p
}

// RequireRole refuses callers whose role is not listed: 403 forbidden.
func RequireRole(roles ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p := Caller(c)
			if p == nil {
				return Fail(CodeUnauthorized)
			}
			if !slices.Contains(roles, p.Role) {
				return Fail(CodeForbidden)
			}
			return next(c)
		}
	}
}

// ScopeTeams turns an optional ?team= into the teams a query may cover: the caller's
// own (nil = every team, for an admin) when requested is empty, else just requested if
// the caller may see it (403 out_of_scope otherwise).
func ScopeTeams(c echo.Context, requested string) ([]string, error) {
	p := Caller(c)
	if p == nil {
		return nil, Fail(CodeUnauthorized)
	}
	if requested == "" {
		return p.Teams, nil
	}
	if !p.CanSee(requested) {
		return nil, Fail(CodeOutOfScope, map[string]any{"team": requested})
	}
	return []string{requested}, nil
}

// authenticate verifies the bearer token and loads the caller. Devices are looked up on
// every request, so a revocation takes effect at once.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		if h == "" {
			return Fail(CodeUnauthorized)
		}
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return Fail(CodeInvalidToken)
		}
		claims, err := s.Tokens.Parse(strings.TrimSpace(token))
		switch {
		case errors.Is(err, auth.ErrTokenExpired):
			return Fail(CodeTokenExpired)
		case err != nil:
			return Fail(CodeInvalidToken)
		}
		ctx := c.Request().Context()
		p := &Principal{Subject: claims.Subject, Role: claims.Role}
		switch claims.Role {
		case store.RoleDevice:
			d, err := s.Store.Device(ctx, claims.Subject)
			if errors.Is(err, store.ErrNotFound) {
				return Fail(CodeInvalidToken)
			} else if err != nil {
				return Internal(err)
			}
			if d.Revoked {
				return Fail(CodeDeviceRevoked)
			}
			if d.TokensRevokedAt != 0 {
				return Fail(CodeTokensRevoked)
			}
			if d.Team != claims.Team {
				return Fail(CodeInvalidToken)
			}
			p.Teams, p.Node, p.DeviceID = []string{d.Team}, d.NodeID, d.ID
			s.touch(c, d)
		case store.RoleAdmin, store.RoleCoordinator:
			u, err := s.Store.UserByID(ctx, claims.Subject)
			if errors.Is(err, store.ErrNotFound) {
				return Fail(CodeInvalidToken)
			} else if err != nil {
				return Internal(err)
			}
			if u.Role != claims.Role {
				return Fail(CodeInvalidToken)
			}
			p.Node, p.Email, p.Teams = u.NodeID, u.Email, u.Teams
			if u.Role == store.RoleAdmin {
				p.Teams = nil
			} else if p.Teams == nil {
				p.Teams = []string{}
			}
		default:
			return Fail(CodeInvalidToken)
		}
		c.Set(principalKey, p)
		return next(c)
	}
}

// touch records a device's last contact, at most once a minute per device.
func (s *Server) touch(c echo.Context, d store.Device) {
	now := s.Now()
	s.seenMu.Lock()
	last, ok := s.seen[d.ID]
	due := (!ok || now.Sub(last) >= time.Minute) && now.UnixMilli()-d.LastSeenAt >= time.Minute.Milliseconds()
	if due {
		s.seen[d.ID] = now
	}
	s.seenMu.Unlock()
	if due {
		if err := s.Store.TouchDevice(c.Request().Context(), d.ID, now.UnixMilli()); err != nil {
			s.Log.Warn().Err(err).Str("device", d.ID).Msg("last seen not recorded")
		}
	}
}

// limiter is a token bucket per key (a caller, or a client IP for the login routes).
// With several instances on one store each keeps its share of the rate and burst.
type limiter struct {
	mu        sync.Mutex
	rate      rate.Limit
	burst     int
	now       func() time.Time
	buckets   map[string]*bucket
	sweep     time.Time
	instances func() int // nil: one
	shares    int        // the instance count the buckets are set for
}

type bucket struct {
	lim  *rate.Limiter
	used time.Time
}

func newLimiter(perSecond float64, burst int, now func() time.Time) *limiter {
	return &limiter{rate: rate.Limit(perSecond), burst: burst, now: now, buckets: map[string]*bucket{}, shares: 1}
}

// share is this instance's part of the rate and burst; called under mu. When the number
// of instances changes every bucket is reset to the new share.
func (l *limiter) share(now time.Time) (rate.Limit, int) {
	n := 1
	if l.instances != nil {
		n = max(1, l.instances())
	}
	r, b := l.rate/rate.Limit(n), max(1, l.burst/n)
	if n != l.shares {
		l.shares = n
		for _, bk := range l.buckets {
			bk.lim.SetLimitAt(now, r)
			bk.lim.SetBurstAt(now, b)
		}
	}
	return r, b
}

// allow takes a token for key; if none is left it says how long until one is.
func (l *limiter) allow(key string) (bool, time.Duration) {
	if l.rate <= 0 || math.IsInf(float64(l.rate), 1) {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.sweep) > 10*time.Minute {
		for k, b := range l.buckets {
			if now.Sub(b.used) > 10*time.Minute {
				delete(l.buckets, k)
			}
		}
		l.sweep = now
	}
	lim, burst := l.share(now)
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(lim, burst)}
		l.buckets[key] = b
	}
	b.used = now
	if b.lim.AllowN(now, 1) {
		return true, 0
	}
	r := b.lim.ReserveN(now, 1)
	d := r.DelayFrom(now)
	r.CancelAt(now)
	return false, d
}

func tooMany(c echo.Context, wait time.Duration) error {
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	return Fail(CodeRateLimited, map[string]any{"retry_after": secs})
}

func (s *Server) limitByCaller(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if p := Caller(c); p != nil {
			if ok, wait := s.limiter.allow(p.Subject); !ok {
				return tooMany(c, wait)
			}
		}
		return next(c)
	}
}

func (s *Server) limitByIP(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if ok, wait := s.authLim.allow(c.RealIP()); !ok {
			return tooMany(c, wait)
		}
		return next(c)
	}
}

// errBodyTooLarge is what a capped body returns past its limit.
type errBodyTooLarge struct{ limit int64 }

func (e *errBodyTooLarge) Error() string { return fmt.Sprintf("body larger than %d bytes", e.limit) }

// cappedReader fails once more than limit bytes have been read: it bounds the
// decompressed stream of a gzip body, whatever its compressed size (zip bombs).
type cappedReader struct {
	r     io.Reader
	left  int64
	limit int64
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// One more byte than allowed means the body is too large.
		var one [1]byte
		if n, _ := c.r.Read(one[:]); n > 0 {
			return 0, &errBodyTooLarge{c.limit}
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r readCloser) Close() error { return r.close() }

// bodyLimit caps a request body at limit bytes (413 body_too_large) and decodes a gzip
// body (Content-Encoding: gzip), capping the decoded stream at the same limit.
func bodyLimit(limit int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if req.ContentLength > limit {
				return Fail(CodeBodyTooLarge, map[string]any{"limit": humanBytes(limit)})
			}
			raw := req.Body
			capped := &cappedReader{r: raw, left: limit, limit: limit}
			switch enc := strings.ToLower(strings.TrimSpace(req.Header.Get(echo.HeaderContentEncoding))); enc {
			case "", "identity":
				req.Body = readCloser{capped, raw.Close}
			case "gzip", "x-gzip":
				zr, err := gzip.NewReader(capped)
				if err != nil {
					var tl *errBodyTooLarge
					if errors.As(err, &tl) {
						return Fail(CodeBodyTooLarge, map[string]any{"limit": humanBytes(limit)})
					}
					if err == io.EOF {
						return Fail(CodeMalformedJSON, map[string]any{"reason": "empty body"})
					}
					return Fail(CodeMalformedJSON, map[string]any{"reason": "body is not valid gzip"})
				}
				req.Body = readCloser{&cappedReader{r: zr, left: limit, limit: limit}, raw.Close}
				req.Header.Del(echo.HeaderContentEncoding)
				req.ContentLength = -1
			default:
				return Fail(CodeUnsupportedMediaType, map[string]any{"content_encoding": enc})
			}
			return next(c)
		}
	}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// requestLogger writes one zerolog line per request, and the request metrics: ids, the
// route template (never query values, which may be personal), status, latency, caller.
func (s *Server) requestLogger() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus:    true,
		LogLatency:   true,
		LogMethod:    true,
		LogURIPath:   true,
		LogRoutePath: true,
		LogRequestID: true,
		LogError:     true,
		HandleError:  true, // run the error handler first, so the status logged is the one sent
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			route := v.RoutePath
			if route == "" || strings.HasSuffix(route, "/*") {
				route = "unmatched"
			}
			s.metrics.observeRequest(v.Method, route, v.Status, v.Latency)
			level := zerolog.InfoLevel
			if v.Status >= 500 {
				level = zerolog.ErrorLevel
			}
			ev := s.Log.WithLevel(level).
				Str("request_id", v.RequestID).
				Str("method", v.Method).
				Str("route", route).
				Int("status", v.Status).
				Dur("latency", v.Latency)
			if route != "unmatched" {
				ev = ev.Str("path", v.URIPath)
			}
			if p := Caller(c); p != nil {
				ev = ev.Str("subject", p.Subject).Str("role", p.Role)
			}
			var e *Error
			if errors.As(v.Error, &e) {
				ev = ev.Str("code", e.Code)
			} else if v.Error != nil && v.Status >= 500 {
				ev = ev.Str("code", CodeInternal)
			}
			ev.Msg("request")
			return nil
		},
	})
}
