package annual

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"io"

	"github.com/fieldnotes/fieldnotes/locales"
	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/disclosure"
	"github.com/fieldnotes/fieldnotes/server/reports"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

// PublicQuoteField is the conversation field a coordinator sets to pick one answer for
// the engagement's public page: its value is the prompt id whose text answer may be
// shown ("what_could_be_better"); absent or null, nothing is picked. A pick is shown only
// while the conversation's consent covers quote and is not withdrawn.
const PublicQuoteField = "public_quote"

// PublishedField is the engagement field (a JSON true) that lets its public page be seen.
const PublishedField = "published"

// Public is one published engagement's "You said, we did" page.
type Public struct {
	Lang   string
	Entry  Entry
	Policy disclosure.Policy
	Team   string
}

// ErrNotPublished is returned for an engagement that does not exist, was erased or
// deleted, or is not published: the public can't tell which.
var ErrNotPublished = &Error{Code: CodeNotFound, Field: "id", Message: "no published engagement"}

// BuildPublic gathers a published engagement's page in lang: counts under the nhs rule
// (a visitor can't choose a weaker one), over every conversation the reports count,
// themes, decisions with progress, and only the quotes a coordinator picked.
func (s *Service) BuildPublic(ctx context.Context, id, lang string) (*Public, error) {
	if !schema.ValidRecordID(id) {
		return nil, ErrNotPublished
	}
	r, err := s.Replica.Get(ctx, syncengine.RecordKey{Collection: schema.Engagement, Record: id})
	if errors.Is(err, syncengine.ErrNotFound) {
		return nil, ErrNotPublished
	}
	if err != nil {
		return nil, err
	}
	if r.Erased || r.Deleted {
		return nil, ErrNotPublished
	}
	e := engagementOf(r)
	if !e.Published {
		return nil, ErrNotPublished
	}
	pol := disclosure.Policy{Name: disclosure.PolicyNHS, MinCell: disclosure.NHSMinShown}
	q := Query{Teams: []string{e.Team}, Lang: lang, Policy: pol}
	p := &Public{Lang: lang, Policy: pol, Team: e.Team}
	en := Entry{ID: e.ID, Title: e.Title, Topic: e.Topic, VenueType: e.VenueType, VenueName: e.VenueName, Area: e.Area,
		StartsAt: e.StartsAt, EndsAt: e.EndsAt, Languages: e.Languages, Published: true}
	counted := map[string]bool{}
	var quoteable []*reports.Conversation
	picks := map[string]bool{}
	err = s.Reports.Index.Read(ctx, func(v *reports.View) error {
		for _, c := range v.Counted(s.rq(q, "", e.ID)) {
			counted[c.ID] = true
			en.Interpreters = en.Interpreters || c.Interpreted
			en.Groups = en.Groups || c.Participant == ""
			if c.PublicQuote != "" {
				picks[c.ID] = true
			}
			if v.ConsentOf(c).Valid(reports.RecordViews | reports.Quote) {
				quoteable = append(quoteable, &reports.Conversation{ID: c.ID, Engagement: c.Engagement, Themes: append([]string(nil), c.Themes...)})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if en.ByLanguage, err = s.Reports.Participation(ctx, s.rq(q, reports.ByLanguage, e.ID)); err != nil {
		return nil, err
	}
	if en.Themes, err = s.Reports.Themes(ctx, s.rq(q, reports.ByCommunity, e.ID)); err != nil {
		return nil, err
	}
	if en.Quotes, err = s.quotes(ctx, quoteable, picks, 6, true); err != nil {
		return nil, err
	}
	decisions, err := s.decisions(ctx, q, counted)
	if err != nil {
		return nil, err
	}
	for _, d := range decisions {
		en.Decisions = append(en.Decisions, s.localDecision(d, lang))
	}
	p.Entry = en
	return p, nil
}

type langLink struct {
	Code, Name, Dir string
	Current         bool
}

type publicPage struct {
	L                     L
	Lang, Dir, PolicyNote string
	CSS                   template.CSS
	Entry                 entryView
	Languages             []langLink
}

// RenderPublic writes the public page and returns its Content-Security-Policy.
func RenderPublic(w io.Writer, p *Public, dataAt int64) (string, error) {
	l := L{Lang: p.Lang}
	css := pageCSS(l)
	page := publicPage{L: l, Lang: l.Lang, Dir: locales.Direction(l.Lang), CSS: template.CSS(css), Entry: l.entry(p.Entry, false)}
	page.PolicyNote = l.policyNote(p.Policy, timeMS(dataAt))
	for i := range page.Entry.Decisions {
		page.Entry.Decisions[i].H = 3
	}
	for _, t := range locales.Supported {
		code := t.String()
		page.Languages = append(page.Languages, langLink{Code: code, Name: locales.Name(code), Dir: locales.Direction(code), Current: code == l.Lang})
	}
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, "public", page); err != nil {
		return "", err
	}
	_, err := w.Write(buf.Bytes())
	return CSPFor(css), err
}

// RenderNotFound writes the public 404 page (the same for an unknown and an unpublished
// engagement) and returns its Content-Security-Policy.
func RenderNotFound(w io.Writer, lang string) (string, error) {
	l := L{Lang: lang}
	css := pageCSS(l)
	msg, _ := locales.Localize(lang, "error.not_found", nil)
	err := tmpl.ExecuteTemplate(w, "notfound", map[string]any{"Lang": lang, "Dir": locales.Direction(lang), "Message": msg, "CSS": template.CSS(css)})
	return CSPFor(css), err
}
