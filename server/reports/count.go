package reports

import (
	"slices"
	"strings"

	"github.com/fieldnotes/fieldnotes/schema"
)

// Groupings a report can break its counts down by.
const (
	ByCommunity      = "community"
	ByVenueType      = "venue_type"
	ByLanguage       = "language"
	ByEthnicity      = "ethnicity"       // the 19 Census 2021 categories
	ByEthnicityGroup = "ethnicity_group" // rolled up to asian | black | mixed | white | other
	ByAgeBand        = "age_band"
	ByEngagement     = "engagement"
)

// Groupings lists every grouping, in the order the joint disclosure problem adds them.
var Groupings = []string{ByCommunity, ByVenueType, ByLanguage, ByEthnicity, ByEthnicityGroup, ByAgeBand, ByEngagement}

// NotRecorded is the group of units with no answer for the grouping: no community given,
// no language, an equality question not answered or not covered by equality_monitoring
// consent, a group conversation for a participant attribute.
const NotRecorded = "not_recorded"

// AgeBands are the eq_age_band answers.
var AgeBands = schema.EqualityQuestions[0].Values

// closedGroups lists the groups always shown (zeros included) for a closed vocabulary,
// in order; nil for open ones (community, language, engagement), which list the groups
// present, sorted.
func closedGroups(grouping string) []string {
	switch grouping {
	case ByVenueType:
		return append(slices.Clone(schema.VenueTypes), NotRecorded)
	case ByEthnicity:
		return append(slices.Clone(schema.Ethnicities), schema.PreferNotToSay, NotRecorded)
	case ByEthnicityGroup:
		return append(slices.Clone(schema.EthnicGroups), schema.PreferNotToSay, NotRecorded)
	case ByAgeBand:
		return append(slices.Clone(AgeBands), schema.PreferNotToSay, NotRecorded)
	}
	return nil
}

// KnownGroup reports whether g is a group of a closed grouping (always true for open ones
// if g is non-empty).
func KnownGroup(grouping, g string) bool {
	if cg := closedGroups(grouping); cg != nil {
		return slices.Contains(cg, g)
	}
	return strings.TrimSpace(g) != ""
}

// filter selects the population a report counts.
type filter struct {
	Teams      []string // nil: every team
	From, To   int64    // ms, [From, To); 0: open
	Engagement string   // "": every engagement
	// IncludeRejected counts conversations a coordinator rejected in review; they are
	// left out by default.
	IncludeRejected bool
}

func (f filter) team(t string) bool { return f.Teams == nil || slices.Contains(f.Teams, t) }

// counted lists the conversations a report counts: in the teams, in the date range (on
// started_at, else the consent's given_at; a conversation with neither time counts
// only when no range is given), under a consent that exists, is not withdrawn and
// covers record_views, and not rejected in review (unless asked for).
func counted(v *View, f filter) []*Conversation {
	var out []*Conversation
	each := v.Conversations
	if f.Engagement != "" {
		each = func(fn func(*Conversation)) { v.ConversationsOf(f.Engagement, fn) }
	}
	each(func(c *Conversation) {
		if !f.team(c.Team) || (f.Engagement != "" && c.Engagement != f.Engagement) {
			return
		}
		if c.Rejected() && !f.IncludeRejected {
			return
		}
		cons := v.ConsentOf(c)
		if !cons.Valid(RecordViews) {
			return
		}
		t := c.StartedAt
		if t == 0 {
			t = cons.GivenAt
		}
		if (f.From > 0 && (t == 0 || t < f.From)) || (f.To > 0 && (t == 0 || t >= f.To)) {
			return
		}
		out = append(out, c)
	})
	return out
}

// baseLang reduces a BCP 47 tag to its lower-case base language: "cy-GB" → "cy".
func baseLang(tag string) string {
	tag = strings.TrimSpace(tag)
	if i := strings.IndexAny(tag, "-_"); i > 0 {
		tag = tag[:i]
	}
	return strings.ToLower(tag)
}

// groupsOf gives the groups a conversation falls in under grouping (at least one).
func groupsOf(v *View, grouping string, c *Conversation) []string {
	p := v.ParticipantOf(c)
	equality := func(answer string, valid []string, roll func(string) string) []string {
		if p == nil || !p.Covers(EqualityMonitoring) {
			return []string{NotRecorded}
		}
		switch {
		case answer == schema.PreferNotToSay:
			return []string{schema.PreferNotToSay}
		case slices.Contains(valid, answer):
			return []string{roll(answer)}
		}
		return []string{NotRecorded}
	}
	same := func(s string) string { return s }
	switch grouping {
	case ByEngagement:
		if c.Engagement == "" {
			return []string{NotRecorded}
		}
		return []string{c.Engagement}
	case ByVenueType:
		if e := v.EngagementOf(c); e != nil && slices.Contains(schema.VenueTypes, e.VenueType) {
			return []string{e.VenueType}
		}
		return []string{NotRecorded}
	case ByLanguage:
		var out []string
		for _, l := range c.Locales {
			if b := baseLang(l); b != "" && !slices.Contains(out, b) {
				out = append(out, b)
			}
		}
		if len(out) == 0 && p != nil && baseLang(p.PreferredLocale) != "" {
			out = append(out, baseLang(p.PreferredLocale))
		}
		if len(out) == 0 {
			return []string{NotRecorded}
		}
		slices.Sort(out)
		return out
	case ByCommunity:
		var out []string
		if p != nil {
			for _, cm := range p.Communities {
				if cm = strings.TrimSpace(cm); cm != "" && !slices.Contains(out, cm) {
					out = append(out, cm)
				}
			}
		}
		if len(out) == 0 {
			return []string{NotRecorded}
		}
		slices.Sort(out)
		return out
	case ByEthnicity:
		if p == nil {
			return []string{NotRecorded}
		}
		return equality(p.Ethnicity, schema.Ethnicities, same)
	case ByEthnicityGroup:
		if p == nil {
			return []string{NotRecorded}
		}
		return equality(p.Ethnicity, schema.Ethnicities, schema.EthnicGroup)
	case ByAgeBand:
		if p == nil {
			return []string{NotRecorded}
		}
		return equality(p.AgeBand, AgeBands, same)
	}
	return []string{NotRecorded}
}

// Measures counted per group.
const (
	mParticipants = iota
	mConversations
	mGroupParticipants
	nMeasures
)

var measureNames = [nMeasures]string{"participants", "conversations", "group_participants"}

// table is one grouping's true counts for the three measures.
type table struct {
	grouping string
	groups   []string // row order
	counts   [nMeasures]map[string]int
	// multi is true for a measure when some unit falls in more than one group, so rows
	// do not add up to the total.
	multi [nMeasures]bool
}

// totals are the population's true totals.
type totals [nMeasures]int

// tally counts the population under each grouping asked for.
func tally(v *View, convs []*Conversation, groupings []string) (totals, map[string]*table) {
	var tot totals
	seen := make(map[*Participant]bool, len(convs)/4)
	for _, c := range convs {
		tot[mConversations]++
		if c.Participant != "" {
			if !seen[c.part] {
				seen[c.part] = true
				tot[mParticipants]++
			}
		} else {
			tot[mGroupParticipants] += groupSize(c)
		}
	}
	out := map[string]*table{}
	for _, g := range groupings {
		t := &table{grouping: g}
		for m := range t.counts {
			t.counts[m] = map[string]int{}
		}
		// participant -> groups; most participants fall in one group, so the first is
		// kept inline and only extra ones allocate
		type member struct {
			first string
			more  []string
		}
		partGroups := make(map[*Participant]*member, tot[mParticipants])
		for _, c := range convs {
			gs := groupsOf(v, g, c)
			for _, grp := range gs {
				t.counts[mConversations][grp]++
			}
			if len(gs) > 1 {
				t.multi[mConversations] = true
			}
			if c.Participant == "" {
				for _, grp := range gs {
					t.counts[mGroupParticipants][grp] += groupSize(c)
				}
				if len(gs) > 1 && groupSize(c) > 0 {
					t.multi[mGroupParticipants] = true
				}
				continue
			}
			cur := partGroups[c.part]
			if cur == nil {
				cur = &member{first: gs[0]}
				partGroups[c.part] = cur
			}
			for _, grp := range gs {
				if grp != cur.first && !slices.Contains(cur.more, grp) {
					cur.more = append(cur.more, grp)
				}
			}
		}
		for _, m := range partGroups {
			t.counts[mParticipants][m.first]++
			for _, grp := range m.more {
				t.counts[mParticipants][grp]++
			}
			if len(m.more) > 0 {
				t.multi[mParticipants] = true
			}
		}
		if cg := closedGroups(g); cg != nil {
			t.groups = cg
		} else {
			set := map[string]bool{}
			for m := range t.counts {
				for grp := range t.counts[m] {
					set[grp] = true
				}
			}
			for grp := range set {
				if grp != NotRecorded {
					t.groups = append(t.groups, grp)
				}
			}
			slices.Sort(t.groups)
			if set[NotRecorded] {
				t.groups = append(t.groups, NotRecorded)
			}
		}
		out[g] = t
	}
	return tot, out
}

// groupSize is the people in a group conversation; a conversation with neither a
// participant nor a group size counts as one person.
func groupSize(c *Conversation) int {
	if c.GroupSize > 0 {
		return c.GroupSize
	}
	return 1
}

// themeCounts counts, per group of grouping and per theme, the conversations whose
// themes include it; themes are trimmed, empty ones skipped.
func themeCounts(v *View, convs []*Conversation, grouping string) (themes []string, cells map[string]map[string]int, themeTot map[string]int, multi bool) {
	cells = map[string]map[string]int{}
	themeTot = map[string]int{}
	for _, c := range convs {
		ts := convThemes(c)
		if len(ts) == 0 {
			continue
		}
		gs := groupsOf(v, grouping, c)
		if len(gs) > 1 {
			multi = true
		}
		for _, t := range ts {
			themeTot[t]++
			for _, g := range gs {
				if cells[g] == nil {
					cells[g] = map[string]int{}
				}
				cells[g][t]++
			}
		}
	}
	for t := range themeTot {
		themes = append(themes, t)
	}
	slices.Sort(themes)
	return themes, cells, themeTot, multi
}

func convThemes(c *Conversation) []string {
	var out []string
	for _, t := range c.Themes {
		if t = strings.TrimSpace(t); t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}
