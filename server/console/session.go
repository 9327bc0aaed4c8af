package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/fieldnotes/fieldnotes/server/api"
	"github.com/fieldnotes/fieldnotes/server/auth"
	"github.com/fieldnotes/fieldnotes/server/feedback"
	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/labstack/echo/v4"
)

// Cookie names. The session cookie holds a random secret; the store keeps its hash.
const (
	sessionCookie = "fieldnotes_session"
	csrfCookie    = "fieldnotes_csrf" // before sign-in only (double-submit)
	langCookie    = "fieldnotes_lang"
)

// who is the signed-in person of a request.
type who struct {
	User    store.User
	Teams   []string // nil: an admin, every team
	Session store.Session
}

func (w *who) isAdmin() bool { return w.User.Role == store.RoleAdmin }

func (w *who) canSee(team string) bool { return w.Teams == nil || slices.Contains(w.Teams, team) }

func (w *who) principal() *api.Principal {
	return &api.Principal{Subject: w.User.ID, Role: w.User.Role, Teams: w.Teams, Node: w.User.NodeID, Email: w.User.Email}
}

func (w *who) caller() feedback.Caller { return feedback.Caller{Node: w.User.NodeID, Teams: w.Teams} }

const whoKey = "console.who"

func current(c echo.Context) *who {
	w, _ := c.Get(whoKey).(*who)
	return w
}

func secure(c echo.Context) bool { return c.Request().TLS != nil }

func (h *Console) setCookie(c echo.Context, name, value string, maxAge int) {
	c.SetCookie(&http.Cookie{Name: name, Value: value, Path: "/console/", MaxAge: maxAge,
		HttpOnly: true, Secure: secure(c), SameSite: http.SameSiteStrictMode})
}

// startSession makes a new session for u and sets its cookie.
func (h *Console) startSession(c echo.Context, u store.User) error {
	secret := auth.NewSecret()
	now := h.nowMS()
	// Sign-ins are rare: a good moment to drop sessions nobody will use again.
	if err := h.Sessions.DeleteExpiredSessions(c.Request().Context(), now); err != nil {
		h.Log.Warn().Err(err).Msg("expired console sessions not deleted")
	}
	s := store.Session{Hash: auth.HashSecret(secret), UserID: u.ID, CSRF: auth.NewSecret(), CreatedAt: now,
		ExpiresAt: now + h.SessionIdle.Milliseconds(), MaxUntil: now + h.SessionMax.Milliseconds()}
	if err := h.Sessions.CreateSession(c.Request().Context(), s); err != nil {
		return err
	}
	h.setCookie(c, sessionCookie, secret, int(h.SessionMax.Seconds()))
	h.setCookie(c, csrfCookie, "", -1)
	return nil
}

// loadSession reads the session cookie; nil when there is no valid session.
func (h *Console) loadSession(c echo.Context) (*who, error) {
	ck, err := c.Cookie(sessionCookie)
	if err != nil || ck.Value == "" || len(ck.Value) > 100 {
		return nil, nil
	}
	ctx := c.Request().Context()
	hash := auth.HashSecret(ck.Value)
	now := h.nowMS()
	s, err := h.Sessions.Session(ctx, hash, now)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrExpired) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	u, err := h.Store.UserByID(ctx, s.UserID)
	if errors.Is(err, store.ErrNotFound) {
		h.Sessions.DeleteSession(ctx, hash)
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	// Move the idle expiry on at most once a minute.
	if next := now + h.SessionIdle.Milliseconds(); next-s.ExpiresAt > 60_000 {
		if err := h.Sessions.TouchSession(ctx, hash, next); err != nil {
			h.Log.Warn().Err(err).Msg("console session not touched")
		}
	}
	w := &who{User: u, Session: s, Teams: u.Teams}
	if u.Role == store.RoleAdmin {
		w.Teams = nil
	} else if w.Teams == nil {
		w.Teams = []string{}
	}
	return w, nil
}

// requireSession sends a visitor without a session to the sign-in page (GET, with the
// page they wanted as next) or refuses the request (other methods: 403 after the
// session expired mid-form, so nothing is written).
func (h *Console) requireSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		w, err := h.loadSession(c)
		if err != nil {
			return h.internal(c, err)
		}
		if w == nil {
			if c.Request().Method == http.MethodGet || c.Request().Method == http.MethodHead {
				return c.Redirect(http.StatusSeeOther, "/console/sign-in?next="+url.QueryEscape(c.Request().URL.RequestURI()))
			}
			return h.errorPage(c, http.StatusForbidden, "console.error.session_expired")
		}
		c.Set(whoKey, w)
		return next(c)
	}
}

// requireAdmin refuses coordinators: 403.
func (h *Console) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if w := current(c); w == nil || !w.isAdmin() {
			return h.errorPage(c, http.StatusForbidden, "console.error.forbidden")
		}
		return next(c)
	}
}

// audit appends an entry for the signed-in person; a failure is logged, never shown.
func (h *Console) audit(c echo.Context, action, team, target, detail string) {
	e := store.AuditEntry{At: h.nowMS(), Action: action, Team: team, Target: target, Detail: detail}
	if w := current(c); w != nil {
		e.Actor, e.Email, e.Role = w.User.ID, w.User.Email, w.User.Role
	}
	h.appendAudit(c.Request().Context(), e)
}

func (h *Console) appendAudit(ctx context.Context, e store.AuditEntry) {
	if err := h.Audit.AppendAudit(ctx, e); err != nil {
		h.Log.Error().Err(err).Str("action", e.Action).Msg("audit entry not written")
	}
}
