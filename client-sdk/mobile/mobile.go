// Package mobile is the gomobile-bindable face of the Fieldnotes client SDK, for the
// Android and iOS apps (gomobile bind ./client-sdk/mobile). Its exported API uses only
// types gomobile can bind: string, bool, int/int32/int64, float64, []byte, error, and its
// own structs and their methods. Lists come back as JSON strings or through index
// accessors; list inputs are built with Add methods; progress is polled, not called back.
// mobile_test.go checks every exported signature.
package mobile

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	sdk "github.com/fieldnotes/fieldnotes/client-sdk"
	"github.com/fieldnotes/fieldnotes/client-sdk/fieldapp"
	"github.com/fieldnotes/fieldnotes/locales"
	"github.com/fieldnotes/fieldnotes/schema"
)

// Device is one tablet's Fieldnotes store and sync client.
type Device struct {
	d *sdk.Device

	mu       sync.Mutex
	progress Progress
	cancel   context.CancelFunc // of a running Sync
	auto     context.CancelFunc // of AutoSync
	lastErr  error
	app      *fieldapp.Server // the field app, while it runs (StartApp)
}

// Open opens (creating if needed) the store in dir. lang is the worker's language
// (BCP 47), used for server messages.
func Open(dir, lang string) (*Device, error) {
	m := &Device{}
	d, err := sdk.Open(dir, sdk.WithLanguage(lang), sdk.WithSyncListener(func(err error) {
		m.mu.Lock()
		m.lastErr = err
		m.mu.Unlock()
	}))
	if err != nil {
		return nil, err
	}
	m.d = d
	return m, nil
}

// Close stops the field app and auto-sync, and closes the store.
func (m *Device) Close() error {
	m.StopApp()
	m.StopAutoSync()
	return m.d.Close()
}

func bg() context.Context { return context.Background() }

// Identity is what enrolment gave this device.
type Identity struct {
	Server, DeviceID, Node, Team, Label string
}

// Enrol registers the device with a one-time code from a coordinator.
func (m *Device) Enrol(serverURL, code, label string) (*Identity, error) {
	id, err := m.d.Enrol(bg(), serverURL, code, label)
	if err != nil {
		return nil, err
	}
	return &Identity{id.Server, id.DeviceID, id.Node, id.Team, id.Label}, nil
}

// Identity returns the device identity; an error with code not_enrolled before Enrol.
func (m *Device) Identity() (*Identity, error) {
	id, err := m.d.Identity()
	if err != nil {
		return nil, err
	}
	return &Identity{id.Server, id.DeviceID, id.Node, id.Team, id.Label}, nil
}

// EngagementInput describes a new engagement. Add languages with AddLanguage.
type EngagementInput struct {
	Title, Topic, VenueName, VenueType, Area string
	StartsAt, EndsAt                         int64
	PromptSet                                string
	PromptSetVersion                         int
	languages                                []string
}

// NewEngagementInput returns an empty input.
func NewEngagementInput() *EngagementInput { return &EngagementInput{} }

// AddLanguage adds a language (BCP 47) offered at the engagement.
func (e *EngagementInput) AddLanguage(tag string) { e.languages = append(e.languages, tag) }

// StartEngagement records a new engagement and returns its id.
func (m *Device) StartEngagement(in *EngagementInput) (string, error) {
	return m.d.StartEngagement(bg(), sdk.EngagementInput{Title: in.Title, Topic: in.Topic, VenueName: in.VenueName,
		VenueType: in.VenueType, Area: in.Area, StartsAt: in.StartsAt, EndsAt: in.EndsAt, Languages: in.languages,
		PromptSet: in.PromptSet, PromptSetVersion: in.PromptSetVersion})
}

// ConsentInput is what a person agreed to. Add scopes with AddScope.
type ConsentInput struct {
	Engagement, Participant         string
	Group                           bool
	PreferredLocale                 string
	StatementID                     string
	StatementVersion                int
	StatementLocale                 string
	Method, Interpreter, RecordedBy string
	GivenAt                         int64
	scopes, communities             []string
}

// NewConsentInput returns an empty input.
func NewConsentInput() *ConsentInput { return &ConsentInput{} }

// AddScope adds a scope the person agreed to (record_views, quote, contact_for_feedback,
// share_with_partners, equality_monitoring).
func (c *ConsentInput) AddScope(scope string) { c.scopes = append(c.scopes, scope) }

// AddCommunity adds a community the person describes themselves as part of.
func (c *ConsentInput) AddCommunity(community string) {
	c.communities = append(c.communities, community)
}

// ConsentRef names a recorded consent and its participant ("" for a group).
type ConsentRef struct {
	ID, Participant string
}

// RecordConsent records a consent (and a new participant unless one is given or Group).
func (m *Device) RecordConsent(in *ConsentInput) (*ConsentRef, error) {
	ref, err := m.d.RecordConsent(bg(), sdk.ConsentInput{Engagement: in.Engagement, Participant: in.Participant,
		Group: in.Group, PreferredLocale: in.PreferredLocale, Communities: in.communities,
		StatementID: in.StatementID, StatementVersion: in.StatementVersion, StatementLocale: in.StatementLocale,
		Scopes: in.scopes, Method: in.Method, Interpreter: in.Interpreter, RecordedBy: in.RecordedBy, GivenAt: in.GivenAt})
	if err != nil {
		return nil, err
	}
	return &ConsentRef{ref.ID, ref.Participant}, nil
}

// ConversationInput starts a conversation. Add locales with AddLocale.
type ConversationInput struct {
	Engagement, Consent string
	GroupSize           int
	Interpreter         string
	StartedAt           int64
	locales             []string
}

// NewConversationInput returns an empty input.
func NewConversationInput() *ConversationInput { return &ConversationInput{} }

// AddLocale adds a language used in the conversation.
func (c *ConversationInput) AddLocale(tag string) { c.locales = append(c.locales, tag) }

// StartConversation records a new conversation under a consent covering record_views.
func (m *Device) StartConversation(in *ConversationInput) (string, error) {
	return m.d.StartConversation(bg(), sdk.ConversationInput{Engagement: in.Engagement, Consent: in.Consent,
		GroupSize: in.GroupSize, Interpreter: in.Interpreter, StartedAt: in.StartedAt, Locales: in.locales})
}

// AnswerInput is one answer. Add choice ids with AddChoice; set Multi for multi_choice.
type AnswerInput struct {
	PromptID, Text                            string
	Multi                                     bool
	PromptLocale, AnswerLocale, TranslationEN string
	choices                                   []string
}

// NewAnswerInput returns an input for a prompt.
func NewAnswerInput(promptID string) *AnswerInput { return &AnswerInput{PromptID: promptID} }

// AddChoice adds a chosen choice id.
func (a *AnswerInput) AddChoice(id string) { a.choices = append(a.choices, id) }

// Answer records one answer; durable when it returns.
func (m *Device) Answer(conversation string, in *AnswerInput) error {
	return m.d.Answer(bg(), conversation, sdk.AnswerInput{PromptID: in.PromptID, Text: in.Text, Choices: in.choices,
		Multi: in.Multi, PromptLocale: in.PromptLocale, AnswerLocale: in.AnswerLocale, TranslationEN: in.TranslationEN})
}

// SwitchLanguage records a change of display language at a prompt.
func (m *Device) SwitchLanguage(conversation, atPrompt, from, to string) error {
	return m.d.SwitchLanguage(bg(), conversation, atPrompt, from, to)
}

// AddNote appends a worker's note.
func (m *Device) AddNote(conversation, note string) error {
	return m.d.AddNote(bg(), conversation, note)
}

// AddTheme tags the conversation with a theme.
func (m *Device) AddTheme(conversation, theme string) error {
	return m.d.AddTheme(bg(), conversation, theme)
}

// RemoveTheme removes a theme.
func (m *Device) RemoveTheme(conversation, theme string) error {
	return m.d.RemoveTheme(bg(), conversation, theme)
}

// EndConversation records the end (endedAt 0 = now).
func (m *Device) EndConversation(conversation string, endedAt int64) error {
	return m.d.EndConversation(bg(), conversation, endedAt)
}

// SetContact stores contact details; the consent must cover contact_for_feedback.
func (m *Device) SetContact(consent, name, email, phone string) error {
	return m.d.SetContact(bg(), consent, sdk.Contact{Name: name, Email: email, Phone: phone})
}

// SetEquality stores one equality-monitoring answer; the consent must cover
// equality_monitoring.
func (m *Device) SetEquality(consent, field, value string) error {
	return m.d.SetEquality(bg(), consent, field, value)
}

// WithdrawConsent withdraws a consent for good and erases what it covered.
func (m *Device) WithdrawConsent(consent, reason string) error {
	return m.d.WithdrawConsent(bg(), consent, reason)
}

func toJSON(v any, err error) (string, error) {
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// EngagementsJSON lists engagements as a JSON array.
func (m *Device) EngagementsJSON() (string, error) { return toJSON(m.d.Engagements(bg())) }

// ConsentsJSON lists an engagement's consents ("" = all) as a JSON array.
func (m *Device) ConsentsJSON(engagement string) (string, error) {
	return toJSON(m.d.Consents(bg(), engagement))
}

// ParticipantsJSON lists an engagement's participants ("" = all) as a JSON array.
func (m *Device) ParticipantsJSON(engagement string) (string, error) {
	return toJSON(m.d.Participants(bg(), engagement))
}

// ConversationsJSON lists an engagement's conversations ("" = all) as a JSON array.
func (m *Device) ConversationsJSON(engagement string) (string, error) {
	return toJSON(m.d.Conversations(bg(), engagement))
}

// EngagementJSON reads one engagement as JSON.
func (m *Device) EngagementJSON(id string) (string, error) { return toJSON(m.d.Engagement(bg(), id)) }

// ConsentJSON reads one consent as JSON.
func (m *Device) ConsentJSON(id string) (string, error) { return toJSON(m.d.Consent(bg(), id)) }

// ParticipantJSON reads one participant as JSON.
func (m *Device) ParticipantJSON(id string) (string, error) { return toJSON(m.d.Participant(bg(), id)) }

// ConversationJSON reads one conversation as JSON.
func (m *Device) ConversationJSON(id string) (string, error) {
	return toJSON(m.d.Conversation(bg(), id))
}

// PromptSet is an engagement's questionnaire, read through index accessors.
type PromptSet struct {
	ID      string
	Version int
	ps      sdk.PromptSet
}

// Prompts resolves an engagement's prompt set.
func (m *Device) Prompts(engagement string) (*PromptSet, error) {
	ps, err := m.d.Prompts(bg(), engagement)
	if err != nil {
		return nil, err
	}
	return &PromptSet{ID: ps.ID, Version: ps.Version, ps: ps}, nil
}

func (p *PromptSet) prompt(i int) sdk.Prompt {
	if i < 0 || i >= len(p.ps.Prompts) {
		return sdk.Prompt{}
	}
	return p.ps.Prompts[i]
}

// Count is the number of prompts.
func (p *PromptSet) Count() int { return len(p.ps.Prompts) }

// PromptID is the i-th prompt's id.
func (p *PromptSet) PromptID(i int) string { return p.prompt(i).ID }

// Kind is the i-th prompt's kind (text, single_choice, multi_choice, scale, yes_no).
func (p *PromptSet) Kind(i int) string { return p.prompt(i).Kind }

// Text is the i-th prompt's question in lang.
func (p *PromptSet) Text(i int, lang string) string {
	t, _ := p.ps.Text(p.prompt(i).ID, lang)
	return t
}

// ChoiceCount is the number of choices of the i-th prompt.
func (p *PromptSet) ChoiceCount(i int) int { return len(p.prompt(i).Choices) }

// ChoiceID is the j-th choice of the i-th prompt.
func (p *PromptSet) ChoiceID(i, j int) string {
	c := p.prompt(i).Choices
	if j < 0 || j >= len(c) {
		return ""
	}
	return c[j]
}

// ChoiceText is the label of the j-th choice of the i-th prompt in lang.
func (p *PromptSet) ChoiceText(i, j int, lang string) string {
	t, _ := p.ps.ChoiceText(p.prompt(i).ID, p.ChoiceID(i, j), lang)
	return t
}

// Statement is the built-in consent statement in one language.
type Statement struct {
	ID, Locale, Title, Body, Question string
	Version                           int
}

// ConsentStatement returns the standard consent statement in lang.
func ConsentStatement(lang string) *Statement {
	st := locales.BuiltinConsentStatements()[0]
	t := func(id string) string { s, _ := locales.Localize(lang, id, nil); return s }
	return &Statement{ID: st.ID, Version: st.Version, Locale: locales.Match(lang).String(), Title: t(st.TitleID()),
		Body: t(st.BodyID()), Question: t("consent.question")}
}

// ScopeCount is the number of consent scopes.
func ScopeCount() int { return len(schema.ConsentScopes) }

// Scope is the i-th consent scope, in the order they are asked.
func Scope(i int) string { return at(locales.ConsentScopes, i) }

// ScopeText is "You agree that …" for a scope, in lang.
func ScopeText(scope, lang string) string {
	s, _ := locales.Localize(lang, locales.ScopeMessageID(scope), nil)
	return s
}

func at(xs []string, i int) string {
	if i < 0 || i >= len(xs) {
		return ""
	}
	return xs[i]
}

// EqualityQuestionCount is the number of equality-monitoring questions.
func EqualityQuestionCount() int { return len(locales.EqualityQuestions()) }

func question(i int) locales.EqualityQuestion {
	qs := locales.EqualityQuestions()
	if i < 0 || i >= len(qs) {
		return locales.EqualityQuestion{}
	}
	return qs[i]
}

// EqualityField is the participant field the i-th question fills (eq_age_band …).
func EqualityField(i int) string { return question(i).Field }

// EqualityQuestionText is the i-th question in lang.
func EqualityQuestionText(i int, lang string) string {
	s, _ := locales.Localize(lang, question(i).QuestionID(), nil)
	return s
}

// EqualityValueCount is the number of answers of the i-th question (prefer_not_to_say last).
func EqualityValueCount(i int) int { return len(question(i).Values) }

// EqualityValue is the j-th answer value of the i-th question.
func EqualityValue(i, j int) string { return at(question(i).Values, j) }

// EqualityValueText is the label of the j-th answer of the i-th question in lang.
func EqualityValueText(i, j int, lang string) string {
	q := question(i)
	s, _ := locales.Localize(lang, q.ValueID(at(q.Values, j)), nil)
	return s
}

// IsRTL reports whether lang is written right to left (ar, ur).
func IsRTL(lang string) bool { return locales.IsRTL(lang) }

// LanguageName is lang's name in itself.
func LanguageName(lang string) string { return locales.Name(lang) }

// Localize renders a message id in lang, without template data.
func Localize(lang, id string) string {
	s, _ := locales.Localize(lang, id, nil)
	return s
}

// ErrorCode is the stable code of an error from this package ("" for nil, "internal" for
// anything unexpected).
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *sdk.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return sdk.CodeInternal
}

// ErrorScope is the missing consent scope of a consent_scope_missing error.
func ErrorScope(err error) string {
	var e *sdk.Error
	if errors.As(err, &e) {
		return e.Scope
	}
	return ""
}

// ErrorMessage is the error for the worker, in lang.
func ErrorMessage(err error, lang string) string {
	if err == nil {
		return ""
	}
	var e *sdk.Error
	if !errors.As(err, &e) {
		e = &sdk.Error{Code: sdk.CodeInternal}
	}
	return e.Message(lang)
}

// Progress is how far the running (or last) sync is.
type Progress struct {
	Phase       string // push | pull | done
	Done, Total int
	Running     bool
}

// SyncResult is what a sync did.
type SyncResult struct {
	Pushed, Duplicates, Restamped, Rejected, Pulled, Erased int
	RejectedJSON                                            string
}

// Sync pushes and pulls until up to date. It blocks; poll Progress from another thread,
// and Cancel to stop it (it resumes where it stopped next time).
func (m *Device) Sync() (*SyncResult, error) {
	ctx, cancel := context.WithCancel(bg())
	m.mu.Lock()
	m.cancel = cancel
	m.progress = Progress{Running: true}
	m.mu.Unlock()
	defer func() {
		cancel()
		m.mu.Lock()
		m.progress.Running, m.progress.Phase = false, "done"
		m.cancel = nil
		m.mu.Unlock()
	}()
	rep, err := m.d.SyncReport(ctx, func(p sdk.Progress) {
		m.mu.Lock()
		m.progress = Progress{Phase: p.Phase, Done: p.Done, Total: p.Total, Running: true}
		m.mu.Unlock()
	})
	m.mu.Lock()
	m.lastErr = err
	m.mu.Unlock()
	if err != nil {
		return nil, err
	}
	rj, _ := json.Marshal(rep.Rejected)
	return &SyncResult{Pushed: rep.Pushed, Duplicates: rep.Duplicates, Restamped: rep.Restamped,
		Rejected: len(rep.Rejected), Pulled: rep.Pulled, Erased: rep.Erased, RejectedJSON: string(rj)}, nil
}

// Progress returns the running sync's progress.
func (m *Device) Progress() *Progress {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.progress
	return &p
}

// Cancel stops a running sync.
func (m *Device) Cancel() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cancel != nil {
		m.cancel()
	}
}

// StartAutoSync syncs every intervalMs while the server is reachable, and as soon as it is
// reachable again. LastSyncError reports how the last attempt went.
func (m *Device) StartAutoSync(intervalMs int64) {
	m.StopAutoSync()
	ctx, cancel := context.WithCancel(bg())
	m.mu.Lock()
	m.auto = cancel
	m.mu.Unlock()
	go m.d.AutoSync(ctx, time.Duration(intervalMs)*time.Millisecond)
}

// StopAutoSync stops auto-sync.
func (m *Device) StopAutoSync() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.auto != nil {
		m.auto()
		m.auto = nil
	}
}

// LastSyncError is the last sync's error ("" if it succeeded or none ran).
func (m *Device) LastSyncError() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lastErr == nil {
		return ""
	}
	return m.lastErr.Error()
}

// Wiped reports whether the server revoked the device and its store was wiped.
func (m *Device) Wiped() bool { return m.d.Wiped() }

// Status is the device's sync state.
type Status struct {
	Enrolled                    bool
	DeviceID, Label, Team, Node string
	Server                      string
	Pending, Ops, LastSync      int64
	LastError, Cursor, Hash     string
	Records                     int
	RejectedJSON                string
}

// Status reports pending ops, last sync, cursor, state hash and rejected ops.
func (m *Device) Status() (*Status, error) {
	st, err := m.d.Status(bg())
	if err != nil {
		return nil, err
	}
	rj, _ := json.Marshal(st.Rejected)
	return &Status{Enrolled: st.Enrolled, DeviceID: st.DeviceID, Label: st.Label, Team: st.Team, Node: st.Node,
		Server: st.Server, Pending: st.Pending, Ops: st.Ops, LastSync: st.LastSync, LastError: st.LastError,
		Cursor: st.Cursor, Hash: st.Hash, Records: st.Records, RejectedJSON: string(rj)}, nil
}

// StateHash is the device's state hash: equal to the server's after a full sync.
func (m *Device) StateHash() (string, error) {
	st, err := m.d.State(bg())
	return st.Hash, err
}

// SetLocalIdentity gives an unenrolled device a node id and team without a server (demos,
// training, tests).
func (m *Device) SetLocalIdentity(node, team string) error {
	return m.d.SetLocalIdentity(bg(), node, team)
}
