package sdk

import (
	"context"
	"slices"

	"github.com/fieldnotes/fieldnotes/locales"
	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/google/uuid"
)

type change = syncengine.Change

func set(coll, id, field string, v any) change {
	return change{Collection: coll, Record: id, Kind: schema.KindSet, Field: field, Value: v}
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// write stamps changes as this device and commits them in one transaction.
func (d *Device) write(ctx context.Context, s *syncengine.Store, changes []change) error {
	node, team, err := d.identity(s)
	if err != nil {
		return fromStore(err)
	}
	if node == "" {
		return ErrNotEnrolled
	}
	_, _, err = s.Write(ctx, changes, syncengine.ApplyOptions{Team: team})
	return fromStore(err)
}

// EngagementInput starts an engagement: an outreach activity at a venue.
type EngagementInput struct {
	Title     string
	Topic     string
	VenueName string
	VenueType string // one of schema.VenueTypes
	Area      string // e.g. a postcode district
	StartsAt  int64  // ms; 0 = now
	EndsAt    int64
	Languages []string // BCP 47 tags offered
	// PromptSet is a built-in prompt set id (default community_conversation) or the id of
	// a prompt_set record; PromptSetVersion defaults to the built-in set's version.
	PromptSet        string
	PromptSetVersion int
}

// StartEngagement records a new engagement in the device's team and returns its id.
func (d *Device) StartEngagement(ctx context.Context, in EngagementInput) (string, error) {
	if in.PromptSet == "" {
		in.PromptSet = locales.CommunityConversation
	}
	if in.PromptSetVersion == 0 {
		if ps, ok := locales.BuiltinPromptSet(in.PromptSet); ok {
			in.PromptSetVersion = ps.Version
		}
	}
	if in.VenueType == "" {
		return "", &Error{Code: CodeRequired, Field: "venue_type"}
	}
	id := newID()
	err := d.use(func(s *syncengine.Store) error {
		_, team, err := d.identity(s)
		if err != nil {
			return err
		}
		if in.StartsAt == 0 {
			in.StartsAt = d.now(s)
		}
		cs := []change{
			set(schema.Engagement, id, "team", team),
			set(schema.Engagement, id, "venue_name", in.VenueName),
			set(schema.Engagement, id, "venue_type", in.VenueType),
			set(schema.Engagement, id, "starts_at", in.StartsAt),
			set(schema.Engagement, id, "prompt_set", in.PromptSet),
			set(schema.Engagement, id, "prompt_set_version", in.PromptSetVersion),
		}
		for f, v := range map[string]string{"title": in.Title, "topic": in.Topic, "area": in.Area} {
			if v != "" {
				cs = append(cs, set(schema.Engagement, id, f, v))
			}
		}
		if in.EndsAt != 0 {
			cs = append(cs, set(schema.Engagement, id, "ends_at", in.EndsAt))
		}
		for _, l := range in.Languages {
			cs = append(cs, change{Collection: schema.Engagement, Record: id, Kind: schema.KindAdd, Field: "languages", Value: l})
		}
		return d.write(ctx, s, cs)
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// ConsentInput is what a person agreed to, as recorded by the worker.
type ConsentInput struct {
	Engagement string
	// Participant is an existing participant's id; empty creates a new participant,
	// unless Group is set (a group consent names no participant).
	Participant      string
	Group            bool
	PreferredLocale  string   // the participant's language, for feedback; defaults to StatementLocale
	Communities      []string // self-described
	StatementID      string   // default: the built-in standard statement
	StatementVersion int
	StatementLocale  string   // the language the statement was shown in
	Scopes           []string // from schema.ConsentScopes
	Method           string   // verbal | written | interpreter
	Interpreter      string
	RecordedBy       string
	GivenAt          int64 // ms; 0 = now
}

// ConsentRef names a recorded consent and the participant it belongs to ("" for a group).
type ConsentRef struct {
	ID          string
	Participant string
}

// RecordConsent records a consent (and its participant, if new) in one transaction.
func (d *Device) RecordConsent(ctx context.Context, in ConsentInput) (ConsentRef, error) {
	if in.StatementID == "" {
		st := locales.BuiltinConsentStatements()[0]
		in.StatementID, in.StatementVersion = st.ID, st.Version
	}
	if in.StatementLocale == "" {
		return ConsentRef{}, &Error{Code: CodeRequired, Field: "statement_locale"}
	}
	if in.Engagement == "" {
		return ConsentRef{}, &Error{Code: CodeRequired, Field: "engagement"}
	}
	for _, sc := range in.Scopes {
		if !slices.Contains(schema.ConsentScopes, sc) {
			return ConsentRef{}, &Error{Code: CodeInvalidEnum, Field: "scopes", Allowed: schema.ConsentScopes}
		}
	}
	if !slices.Contains(schema.ConsentMethods, in.Method) {
		return ConsentRef{}, &Error{Code: CodeInvalidEnum, Field: "method", Allowed: schema.ConsentMethods}
	}
	ref := ConsentRef{ID: newID(), Participant: in.Participant}
	err := d.use(func(s *syncengine.Store) error {
		if _, err := d.getLive(ctx, s, schema.Engagement, in.Engagement); err != nil {
			return err
		}
		var cs []change
		if !in.Group && ref.Participant == "" {
			ref.Participant = newID()
			loc := in.PreferredLocale
			if loc == "" {
				loc = in.StatementLocale
			}
			cs = append(cs,
				set(schema.Participant, ref.Participant, "engagement", in.Engagement),
				set(schema.Participant, ref.Participant, "preferred_locale", loc))
			for _, c := range in.Communities {
				cs = append(cs, change{Collection: schema.Participant, Record: ref.Participant, Kind: schema.KindAdd, Field: "communities", Value: c})
			}
		} else if in.Group && ref.Participant != "" {
			return &Error{Code: CodeInvalidField, Field: "participant", Detail: "a group consent names no participant"}
		}
		if in.GivenAt == 0 {
			in.GivenAt = d.now(s)
		}
		id := ref.ID
		cs = append(cs,
			set(schema.Consent, id, "engagement", in.Engagement),
			set(schema.Consent, id, "statement_id", in.StatementID),
			set(schema.Consent, id, "statement_version", in.StatementVersion),
			set(schema.Consent, id, "statement_locale", in.StatementLocale),
			set(schema.Consent, id, "method", in.Method),
			set(schema.Consent, id, "given_at", in.GivenAt))
		if ref.Participant != "" {
			cs = append(cs, set(schema.Consent, id, "participant", ref.Participant))
		}
		if in.Interpreter != "" {
			cs = append(cs, set(schema.Consent, id, "interpreter", in.Interpreter))
		}
		if in.RecordedBy != "" {
			cs = append(cs, set(schema.Consent, id, "recorded_by", in.RecordedBy))
		}
		for _, sc := range in.Scopes {
			cs = append(cs, change{Collection: schema.Consent, Record: id, Kind: schema.KindAdd, Field: "scopes", Value: sc})
		}
		return d.write(ctx, s, cs)
	})
	if err != nil {
		return ConsentRef{}, err
	}
	return ref, nil
}

// ConversationInput starts a conversation under a consent.
type ConversationInput struct {
	Engagement string
	Consent    string
	// GroupSize > 0 makes a group conversation: no participant, and the consent must be a
	// group consent (one without a participant).
	GroupSize   int
	Locales     []string
	Interpreter string
	StartedAt   int64 // ms; 0 = now
}

// StartConversation records a new conversation and returns its id. The consent must
// cover record_views.
func (d *Device) StartConversation(ctx context.Context, in ConversationInput) (string, error) {
	id := newID()
	err := d.use(func(s *syncengine.Store) error {
		c, err := d.checkConsent(ctx, s, in.Consent, schema.ScopeRecordViews)
		if err != nil {
			return err
		}
		if in.Engagement == "" {
			in.Engagement = c.Engagement
		}
		if in.Engagement != c.Engagement {
			return &Error{Code: CodeInvalidField, Field: "engagement", Detail: "the consent was given for another engagement"}
		}
		switch {
		case in.GroupSize > 0 && c.Participant != "":
			return &Error{Code: CodeInvalidField, Field: "group_size", Detail: "a group conversation needs a group consent"}
		case in.GroupSize <= 0 && c.Participant == "":
			return &Error{Code: CodeRequired, Field: "group_size", Detail: "a group consent needs a group size"}
		}
		if in.StartedAt == 0 {
			in.StartedAt = d.now(s)
		}
		cs := []change{
			set(schema.Conversation, id, "engagement", in.Engagement),
			set(schema.Conversation, id, "consent", in.Consent),
			set(schema.Conversation, id, "started_at", in.StartedAt),
		}
		if c.Participant != "" {
			cs = append(cs, set(schema.Conversation, id, "participant", c.Participant))
		} else {
			cs = append(cs, set(schema.Conversation, id, "group_size", in.GroupSize))
		}
		if in.Interpreter != "" {
			cs = append(cs, set(schema.Conversation, id, "interpreter", in.Interpreter))
		}
		for _, l := range in.Locales {
			cs = append(cs, change{Collection: schema.Conversation, Record: id, Kind: schema.KindAdd, Field: "locales", Value: l})
		}
		return d.write(ctx, s, cs)
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// AnswerInput is one answer to one prompt.
type AnswerInput struct {
	PromptID string
	Text     string
	// Choices are choice ids. One choice is stored as a string unless Multi is set
	// (a multi_choice prompt), which stores a list.
	Choices       []string
	Multi         bool
	PromptLocale  string // the language the prompt was shown in
	AnswerLocale  string // the language the person answered in; defaults to PromptLocale
	TranslationEN string // an interpreter's English, if given
}

// Answer records (or replaces) the answer to one prompt: field answer.<prompt_id>. It is
// durable when Answer returns.
func (d *Device) Answer(ctx context.Context, conversation string, in AnswerInput) error {
	if in.PromptID == "" {
		return &Error{Code: CodeRequired, Field: "prompt_id"}
	}
	if in.AnswerLocale == "" {
		in.AnswerLocale = in.PromptLocale
	}
	v := map[string]any{"prompt_locale": in.PromptLocale, "answer_locale": in.AnswerLocale}
	switch {
	case in.Multi:
		v["choice"] = append([]string{}, in.Choices...)
	case len(in.Choices) == 1:
		v["choice"] = in.Choices[0]
	case len(in.Choices) > 1:
		v["choice"] = in.Choices
	}
	if in.Text != "" || v["choice"] == nil {
		v["text"] = in.Text
	}
	if in.TranslationEN != "" {
		v["translation_en"] = in.TranslationEN
	}
	return d.conversationWrite(ctx, conversation, []change{set(schema.Conversation, conversation, schema.AnswerPrefix+in.PromptID, v)})
}

// SwitchLanguage records that the display language changed from one locale to another at
// a prompt, and adds both to the conversation's locales.
func (d *Device) SwitchLanguage(ctx context.Context, conversation, atPrompt, from, to string) error {
	return d.useConversation(ctx, conversation, func(s *syncengine.Store) []change {
		sw := map[string]any{"at_prompt": atPrompt, "from": from, "to": to, "at": d.now(s)}
		return []change{
			{Collection: schema.Conversation, Record: conversation, Kind: schema.KindAppend, Field: "language_switches", Value: sw},
			{Collection: schema.Conversation, Record: conversation, Kind: schema.KindAdd, Field: "locales", Value: from},
			{Collection: schema.Conversation, Record: conversation, Kind: schema.KindAdd, Field: "locales", Value: to},
		}
	})
}

// AddNote appends the worker's note (no names) to the conversation.
func (d *Device) AddNote(ctx context.Context, conversation, note string) error {
	return d.conversationWrite(ctx, conversation, []change{{Collection: schema.Conversation, Record: conversation, Kind: schema.KindAppend, Field: "notes", Value: note}})
}

// AddTheme tags the conversation with a theme.
func (d *Device) AddTheme(ctx context.Context, conversation, theme string) error {
	return d.conversationWrite(ctx, conversation, []change{{Collection: schema.Conversation, Record: conversation, Kind: schema.KindAdd, Field: "themes", Value: theme}})
}

// RemoveTheme removes a theme (a concurrent add elsewhere still wins).
func (d *Device) RemoveTheme(ctx context.Context, conversation, theme string) error {
	return d.conversationWrite(ctx, conversation, []change{{Collection: schema.Conversation, Record: conversation, Kind: schema.KindRemove, Field: "themes", Value: theme}})
}

// EndConversation records when the conversation ended (0 = now).
func (d *Device) EndConversation(ctx context.Context, conversation string, endedAt int64) error {
	return d.useConversation(ctx, conversation, func(s *syncengine.Store) []change {
		if endedAt == 0 {
			endedAt = d.now(s)
		}
		return []change{set(schema.Conversation, conversation, "ended_at", endedAt)}
	})
}

func (d *Device) conversationWrite(ctx context.Context, conversation string, cs []change) error {
	return d.useConversation(ctx, conversation, func(*syncengine.Store) []change { return cs })
}

// useConversation checks that the conversation's consent still covers record_views and
// then writes what build returns, in one transaction.
func (d *Device) useConversation(ctx context.Context, conversation string, build func(*syncengine.Store) []change) error {
	return d.use(func(s *syncengine.Store) error {
		consent, err := d.conversationConsent(ctx, s, conversation)
		if err != nil {
			return err
		}
		if _, err := d.checkConsent(ctx, s, consent, schema.ScopeRecordViews); err != nil {
			return err
		}
		return d.write(ctx, s, build(s))
	})
}

// Contact is how a participant who agreed to be contacted can be reached.
type Contact struct {
	Name, Email, Phone string
}

// SetContact stores a participant's contact details; the consent must be theirs and cover
// contact_for_feedback. Empty fields are left as they are.
func (d *Device) SetContact(ctx context.Context, consent string, c Contact) error {
	return d.participantWrite(ctx, consent, schema.ScopeContactForFeedback, func(p string) []change {
		var cs []change
		for f, v := range map[string]string{"contact_name": c.Name, "contact_email": c.Email, "contact_phone": c.Phone} {
			if v != "" {
				cs = append(cs, set(schema.Participant, p, f, v))
			}
		}
		return cs
	})
}

// SetEquality stores one equality-monitoring answer (field eq_*, value from its list or
// prefer_not_to_say); the consent must be the participant's and cover equality_monitoring.
func (d *Device) SetEquality(ctx context.Context, consent, field, value string) error {
	var allowed []string
	for _, q := range schema.EqualityQuestions {
		if q.Field == field {
			allowed = append(append([]string{}, q.Values...), schema.PreferNotToSay)
		}
	}
	if allowed == nil {
		return &Error{Code: CodeInvalidField, Field: field, Detail: "not an equality-monitoring question"}
	}
	if !slices.Contains(allowed, value) {
		return &Error{Code: CodeInvalidEnum, Field: field, Allowed: allowed}
	}
	return d.participantWrite(ctx, consent, schema.ScopeEqualityMonitoring, func(p string) []change {
		return []change{set(schema.Participant, p, field, value)}
	})
}

// SetCommunities adds self-described communities to the consent's participant (needs
// record_views: it is what they told us about themselves).
func (d *Device) AddCommunity(ctx context.Context, consent, community string) error {
	return d.participantWrite(ctx, consent, schema.ScopeRecordViews, func(p string) []change {
		return []change{{Collection: schema.Participant, Record: p, Kind: schema.KindAdd, Field: "communities", Value: community}}
	})
}

func (d *Device) participantWrite(ctx context.Context, consent, scope string, build func(participant string) []change) error {
	return d.use(func(s *syncengine.Store) error {
		c, err := d.checkConsent(ctx, s, consent, scope)
		if err != nil {
			return err
		}
		if c.Participant == "" {
			return &Error{Code: CodeInvalidField, Field: "participant", Detail: "a group consent has no participant"}
		}
		cs := build(c.Participant)
		if len(cs) == 0 {
			return nil
		}
		return d.write(ctx, s, cs)
	})
}

// WithdrawConsent withdraws a consent for good. The sync engine then erases, on this
// device at once and everywhere at the next sync, every conversation recorded under it
// and the participant's contact and equality answers.
func (d *Device) WithdrawConsent(ctx context.Context, consent, reason string) error {
	return d.use(func(s *syncengine.Store) error {
		if _, err := d.getLive(ctx, s, schema.Consent, consent); err != nil {
			return err
		}
		ch := change{Collection: schema.Consent, Record: consent, Kind: schema.KindWithdraw}
		if reason != "" {
			ch.Value = reason
		}
		defer d.cache.invalidate()
		return d.write(ctx, s, []change{ch})
	})
}

// checkConsent loads a consent and checks it is live and covers scope.
func (d *Device) checkConsent(ctx context.Context, s *syncengine.Store, id, scope string) (Consent, error) {
	if id == "" {
		return Consent{}, &Error{Code: CodeConsentRequired}
	}
	c, err := d.loadConsent(ctx, s, id)
	if err != nil {
		return c, err
	}
	if c.Withdrawn {
		return c, &Error{Code: CodeConsentWithdrawn, Scope: ""}
	}
	if !slices.Contains(c.Scopes, scope) {
		return c, scopeMissing(scope)
	}
	return c, nil
}

func (d *Device) getLive(ctx context.Context, s *syncengine.Store, coll, id string) (syncengine.Record, error) {
	r, err := s.Get(ctx, syncengine.RecordKey{Collection: coll, Record: id})
	if err != nil {
		return r, fromStore(err)
	}
	if r.Erased {
		return r, &Error{Code: CodeRecordErased, Field: coll}
	}
	if r.Deleted || len(r.Fields) == 0 {
		return r, &Error{Code: CodeNotFound, Field: coll}
	}
	return r, nil
}
