package fieldapp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	sdk "github.com/fieldnotes/fieldnotes/client-sdk"
)

// syncRunner runs one sync at a time, from the Sync now button or automatically, and
// keeps its progress for the status panel.
type syncRunner struct {
	app *App

	mu      sync.Mutex
	ctx     context.Context // ends when the app stops
	running bool
	done    chan struct{} // closed when the running sync ends
	prog    sdk.Progress
	lastErr error
	lastRep sdk.SyncReport
	ran     bool // a sync ran since the app started
	offline bool // the automatic sync found the server unreachable at its last look
	wg      sync.WaitGroup
	pokeCh  chan struct{}
}

func (s *syncRunner) base() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil {
		return context.Background()
	}
	return s.ctx
}

// start begins a sync unless one is running, and returns a channel closed when the
// running sync ends.
func (s *syncRunner) start() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return s.done
	}
	if _, err := s.app.dev.Identity(); err != nil {
		s.lastErr = err
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	ctx := s.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	s.running, s.done, s.prog = true, make(chan struct{}), sdk.Progress{}
	done := s.done
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		defer cancel()
		rep, err := s.app.dev.SyncReport(ctx, func(p sdk.Progress) {
			s.mu.Lock()
			s.prog = p
			s.mu.Unlock()
		})
		if err != nil {
			s.app.opts.Logger.Info("sync failed", "err", err)
		} else {
			s.app.opts.Logger.Info("sync done", "pushed", rep.Pushed, "pulled", rep.Pulled)
		}
		s.mu.Lock()
		s.running, s.lastErr, s.lastRep, s.ran = false, err, rep, true
		s.mu.Unlock()
		close(done)
	}()
	return done
}

// poke asks the automatic sync to try soon (something was recorded).
func (s *syncRunner) poke() {
	s.mu.Lock()
	ch := s.pokeCh
	s.mu.Unlock()
	if ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// auto syncs every interval, and soon after something is recorded, while the server is
// reachable; it stops with ctx.
func (s *syncRunner) auto(ctx context.Context, every time.Duration) {
	s.mu.Lock()
	s.ctx, s.pokeCh = ctx, make(chan struct{}, 1)
	s.mu.Unlock()
	s.wg.Add(1)
	defer s.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		_, err := s.app.dev.Identity()
		enrolled := err == nil && !s.app.dev.Wiped()
		reachable := enrolled && s.app.dev.Reachable(ctx)
		s.mu.Lock()
		s.offline = enrolled && !reachable
		s.mu.Unlock()
		if reachable {
			select {
			case <-s.start():
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.pokeCh:
		}
	}
}

// wait waits for a running sync to end (after the app's context was cancelled).
func (s *syncRunner) wait() { s.wg.Wait() }

// syncView is the sync status panel.
type syncView struct {
	Running     bool   `json:"running"`
	Phase       string `json:"phase,omitempty"`
	Done        int    `json:"done"`
	Total       int    `json:"total"`
	Percent     int    `json:"percent"` // -1: not known (receiving)
	Pending     int64  `json:"pending"`
	LastSync    int64  `json:"last_sync"`
	PendingText string `json:"pending_text"`
	LastText    string `json:"last_text"`
	StateText   string `json:"state_text"`
	Problem     string `json:"problem,omitempty"`
	Offline     bool   `json:"offline,omitempty"`
	Revoked     bool   `json:"revoked,omitempty"`
}

func (s *syncRunner) view(r *http.Request, lang string) syncView {
	var v syncView
	s.mu.Lock()
	v.Running, v.Phase, v.Done, v.Total = s.running, s.prog.Phase, s.prog.Done, s.prog.Total
	lastErr, ran := s.lastErr, s.ran
	v.Offline = s.offline
	s.mu.Unlock()
	st, err := s.app.dev.SyncSummary(r.Context())
	if err == nil {
		v.Pending, v.LastSync = st.Pending, st.LastSync
	}
	if s.app.dev.Wiped() || errors.Is(lastErr, sdk.ErrRevoked) || errors.Is(err, sdk.ErrRevoked) {
		v.Revoked = true
		v.Problem = sdkMessage(sdk.ErrRevoked, lang)
	} else if lastErr != nil && !v.Running {
		v.Problem = sdkMessage(lastErr, lang)
	} else if !ran && st.LastError != "" && !v.Running {
		v.Problem = tr(lang, "fieldapp.sync.last_failed", nil)
	}
	p := &page{Lang: lang}
	v.PendingText = p.TN("cli.status_pending", int(v.Pending))
	if v.LastSync == 0 {
		v.LastText = p.T("cli.status_never_synced")
	} else {
		v.LastText = p.TD("cli.status_last_sync", "Time", p.Time(v.LastSync))
	}
	v.Percent = -1
	switch {
	case !v.Running && v.Offline:
		v.Percent = 100
		v.StateText = p.T("fieldapp.sync.offline")
	case !v.Running:
		v.Percent = 100
		v.StateText = p.T("fieldapp.sync.idle")
	case v.Phase == sdk.PhasePush && v.Total > 0:
		v.Percent = v.Done * 100 / v.Total
		v.StateText = p.TD("fieldapp.sync.sending", "Done", v.Done, "Total", v.Total)
	case v.Phase == sdk.PhasePull:
		v.StateText = p.TD("fieldapp.sync.receiving", "Done", v.Done)
	default:
		v.StateText = p.T("fieldapp.sync.starting")
	}
	return v
}

func (a *App) syncShow(w http.ResponseWriter, r *http.Request) {
	lang := a.uiLang(r)
	p := a.newPage(r, lang, "fieldapp.sync.title")
	p.Nav = "sync"
	p.Data = struct{ Sync syncView }{a.sync.view(r, lang)}
	a.render(w, http.StatusOK, "sync", p)
}

// syncStart starts a sync. From the script (Accept: application/json) it answers at once
// and the page polls /sync/status; a plain form waits for the sync to end, then shows it.
func (a *App) syncStart(w http.ResponseWriter, r *http.Request) {
	done := a.sync.start()
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		json.NewEncoder(w).Encode(a.sync.view(r, a.uiLang(r)))
		return
	}
	select {
	case <-done:
	case <-r.Context().Done():
		return
	case <-time.After(5 * time.Minute):
	}
	back := r.PostFormValue("return")
	if !localPath(back) {
		back = "/sync"
	}
	redirect(w, r, back)
}

func (a *App) syncStatus(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(a.sync.view(r, a.uiLang(r)))
}
