package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/disclosure"
	"github.com/fieldnotes/fieldnotes/server/reports/reportstest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/reports")

const goldenDir = "../../testdata/reports"

func golden(t *testing.T, name string, got any) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	path := filepath.Join(goldenDir, name+".json")
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./server/reports -update to create it)", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("%s differs from golden file %s:\n%s", name, path, b)
	}
}

func mustIndex(t *testing.T, f *reportstest.Fixture) *Service {
	t.Helper()
	return &Service{Index: NewIndex(f.Store)}
}

func mustQuery(t *testing.T, raw string) Query {
	t.Helper()
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	q, err := ParseQuery(v, "")
	if err != nil {
		t.Fatal(err)
	}
	q.Teams = []string{reportstest.North}
	return q
}

var ctx = context.Background()

func TestParticipationGolden(t *testing.T) {
	f := reportstest.Build(t)
	s := mustIndex(t, f)
	for _, pol := range []string{"nhs", "cell"} {
		for _, g := range Groupings {
			t.Run(pol+"/"+g, func(t *testing.T) {
				rep, err := s.Participation(ctx, mustQuery(t, "group_by="+g+"&policy="+pol))
				if err != nil {
					t.Fatal(err)
				}
				golden(t, "participation_"+g+"_"+pol, rep)
				if pol == "cell" {
					auditClean(t, s, mustQuery(t, "group_by="+g+"&policy=cell"))
					auditClean(t, s, mustQuery(t, "group_by="+g+"&policy=cell&engagement="+f.Engagements[1].ID))
				}
			})
		}
	}
	t.Run("themes", func(t *testing.T) {
		for _, q := range []string{"group_by=engagement&policy=cell", "group_by=language&policy=nhs", "group_by=community&policy=cell&min_cell=3"} {
			rep, err := s.Themes(ctx, mustQuery(t, q))
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "themes_"+strings.NewReplacer("group_by=", "", "&policy=", "_", "&min_cell=", "_").Replace(q), rep)
		}
	})
	t.Run("engagement", func(t *testing.T) {
		rep, err := s.Participation(ctx, mustQuery(t, "group_by=community&policy=cell&engagement="+f.Engagements[0].ID))
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "participation_community_cell_engagement1", rep)
	})
}

// expected counts the fixture spec directly (not through the index) for one grouping:
// participants and conversations per group, the rules written out again.
func expected(f *reportstest.Fixture, grouping string, from, to int64) (parts, convs map[string]int, totP, totC int) {
	parts, convs = map[string]int{}, map[string]int{}
	venue := map[string]string{}
	for _, e := range f.Engagements {
		venue[e.ID] = e.VenueType
	}
	for _, p := range f.People {
		if p.Team != reportstest.North || !p.Has(schema.ScopeRecordViews) {
			continue
		}
		seen := map[string]bool{}
		any := false
		for _, c := range p.Convs {
			if (from > 0 && c.StartedAt < from) || (to > 0 && c.StartedAt >= to) {
				continue
			}
			any = true
			totC++
			var gs []string
			switch grouping {
			case ByCommunity:
				gs = slices.Clone(p.Communities)
			case ByVenueType:
				gs = []string{venue[p.Engagement]}
			case ByLanguage:
				gs = slices.Clone(c.Locales)
			case ByEthnicity:
				gs = []string{p.Ethnicity}
				if !p.Has(schema.ScopeEqualityMonitoring) {
					gs = nil
				}
			case ByAgeBand:
				gs = []string{p.AgeBand}
				if !p.Has(schema.ScopeEqualityMonitoring) {
					gs = nil
				}
			case ByEngagement:
				gs = []string{p.Engagement}
			}
			gs = slices.DeleteFunc(gs, func(s string) bool { return s == "" })
			if len(gs) == 0 {
				gs = []string{NotRecorded}
			}
			for _, g := range gs {
				convs[g]++
				if !seen[g] {
					seen[g] = true
					parts[g]++
				}
			}
		}
		if any {
			totP++
		}
	}
	for _, g := range f.Groups {
		if (from > 0 && g.StartedAt < from) || (to > 0 && g.StartedAt >= to) {
			continue
		}
		totC++
		var gs []string
		switch grouping {
		case ByVenueType:
			gs = []string{venue[g.Engagement]}
		case ByLanguage:
			gs = g.Locales
		case ByEngagement:
			gs = []string{g.Engagement}
		default:
			gs = []string{NotRecorded}
		}
		for _, x := range gs {
			convs[x]++
		}
	}
	return
}

// The true counts behind the reports match an independent count of the spec.
func TestTrueCountsMatchSpec(t *testing.T) {
	f := reportstest.Build(t)
	s := mustIndex(t, f)
	check := func(t *testing.T, from, to int64) {
		for _, g := range []string{ByCommunity, ByVenueType, ByLanguage, ByEthnicity, ByAgeBand, ByEngagement} {
			wantP, wantC, totP, totC := expected(f, g, from, to)
			err := s.Index.Read(ctx, func(v *View) error {
				pop := v.population(filter{Teams: []string{reportstest.North}, From: from, To: to}, []string{g})
				if pop.tot[mParticipants] != totP || pop.tot[mConversations] != totC {
					t.Errorf("%s totals: got %d/%d, want %d/%d", g, pop.tot[mParticipants], pop.tot[mConversations], totP, totC)
				}
				tab := pop.tabs[g]
				for grp, n := range wantP {
					if tab.counts[mParticipants][grp] != n {
						t.Errorf("%s %s participants = %d, want %d", g, grp, tab.counts[mParticipants][grp], n)
					}
				}
				for grp, n := range wantC {
					if tab.counts[mConversations][grp] != n {
						t.Errorf("%s %s conversations = %d, want %d", g, grp, tab.counts[mConversations][grp], n)
					}
				}
				for grp, n := range tab.counts[mParticipants] {
					if n != wantP[grp] {
						t.Errorf("%s %s participants = %d, spec says %d", g, grp, n, wantP[grp])
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	check(t, 0, 0)
	t.Run("DateRange", func(t *testing.T) { check(t, reportstest.T0+20*reportstest.Hour, reportstest.T0+60*reportstest.Hour) })
	t.Run("AfterWithdrawal", func(t *testing.T) {
		f.Withdraw(t, 3)  // two conversations, Punjabi Sikh
		f.Withdraw(t, 70) // Welsh speaker
		check(t, 0, 0)
	})
}

// A consent withdrawal changes the published reports (here: the conversation counts of
// one community drop by exactly what the withdrawn consents covered).
func TestReportAfterWithdrawal(t *testing.T) {
	f := reportstest.Build(t)
	s := mustIndex(t, f)
	q := mustQuery(t, "group_by=community&policy=cell&min_cell=2")
	before, err := s.Participation(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	find := func(r *Participation, g string) Row {
		for _, row := range r.Rows {
			if row.Group == g {
				return row
			}
		}
		t.Fatalf("no row %s", g)
		return Row{}
	}
	b := find(before, "Punjabi Sikh")
	// persons 3 and 6 are Punjabi Sikh with 2 conversations each
	f.Withdraw(t, 3)
	f.Withdraw(t, 6)
	after, err := s.Participation(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	a := find(after, "Punjabi Sikh")
	if b.Participants == nil || a.Participants == nil || *b.Participants-*a.Participants != 2 || *b.Conversations-*a.Conversations != 4 {
		t.Fatalf("before %+v after %+v", b.Counts, a.Counts)
	}
	if *before.Total.Participants-*after.Total.Participants != 2 {
		t.Fatalf("total before %d after %d", *before.Total.Participants, *after.Total.Participants)
	}
}

// A conversation rejected in review leaves the counts (and the report says so) until
// include_rejected=true asks for it; a has_issues one still counts.
func TestRejectedLeftOut(t *testing.T) {
	f := reportstest.Build(t)
	s := mustIndex(t, f)
	q := mustQuery(t, "group_by=engagement&policy=cell&min_cell=2")
	before, err := s.Participation(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if before.Rejected != RejectedLeftOut {
		t.Fatalf("rejected = %q, want %q", before.Rejected, RejectedLeftOut)
	}
	// Person 3 has two conversations: rejecting both removes them and the person.
	p := f.Person(3)
	for _, c := range p.Convs {
		f.Review(t, c.ID, "rejected", "recorded twice by mistake")
	}
	f.Review(t, f.Person(6).Convs[0].ID, "has_issues", "answer 2 is cut off")
	after, err := s.Participation(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := *before.Total.Conversations-*after.Total.Conversations, len(p.Convs); got != want {
		t.Errorf("rejecting %d conversations took %d off the total", want, got)
	}
	if got := *before.Total.Participants - *after.Total.Participants; got != 1 {
		t.Errorf("participants went down by %d, want 1", got)
	}
	incl := mustQuery(t, "group_by=engagement&policy=cell&min_cell=2&include_rejected=true")
	all, err := s.Participation(ctx, incl)
	if err != nil {
		t.Fatal(err)
	}
	if all.Rejected != RejectedIncluded || *all.Total.Conversations != *before.Total.Conversations {
		t.Errorf("include_rejected: %s, %d conversations, want included, %d", all.Rejected, *all.Total.Conversations, *before.Total.Conversations)
	}
	th, err := s.Themes(ctx, q)
	if err != nil || th.Rejected != RejectedLeftOut {
		t.Errorf("themes report: rejected = %q, %v", th.Rejected, err)
	}
	if _, err := ParseQuery(url.Values{"include_rejected": {"maybe"}}, ByCommunity); err == nil {
		t.Error("include_rejected=maybe was accepted")
	}
}

// memIndex builds an index in memory: one engagement per venue type given, with n
// participants each, each with one conversation under a full consent.
func memIndex(counts map[string]int, extra func(ix *Index)) *Service {
	ix := NewIndex(nil)
	id := 0
	next := func() string { id++; return fmt.Sprintf("id-%06d", id) }
	for _, vt := range schema.VenueTypes {
		n, ok := counts[vt]
		if !ok {
			continue
		}
		eid := "eng-" + vt
		ix.apply(schema.Engagement, eid, "t", false, false, &view{Title: vt, VenueType: vt})
		for range n {
			pid, cid := next(), next()
			ix.apply(schema.Participant, pid, "t", false, false, &view{Engagement: eid, Communities: []string{"c-" + vt}})
			ix.apply(schema.Consent, cid, "t", false, false, &view{Participant: pid, Engagement: eid, Scopes: []string{schema.ScopeRecordViews}})
			ix.apply(schema.Conversation, next(), "t", false, false, &view{Engagement: eid, Participant: pid, Consent: cid, Locales: []string{"en"}})
		}
	}
	if extra != nil {
		extra(ix)
	}
	return &Service{Index: ix}
}

func val(p *int) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

// NHS England's golden cases, through the report path.
func TestNHSGoldenThroughReport(t *testing.T) {
	s := memIndex(map[string]int{"cafe": 0, "place_of_worship": 2, "community_centre": 5, "market": 8, "school": 16, "library": 57, "festival": 10023}, nil)
	rep, err := s.Participation(ctx, Query{GroupBy: ByVenueType, Policy: disclosure.Policy{Name: "nhs"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"cafe": "0", "place_of_worship": "null", "community_centre": "null", "market": "10", "school": "15",
		"library": "55", "festival": "10025", "barber_or_salon": "0", NotRecorded: "0"}
	for _, r := range rep.Rows {
		w, ok := want[r.Group]
		if !ok {
			w = "0"
		}
		if got := val(r.Participants); got != w || (w == "null") != r.Suppressed {
			t.Errorf("%s: participants %s suppressed %v, want %s", r.Group, got, r.Suppressed, w)
		}
	}
	// total from true counts (10111) then rounded, not the sum of rounded rows (10120)
	if got := val(rep.Total.Participants); got != "10110" {
		t.Errorf("total = %s, want 10110", got)
	}
}

// Primary suppression alone leaks through the total; the cell policy's secondary
// suppression prevents it, in this grouping and in every other grouping of the same data
// and in the per-engagement report, checked by the exact audit.
func TestCellSecondarySuppression(t *testing.T) {
	s := memIndex(map[string]int{"market": 10, "cafe": 3, "school": 12, "library": 9}, nil)
	pol := disclosure.Policy{Name: disclosure.PolicyCell, MinCell: 5}
	q := Query{GroupBy: ByVenueType, Policy: pol}

	// Primary only: cafe hidden, everything else shown → cafe = 34 − 10 − 12 − 9 = 3.
	prob := disclosure.OneWay([]string{"market", "cafe", "school", "library"}, []int{10, 3, 12, 9})
	primary := make([]disclosure.Published, len(prob.Values))
	for i, v := range prob.Values {
		if v > 0 && v < 5 {
			primary[i] = disclosure.Published{Suppressed: true}
		} else {
			primary[i] = disclosure.Published{Value: &prob.Values[i]}
		}
	}
	exps, err := disclosure.Audit(pol, prob, primary)
	if err != nil || len(exps) == 0 || exps[0].Range.Width() != 0 {
		t.Fatalf("primary-only should leak the cafe exactly: %+v %v", exps, err)
	}

	rep, err := s.Participation(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	hidden := 0
	for _, r := range rep.Rows {
		if r.Participants == nil {
			hidden++
		}
	}
	if hidden < 2 && rep.Total.Participants != nil {
		t.Fatalf("only %d hidden with the total shown: %+v", hidden, rep.Rows)
	}
	// The whole joint problem (every grouping, sharing the total) passes the audit.
	err = s.Index.Read(ctx, func(v *View) error {
		res, err := s.protected(v, q)
		if err != nil {
			return err
		}
		for m := range nMeasures {
			exps, err := disclosure.Audit(pol, res.b[m].b.Problem(), res.pub[m])
			if err != nil {
				return err
			}
			if len(exps) > 0 {
				t.Errorf("%s: exposures %+v", measureNames[m], exps)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// The same data grouped by engagement and by community (one community per venue
	// here) is suppressed the same way: no second grouping undoes it.
	for _, g := range []string{ByEngagement, ByCommunity} {
		other, err := s.Participation(ctx, Query{GroupBy: g, Policy: pol})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range other.Rows {
			if strings.HasSuffix(r.Group, "cafe") && r.Participants != nil {
				t.Errorf("%s: cafe's 3 shown as %d", g, *r.Participants)
			}
		}
	}

	// Per engagement: the library's 9 (if hidden as the secondary cell) must not come
	// back as the filtered report's total.
	lib, err := s.Participation(ctx, Query{GroupBy: ByVenueType, Policy: pol, Engagement: "eng-library"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Rows {
		if r.Group == "library" && r.Participants == nil && lib.Total.Participants != nil {
			t.Fatalf("library hidden in the venue report but its engagement report shows %d", *lib.Total.Participants)
		}
	}
	err = s.Index.Read(ctx, func(v *View) error {
		res, err := s.protected(v, Query{GroupBy: ByVenueType, Policy: pol, Engagement: "eng-library"})
		if err != nil {
			return err
		}
		exps, err := disclosure.Audit(pol, res.b[mParticipants].b.Problem(), res.pub[mParticipants])
		if len(exps) > 0 {
			t.Errorf("engagement report exposures %+v", exps)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestThemesCellAudit(t *testing.T) {
	f := reportstest.Build(t)
	s := mustIndex(t, f)
	for _, g := range []string{ByEngagement, ByVenueType, ByLanguage} {
		q := mustQuery(t, "group_by="+g+"&policy=cell")
		rep, err := s.Themes(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Themes) != 5 {
			t.Fatalf("themes %v", rep.Themes)
		}
		// the theme report's conversation counts are the participation report's
		part, err := s.Participation(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rep.Rows {
			if val(r.Conversations) != val(part.Rows[i].Conversations) {
				t.Errorf("%s %s: themes say %s conversations, participation %s", g, r.Group, val(r.Conversations), val(part.Rows[i].Conversations))
			}
		}
	}
}

func TestParseQuery(t *testing.T) {
	for _, c := range []struct{ raw, param string }{
		{"group_by=shoe_size", "group_by"},
		{"group_by=community&rollup=group", "rollup"},
		{"from=yesterday", "from"},
		{"from=10&to=5", "to"},
		{"policy=fuzzy", "policy"},
		{"policy=cell&min_cell=1", "min_cell"},
	} {
		v, _ := url.ParseQuery(c.raw)
		_, err := ParseQuery(v, ByCommunity)
		e, ok := err.(*Error)
		if !ok || e.Code != CodeInvalidQuery || e.Param != c.param {
			t.Errorf("%s: %v", c.raw, err)
		}
	}
	v, _ := url.ParseQuery("group_by=ethnicity&rollup=group")
	if q, err := ParseQuery(v, ""); err != nil || q.GroupBy != ByEthnicityGroup || q.Policy.Name != "nhs" {
		t.Errorf("rollup: %+v %v", q, err)
	}
}

// auditClean checks the joint problem behind a cell report with the exact audit: no
// published-kind quantity (every grouping's cells and totals) is exposed.
func auditClean(t *testing.T, s *Service, q Query) {
	t.Helper()
	err := s.Index.Read(ctx, func(v *View) error {
		res, err := s.protected(v, q)
		if err != nil {
			return err
		}
		for m := range nMeasures {
			exps, err := disclosure.Audit(q.Policy, res.b[m].b.Problem(), res.pub[m])
			if err != nil {
				return err
			}
			for _, e := range exps {
				if !res.b[m].implicit[e.Index] {
					t.Errorf("%s: %s exposed: %+v", measureNames[m], e.Label, e)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
