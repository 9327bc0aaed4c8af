// Package annual makes the annual involvement report an integrated care board publishes
// to show how it involved the public (NHS Act 2006 s.14Z58), as accessible printable HTML
// and as PDF, and each published engagement's public "You said, we did" page.
//
// Every count comes from server/reports (participation, themes, gaps) under the caller's
// disclosure policy, never counted again here; single counts that are not report cells
// (interpreted conversations, views behind a decision, feedback per language) are
// published by the feedback audit trail's rule (feedback.ProtectCount). Quotes need a
// consent, not withdrawn, that covers quote, on a conversation the reports count; the
// public page shows only quotes a coordinator picked (conversation field public_quote).
//
// It imports schema, syncengine, locales, server/chart, server/disclosure,
// server/reports and server/feedback; never HTTP (see http.go for the handlers, which
// use echo and server/api only to translate).
package annual

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/fieldnotes/fieldnotes/locales"
	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/disclosure"
	"github.com/fieldnotes/fieldnotes/server/feedback"
	"github.com/fieldnotes/fieldnotes/server/reports"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

// Stable error codes (append-only; messages error.<code> in locales).
const (
	CodeInvalidQuery = "invalid_query"
	CodeNotFound     = "not_found"
	// CodePDFUnavailable: a PDF was asked for and no Chromium is installed (or it could
	// not start); the HTML report still works. 503.
	CodePDFUnavailable = "pdf_unavailable"
)

// Error is a request the caller got wrong, or a PDF that can't be made.
type Error struct {
	Code    string
	Field   string
	Message string // English, for logs
}

func (e *Error) Error() string { return e.Code + ": " + e.Field + ": " + e.Message }

func queryErr(field, format string, a ...any) *Error {
	return &Error{Code: CodeInvalidQuery, Field: field, Message: fmt.Sprintf(format, a...)}
}

// DefaultBaseline prefixes the built-in Census 2021 baselines (census.go); a report
// compares reach with <prefix>-ethnicity_group, <prefix>-age_band and <prefix>-language.
const DefaultBaseline = "census2021-ew"

// Query selects a report.
type Query struct {
	From, To string // dates, YYYY-MM-DD, both included (UTC days)
	FromMS   int64  // start of From
	ToMS     int64  // end of To (start of the next day), exclusive
	Teams    []string
	Lang     string // a supported language
	Policy   disclosure.Policy
	Baseline string // baseline name prefix
}

// ParseQuery reads from, to (required), lang (else acceptLanguage), policy, min_cell,
// baseline. Teams are set by the HTTP layer.
func ParseQuery(v url.Values, acceptLanguage string) (Query, error) {
	var q Query
	for _, p := range []struct {
		name string
		dst  *string
		ms   *int64
	}{{"from", &q.From, &q.FromMS}, {"to", &q.To, &q.ToMS}} {
		s := strings.TrimSpace(v.Get(p.name))
		if s == "" {
			return Query{}, queryErr(p.name, "%s is needed, as YYYY-MM-DD", p.name)
		}
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return Query{}, queryErr(p.name, "%s must be a date, YYYY-MM-DD", p.name)
		}
		*p.dst, *p.ms = s, t.UnixMilli()
	}
	q.ToMS += 24 * 3600 * 1000
	if q.ToMS <= q.FromMS {
		return Query{}, queryErr("to", "to must not be before from")
	}
	if q.FromMS <= 0 {
		return Query{}, queryErr("from", "from must be after 1970-01-01")
	}
	lang, err := ParseLang(v.Get("lang"), acceptLanguage)
	if err != nil {
		return Query{}, err
	}
	q.Lang = lang
	pol, err := disclosure.ParsePolicy(v.Get("policy"), v.Get("min_cell"))
	if err != nil {
		if de, ok := err.(*disclosure.Error); ok {
			return Query{}, queryErr(de.Param, "%s", de.Message)
		}
		return Query{}, err
	}
	q.Policy = pol
	q.Baseline = strings.TrimSpace(v.Get("baseline"))
	if q.Baseline == "" {
		q.Baseline = DefaultBaseline
	}
	if len(q.Baseline) > 80 {
		return Query{}, queryErr("baseline", "baseline is a name prefix of at most 80 characters")
	}
	return q, nil
}

// ParseLang picks the page's language: ?lang= if given (it must be one of the supported
// languages, else invalid_query), else the best match for Accept-Language.
func ParseLang(lang, acceptLanguage string) (string, error) {
	lang = strings.TrimSpace(lang)
	if lang != "" {
		t := locales.Match(lang)
		if b, _ := t.Base(); !strings.EqualFold(b.String(), baseTag(lang)) {
			return "", queryErr("lang", "lang must be one of the supported languages")
		}
		return t.String(), nil
	}
	return locales.Match(acceptLanguage).String(), nil
}

func baseTag(tag string) string {
	if i := strings.IndexAny(tag, "-_"); i > 0 {
		tag = tag[:i]
	}
	return strings.ToLower(tag)
}

// Service builds reports and public pages.
type Service struct {
	Reports *reports.Service
	Coord   *reports.Coord
	Replica Replica
	// Now is wall time; time.Now when nil.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Report is everything the annual report shows.
type Report struct {
	Query     Query
	Generated time.Time
	Texts     []TeamTexts
	Facts     Facts
	Entries   []Entry
	Insight   []ThemeInsight
	Equality  Equality
}

// TeamTexts are one team's governance and strategy texts (nil: not written).
type TeamTexts struct {
	Team                 string
	Governance, Strategy *Text
}

// Facts are how the strategy was put into practice, from the data.
type Facts struct {
	Engagements      int
	VenueTypes       []string // kinds of venue, in schema order
	LanguagesOffered []string
	Areas            []string
	// Participation by language over the whole period: people reached, and which
	// languages conversations were held in.
	ByLanguage *reports.Participation
	// Interpreted is the number of counted conversations with an interpreter (published
	// like a feedback count: nil when hidden).
	Interpreted *int
}

// Entry is one engagement's "We asked, you said, we did".
type Entry struct {
	ID, Title, Topic, VenueType, VenueName, Area string
	StartsAt, EndsAt                             int64
	Languages                                    []string
	Published                                    bool
	Groups, Interpreters                         bool // methods used
	ByCommunity, ByLanguage                      *reports.Participation
	Themes                                       *reports.Themes
	Quotes                                       []Quote
	Decisions                                    []Decision
}

// Quote is what a participant said, with their consent to be quoted.
type Quote struct {
	Conversation string
	Prompt       string
	Text, Lang   string
	English      string // translation_en, when the answer was not in English
	Theme        string
	Picked       bool // a coordinator picked it for the public page
}

// Decision is a decision informed by an engagement, with what was fed back.
type Decision struct {
	feedback.Decision
	Progress string
	// Text is the summary in the report's language, or English (Fallback) when none was
	// written in it; the title when there is no summary at all.
	Text, TextLang string
	Fallback       bool
	// Views is the number of linked conversations the report counts (published).
	Views *int
	// FedBack is, per language, how many people were sent feedback (published).
	FedBack []LangCount
}

// LangCount is a count in one language.
type LangCount struct {
	Lang  string
	Count *int
}

// ThemeInsight is how many decisions cite a theme, and how many views informed them.
type ThemeInsight struct {
	Theme     string
	Decisions int
	Views     *int
}

// Equality is reach against the baseline.
type Equality struct {
	Baseline string
	// Gap reports per grouping (nil when the baseline is missing; Reach then holds the
	// plain participation report).
	EthnicityGroup, AgeBand, Language *reports.Gaps
	Reach                             map[string]*reports.Participation
	VenueType                         *reports.Participation
}

// engagementRecord is the engagement fields the report shows.
type engagementRecord struct {
	ID, Team, Title, Topic, VenueType, VenueName, Area string
	StartsAt, EndsAt                                   int64
	Languages                                          []string
	Published                                          bool
}

func field(r syncengine.Record, name string, dst any) {
	if raw, ok := r.Fields[name]; ok {
		json.Unmarshal(raw, dst)
	}
}

func engagementOf(r syncengine.Record) engagementRecord {
	e := engagementRecord{ID: r.ID, Team: r.Team}
	field(r, "title", &e.Title)
	field(r, "topic", &e.Topic)
	field(r, "venue_type", &e.VenueType)
	field(r, "venue_name", &e.VenueName)
	field(r, "area", &e.Area)
	var f float64
	field(r, "starts_at", &f)
	e.StartsAt = int64(f)
	f = 0
	field(r, "ends_at", &f)
	e.EndsAt = int64(f)
	field(r, "languages", &e.Languages)
	field(r, "published", &e.Published)
	slices.Sort(e.Languages)
	return e
}

func (s *Service) rq(q Query, groupBy, engagement string) reports.Query {
	return reports.Query{GroupBy: groupBy, From: q.FromMS, To: q.ToMS, Engagement: engagement, Teams: q.Teams, Policy: q.Policy}
}

// Build makes the report for q.
func (s *Service) Build(ctx context.Context, q Query) (*Report, error) {
	rep := &Report{Query: q, Generated: s.now()}

	// Which engagements: those starting in the period, or with a conversation counted
	// in it.
	var convIDs map[string]bool                       // counted conversations
	engOf := map[string]string{}                      // counted conversation → engagement
	active := map[string]bool{}                       // engagements with counted conversations
	quoteable := map[string][]*reports.Conversation{} // engagement → conversations with quote consent
	interpreted := 0
	interp, groups, picks := map[string]bool{}, map[string]bool{}, map[string]bool{}
	err := s.Reports.Index.Read(ctx, func(v *reports.View) error {
		cs := v.Counted(s.rq(q, "", ""))
		convIDs = make(map[string]bool, len(cs))
		for _, c := range cs {
			convIDs[c.ID] = true
			engOf[c.ID] = c.Engagement
			active[c.Engagement] = true
			if c.Interpreted {
				interpreted++
				interp[c.Engagement] = true
			}
			if c.Participant == "" {
				groups[c.Engagement] = true
			}
			if c.PublicQuote != "" {
				picks[c.ID] = true
			}
			if v.ConsentOf(c).Valid(reports.RecordViews | reports.Quote) {
				quoteable[c.Engagement] = append(quoteable[c.Engagement], &reports.Conversation{ID: c.ID, Engagement: c.Engagement, Themes: slices.Clone(c.Themes)})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var engs []engagementRecord
	err = s.Replica.Scan(ctx, schema.Engagement, q.Teams, func(r syncengine.Record) error {
		e := engagementOf(r)
		if active[e.ID] || (e.StartsAt >= q.FromMS && e.StartsAt < q.ToMS) {
			engs = append(engs, e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(engs, func(i, j int) bool {
		if engs[i].StartsAt != engs[j].StartsAt {
			return engs[i].StartsAt < engs[j].StartsAt
		}
		return engs[i].ID < engs[j].ID
	})

	// 1 and 2: the texts of each team in the report.
	teams := q.Teams
	if teams == nil {
		seen := map[string]bool{}
		for _, e := range engs {
			if !seen[e.Team] {
				seen[e.Team] = true
				teams = append(teams, e.Team)
			}
		}
		slices.Sort(teams)
	}
	for _, t := range teams {
		tt := TeamTexts{Team: t}
		for _, kind := range Kinds {
			txt, ok, err := GetText(ctx, s.Replica, t, kind)
			if err != nil {
				return nil, err
			}
			if ok {
				if kind == Governance {
					tt.Governance = &txt
				} else {
					tt.Strategy = &txt
				}
			}
		}
		rep.Texts = append(rep.Texts, tt)
	}

	// 2: facts.
	f := &rep.Facts
	f.Engagements = len(engs)
	venues, offered, areas := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, e := range engs {
		venues[e.VenueType] = true
		for _, l := range e.Languages {
			offered[baseTag(l)] = true
		}
		if e.Area != "" {
			areas[e.Area] = true
		}
	}
	for _, vt := range schema.VenueTypes {
		if venues[vt] {
			f.VenueTypes = append(f.VenueTypes, vt)
		}
	}
	f.LanguagesOffered = sortedKeys(offered)
	f.Areas = sortedKeys(areas)
	if f.ByLanguage, err = s.Reports.Participation(ctx, s.rq(q, reports.ByLanguage, "")); err != nil {
		return nil, err
	}

	f.Interpreted = feedback.ProtectCount(q.Policy, interpreted)

	// 3: one entry per engagement.
	decisions, err := s.decisions(ctx, q, convIDs)
	if err != nil {
		return nil, err
	}
	for _, e := range engs {
		en := Entry{ID: e.ID, Title: e.Title, Topic: e.Topic, VenueType: e.VenueType, VenueName: e.VenueName, Area: e.Area,
			StartsAt: e.StartsAt, EndsAt: e.EndsAt, Languages: e.Languages, Published: e.Published,
			Groups: groups[e.ID], Interpreters: interp[e.ID]}
		if en.ByCommunity, err = s.Reports.Participation(ctx, s.rq(q, reports.ByCommunity, e.ID)); err != nil {
			return nil, err
		}
		if en.ByLanguage, err = s.Reports.Participation(ctx, s.rq(q, reports.ByLanguage, e.ID)); err != nil {
			return nil, err
		}
		if en.Themes, err = s.Reports.Themes(ctx, s.rq(q, reports.ByCommunity, e.ID)); err != nil {
			return nil, err
		}
		if en.Quotes, err = s.quotes(ctx, quoteable[e.ID], picks, 3, false); err != nil {
			return nil, err
		}
		for _, d := range decisions {
			if slices.ContainsFunc(d.Conversations, func(id string) bool { return engOf[id] == e.ID }) {
				en.Decisions = append(en.Decisions, s.localDecision(d, q.Lang))
			}
		}
		rep.Entries = append(rep.Entries, en)
	}

	// 4: insight into decisions: per theme, the decisions citing it and the views
	// (counted conversations) linked to them.
	byTheme := map[string]*struct {
		n     int
		views map[string]bool
	}{}
	for _, d := range decisions {
		for _, t := range d.Themes {
			bt := byTheme[t]
			if bt == nil {
				bt = &struct {
					n     int
					views map[string]bool
				}{views: map[string]bool{}}
				byTheme[t] = bt
			}
			bt.n++
			for _, c := range d.Conversations {
				if convIDs[c] {
					bt.views[c] = true
				}
			}
		}
	}
	for _, t := range sortedKeys(byTheme) {
		rep.Insight = append(rep.Insight, ThemeInsight{Theme: t, Decisions: byTheme[t].n, Views: feedback.ProtectCount(q.Policy, len(byTheme[t].views))})
	}

	// 5: equality and inclusion.
	eq := &rep.Equality
	eq.Baseline = q.Baseline
	eq.Reach = map[string]*reports.Participation{}
	for _, g := range []struct {
		grouping string
		dst      **reports.Gaps
	}{{reports.ByEthnicityGroup, &eq.EthnicityGroup}, {reports.ByAgeBand, &eq.AgeBand}, {reports.ByLanguage, &eq.Language}} {
		gaps, err := s.Reports.Gaps(ctx, s.Coord, q.Baseline+"-"+g.grouping, s.rq(q, g.grouping, ""))
		var re *reports.Error
		if errors.As(err, &re) && re.Code == reports.CodeNotFound {
			if eq.Reach[g.grouping], err = s.Reports.Participation(ctx, s.rq(q, g.grouping, "")); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		*g.dst = gaps
	}
	if eq.VenueType, err = s.Reports.Participation(ctx, s.rq(q, reports.ByVenueType, "")); err != nil {
		return nil, err
	}
	return rep, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// decisionRec is a decision with its progress, views and feedback per language.
type decisionRec struct {
	feedback.Decision
	Progress string
	Views    *int
	FedBack  []LangCount
}

// decisions reads the teams' decisions linking a counted conversation, with their views
// and the feedback sent per language.
func (s *Service) decisions(ctx context.Context, q Query, counted map[string]bool) ([]decisionRec, error) {
	var out []decisionRec
	idx := map[string]int{}
	err := s.Replica.Scan(ctx, schema.Decision, q.Teams, func(r syncengine.Record) error {
		d := feedback.DecisionOf(r)
		views := 0
		for _, c := range d.Conversations {
			if counted[c] {
				views++
			}
		}
		if views == 0 {
			return nil
		}
		dr := decisionRec{Decision: d, Views: feedback.ProtectCount(q.Policy, views)}
		field(r, "progress", &dr.Progress)
		idx[d.ID] = len(out)
		out = append(out, dr)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sent := map[string]map[string]int{}
	err = s.Replica.Scan(ctx, schema.Feedback, q.Teams, func(r syncengine.Record) error {
		var dec, status, loc string
		field(r, "decision", &dec)
		field(r, "status", &status)
		field(r, "locale", &loc)
		if _, ok := idx[dec]; ok && status == "sent" {
			if sent[dec] == nil {
				sent[dec] = map[string]int{}
			}
			sent[dec][baseTag(loc)]++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for id, i := range idx {
		for _, l := range sortedKeys(sent[id]) {
			out[i].FedBack = append(out[i].FedBack, LangCount{Lang: l, Count: feedback.ProtectCount(q.Policy, sent[id][l])})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].DecidedAt != out[j].DecidedAt {
			return out[i].DecidedAt < out[j].DecidedAt
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// localDecision picks the decision's summary in lang, else English, saying so.
func (s *Service) localDecision(d decisionRec, lang string) Decision {
	out := Decision{Decision: d.Decision, Progress: d.Progress, Views: d.Views, FedBack: d.FedBack}
	want := baseTag(lang)
	for _, l := range sortedKeys(d.Summary) {
		if baseTag(l) == want {
			out.Text, out.TextLang = d.Summary[l], want
			return out
		}
	}
	for _, l := range sortedKeys(d.Summary) {
		if baseTag(l) == "en" {
			out.Text, out.TextLang, out.Fallback = d.Summary[l], "en", want != "en"
			return out
		}
	}
	out.Text, out.TextLang, out.Fallback = d.Title, "en", want != "en"
	return out
}

// quoteFields are the free-text answers a quote may come from, in order of preference.
var quoteFields = []string{"what_could_be_better", "what_works", "anything_else"}

// quotes picks up to n quotes from conversations whose consent covers quote (checked by
// the caller through the index), reading their records: a coordinator's picks first
// (picks: conversations with public_quote set), then others by id (unless pickedOnly),
// at most one per theme while others remain, never the same words twice. A conversation a coordinator rejected in
// review is never quoted. It reads a bounded number of records, however many qualify.
func (s *Service) quotes(ctx context.Context, cands []*reports.Conversation, picks map[string]bool, n int, pickedOnly bool) ([]Quote, error) {
	cands = slices.Clone(cands)
	slices.SortFunc(cands, func(a, b *reports.Conversation) int {
		if picks[a.ID] != picks[b.ID] {
			if picks[a.ID] {
				return -1
			}
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
	var picked, others []Quote
	reads := 0
	for _, c := range cands {
		if !picks[c.ID] && (pickedOnly || len(picked) >= n || reads >= 8*n) {
			break
		}
		reads++
		r, err := s.Replica.Get(ctx, syncengine.RecordKey{Collection: schema.Conversation, Record: c.ID})
		if err != nil || r.Erased || r.Deleted {
			continue
		}
		var review, pick string
		field(r, "review_state", &review)
		if review == "rejected" {
			continue
		}
		field(r, "public_quote", &pick)
		prompts := quoteFields
		if pick != "" {
			prompts = []string{pick}
		} else if pickedOnly {
			continue
		}
		for _, p := range prompts {
			var a struct {
				Text          string `json:"text"`
				AnswerLocale  string `json:"answer_locale"`
				TranslationEN string `json:"translation_en"`
			}
			field(r, schema.AnswerPrefix+p, &a)
			if strings.TrimSpace(a.Text) == "" {
				continue
			}
			q := Quote{Conversation: c.ID, Prompt: p, Text: a.Text, Lang: baseTag(a.AnswerLocale), Picked: pick != ""}
			if q.Lang != "en" {
				q.English = a.TranslationEN
			}
			if len(c.Themes) > 0 {
				q.Theme = slices.Min(c.Themes)
			}
			if q.Picked {
				picked = append(picked, q)
			} else {
				others = append(others, q)
			}
			break
		}
	}
	out := picked
	themes := map[string]bool{}
	for _, q := range out {
		themes[q.Theme] = true
	}
	for pass := 0; pass < 2 && len(out) < n; pass++ {
		for _, q := range others {
			if len(out) >= n {
				break
			}
			if slices.ContainsFunc(out, func(o Quote) bool { return o.Conversation == q.Conversation || o.Text == q.Text }) || (pass == 0 && themes[q.Theme]) {
				continue
			}
			themes[q.Theme] = true
			out = append(out, q)
		}
	}
	if len(out) > n {
		out = out[:n]
	}
	return out, nil
}
