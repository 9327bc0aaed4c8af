package console

import (
	"net/url"
	"sort"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/feedback"
	"github.com/fieldnotes/fieldnotes/server/reports"
	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/labstack/echo/v4"
)

type overviewData struct {
	Engagements                                  []engagementRow
	E                                            *engagementRow
	Conversations                                int
	Participation                                *reports.Participation // by language, disclosure-controlled
	Awaiting                                     int                    // conversations received, not yet reviewed
	HasIssues                                    int
	Devices                                      []store.Device
	Decisions                                    []feedback.Decision // linking this engagement's conversations
	InProgress                                   int
	FeedbackQueued, FeedbackSent, FeedbackFailed int
}

// overviewShow is the start page: one engagement at a glance.
func (h *Console) overviewShow(c echo.Context) error {
	w := current(c)
	ctx := c.Request().Context()
	engs, err := h.scan(ctx, w, schema.Engagement)
	if err != nil {
		return h.internal(c, err)
	}
	d := overviewData{}
	for _, e := range engs {
		d.Engagements = append(d.Engagements, engagementOf(e.ID, e.Team, e.Fields))
	}
	sort.Slice(d.Engagements, func(i, j int) bool {
		if d.Engagements[i].StartsAt != d.Engagements[j].StartsAt {
			return d.Engagements[i].StartsAt > d.Engagements[j].StartsAt
		}
		return d.Engagements[i].ID < d.Engagements[j].ID
	})
	want := c.QueryParam("engagement")
	for i := range d.Engagements {
		if d.Engagements[i].ID == want || (want == "" && i == 0) {
			d.E = &d.Engagements[i]
		}
	}
	if d.E == nil {
		return h.render(c, "overview", h.newPage(c, "console.nav.overview", d))
	}
	e := d.E
	rows, total, err := h.matchConversations(c, w, convFilter{Engagement: e.ID}, 0, 1<<30)
	if err != nil {
		return h.internal(c, err)
	}
	d.Conversations = total
	inEng := map[string]bool{}
	for _, r := range rows {
		inEng[r.ID] = true
		switch r.Review {
		case ReviewReceived:
			d.Awaiting++
		case ReviewHasIssues:
			d.HasIssues++
		}
	}
	q, _ := reports.ParseQuery(url.Values{"group_by": {reports.ByLanguage}, "engagement": {e.ID}}, reports.ByLanguage)
	q.Teams = w.Teams
	if d.Participation, err = h.Coord.Reports.Participation(ctx, q); err != nil {
		return h.internal(c, err)
	}
	if d.Devices, err = h.Store.Devices(ctx, []string{e.Team}); err != nil {
		return h.internal(c, err)
	}
	decs, err := h.scan(ctx, w, schema.Decision)
	if err != nil {
		return h.internal(c, err)
	}
	linked := map[string]bool{}
	for _, r := range decs {
		dec := feedback.DecisionOf(r)
		for _, id := range dec.Conversations {
			if inEng[id] {
				d.Decisions = append(d.Decisions, dec)
				linked[dec.ID] = true
				if dec.Outcome == "in_progress" {
					d.InProgress++
				}
				break
			}
		}
	}
	items, err := h.Coord.Feedback.List(ctx, []string{e.Team}, "")
	if err != nil {
		return h.internal(c, err)
	}
	for _, it := range items {
		if !linked[it.Decision] {
			continue
		}
		switch it.Status {
		case "queued":
			d.FeedbackQueued++
		case "sent":
			d.FeedbackSent++
		case "failed":
			d.FeedbackFailed++
		}
	}
	return h.render(c, "overview", h.newPage(c, "console.nav.overview", d))
}
