package sdk

import (
	"context"
	"encoding/json"
	"sort"
	"strings"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

// Engagement is an outreach activity at a venue.
type Engagement struct {
	ID               string   `json:"id"`
	Title            string   `json:"title,omitempty"`
	Topic            string   `json:"topic,omitempty"`
	Team             string   `json:"team"`
	VenueName        string   `json:"venue_name,omitempty"`
	VenueType        string   `json:"venue_type,omitempty"`
	Area             string   `json:"area,omitempty"`
	StartsAt         int64    `json:"starts_at,omitempty"`
	EndsAt           int64    `json:"ends_at,omitempty"`
	Languages        []string `json:"languages,omitempty"`
	PromptSet        string   `json:"prompt_set,omitempty"`
	PromptSetVersion int      `json:"prompt_set_version,omitempty"`
}

// Consent is what a person (or a group) agreed to.
type Consent struct {
	ID               string   `json:"id"`
	Participant      string   `json:"participant,omitempty"`
	Engagement       string   `json:"engagement"`
	StatementID      string   `json:"statement_id"`
	StatementVersion int      `json:"statement_version"`
	StatementLocale  string   `json:"statement_locale"`
	Scopes           []string `json:"scopes"`
	Method           string   `json:"method"`
	Interpreter      string   `json:"interpreter,omitempty"`
	RecordedBy       string   `json:"recorded_by,omitempty"`
	GivenAt          int64    `json:"given_at"`
	Withdrawn        bool     `json:"withdrawn,omitempty"`
}

// Covers reports whether the consent is live and covers scope.
func (c Consent) Covers(scope string) bool {
	if c.Withdrawn {
		return false
	}
	for _, s := range c.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// Participant is a pseudonymous person. Contact and equality fields are present only when
// their consent covered them (and are erased when it is withdrawn).
type Participant struct {
	ID              string            `json:"id"`
	Engagement      string            `json:"engagement"`
	PreferredLocale string            `json:"preferred_locale,omitempty"`
	Communities     []string          `json:"communities,omitempty"`
	ContactName     string            `json:"contact_name,omitempty"`
	ContactEmail    string            `json:"contact_email,omitempty"`
	ContactPhone    string            `json:"contact_phone,omitempty"`
	Equality        map[string]string `json:"equality,omitempty"` // eq_* field → value
}

// Answer is one stored answer.
type Answer struct {
	PromptID      string   `json:"prompt_id"`
	Text          string   `json:"text,omitempty"`
	Choices       []string `json:"choices,omitempty"`
	PromptLocale  string   `json:"prompt_locale"`
	AnswerLocale  string   `json:"answer_locale"`
	TranslationEN string   `json:"translation_en,omitempty"`
}

// LanguageSwitch records a change of display language at a prompt.
type LanguageSwitch struct {
	AtPrompt string `json:"at_prompt"`
	From     string `json:"from"`
	To       string `json:"to"`
	At       int64  `json:"at"`
}

// Conversation is one conversation with a person or a group.
type Conversation struct {
	ID               string           `json:"id"`
	Engagement       string           `json:"engagement"`
	Participant      string           `json:"participant,omitempty"`
	Consent          string           `json:"consent"`
	GroupSize        int              `json:"group_size,omitempty"`
	Locales          []string         `json:"locales,omitempty"`
	Interpreter      string           `json:"interpreter,omitempty"`
	StartedAt        int64            `json:"started_at,omitempty"`
	EndedAt          int64            `json:"ended_at,omitempty"`
	Answers          []Answer         `json:"answers"` // sorted by prompt id
	LanguageSwitches []LanguageSwitch `json:"language_switches,omitempty"`
	Notes            []string         `json:"notes,omitempty"`
	Themes           []string         `json:"themes,omitempty"`
	// ReviewState is the coordinators' review: received (never reviewed), has_issues,
	// approved or rejected. A has_issues conversation carries ReviewComment, which tells
	// the outreach worker what to put right; it arrives with a pull.
	ReviewState   string `json:"review_state"`
	ReviewComment string `json:"review_comment,omitempty"`
}

// Answer returns the answer to a prompt, if any.
func (c Conversation) Answer(promptID string) (Answer, bool) {
	for _, a := range c.Answers {
		if a.PromptID == promptID {
			return a, true
		}
	}
	return Answer{}, false
}

type fields map[string]json.RawMessage

func (f fields) str(k string) string {
	var s string
	json.Unmarshal(f[k], &s)
	return s
}

func (f fields) num(k string) int64 {
	var n float64
	json.Unmarshal(f[k], &n)
	return int64(n)
}

func (f fields) strs(k string) []string {
	var s []string
	json.Unmarshal(f[k], &s)
	return s
}

func engagementFrom(r syncengine.Record) Engagement {
	f := fields(r.Fields)
	return Engagement{ID: r.ID, Team: r.Team, Title: f.str("title"), Topic: f.str("topic"),
		VenueName: f.str("venue_name"), VenueType: f.str("venue_type"), Area: f.str("area"),
		StartsAt: f.num("starts_at"), EndsAt: f.num("ends_at"), Languages: f.strs("languages"),
		PromptSet: f.str("prompt_set"), PromptSetVersion: int(f.num("prompt_set_version"))}
}

func consentFrom(r syncengine.Record) Consent {
	f := fields(r.Fields)
	return Consent{ID: r.ID, Participant: f.str("participant"), Engagement: f.str("engagement"),
		StatementID: f.str("statement_id"), StatementVersion: int(f.num("statement_version")),
		StatementLocale: f.str("statement_locale"), Scopes: f.strs("scopes"), Method: f.str("method"),
		Interpreter: f.str("interpreter"), RecordedBy: f.str("recorded_by"), GivenAt: f.num("given_at"),
		Withdrawn: r.Withdrawn}
}

func participantFrom(r syncengine.Record) Participant {
	f := fields(r.Fields)
	p := Participant{ID: r.ID, Engagement: f.str("engagement"), PreferredLocale: f.str("preferred_locale"),
		Communities: f.strs("communities"), ContactName: f.str("contact_name"),
		ContactEmail: f.str("contact_email"), ContactPhone: f.str("contact_phone")}
	for _, q := range schema.EqualityQuestions {
		if v := f.str(q.Field); v != "" {
			if p.Equality == nil {
				p.Equality = map[string]string{}
			}
			p.Equality[q.Field] = v
		}
	}
	return p
}

func conversationFrom(r syncengine.Record) Conversation {
	f := fields(r.Fields)
	c := Conversation{ID: r.ID, Engagement: f.str("engagement"), Participant: f.str("participant"),
		Consent: f.str("consent"), GroupSize: int(f.num("group_size")), Locales: f.strs("locales"),
		Interpreter: f.str("interpreter"), StartedAt: f.num("started_at"), EndedAt: f.num("ended_at"),
		Notes: f.strs("notes"), Themes: f.strs("themes"), Answers: []Answer{},
		ReviewState: f.str("review_state"), ReviewComment: f.str("review_comment")}
	if c.ReviewState == "" {
		c.ReviewState = schema.ReviewReceived
	}
	json.Unmarshal(f["language_switches"], &c.LanguageSwitches)
	for k, raw := range r.Fields {
		id, ok := strings.CutPrefix(k, schema.AnswerPrefix)
		if !ok {
			continue
		}
		var w struct {
			Text          string          `json:"text"`
			Choice        json.RawMessage `json:"choice"`
			PromptLocale  string          `json:"prompt_locale"`
			AnswerLocale  string          `json:"answer_locale"`
			TranslationEN string          `json:"translation_en"`
		}
		if json.Unmarshal(raw, &w) != nil {
			continue
		}
		a := Answer{PromptID: id, Text: w.Text, PromptLocale: w.PromptLocale, AnswerLocale: w.AnswerLocale, TranslationEN: w.TranslationEN}
		var one string
		if json.Unmarshal(w.Choice, &one) == nil && one != "" {
			a.Choices = []string{one}
		} else {
			json.Unmarshal(w.Choice, &a.Choices)
		}
		c.Answers = append(c.Answers, a)
	}
	sort.Slice(c.Answers, func(i, j int) bool { return c.Answers[i].PromptID < c.Answers[j].PromptID })
	return c
}

func (d *Device) get(ctx context.Context, coll, id string) (syncengine.Record, error) {
	var r syncengine.Record
	err := d.use(func(s *syncengine.Store) error {
		var err error
		r, err = d.getLive(ctx, s, coll, id)
		return err
	})
	return r, err
}

// Engagement reads one engagement.
func (d *Device) Engagement(ctx context.Context, id string) (Engagement, error) {
	r, err := d.get(ctx, schema.Engagement, id)
	if err != nil {
		return Engagement{}, err
	}
	return engagementFrom(r), nil
}

// Consent reads one consent (a withdrawn one too: it stays as the evidence).
func (d *Device) Consent(ctx context.Context, id string) (Consent, error) {
	r, err := d.get(ctx, schema.Consent, id)
	if err != nil {
		return Consent{}, err
	}
	return consentFrom(r), nil
}

// Participant reads one participant.
func (d *Device) Participant(ctx context.Context, id string) (Participant, error) {
	r, err := d.get(ctx, schema.Participant, id)
	if err != nil {
		return Participant{}, err
	}
	return participantFrom(r), nil
}

// Conversation reads one conversation. An erased one (its consent was withdrawn) gives an
// *Error with code record_erased.
func (d *Device) Conversation(ctx context.Context, id string) (Conversation, error) {
	r, err := d.get(ctx, schema.Conversation, id)
	if err != nil {
		return Conversation{}, err
	}
	return conversationFrom(r), nil
}

func scanAll[T any](ctx context.Context, d *Device, coll, engagement string, conv func(syncengine.Record) T, eng func(T) string) ([]T, error) {
	out := []T{}
	err := d.use(func(s *syncengine.Store) error {
		return s.Scan(ctx, coll, nil, func(r syncengine.Record) error {
			if r.Deleted {
				return nil
			}
			v := conv(r)
			if engagement == "" || eng(v) == engagement {
				out = append(out, v)
			}
			return nil
		})
	})
	return out, fromStore(err)
}

// Engagements lists the engagements on this device, in id (so creation) order.
func (d *Device) Engagements(ctx context.Context) ([]Engagement, error) {
	return scanAll(ctx, d, schema.Engagement, "", engagementFrom, func(Engagement) string { return "" })
}

// Consents lists consents, of one engagement or ("" ) all.
func (d *Device) Consents(ctx context.Context, engagement string) ([]Consent, error) {
	return scanAll(ctx, d, schema.Consent, engagement, consentFrom, func(c Consent) string { return c.Engagement })
}

// Participants lists participants, of one engagement or all.
func (d *Device) Participants(ctx context.Context, engagement string) ([]Participant, error) {
	return scanAll(ctx, d, schema.Participant, engagement, participantFrom, func(p Participant) string { return p.Engagement })
}

// Conversations lists conversations, of one engagement or all.
func (d *Device) Conversations(ctx context.Context, engagement string) ([]Conversation, error) {
	return scanAll(ctx, d, schema.Conversation, engagement, conversationFrom, func(c Conversation) string { return c.Engagement })
}
