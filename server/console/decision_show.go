package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"

	"github.com/fieldnotes/fieldnotes/locales"
	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/fieldnotes/fieldnotes/server/feedback"
	"github.com/fieldnotes/fieldnotes/server/reports"
	"github.com/labstack/echo/v4"
)

type progressEntry struct {
	At   int64  `json:"at"`
	Text string `json:"text"`
}

// languageGroup is the participants linked to a decision who share a language, and the
// exact message feedback.Render writes for them.
type languageGroup struct {
	Locale      string // their preferred language as recorded
	People      int    // linked participants in this group
	Contactable int    // whose consent covers contact_for_feedback
	Summary     bool   // the decision has a summary in this language
	Message     feedback.Message
}

type summaryRow struct {
	Locale, Text string
	Needed, Has  bool
}

type decisionData struct {
	D         feedback.Decision
	Stage     string // progress: planned, under_way or done ("" if never set)
	Stages    []string
	Progress  []progressEntry
	Groups    []languageGroup
	Summaries []summaryRow
	Outcomes  []string
	Languages []string
	Feedback  map[string]int // status → count
	History   []historyRow
	Missing   int // languages of linked people without a summary
}

func (h *Console) decisionShow(c echo.Context) error { return h.decisionPage(c, nil, http.StatusOK) }

func (h *Console) loadDecision(c echo.Context) (feedback.Decision, []progressEntry, error) {
	d, pr, _, err := h.loadDecisionStage(c)
	return d, pr, err
}

func (h *Console) loadDecisionStage(c echo.Context) (feedback.Decision, []progressEntry, string, error) {
	r, err := h.record(c.Request().Context(), current(c), schema.Decision, c.Param("id"))
	if err != nil {
		return feedback.Decision{}, nil, "", err
	}
	var pr []progressEntry
	json.Unmarshal(r.Fields["progress_notes"], &pr)
	return feedback.DecisionOf(r), pr, fields(r.Fields).str("progress"), nil
}

func (h *Console) decisionPage(c echo.Context, errs form.Errors, status int) error {
	ctx := c.Request().Context()
	w := current(c)
	d, pr, stage, err := h.loadDecisionStage(c)
	if errors.Is(err, errGone) {
		return h.notFound(c)
	} else if err != nil {
		return h.internal(c, err)
	}
	data := decisionData{D: d, Progress: pr, Stage: stage, Stages: schema.DecisionProgress, Outcomes: schema.Outcomes, Languages: supportedLanguages(), Feedback: map[string]int{}}
	if data.Groups, err = h.languageGroups(c, d); err != nil {
		return h.internal(c, err)
	}
	needed := map[string]bool{}
	for _, g := range data.Groups {
		needed[locales.Match(g.Locale).String()] = true
	}
	for _, l := range supportedLanguages() {
		text, has := d.Summary[l]
		row := summaryRow{Locale: l, Text: text, Has: has, Needed: needed[l]}
		if row.Needed && !row.Has {
			data.Missing++
		}
		data.Summaries = append(data.Summaries, row)
	}
	items, err := h.Coord.Feedback.List(ctx, w.Teams, "")
	if err != nil {
		return h.internal(c, err)
	}
	for _, it := range items {
		if it.Decision == d.ID {
			data.Feedback[it.Status]++
		}
	}
	r, _ := h.record(ctx, w, schema.Decision, d.ID)
	if data.History, err = h.history(c, r); err != nil {
		return h.internal(c, err)
	}
	p := h.newPage(c, "console.decision.title", data)
	p.Errors = h.fieldErrors(p, errs)
	p.Status = status
	return h.render(c, "decision_show", p)
}

// languageGroups groups the decision's linked participants (valid consent only) by
// language and renders each group's message as feedback.QueueFeedback will.
func (h *Console) languageGroups(c echo.Context, d feedback.Decision) ([]languageGroup, error) {
	type person struct {
		locale, eng string
		at          int64
		contact     bool
	}
	people := map[string]*person{}
	titles := map[string]string{}
	var themes []string
	err := h.Coord.Reports.Index.Read(c.Request().Context(), func(v *reports.View) error {
		for _, id := range d.Conversations {
			cv := v.Conversation(id)
			if cv == nil || !v.ConsentOf(cv).Valid(reports.RecordViews) {
				continue
			}
			p := v.ParticipantOf(cv)
			if p == nil {
				continue
			}
			x := people[p.ID]
			if x == nil {
				x = &person{locale: p.PreferredLocale, at: cv.StartedAt, eng: cv.Engagement, contact: p.Covers(reports.ContactForFeedback)}
				people[p.ID] = x
			}
			if cv.StartedAt > 0 && (x.at == 0 || cv.StartedAt < x.at) {
				x.at, x.eng = cv.StartedAt, cv.Engagement
			}
			for _, t := range cv.Themes {
				if !contains(themes, t) {
					themes = append(themes, t)
				}
			}
			if e := v.EngagementOf(cv); e != nil {
				titles[e.ID] = e.Title
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(d.Themes) > 0 {
		themes = d.Themes
	}
	groups := map[string]*languageGroup{}
	var order []string
	for _, p := range people {
		key := p.locale
		if key == "" {
			key = "en"
		}
		g := groups[key]
		if g == nil {
			g = &languageGroup{Locale: key}
			groups[key] = g
			order = append(order, key)
			g.Message = feedback.Render(p.locale, d, feedback.MessageData{Others: len(people) - 1, Themes: themes, ConversationAt: p.at, Engagement: titles[p.eng]})
			_, g.Summary = d.Summary[locales.Match(key).String()]
		}
		g.People++
		if p.contact {
			g.Contactable++
		}
	}
	sort.Strings(order)
	out := make([]languageGroup, 0, len(order))
	for _, k := range order {
		out = append(out, *groups[k])
	}
	return out, nil
}
