package sdk

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fieldnotes/fieldnotes/syncengine"
)

// The HTTP side of the sync client: enrolment, tokens, retries. Errors from the server
// keep their code: a 401 device_revoked from any call wipes the store.

type enrolResponse struct {
	DeviceID     string `json:"device_id"`
	NodeID       string `json:"node_id"`
	Team         string `json:"team"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int64  `json:"expires_in"` // seconds
}

// Enrol registers this device with the server using a one-time code from a coordinator,
// and keeps the identity and tokens it is given.
//
// On a device that is already enrolled (signed out for safety, 401 tokens_revoked) it
// signs in again as itself: it proves who it is with its last refresh token, and the
// server gives it back its node id, so the ops it has not pushed yet still go.
func (d *Device) Enrol(ctx context.Context, serverURL, code, label string) (Identity, error) {
	serverURL, err := checkServerURL(serverURL)
	if err != nil {
		return Identity{}, err
	}
	req := map[string]string{"code": code, "label": label}
	prev, err := d.Identity()
	again := err == nil && prev.DeviceID != ""
	if again {
		rt, err := d.meta(metaRefresh)
		if err != nil {
			return prev, err
		}
		req["previous_refresh_token"] = rt
	}
	var res enrolResponse
	body, _ := json.Marshal(req)
	if err := d.roundTrip(ctx, serverURL, http.MethodPost, "/v1/devices/enrol", body, "", &res); err != nil {
		return Identity{}, d.revokedCheck(err)
	}
	if res.NodeID == "" || res.Team == "" || res.AccessToken == "" {
		return Identity{}, &Error{Code: CodeInternal, Detail: "enrolment answer lacks node_id, team or token"}
	}
	if again && (res.NodeID != prev.Node || res.Team != prev.Team) {
		// Never trade identities under ops not yet pushed.
		return prev, &Error{Code: "conflict", Detail: "the server gave this device another identity"}
	}
	if again && label == "" {
		label = prev.Label
	}
	err = d.use(func(s *syncengine.Store) error {
		// Meta first, identity last: an identity means a complete enrolment.
		if err := s.SetMeta(ctx, map[string]string{
			metaServer: serverURL, metaDeviceID: res.DeviceID, metaLabel: label,
			metaAccess: res.AccessToken, metaRefresh: res.RefreshToken,
			metaExpiresAt: strconv.FormatInt(d.expiresAt(res.ExpiresIn), 10),
		}); err != nil {
			return err
		}
		defer d.cache.forgetIdentity()
		return s.SetIdentity(ctx, res.NodeID, res.Team)
	})
	if err != nil {
		return Identity{}, fromStore(err)
	}
	return d.Identity()
}

func (d *Device) expiresAt(expiresIn int64) int64 {
	if expiresIn <= 0 {
		return 0
	}
	return d.opts.now().Add(time.Duration(expiresIn) * time.Second).UnixMilli()
}

// SetServer points the device at another server URL (the same server moved).
func (d *Device) SetServer(ctx context.Context, serverURL string) error {
	serverURL, err := checkServerURL(serverURL)
	if err != nil {
		return err
	}
	return d.use(func(s *syncengine.Store) error {
		return s.SetMeta(ctx, map[string]string{metaServer: serverURL})
	})
}

// CheckServerURL is the check Enrol and SetServer make of a server address: the URL they
// would keep, or invalid_server_url.
func CheckServerURL(raw string) (string, error) { return checkServerURL(raw) }

// checkServerURL accepts an http:// or https:// URL with a host, and trims its trailing
// slashes; anything else ("localhost:8080", "ftp://…", "") is invalid_server_url, before
// any request is made.
func checkServerURL(raw string) (string, error) {
	raw = strings.TrimRight(strings.TrimSpace(raw), "/")
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return "", &Error{Code: CodeInvalidServerURL, Field: "server", Detail: "want http:// or https:// and a host"}
	}
	return raw, nil
}

// netError classifies a failed request: a refused connection (the host answered, nothing
// listens on the port) is connection_refused, which errors.Is still counts as offline;
// anything else (no route, DNS, timeout) is offline.
func netError(err error) *Error {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return &Error{Code: CodeConnectionRefused, Err: err}
	}
	return &Error{Code: CodeOffline, Err: err}
}

func (d *Device) meta(key string) (string, error) {
	var v string
	err := d.use(func(s *syncengine.Store) error {
		var err error
		v, _, err = s.Meta(key)
		return err
	})
	return v, err
}

// call sends an authenticated request with retries. On 401 token_expired it refreshes the
// tokens once and tries again; on 401 device_revoked it wipes the store and returns
// ErrRevoked.
func (d *Device) call(ctx context.Context, method, path string, body []byte, out any) error {
	server, err := d.meta(metaServer)
	if err != nil {
		return err
	}
	if server == "" {
		return ErrNotEnrolled
	}
	for attempt := 0; ; attempt++ {
		token, err := d.accessToken(ctx, server)
		if err != nil {
			return d.revokedCheck(err)
		}
		err = d.roundTrip(ctx, server, method, path, body, token, out)
		var e *Error
		if attempt == 0 && errors.As(err, &e) && e.Status == http.StatusUnauthorized && e.Code != CodeDeviceRevoked {
			if rerr := d.refresh(ctx, server, token); rerr != nil {
				if e.Code == CodeTokensRevoked {
					// Signed out for safety (a refresh key was used twice), not revoked:
					// keep everything and say so; a new code sets the tablet up again.
					return e
				}
				return d.revokedCheck(rerr)
			}
			continue
		}
		return d.revokedCheck(err)
	}
}

func (d *Device) revokedCheck(err error) error {
	var e *Error
	if errors.As(err, &e) && e.Code == CodeDeviceRevoked {
		if werr := d.wipe(); werr != nil {
			return errors.Join(&Error{Code: CodeDeviceRevoked, Status: e.Status}, werr)
		}
		return &Error{Code: CodeDeviceRevoked, Status: e.Status, Detail: "store wiped"}
	}
	return err
}

// accessToken returns the current access token, refreshing it first when it has run out.
func (d *Device) accessToken(ctx context.Context, server string) (string, error) {
	tok, err := d.meta(metaAccess)
	if err != nil {
		return "", err
	}
	exp, _ := d.meta(metaExpiresAt)
	if at, _ := strconv.ParseInt(exp, 10, 64); at > 0 && d.opts.now().UnixMilli() > at-30_000 {
		if err := d.refresh(ctx, server, tok); err != nil {
			var e *Error
			if errors.As(err, &e) && e.Status != 0 {
				return "", err
			}
			return tok, nil // offline: try the old one; the request will say
		}
		return d.meta(metaAccess)
	}
	return tok, nil
}

// refresh rotates the token pair. The new pair is saved in one transaction before it is
// used, so a crash never leaves the device holding only a spent refresh token. stale is
// the access token the caller saw: if another goroutine refreshed meanwhile, nothing to do.
func (d *Device) refresh(ctx context.Context, server, stale string) error {
	d.authMu.Lock()
	defer d.authMu.Unlock()
	if cur, err := d.meta(metaAccess); err != nil {
		return err
	} else if cur != stale {
		return nil
	}
	rt, err := d.meta(metaRefresh)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]string{"refresh_token": rt})
	var res enrolResponse
	if err := d.roundTrip(ctx, server, http.MethodPost, "/v1/auth/refresh", body, "", &res); err != nil {
		return err
	}
	if res.AccessToken == "" || res.RefreshToken == "" {
		return &Error{Code: CodeInternal, Detail: "refresh answer lacks tokens"}
	}
	return d.use(func(s *syncengine.Store) error {
		return s.SetMeta(ctx, map[string]string{metaAccess: res.AccessToken, metaRefresh: res.RefreshToken,
			metaExpiresAt: strconv.FormatInt(d.expiresAt(res.ExpiresIn), 10)})
	})
}

// roundTrip sends one request, retrying network errors, 5xx and 429 with exponential
// backoff and full jitter (a 429's or 503's Retry-After is respected), and decodes a 2xx
// body into out.
func (d *Device) roundTrip(ctx context.Context, server, method, path string, body []byte, token string, out any) error {
	gz := len(body) > d.opts.gzipOver
	if gz {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(body)
		w.Close()
		body = buf.Bytes()
	}
	var last error
	for attempt := 0; attempt <= d.opts.retries; attempt++ {
		if attempt > 0 {
			if err := d.sleep(ctx, attempt, last); err != nil {
				return err
			}
		}
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, server+path, rd)
		if err != nil {
			return &Error{Code: CodeInvalidServerURL, Field: "server", Err: err}
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if gz {
			req.Header.Set("Content-Encoding", "gzip")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		req.Header.Set("Accept-Language", d.opts.lang)
		resp, err := d.opts.httpClient.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			last = netError(err)
			continue
		}
		err = decodeResponse(resp, out)
		if err == nil {
			return nil
		}
		var e *Error
		if errors.As(err, &e) && (e.Status >= 500 || e.Status == http.StatusTooManyRequests || e.Status == 0) {
			last = err
			continue
		}
		return err
	}
	return last
}

// retryAfter is set on errors from responses that carry Retry-After.
type retryAfter struct{ wait time.Duration }

func (r retryAfter) Error() string { return "retry after " + r.wait.String() }

func (d *Device) sleep(ctx context.Context, attempt int, last error) error {
	limit := d.opts.backoff << (attempt - 1)
	if limit > d.opts.maxBackoff || limit <= 0 {
		limit = d.opts.maxBackoff
	}
	wait := time.Duration(0)
	if limit > 0 {
		wait = rand.N(limit + 1) // full jitter
	}
	var ra retryAfter
	if errors.As(last, &ra) && ra.wait > wait {
		wait = min(ra.wait, 5*time.Minute)
	}
	d.opts.logger.Info("sync retry", "attempt", attempt, "wait", wait, "err", last)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func decodeResponse(resp *http.Response, out any) error {
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out == nil {
			io.Copy(io.Discard, resp.Body)
			return nil
		}
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			// A cut connection mid-body: the caller retries; everything is idempotent.
			return &Error{Code: CodeOffline, Detail: "reading response", Err: err}
		}
		return nil
	}
	var eb syncengine.ErrorBody
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	json.Unmarshal(raw, &eb)
	e := &Error{Code: eb.Error.Code, Status: resp.StatusCode, Detail: eb.Error.Message}
	if e.Code == "" {
		e.Code = statusCode(resp.StatusCode)
	}
	if f, ok := eb.Error.Details["field"].(string); ok {
		e.Field = f
	}
	if s, ok := eb.Error.Details["scope"].(string); ok {
		e.Scope = s
	}
	if v := resp.Header.Get("Retry-After"); v != "" {
		if secs, err := strconv.Atoi(v); err == nil {
			e.Err = retryAfter{time.Duration(secs) * time.Second}
		} else if t, err := http.ParseTime(v); err == nil {
			e.Err = retryAfter{time.Until(t)}
		}
	}
	return e
}

func statusCode(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "unauthorized"
	case status == http.StatusForbidden:
		return "forbidden"
	case status == http.StatusNotFound:
		return CodeNotFound
	case status == http.StatusTooManyRequests:
		return "rate_limited"
	case status >= 500:
		return CodeInternal
	}
	return fmt.Sprintf("http_%d", status)
}
