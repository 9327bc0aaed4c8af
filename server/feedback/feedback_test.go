package feedback

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/fieldnotes/fieldnotes/locales"
	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/disclosure"
	"github.com/fieldnotes/fieldnotes/server/reports"
	"github.com/fieldnotes/fieldnotes/server/reports/reportstest"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

var ctx = context.Background()

var north = Caller{Node: reportstest.Node, Teams: []string{reportstest.North}}

func setup(t *testing.T) (*reportstest.Fixture, *Service) {
	t.Helper()
	f := reportstest.Build(t)
	return f, &Service{Replica: f.Store, Index: reports.NewIndex(f.Store), Now: func() int64 { return reportstest.T0 + 5000*reportstest.Hour }}
}

func convsOf(f *reportstest.Fixture, ns ...int) []string {
	var out []string
	for _, n := range ns {
		out = append(out, f.Person(n).Convs[0].ID)
	}
	return out
}

var summaries = map[string]string{
	"en": "the surgery now opens on Saturday mornings",
	"cy": "mae'r feddygfa bellach ar agor ar fore Sadwrn",
	"ar": "أصبحت العيادة تفتح صباح يوم السبت",
	"pl": "przychodnia jest teraz otwarta w soboty rano",
}

func decide(t *testing.T, s *Service, convs []string) string {
	t.Helper()
	r, err := s.CreateDecision(ctx, north, DecisionInput{Title: "Saturday opening", Summary: summaries, Outcome: "changed",
		Themes: []string{"opening_hours"}, Conversations: convs})
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

func TestCreateDecisionValidation(t *testing.T) {
	f, s := setup(t)
	for _, c := range []struct {
		name, code, field string
		in                DecisionInput
	}{
		{"ErrTitleRequired", schema.CodeRequired, "title", DecisionInput{Outcome: "changed"}},
		{"ErrOutcomeRequired", schema.CodeRequired, "outcome", DecisionInput{Title: "x"}},
		{"ErrOutcomeEnum", schema.CodeInvalidEnum, "outcome", DecisionInput{Title: "x", Outcome: "maybe"}},
		{"ErrReasonRequired", schema.CodeRequired, "reason", DecisionInput{Title: "x", Outcome: "not_changed"}},
		{"ErrSummaryLocale", schema.CodeInvalidField, "summary.not a tag", DecisionInput{Title: "x", Outcome: "changed", Summary: map[string]string{"not a tag": "y"}}},
		{"ErrConversationID", schema.CodeInvalidRecordID, "conversations[0]", DecisionInput{Title: "x", Outcome: "changed", Conversations: []string{"nope"}}},
		{"ErrOtherTeamsConversation", schema.CodeInvalidField, "conversations[0]", DecisionInput{Title: "x", Outcome: "changed", Conversations: convsOf(f, 105)}},
		{"ErrTeamRequired", CodeTeamRequired, "team", DecisionInput{Title: "x", Outcome: "in_progress"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			who := north
			if c.code == CodeTeamRequired {
				who = Caller{Node: "n", Teams: []string{"north", "south"}}
			}
			_, err := s.CreateDecision(ctx, who, c.in)
			var e *Error
			if !errors.As(err, &e) || e.Code != c.code || e.Field != c.field {
				t.Fatalf("err = %v, want %s on %s", err, c.code, c.field)
			}
			if !locales.Has("en", "error."+e.Code) {
				t.Errorf("no message error.%s", e.Code)
			}
		})
	}
	t.Run("OK", func(t *testing.T) {
		r, err := s.CreateDecision(ctx, north, DecisionInput{Title: "Interpreters at the surgery", Summary: map[string]string{"en": "an interpreter is booked with every appointment"},
			Outcome: "in_progress", Themes: []string{"interpreters"}, Conversations: convsOf(f, 1, 2)})
		if err != nil {
			t.Fatal(err)
		}
		d := DecisionOf(r)
		if d.Team != reportstest.North || d.Outcome != "in_progress" || len(d.Conversations) != 2 || d.Summary["en"] == "" || d.DecidedAt == 0 {
			t.Fatalf("decision %+v", d)
		}
		hist, _ := f.Store.History(ctx, syncengine.RecordKey{Collection: schema.Decision, Record: r.ID})
		if len(hist) == 0 || hist[0].Node != reportstest.Node {
			t.Fatalf("history %+v", hist)
		}
	})
}

// Feedback is written in each participant's language with that language's plural form
// for the number of other people, and in English (saying so) where it can't be.
func TestFeedbackLanguagesAndPlurals(t *testing.T) {
	f, s := setup(t)
	messages := func(t *testing.T, dec string) map[string]Item {
		items, err := s.List(ctx, north.Teams, "queued")
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]Item{}
		for _, it := range items {
			if it.Decision == dec {
				out[it.Participant] = it
			}
		}
		return out
	}
	// Welsh speakers are 80–88 (84 has no contact consent); Syrians (Arabic) 89–95 (90
	// has none); Roma (Romanian) 102–104 (102 has none); 96 and 102 have no contact consent.
	for _, c := range []struct {
		name   string
		people []int
		lang   string
		phrase string // in every message
		queued int
	}{
		{"cy/one", []int{80, 81}, "cy", "ac un person arall", 2},
		{"cy/two", []int{80, 81, 82}, "cy", "a dau berson arall", 3},
		{"cy/few", []int{80, 81, 82, 83}, "cy", "a thri pherson arall", 4},
		{"cy/many", []int{80, 81, 82, 83, 85, 86, 87}, "cy", "a chwe pherson arall", 7},
		{"ar/one", []int{89, 91}, "ar", "شخص آخر", 2},
		{"ar/two", []int{89, 90, 91}, "ar", "شخصان آخران", 2},
		{"en/alone", []int{97}, "en", "You told us about opening_hours.", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			dec := decide(t, s, convsOf(f, c.people...))
			res, err := s.QueueFeedback(ctx, north, dec)
			if err != nil {
				t.Fatal(err)
			}
			if res.Queued != c.queued || res.Queued+res.SkippedNoConsent != len(c.people) {
				t.Fatalf("result %+v", res)
			}
			for p, it := range messages(t, dec) {
				if it.Locale != c.lang || it.Fallback || !strings.Contains(it.Message, c.phrase) {
					t.Errorf("%s: locale %s fallback %v:\n%s", p, it.Locale, it.Fallback, it.Message)
				}
				if !strings.Contains(it.Message, summaries[c.lang]) {
					t.Errorf("%s: summary missing:\n%s", p, it.Message)
				}
			}
			again, err := s.QueueFeedback(ctx, north, dec)
			if err != nil || again.Queued != 0 || again.AlreadyQueued != c.queued {
				t.Fatalf("second call %+v %v", again, err)
			}
		})
	}
	t.Run("FallbackToEnglish", func(t *testing.T) {
		// Romanian has templates but the decision has no Romanian summary: the whole
		// message is in English, with the note, and marked.
		dec := decide(t, s, convsOf(f, 103, 104))
		if _, err := s.QueueFeedback(ctx, north, dec); err != nil {
			t.Fatal(err)
		}
		note, _ := locales.Localize("en", "feedback.fallback_note", nil)
		ms := messages(t, dec)
		if len(ms) != 2 {
			t.Fatalf("%d messages", len(ms))
		}
		for _, it := range ms {
			if it.Locale != "en" || !it.Fallback || !strings.HasSuffix(it.Message, note) || !strings.Contains(it.Message, "You and 1 other person told us") {
				t.Errorf("%+v", it)
			}
		}
	})
}

func TestFeedbackListAndWithdrawal(t *testing.T) {
	f, s := setup(t)
	dec := decide(t, s, convsOf(f, 80, 81, 82))
	if _, err := s.QueueFeedback(ctx, north, dec); err != nil {
		t.Fatal(err)
	}
	items, err := s.List(ctx, north.Teams, "")
	if err != nil || len(items) != 3 {
		t.Fatalf("%d items, %v", len(items), err)
	}
	for _, it := range items {
		p := f.Person(map[string]int{f.Person(80).ID: 80, f.Person(81).ID: 81, f.Person(82).ID: 82}[it.Participant])
		if it.ContactName != p.ContactName || it.ContactEmail != p.ContactEmail || it.ContactPhone != p.ContactPhone {
			t.Errorf("contact %+v vs %+v", it, p)
		}
		wantCh := "sms"
		if p.ContactEmail != "" {
			wantCh = "email"
		}
		if it.Channel != wantCh {
			t.Errorf("channel %s, want %s", it.Channel, wantCh)
		}
	}
	// 81 withdraws: the queued message stays (it holds no contact detail) but the mail
	// merge no longer gets their contact details.
	f.Withdraw(t, 81)
	items, _ = s.List(ctx, north.Teams, "queued")
	for _, it := range items {
		if it.Participant == f.Person(81).ID && (it.ContactName != "" || it.ContactEmail != "" || it.ContactPhone != "") {
			t.Errorf("contact after withdrawal: %+v", it)
		}
	}
	// status updates
	it, err := s.SetStatus(ctx, north, items[0].ID, "sent")
	if err != nil || it.Status != "sent" {
		t.Fatalf("%+v %v", it, err)
	}
	if _, err := s.SetStatus(ctx, north, items[0].ID, "lost"); err == nil {
		t.Fatal("status lost accepted")
	}
	sent, _ := s.List(ctx, north.Teams, "sent")
	if len(sent) != 1 {
		t.Fatalf("%d sent", len(sent))
	}
	if _, err := s.List(ctx, north.Teams, "lost"); err == nil {
		t.Fatal("list status lost accepted")
	}
	// another team sees nothing
	if _, err := s.SetStatus(ctx, Caller{Node: "x", Teams: []string{"south"}}, items[0].ID, "failed"); err == nil {
		t.Fatal("south updated north's feedback")
	}

	t.Run("Trail", func(t *testing.T) {
		tr, err := s.Trail(ctx, &reports.Service{Index: s.Index}, north, f.Person(80).Engagement, disclosure.Policy{Name: "cell", MinCell: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(tr.Decisions) != 1 || tr.Decisions[0].ID != dec {
			t.Fatalf("decisions %+v", tr.Decisions)
		}
		fb := tr.Decisions[0].Feedback
		if fb["queued"] == nil || *fb["queued"] != 2 || fb["sent"] != nil { // 1 sent: hidden under min_cell 2
			t.Fatalf("feedback counts %v", fb)
		}
		if tr.ByCommunity.Total.Participants == nil || len(tr.CSVRows()) < 10 {
			t.Fatalf("trail %+v", tr.ByCommunity.Total)
		}
		if _, err := s.Trail(ctx, &reports.Service{Index: s.Index}, Caller{Teams: []string{"south"}}, f.Person(80).Engagement, disclosure.Policy{}); err == nil {
			t.Fatal("south saw north's trail")
		}
	})
}
