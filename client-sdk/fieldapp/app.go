// Package fieldapp is the field app: a touch-first web app that an outreach worker uses in
// the browser on the tablet, served on loopback from the device's own store, so that it
// works with no network at all.
//
// Pages are rendered on the server (html/template, embedded with the assets); every form
// works without JavaScript. A small script adds only extras on top: the camera QR scan on
// the enrol screen where the browser has BarcodeDetector, a live progress bar and
// automatic refresh of the sync status. Every tap that records something goes through the
// SDK, which commits it before the page answers; where a conversation is lives in the URL
// and the store, so a reload resumes it. It is built only on the SDK's exported API.
//
// Security: it listens on loopback only, refuses requests whose Host is not its own (DNS
// rebinding), checks a per-process CSRF token and Sec-Fetch-Site/Origin on every POST, and
// sends a Content-Security-Policy with no inline script and nothing from elsewhere.
package fieldapp

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"sync"
	"time"

	sdk "github.com/fieldnotes/fieldnotes/client-sdk"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configures the app.
type Options struct {
	// AutoSync is how often the app syncs when the server is reachable; 0 means every 30
	// seconds, a negative value never.
	AutoSync time.Duration
	// Logger logs ids and counts, never what a participant said.
	Logger *slog.Logger
	// Now is the wall clock (tests); time.Now by default.
	Now func() time.Time
}

// App is the field app over one device. It is an http.Handler.
type App struct {
	dev   *sdk.Device
	opts  Options
	csrf  string
	mux   *http.ServeMux
	tmpl  *templates
	sync  syncRunner
	hosts map[string]bool // Host headers accepted: the address we listen on
	mu    sync.Mutex
}

// New makes the field app for a device. Call Serve or use it as a handler behind a
// loopback listener (then call AllowHost with the listener's address).
func New(dev *sdk.Device, opts Options) (*App, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.AutoSync == 0 {
		opts.AutoSync = 30 * time.Second
	}
	tok := make([]byte, 32)
	if _, err := rand.Read(tok); err != nil {
		return nil, err
	}
	t, err := loadTemplates()
	if err != nil {
		return nil, err
	}
	a := &App{dev: dev, opts: opts, csrf: hex.EncodeToString(tok), tmpl: t, hosts: map[string]bool{}}
	a.sync.app = a
	a.routes()
	return a, nil
}

// AllowHost accepts requests whose Host header is host ("127.0.0.1:8123").
func (a *App) AllowHost(host string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.hosts[host] = true
}

func (a *App) hostAllowed(host string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.hosts) == 0 || a.hosts[host]
}

// ServeHTTP serves the app.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.secure(a.mux).ServeHTTP(w, r) }

// ErrNotLoopback is returned by Start for an address that is not on this device.
var ErrNotLoopback = errors.New("the field app listens on loopback only (127.0.0.1 or [::1])")

// CheckAddr reports whether Start would accept addr: a loopback host:port ("" is
// 127.0.0.1:0). Its error wraps ErrNotLoopback.
func CheckAddr(addr string) error {
	_, err := loopback(addr)
	return err
}

func loopback(addr string) (string, error) {
	if addr == "" {
		return "127.0.0.1:0", nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("address %q: %w", addr, ErrNotLoopback)
	}
	if host == "localhost" {
		return net.JoinHostPort("127.0.0.1", port), nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("address %q: %w", addr, ErrNotLoopback)
	}
	return addr, nil
}

// Server is a running field app.
type Server struct {
	URL    string
	app    *App
	srv    *http.Server
	cancel context.CancelFunc
	done   chan struct{}
}

// Start listens on addr, which must be a loopback address ("127.0.0.1:0" picks a free
// port), serves the app and runs automatic sync in the background until Stop.
func Start(dev *sdk.Device, addr string, opts Options) (*Server, error) {
	addr, err := loopback(addr)
	if err != nil {
		return nil, err
	}
	a, err := New(dev, opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	hostport := ln.Addr().String()
	a.AllowHost(hostport)
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && tcp.IP.To4() != nil {
		a.AllowHost(fmt.Sprintf("localhost:%d", tcp.Port)) // the same socket, as a person may type it
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{URL: "http://" + hostport + "/", app: a, cancel: cancel, done: make(chan struct{}),
		srv: &http.Server{Handler: a, ReadHeaderTimeout: 10 * time.Second,
			BaseContext: func(net.Listener) context.Context { return ctx }}}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.opts.Logger.Error("field app stopped", "err", err)
		}
	}()
	a.sync.mu.Lock()
	a.sync.ctx = ctx
	a.sync.mu.Unlock()
	if a.opts.AutoSync > 0 {
		go a.sync.auto(ctx, a.opts.AutoSync)
	}
	return s, nil
}

// Stop stops serving (waiting up to 5 seconds for requests in flight) and ends auto sync.
// It does not close the device.
func (s *Server) Stop() error {
	s.cancel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	<-s.done
	s.app.sync.wait()
	return err
}

// remoteFontFace matches NHS.UK frontend's @font-face rules, which load a web font from
// assets.nhs.uk.
var remoteFontFace = regexp.MustCompile(`@font-face\{[^}]*https?://[^}]*\}`)

// nhsukCSS serves the vendored NHS.UK frontend stylesheet (unchanged on disk) without its
// remote @font-face rules: the app fetches nothing from elsewhere, and the browser would
// otherwise try (and the CSP would block it). The page falls back to Arial, as NHS.UK does.
var nhsukStylesheet = sync.OnceValue(func() []byte {
	b, _ := fs.ReadFile(staticFiles(), "nhsuk/nhsuk-frontend.min.css")
	return remoteFontFace.ReplaceAll(b, nil)
})

func (a *App) nhsukCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "max-age=3600")
	w.Write(nhsukStylesheet())
}

func staticFiles() fs.FS {
	sub, _ := fs.Sub(staticFS, "static")
	return sub
}
