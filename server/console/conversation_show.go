package console

import (
	"encoding/json"
	"errors"
	"sort"
	"strings"

	"github.com/fieldnotes/fieldnotes/locales"
	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/annual"
	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/labstack/echo/v4"
)

type answerRow struct {
	Prompt, Question, Text, Choice, PromptLocale, AnswerLocale, TranslationEN string
}

type switchRow struct {
	AtPrompt, From, To string
	At                 int64
}

type historyRow struct {
	At               int64
	By, ByKind, Kind string
	Field, Value     string
}

type consentView struct {
	ID, StatementID, StatementLocale, Method, Interpreter, RecordedBy string
	StatementVersion, GivenAt                                         int64
	Scopes                                                            []string
	Withdrawn, Found                                                  bool
}

type conversationData struct {
	ID, Team, Engagement, EngagementTitle, Participant, Interpreter string
	StartedAt, EndedAt, GroupSize                                   int64
	Locales, Themes, Notes                                          []string
	Answers                                                         []answerRow
	Switches                                                        []switchRow
	Consent                                                         consentView
	Quote                                                           bool // the consent covers quoting
	Review, Comment                                                 string
	ReviewStates                                                    []string
	History                                                         []historyRow
	Form                                                            form.Review
	// The public page: the picked prompt (public_quote), whether an answer may be
	// picked (consent covers quote, not withdrawn, not rejected in review), and whether
	// the engagement is published.
	Picked             string
	CanPick, Published bool
	Rejected           bool
}

// loadConversation reads a conversation the person may see and whose consent is valid
// and covers record_views; anything else is a 404 (consent gates every page).
func (h *Console) loadConversation(c echo.Context, id string) (syncengine.Record, consentView, error) {
	w := current(c)
	ctx := c.Request().Context()
	r, err := h.record(ctx, w, schema.Conversation, id)
	if err != nil {
		return r, consentView{}, err
	}
	f := fields(r.Fields)
	var cv consentView
	cr, err := h.record(ctx, w, schema.Consent, f.str("consent"))
	if err == nil {
		cf := fields(cr.Fields)
		cv = consentView{ID: cr.ID, StatementID: cf.str("statement_id"), StatementVersion: cf.num("statement_version"),
			StatementLocale: cf.str("statement_locale"), Method: cf.str("method"), Interpreter: cf.str("interpreter"),
			RecordedBy: cf.str("recorded_by"), GivenAt: cf.num("given_at"), Scopes: cf.strs("scopes"), Withdrawn: cr.Withdrawn, Found: true}
	} else if !errors.Is(err, errGone) {
		return r, cv, err
	}
	if !cv.Found || cv.Withdrawn || !contains(cv.Scopes, "record_views") {
		return r, cv, errGone
	}
	return r, cv, nil
}

func (h *Console) conversationShow(c echo.Context) error {
	return h.conversationPage(c, form.Review{}, nil, 200)
}

func (h *Console) conversationPage(c echo.Context, fr form.Review, errs form.Errors, status int) error {
	ctx := c.Request().Context()
	r, cv, err := h.loadConversation(c, c.Param("id"))
	if errors.Is(err, errGone) {
		return h.notFound(c)
	} else if err != nil {
		return h.internal(c, err)
	}
	f := fields(r.Fields)
	d := conversationData{ID: r.ID, Team: r.Team, Engagement: f.str("engagement"), Participant: f.str("participant"),
		Interpreter: f.str("interpreter"), StartedAt: f.num("started_at"), EndedAt: f.num("ended_at"), GroupSize: f.num("group_size"),
		Locales: f.strs("locales"), Themes: f.strs("themes"), Consent: cv, Quote: contains(cv.Scopes, "quote"),
		Review: f.str("review_state"), Comment: f.str("review_comment"), ReviewStates: ReviewStates, Form: fr}
	if d.Review == "" {
		d.Review = ReviewReceived
	}
	d.Picked = f.str(annual.PublicQuoteField)
	d.Rejected = d.Review == schema.ReviewRejected
	d.CanPick = !d.Rejected && annual.CanQuote(ctx, h.Store, r)
	questions := func(string) string { return "" }
	choices := func(_, c string) string { return c }
	if e, err := h.record(ctx, current(c), schema.Engagement, d.Engagement); err == nil {
		d.EngagementTitle = fields(e.Fields).str("title")
		d.Published = fields(e.Fields).boolean(annual.PublishedField)
		questions, choices = h.questions(c, fields(e.Fields).str("prompt_set"))
	}
	for k, raw := range r.Fields {
		p, ok := strings.CutPrefix(k, schema.AnswerPrefix)
		if !ok {
			continue
		}
		var a struct {
			Text          string `json:"text"`
			Choice        any    `json:"choice"`
			PromptLocale  string `json:"prompt_locale"`
			AnswerLocale  string `json:"answer_locale"`
			TranslationEN string `json:"translation_en"`
		}
		json.Unmarshal(raw, &a)
		row := answerRow{Prompt: p, Question: questions(p), Text: a.Text, PromptLocale: a.PromptLocale, AnswerLocale: a.AnswerLocale, TranslationEN: a.TranslationEN}
		switch ch := a.Choice.(type) {
		case string:
			row.Choice = choices(p, ch)
		case []any:
			var parts []string
			for _, x := range ch {
				if s, ok := x.(string); ok {
					parts = append(parts, choices(p, s))
				}
			}
			row.Choice = strings.Join(parts, ", ")
		case float64:
			row.Choice = strings.TrimRight(strings.TrimRight(jsonNum(ch), "0"), ".")
		}
		d.Answers = append(d.Answers, row)
	}
	sort.Slice(d.Answers, func(i, j int) bool { return d.Answers[i].Prompt < d.Answers[j].Prompt })
	var sw []struct {
		AtPrompt string `json:"at_prompt"`
		From     string `json:"from"`
		To       string `json:"to"`
		At       int64  `json:"at"`
	}
	json.Unmarshal(r.Fields["language_switches"], &sw)
	for _, s := range sw {
		d.Switches = append(d.Switches, switchRow{AtPrompt: s.AtPrompt, From: s.From, To: s.To, At: s.At})
	}
	json.Unmarshal(r.Fields["notes"], &d.Notes)
	if d.History, err = h.history(c, r); err != nil {
		return h.internal(c, err)
	}
	p := h.newPage(c, "console.conversation.title", d)
	p.Errors = h.fieldErrors(p, errs)
	p.Status = status
	return h.render(c, "conversation_show", p)
}

func jsonNum(f float64) string {
	b, _ := json.Marshal(f)
	return string(b) + "."
}

// history lists the record's ops: who (a person's email or a tablet's label), when,
// what. Values are shown only for fields that hold no participant text.
func (h *Console) history(c echo.Context, r syncengine.Record) ([]historyRow, error) {
	ctx := c.Request().Context()
	ops, err := h.Store.History(ctx, syncengine.RecordKey{Collection: r.Collection, Record: r.ID})
	if err != nil {
		return nil, err
	}
	names := map[string][2]string{}
	out := make([]historyRow, 0, len(ops))
	for _, op := range ops {
		n, ok := names[op.Node]
		if !ok {
			kind, _, label, found, err := h.Store.NodeOwner(ctx, op.Node)
			if err != nil {
				return nil, err
			}
			n = [2]string{"unknown", op.Node}
			if found {
				n = [2]string{kind, label}
			}
			names[op.Node] = n
		}
		row := historyRow{At: op.TS, ByKind: n[0], By: n[1], Kind: op.Kind, Field: op.Field}
		if fd, known := schema.Lookup(r.Collection, op.Field); op.Field != "" && (!known || !fd.Personal) &&
			op.Field != "review_comment" && !strings.HasPrefix(op.Field, schema.AnswerPrefix) && len(op.Value) <= 200 {
			row.Value = string(op.Value)
		}
		out = append(out, row)
	}
	return out, nil
}

// questions gives each prompt's question, and choices each choice's label, in the
// coordinator's language (else English, else the id), from the engagement's prompt set: a
// built-in set's messages or a prompt_set record.
func (h *Console) questions(c echo.Context, set string) (func(prompt string) string, func(prompt, choice string) string) {
	l := lang(c)
	if set == "" {
		set = locales.CommunityConversation
	}
	if _, ok := locales.BuiltinPromptSet(set); ok {
		return func(p string) string {
				id := locales.PromptMessageID(set, p)
				if text, _ := locales.Localize(l, id, nil); text != id {
					return text
				}
				return ""
			}, func(p, ch string) string {
				id := locales.ChoiceMessageID(set, p, ch)
				if text, _ := locales.Localize(l, id, nil); text != id {
					return text
				}
				return ch
			}
	}
	var prompts []form.Prompt
	if r, err := h.record(c.Request().Context(), current(c), schema.PromptSet, set); err == nil {
		json.Unmarshal(r.Fields["prompts"], &prompts)
	}
	pick := func(m map[string]string, def string) string {
		if t := m[l]; t != "" {
			return t
		}
		if t := m["en"]; t != "" {
			return t
		}
		return def
	}
	find := func(p string) *form.Prompt {
		for i := range prompts {
			if prompts[i].ID == p {
				return &prompts[i]
			}
		}
		return nil
	}
	return func(p string) string {
			if x := find(p); x != nil {
				return pick(x.Text, "")
			}
			return ""
		}, func(p, ch string) string {
			if x := find(p); x != nil {
				return pick(x.ChoiceText[ch], ch)
			}
			return ch
		}
}
