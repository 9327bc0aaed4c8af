// Package reportstest builds the coordinators' test fixture through a real replica store
// (ops written with WriteAs, exactly as the hub writes them): several engagements across
// communities and languages, with every consent case the reports, feedback and exports
// must tell apart. The spec it returns lets tests count independently of the code under
// test.
package reportstest

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

// T0 is the fixture's epoch (2025-11-22T12:00:00Z) in ms.
const T0 int64 = 1_763_812_800_000

// Hour in ms.
const Hour int64 = 3_600_000

// Node is the coordinator node the fixture writes as; Device a field tablet's.
const (
	Node   = "coordinator-1"
	Device = "tablet-1"
)

// Teams.
const (
	North = "north"
	South = "south"
)

// ID makes a deterministic UUID-shaped id.
func ID(kind, n int) string { return fmt.Sprintf("00000000-0000-7000-8%03d-%012d", kind, n) }

// Id kinds.
const (
	kEng = iota + 1
	kPart
	kCons
	kConv
)

// Engagement in the fixture.
type Engagement struct {
	ID, Team, Title, VenueType string
}

// Conv is one conversation.
type Conv struct {
	ID        string
	Locales   []string
	Themes    []string
	StartedAt int64
}

// Person is a participant with one consent and their conversations.
type Person struct {
	N                                       int
	ID, Consent, Engagement, Team           string
	Communities                             []string
	PreferredLocale                         string
	Ethnicity, AgeBand                      string // "" = not answered
	Scopes                                  []string
	ContactName, ContactEmail, ContactPhone string
	Convs                                   []Conv
	Withdrawn                               bool
}

// Group is a group conversation (no participant) under a group consent.
type Group struct {
	ID, Consent, Engagement, Team string
	Size                          int
	Locales, Themes               []string
	StartedAt                     int64
}

// Fixture is what was written.
type Fixture struct {
	Path        string
	Store       *syncengine.Store
	Engagements []Engagement
	People      []*Person
	Groups      []Group
}

type community struct {
	name, locale, ethnicity string
	n                       int
}

// Communities of the fixture, by size. Names are as people described themselves.
var communities = []community{
	{"Punjabi Sikh", "pa", "asian_indian", 30},
	{"Bangladeshi", "bn", "asian_bangladeshi", 22},
	{"Somali", "so", "black_african", 15},
	{"Polish", "pl", "white_other", 12},
	{"Welsh speakers", "cy", "white_british", 9},
	{"Syrian", "ar", "other_arab", 7},
	{"Irish Traveller", "en", "white_gypsy_or_irish_traveller", 6},
	{"Roma", "ro", "white_roma", 3},
}

var themes = []string{"transport", "opening_hours", "interpreters", "booking", "cost"}

var ageBands = []string{"16_24", "25_34", "35_44", "45_54", "55_64", "65_74", "75_plus"}

// Build writes the fixture into a fresh store in tb's temp dir.
func Build(tb testing.TB) *Fixture {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "server.db")
	wall := T0 + 1000*Hour
	st, err := syncengine.Open(path, syncengine.Options{Now: func() int64 { wall++; return wall }})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	f := &Fixture{Path: path, Store: st}
	f.Engagements = []Engagement{
		{ID(kEng, 1), North, "Friday market health chat", "market"},
		{ID(kEng, 2), North, "Gurdwara langar conversations", "place_of_worship"},
		{ID(kEng, 3), North, "Coffee morning at Eastside centre", "community_centre"},
		{ID(kEng, 4), South, "Library drop-in", "library"},
	}
	ctx := context.Background()
	var ch []syncengine.Change
	set := func(coll, id, field string, v any) {
		ch = append(ch, syncengine.Change{Collection: coll, Record: id, Kind: schema.KindSet, Field: field, Value: v})
	}
	add := func(coll, id, field string, v any) {
		ch = append(ch, syncengine.Change{Collection: coll, Record: id, Kind: schema.KindAdd, Field: field, Value: v})
	}
	flush := func() {
		if _, _, err := st.WriteAs(ctx, Node, ch, syncengine.ApplyOptions{Hub: true}); err != nil {
			tb.Fatal(err)
		}
		ch = ch[:0]
	}
	for _, e := range f.Engagements {
		set(schema.Engagement, e.ID, "team", e.Team)
		set(schema.Engagement, e.ID, "title", e.Title)
		set(schema.Engagement, e.ID, "venue_type", e.VenueType)
	}
	flush()

	n, conv := 0, 0
	for _, c := range communities {
		for j := 0; j < c.n; j++ {
			n++
			p := &Person{N: n, ID: ID(kPart, n), Consent: ID(kCons, n), Engagement: f.Engagements[n%3].ID, Team: North,
				Communities: []string{c.name}, PreferredLocale: c.locale, Ethnicity: c.ethnicity, AgeBand: ageBands[n%len(ageBands)],
				Scopes: []string{schema.ScopeRecordViews}}
			if c.name == "Punjabi Sikh" {
				p.Engagement = f.Engagements[1].ID // mostly met at the gurdwara
				if n%5 == 0 {
					p.Engagement = f.Engagements[0].ID
				}
			}
			switch {
			case n%7 == 0:
				p.Ethnicity = schema.PreferNotToSay
			case n%11 == 0:
				p.Ethnicity = ""
			}
			if n%13 == 0 {
				p.AgeBand = schema.PreferNotToSay
			}
			if n%4 != 0 {
				p.Scopes = append(p.Scopes, schema.ScopeEqualityMonitoring)
			}
			if n%6 != 0 {
				p.Scopes = append(p.Scopes, schema.ScopeContactForFeedback)
			}
			if n%9 != 0 {
				p.Scopes = append(p.Scopes, schema.ScopeQuote)
			}
			if n == 13 || n == 27 { // consent without record_views: never counted
				p.Scopes = []string{schema.ScopeContactForFeedback}
			}
			if n == 20 || n == 45 { // two communities
				p.Communities = append(p.Communities, "Muslim women's group")
			}
			if n == 33 { // none given
				p.Communities = nil
			}
			p.ContactName = fmt.Sprintf("Person %d", n)
			if n%2 == 0 {
				p.ContactEmail = fmt.Sprintf("person%d@example.org", n)
			} else {
				p.ContactPhone = fmt.Sprintf("+447700900%03d", n)
			}
			k := 1
			if n%3 == 0 {
				k = 2
			}
			for i := 0; i < k; i++ {
				conv++
				cv := Conv{ID: ID(kConv, conv), Locales: []string{c.locale}, StartedAt: T0 + int64(conv)*Hour,
					Themes: []string{themes[(n*7+i)%len(themes)]}}
				if n%5 == 0 && c.locale != "en" {
					cv.Locales = append(cv.Locales, "en") // an interpreter switched to English
				}
				if n%4 == 1 {
					cv.Themes = append(cv.Themes, themes[(n*3+1)%len(themes)])
				}
				p.Convs = append(p.Convs, cv)
			}
			f.People = append(f.People, p)
		}
	}
	// South team: one engagement, never visible to north's coordinators.
	for j := 0; j < 10; j++ {
		n++
		p := &Person{N: n, ID: ID(kPart, n), Consent: ID(kCons, n), Engagement: f.Engagements[3].ID, Team: South,
			Communities: []string{"Somali"}, PreferredLocale: "so", Ethnicity: "black_african", AgeBand: "35_44",
			Scopes:       []string{schema.ScopeRecordViews, schema.ScopeEqualityMonitoring, schema.ScopeContactForFeedback, schema.ScopeQuote},
			ContactEmail: fmt.Sprintf("south%d@example.org", j)}
		conv++
		p.Convs = []Conv{{ID: ID(kConv, conv), Locales: []string{"so"}, Themes: []string{"transport"}, StartedAt: T0 + int64(conv)*Hour}}
		f.People = append(f.People, p)
	}
	f.Groups = []Group{
		{ID(kConv, 900), ID(kCons, 900), f.Engagements[2].ID, North, 6, []string{"so", "en"}, []string{"transport", "cost"}, T0 + 10*Hour},
		{ID(kConv, 901), ID(kCons, 901), f.Engagements[0].ID, North, 4, []string{"pa"}, []string{"booking"}, T0 + 20*Hour},
	}

	for _, p := range f.People {
		set(schema.Participant, p.ID, "engagement", p.Engagement)
		set(schema.Participant, p.ID, "preferred_locale", p.PreferredLocale)
		for _, c := range p.Communities {
			add(schema.Participant, p.ID, "communities", c)
		}
		if p.Ethnicity != "" {
			set(schema.Participant, p.ID, "eq_ethnicity", p.Ethnicity)
		}
		if p.AgeBand != "" {
			set(schema.Participant, p.ID, "eq_age_band", p.AgeBand)
		}
		set(schema.Participant, p.ID, "contact_name", p.ContactName)
		if p.ContactEmail != "" {
			set(schema.Participant, p.ID, "contact_email", p.ContactEmail)
		}
		if p.ContactPhone != "" {
			set(schema.Participant, p.ID, "contact_phone", p.ContactPhone)
		}
		set(schema.Consent, p.Consent, "engagement", p.Engagement)
		set(schema.Consent, p.Consent, "participant", p.ID)
		set(schema.Consent, p.Consent, "statement_id", "fieldnotes_standard")
		set(schema.Consent, p.Consent, "statement_version", 1)
		set(schema.Consent, p.Consent, "statement_locale", p.PreferredLocale)
		set(schema.Consent, p.Consent, "method", "verbal")
		set(schema.Consent, p.Consent, "given_at", T0)
		for _, s := range p.Scopes {
			add(schema.Consent, p.Consent, "scopes", s)
		}
		for _, c := range p.Convs {
			set(schema.Conversation, c.ID, "engagement", p.Engagement)
			set(schema.Conversation, c.ID, "participant", p.ID)
			set(schema.Conversation, c.ID, "consent", p.Consent)
			set(schema.Conversation, c.ID, "started_at", c.StartedAt)
			for _, l := range c.Locales {
				add(schema.Conversation, c.ID, "locales", l)
			}
			for _, t := range c.Themes {
				add(schema.Conversation, c.ID, "themes", t)
			}
			set(schema.Conversation, c.ID, "answer.what_could_be_better", map[string]any{
				"text": fmt.Sprintf("=HYPERLINK(\"x\") said by %d, \"quoted\"\nsecond line", p.N), "prompt_locale": c.Locales[0],
				"answer_locale": c.Locales[0], "translation_en": fmt.Sprintf("translation %d", p.N)})
			set(schema.Conversation, c.ID, "answer.services_used", map[string]any{
				"choice": []string{"gp", "pharmacy"}, "prompt_locale": c.Locales[0], "answer_locale": c.Locales[0]})
			ch = append(ch, syncengine.Change{Collection: schema.Conversation, Record: c.ID, Kind: schema.KindAppend, Field: "notes", Value: fmt.Sprintf("note about %d", p.N)})
		}
		flush()
	}
	for _, g := range f.Groups {
		set(schema.Consent, g.Consent, "engagement", g.Engagement)
		set(schema.Consent, g.Consent, "given_at", T0)
		set(schema.Consent, g.Consent, "method", "verbal")
		add(schema.Consent, g.Consent, "scopes", schema.ScopeRecordViews)
		set(schema.Conversation, g.ID, "engagement", g.Engagement)
		set(schema.Conversation, g.ID, "consent", g.Consent)
		set(schema.Conversation, g.ID, "group_size", g.Size)
		set(schema.Conversation, g.ID, "started_at", g.StartedAt)
		for _, l := range g.Locales {
			add(schema.Conversation, g.ID, "locales", l)
		}
		for _, t := range g.Themes {
			add(schema.Conversation, g.ID, "themes", t)
		}
	}
	flush()
	// Person 50 withdrew before the reports were ever run.
	f.Withdraw(tb, 50)
	return f
}

// Person returns the fixture person numbered n.
func (f *Fixture) Person(n int) *Person {
	for _, p := range f.People {
		if p.N == n {
			return p
		}
	}
	panic(fmt.Sprintf("no person %d", n))
}

// Withdraw withdraws person n's consent through the store, as the hub does.
func (f *Fixture) Withdraw(tb testing.TB, n int) {
	tb.Helper()
	p := f.Person(n)
	if _, _, err := f.Store.WriteAs(context.Background(), Node, []syncengine.Change{
		{Collection: schema.Consent, Record: p.Consent, Kind: schema.KindWithdraw, Value: map[string]string{"reason": "asked"}},
	}, syncengine.ApplyOptions{Hub: true}); err != nil {
		tb.Fatal(err)
	}
	p.Withdrawn = true
}

// Review sets a conversation's review state and comment through the store, as a
// coordinator's review does.
func (f *Fixture) Review(tb testing.TB, conversation, state, comment string) {
	tb.Helper()
	if _, _, err := f.Store.WriteAs(context.Background(), Node, []syncengine.Change{
		{Collection: schema.Conversation, Record: conversation, Kind: schema.KindSet, Field: "review_state", Value: state},
		{Collection: schema.Conversation, Record: conversation, Kind: schema.KindSet, Field: "review_comment", Value: comment},
	}, syncengine.ApplyOptions{Hub: true}); err != nil {
		tb.Fatal(err)
	}
}

// Has reports whether the person's consent includes scope (and is not withdrawn).
func (p *Person) Has(scope string) bool {
	if p.Withdrawn {
		return false
	}
	for _, s := range p.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}
