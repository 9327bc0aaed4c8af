package reports

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/fieldnotes/fieldnotes/schema"
)

// Baseline is a population's share per group, e.g. from a Census 2021 table.
type Baseline struct {
	Name       string  `json:"name"`
	GroupBy    string  `json:"group_by"`
	Shares     []Share `json:"shares"`
	UploadedBy string  `json:"uploaded_by,omitempty"`
	UploadedAt int64   `json:"uploaded_at,omitempty"`
}

// Share is one group's share of the population, as a fraction.
type Share struct {
	Group string  `json:"group"`
	Share float64 `json:"share"`
}

// ShareTolerance is how far the shares may add up from 1 (or 100): Census tables are
// published rounded.
const ShareTolerance = 0.02

// BaselineProblem is one thing wrong with a baseline CSV.
type BaselineProblem struct {
	Line    int    `json:"line,omitempty"`
	Field   string `json:"field"`
	Value   string `json:"value,omitempty"`
	Message string `json:"message"`
}

// ParseBaseline reads a `group,share` CSV (an optional header line `group,share`; a
// UTF-8 BOM is ignored). Shares are all fractions (0–1, adding up to 1) or all
// percentages (0–100, adding up to 100, a trailing % allowed), within ShareTolerance;
// they are stored as fractions. groupBy is one of Groupings, or "" to infer it from the
// groups (ethnicity, ethnicity_group, age_band or venue_type, when every group belongs
// to exactly that vocabulary). Groups must be known for the grouping (not_recorded and
// prefer_not_to_say are not population groups) and appear once. All problems are
// reported together in an *Error invalid_baseline whose Details["problems"] lists them
// with their line numbers.
func ParseBaseline(name, groupBy string, r io.Reader) (*Baseline, error) {
	var problems []BaselineProblem
	bad := func(line int, field, value, msg string) {
		problems = append(problems, BaselineProblem{Line: line, Field: field, Value: value, Message: msg})
	}
	if strings.TrimSpace(name) == "" || len(name) > 100 {
		bad(0, "name", name, "a baseline needs a name of at most 100 characters")
	}
	if groupBy != "" && !slices.Contains(Groupings, groupBy) {
		return nil, queryErr("group_by", "group_by must be one of %s", strings.Join(Groupings, ", "))
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	type rec struct {
		line  int
		group string
		raw   string
		val   float64
		pct   bool
	}
	var recs []rec
	for {
		fields, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			bad(line, "csv", "", "not valid CSV: "+err.Error())
			break
		}
		if len(recs) == 0 && len(fields) > 0 {
			fields[0] = strings.TrimPrefix(fields[0], "\ufeff")
		}
		if len(fields) == 1 && strings.TrimSpace(fields[0]) == "" {
			continue // blank line
		}
		if len(fields) != 2 {
			bad(line, "csv", strings.Join(fields, ","), "each line is group,share")
			continue
		}
		g, s := strings.TrimSpace(fields[0]), strings.TrimSpace(fields[1])
		if len(recs) == 0 && strings.EqualFold(g, "group") && strings.EqualFold(s, "share") {
			continue // header
		}
		rc := rec{line: line, group: g, raw: s}
		if strings.HasSuffix(s, "%") {
			rc.pct, s = true, strings.TrimSpace(strings.TrimSuffix(s, "%"))
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			bad(line, "share", rc.raw, "share must be a number ≥ 0")
			continue
		}
		rc.val = v
		recs = append(recs, rc)
	}
	if len(recs) == 0 && len(problems) == 0 {
		bad(0, "csv", "", "no group,share lines")
	}
	if groupBy == "" && len(recs) > 0 {
		for _, cand := range []string{ByEthnicity, ByEthnicityGroup, ByAgeBand, ByVenueType} {
			ok := true
			for _, rc := range recs {
				if !KnownGroup(cand, rc.group) || rc.group == NotRecorded || rc.group == schema.PreferNotToSay {
					ok = false
					break
				}
			}
			if ok {
				groupBy = cand
				break
			}
		}
		if groupBy == "" {
			bad(0, "group_by", "", "give group_by: the groups are not all from one known vocabulary")
		}
	}
	seen := map[string]int{}
	sum, anyPct, big := 0.0, false, false
	for _, rc := range recs {
		g := rc.group
		if groupBy == ByLanguage {
			g = baseLang(g)
		}
		switch {
		case g == "":
			bad(rc.line, "group", rc.group, "group is empty")
		case g == NotRecorded || g == schema.PreferNotToSay:
			bad(rc.line, "group", rc.group, "not a population group")
		case groupBy == ByLanguage && !schema.ValidLocale(rc.group):
			bad(rc.line, "group", rc.group, "not a language tag")
		case groupBy != "" && !KnownGroup(groupBy, g):
			bad(rc.line, "group", rc.group, "not a group of "+groupBy)
		}
		if first, dup := seen[g]; dup {
			bad(rc.line, "group", rc.group, "duplicate of line "+strconv.Itoa(first))
		} else {
			seen[g] = rc.line
		}
		sum += rc.val
		anyPct = anyPct || rc.pct
		big = big || rc.val > 1
	}
	scale := 1.0
	switch {
	case anyPct || (big && math.Abs(sum-100) <= 100*ShareTolerance):
		scale = 100
	}
	if len(recs) > 0 {
		if math.Abs(sum/scale-1) > ShareTolerance {
			bad(0, "share", strconv.FormatFloat(sum, 'f', -1, 64), "shares must add up to 1 (fractions) or 100 (percentages)")
		}
		for _, rc := range recs {
			if rc.val/scale > 1 {
				bad(rc.line, "share", rc.raw, "a share is at most 1 (or 100%)")
			}
		}
	}
	if len(problems) > 0 {
		sort.SliceStable(problems, func(i, j int) bool { return problems[i].Line < problems[j].Line })
		return nil, &Error{Code: CodeInvalidBaseline, Param: problems[0].Field, Message: problems[0].Message,
			Details: map[string]any{"field": problems[0].Field, "problems": problems}}
	}
	b := &Baseline{Name: name, GroupBy: groupBy}
	for _, rc := range recs {
		g := rc.group
		if groupBy == ByLanguage {
			g = baseLang(g)
		}
		b.Shares = append(b.Shares, Share{Group: g, Share: rc.val / scale})
	}
	sort.Slice(b.Shares, func(i, j int) bool { return b.Shares[i].Group < b.Shares[j].Group })
	return b, nil
}

// GapRow compares one group's share of participants with its share of the population.
type GapRow struct {
	Group        string `json:"group"`
	Participants *int   `json:"participants"`
	Suppressed   bool   `json:"suppressed"`
	// ParticipantShare is participants / total participants, both as published (null
	// when either is suppressed).
	ParticipantShare *float64 `json:"participant_share"`
	PopulationShare  *float64 `json:"population_share"` // null: not in the baseline
	// Ratio is participant_share / population_share: below 1, under-represented.
	Ratio *float64 `json:"ratio"`
}

// Gaps is the gap report.
type Gaps struct {
	Baseline     string   `json:"baseline"`
	GroupBy      string   `json:"group_by"`
	Policy       string   `json:"policy"`
	MinCell      int      `json:"min_cell"`
	Participants *int     `json:"participants"` // the published total
	Rejected     string   `json:"rejected"`     // left_out (default) or included
	Rows         []GapRow `json:"rows"`
}

// Gaps computes the gap report of a stored baseline: the participation report grouped
// as the baseline is, each group's share of the published total of participants set
// against its population share. Rows: under-represented first (ratio ascending), then
// groups whose ratio can't be given (suppressed count, or not in the baseline such as
// not_recorded), in report order. Shares come from published counts only, so the gap
// report discloses nothing the participation report doesn't.
func (s *Service) Gaps(ctx context.Context, coord *Coord, name string, q Query) (*Gaps, error) {
	b, err := coord.Baseline(ctx, name)
	if err != nil {
		return nil, err
	}
	q.GroupBy = b.GroupBy
	rep, err := s.Participation(ctx, q)
	if err != nil {
		return nil, err
	}
	pop := map[string]float64{}
	for _, sh := range b.Shares {
		pop[sh.Group] = sh.Share
	}
	out := &Gaps{Baseline: name, GroupBy: b.GroupBy, Policy: rep.Policy, MinCell: rep.MinCell, Participants: rep.Total.Participants, Rejected: rep.Rejected, Rows: []GapRow{}}
	seen := map[string]bool{}
	add := func(g string, n *int, sup bool) {
		r := GapRow{Group: g, Participants: n, Suppressed: sup}
		if ps, ok := pop[g]; ok {
			r.PopulationShare = ptr(round4(ps))
		}
		if n != nil && rep.Total.Participants != nil && *rep.Total.Participants > 0 {
			r.ParticipantShare = ptr(round4(float64(*n) / float64(*rep.Total.Participants)))
			if ps, ok := pop[g]; ok && ps > 0 {
				r.Ratio = ptr(round4(float64(*n) / float64(*rep.Total.Participants) / ps))
			}
		}
		out.Rows = append(out.Rows, r)
		seen[g] = true
	}
	for _, row := range rep.Rows {
		add(row.Group, row.Participants, row.Participants == nil)
	}
	for _, sh := range b.Shares { // baseline groups the report has no row for: nobody came
		if !seen[sh.Group] {
			add(sh.Group, ptr(0), false)
		}
	}
	sort.SliceStable(out.Rows, func(i, j int) bool {
		a, c := out.Rows[i].Ratio, out.Rows[j].Ratio
		switch {
		case a != nil && c != nil:
			return *a < *c
		case a != nil:
			return true
		}
		return false
	})
	return out, nil
}

func ptr[T any](v T) *T { return &v }

func round4(f float64) float64 { return math.Round(f*1e4) / 1e4 }
