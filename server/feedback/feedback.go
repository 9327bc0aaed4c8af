// Package feedback closes the loop ("you said, we did"): coordinators record decisions
// linked to the conversations and themes that informed them, and feedback is queued for
// every linked participant whose consent covers contact, in their own language from the
// go-i18n templates in locales (falling back to English, and saying so). It also builds
// the per-engagement audit trail a board reads.
//
// Decisions and feedback are records of the replica (collections decision and
// feedback), written as ops under the coordinator's node, so they sync and carry their
// history like everything else. The package imports schema, syncengine, locales and
// server/reports; never HTTP.
package feedback

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fieldnotes/fieldnotes/locales"
	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/reports"
	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/google/uuid"
)

// Replica is what the package needs of the server's replica (store.Replica and
// *syncengine.Store satisfy it).
type Replica interface {
	WriteAs(ctx context.Context, node string, changes []syncengine.Change, opt syncengine.ApplyOptions) ([]syncengine.Op, syncengine.Result, error)
	Get(ctx context.Context, k syncengine.RecordKey) (syncengine.Record, error)
	Scan(ctx context.Context, collection string, teams []string, fn func(syncengine.Record) error) error
}

// Stable error codes (the API's error `code`), beyond schema's (invalid_field,
// invalid_enum, required, invalid_record_id).
const (
	CodeNotFound     = "not_found"
	CodeOutOfScope   = "out_of_scope"
	CodeTeamRequired = "team_required"
)

// Error is a request the caller got wrong.
type Error struct {
	Code    string
	Field   string
	Message string
	Details map[string]any
}

func (e *Error) Error() string { return e.Code + ": " + e.Field + ": " + e.Message }

func fail(code, field, format string, a ...any) *Error {
	d := map[string]any{}
	if field != "" {
		d["field"] = field
	}
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, a...), Details: d}
}

// Caller is who acts: the node their ops are written under and the teams they may see
// (nil: every team).
type Caller struct {
	Node  string
	Teams []string
}

func (c Caller) canSee(team string) bool { return c.Teams == nil || slices.Contains(c.Teams, team) }

// Service records decisions and queues feedback.
type Service struct {
	Replica Replica
	Index   *reports.Index
	// Now is wall time in ms; time.Now when nil.
	Now func() int64
	// PublicURL is the server's public base address (https://…, no trailing slash).
	// When set, a message about an engagement that is published links to its public
	// "You said, we did" page, <PublicURL>/public/engagements/{id}?lang=<their language>.
	PublicURL string
}

func (s *Service) now() int64 {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now().UnixMilli()
}

// DecisionInput is the body of POST /v1/decisions.
type DecisionInput struct {
	Title         string            `json:"title"`
	Summary       map[string]string `json:"summary"`
	Outcome       string            `json:"outcome"`
	Reason        string            `json:"reason"`
	Themes        []string          `json:"themes"`
	Conversations []string          `json:"conversations"`
	// Team is needed only when it can't be worked out: no linked conversation and a
	// caller with several teams (an addition to the protocol).
	Team string `json:"team,omitempty"`
}

// Validate checks the input on its own (codes: required, invalid_enum, invalid_field,
// invalid_record_id; Field names the field).
func (in *DecisionInput) Validate() error {
	in.Title = strings.TrimSpace(in.Title)
	switch {
	case in.Title == "":
		return fail(schema.CodeRequired, "title", "a decision needs a title")
	case len(in.Title) > 500:
		return fail(schema.CodeInvalidField, "title", "title is longer than 500 characters")
	case in.Outcome == "":
		return fail(schema.CodeRequired, "outcome", "outcome is needed")
	case !slices.Contains(schema.Outcomes, in.Outcome):
		e := fail(schema.CodeInvalidEnum, "outcome", "outcome must be one of %s", strings.Join(schema.Outcomes, ", "))
		e.Details["allowed"] = strings.Join(schema.Outcomes, ", ")
		return e
	case in.Outcome == "not_changed" && strings.TrimSpace(in.Reason) == "":
		return fail(schema.CodeRequired, "reason", "say why it could not change")
	case len(in.Reason) > schema.MaxValueBytes:
		return fail(schema.CodeInvalidField, "reason", "reason is too long")
	}
	for loc, text := range in.Summary {
		if !schema.ValidLocale(loc) {
			return fail(schema.CodeInvalidField, "summary."+loc, "summary keys are language tags")
		}
		if strings.TrimSpace(text) == "" {
			return fail(schema.CodeRequired, "summary."+loc, "a summary is empty")
		}
		if len(text) > schema.MaxValueBytes {
			return fail(schema.CodeInvalidField, "summary."+loc, "summary is too long")
		}
	}
	for i, t := range in.Themes {
		if strings.TrimSpace(t) == "" || len(t) > 200 {
			return fail(schema.CodeInvalidField, fmt.Sprintf("themes[%d]", i), "a theme is a non-empty name of at most 200 characters")
		}
	}
	for i, c := range in.Conversations {
		if !schema.ValidRecordID(c) {
			return fail(schema.CodeInvalidRecordID, fmt.Sprintf("conversations[%d]", i), "not a record id")
		}
	}
	return nil
}

// CreateDecision is Decide, returning only the record.
func (s *Service) CreateDecision(ctx context.Context, who Caller, in DecisionInput) (syncengine.Record, error) {
	d, err := s.Decide(ctx, who, in)
	return d.Record, err
}

// Decided is a decision just recorded.
type Decided struct {
	Record syncengine.Record
	// LeftOutErased lists the linked conversations left out because they were erased
	// (their consent withdrawn): a coordinator can't know a participant withdrew.
	LeftOutErased []string
}

// Decide validates and writes a decision as ops under the caller's node, and returns the
// record. Linked conversations must be in the caller's teams and belong to one team,
// which becomes the decision's; those that were erased are left out and listed.
func (s *Service) Decide(ctx context.Context, who Caller, in DecisionInput) (Decided, error) {
	out := Decided{LeftOutErased: []string{}}
	if err := in.Validate(); err != nil {
		return out, err
	}
	team := strings.TrimSpace(in.Team)
	if team != "" && !who.canSee(team) {
		return out, fail(CodeOutOfScope, "team", "team %s is not yours", team)
	}
	var live []string
	erased := map[string]bool{}
	sameTeam := func(field, t string) error {
		if team == "" {
			team = t
		} else if t != team {
			return fail(schema.CodeInvalidField, field, "linked conversations belong to more than one team")
		}
		return nil
	}
	err := s.Index.Read(ctx, func(v *reports.View) error {
		for i, id := range in.Conversations {
			field := fmt.Sprintf("conversations[%d]", i)
			if c := v.Conversation(id); c != nil && who.canSee(c.Team) {
				if err := sameTeam(field, c.Team); err != nil {
					return err
				}
				if !slices.Contains(live, id) {
					live = append(live, id)
				}
				continue
			}
			// Not live: erased in the caller's teams is left out; anything else is an error.
			r, err := s.Replica.Get(ctx, syncengine.RecordKey{Collection: schema.Conversation, Record: id})
			if errors.Is(err, syncengine.ErrNotFound) || err == nil && (!r.Erased || !who.canSee(r.Team)) {
				return fail(schema.CodeInvalidField, field, "no such conversation")
			}
			if err != nil {
				return err
			}
			if err := sameTeam(field, r.Team); err != nil {
				return err
			}
			if !erased[id] {
				erased[id] = true
				out.LeftOutErased = append(out.LeftOutErased, id)
			}
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	if team == "" {
		if len(who.Teams) != 1 {
			return out, fail(CodeTeamRequired, "team", "say which team the decision belongs to")
		}
		team = who.Teams[0]
	}
	id, err := uuid.NewV7()
	if err != nil {
		return out, err
	}
	rec := id.String()
	ch := []syncengine.Change{
		{Collection: schema.Decision, Record: rec, Kind: schema.KindSet, Field: "team", Value: team},
		{Collection: schema.Decision, Record: rec, Kind: schema.KindSet, Field: "title", Value: in.Title},
		{Collection: schema.Decision, Record: rec, Kind: schema.KindSet, Field: "outcome", Value: in.Outcome},
		{Collection: schema.Decision, Record: rec, Kind: schema.KindSet, Field: "decided_at", Value: s.now()},
	}
	if r := strings.TrimSpace(in.Reason); r != "" {
		ch = append(ch, syncengine.Change{Collection: schema.Decision, Record: rec, Kind: schema.KindSet, Field: "reason", Value: r})
	}
	locs := make([]string, 0, len(in.Summary))
	for l := range in.Summary {
		locs = append(locs, l)
	}
	slices.Sort(locs)
	for _, l := range locs {
		ch = append(ch, syncengine.Change{Collection: schema.Decision, Record: rec, Kind: schema.KindSet, Field: schema.SummaryPrefix + l, Value: in.Summary[l]})
	}
	for _, t := range in.Themes {
		ch = append(ch, syncengine.Change{Collection: schema.Decision, Record: rec, Kind: schema.KindAdd, Field: "themes", Value: strings.TrimSpace(t)})
	}
	for _, c := range live {
		ch = append(ch, syncengine.Change{Collection: schema.Decision, Record: rec, Kind: schema.KindAdd, Field: "conversations", Value: c})
	}
	if _, _, err := s.Replica.WriteAs(ctx, who.Node, ch, syncengine.ApplyOptions{Hub: true, Team: team}); err != nil {
		var rej *syncengine.RejectedError
		if errors.As(err, &rej) {
			r := rej.Rejected[0]
			return out, fail(r.Code, r.Field, "%s", r.Message)
		}
		return out, err
	}
	out.Record, err = s.Replica.Get(ctx, syncengine.RecordKey{Collection: schema.Decision, Record: rec})
	return out, err
}

// Decision is a decision record, decoded.
type Decision struct {
	ID            string            `json:"id"`
	Team          string            `json:"team"`
	Title         string            `json:"title"`
	Summary       map[string]string `json:"summary"`
	Outcome       string            `json:"outcome"`
	Reason        string            `json:"reason,omitempty"`
	Themes        []string          `json:"themes"`
	Conversations []string          `json:"conversations"`
	DecidedAt     int64             `json:"decided_at"`
}

// DecisionOf decodes a decision record.
func DecisionOf(r syncengine.Record) Decision {
	d := Decision{ID: r.ID, Team: r.Team, Summary: map[string]string{}, Themes: []string{}, Conversations: []string{}}
	str(r, "title", &d.Title)
	str(r, "outcome", &d.Outcome)
	str(r, "reason", &d.Reason)
	str(r, "themes", &d.Themes)
	str(r, "conversations", &d.Conversations)
	var at float64
	str(r, "decided_at", &at)
	d.DecidedAt = int64(at)
	if t := fieldString(r, "team"); t != "" {
		d.Team = t
	}
	for k := range r.Fields {
		if loc, ok := strings.CutPrefix(k, schema.SummaryPrefix); ok {
			var text string
			str(r, k, &text)
			d.Summary[loc] = text
		}
	}
	return d
}

// decision loads a decision the caller may see.
func (s *Service) decision(ctx context.Context, who Caller, id string) (Decision, error) {
	if !schema.ValidRecordID(id) {
		return Decision{}, fail(CodeNotFound, "id", "no such decision")
	}
	r, err := s.Replica.Get(ctx, syncengine.RecordKey{Collection: schema.Decision, Record: id})
	if errors.Is(err, syncengine.ErrNotFound) || (err == nil && (r.Erased || r.Deleted)) {
		return Decision{}, fail(CodeNotFound, "id", "no such decision")
	}
	if err != nil {
		return Decision{}, err
	}
	d := DecisionOf(r)
	if !who.canSee(d.Team) {
		return Decision{}, fail(CodeNotFound, "id", "no such decision")
	}
	return d, nil
}

// QueueResult is the answer to POST /v1/decisions/{id}/feedback.
type QueueResult struct {
	Queued           int `json:"queued"`
	SkippedNoConsent int `json:"skipped_no_consent"`
	// Additions: linked participants with contact consent but no email or phone, and
	// those already queued for this decision (the call is idempotent).
	SkippedNoContact int `json:"skipped_no_contact"`
	AlreadyQueued    int `json:"already_queued"`
}

// feedbackNS names feedback ids: one feedback record per decision and participant, so
// queueing twice finds the first.
var feedbackNS = uuid.MustParse("6f1d2c1e-8a4b-4c52-9a57-0c2f3e9b7d10")

// FeedbackID is the id of the feedback record for a decision and a participant.
func FeedbackID(decision, participant string) string {
	return uuid.NewSHA1(feedbackNS, []byte(decision+"/"+participant)).String()
}

// linked is one participant linked to a decision.
type linked struct {
	p         *reports.Participant
	startedAt int64 // their earliest linked conversation
	eng       string
	themes    []string
	contact   bool // a consent not withdrawn covers contact_for_feedback
}

// QueueFeedback queues feedback for every participant linked to the decision through
// its conversations (only those: a decision's themes do not pull in other conversations
// with the same theme, since the coordinator chose which views informed it). A
// participant is skipped unless a consent of theirs that is not withdrawn covers
// contact_for_feedback; the channel is email if they gave an email, else sms if they
// gave a phone number. Idempotent: a participant already queued for this decision is
// counted in already_queued, not queued again.
func (s *Service) QueueFeedback(ctx context.Context, who Caller, decisionID string) (QueueResult, error) {
	d, err := s.decision(ctx, who, decisionID)
	if err != nil {
		return QueueResult{}, err
	}
	var people []*linked
	engTitle := map[string]string{}
	err = s.Index.Read(ctx, func(v *reports.View) error {
		byID := map[string]*linked{}
		for _, id := range d.Conversations {
			c := v.Conversation(id)
			if c == nil || !v.ConsentOf(c).Valid(reports.RecordViews) {
				continue
			}
			p := v.ParticipantOf(c)
			if p == nil {
				continue // a group conversation: nobody to write to
			}
			l := byID[p.ID]
			if l == nil {
				cp := *p
				l = &linked{p: &cp, startedAt: c.StartedAt, eng: c.Engagement}
				byID[p.ID] = l
				people = append(people, l)
			}
			if c.StartedAt > 0 && (l.startedAt == 0 || c.StartedAt < l.startedAt) {
				l.startedAt, l.eng = c.StartedAt, c.Engagement
			}
			for _, t := range c.Themes {
				if !slices.Contains(l.themes, t) {
					l.themes = append(l.themes, t)
				}
			}
			if e := v.EngagementOf(c); e != nil {
				engTitle[e.ID] = e.Title
			}
			l.contact = p.Covers(reports.ContactForFeedback)
		}
		return nil
	})
	if err != nil {
		return QueueResult{}, err
	}
	slices.SortFunc(people, func(a, b *linked) int { return strings.Compare(a.p.ID, b.p.ID) })
	var res QueueResult
	published := map[string]*bool{}
	others := len(people) - 1
	for _, l := range people {
		if !l.contact {
			res.SkippedNoConsent++
			continue
		}
		fid := FeedbackID(d.ID, l.p.ID)
		if _, err := s.Replica.Get(ctx, syncengine.RecordKey{Collection: schema.Feedback, Record: fid}); err == nil {
			res.AlreadyQueued++
			continue
		} else if !errors.Is(err, syncengine.ErrNotFound) {
			return res, err
		}
		pr, err := s.Replica.Get(ctx, syncengine.RecordKey{Collection: schema.Participant, Record: l.p.ID})
		if err != nil {
			return res, err
		}
		channel := ""
		switch {
		case fieldString(pr, "contact_email") != "":
			channel = "email"
		case fieldString(pr, "contact_phone") != "":
			channel = "sms"
		}
		if channel == "" {
			res.SkippedNoContact++
			continue
		}
		themes := d.Themes
		if len(themes) == 0 {
			themes = l.themes
		}
		md := MessageData{Others: others, Themes: themes, ConversationAt: l.startedAt, Engagement: engTitle[l.eng]}
		if md.PublicURL, err = s.publicLink(ctx, l.eng, l.p.PreferredLocale, published); err != nil {
			return res, err
		}
		msg := Render(l.p.PreferredLocale, d, md)
		ch := []syncengine.Change{
			{Collection: schema.Feedback, Record: fid, Kind: schema.KindSet, Field: "decision", Value: d.ID},
			{Collection: schema.Feedback, Record: fid, Kind: schema.KindSet, Field: "participant", Value: l.p.ID},
			{Collection: schema.Feedback, Record: fid, Kind: schema.KindSet, Field: "locale", Value: msg.Locale},
			{Collection: schema.Feedback, Record: fid, Kind: schema.KindSet, Field: "channel", Value: channel},
			{Collection: schema.Feedback, Record: fid, Kind: schema.KindSet, Field: "status", Value: "queued"},
			{Collection: schema.Feedback, Record: fid, Kind: schema.KindSet, Field: "message", Value: msg.Body},
			{Collection: schema.Feedback, Record: fid, Kind: schema.KindSet, Field: "subject", Value: msg.Subject},
			{Collection: schema.Feedback, Record: fid, Kind: schema.KindSet, Field: "fallback", Value: msg.Fallback},
			{Collection: schema.Feedback, Record: fid, Kind: schema.KindSet, Field: "requested_locale", Value: msg.Requested},
			{Collection: schema.Feedback, Record: fid, Kind: schema.KindSet, Field: "queued_at", Value: s.now()},
		}
		if _, _, err := s.Replica.WriteAs(ctx, who.Node, ch, syncengine.ApplyOptions{Hub: true, Team: d.Team}); err != nil {
			return res, err
		}
		res.Queued++
	}
	return res, nil
}

// MessageData is what a feedback message says besides the decision.
type MessageData struct {
	Others         int      // other linked participants
	Themes         []string // what they talked about
	ConversationAt int64    // ms; the date shown
	Engagement     string   // the engagement's title
	PublicURL      string   // the engagement's public page, if it has one
}

// Message is a rendered feedback message.
type Message struct {
	Locale    string // the language it is written in
	Requested string // the participant's preferred locale
	Subject   string
	Body      string
	Fallback  bool // written in English because their language could not be used
}

// Render writes the message in the participant's preferred language: greeting, intro,
// you_said (plural by the number of others, CLDR rules of that language) or
// you_said_alone, the outcome, closing. If any part has no translation in that
// language, or the decision has no summary in it, the whole message is written in
// English instead (never a mix) with feedback.fallback_note added, and Fallback set.
// Dates are ISO (2006-01-02), readable in every language.
func Render(preferred string, d Decision, md MessageData) Message {
	lang := locales.Match(preferred).String()
	if strings.TrimSpace(preferred) == "" {
		lang = "en"
	}
	if m, ok := render(lang, d, md); ok {
		m.Requested = preferred
		return m
	}
	m, _ := render("en", d, md)
	note, _ := locales.Localize("en", "feedback.fallback_note", nil)
	m.Body += "\n\n" + note
	m.Fallback, m.Requested = true, preferred
	return m
}

func render(lang string, d Decision, md MessageData) (Message, bool) {
	ok := true
	loc := func(id string, data map[string]any) string {
		text, fell := locales.Localize(lang, id, data)
		ok = ok && !fell
		return text
	}
	summary, has := summaryIn(d, lang)
	if !has {
		if lang != "en" {
			return Message{}, false
		}
		summary = d.Title
	}
	date := ""
	if md.ConversationAt > 0 {
		date = time.UnixMilli(md.ConversationAt).UTC().Format("2006-01-02")
	}
	themes := strings.Join(md.Themes, ", ")
	parts := []string{
		loc("feedback.greeting", nil),
		loc("feedback.intro", map[string]any{"Date": date, "Engagement": md.Engagement}),
	}
	if themes != "" {
		if md.Others > 0 {
			text, fell := locales.LocalizePlural(lang, "feedback.you_said", md.Others, map[string]any{"Themes": themes})
			ok = ok && !fell
			parts = append(parts, text)
		} else {
			parts = append(parts, loc("feedback.you_said_alone", map[string]any{"Themes": themes}))
		}
	}
	parts = append(parts, loc("feedback.outcome."+d.Outcome, map[string]any{"Decision": summary, "Reason": d.Reason}))
	if md.PublicURL != "" {
		parts = append(parts, loc("feedback.public_link", map[string]any{"URL": md.PublicURL}))
	}
	parts = append(parts, loc("feedback.closing", nil))
	subject := loc("feedback.subject", nil)
	return Message{Locale: lang, Subject: subject, Body: strings.Join(parts, "\n\n")}, ok
}

// summaryIn picks the decision's summary for lang, matching base languages ("cy-GB"
// summary for "cy").
func summaryIn(d Decision, lang string) (string, bool) {
	if s, ok := d.Summary[lang]; ok {
		return s, true
	}
	for k, s := range d.Summary {
		if strings.EqualFold(base(k), lang) {
			return s, true
		}
	}
	return "", false
}

func base(tag string) string {
	if i := strings.IndexAny(tag, "-_"); i > 0 {
		return tag[:i]
	}
	return tag
}

// publicLink is the address of the engagement's public page in the participant's
// language, or "" when no PublicURL is set or the engagement is not published (field
// published, a JSON true). Lookups are remembered in seen for one queueing.
func (s *Service) publicLink(ctx context.Context, engagement, preferred string, seen map[string]*bool) (string, error) {
	if s.PublicURL == "" || engagement == "" {
		return "", nil
	}
	pub := seen[engagement]
	if pub == nil {
		r, err := s.Replica.Get(ctx, syncengine.RecordKey{Collection: schema.Engagement, Record: engagement})
		if err != nil && !errors.Is(err, syncengine.ErrNotFound) {
			return "", err
		}
		var b bool
		if err == nil && !r.Erased && !r.Deleted {
			str(r, "published", &b)
		}
		pub = &b
		seen[engagement] = pub
	}
	if !*pub {
		return "", nil
	}
	lang := locales.Match(preferred).String()
	return strings.TrimRight(s.PublicURL, "/") + "/public/engagements/" + engagement + "?lang=" + lang, nil
}
