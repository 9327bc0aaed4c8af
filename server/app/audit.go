package app

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/fieldnotes/fieldnotes/server/api"
	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"
)

// auditAPI appends the API's coordinator and admin actions (and device enrolments) to the
// same audit log as the console's, so the log shows every action whichever way it was
// taken: logins, enrolment codes, enrolments, revocations, withdrawals, teams and users,
// decisions, feedback, baselines and exports. Entries carry ids from the route and, for
// logins and enrolments, from the answer (user id, device id, team), never bodies. Pushes
// and pulls (the tablets' sync) and token refreshes are not actions and are left out.
func auditAPI(log store.AuditLog, l zerolog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			route := c.Path()
			write := req.Method != http.MethodGet && req.Method != http.MethodHead && req.Method != http.MethodOptions
			if !strings.HasPrefix(route, "/v1/") || (!write && !strings.HasPrefix(route, "/v1/export/")) ||
				strings.HasPrefix(route, "/v1/sync/") || route == "/v1/auth/refresh" {
				return next(c)
			}
			var body *capped
			if route == "/v1/auth/login" || route == "/v1/devices/enrol" || route == "/v1/devices/enrolment-codes" {
				body = &capped{ResponseWriter: c.Response().Writer}
				c.Response().Writer = body
			}
			err := next(c)
			if err != nil || c.Response().Status >= 400 {
				return err
			}
			e := store.AuditEntry{Action: "api " + req.Method + " " + route}
			if p := api.Caller(c); p != nil {
				e.Actor, e.Email, e.Role = p.Subject, p.Email, p.Role
			}
			var targets []string
			for _, name := range c.ParamNames() {
				targets = append(targets, name+"="+c.Param(name))
			}
			e.Target = strings.Join(targets, " ")
			if t := c.QueryParam("team"); t != "" {
				e.Team = t
			}
			if body != nil {
				var out struct {
					UserID   string `json:"user_id"`
					Role     string `json:"role"`
					DeviceID string `json:"device_id"`
					Team     string `json:"team"`
				}
				json.Unmarshal(body.buf.Bytes(), &out)
				switch route {
				case "/v1/auth/login":
					e.Action, e.Actor, e.Role = "api_sign_in", out.UserID, out.Role
				case "/v1/devices/enrol":
					e.Action, e.Team, e.Target = "device_enrol", out.Team, "device/"+out.DeviceID
				case "/v1/devices/enrolment-codes":
					e.Action, e.Team = "enrolment_code", out.Team
				}
			}
			if err := log.AppendAudit(req.Context(), e); err != nil {
				l.Error().Err(err).Str("route", route).Msg("audit entry not written")
			}
			return nil
		}
	}
}

// capped keeps the first 4 KiB of a response (the ids in a login or enrolment answer).
type capped struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (w *capped) Write(b []byte) (int, error) {
	if room := 4096 - w.buf.Len(); room > 0 {
		w.buf.Write(b[:min(len(b), room)])
	}
	return w.ResponseWriter.Write(b)
}

func (w *capped) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
