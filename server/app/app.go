// Package app wires the Fieldnotes server together: configuration from flags and the
// environment, the store in the data directory, the signing key, the first admin, the
// --demo seed, the API, and a graceful shutdown. cmd/fieldnotes-server is a thin main
// over Run; tests and the load harness call Run or Start in-process.
package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/fieldnotes/fieldnotes/locales"
	"github.com/fieldnotes/fieldnotes/server/api"
	"github.com/fieldnotes/fieldnotes/server/auth"
	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/fieldnotes/fieldnotes/server/store/sqlite"
	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"
)

// Config is the server's configuration. Every flag also reads from the environment
// (FIELDNOTES_<NAME>); a flag given on the command line wins.
type Config struct {
	Addr            string
	Data            string
	Demo            bool
	AdminEmail      string
	AdminPassword   string
	JWTSecret       string // FIELDNOTES_JWT_SECRET only: never a flag, so it stays out of ps
	MaxSkew         time.Duration
	Rate            float64
	RateBurst       int
	AuthRate        float64
	AuthBurst       int
	LogLevel        string
	ShutdownTimeout time.Duration
	// Chromium is the browser the annual report's PDFs are printed with ("" looks for
	// chromium on PATH).
	Chromium string
	// PublicURL is the address the public reaches this server at (https://…); feedback
	// messages link to published engagements' pages under it. "": no links.
	PublicURL string

	// Set by code, not flags.
	LogOutput io.Writer         // default os.Stderr
	Argon2    auth.Argon2Params // default auth.DefaultArgon2
	Now       func() time.Time  // default time.Now
	// ConnState, if set, is told of every connection state change (tests watch requests
	// start).
	ConnState func(net.Conn, http.ConnState)
}

// ParseConfig reads flags from args (without the program name) over the environment.
func ParseConfig(args []string, env func(string) string) (Config, error) {
	if env == nil {
		env = func(string) string { return "" }
	}
	fs := flag.NewFlagSet("fieldnotes-server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var cfg Config
	str := func(p *string, name, envName, def, usage string) {
		if v := env(envName); v != "" {
			def = v
		}
		fs.StringVar(p, name, def, usage+" ("+envName+")")
	}
	str(&cfg.Addr, "addr", "FIELDNOTES_ADDR", "127.0.0.1:8080", "listen address; port 0 picks a free port")
	str(&cfg.Data, "data", "FIELDNOTES_DATA", "./data", "data directory")
	str(&cfg.AdminEmail, "admin-email", "FIELDNOTES_ADMIN_EMAIL", "", "create this admin if there are no users")
	str(&cfg.AdminPassword, "admin-password", "FIELDNOTES_ADMIN_PASSWORD", "", "the first admin's password")
	str(&cfg.LogLevel, "log-level", "FIELDNOTES_LOG_LEVEL", "info", "debug, info, warn or error")
	str(&cfg.Chromium, "chromium", "FIELDNOTES_CHROMIUM", "", "Chromium for the annual report's PDFs (default: chromium on PATH)")
	str(&cfg.PublicURL, "public-url", "FIELDNOTES_PUBLIC_URL", "", "public address of this server, for links in feedback messages (https://…)")
	var demo, skew, rateS, burst, authRate, authBurst, shutdown string
	str(&demo, "demo", "FIELDNOTES_DEMO", "false", "seed a demo team, coordinator, engagement and enrolment code")
	str(&skew, "max-skew", "FIELDNOTES_MAX_SKEW", "5m", "ops stamped further ahead of the server clock are restamped")
	str(&rateS, "rate", "FIELDNOTES_RATE", "50", "requests per second per caller")
	str(&burst, "rate-burst", "FIELDNOTES_RATE_BURST", "100", "burst per caller")
	str(&authRate, "auth-rate", "FIELDNOTES_AUTH_RATE", "20", "login/enrol/refresh requests per second per client IP")
	str(&authBurst, "auth-burst", "FIELDNOTES_AUTH_BURST", "200", "burst per client IP on login/enrol/refresh")
	str(&shutdown, "shutdown-timeout", "FIELDNOTES_SHUTDOWN_TIMEOUT", "30s", "how long SIGTERM waits for requests in flight")
	// --demo is a switch: a bare "--demo" means true (see normaliseBoolFlags).
	if err := fs.Parse(normaliseBoolFlags(args, "demo")); errors.Is(err, flag.ErrHelp) {
		var b strings.Builder
		b.WriteString("Usage: fieldnotes-server [options]\n\nRuns the Fieldnotes API on its embedded SQLite store. Every option also reads\nfrom the environment variable named after it. FIELDNOTES_JWT_SECRET sets the\nsigning key (else <data>/jwt.key is made on first run).\n\nOptions:\n")
		fs.SetOutput(&b)
		fs.PrintDefaults()
		return cfg, &HelpRequested{Usage: b.String()}
	} else if err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if cfg.Demo, err = strconv.ParseBool(demo); err != nil {
		return cfg, fmt.Errorf("--demo: %w", err)
	}
	if cfg.MaxSkew, err = time.ParseDuration(skew); err != nil || cfg.MaxSkew <= 0 {
		return cfg, fmt.Errorf("--max-skew: a positive duration such as 5m")
	}
	if cfg.ShutdownTimeout, err = time.ParseDuration(shutdown); err != nil || cfg.ShutdownTimeout <= 0 {
		return cfg, fmt.Errorf("--shutdown-timeout: a positive duration such as 30s")
	}
	if cfg.Rate, err = strconv.ParseFloat(rateS, 64); err != nil || cfg.Rate <= 0 {
		return cfg, fmt.Errorf("--rate: a positive number")
	}
	if cfg.RateBurst, err = strconv.Atoi(burst); err != nil || cfg.RateBurst <= 0 {
		return cfg, fmt.Errorf("--rate-burst: a positive integer")
	}
	if cfg.AuthRate, err = strconv.ParseFloat(authRate, 64); err != nil || cfg.AuthRate <= 0 {
		return cfg, fmt.Errorf("--auth-rate: a positive number")
	}
	if cfg.AuthBurst, err = strconv.Atoi(authBurst); err != nil || cfg.AuthBurst <= 0 {
		return cfg, fmt.Errorf("--auth-burst: a positive integer")
	}
	if cfg.PublicURL != "" {
		u, err := url.Parse(cfg.PublicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return cfg, fmt.Errorf("--public-url: an http(s) address such as https://fieldnotes.example.org")
		}
		cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	}
	if _, err := zerolog.ParseLevel(cfg.LogLevel); err != nil {
		return cfg, fmt.Errorf("--log-level: %w", err)
	}
	cfg.JWTSecret = env("FIELDNOTES_JWT_SECRET")
	return cfg, nil
}

// HelpRequested is ParseConfig's answer to -h or --help: not a failure; print Usage and
// exit 0. errors.Is(err, flag.ErrHelp) holds.
type HelpRequested struct{ Usage string }

func (h *HelpRequested) Error() string { return flag.ErrHelp.Error() }
func (h *HelpRequested) Unwrap() error { return flag.ErrHelp }

// normaliseBoolFlags turns a bare "--demo" into "--demo=true" (flag's string flags would
// otherwise swallow the next argument).
func normaliseBoolFlags(args []string, names ...string) []string {
	out := make([]string, 0, len(args))
	for _, a := range args {
		for _, n := range names {
			if a == "-"+n || a == "--"+n {
				a = "--" + n + "=true"
			}
		}
		out = append(out, a)
	}
	return out
}

// Extensions are mounted on the API (api.Server.Mount) before it serves. Other server
// packages add theirs from an init function in a file of this package, e.g.
//
//	func init() {
//		Extensions = append(Extensions, func(g *echo.Group, d api.Deps) { coordapi.Routes(d.DataDir)(g, d) })
//	}
var Extensions []func(g *echo.Group, d api.Deps)

// Wirings are like Extensions for packages that need more than the /v1 group: the whole
// API (public routes on its root router) and the configuration. They run after the
// Extensions.
var Wirings []func(srv *api.Server, d api.Deps, cfg Config) error

// Instance is a running server.
type Instance struct {
	API   *api.Server
	Store *sqlite.DB
	Log   zerolog.Logger
	Demo  *DemoInfo

	cfg  Config
	echo *echo.Echo
	ln   net.Listener
	done chan error
}

// Addr is the address the server listens on (the real port when --addr had port 0).
func (in *Instance) Addr() string { return in.ln.Addr().String() }

// URL is http://Addr.
func (in *Instance) URL() string { return "http://" + in.Addr() }

// Done reports the server stopping: nil after a graceful shutdown.
func (in *Instance) Done() <-chan error { return in.done }

// Shutdown stops accepting connections, waits for requests in flight (pushes included)
// until ctx ends, then closes the store.
func (in *Instance) Shutdown(ctx context.Context) error {
	err := in.echo.Shutdown(ctx)
	if serr := <-in.done; serr != nil && err == nil {
		err = serr
	}
	if cerr := in.Store.Close(); cerr != nil && err == nil {
		err = cerr
	}
	in.Log.Info().Msg("stopped")
	return err
}

// Run parses the configuration, starts the server and serves until ctx ends (main cancels
// it on SIGTERM or SIGINT), then shuts down gracefully. It returns nil after a clean stop.
func Run(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	cfg, err := ParseConfig(args, env)
	var help *HelpRequested
	if errors.As(err, &help) {
		_, err := io.WriteString(stdout, help.Usage)
		return err
	}
	if err != nil {
		return err
	}
	in, err := Start(ctx, cfg, stdout)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		in.Log.Info().Msg("shutting down: finishing requests in flight")
	case err := <-in.done:
		in.done <- err // Shutdown reads it again
		in.Log.Error().Err(err).Msg("server stopped")
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	return in.Shutdown(sctx)
}

// Start opens the store, seeds what the configuration asks for, listens and serves in the
// background. It returns once the server accepts connections.
func Start(ctx context.Context, cfg Config, stdout io.Writer) (*Instance, error) {
	if stdout == nil {
		stdout = io.Discard
	}
	if cfg.LogOutput == nil {
		cfg.LogOutput = os.Stderr
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Argon2 == (auth.Argon2Params{}) {
		cfg.Argon2 = auth.DefaultArgon2
	}
	level, _ := zerolog.ParseLevel(cfg.LogLevel)
	if cfg.LogLevel == "" {
		level = zerolog.InfoLevel
	}
	log := zerolog.New(cfg.LogOutput).Level(level).With().Timestamp().Str("service", "fieldnotes-server").Logger()
	if err := locales.LoadError(); err != nil {
		log.Warn().Err(err).Msg("a message file did not load; its messages fall back to English")
	}

	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	key, err := signingKey(cfg, log)
	if err != nil {
		return nil, err
	}
	st, err := sqlite.Open(cfg.Data, sqlite.Options{MaxSkew: cfg.MaxSkew, Now: func() int64 { return cfg.Now().UnixMilli() }})
	if err != nil {
		return nil, fmt.Errorf("open store in %s: %w", cfg.Data, err)
	}
	fail := func(err error) (*Instance, error) {
		st.Close()
		return nil, err
	}
	if err := hubIdentity(ctx, st, log); err != nil {
		return fail(err)
	}
	if err := bootstrapAdmin(ctx, st, cfg, log); err != nil {
		return fail(err)
	}
	var demo *DemoInfo
	if cfg.Demo {
		if demo, err = seedDemo(ctx, st, cfg, log); err != nil {
			return fail(fmt.Errorf("demo: %w", err))
		}
	}

	deps := api.Deps{Store: st, Tokens: auth.NewTokens(key, auth.Issuer, auth.Audience, auth.AccessTTL, cfg.Now), Log: log, Now: cfg.Now, DataDir: cfg.Data}
	srv := api.New(deps, api.Options{RatePerSecond: cfg.Rate, RateBurst: cfg.RateBurst, AuthRate: cfg.AuthRate, AuthBurst: cfg.AuthBurst, Argon2: cfg.Argon2})
	for _, ext := range Extensions {
		srv.Mount(ext)
	}
	for _, w := range Wirings {
		if err := w(srv, deps, cfg); err != nil {
			return fail(err)
		}
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fail(fmt.Errorf("listen on %s: %w", cfg.Addr, err))
	}
	e := srv.Echo()
	e.Listener = ln
	e.Server.ReadHeaderTimeout = 10 * time.Second
	e.Server.IdleTimeout = 2 * time.Minute
	e.Server.ConnState = cfg.ConnState
	in := &Instance{API: srv, Store: st, Log: log, Demo: demo, cfg: cfg, echo: e, ln: ln, done: make(chan error, 1)}
	go func() {
		err := e.Start("")
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		in.done <- err
	}()
	log.Info().Str("addr", in.Addr()).Str("data", cfg.Data).Msg("listening")
	fmt.Fprintf(stdout, "listening on %s\n", in.URL())
	if demo != nil {
		printDemo(stdout, in.URL(), cfg.Data, demo, cfg.Now())
		printConsole(stdout, in.URL(), demo)
	}
	return in, nil
}

// signingKey is FIELDNOTES_JWT_SECRET, or a random key made on first run and kept in
// <data>/jwt.key (0600).
func signingKey(cfg Config, log zerolog.Logger) ([]byte, error) {
	if cfg.JWTSecret != "" {
		if len(cfg.JWTSecret) < 32 {
			log.Warn().Msg("FIELDNOTES_JWT_SECRET is shorter than 32 bytes; use a longer random secret")
		}
		return []byte(cfg.JWTSecret), nil
	}
	path := filepath.Join(cfg.Data, "jwt.key")
	b, err := os.ReadFile(path)
	if err == nil {
		key := strings.TrimSpace(string(b))
		if len(key) < 32 {
			return nil, fmt.Errorf("%s: key too short", path)
		}
		return []byte(key), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	key := hex.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	log.Info().Str("path", path).Msg("made a new signing key")
	return []byte(key), nil
}

// hubIdentity gives the server's replica a node id on first start.
func hubIdentity(ctx context.Context, st *sqlite.DB, log zerolog.Logger) error {
	node, _, err := st.Identity()
	if err != nil {
		return err
	}
	if node != "" {
		return nil
	}
	node = auth.NewID()
	log.Info().Str("node", node).Msg("hub identity made")
	return st.SetIdentity(ctx, node, "")
}

func bootstrapAdmin(ctx context.Context, st store.Store, cfg Config, log zerolog.Logger) error {
	n, err := st.CountUsers(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if cfg.AdminEmail == "" || cfg.AdminPassword == "" {
		if !cfg.Demo {
			log.Warn().Msg("no users yet: start with --admin-email and --admin-password (or FIELDNOTES_ADMIN_EMAIL/PASSWORD) to create the first admin")
		}
		return nil
	}
	u, err := api.NewUser(cfg.AdminEmail, cfg.AdminPassword, store.RoleAdmin, nil, cfg.Argon2, cfg.Now().UnixMilli())
	if err != nil {
		var e *api.Error
		if errors.As(err, &e) {
			return fmt.Errorf("first admin: %s %v", e.Code, e.Details)
		}
		return err
	}
	if err := st.CreateUser(ctx, u); err != nil {
		return fmt.Errorf("first admin: %w", err)
	}
	log.Info().Str("user", u.ID).Msg("first admin created")
	return nil
}
