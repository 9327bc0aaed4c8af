package annual

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fieldnotes/fieldnotes/locales"
	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/chart"
	"github.com/fieldnotes/fieldnotes/server/disclosure"
	"github.com/fieldnotes/fieldnotes/server/reports"
)

//go:embed templates
var files embed.FS

var (
	tmpl     = template.Must(template.ParseFS(files, "templates/*.html"))
	styleCSS = mustRead("templates/style.css")
)

func mustRead(name string) string {
	b, err := files.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// L localises the page's fixed text (locales/annual/*.toml and the shared labels).
type L struct{ Lang string }

// T is the message id in the page's language (English when it has no translation).
func (l L) T(id string) string {
	s, _ := locales.Localize(l.Lang, id, nil)
	return s
}

// F is T with template data given as name, value pairs.
func (l L) F(id string, kv ...any) string {
	data := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		data[fmt.Sprint(kv[i])] = kv[i+1]
	}
	s, _ := locales.Localize(l.Lang, id, data)
	return s
}

func (l L) list(items []string) string {
	if len(items) == 0 {
		return l.T("annual.none")
	}
	sep := ", "
	if base := baseTag(l.Lang); base == "ar" || base == "ur" {
		sep = "، "
	}
	return strings.Join(items, sep)
}

func (l L) date(ms int64) string {
	if ms <= 0 {
		return ""
	}
	return l.isolate(time.UnixMilli(ms).UTC().Format(time.DateOnly))
}

// isolate keeps a left-to-right run (a date, 2026-04-01) in order inside right-to-left
// text: without it the bidi algorithm shows 01-04-2026.
func (l L) isolate(s string) string {
	if locales.Direction(l.Lang) == "rtl" && s != "" {
		return "\u2066" + s + "\u2069"
	}
	return s
}

func (l L) count(n *int) countView {
	if n == nil {
		return countView{Hidden: true, Text: l.T("annual.hidden")}
	}
	return countView{Text: strconv.Itoa(*n)}
}

func (l L) venueType(vt string) string {
	if vt == "" || vt == reports.NotRecorded {
		return l.T("annual.group.not_recorded")
	}
	return l.T("venue_type." + vt)
}

// language names a language: in itself for the ones Fieldnotes speaks, else its code.
func (l L) language(code string) string {
	switch code {
	case reports.NotRecorded, "":
		return l.T("annual.group.not_recorded")
	case OtherLanguages:
		return l.T("annual.group.other_languages")
	}
	if b, _ := locales.Match(code).Base(); b.String() == baseTag(code) {
		return locales.Name(code)
	}
	return code
}

func (l L) group(grouping, g string) string {
	switch {
	case g == reports.NotRecorded:
		return l.T("annual.group.not_recorded")
	case grouping == reports.ByLanguage:
		return l.language(g)
	case grouping == reports.ByVenueType:
		return l.venueType(g)
	case grouping == reports.ByEthnicityGroup && g == "prefer_not_to_say":
		return l.T("equality.eq_ethnicity.prefer_not_to_say")
	case grouping == reports.ByEthnicityGroup:
		return l.T("equality.eq_ethnicity.group." + g)
	case grouping == reports.ByAgeBand:
		return l.T("equality.eq_age_band." + g)
	}
	return g
}

func (l L) policyNote(pol disclosure.Policy, at time.Time) string {
	name := pol.Name
	if name == "" {
		name = disclosure.PolicyNHS
	}
	rule := l.T("annual.policy.nhs")
	if name == disclosure.PolicyCell {
		rule = l.F("annual.policy.cell", "Max", pol.MinCell-1)
	}
	return l.F("annual.policy_note", "Policy", name, "Rule", rule, "Date", l.isolate(at.UTC().Format(time.DateOnly)))
}

type countView struct {
	Hidden bool
	Text   string
}

func (c countView) String() string { return c.Text }

type textView struct {
	Paragraphs       []string
	Version, Missing string
}

type textsView struct {
	Team                 string
	Governance, Strategy textView
}

type factsView struct {
	Participants, Conversations, GroupParticipants, Interpreted countView
	Engagements                                                 int
	VenueTypes, LanguagesOffered, LanguagesUsed, Areas          string
	LanguageChart                                               template.HTML
}

type quoteView struct {
	Text, Lang, Dir, English string
}

type decisionView struct {
	L                                       L
	H                                       int
	Title, Outcome, Text, TextLang, TextDir string
	Fallback, Reason, ReasonLabel, Progress string
	Views                                   string
	FedBack                                 template.HTML
	ShowFeedback                            bool
}

type entryView struct {
	L                                                        L
	ID, Title, Topic, Dates, Venue, Area, Languages, Methods string
	Participants, Conversations                              countView
	CommunityChart, LanguageChart, ThemeChart                template.HTML
	Quotes                                                   []quoteView
	Decisions                                                []decisionView
}

type insightView struct {
	Theme     string
	Decisions int
	Views     countView
}

type eqView struct {
	Note  string
	Chart template.HTML
}

type reportPage struct {
	L                                               L
	Lang, Dir, Period, Teams, PolicyNote, Generated string
	CSS                                             template.CSS
	Texts                                           []textsView
	Facts                                           factsView
	Entries                                         []entryView
	Insight                                         []insightView
	Equality                                        []eqView
}

// pageCSS is the style sheet with the page-number footer in the page's language.
func pageCSS(l L) string {
	return styleCSS + "@page { @bottom-center { content: " + strconv.Quote(l.T("annual.page")+" ") + " counter(page) \" / \" counter(pages); } }\n"
}

// CSPFor is a Content-Security-Policy for a page whose only style is its <style> element
// (css) and which has no script: nothing else may load.
func CSPFor(css string) string {
	sum := sha256.Sum256([]byte(css))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

func chartHTML(c chart.Chart) template.HTML {
	h, err := c.HTML()
	if err != nil {
		// Charts are built here from report rows; a failure is a bug, shown as text.
		return template.HTML("<p>" + template.HTMLEscapeString(err.Error()) + "</p>")
	}
	return h
}

func (l L) participationChart(id, title, labelHeader string, p *reports.Participation, grouping string) template.HTML {
	c := chart.Chart{ID: id, Title: title, LabelHeader: labelHeader, Series: []string{l.T("annual.col.people")},
		Suppressed: l.T("annual.hidden"), Dir: locales.Direction(l.Lang)}
	for _, r := range p.Rows {
		if r.Participants != nil && *r.Participants == 0 && (r.GroupParticipants == nil || *r.GroupParticipants == 0) {
			continue // nobody: not worth a bar
		}
		c.Rows = append(c.Rows, chart.Row{Label: l.group(grouping, r.Group), Values: []chart.Value{chart.Count(r.Participants)}})
	}
	return chartHTML(c)
}

func (l L) themeChart(id string, t *reports.Themes) template.HTML {
	c := chart.Chart{ID: id, Title: l.T("annual.chart.themes"), LabelHeader: l.T("annual.col.theme"),
		Series: []string{l.T("annual.col.conversations")}, Suppressed: l.T("annual.hidden"), Dir: locales.Direction(l.Lang)}
	for _, tc := range t.Total.Themes {
		if tc.Conversations != nil && *tc.Conversations == 0 {
			continue
		}
		c.Rows = append(c.Rows, chart.Row{Label: tc.Theme, Values: []chart.Value{chart.Count(tc.Conversations)}})
	}
	return chartHTML(c)
}

func (l L) gapChart(id, title, grouping string, g *reports.Gaps) template.HTML {
	c := chart.Chart{ID: id, Title: title, LabelHeader: l.T("annual.col.group"),
		Series:     []string{l.T("annual.col.share_people"), l.T("annual.col.share_population")},
		Suppressed: l.T("annual.hidden"), Dir: locales.Direction(l.Lang), Format: chart.Percent}
	for _, r := range g.Rows {
		if r.PopulationShare == nil {
			continue // not a population group (not recorded, prefer not to say)
		}
		c.Rows = append(c.Rows, chart.Row{Label: l.group(grouping, r.Group), Values: []chart.Value{chart.Share(r.ParticipantShare), chart.Share(r.PopulationShare)}})
	}
	return chartHTML(c)
}

func paragraphs(s string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (l L) text(t *Text) textView {
	if t == nil {
		return textView{Missing: l.T("annual.text.missing")}
	}
	return textView{Paragraphs: paragraphs(t.Text), Version: l.F("annual.text.version", "Version", t.Version, "Date", l.date(t.UpdatedAt))}
}

func (l L) entry(e Entry, withCharts bool) entryView {
	v := entryView{L: l, ID: e.ID, Title: e.Title, Topic: e.Topic, Area: e.Area}
	if v.Area == "" {
		v.Area = l.T("annual.none")
	}
	from, to := l.date(e.StartsAt), l.date(e.EndsAt)
	switch {
	case from == "":
		v.Dates = l.T("annual.none")
	case to == "" || to == from:
		v.Dates = from
	default:
		v.Dates = l.F("annual.period", "From", from, "To", to)
	}
	v.Venue = l.venueType(e.VenueType)
	if e.VenueName != "" {
		v.Venue = e.VenueName + " (" + v.Venue + ")"
	}
	var langs []string
	for _, c := range e.Languages {
		langs = append(langs, l.language(baseTag(c)))
	}
	v.Languages = l.list(langs)
	methods := []string{l.T("annual.method.conversations")}
	if e.Groups {
		methods = append(methods, l.T("annual.method.groups"))
	}
	if e.Interpreters {
		methods = append(methods, l.T("annual.method.interpreters"))
	}
	v.Methods = l.list(methods)
	if e.ByLanguage != nil {
		v.Participants, v.Conversations = l.count(e.ByLanguage.Total.Participants), l.count(e.ByLanguage.Total.Conversations)
		v.LanguageChart = l.participationChart("e-"+e.ID+"-language", l.T("annual.chart.language"), l.T("annual.col.language"), e.ByLanguage, reports.ByLanguage)
	}
	if withCharts && e.ByCommunity != nil {
		v.CommunityChart = l.participationChart("e-"+e.ID+"-community", l.T("annual.chart.community"), l.T("annual.col.community"), e.ByCommunity, reports.ByCommunity)
	}
	if e.Themes != nil {
		v.ThemeChart = l.themeChart("e-"+e.ID+"-themes", e.Themes)
	}
	for _, q := range e.Quotes {
		v.Quotes = append(v.Quotes, quoteView{Text: q.Text, Lang: q.Lang, Dir: locales.Direction(q.Lang), English: q.English})
	}
	for _, d := range e.Decisions {
		v.Decisions = append(v.Decisions, l.decision(d, 5, withCharts))
	}
	return v
}

func (l L) decision(d Decision, h int, withFeedback bool) decisionView {
	v := decisionView{L: l, H: h, Title: d.Title, Outcome: l.T("annual.outcome." + d.Outcome), Text: d.Text, TextLang: d.TextLang,
		TextDir: locales.Direction(d.TextLang), Reason: d.Reason, ShowFeedback: withFeedback}
	if d.Fallback {
		v.Fallback = l.F("annual.decision.summary_english", "Language", locales.Name(l.Lang))
	}
	if d.Reason != "" {
		v.ReasonLabel = l.T("annual.decision.reason")
		if d.Outcome == "not_changed" {
			v.ReasonLabel = l.T("annual.decision.not_changed")
		}
	}
	if slices.Contains(schema.DecisionProgress, d.Progress) {
		v.Progress = l.T("annual.progress." + d.Progress)
	}
	if withFeedback {
		v.Views = l.count(d.Views).Text
		if len(d.FedBack) > 0 {
			c := chart.Chart{ID: "d-" + d.ID + "-fedback", Title: l.T("annual.decision.fed_back"), LabelHeader: l.T("annual.col.language"),
				Series: []string{l.T("annual.col.people")}, Suppressed: l.T("annual.hidden"), Dir: locales.Direction(l.Lang)}
			for _, fb := range d.FedBack {
				c.Rows = append(c.Rows, chart.Row{Label: l.language(fb.Lang), Values: []chart.Value{chart.Count(fb.Count)}})
			}
			if t, err := c.Table(); err == nil {
				v.FedBack = t
			}
		}
	}
	return v
}

// RenderHTML writes the report as an HTML page and returns its Content-Security-Policy.
func RenderHTML(w io.Writer, r *Report) (csp string, err error) {
	l := L{Lang: r.Query.Lang}
	css := pageCSS(l)
	p := reportPage{L: l, Lang: l.Lang, Dir: locales.Direction(l.Lang), CSS: template.CSS(css),
		Period:     l.F("annual.period", "From", l.isolate(r.Query.From), "To", l.isolate(r.Query.To)),
		PolicyNote: l.policyNote(r.Query.Policy, r.Generated), Generated: l.isolate(r.Generated.UTC().Format(time.DateOnly))}
	var teams []string
	for _, t := range r.Texts {
		teams = append(teams, t.Team)
		p.Texts = append(p.Texts, textsView{Team: t.Team, Governance: l.text(t.Governance), Strategy: l.text(t.Strategy)})
	}
	if len(teams) == 0 {
		p.Texts = []textsView{{Governance: l.text(nil), Strategy: l.text(nil)}}
	}
	p.Teams = l.list(teams)
	f := r.Facts
	p.Facts = factsView{Engagements: f.Engagements, Interpreted: l.count(f.Interpreted), Areas: l.list(f.Areas)}
	var vts, offered, used []string
	for _, vt := range f.VenueTypes {
		vts = append(vts, l.venueType(vt))
	}
	for _, c := range f.LanguagesOffered {
		offered = append(offered, l.language(c))
	}
	p.Facts.VenueTypes, p.Facts.LanguagesOffered = l.list(vts), l.list(offered)
	if f.ByLanguage != nil {
		t := f.ByLanguage.Total
		p.Facts.Participants, p.Facts.Conversations, p.Facts.GroupParticipants = l.count(t.Participants), l.count(t.Conversations), l.count(t.GroupParticipants)
		for _, row := range f.ByLanguage.Rows {
			if row.Group != reports.NotRecorded && !(row.Conversations != nil && *row.Conversations == 0) {
				used = append(used, l.language(row.Group))
			}
		}
		p.Facts.LanguageChart = l.participationChart("facts-language", l.T("annual.chart.language"), l.T("annual.col.language"), f.ByLanguage, reports.ByLanguage)
	}
	p.Facts.LanguagesUsed = l.list(used)
	for _, e := range r.Entries {
		p.Entries = append(p.Entries, l.entry(e, true))
	}
	for _, in := range r.Insight {
		p.Insight = append(p.Insight, insightView{Theme: in.Theme, Decisions: in.Decisions, Views: l.count(in.Views)})
	}
	eq := r.Equality
	for _, g := range []struct {
		grouping, title string
		gaps            *reports.Gaps
	}{{reports.ByEthnicityGroup, "annual.chart.ethnicity_group", eq.EthnicityGroup}, {reports.ByAgeBand, "annual.chart.age_band", eq.AgeBand},
		{reports.ByLanguage, "annual.chart.language_gap", eq.Language}} {
		if g.gaps != nil {
			p.Equality = append(p.Equality, eqView{Chart: l.gapChart("eq-"+g.grouping, l.T(g.title), g.grouping, g.gaps)})
		} else if reach := eq.Reach[g.grouping]; reach != nil {
			p.Equality = append(p.Equality, eqView{Note: l.F("annual.equality.no_baseline", "Name", eq.Baseline+"-"+g.grouping),
				Chart: l.participationChart("eq-"+g.grouping, l.T(g.title), l.T("annual.col.group"), reach, g.grouping)})
		}
	}
	if eq.VenueType != nil {
		p.Equality = append(p.Equality, eqView{Chart: l.participationChart("eq-venue_type", l.T("annual.chart.venue_type"), l.T("annual.col.venue_type"), eq.VenueType, reports.ByVenueType)})
	}
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, "report", p); err != nil {
		return "", err
	}
	_, err = w.Write(buf.Bytes())
	return CSPFor(css), err
}
