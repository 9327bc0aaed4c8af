package annual

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/reports"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

// The annual report's fixture: four engagements of team north (one before the report's
// year), people in five languages, and the cases the report must tell apart:
//
//   - a participant who withdrew, whose words (withdrawnWords) must appear nowhere;
//   - a participant who did not consent to quotes, whose words (unconsentedWords) a
//     coordinator even tried to pick for the public page: nowhere either;
//   - a conversation a coordinator rejected in review (rejectedWords): never quoted;
//   - a picked Arabic quote (pickedWords) on the published engagement;
//   - a decision with an Arabic summary (arabicSummary) and one written only in English.
const (
	fxTeam           = "north"
	withdrawnWords   = "Zebra crossings outside the clinic are dangerous"
	unconsentedWords = "Otters swim past the pharmacy queue"
	rejectedWords    = "Herons nest on the surgery roof"
	pickedWords      = "أريد مترجماً في كل موعد"
	pickedEnglish    = "I want an interpreter at every appointment"
	arabicSummary    = "سنحجز مترجماً لكل موعد في عيادات السوق"
	englishSummary   = "We will book an interpreter for every appointment at the market clinics."
	fxNode           = "coordinator-1"
)

var fxDay = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func fxID(kind, n int) string { return fmt.Sprintf("00000000-0000-7000-8%03d-%012d", kind, n) }

const (
	kEng = iota + 1
	kPart
	kCons
	kConv
	kDec
	kFb
)

type fixture struct {
	st                          *syncengine.Store
	svc                         *Service
	e1, e2, e3, e4              string
	withdrawnConsent            string
	unconsentedConv, pickedConv string
	rejectedConv                string
	d1, d2                      string
	personN                     int
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	wall := fxDay.Add(300 * 24 * time.Hour).UnixMilli()
	st, err := syncengine.Open(filepath.Join(dir, "replica.db"), syncengine.Options{Now: func() int64 { wall++; return wall }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	coord, err := reports.OpenCoord(filepath.Join(dir, "coord.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { coord.Close() })
	coord.Now = func() int64 { return fxDay.UnixMilli() }
	if err := EnsureCensusBaselines(context.Background(), coord); err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, e1: fxID(kEng, 1), e2: fxID(kEng, 2), e3: fxID(kEng, 3), e4: fxID(kEng, 4)}
	f.svc = &Service{Reports: &reports.Service{Index: reports.NewIndex(st)}, Coord: coord, Replica: st,
		Now: func() time.Time { return fxDay.Add(200 * 24 * time.Hour) }}
	ctx := context.Background()
	var ch []syncengine.Change
	set := func(coll, id, field string, v any) {
		ch = append(ch, syncengine.Change{Collection: coll, Record: id, Kind: schema.KindSet, Field: field, Value: v})
	}
	add := func(coll, id, field string, v any) {
		ch = append(ch, syncengine.Change{Collection: coll, Record: id, Kind: schema.KindAdd, Field: field, Value: v})
	}
	flush := func() {
		if _, _, err := st.WriteAs(ctx, fxNode, ch, syncengine.ApplyOptions{Hub: true, Team: fxTeam}); err != nil {
			t.Fatal(err)
		}
		ch = ch[:0]
	}
	day := func(d int) int64 { return fxDay.AddDate(0, 0, d).UnixMilli() }
	eng := func(id, title, topic, venueType, venueName, area string, start int64, published bool, langs ...string) {
		set(schema.Engagement, id, "team", fxTeam)
		set(schema.Engagement, id, "title", title)
		set(schema.Engagement, id, "topic", topic)
		set(schema.Engagement, id, "venue_type", venueType)
		set(schema.Engagement, id, "venue_name", venueName)
		set(schema.Engagement, id, "area", area)
		set(schema.Engagement, id, "starts_at", start)
		set(schema.Engagement, id, "ends_at", start+5*3600*1000)
		if published {
			set(schema.Engagement, id, PublishedField, true)
		}
		for _, l := range langs {
			add(schema.Engagement, id, "languages", l)
		}
	}
	eng(f.e1, "Friday market", "Getting a GP appointment", "market", "Bull Ring Open Market", "B5", day(0), true, "en", "pl", "ar")
	eng(f.e2, "After Friday prayers", "Mental health support", "place_of_worship", "Central Mosque", "B12", day(30), false, "en", "ar", "ur")
	eng(f.e3, "Library drop-in", "Using the NHS App", "library", "Small Heath Library", "B10", day(60), false, "en", "bn")
	eng(f.e4, "Last year's stall", "Flu jabs", "market", "Bull Ring Open Market", "B5", day(-300), false, "en")
	flush()

	type person struct {
		eng, lang, ethnicity, age, theme, text, english string
		communities                                     []string
		scopes                                          []string
		interpreter                                     string
		at                                              int64
	}
	write := func(p person) (conv, consent string) {
		f.personN++
		n := f.personN
		pid, cid, vid := fxID(kPart, n), fxID(kCons, n), fxID(kConv, n)
		set(schema.Participant, pid, "engagement", p.eng)
		set(schema.Participant, pid, "preferred_locale", p.lang)
		for _, c := range p.communities {
			add(schema.Participant, pid, "communities", c)
		}
		if p.ethnicity != "" {
			set(schema.Participant, pid, "eq_ethnicity", p.ethnicity)
			set(schema.Participant, pid, "eq_age_band", p.age)
		}
		set(schema.Consent, cid, "participant", pid)
		set(schema.Consent, cid, "engagement", p.eng)
		set(schema.Consent, cid, "given_at", p.at)
		for _, s := range p.scopes {
			add(schema.Consent, cid, "scopes", s)
		}
		set(schema.Conversation, vid, "engagement", p.eng)
		set(schema.Conversation, vid, "participant", pid)
		set(schema.Conversation, vid, "consent", cid)
		set(schema.Conversation, vid, "started_at", p.at+int64(n)*60000)
		add(schema.Conversation, vid, "locales", p.lang)
		if p.interpreter != "" {
			set(schema.Conversation, vid, "interpreter", p.interpreter)
		}
		ans := map[string]any{"text": p.text, "prompt_locale": p.lang, "answer_locale": p.lang}
		if p.english != "" {
			ans["translation_en"] = p.english
		}
		set(schema.Conversation, vid, "answer.what_could_be_better", ans)
		add(schema.Conversation, vid, "themes", p.theme)
		return vid, cid
	}
	quoteOK := []string{schema.ScopeRecordViews, schema.ScopeQuote, schema.ScopeEqualityMonitoring}
	noQuote := []string{schema.ScopeRecordViews, schema.ScopeEqualityMonitoring}
	many := func(k int, p person, texts ...string) {
		for i := 0; i < k; i++ {
			q := p
			q.text = texts[i%len(texts)]
			if i%2 == 1 {
				q.scopes = noQuote
			}
			write(q)
		}
	}
	// Friday market (published): Polish, English and Arabic speakers.
	many(12, person{eng: f.e1, lang: "pl", ethnicity: "white_other", age: "35_44", theme: "Opening hours", communities: []string{"Polish"},
		scopes: quoteOK, at: day(0)}, "Przychodnia powinna być otwarta w soboty.", "Pracuję do osiemnastej, więc nie mogę przyjść.")
	many(10, person{eng: f.e1, lang: "en", ethnicity: "white_british", age: "55_64", theme: "Pharmacy", communities: []string{"White British"},
		scopes: quoteOK, at: day(0)}, "The pharmacist is the only person who explains my tablets.", "I would like the pharmacy to open later.")
	many(9, person{eng: f.e1, lang: "ar", ethnicity: "other_arab", age: "25_34", theme: "Interpreters", communities: []string{"Yemeni"},
		scopes: quoteOK, interpreter: "Yousef", at: day(0)}, "لا يوجد مترجم في العيادة.", "ابني يترجم لي دائماً.")
	f.pickedConv, _ = write(person{eng: f.e1, lang: "ar", ethnicity: "other_arab", age: "45_54", theme: "Interpreters", communities: []string{"Yemeni"},
		scopes: quoteOK, interpreter: "Yousef", text: pickedWords, english: pickedEnglish, at: day(0)})
	_, f.withdrawnConsent = write(person{eng: f.e1, lang: "en", ethnicity: "white_british", age: "65_74", theme: "Pharmacy", communities: []string{"White British"},
		scopes: quoteOK, text: withdrawnWords, at: day(0)})
	f.unconsentedConv, _ = write(person{eng: f.e1, lang: "en", ethnicity: "white_british", age: "65_74", theme: "Pharmacy", communities: []string{"White British"},
		scopes: noQuote, text: unconsentedWords, at: day(0)})
	f.rejectedConv, _ = write(person{eng: f.e1, lang: "en", ethnicity: "white_british", age: "65_74", theme: "Pharmacy", communities: []string{"White British"},
		scopes: quoteOK, text: rejectedWords, at: day(0)})
	// After Friday prayers: Arabic and Urdu.
	many(10, person{eng: f.e2, lang: "ar", ethnicity: "other_arab", age: "25_34", theme: "Mental health", communities: []string{"Syrian"},
		scopes: quoteOK, at: day(30)}, "انتظرت ستة أشهر للحصول على استشارة.")
	many(9, person{eng: f.e2, lang: "ur", ethnicity: "asian_pakistani", age: "35_44", theme: "Mental health", communities: []string{"Pakistani"},
		scopes: quoteOK, interpreter: "Nadia", at: day(30)}, "مجھے کاؤنسلنگ کے لیے بہت انتظار کرنا پڑا۔")
	// Library drop-in: Bengali and English, and one group conversation.
	many(9, person{eng: f.e3, lang: "bn", ethnicity: "asian_bangladeshi", age: "45_54", theme: "Digital access", communities: []string{"Bangladeshi"},
		scopes: quoteOK, at: day(60)}, "অ্যাপটি শুধু ইংরেজিতে।")
	many(8, person{eng: f.e3, lang: "en", ethnicity: "black_caribbean", age: "75_plus", theme: "Digital access", communities: []string{"Black Caribbean"},
		scopes: quoteOK, at: day(60)}, "I don't have a smartphone.")
	gcons, gconv := fxID(kCons, 900), fxID(kConv, 900)
	set(schema.Consent, gcons, "engagement", f.e3)
	set(schema.Consent, gcons, "given_at", day(60))
	add(schema.Consent, gcons, "scopes", schema.ScopeRecordViews)
	set(schema.Conversation, gconv, "engagement", f.e3)
	set(schema.Conversation, gconv, "consent", gcons)
	set(schema.Conversation, gconv, "group_size", 6)
	set(schema.Conversation, gconv, "started_at", day(60))
	add(schema.Conversation, gconv, "locales", "en")
	add(schema.Conversation, gconv, "themes", "Digital access")
	// Last year's stall: before the report's year.
	many(8, person{eng: f.e4, lang: "en", theme: "Flu", scopes: quoteOK, at: day(-300)}, "Last year's words.")
	flush()

	// A coordinator picks quotes: one that may be shown, one whose consent forbids it
	// (written directly: the API refuses it), and rejects a conversation in review.
	set(schema.Conversation, f.pickedConv, PublicQuoteField, "what_could_be_better")
	set(schema.Conversation, f.unconsentedConv, PublicQuoteField, "what_could_be_better")
	set(schema.Conversation, f.rejectedConv, PublicQuoteField, "what_could_be_better")
	set(schema.Conversation, f.rejectedConv, "review_state", "rejected")
	set(schema.Conversation, f.rejectedConv, "review_comment", "recorded twice")
	flush()
	// The withdrawal: erases the conversation.
	if _, _, err := st.WriteAs(ctx, fxNode, []syncengine.Change{{Collection: schema.Consent, Record: f.withdrawnConsent,
		Kind: schema.KindWithdraw, Value: map[string]any{"reason": "asked"}}}, syncengine.ApplyOptions{Hub: true}); err != nil {
		t.Fatal(err)
	}

	// Decisions, as the decision service writes them (fixed ids and times).
	f.d1, f.d2 = fxID(kDec, 1), fxID(kDec, 2)
	set(schema.Decision, f.d1, "team", fxTeam)
	set(schema.Decision, f.d1, "title", "Interpreters at the market clinics")
	set(schema.Decision, f.d1, "outcome", "changed")
	set(schema.Decision, f.d1, "decided_at", day(20))
	set(schema.Decision, f.d1, "summary.en", englishSummary)
	set(schema.Decision, f.d1, "summary.ar", arabicSummary)
	set(schema.Decision, f.d1, "summary.pl", "Na każdą wizytę w przychodniach przy targu zamówimy tłumacza.")
	set(schema.Decision, f.d1, "progress", "done")
	add(schema.Decision, f.d1, "themes", "Interpreters")
	for n := 23; n <= 32; n++ { // the Arabic speakers at the market
		add(schema.Decision, f.d1, "conversations", fxID(kConv, n))
	}
	set(schema.Decision, f.d2, "team", fxTeam)
	set(schema.Decision, f.d2, "title", "Counselling without a waiting list")
	set(schema.Decision, f.d2, "outcome", "not_changed")
	set(schema.Decision, f.d2, "reason", "The counselling service is commissioned nationally; we have asked for a shorter wait.")
	set(schema.Decision, f.d2, "decided_at", day(50))
	set(schema.Decision, f.d2, "summary.en", "The waiting list stays, but people waiting now get a call every month.")
	set(schema.Decision, f.d2, "progress", "planned")
	add(schema.Decision, f.d2, "themes", "Mental health")
	for n := 36; n <= 54; n++ {
		add(schema.Decision, f.d2, "conversations", fxID(kConv, n))
	}
	// Feedback sent for the first decision: nine in Arabic, three in Polish.
	for i := 0; i < 12; i++ {
		fb := fxID(kFb, i+1)
		loc := "ar"
		if i >= 9 {
			loc = "pl"
		}
		set(schema.Feedback, fb, "decision", f.d1)
		set(schema.Feedback, fb, "participant", fxID(kPart, 23+i%9))
		set(schema.Feedback, fb, "locale", loc)
		set(schema.Feedback, fb, "channel", "sms")
		set(schema.Feedback, fb, "status", "sent")
		set(schema.Feedback, fb, "message", "…")
	}
	flush()

	// The two texts; governance saved twice.
	at := fxDay.UnixMilli()
	for i, txt := range []string{"A first draft.", "Our involvement board meets every quarter.\n\nCommunity champions sit on it."} {
		if _, err := PutText(ctx, st, fxNode, "user-1", fxTeam, Governance, txt, at+int64(i)*86400000); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := PutText(ctx, st, fxNode, "user-1", fxTeam, Strategy, "We go where people are: markets, places of worship and libraries.", at); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) query(lang string) Query {
	q, err := ParseQuery(map[string][]string{"from": {"2026-01-01"}, "to": {"2026-12-31"}, "lang": {lang}}, "")
	if err != nil {
		panic(err)
	}
	q.Teams = []string{fxTeam}
	return q
}
