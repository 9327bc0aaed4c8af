package schema

import (
	"testing"
)

func TestValidateChange(t *testing.T) {
	answer := func(m map[string]any) map[string]any { return m }
	tests := []struct {
		name              string
		coll, kind, field string
		value             any
		wantCode          string
		wantField         string
	}{
		{"OK", Engagement, KindSet, "venue_type", "place_of_worship", "", ""},
		{"OKClearField", Engagement, KindSet, "venue_type", nil, "", ""},
		{"ErrUnknownVenueType", Engagement, KindSet, "venue_type", "spaceship", CodeInvalidEnum, "venue_type"},
		{"ErrVenueTypeNotString", Engagement, KindSet, "venue_type", 3.0, CodeInvalidType, "venue_type"},
		{"ErrAddToRegister", Engagement, KindAdd, "title", "x", CodeInvalidKind, "title"},
		{"ErrSetOnSet", Consent, KindSet, "scopes", "quote", CodeInvalidKind, "scopes"},
		{"OKScope", Consent, KindAdd, "scopes", "equality_monitoring", "", ""},
		{"ErrUnknownScope", Consent, KindAdd, "scopes", "sell_to_advertisers", CodeInvalidEnum, "scopes"},
		{"ErrUnknownMethod", Consent, KindSet, "method", "telepathy", CodeInvalidEnum, "method"},
		{"OKPreferNotToSay", Participant, KindSet, "eq_ethnicity", "prefer_not_to_say", "", ""},
		{"OKCensusCategory", Participant, KindSet, "eq_ethnicity", "white_gypsy_or_irish_traveller", "", ""},
		{"ErrNotACensusCategory", Participant, KindSet, "eq_ethnicity", "martian", CodeInvalidEnum, "eq_ethnicity"},
		{"ErrAgeBand", Participant, KindSet, "eq_age_band", "16-24", CodeInvalidEnum, "eq_age_band"},
		{"ErrLocale", Participant, KindSet, "preferred_locale", "not a tag", CodeInvalidField, "preferred_locale"},
		{"OKLocale", Participant, KindSet, "preferred_locale", "pa-Guru-IN", "", ""},
		{"ErrGroupSizeFraction", Conversation, KindSet, "group_size", 2.5, CodeInvalidType, "group_size"},
		{"ErrGroupSizeNegative", Conversation, KindSet, "group_size", -1.0, CodeInvalidField, "group_size"},
		{"OKAnswer", Conversation, KindSet, "answer.what_works", answer(map[string]any{"text": "ok", "prompt_locale": "ur", "answer_locale": "ur"}), "", ""},
		{"OKChoiceAnswer", Conversation, KindSet, "answer.barriers", answer(map[string]any{"choice": []any{"transport", "cost"}, "prompt_locale": "pl", "answer_locale": "pl"}), "", ""},
		{"ErrAnswerNoText", Conversation, KindSet, "answer.what_works", answer(map[string]any{"prompt_locale": "ur", "answer_locale": "ur"}), CodeRequired, "text"},
		{"ErrAnswerNoLocale", Conversation, KindSet, "answer.what_works", answer(map[string]any{"text": "ok", "prompt_locale": "ur"}), CodeRequired, "answer_locale"},
		{"ErrAnswerNotObject", Conversation, KindSet, "answer.what_works", "ok", CodeInvalidType, "answer.what_works"},
		{"ErrSwitchNoTo", Conversation, KindAppend, "language_switches", map[string]any{"at_prompt": "q1", "from": "pa"}, CodeInvalidField, "to"},
		{"ErrWithdrawConversation", Conversation, KindWithdraw, "", nil, CodeInvalidKind, "kind"},
		{"OKWithdrawConsent", Consent, KindWithdraw, "", nil, "", ""},
		{"OKReviewState", Conversation, KindSet, "review_state", "has_issues", "", ""},
		{"ErrReviewState", Conversation, KindSet, "review_state", "looks_fine", CodeInvalidEnum, "review_state"},
		{"OKReviewComment", Conversation, KindSet, "review_comment", "Question 2 is cut off", "", ""},
		{"OKPublished", Engagement, KindSet, "published", true, "", ""},
		{"ErrPublishedString", Engagement, KindSet, "published", "yes", CodeInvalidType, "published"},
		{"ErrUnknownKind", Consent, "upsert", "x", "y", CodeInvalidKind, "kind"},
		{"ErrFieldName", Conversation, KindSet, "Bad Field", "x", CodeInvalidField, "field"},
		{"ErrDeleteWithField", Conversation, KindDelete, "notes", nil, CodeInvalidField, "field"},
		{"OKUnknownFieldAnyValue", Conversation, KindSet, "added_in_v9", map[string]any{"x": 1.0}, "", ""},
		{"OKUnknownCollection", "survey_photo", KindAdd, "tags", "noticeboard", "", ""},
		{"ErrOutcome", Decision, KindSet, "outcome", "maybe", CodeInvalidEnum, "outcome"},
		{"OKSummaryLocale", Decision, KindSet, "summary.cy", "Rydym wedi newid yr oriau agor", "", ""},
		{"ErrFeedbackStatus", Feedback, KindSet, "status", "lost", CodeInvalidEnum, "status"},
		{"ErrPromptKind", PromptSet, KindSet, "prompts", []any{map[string]any{"id": "q1", "kind": "essay"}}, CodeInvalidEnum, "prompts[0].kind"},
		{"ErrPromptDuplicateID", PromptSet, KindSet, "prompts", []any{map[string]any{"id": "q1", "kind": "text"}, map[string]any{"id": "q1", "kind": "text"}}, CodeInvalidField, "prompts[1].id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateChange(tt.coll, tt.kind, tt.field, tt.value, tt.value != nil || tt.kind == KindSet)
			switch {
			case tt.wantCode == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.wantCode != "" && err == nil:
				t.Fatalf("want %s, got nil", tt.wantCode)
			case err != nil && (err.Code != tt.wantCode || err.Field != tt.wantField):
				t.Fatalf("got %s on %q (%s), want %s on %q", err.Code, err.Field, err.Message, tt.wantCode, tt.wantField)
			}
		})
	}
}

func TestEveryEqualityQuestionAllowsPreferNotToSay(t *testing.T) {
	for _, q := range EqualityQuestions {
		f, ok := Lookup(Participant, q.Field)
		if !ok || !f.Erasable || !f.Personal {
			t.Fatalf("%s: known=%v erasable=%v personal=%v", q.Field, ok, f.Erasable, f.Personal)
		}
		if err := ValidateChange(Participant, KindSet, q.Field, PreferNotToSay, true); err != nil {
			t.Errorf("%s: %v", q.Field, err)
		}
	}
	if len(Ethnicities) != 19 {
		t.Fatalf("Census 2021 has 19 ethnic categories, got %d", len(Ethnicities))
	}
	for _, e := range Ethnicities {
		if EthnicGroup(e) == "" {
			t.Errorf("%s rolls up to no group", e)
		}
	}
}

func TestValidRecordID(t *testing.T) {
	for id, want := range map[string]bool{
		"0193a4d0-0000-7000-8000-000000000001": true,
		"0193A4D0-0000-7000-8000-00000000000F": true,
		"0193a4d0-0000-7000-8000-00000000000":  false,
		"0193a4d0x0000-7000-8000-000000000001": false,
		"0193a4d0-0000-7000-8000-00000000000g": false,
		"":                                     false,
	} {
		if got := ValidRecordID(id); got != want {
			t.Errorf("ValidRecordID(%q) = %v", id, got)
		}
	}
}

func TestMigrationsInOrder(t *testing.T) {
	ms := Migrations()
	if len(ms) == 0 || ms[0].Name != "0001_replica.sql" {
		t.Fatalf("migrations = %+v", ms)
	}
}
