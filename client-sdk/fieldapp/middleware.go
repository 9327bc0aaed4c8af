package fieldapp

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"runtime/debug"
)

// csp allows only this origin: no inline script or style, no frames, forms post home.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; media-src 'self' blob:; object-src 'none'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// secure wraps every request: security headers, the Host check, the cross-site check on
// every POST, and a recover that answers an error page rather than dropping the request.
func (a *App) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
		defer func() {
			if v := recover(); v != nil {
				a.opts.Logger.Error("field app panic", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				a.fail(w, r, http.StatusInternalServerError, a.uiLang(r), "error.internal", nil)
			}
		}()
		if !a.hostAllowed(r.Host) {
			a.fail(w, r, http.StatusMisdirectedRequest, a.uiLang(r), "fieldapp.error.wrong_host", nil)
			return
		}
		if r.Method == http.MethodPost && !a.sameSite(r) {
			a.fail(w, r, http.StatusForbidden, a.uiLang(r), "fieldapp.error.csrf", nil)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// sameSite reports whether a POST comes from one of our own pages: the browser says so
// (Sec-Fetch-Site, Origin) and the form carries this process's token.
func (a *App) sameSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	tok := r.Header.Get("X-CSRF-Token")
	if tok == "" {
		r.Body = http.MaxBytesReader(nil, r.Body, 1<<20)
		tok = r.PostFormValue("csrf")
	}
	return subtle.ConstantTimeCompare([]byte(tok), []byte(a.csrf)) == 1
}
