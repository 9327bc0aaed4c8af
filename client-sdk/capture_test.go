package sdk

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

const (
	testTeam = "team-a"
	testNode = "0193a4c2-0000-7000-8000-00000000d001"
	t0       = 1_763_812_800_000
)

// steppingClock returns a wall clock that moves 1 ms per reading from start.
func steppingClock(start int64) func() time.Time {
	var mu = make(chan struct{}, 1)
	t := start
	return func() time.Time {
		mu <- struct{}{}
		t++
		v := t
		<-mu
		return time.UnixMilli(v)
	}
}

// MustOpenDevice opens a device in a temp dir with a local identity (no server).
func MustOpenDevice(tb testing.TB, opts ...Option) *Device {
	tb.Helper()
	d, err := Open(tb.TempDir(), append([]Option{WithClock(steppingClock(t0))}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	if err := d.SetLocalIdentity(context.Background(), testNode, testTeam); err != nil {
		tb.Fatal(err)
	}
	return d
}

func must[T any](tb testing.TB) func(T, error) T {
	return func(v T, err error) T {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		return v
	}
}

func mustEngagement(tb testing.TB, d *Device) string {
	tb.Helper()
	return must[string](tb)(d.StartEngagement(context.Background(), EngagementInput{
		Title: "Market day", VenueName: "Green Street market", VenueType: "market", Area: "E13",
		Languages: []string{"en", "pa", "ur"},
	}))
}

func mustConsent(tb testing.TB, d *Device, eng string, scopes ...string) ConsentRef {
	tb.Helper()
	return must[ConsentRef](tb)(d.RecordConsent(context.Background(), ConsentInput{
		Engagement: eng, StatementLocale: "pa", Scopes: scopes, Method: "interpreter",
		Interpreter: "Amrit", RecordedBy: "worker-1",
	}))
}

var allScopes = schema.ConsentScopes

func wantCode(tb testing.TB, err error, code, scope string) {
	tb.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != code || e.Scope != scope {
		tb.Fatalf("err = %v, want %s (scope %q)", err, code, scope)
	}
}

func TestCapture(t *testing.T) {
	ctx := context.Background()
	d := MustOpenDevice(t)
	eng := mustEngagement(t, d)

	t.Run("Engagement", func(t *testing.T) {
		e := must[Engagement](t)(d.Engagement(ctx, eng))
		if e.Team != testTeam || e.VenueType != "market" || e.PromptSet != "community_conversation" || e.PromptSetVersion != 1 || len(e.Languages) != 3 {
			t.Fatalf("engagement = %+v", e)
		}
	})

	c := mustConsent(t, d, eng, allScopes...)
	t.Run("Consent", func(t *testing.T) {
		got := must[Consent](t)(d.Consent(ctx, c.ID))
		if got.Participant != c.Participant || got.StatementID != "fieldnotes_standard" || got.StatementVersion != 1 ||
			got.StatementLocale != "pa" || got.Method != "interpreter" || got.Interpreter != "Amrit" || got.RecordedBy != "worker-1" ||
			len(got.Scopes) != 5 || got.GivenAt == 0 {
			t.Fatalf("consent = %+v", got)
		}
		p := must[Participant](t)(d.Participant(ctx, c.Participant))
		if p.Engagement != eng || p.PreferredLocale != "pa" {
			t.Fatalf("participant = %+v", p)
		}
	})

	conv := must[string](t)(d.StartConversation(ctx, ConversationInput{Consent: c.ID, Locales: []string{"pa"}, Interpreter: "Amrit"}))
	t.Run("Conversation", func(t *testing.T) {
		steps := []error{
			d.Answer(ctx, conv, AnswerInput{PromptID: "what_works", Text: "ਡਾਕਟਰ ਚੰਗੇ ਹਨ", PromptLocale: "pa", TranslationEN: "The doctors are good"}),
			d.Answer(ctx, conv, AnswerInput{PromptID: "services_used", Choices: []string{"gp"}, Multi: true, PromptLocale: "pa"}),
			d.SwitchLanguage(ctx, conv, "barriers", "pa", "en"),
			d.Answer(ctx, conv, AnswerInput{PromptID: "barriers", Choices: []string{"language", "transport"}, Multi: true, PromptLocale: "en", AnswerLocale: "pa"}),
			d.Answer(ctx, conv, AnswerInput{PromptID: "needed_interpreter", Choices: []string{"yes"}, PromptLocale: "en"}),
			d.AddNote(ctx, conv, "Busy stall, short answers"),
			d.AddTheme(ctx, conv, "transport"),
			d.AddTheme(ctx, conv, "language"),
			d.RemoveTheme(ctx, conv, "transport"),
			d.EndConversation(ctx, conv, 0),
		}
		for i, err := range steps {
			if err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
		got := must[Conversation](t)(d.Conversation(ctx, conv))
		if got.Participant != c.Participant || got.Consent != c.ID || got.Engagement != eng || got.EndedAt == 0 || got.StartedAt == 0 {
			t.Fatalf("conversation = %+v", got)
		}
		if a, _ := got.Answer("what_works"); a.PromptLocale != "pa" || a.AnswerLocale != "pa" || a.TranslationEN != "The doctors are good" || a.Text != "ਡਾਕਟਰ ਚੰਗੇ ਹਨ" {
			t.Fatalf("what_works = %+v", a)
		}
		if a, _ := got.Answer("barriers"); a.PromptLocale != "en" || a.AnswerLocale != "pa" || !slices.Equal(a.Choices, []string{"language", "transport"}) {
			t.Fatalf("barriers = %+v", a)
		}
		if a, _ := got.Answer("needed_interpreter"); !slices.Equal(a.Choices, []string{"yes"}) {
			t.Fatalf("needed_interpreter = %+v", a)
		}
		if len(got.LanguageSwitches) != 1 || got.LanguageSwitches[0].AtPrompt != "barriers" || got.LanguageSwitches[0].From != "pa" || got.LanguageSwitches[0].To != "en" {
			t.Fatalf("switches = %+v", got.LanguageSwitches)
		}
		if !slices.Equal(got.Locales, []string{"en", "pa"}) || !slices.Equal(got.Themes, []string{"language"}) || !slices.Equal(got.Notes, []string{"Busy stall, short answers"}) {
			t.Fatalf("locales %v themes %v notes %v", got.Locales, got.Themes, got.Notes)
		}
	})

	t.Run("ContactAndEquality", func(t *testing.T) {
		if err := d.SetContact(ctx, c.ID, Contact{Name: "A.", Phone: "07700 900123"}); err != nil {
			t.Fatal(err)
		}
		if err := d.SetEquality(ctx, c.ID, "eq_age_band", "35_44"); err != nil {
			t.Fatal(err)
		}
		if err := d.SetEquality(ctx, c.ID, "eq_religion", "prefer_not_to_say"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, d.SetEquality(ctx, c.ID, "eq_religion", "pastafarian"), CodeInvalidEnum, "")
		wantCode(t, d.SetEquality(ctx, c.ID, "eq_shoe_size", "9"), CodeInvalidField, "")
		p := must[Participant](t)(d.Participant(ctx, c.Participant))
		if p.ContactPhone != "07700 900123" || p.Equality["eq_age_band"] != "35_44" || p.Equality["eq_religion"] != "prefer_not_to_say" {
			t.Fatalf("participant = %+v", p)
		}
	})

	t.Run("Group", func(t *testing.T) {
		g := must[ConsentRef](t)(d.RecordConsent(ctx, ConsentInput{Engagement: eng, Group: true, StatementLocale: "en", Scopes: []string{"record_views"}, Method: "verbal"}))
		if g.Participant != "" {
			t.Fatalf("group consent made participant %s", g.Participant)
		}
		_, err := d.StartConversation(ctx, ConversationInput{Consent: g.ID})
		wantCode(t, err, CodeRequired, "")
		_, err = d.StartConversation(ctx, ConversationInput{Consent: c.ID, GroupSize: 4})
		wantCode(t, err, CodeInvalidField, "")
		gc := must[string](t)(d.StartConversation(ctx, ConversationInput{Consent: g.ID, GroupSize: 6, Locales: []string{"en"}}))
		if err := d.Answer(ctx, gc, AnswerInput{PromptID: "what_could_be_better", Text: "Evening appointments", PromptLocale: "en"}); err != nil {
			t.Fatal(err)
		}
		got := must[Conversation](t)(d.Conversation(ctx, gc))
		if got.GroupSize != 6 || got.Participant != "" || len(got.Answers) != 1 {
			t.Fatalf("group conversation = %+v", got)
		}
		wantCode(t, d.SetContact(ctx, g.ID, Contact{Name: "x"}), CodeConsentScopeMissing, schema.ScopeContactForFeedback)
	})

	t.Run("List", func(t *testing.T) {
		if es := must[[]Engagement](t)(d.Engagements(ctx)); len(es) != 1 {
			t.Fatalf("engagements %d", len(es))
		}
		if cs := must[[]Consent](t)(d.Consents(ctx, eng)); len(cs) != 2 {
			t.Fatalf("consents %d", len(cs))
		}
		if cs := must[[]Conversation](t)(d.Conversations(ctx, eng)); len(cs) != 2 {
			t.Fatalf("conversations %d", len(cs))
		}
		if ps := must[[]Participant](t)(d.Participants(ctx, "")); len(ps) != 1 {
			t.Fatalf("participants %d", len(ps))
		}
		if cs := must[[]Conversation](t)(d.Conversations(ctx, "0193a4c2-0000-7000-8000-0000000000ff")); len(cs) != 0 {
			t.Fatalf("other engagement: %d", len(cs))
		}
	})

	t.Run("Prompts", func(t *testing.T) {
		ps := must[PromptSet](t)(d.Prompts(ctx, eng))
		if !ps.Builtin || len(ps.Prompts) != 8 {
			t.Fatalf("prompt set = %+v", ps)
		}
		if txt, fb := ps.Text("anything_else", "en"); fb || !strings.Contains(txt, "anything else") {
			t.Fatalf("text %q %v", txt, fb)
		}
	})
}

func TestConsentRefusals(t *testing.T) {
	ctx := context.Background()
	d := MustOpenDevice(t)
	eng := mustEngagement(t, d)
	countOps := func() int64 { n, _ := d.Store().CountOps(ctx); return n }

	t.Run("ErrAnswerWithoutRecordViews", func(t *testing.T) {
		c := mustConsent(t, d, eng, schema.ScopeContactForFeedback)
		before := countOps()
		_, err := d.StartConversation(ctx, ConversationInput{Consent: c.ID})
		wantCode(t, err, CodeConsentScopeMissing, schema.ScopeRecordViews)
		// A conversation written around the check still takes no answer.
		conv := newID()
		if _, _, err := d.Store().Write(ctx, []syncengine.Change{set(schema.Conversation, conv, "engagement", eng), set(schema.Conversation, conv, "consent", c.ID)}, syncengine.ApplyOptions{Team: testTeam}); err != nil {
			t.Fatal(err)
		}
		before = countOps()
		wantCode(t, d.Answer(ctx, conv, AnswerInput{PromptID: "what_works", Text: "x", PromptLocale: "en"}), CodeConsentScopeMissing, schema.ScopeRecordViews)
		wantCode(t, d.AddNote(ctx, conv, "x"), CodeConsentScopeMissing, schema.ScopeRecordViews)
		if countOps() != before {
			t.Fatal("a refused answer stored ops")
		}
	})
	t.Run("ErrNoConsent", func(t *testing.T) {
		_, err := d.StartConversation(ctx, ConversationInput{Engagement: eng})
		wantCode(t, err, CodeConsentRequired, "")
		_, err = d.StartConversation(ctx, ConversationInput{Engagement: eng, Consent: newID()})
		wantCode(t, err, CodeConsentRequired, "")
	})
	t.Run("ErrContactWithoutContactScope", func(t *testing.T) {
		c := mustConsent(t, d, eng, schema.ScopeRecordViews, schema.ScopeEqualityMonitoring)
		before := countOps()
		wantCode(t, d.SetContact(ctx, c.ID, Contact{Email: "a@example.org"}), CodeConsentScopeMissing, schema.ScopeContactForFeedback)
		if countOps() != before {
			t.Fatal("a refused contact stored ops")
		}
		if p := must[Participant](t)(d.Participant(ctx, c.Participant)); p.ContactEmail != "" {
			t.Fatal("contact stored")
		}
	})
	t.Run("ErrEqualityWithoutEqualityScope", func(t *testing.T) {
		c := mustConsent(t, d, eng, schema.ScopeRecordViews, schema.ScopeContactForFeedback)
		wantCode(t, d.SetEquality(ctx, c.ID, "eq_sex", "female"), CodeConsentScopeMissing, schema.ScopeEqualityMonitoring)
	})
	t.Run("ErrAnythingAfterWithdrawal", func(t *testing.T) {
		c := mustConsent(t, d, eng, allScopes...)
		conv := must[string](t)(d.StartConversation(ctx, ConversationInput{Consent: c.ID, Locales: []string{"pa"}}))
		if err := d.Answer(ctx, conv, AnswerInput{PromptID: "what_works", Text: "ਸਭ ਕੁਝ", PromptLocale: "pa"}); err != nil {
			t.Fatal(err)
		}
		if err := d.SetContact(ctx, c.ID, Contact{Phone: "07700 900456"}); err != nil {
			t.Fatal(err)
		}
		if err := d.SetEquality(ctx, c.ID, "eq_carer", "yes"); err != nil {
			t.Fatal(err)
		}
		if err := d.WithdrawConsent(ctx, c.ID, "changed their mind"); err != nil {
			t.Fatal(err)
		}
		// The engine itself erased the conversation and the contact and equality fields.
		if erased, _ := d.Store().IsErased(ctx, syncengine.RecordKey{Collection: schema.Conversation, Record: conv}); !erased {
			t.Fatal("conversation not erased after withdrawal")
		}
		// Only the op linking it to the consent stays, so that the server erases it too.
		h, _ := d.Store().History(ctx, syncengine.RecordKey{Collection: schema.Conversation, Record: conv})
		for _, op := range h {
			if !syncengine.KeptOnErase(&op) {
				t.Fatalf("erased conversation keeps op %s (%s %s)", op.ID(), op.Kind, op.Field)
			}
		}
		p := must[Participant](t)(d.Participant(ctx, c.Participant))
		if p.ContactPhone != "" || len(p.Equality) != 0 {
			t.Fatalf("participant after withdrawal = %+v", p)
		}
		if got := must[Consent](t)(d.Consent(ctx, c.ID)); !got.Withdrawn {
			t.Fatal("consent not marked withdrawn")
		}
		_, err := d.Conversation(ctx, conv)
		wantCode(t, err, CodeRecordErased, "")
		before := countOps()
		wantCode(t, d.Answer(ctx, conv, AnswerInput{PromptID: "anything_else", Text: "x", PromptLocale: "pa"}), CodeConsentWithdrawn, "")
		wantCode(t, d.SwitchLanguage(ctx, conv, "anything_else", "pa", "en"), CodeConsentWithdrawn, "")
		wantCode(t, d.SetContact(ctx, c.ID, Contact{Phone: "1"}), CodeConsentWithdrawn, "")
		wantCode(t, d.SetEquality(ctx, c.ID, "eq_carer", "no"), CodeConsentWithdrawn, "")
		_, err = d.StartConversation(ctx, ConversationInput{Consent: c.ID})
		wantCode(t, err, CodeConsentWithdrawn, "")
		if countOps() != before {
			t.Fatal("writes after withdrawal stored ops")
		}
	})
	t.Run("MessageInWorkersLanguage", func(t *testing.T) {
		err := scopeMissing(schema.ScopeContactForFeedback)
		if got := err.Message("en"); got != "This person has not agreed to be contacted later. Ask them first, or leave this out." {
			t.Fatalf("message = %q", got)
		}
		if !errors.Is(ErrRevoked, ErrRevoked) || errors.Is(err, ErrRevoked) {
			t.Fatal("errors.Is by code")
		}
	})
	t.Run("ErrNotEnrolled", func(t *testing.T) {
		d2, err := Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer d2.Close()
		_, err = d2.StartEngagement(ctx, EngagementInput{VenueType: "cafe"})
		wantCode(t, err, CodeNotEnrolled, "")
	})
}

// A conversation is durable after every answer: close the device without ending it and
// everything answered is there after reopening.
func TestDurableAfterEveryAnswer(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := Open(dir, WithClock(steppingClock(t0)))
	if err != nil {
		t.Fatal(err)
	}
	d.SetLocalIdentity(ctx, testNode, testTeam)
	eng := mustEngagement(t, d)
	c := mustConsent(t, d, eng, allScopes...)
	conv := must[string](t)(d.StartConversation(ctx, ConversationInput{Consent: c.ID}))
	for _, p := range []string{"what_works", "what_could_be_better", "anything_else"} {
		if err := d.Answer(ctx, conv, AnswerInput{PromptID: p, Text: p, PromptLocale: "en"}); err != nil {
			t.Fatal(err)
		}
	}
	d.Close() // the tablet dies mid-conversation
	d, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	got := must[Conversation](t)(d.Conversation(ctx, conv))
	if len(got.Answers) != 3 || got.EndedAt != 0 {
		t.Fatalf("after reopen: %+v", got)
	}
}
