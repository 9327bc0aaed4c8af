// Package schema is the Fieldnotes domain: the collections a field team records, their
// fields and enums exactly as the wire protocol lists them, and the validation of a single
// change to one field. It also embeds the SQL migrations of the replica store.
//
// It imports the standard library only: everything else builds on it.
package schema

import "sort"

// Collections, in the protocol's words.
const (
	Engagement   = "engagement"
	PromptSet    = "prompt_set"
	Participant  = "participant"
	Consent      = "consent"
	Conversation = "conversation"
	Decision     = "decision"
	Feedback     = "feedback"
)

// Collections lists every known collection. Unknown collections are not an error: a
// newer device may write one, and older replicas pass it on untouched.
var Collections = []string{Engagement, PromptSet, Participant, Consent, Conversation, Decision, Feedback}

// IsKnownCollection reports whether c is one of Collections.
func IsKnownCollection(c string) bool {
	_, ok := fields[c]
	return ok
}

// Shape says which op kinds a field takes.
type Shape int

const (
	Register Shape = iota // set: last writer wins
	Set                   // add/remove: add-wins observed-remove set
	Log                   // append: append-only
)

// Type is what a field's value must be.
type Type int

const (
	Any    Type = iota // any JSON value
	String             // a JSON string
	Text               // a JSON string that may be long (what a person said)
	Int                // a JSON integer
	Time               // Unix milliseconds
	Ref                // a record id
	Enum               // a string from Field.Values
	Locale             // a BCP 47 language tag
	Object             // a JSON object, checked by Field.Check
	Array              // a JSON array, checked by Field.Check
	Bool               // a JSON true or false
)

// Field describes one field of a collection.
type Field struct {
	Name   string
	Shape  Shape
	Type   Type     // for a Set or Log, the type of each element
	Values []string // Enum values, in the protocol's order
	// Personal marks fields that identify or describe a person (contact, equality
	// monitoring, what they said); they never reach logs.
	Personal bool
	// Erasable marks the participant fields a consent withdrawal erases.
	Erasable bool
	// Check validates an Object or Array value further; nil accepts any.
	Check func(v any) *Error
}

// Venue types: go where people are.
var VenueTypes = []string{"cafe", "place_of_worship", "community_centre", "market", "school",
	"library", "barber_or_salon", "festival", "other"}

// Consent scopes: what a person agreed to.
const (
	ScopeRecordViews        = "record_views"
	ScopeQuote              = "quote"
	ScopeContactForFeedback = "contact_for_feedback"
	ScopeShareWithPartners  = "share_with_partners"
	ScopeEqualityMonitoring = "equality_monitoring"
)

var ConsentScopes = []string{ScopeRecordViews, ScopeQuote, ScopeContactForFeedback, ScopeShareWithPartners, ScopeEqualityMonitoring}

var ConsentMethods = []string{"verbal", "written", "interpreter"}

var PromptKinds = []string{"text", "single_choice", "multi_choice", "scale", "yes_no"}

var Outcomes = []string{"changed", "not_changed", "in_progress"}

var FeedbackStatuses = []string{"queued", "sent", "failed"}

// DecisionProgress is how far the work on a decision has got, shown in the annual report
// and on the public page.
var DecisionProgress = []string{"planned", "under_way", "done"}

// Review states of a conversation, as ODK Central names them. A conversation with no
// review_state is received. has_issues and rejected need a review_comment (the console and
// the API check it; a single op cannot). Rejected conversations are left out of reports and
// exports by default.
const (
	ReviewReceived  = "received"
	ReviewHasIssues = "has_issues"
	ReviewApproved  = "approved"
	ReviewRejected  = "rejected"
)

var ReviewStates = []string{ReviewReceived, ReviewHasIssues, ReviewApproved, ReviewRejected}

// PreferNotToSay is allowed for every equality-monitoring question.
const PreferNotToSay = "prefer_not_to_say"

// Census 2021 ethnicity, 19 categories, and the five groups reports can roll them up to.
var Ethnicities = []string{"asian_bangladeshi", "asian_chinese", "asian_indian", "asian_pakistani",
	"asian_other", "black_african", "black_caribbean", "black_other", "mixed_white_and_asian",
	"mixed_white_and_black_african", "mixed_white_and_black_caribbean", "mixed_other",
	"white_british", "white_irish", "white_gypsy_or_irish_traveller", "white_roma", "white_other",
	"other_arab", "other_any_other"}

var EthnicGroups = []string{"asian", "black", "mixed", "white", "other"}

// EthnicGroup rolls a Census 2021 category up to its group ("" if unknown).
func EthnicGroup(category string) string {
	for _, g := range EthnicGroups {
		if len(category) > len(g) && category[:len(g)+1] == g+"_" {
			return g
		}
	}
	return ""
}

// EqualityQuestions lists the equality-monitoring fields and their answers (without
// prefer_not_to_say, which every one of them also accepts).
var EqualityQuestions = []struct {
	Field  string
	Values []string
}{
	{"eq_age_band", []string{"under_16", "16_24", "25_34", "35_44", "45_54", "55_64", "65_74", "75_plus"}},
	{"eq_ethnicity", Ethnicities},
	{"eq_sex", []string{"female", "male"}},
	{"eq_gender_identity_same_as_birth", []string{"yes", "no"}},
	{"eq_disability", []string{"yes_limited_a_lot", "yes_limited_a_little", "no"}},
	{"eq_religion", []string{"no_religion", "christian", "buddhist", "hindu", "jewish", "muslim", "sikh", "other_religion"}},
	{"eq_sexual_orientation", []string{"straight_or_heterosexual", "gay_or_lesbian", "bisexual", "other_sexual_orientation"}},
	{"eq_carer", []string{"yes", "no"}},
}

// ContactFields need contact_for_feedback consent.
var ContactFields = []string{"contact_name", "contact_email", "contact_phone"}

// Dynamic field prefixes: one field per answer, one summary per locale.
const (
	AnswerPrefix  = "answer."
	SummaryPrefix = "summary."
)

var fields = map[string]map[string]Field{}

func def(collection string, fs ...Field) {
	m := map[string]Field{}
	for _, f := range fs {
		m[f.Name] = f
	}
	fields[collection] = m
}

func reg(name string, t Type) Field { return Field{Name: name, Shape: Register, Type: t} }
func enum(name string, values ...string) Field {
	return Field{Name: name, Shape: Register, Type: Enum, Values: values}
}

func init() {
	def(Engagement,
		reg("title", String), reg("topic", String), reg("team", String), reg("venue_name", String),
		enum("venue_type", VenueTypes...), reg("area", String), reg("starts_at", Time), reg("ends_at", Time),
		Field{Name: "languages", Shape: Set, Type: Locale},
		reg("prompt_set", Ref), reg("prompt_set_version", Int),
		reg("published", Bool), // its public "You said, we did" page may be shown
	)
	def(PromptSet, reg("name", String), reg("version", Int),
		Field{Name: "prompts", Shape: Register, Type: Array, Check: checkPrompts})

	p := []Field{
		reg("engagement", Ref), reg("preferred_locale", Locale),
		{Name: "communities", Shape: Set, Type: String, Personal: true},
	}
	for _, c := range ContactFields {
		p = append(p, Field{Name: c, Shape: Register, Type: String, Personal: true, Erasable: true})
	}
	for _, q := range EqualityQuestions {
		vals := append(append([]string{}, q.Values...), PreferNotToSay)
		p = append(p, Field{Name: q.Field, Shape: Register, Type: Enum, Values: vals, Personal: true, Erasable: true})
	}
	def(Participant, p...)

	def(Consent,
		reg("participant", Ref), reg("engagement", Ref), reg("statement_id", String),
		reg("statement_version", Int), reg("statement_locale", Locale),
		Field{Name: "scopes", Shape: Set, Type: Enum, Values: ConsentScopes},
		enum("method", ConsentMethods...), reg("interpreter", String), reg("recorded_by", String),
		reg("given_at", Time),
	)
	def(Conversation,
		reg("engagement", Ref), reg("participant", Ref), reg("consent", Ref), reg("group_size", Int),
		Field{Name: "locales", Shape: Set, Type: Locale}, reg("interpreter", String),
		reg("started_at", Time), reg("ended_at", Time),
		Field{Name: "language_switches", Shape: Log, Type: Object, Check: checkLanguageSwitch},
		Field{Name: "notes", Shape: Log, Type: Text, Personal: true},
		Field{Name: "themes", Shape: Set, Type: String},
		enum("review_state", ReviewStates...), reg("review_comment", Text),
	)
	def(Decision,
		reg("title", String), enum("outcome", Outcomes...), reg("reason", Text),
		Field{Name: "themes", Shape: Set, Type: String},
		Field{Name: "conversations", Shape: Set, Type: Ref},
		reg("decided_at", Time), reg("team", String),
		enum("progress", DecisionProgress...), // how far the work on it has got (annual report)
	)
	def(Feedback,
		reg("decision", Ref), reg("participant", Ref), reg("locale", Locale), reg("channel", String),
		enum("status", FeedbackStatuses...), reg("message", Text),
	)
}

// Lookup returns the definition of a field, including the dynamic `answer.<prompt>` and
// `summary.<locale>` fields. ok is false for fields the protocol does not list: those pass
// through untouched.
func Lookup(collection, field string) (Field, bool) {
	m, ok := fields[collection]
	if !ok {
		return Field{}, false
	}
	if f, ok := m[field]; ok {
		return f, true
	}
	switch {
	case collection == Conversation && len(field) > len(AnswerPrefix) && field[:len(AnswerPrefix)] == AnswerPrefix:
		return Field{Name: field, Shape: Register, Type: Object, Personal: true, Check: checkAnswer}, true
	case collection == Decision && len(field) > len(SummaryPrefix) && field[:len(SummaryPrefix)] == SummaryPrefix:
		return Field{Name: field, Shape: Register, Type: Text}, true
	}
	return Field{}, false
}

// Fields lists a collection's static fields, sorted by name.
func Fields(collection string) []Field {
	m := fields[collection]
	out := make([]Field, 0, len(m))
	for _, f := range m {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// IsPersonal reports whether a field holds personal data (never logged; dropped from
// exports without the matching consent).
func IsPersonal(collection, field string) bool {
	f, ok := Lookup(collection, field)
	return ok && f.Personal
}

// ErasedOnWithdrawal reports whether a consent withdrawal erases this participant field.
func ErasedOnWithdrawal(collection, field string) bool {
	f, ok := Lookup(collection, field)
	return ok && f.Erasable
}

// TeamOf names the field through which a record belongs to a team: engagements carry the
// team itself; participants, consents and conversations belong to their engagement's team.
// Other collections belong to the team that first wrote them.
func TeamOf(collection string) (field string, viaEngagement bool) {
	switch collection {
	case Engagement, Decision:
		return "team", false
	case Participant, Consent, Conversation:
		return "engagement", true
	}
	return "", false
}
