package console

import (
	"strconv"
	"strings"

	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/labstack/echo/v4"
)

// auditActions are the actions the console records, for the filter.
var auditActions = []string{"sign_in", "sign_in_failed", "sign_out", "engagement_create", "engagement_update", "prompt_set_create",
	"prompt_set_version", "enrolment_code", "device_revoke", "review", "review_bulk", "theme_add", "theme_remove", "withdraw",
	"decision_create", "decision_update", "decision_progress", "feedback_queue", "feedback_sent", "feedback_failed",
	"feedback_mail_merge", "export", "baseline_upload", "user_create", "team_create",
	"api_sign_in", "device_enrol"} // and "api <method> <route>" for the API's other actions

type auditData struct {
	Entries                       []store.AuditEntry
	Action, Actor, FromRaw, ToRaw string
	Actions                       []string
	NextURL                       string
}

// auditList shows the audit log, newest first, filtered; coordinators see their teams'
// entries and their own.
func (h *Console) auditList(c echo.Context) error {
	w := current(c)
	d := auditData{Action: c.QueryParam("action"), Actor: strings.TrimSpace(c.QueryParam("actor")),
		FromRaw: c.QueryParam("from"), ToRaw: c.QueryParam("to"), Actions: auditActions}
	if !contains(auditActions, d.Action) {
		d.Action = ""
	}
	q := store.AuditQuery{Teams: w.Teams, Self: w.User.ID, Action: d.Action, Actor: d.Actor, Limit: 100}
	q.From, _ = form.Date(d.FromRaw)
	if to, ok := form.Date(d.ToRaw); ok && to > 0 {
		q.To = to + 24*3600*1000
	}
	q.Before, _ = strconv.ParseInt(c.QueryParam("before"), 10, 64)
	entries, err := h.Audit.Audit(c.Request().Context(), q)
	if err != nil {
		return h.internal(c, err)
	}
	d.Entries = entries
	if len(entries) == q.Limit {
		v := c.QueryParams()
		v.Set("before", strconv.FormatInt(entries[len(entries)-1].ID, 10))
		d.NextURL = "/console/audit?" + v.Encode()
	}
	return h.render(c, "audit_list", h.newPage(c, "console.nav.audit", d))
}
