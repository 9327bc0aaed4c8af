package feedback

import (
	"context"
	"slices"
	"sort"
	"strconv"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/disclosure"
	"github.com/fieldnotes/fieldnotes/server/reports"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

// Trail is an engagement's audit trail for a board: who took part, what they said, what
// was decided and what was fed back, every count under the report's disclosure policy.
type Trail struct {
	Engagement struct {
		ID        string `json:"id"`
		Title     string `json:"title"`
		VenueType string `json:"venue_type"`
		Team      string `json:"team"`
	} `json:"engagement"`
	Policy      string                 `json:"policy"`
	MinCell     int                    `json:"min_cell"`
	ByCommunity *reports.Participation `json:"by_community"`
	ByLanguage  *reports.Participation `json:"by_language"`
	Themes      *reports.Themes        `json:"themes"`
	Decisions   []TrailDecision        `json:"decisions"`
}

// TrailDecision is a decision informed by the engagement, and what was fed back.
type TrailDecision struct {
	Decision
	// Feedback counts by status (queued, sent, failed), protected like report counts:
	// nhs rounds them (1–7 null), cell hides 1..min_cell−1.
	Feedback map[string]*int `json:"feedback"`
}

// Trail builds the audit trail of an engagement the caller may see; an *Error not_found
// otherwise. Decisions are those linking at least one of the engagement's conversations.
func (s *Service) Trail(ctx context.Context, rep *reports.Service, who Caller, engagement string, pol disclosure.Policy) (*Trail, error) {
	t := &Trail{Policy: pol.Name, MinCell: pol.MinCell, Decisions: []TrailDecision{}}
	convs := map[string]bool{}
	found := false
	err := s.Index.Read(ctx, func(v *reports.View) error {
		e := v.Engagement(engagement)
		if e == nil || !who.canSee(e.Team) {
			return nil
		}
		found = true
		t.Engagement.ID, t.Engagement.Title, t.Engagement.VenueType, t.Engagement.Team = e.ID, e.Title, e.VenueType, e.Team
		v.Conversations(func(c *reports.Conversation) {
			if c.Engagement == engagement {
				convs[c.ID] = true
			}
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fail(CodeNotFound, "id", "no such engagement")
	}
	teams := []string{t.Engagement.Team}
	q := reports.Query{Engagement: engagement, Teams: teams, Policy: pol}
	q.GroupBy = reports.ByCommunity
	if t.ByCommunity, err = rep.Participation(ctx, q); err != nil {
		return nil, err
	}
	q.GroupBy = reports.ByLanguage
	if t.ByLanguage, err = rep.Participation(ctx, q); err != nil {
		return nil, err
	}
	q.GroupBy = reports.ByCommunity
	if t.Themes, err = rep.Themes(ctx, q); err != nil {
		return nil, err
	}
	decisions := map[string]*TrailDecision{}
	err = s.Replica.Scan(ctx, schema.Decision, teams, func(r syncengine.Record) error {
		d := DecisionOf(r)
		if slices.ContainsFunc(d.Conversations, func(id string) bool { return convs[id] }) {
			td := &TrailDecision{Decision: d, Feedback: map[string]*int{}}
			decisions[d.ID] = td
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	counts := map[string]map[string]int{}
	err = s.Replica.Scan(ctx, schema.Feedback, teams, func(r syncengine.Record) error {
		var dec, status string
		str(r, "decision", &dec)
		str(r, "status", &status)
		if decisions[dec] != nil {
			if counts[dec] == nil {
				counts[dec] = map[string]int{}
			}
			counts[dec][status]++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for id, td := range decisions {
		for _, st := range schema.FeedbackStatuses {
			td.Feedback[st] = protectCount(pol, counts[id][st])
		}
		t.Decisions = append(t.Decisions, *td)
	}
	sort.Slice(t.Decisions, func(i, j int) bool {
		a, b := t.Decisions[i], t.Decisions[j]
		if a.DecidedAt != b.DecidedAt {
			return a.DecidedAt < b.DecidedAt
		}
		return a.ID < b.ID
	})
	return t, nil
}

func protectCount(pol disclosure.Policy, n int) *int {
	if pol.Name == disclosure.PolicyCell {
		if n >= 1 && n < pol.MinCell {
			return nil
		}
		return &n
	}
	v, sup := disclosure.NHSRound(n)
	if sup {
		return nil
	}
	return &v
}

// CSVRows flattens the trail for a spreadsheet: section, group, item, value ("" for a
// suppressed count).
func (t *Trail) CSVRows() [][]string {
	num := func(p *int) string {
		if p == nil {
			return ""
		}
		return strconv.Itoa(*p)
	}
	out := [][]string{{"section", "group", "item", "value"}}
	out = append(out, []string{"engagement", t.Engagement.ID, "title", t.Engagement.Title},
		[]string{"engagement", t.Engagement.ID, "venue_type", t.Engagement.VenueType},
		[]string{"policy", t.Policy, "min_cell", strconv.Itoa(t.MinCell)})
	for _, part := range []struct {
		name string
		rep  *reports.Participation
	}{{"who_took_part_by_community", t.ByCommunity}, {"who_took_part_by_language", t.ByLanguage}} {
		for _, r := range part.rep.Rows {
			out = append(out, []string{part.name, r.Group, "participants", num(r.Participants)},
				[]string{part.name, r.Group, "conversations", num(r.Conversations)})
		}
		out = append(out, []string{part.name, "total", "participants", num(part.rep.Total.Participants)},
			[]string{part.name, "total", "conversations", num(part.rep.Total.Conversations)},
			[]string{part.name, "total", "group_participants", num(part.rep.Total.GroupParticipants)})
	}
	for _, th := range t.Themes.Total.Themes {
		out = append(out, []string{"what_they_said", th.Theme, "conversations", num(th.Conversations)})
	}
	for _, d := range t.Decisions {
		out = append(out, []string{"decision", d.ID, "title", d.Title}, []string{"decision", d.ID, "outcome", d.Outcome})
		if d.Reason != "" {
			out = append(out, []string{"decision", d.ID, "reason", d.Reason})
		}
		locs := make([]string, 0, len(d.Summary))
		for l := range d.Summary {
			locs = append(locs, l)
		}
		slices.Sort(locs)
		for _, l := range locs {
			out = append(out, []string{"decision", d.ID, "summary." + l, d.Summary[l]})
		}
		for _, st := range schema.FeedbackStatuses {
			out = append(out, []string{"fed_back", d.ID, st, num(d.Feedback[st])})
		}
	}
	return out
}
