package reports

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/fieldnotes/fieldnotes/server/disclosure"
)

// Stable error codes this package returns (the API's error `code`).
const (
	CodeInvalidQuery    = "invalid_query"    // a bad query parameter; Param names it
	CodeNotFound        = "not_found"        // e.g. an unknown baseline
	CodeInvalidBaseline = "invalid_baseline" // a baseline CSV that fails validation
)

// Error is a report request the caller got wrong.
type Error struct {
	Code    string
	Param   string         // the query parameter or field at fault
	Message string         // English, for logs; people see error.<code>
	Details map[string]any // e.g. the CSV line of a bad baseline row
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func queryErr(param, format string, a ...any) *Error {
	return &Error{Code: CodeInvalidQuery, Param: param, Message: fmt.Sprintf(format, a...), Details: map[string]any{"field": param}}
}

// Query selects and groups a report.
type Query struct {
	GroupBy    string
	From, To   int64  // ms on started_at (else consent given_at), [From, To); 0: open
	Engagement string // only this engagement
	Teams      []string
	Policy     disclosure.Policy
	// IncludeRejected counts conversations rejected in review (include_rejected=true);
	// by default they are left out, and every report says which it did.
	IncludeRejected bool
}

// Rejected conversations in a report: left out (the default) or included.
const (
	RejectedLeftOut  = "left_out"
	RejectedIncluded = "included"
)

func (q Query) rejected() string {
	if q.IncludeRejected {
		return RejectedIncluded
	}
	return RejectedLeftOut
}

// ParseQuery reads group_by (or group_by=ethnicity with rollup=group), from, to,
// engagement, policy and min_cell. Teams are the caller's, set by the HTTP layer.
func ParseQuery(v url.Values, defaultGroupBy string) (Query, error) {
	q := Query{GroupBy: strings.TrimSpace(v.Get("group_by")), Engagement: strings.TrimSpace(v.Get("engagement"))}
	if q.GroupBy == "" {
		q.GroupBy = defaultGroupBy
	}
	if r := strings.TrimSpace(v.Get("rollup")); r != "" {
		if r != "group" || q.GroupBy != ByEthnicity {
			return Query{}, queryErr("rollup", "rollup=group applies to group_by=ethnicity only")
		}
		q.GroupBy = ByEthnicityGroup
	}
	if !slices.Contains(Groupings, q.GroupBy) {
		return Query{}, queryErr("group_by", "group_by must be one of %s", strings.Join(Groupings, ", "))
	}
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"from", &q.From}, {"to", &q.To}} {
		if s := strings.TrimSpace(v.Get(p.name)); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 0 {
				return Query{}, queryErr(p.name, "%s must be a time in Unix ms", p.name)
			}
			*p.dst = n
		}
	}
	if q.From > 0 && q.To > 0 && q.To <= q.From {
		return Query{}, queryErr("to", "to must be after from")
	}
	pol, err := disclosure.ParsePolicy(v.Get("policy"), v.Get("min_cell"))
	if err != nil {
		if de, ok := err.(*disclosure.Error); ok {
			return Query{}, queryErr(de.Param, "%s", de.Message)
		}
		return Query{}, err
	}
	q.Policy = pol
	switch s := strings.TrimSpace(v.Get("include_rejected")); s {
	case "", "false", "0":
	case "true", "1":
		q.IncludeRejected = true
	default:
		return Query{}, queryErr("include_rejected", "include_rejected must be true or false")
	}
	return q, nil
}

// Counts is one row's (or the total's) published counts: null when suppressed.
// Suppressed is true when any of them is null.
type Counts struct {
	Participants      *int `json:"participants"`
	Conversations     *int `json:"conversations"`
	GroupParticipants *int `json:"group_participants"`
	Suppressed        bool `json:"suppressed"`
}

func countsOf(p [nMeasures]disclosure.Published) Counts {
	c := Counts{Participants: p[mParticipants].Value, Conversations: p[mConversations].Value, GroupParticipants: p[mGroupParticipants].Value}
	c.Suppressed = p[0].Suppressed || p[1].Suppressed || p[2].Suppressed
	return c
}

// Row is one group of a participation report.
type Row struct {
	Group string `json:"group"`
	Label string `json:"label,omitempty"` // an engagement's title
	Counts
}

// Participation is the participation report.
type Participation struct {
	GroupBy    string `json:"group_by"`
	Policy     string `json:"policy"`
	MinCell    int    `json:"min_cell"`
	From       int64  `json:"from,omitempty"`
	To         int64  `json:"to,omitempty"`
	Engagement string `json:"engagement,omitempty"`
	// MultiValued is true when some unit counts in more than one row (rows then do not
	// add up to the total).
	MultiValued bool `json:"multi_valued"`
	// Rejected says whether conversations rejected in review were left out (left_out, the
	// default) or counted (included).
	Rejected string `json:"rejected"`
	Rows     []Row  `json:"rows"`
	Total    Counts `json:"total"`
}

// Service computes reports from an Index.
type Service struct {
	Index *Index
}

// population is what a report counts before disclosure control.
type population struct {
	convs []*Conversation
	tot   totals
	tabs  map[string]*table
}

func (v *View) population(f filter, groupings []string) population {
	convs := counted(v, f)
	tot, tabs := tally(v, convs, groupings)
	return population{convs: convs, tot: tot, tabs: tabs}
}

// result is a protected report for one grouping: per group and total, the published
// counts of the three measures, plus the pieces the theme report builds on.
type result struct {
	pop   population // the population reported (filtered by engagement when asked)
	rows  map[string][nMeasures]disclosure.Published
	total [nMeasures]disclosure.Published
	// under cell, per measure: the joint problem's builder, its publication and where
	// the reported population's quantities are (the theme report builds on them).
	b   [nMeasures]*problem
	pub [nMeasures][]disclosure.Published
	lay [nMeasures]layout
}

// protected counts and protects a report. Under cell, every grouping of the population
// is one joint problem sharing its total (so no second grouping undoes a suppression),
// and a report filtered to one engagement is built on top of the all-engagements
// problem for the same period, whose publication it keeps, with its total being that
// engagement's cell. Under nhs each count is rounded on its own, and only the grouping
// asked for is counted.
func (s *Service) protected(v *View, q Query) (*result, error) {
	base := filter{Teams: q.Teams, From: q.From, To: q.To, IncludeRejected: q.IncludeRejected}
	groupings := []string{q.GroupBy}
	if q.Policy.Name == disclosure.PolicyCell {
		groupings = Groupings
	}
	if q.Policy.Name != disclosure.PolicyCell {
		f := base
		f.Engagement = q.Engagement
		pop := v.population(f, groupings)
		res := &result{pop: pop, rows: map[string][nMeasures]disclosure.Published{}}
		for m := range nMeasures {
			res.total[m] = nhs(pop.tot[m])
		}
		t := pop.tabs[q.GroupBy]
		for _, g := range t.groups {
			var p [nMeasures]disclosure.Published
			for m := range nMeasures {
				p[m] = nhs(t.counts[m][g])
			}
			res.rows[g] = p
		}
		return res, nil
	}

	all := v.population(base, groupings)
	pop := all
	var sub *population
	if q.Engagement != "" {
		f := base
		f.Engagement = q.Engagement
		p := v.population(f, groupings)
		sub, pop = &p, p
	}
	res := &result{pop: pop, rows: map[string][nMeasures]disclosure.Published{}}
	for m := range nMeasures {
		b := newProblem()
		lay := addPopulation(b, "all/", m, all.tot, all.tabs, -1)
		pub, err := protect(q.Policy, b, nil)
		if err != nil {
			return nil, err
		}
		if sub != nil {
			eng, ok := lay.cell[ByEngagement][q.Engagement]
			if !ok { // nothing counted in that engagement: its total is a published 0
				eng = b.b.Quantity("engagement:"+q.Engagement, 0)
				pub = append(pub, disclosure.Published{Value: new(int)})
			}
			lay = addPopulation(b, "eng/", m, sub.tot, sub.tabs, eng)
			if pub, err = protect(q.Policy, b, pub); err != nil {
				return nil, err
			}
		}
		res.total[m] = pub[lay.total]
		for _, g := range pop.tabs[q.GroupBy].groups {
			p := res.rows[g]
			p[m] = pub[lay.cell[q.GroupBy][g]]
			res.rows[g] = p
		}
		res.b[m], res.pub[m], res.lay[m] = b, pub, lay
	}
	return res, nil
}

func nhs(n int) disclosure.Published {
	v, sup := disclosure.NHSRound(n)
	if sup {
		return disclosure.Published{Suppressed: true}
	}
	return disclosure.Published{Value: &v}
}

// Participation computes the participation report.
func (s *Service) Participation(ctx context.Context, q Query) (*Participation, error) {
	var out *Participation
	err := s.Index.Read(ctx, func(v *View) error {
		res, err := s.protected(v, q)
		if err != nil {
			return err
		}
		out = &Participation{GroupBy: q.GroupBy, Policy: q.Policy.Name, MinCell: q.Policy.MinCell, From: q.From, To: q.To,
			Engagement: q.Engagement, Rejected: q.rejected(), Rows: []Row{}, Total: countsOf(res.total)}
		t := res.pop.tabs[q.GroupBy]
		out.MultiValued = t.multi[mParticipants] || t.multi[mConversations] || t.multi[mGroupParticipants]
		for _, g := range t.groups {
			out.Rows = append(out.Rows, Row{Group: g, Label: label(v, q.GroupBy, g), Counts: countsOf(res.rows[g])})
		}
		return nil
	})
	return out, err
}

func label(v *View, grouping, g string) string {
	if grouping == ByEngagement {
		if e := v.Engagement(g); e != nil {
			return e.Title
		}
	}
	return ""
}

// ThemeCount is one theme's published count of conversations.
type ThemeCount struct {
	Theme         string `json:"theme"`
	Conversations *int   `json:"conversations"`
	Suppressed    bool   `json:"suppressed"`
}

// ThemeRow is one group of a theme report: its conversations (as in the participation
// report) and, per theme, the conversations whose themes include it.
type ThemeRow struct {
	Group         string       `json:"group"`
	Label         string       `json:"label,omitempty"`
	Conversations *int         `json:"conversations"`
	Suppressed    bool         `json:"suppressed"`
	Themes        []ThemeCount `json:"themes"`
}

// Themes is the theme report.
type Themes struct {
	GroupBy     string     `json:"group_by"`
	Policy      string     `json:"policy"`
	MinCell     int        `json:"min_cell"`
	From        int64      `json:"from,omitempty"`
	To          int64      `json:"to,omitempty"`
	Engagement  string     `json:"engagement,omitempty"`
	MultiValued bool       `json:"multi_valued"`
	Rejected    string     `json:"rejected"` // left_out (default) or included, as Participation
	Themes      []string   `json:"themes"`
	Rows        []ThemeRow `json:"rows"`
	Total       ThemeRow   `json:"total"`
}

// Themes computes the theme report: groups × themes, counting conversations. Under cell
// it is protected jointly with the participation report of the same population (whose
// conversation counts it keeps as published): theme totals and cells, each cell bounded
// by its group's conversations and its theme's total.
func (s *Service) Themes(ctx context.Context, q Query) (*Themes, error) {
	var out *Themes
	err := s.Index.Read(ctx, func(v *View) error {
		res, err := s.protected(v, q)
		if err != nil {
			return err
		}
		themes, cells, themeTot, multi := themeCounts(v, res.pop.convs, q.GroupBy)
		t := res.pop.tabs[q.GroupBy]
		out = &Themes{GroupBy: q.GroupBy, Policy: q.Policy.Name, MinCell: q.Policy.MinCell, From: q.From, To: q.To,
			Engagement: q.Engagement, MultiValued: multi, Rejected: q.rejected(), Themes: append([]string{}, themes...), Rows: []ThemeRow{}}
		if themes == nil {
			out.Themes = []string{}
		}
		cellPub := map[string]map[string]disclosure.Published{}
		totPub := map[string]disclosure.Published{}
		if q.Policy.Name != disclosure.PolicyCell {
			for _, th := range themes {
				totPub[th] = nhs(themeTot[th])
			}
			for _, g := range t.groups {
				cellPub[g] = map[string]disclosure.Published{}
				for _, th := range themes {
					cellPub[g][th] = nhs(cells[g][th])
				}
			}
		} else {
			p, lay := res.b[mConversations], res.lay[mConversations]
			b := &p.b
			convTot := res.pop.tot[mConversations]
			thIdx := map[string]int{}
			for _, th := range themes {
				thIdx[th] = b.Quantity("theme:"+th, themeTot[th])
				b.Sum(lay.total, thIdx[th], p.hidden("theme:"+th+"/others", convTot-themeTot[th]))
			}
			cellIdx := map[string]map[string]int{}
			for _, g := range t.groups {
				cellIdx[g] = map[string]int{}
				rowIdx := lay.cell[q.GroupBy][g]
				for _, th := range themes {
					n := cells[g][th]
					c := b.Quantity(g+"×"+th, n)
					cellIdx[g][th] = c
					b.Sum(rowIdx, c, p.hidden(g+"×"+th+"/others", t.counts[mConversations][g]-n))
					if multi {
						b.Sum(thIdx[th], c, p.hidden(g+"×"+th+"/other-groups", themeTot[th]-n))
					}
				}
			}
			if !multi {
				for _, th := range themes {
					var parts []int
					for _, g := range t.groups {
						parts = append(parts, cellIdx[g][th])
					}
					if len(parts) > 0 {
						b.Sum(thIdx[th], parts...)
					}
				}
			}
			pub, err := protect(q.Policy, p, res.pub[mConversations])
			if err != nil {
				return err
			}
			for th, i := range thIdx {
				totPub[th] = pub[i]
			}
			for g, m := range cellIdx {
				cellPub[g] = map[string]disclosure.Published{}
				for th, i := range m {
					cellPub[g][th] = pub[i]
				}
			}
		}
		row := func(g, lbl string, conv disclosure.Published, pubs map[string]disclosure.Published) ThemeRow {
			r := ThemeRow{Group: g, Label: lbl, Conversations: conv.Value, Suppressed: conv.Suppressed, Themes: []ThemeCount{}}
			for _, th := range themes {
				p := pubs[th]
				r.Themes = append(r.Themes, ThemeCount{Theme: th, Conversations: p.Value, Suppressed: p.Suppressed})
				r.Suppressed = r.Suppressed || p.Suppressed
			}
			return r
		}
		for _, g := range t.groups {
			out.Rows = append(out.Rows, row(g, label(v, q.GroupBy, g), res.rows[g][mConversations], cellPub[g]))
		}
		out.Total = row("total", "", res.total[mConversations], totPub)
		return nil
	})
	return out, err
}
