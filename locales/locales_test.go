package locales

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"testing"
	"text/template"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// pluralForms are the CLDR cardinal plural categories go-i18n v2.7.0 asks for in each
// supported language (internal/plural/rule_gen.go). TestPluralFormsMatchGoI18n checks this
// table against go-i18n's behaviour, so a go-i18n upgrade that changes a rule fails here.
var pluralForms = map[string][]string{
	"en": {"one", "other"},
	"cy": {"zero", "one", "two", "few", "many", "other"},
	"pl": {"one", "few", "many", "other"},
	"ro": {"one", "few", "other"},
	"pa": {"one", "other"},
	"ur": {"one", "other"},
	"bn": {"one", "other"},
	"gu": {"one", "other"},
	"ar": {"zero", "one", "two", "few", "many", "other"},
	"so": {"one", "other"},
	"pt": {"one", "many", "other"},
}

// countVars may be left out of plural forms other than "other" (Welsh "un", Arabic dual …).
var countVars = map[string]bool{"PluralCount": true, "Count": true}

func forms(m *i18n.Message) map[string]string {
	out := map[string]string{}
	for k, v := range map[string]string{"zero": m.Zero, "one": m.One, "two": m.Two,
		"few": m.Few, "many": m.Many, "other": m.Other} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

func isPlural(m *i18n.Message) bool { return len(forms(m)) > 1 }

var (
	actionRE = regexp.MustCompile(`\{\{.*?\}\}`)
	fieldRE  = regexp.MustCompile(`\.([A-Za-z_][A-Za-z0-9_]*)`)
)

func placeholders(s string) map[string]bool {
	out := map[string]bool{}
	for _, a := range actionRE.FindAllString(s, -1) {
		for _, f := range fieldRE.FindAllStringSubmatch(a, -1) {
			out[f[1]] = true
		}
	}
	return out
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func english(t *testing.T) map[string]*i18n.Message {
	t.Helper()
	en := load().messages["en"]
	if len(en) == 0 {
		t.Fatal("en.toml missing or empty")
	}
	return en
}

func TestLoad(t *testing.T) {
	if err := LoadError(); err != nil {
		t.Fatal(err)
	}
	sup := map[string]bool{}
	for _, s := range Supported {
		sup[s.String()] = true
		if _, ok := pluralForms[s.String()]; !ok {
			t.Errorf("supported language %s has no row in pluralForms", s)
		}
		if _, ok := autonyms[s.String()]; !ok {
			t.Errorf("supported language %s has no autonym", s)
		}
	}
	if Supported[0] != language.English {
		t.Errorf("Supported[0] = %s, want en", Supported[0])
	}
	names, _ := fs.Glob(Files, "*.toml")
	if len(names) != len(Languages()) {
		t.Errorf("%d files, %d loaded", len(names), len(Languages()))
	}
	// Every area folder has a file for every language that has a top-level file.
	areas := map[string]map[string]bool{}
	for _, p := range Paths() {
		if dir := path.Dir(p); dir != "." {
			if areas[dir] == nil {
				areas[dir] = map[string]bool{}
			}
			areas[dir][strings.TrimSuffix(path.Base(p), ".toml")] = true
		}
	}
	for dir, langs := range areas {
		for _, l := range Languages() {
			if !langs[l] {
				t.Errorf("%s/ has no %s.toml", dir, l)
			}
		}
	}
	loaded := map[string]bool{}
	for _, l := range Languages() {
		loaded[l] = true
	}
	for s := range sup {
		if !loaded[s] {
			t.Errorf("supported language %s has no %s.toml", s, s)
		}
	}
	for _, l := range Languages() {
		if !sup[l] {
			t.Errorf("%s.toml: not a Supported language (file names must be the bare tag, e.g. cy.toml)", l)
		}
	}
}

// Ids contain dots; TOML must keep a quoted dotted key as one id, including when one id is
// a prefix of another (a question and its choices).
func TestQuotedDottedIDs(t *testing.T) {
	b := i18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	mf, err := b.ParseMessageFileBytes([]byte(`
["prompt.s.q"]
description = "d"
other = "Question"

["prompt.s.q.choice.a"]
other = "A"
`), "en.toml")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, m := range mf.Messages {
		got[m.ID] = m.Other
	}
	want := map[string]string{"prompt.s.q": "Question", "prompt.s.q.choice.a": "A"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("parsed %v, want %v", got, want)
	}

	// Every top-level key of every file is itself a message, so nobody wrote [a.b] unquoted.
	for _, l := range Paths() {
		var raw map[string]any
		buf, _ := fs.ReadFile(Files, l)
		if _, err := toml.Decode(string(buf), &raw); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		for k, v := range raw {
			tbl, ok := v.(map[string]any)
			if !ok {
				t.Errorf("%s: top-level key %q is not a message table", l, k)
				continue
			}
			if _, ok := tbl["other"].(string); !ok {
				t.Errorf("%s: [%q] has no `other` string (an unquoted dotted id nests instead)", l, k)
			}
		}
	}
}

func TestPluralFormsMatchGoI18n(t *testing.T) {
	var counts []any
	for n := 0; n <= 2000; n++ {
		counts = append(counts, n)
	}
	counts = append(counts, 1000000, 2000000, 1000001, "0.0", "0.5", "1.0", "1.5", "2.5", "10.5", "100.5")
	all := &i18n.Message{ID: "x", Zero: "zero", One: "one", Two: "two", Few: "few", Many: "many", Other: "other"}
	for lang, want := range pluralForms {
		b := i18n.NewBundle(language.English)
		tag := language.Make(lang)
		if err := b.AddMessages(tag, all); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, c := range counts {
			s, got, err := i18n.NewLocalizer(b, lang).LocalizeWithTag(&i18n.LocalizeConfig{MessageID: "x", PluralCount: c})
			if err != nil || got != tag {
				t.Fatalf("%s %v: %q %v %v", lang, c, s, got, err)
			}
			seen[s] = true
		}
		if g, w := keys(seen), append([]string(nil), want...); strings.Join(g, " ") != strings.Join(sortCopy(w), " ") {
			t.Errorf("%s: go-i18n uses forms %v, table says %v", lang, g, want)
		}
	}
}

func sortCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// TestEnglish checks the source file: every message explained, plural messages with exactly
// English's forms, and every form of one message using the same placeholders.
func TestEnglish(t *testing.T) {
	en := english(t)
	for _, id := range []string{"feedback.you_said", "cli.question_progress",
		"cli.conversation_saved", "cli.sync_received", "cli.status_pending"} {
		if m := en[id]; m == nil || !isPlural(m) {
			t.Errorf("%s: should be a plural message", id)
		}
	}
	for id, m := range en {
		if strings.TrimSpace(m.Description) == "" {
			t.Errorf("%s: no description for translators", id)
		}
		if strings.TrimSpace(m.Other) == "" {
			t.Errorf("%s: empty", id)
		}
		if isPlural(m) {
			checkForms(t, "en", id, m)
		}
	}
}

func checkForms(t *testing.T, lang, id string, m *i18n.Message) {
	t.Helper()
	var got []string
	for f := range forms(m) {
		got = append(got, f)
	}
	sort.Strings(got)
	if w := sortCopy(pluralForms[lang]); strings.Join(got, " ") != strings.Join(w, " ") {
		t.Errorf("%s %s: plural forms %v, want exactly %v", lang, id, got, w)
	}
}

// TestTranslations checks every file other than English against it.
func TestTranslations(t *testing.T) {
	en := english(t)
	for _, lang := range Languages() {
		if lang == "en" {
			continue
		}
		msgs := load().messages[lang]
		t.Run(lang, func(t *testing.T) {
			for id, em := range en {
				m, ok := msgs[id]
				if !ok {
					t.Errorf("missing %s", id)
					continue
				}
				if isPlural(em) {
					checkForms(t, lang, id, m)
				} else if fs := forms(m); len(fs) != 1 || fs["other"] == "" {
					t.Errorf("%s: not a plural message, give only `other`", id)
				}
				checkPlaceholders(t, lang, id, em, m)
			}
			for id := range msgs {
				if _, ok := en[id]; !ok {
					t.Errorf("%s: not in en.toml (renamed or removed?)", id)
				}
			}
			if d, _ := Localize(lang, "language.direction", nil); d != Direction(lang) {
				t.Errorf("language.direction = %q, Direction(%s) = %q", d, lang, Direction(lang))
			}
		})
	}
}

func checkPlaceholders(t *testing.T, lang, id string, em, m *i18n.Message) {
	t.Helper()
	want := map[string]bool{}
	for _, s := range forms(em) {
		for p := range placeholders(s) {
			want[p] = true
		}
	}
	for f, s := range forms(m) {
		got := placeholders(s)
		for p := range got {
			if !want[p] {
				t.Errorf("%s %s [%s]: unknown placeholder {{.%s}} (English has %v)", lang, id, f, p, keys(want))
			}
		}
		for p := range want {
			if !got[p] && !(f != "other" && countVars[p]) {
				t.Errorf("%s %s [%s]: placeholder {{.%s}} missing", lang, id, f, p)
			}
		}
	}
}

// TestPlaceholdersEnglish runs the same rule inside English (one vs other).
func TestPlaceholdersEnglish(t *testing.T) {
	for id, m := range english(t) {
		checkPlaceholders(t, "en", id, m, m)
		other := placeholders(m.Other)
		for f, s := range forms(m) {
			for p := range other {
				if !placeholders(s)[p] && !countVars[p] {
					t.Errorf("en %s [%s]: lacks {{.%s}}", id, f, p)
				}
			}
		}
	}
}

// Every form of every message in every file is a valid template that renders with its
// placeholders filled and leaves none unfilled.
func TestTemplatesRender(t *testing.T) {
	for _, lang := range Languages() {
		for id, m := range load().messages[lang] {
			for f, s := range forms(m) {
				data := map[string]any{}
				for p := range placeholders(s) {
					data[p] = "X"
				}
				tmpl, err := template.New(id).Option("missingkey=error").Parse(s)
				if err != nil {
					t.Errorf("%s %s [%s]: %v", lang, id, f, err)
					continue
				}
				var sb strings.Builder
				if err := tmpl.Execute(&sb, data); err != nil {
					t.Errorf("%s %s [%s]: %v", lang, id, f, err)
				}
			}
		}
	}
}

func TestMatch(t *testing.T) {
	for in, want := range map[string]string{
		"cy-GB":                   "cy",
		"pa-Guru-IN":              "pa",
		"fr":                      "en",
		"garbage!!":               "en",
		"":                        "en",
		"en-US":                   "en",
		"ur-PK":                   "ur",
		"ar-EG":                   "ar",
		"pt-BR":                   "pt",
		"pt-PT":                   "pt",
		"bn-BD":                   "bn",
		"so-SO":                   "so",
		"fr-FR,pl;q=0.8,en;q=0.5": "pl",
		"de, ro;q=0.3":            "ro",
		"*":                       "en",
	} {
		if got := Match(in); got.String() != want {
			t.Errorf("Match(%q) = %s, want %s", in, got, want)
		}
	}
	if got := Match("fr", "gu-IN"); got.String() != "gu" {
		t.Errorf(`Match("fr", "gu-IN") = %s, want gu`, got)
	}
	if got := Match(); got != language.English {
		t.Errorf("Match() = %s", got)
	}
}

func TestDirectionAndName(t *testing.T) {
	for _, s := range Supported {
		l := s.String()
		want := l == "ar" || l == "ur"
		if IsRTL(l) != want {
			t.Errorf("IsRTL(%s) = %v", l, !want)
		}
		if d := Direction(l); (d == "rtl") != want || (d != "rtl" && d != "ltr") {
			t.Errorf("Direction(%s) = %q", l, d)
		}
		// Our built-in autonyms agree with CLDR's.
		if got, cldr := autonyms[l], display.Self.Name(s); !strings.EqualFold(got, cldr) {
			t.Errorf("autonym %s = %q, CLDR says %q", l, got, cldr)
		}
		if Name(l) == "" {
			t.Errorf("Name(%s) empty", l)
		}
	}
	if !IsRTL("ar-SA,en;q=0.1") || IsRTL("fr") {
		t.Error("IsRTL on headers")
	}
	if Name("en-GB") != "English" {
		t.Errorf("Name(en-GB) = %q", Name("en-GB"))
	}
	if Name("ur") != "اردو" {
		t.Errorf("Name(ur) = %q", Name("ur"))
	}
}

func TestLocalize(t *testing.T) {
	// Test-only messages: one only in Welsh, one only in English.
	b := Bundle()
	if err := b.AddMessages(language.Make("cy"), &i18n.Message{ID: "test.welsh", Other: "Croeso {{.Name}}"}); err != nil {
		t.Fatal(err)
	}
	if err := b.AddMessages(language.English,
		&i18n.Message{ID: "test.welsh", Other: "Welcome {{.Name}}"},
		&i18n.Message{ID: "test.english_only", Other: "Only English"},
		&i18n.Message{ID: "test.broken", Other: "{{.Name"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		lang, id string
		want     string
		fellBack bool
	}{
		{"cy", "test.welsh", "Croeso Ann", false},
		{"cy-GB,cy;q=0.9,en;q=0.5", "test.welsh", "Croeso Ann", false},
		{"en", "test.welsh", "Welcome Ann", false},
		{"cy", "test.english_only", "Only English", true},
		{"ar", "test.english_only", "Only English", true}, // no ar file, or no such message in it
		{"fr", "test.welsh", "Welcome Ann", true},         // a language we don't offer
		{"", "test.welsh", "Welcome Ann", false},          // no preference
		{"en", "error.not_found", "We could not find what you asked for. It may have been deleted.", false},
		{"cy", "no.such.message", "no.such.message", true},
		{"en", "test.broken", "test.broken", true},
	} {
		got, fb := Localize(c.lang, c.id, map[string]any{"Name": "Ann"})
		if got != c.want || fb != c.fellBack {
			t.Errorf("Localize(%q, %q) = %q, %v; want %q, %v", c.lang, c.id, got, fb, c.want, c.fellBack)
		}
	}
	got, fb := Localize("en", "error.consent_scope_missing", map[string]any{"Scope": mustEN(t, ScopeNameID("quote"))})
	if want := "This person has not agreed to have their words used in reports. Ask them first, or leave this out."; got != want || fb {
		t.Errorf("consent_scope_missing = %q, %v", got, fb)
	}
}

func mustEN(t *testing.T, id string) string {
	t.Helper()
	s, fb := Localize("en", id, nil)
	if fb {
		t.Fatalf("%s: no English message", id)
	}
	return s
}

func TestLocalizePlural(t *testing.T) {
	for _, c := range []struct {
		id   string
		n    int
		data map[string]any
		want string
	}{
		{"feedback.you_said", 1, map[string]any{"Themes": "transport"}, "You and 1 other person told us about transport."},
		{"feedback.you_said", 4, map[string]any{"Themes": "transport"}, "You and 4 other people told us about transport."},
		{"cli.conversation_saved", 1, nil, "Conversation saved with 1 answer."},
		{"cli.conversation_saved", 8, nil, "Conversation saved with 8 answers."},
		{"cli.sync_received", 0, nil, "Received 0 changes."},
		{"cli.status_pending", 1, nil, "1 change waiting to be sent"},
		{"cli.question_progress", 8, map[string]any{"Number": 3}, "Question 3 of 8"},
	} {
		got, fb := LocalizePlural("en-GB", c.id, c.n, c.data)
		if got != c.want || fb {
			t.Errorf("LocalizePlural(%s, %d) = %q, %v; want %q", c.id, c.n, got, fb, c.want)
		}
	}
	// The caller's map is not changed.
	data := map[string]any{"Themes": "x"}
	LocalizePlural("en", "feedback.you_said", 2, data)
	if len(data) != 1 {
		t.Errorf("LocalizePlural changed its data: %v", data)
	}
	if got, fb := LocalizePlural("pl", "no.such", 2, nil); got != "no.such" || !fb {
		t.Errorf("missing plural = %q, %v", got, fb)
	}
}

func TestCoverage(t *testing.T) {
	cov := Coverage()
	if cov["en"] != 1.0 {
		t.Errorf("Coverage[en] = %v", cov["en"])
	}
	for _, l := range Languages() {
		if v, ok := cov[l]; !ok || v < 0 || v > 1 {
			t.Errorf("Coverage[%s] = %v, %v", l, v, ok)
		}
	}
	if len(cov) != len(Languages()) {
		t.Errorf("Coverage has %d languages, %d files", len(cov), len(Languages()))
	}
}

func TestPromptSets(t *testing.T) {
	sets := BuiltinPromptSets()
	if len(sets) != 1 {
		t.Fatalf("%d sets", len(sets))
	}
	s, ok := BuiltinPromptSet(CommunityConversation)
	if !ok || s.Version != 1 || len(s.Prompts) != 8 {
		t.Fatalf("community_conversation: %v %+v", ok, s)
	}
	if _, ok := BuiltinPromptSet("nope"); ok {
		t.Error("unknown set found")
	}
	kinds := map[string]bool{KindText: true, KindSingleChoice: true, KindMultiChoice: true, KindScale: true, KindYesNo: true}
	for _, set := range sets {
		mustEN(t, set.NameID())
		seen := map[string]bool{}
		for _, p := range set.Prompts {
			if seen[p.ID] {
				t.Errorf("duplicate prompt %s", p.ID)
			}
			seen[p.ID] = true
			if !kinds[p.Kind] {
				t.Errorf("%s: kind %q", p.ID, p.Kind)
			}
			if (p.Kind == KindText) != (len(p.Choices) == 0) {
				t.Errorf("%s: kind %s with %d choices", p.ID, p.Kind, len(p.Choices))
			}
			if p.Kind == KindYesNo && fmt.Sprint(p.Choices) != "[yes no]" {
				t.Errorf("%s: yes_no choices %v", p.ID, p.Choices)
			}
			if p.Kind == KindScale && fmt.Sprint(p.Choices) != "[1 2 3 4 5]" {
				t.Errorf("%s: scale choices %v", p.ID, p.Choices)
			}
			mustEN(t, PromptMessageID(set.ID, p.ID))
			for _, c := range p.Choices {
				mustEN(t, ChoiceMessageID(set.ID, p.ID, c))
			}
		}
	}
	// Callers get copies.
	s.Prompts[0].Choices[0] = "changed"
	if again, _ := BuiltinPromptSet(CommunityConversation); again.Prompts[0].Choices[0] != "gp" {
		t.Error("BuiltinPromptSet returned shared slices")
	}
}

func TestConsent(t *testing.T) {
	for _, c := range BuiltinConsentStatements() {
		if c.ID != StandardConsent || c.Version != 1 {
			t.Errorf("statement %+v", c)
		}
		mustEN(t, c.TitleID())
		body := mustEN(t, c.BodyID())
		for _, must := range []string{"NHS", "up to you", "stop at any time", "do not need your name", "change your mind"} {
			if !strings.Contains(body, must) {
				t.Errorf("consent body does not say %q", must)
			}
		}
	}
	for _, s := range ConsentScopes {
		mustEN(t, ScopeMessageID(s))
		mustEN(t, ScopeNameID(s))
	}
	for _, m := range ConsentMethods {
		mustEN(t, MethodMessageID(m))
	}
	mustEN(t, "consent.question")
	mustEN(t, "consent.withdraw_explainer")
}

func TestEquality(t *testing.T) {
	qs := EqualityQuestions()
	var fields []string
	for _, q := range qs {
		fields = append(fields, q.Field)
		mustEN(t, q.QuestionID())
		if q.Values[len(q.Values)-1] != PreferNotToSay {
			t.Errorf("%s: prefer_not_to_say is not last", q.Field)
		}
		for _, v := range q.Values {
			mustEN(t, q.ValueID(v))
		}
		if q.Field == "eq_ethnicity" {
			if len(q.Values) != 20 {
				t.Errorf("ethnicity: %d values, want 19 + prefer_not_to_say", len(q.Values))
			}
			for _, v := range q.Values[:len(q.Values)-1] {
				ok := false
				for _, g := range EthnicGroups {
					ok = ok || strings.HasPrefix(v, g+"_")
				}
				if !ok {
					t.Errorf("ethnicity %s has no group", v)
				}
			}
		}
	}
	if got := strings.Join(fields, " "); got != "eq_age_band eq_ethnicity eq_sex eq_gender_identity_same_as_birth eq_disability eq_religion eq_sexual_orientation eq_carer" {
		t.Errorf("order: %s", got)
	}
	for _, g := range EthnicGroups {
		mustEN(t, EthnicGroupMessageID(g))
	}
	mustEN(t, "equality.intro")
	qs[0].Values[0] = "changed"
	if EqualityQuestions()[0].Values[0] != "under_16" {
		t.Error("EqualityQuestions returned shared slices")
	}
}

// errorCodes are the stable error codes (PROTOCOL.md and the brief); each needs a message.
var errorCodes = []string{"malformed_json", "body_too_large", "unsupported_media_type",
	"invalid_field", "invalid_type", "invalid_enum", "required", "unknown_collection",
	"invalid_kind", "invalid_op", "invalid_record_id", "invalid_node", "not_own_node",
	"out_of_scope", "record_erased", "consent_withdrawn", "consent_scope_missing",
	"consent_required", "unauthorized", "invalid_token", "token_expired", "device_revoked",
	"forbidden", "not_found", "invalid_credentials", "enrolment_code_invalid",
	"enrolment_code_used", "enrolment_code_expired", "refresh_token_invalid",
	"refresh_token_reused", "rate_limited", "conflict", "invalid_query", "invalid_cursor",
	"team_required", "unknown_team", "email_taken", "weak_password", "internal",
	"store_unavailable", "clock_skew", "sync_failed", "not_enrolled", "offline"}

func TestErrorsVenuesFeedbackCLI(t *testing.T) {
	for _, c := range errorCodes {
		mustEN(t, ErrorMessageID(c))
	}
	for _, v := range VenueTypes {
		mustEN(t, VenueTypeMessageID(v))
	}
	for _, id := range []string{"feedback.subject", "feedback.greeting", "feedback.intro",
		"feedback.you_said", "feedback.you_said_alone", "feedback.outcome.changed",
		"feedback.outcome.not_changed", "feedback.outcome.in_progress", "feedback.closing",
		"feedback.fallback_note", "language.name", "language.direction"} {
		mustEN(t, id)
	}
	n := 0
	for _, id := range MessageIDs("en") {
		if strings.HasPrefix(id, "cli.") {
			n++
		}
	}
	if n < 40 {
		t.Errorf("%d cli.* messages, want at least 40", n)
	}
	if MessageIDs("xx") != nil || !Has("en", "cli.saved") || Has("en", "cli.nope") {
		t.Error("MessageIDs/Has")
	}
}
