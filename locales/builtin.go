package locales

// The built-in prompt set, consent statement and equality questions. Their texts are the
// messages named by the *ID helpers below; the structures here are what a device stores
// (ids and kinds), the words come from the message files in the language of the moment.

// Prompt kinds.
const (
	KindText         = "text"
	KindSingleChoice = "single_choice"
	KindMultiChoice  = "multi_choice"
	KindScale        = "scale"
	KindYesNo        = "yes_no"
)

// PreferNotToSay is the answer every equality question allows.
const PreferNotToSay = "prefer_not_to_say"

// Prompt is one question of a prompt set. Choices are choice ids (empty for text prompts).
type Prompt struct {
	ID      string
	Kind    string
	Choices []string
}

// PromptSet is a versioned, ordered list of prompts.
type PromptSet struct {
	ID      string
	Version int
	Prompts []Prompt
}

// NameID is the message ID of the set's name.
func (s PromptSet) NameID() string { return "promptset." + s.ID + ".name" }

// PromptMessageID is the message ID of a prompt's question.
func PromptMessageID(setID, promptID string) string {
	return "prompt." + setID + "." + promptID
}

// ChoiceMessageID is the message ID of one choice's label.
func ChoiceMessageID(setID, promptID, choiceID string) string {
	return "prompt." + setID + "." + promptID + ".choice." + choiceID
}

// CommunityConversation is the id of the built-in prompt set.
const CommunityConversation = "community_conversation"

func builtinPromptSets() []PromptSet {
	return []PromptSet{{
		ID:      CommunityConversation,
		Version: 1,
		Prompts: []Prompt{
			{"services_used", KindMultiChoice, []string{"gp", "pharmacy", "hospital", "dentist",
				"mental_health", "maternity", "a_and_e", "nhs_111", "none", "other"}},
			{"what_works", KindText, nil},
			{"what_could_be_better", KindText, nil},
			{"barriers", KindMultiChoice, []string{"language", "transport", "opening_hours",
				"booking_appointments", "cost", "feeling_not_listened_to", "discrimination",
				"digital_access", "childcare_or_caring", "none", "other"}},
			{"gp_access_rating", KindScale, []string{"1", "2", "3", "4", "5"}},
			{"needed_interpreter", KindYesNo, []string{"yes", "no"}},
			{"hear_back_preference", KindSingleChoice, []string{"text_message", "email",
				"phone_call", "letter", "community_venue", "not_needed"}},
			{"anything_else", KindText, nil},
		},
	}}
}

// BuiltinPromptSets returns the prompt sets shipped with Fieldnotes (a fresh copy each call).
func BuiltinPromptSets() []PromptSet { return builtinPromptSets() }

// BuiltinPromptSet returns the built-in prompt set with this id.
func BuiltinPromptSet(id string) (PromptSet, bool) {
	for _, s := range builtinPromptSets() {
		if s.ID == id {
			return s, true
		}
	}
	return PromptSet{}, false
}

// ConsentStatement identifies a consent statement; its words are the messages TitleID and
// BodyID, and one line per scope from ScopeMessageID.
type ConsentStatement struct {
	ID      string
	Version int
}

// TitleID is the message ID of the statement's heading.
func (c ConsentStatement) TitleID() string { return "consent." + c.ID + ".title" }

// BodyID is the message ID of the statement read to the person.
func (c ConsentStatement) BodyID() string { return "consent." + c.ID + ".body" }

// StandardConsent is the id of the built-in consent statement.
const StandardConsent = "fieldnotes_standard"

// BuiltinConsentStatements returns the consent statements shipped with Fieldnotes.
func BuiltinConsentStatements() []ConsentStatement {
	return []ConsentStatement{{ID: StandardConsent, Version: 1}}
}

// ConsentScopes are the things a person can agree to, in the order they are asked.
var ConsentScopes = []string{"record_views", "quote", "contact_for_feedback",
	"share_with_partners", "equality_monitoring"}

// ConsentMethods are the ways consent can be given.
var ConsentMethods = []string{"verbal", "written", "interpreter"}

// ScopeMessageID is the message ID of the line "You agree that …" for a consent scope.
func ScopeMessageID(scope string) string { return "consent.scope." + scope }

// ScopeNameID is the message ID of a scope's short name, used to fill {{.Scope}} in
// error.consent_scope_missing.
func ScopeNameID(scope string) string { return "scope.name." + scope }

// MethodMessageID is the message ID of a consent method's label.
func MethodMessageID(method string) string { return "consent.method." + method }

// VenueTypes are the kinds of venue; labels are "venue_type.<t>".
var VenueTypes = []string{"cafe", "place_of_worship", "community_centre", "market", "school",
	"library", "barber_or_salon", "festival", "other"}

// VenueTypeMessageID is the message ID of a venue type's label.
func VenueTypeMessageID(t string) string { return "venue_type." + t }

// ErrorMessageID is the message ID for a stable error code.
func ErrorMessageID(code string) string { return "error." + code }

// EqualityQuestion is one equality-monitoring question (Census 2021 based): the participant
// field it fills and its answer values, PreferNotToSay last.
type EqualityQuestion struct {
	Field  string
	Values []string
}

// QuestionID is the message ID of the question.
func (q EqualityQuestion) QuestionID() string { return "equality." + q.Field + ".question" }

// ValueID is the message ID of one answer's label.
func (q EqualityQuestion) ValueID(value string) string { return "equality." + q.Field + "." + value }

// EthnicGroups are the five Census 2021 groups the ethnicity categories roll up to; their
// labels are "equality.eq_ethnicity.group.<g>", and each category id starts with "<g>_".
var EthnicGroups = []string{"asian", "black", "mixed", "white", "other"}

// EthnicGroupMessageID is the message ID of an ethnic group's heading.
func EthnicGroupMessageID(group string) string { return "equality.eq_ethnicity.group." + group }

// EqualityQuestions returns the equality-monitoring questions in the protocol's order.
func EqualityQuestions() []EqualityQuestion {
	qs := []EqualityQuestion{
		{"eq_age_band", []string{"under_16", "16_24", "25_34", "35_44", "45_54", "55_64",
			"65_74", "75_plus"}},
		{"eq_ethnicity", []string{"asian_bangladeshi", "asian_chinese", "asian_indian",
			"asian_pakistani", "asian_other", "black_african", "black_caribbean", "black_other",
			"mixed_white_and_asian", "mixed_white_and_black_african",
			"mixed_white_and_black_caribbean", "mixed_other", "white_british", "white_irish",
			"white_gypsy_or_irish_traveller", "white_roma", "white_other", "other_arab",
			"other_any_other"}},
		{"eq_sex", []string{"female", "male"}},
		{"eq_gender_identity_same_as_birth", []string{"yes", "no"}},
		{"eq_disability", []string{"yes_limited_a_lot", "yes_limited_a_little", "no"}},
		{"eq_religion", []string{"no_religion", "christian", "buddhist", "hindu", "jewish",
			"muslim", "sikh", "other_religion"}},
		{"eq_sexual_orientation", []string{"straight_or_heterosexual", "gay_or_lesbian",
			"bisexual", "other_sexual_orientation"}},
		{"eq_carer", []string{"yes", "no"}},
	}
	for i := range qs {
		qs[i].Values = append(qs[i].Values, PreferNotToSay)
	}
	return qs
}
