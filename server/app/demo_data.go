package app

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/fieldnotes/fieldnotes/locales"
	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/auth"
	"github.com/fieldnotes/fieldnotes/server/feedback"
	"github.com/fieldnotes/fieldnotes/server/reports"
	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/fieldnotes/fieldnotes/server/store/sqlite"
	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/google/uuid"
)

// The demo's year of engagement: seven engagements at different kinds of venue over the
// eleven months before the day it is seeded, a few hundred conversations in seven
// languages, decisions with feedback. Everything is drawn from one seeded generator, so
// two demos seeded on the same day hold the same data (ids included, except decisions
// and their feedback, whose ids the decision service makes).

type demoEngagement struct {
	id, title, topic, venueType, venueName, area string
	daysAgo                                      int
	langs                                        map[string]int // conversation language → weight
	themes                                       map[string]int // theme of "what could be better" → weight
	n                                            int            // conversations with one participant
	groups                                       []int          // group conversations' sizes
	published                                    bool

	startsAt, endsAt int64
	convs            []*demoConv
}

type demoConv struct {
	id, participant, consent, lang, theme string
	quote, withdrawn                      bool
	eng                                   *demoEngagement
}

type demoDecision struct {
	in       feedback.DecisionInput
	eng      []int // engagements whose conversations with the themes informed it
	progress string
	daysAgo  int
	sent     bool // feedback marked sent
}

type demoData struct {
	day         time.Time // seeding day, 00:00 UTC
	rng         *rand.Rand
	engagements []*demoEngagement
	tablets     []store.Device
	decisions   []demoDecision
}

func newDemoData(now time.Time) *demoData {
	day := now.UTC().Truncate(24 * time.Hour)
	d := &demoData{day: day, rng: rand.New(rand.NewPCG(2026, uint64(day.Unix())))}
	d.engagements = []*demoEngagement{
		{title: "Community health conversation", topic: "Access to local NHS services", venueType: "community_centre",
			venueName: "Sparkhill Community Centre", area: "B11", daysAgo: 320, n: 70, published: true,
			langs:  map[string]int{"en": 30, "ur": 25, "pa": 15, "bn": 15, "so": 10, "pl": 5},
			themes: map[string]int{"GP appointments": 35, "Interpreters": 30, "Opening hours": 20, "Transport": 15}},
		{title: "After Friday prayers", topic: "Mental health support", venueType: "place_of_worship",
			venueName: "Balsall Heath Central Mosque", area: "B12", daysAgo: 270, n: 58, groups: []int{9}, published: true,
			langs:  map[string]int{"en": 20, "ur": 35, "ar": 20, "bn": 15, "so": 10},
			themes: map[string]int{"Mental health": 50, "Interpreters": 20, "GP appointments": 30}},
		{title: "Langar conversations", topic: "Diabetes care and GP appointments", venueType: "place_of_worship",
			venueName: "Guru Nanak Gurdwara, Handsworth", area: "B21", daysAgo: 215, n: 44, groups: []int{12},
			langs:  map[string]int{"en": 35, "pa": 65},
			themes: map[string]int{"GP appointments": 45, "Opening hours": 25, "Transport": 30}},
		{title: "Market stall", topic: "Pharmacy and prescriptions", venueType: "market",
			venueName: "Bull Ring Open Market", area: "B5", daysAgo: 170, n: 40,
			langs:  map[string]int{"en": 40, "pl": 30, "so": 15, "ur": 15},
			themes: map[string]int{"Opening hours": 40, "GP appointments": 30, "Transport": 30}},
		{title: "Coffee and a chat", topic: "Registering with a GP", venueType: "cafe",
			venueName: "Kawiarnia Polska, Coventry Road", area: "B10", daysAgo: 120, n: 30, published: true,
			langs:  map[string]int{"en": 30, "pl": 70},
			themes: map[string]int{"GP appointments": 50, "Digital access": 30, "Opening hours": 20}},
		{title: "NHS App help morning", topic: "Digital access to NHS services", venueType: "library",
			venueName: "Small Heath Library", area: "B10", daysAgo: 75, n: 40,
			langs:  map[string]int{"en": 25, "bn": 35, "ur": 25, "ar": 15},
			themes: map[string]int{"Digital access": 60, "GP appointments": 25, "Interpreters": 15}},
		{title: "Parents' coffee morning", topic: "Maternity care", venueType: "place_of_worship",
			venueName: "St Agnes Church Hall, Alum Rock", area: "B8", daysAgo: 30, n: 35,
			langs:  map[string]int{"en": 35, "so": 40, "ar": 25},
			themes: map[string]int{"Maternity": 60, "Interpreters": 25, "Transport": 15}},
	}
	for i := 0; i < 3; i++ {
		d.tablets = append(d.tablets, store.Device{ID: d.id(day.AddDate(0, -11, i)), NodeID: d.id(day.AddDate(0, -11, i)),
			Label: fmt.Sprintf("Demo tablet %d", i+1)})
	}
	for _, e := range d.engagements {
		start := day.AddDate(0, 0, -e.daysAgo).Add(10 * time.Hour)
		e.id = d.id(start.Add(-48 * time.Hour))
		e.startsAt, e.endsAt = start.UnixMilli(), start.Add(5*time.Hour).UnixMilli()
	}

	summaries := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	d.decisions = []demoDecision{
		{in: feedback.DecisionInput{Title: "Interpreters booked with every appointment", Outcome: "changed", Themes: []string{"Interpreters"},
			Summary: summaries(
				"en", "Every GP practice in Sparkhill now books a professional interpreter when you make an appointment, so children no longer need to translate.",
				"pa", "ਸਪਾਰਕਹਿੱਲ ਦੀ ਹਰ ਜੀਪੀ ਸਰਜਰੀ ਹੁਣ ਮੁਲਾਕਾਤ ਬੁੱਕ ਕਰਨ ਵੇਲੇ ਪੇਸ਼ੇਵਰ ਦੁਭਾਸ਼ੀਆ ਬੁੱਕ ਕਰਦੀ ਹੈ, ਤਾਂ ਜੋ ਬੱਚਿਆਂ ਨੂੰ ਅਨੁਵਾਦ ਨਾ ਕਰਨਾ ਪਵੇ।",
				"ur", "اسپارک ہل کی ہر جی پی سرجری اب اپائنٹمنٹ بک کرتے وقت پیشہ ور ترجمان کا انتظام کرتی ہے، تاکہ بچوں کو ترجمہ نہ کرنا پڑے۔",
				"bn", "স্পার্কহিলের প্রতিটি জিপি সার্জারি এখন অ্যাপয়েন্টমেন্টের সময় পেশাদার দোভাষী বুক করে, যাতে শিশুদের আর অনুবাদ করতে না হয়।",
				"ar", "أصبحت كل عيادة طبيب عام في سباركهيل تحجز مترجماً محترفاً عند حجز الموعد، فلا يحتاج الأطفال بعد الآن إلى الترجمة.",
				"pl", "Każda przychodnia w Sparkhill zamawia teraz profesjonalnego tłumacza przy umawianiu wizyty, więc dzieci nie muszą już tłumaczyć.",
				"so", "Xarun kasta oo GP ah oo ku taal Sparkhill hadda waxay qabsataa turjubaan xirfadle ah markaad ballan qabsato, si carruurtu aysan u turjumin.")},
			eng: []int{0, 1}, progress: "done", daysAgo: 240, sent: true},
		{in: feedback.DecisionInput{Title: "Evening and Saturday appointments", Outcome: "changed", Themes: []string{"Opening hours", "GP appointments"},
			Summary: summaries(
				"en", "Three practices now offer appointments until 8pm on weekdays and on Saturday mornings; the rest will follow by spring.",
				"pl", "Trzy przychodnie przyjmują teraz w dni powszednie do 20:00 i w soboty rano; pozostałe dołączą do wiosny.",
				"ur", "تین سرجریاں اب ہفتے کے دنوں میں رات آٹھ بجے تک اور ہفتے کی صبح اپائنٹمنٹس دیتی ہیں؛ باقی بہار تک شروع کریں گی۔",
				"pa", "ਤਿੰਨ ਸਰਜਰੀਆਂ ਹੁਣ ਹਫ਼ਤੇ ਦੇ ਦਿਨਾਂ ਵਿੱਚ ਰਾਤ ਅੱਠ ਵਜੇ ਤੱਕ ਅਤੇ ਸ਼ਨੀਵਾਰ ਸਵੇਰੇ ਮੁਲਾਕਾਤਾਂ ਦਿੰਦੀਆਂ ਹਨ; ਬਾਕੀ ਬਸੰਤ ਤੱਕ ਸ਼ੁਰੂ ਕਰਨਗੀਆਂ।")},
			eng: []int{2, 3, 4}, progress: "under_way", daysAgo: 100, sent: true},
		{in: feedback.DecisionInput{Title: "Free hospital parking", Outcome: "not_changed", Themes: []string{"Transport"},
			Reason: "Parking charges are set by the hospital trust, not by us. We asked the trust to advertise its free patient transport service in community languages instead.",
			Summary: summaries(
				"en", "Hospital parking is still charged, but the free patient transport service is now advertised in six languages.",
				"so", "Baarkinka isbitaalku wali lacag buu leeyahay, laakiin adeegga gaadiidka bukaanka ee bilaashka ah hadda waxaa lagu xayeysiiyaa lix luqadood.",
				"ar", "ما زالت مواقف المستشفى مدفوعة، لكن خدمة نقل المرضى المجانية أصبحت معلنة الآن بست لغات.",
				"ur", "ہسپتال کی پارکنگ بدستور پیسوں والی ہے، لیکن مریضوں کی مفت ٹرانسپورٹ سروس اب چھ زبانوں میں بتائی جاتی ہے۔")},
			eng: []int{0, 2, 3}, progress: "done", daysAgo: 150, sent: true},
		{in: feedback.DecisionInput{Title: "Check-in calls while waiting for counselling", Outcome: "in_progress", Themes: []string{"Mental health"},
			Summary: summaries(
				"en", "People waiting for counselling will get a phone call every four weeks, in their language, from a community link worker.",
				"ar", "سيتلقى المنتظرون للإرشاد النفسي اتصالاً هاتفياً كل أربعة أسابيع بلغتهم من عامل ارتباط مجتمعي.",
				"ur", "کاؤنسلنگ کا انتظار کرنے والوں کو ہر چار ہفتے بعد ایک کمیونٹی لنک ورکر ان کی زبان میں فون کرے گا۔",
				"bn", "কাউন্সেলিংয়ের জন্য অপেক্ষারত মানুষদের প্রতি চার সপ্তাহে একজন কমিউনিটি লিংক ওয়ার্কার তাদের ভাষায় ফোন করবেন।")},
			eng: []int{1}, progress: "under_way", daysAgo: 60},
		{in: feedback.DecisionInput{Title: "NHS App help sessions at Small Heath Library", Outcome: "changed", Themes: []string{"Digital access"},
			Summary: summaries(
				"en", "Small Heath Library runs NHS App help sessions every Tuesday in Bengali, Urdu and Arabic.",
				"bn", "স্মল হিথ লাইব্রেরিতে প্রতি মঙ্গলবার বাংলা, উর্দু ও আরবিতে এনএইচএস অ্যাপ ব্যবহারে সাহায্যের সেশন হয়।",
				"ur", "اسمال ہیتھ لائبریری میں ہر منگل کو بنگالی، اردو اور عربی میں این ایچ ایس ایپ کی مدد کے سیشن ہوتے ہیں۔",
				"ar", "تنظّم مكتبة سمول هيث كل يوم ثلاثاء جلسات مساعدة لاستخدام تطبيق NHS باللغات البنغالية والأردية والعربية.")},
			eng: []int{4, 5}, progress: "done", daysAgo: 40},
		{in: feedback.DecisionInput{Title: "Maternity leaflets in Somali and Arabic", Outcome: "in_progress", Themes: []string{"Maternity"},
			Summary: summaries(
				"en", "The maternity leaflets are being translated into Somali and Arabic, with audio versions for people who prefer to listen.",
				"so", "Waraaqaha umulaha waxaa loo turjumayaa af-Soomaali iyo Carabi, iyadoo ay jiraan nuqullo cod ah oo loogu talagalay dadka doorbida inay dhagaystaan.",
				"ar", "تُترجم نشرات رعاية الأمومة إلى الصومالية والعربية، مع نسخ صوتية لمن يفضّل الاستماع.")},
			eng: []int{6}, progress: "planned", daysAgo: 10},
	}
	return d
}

// id is a UUIDv7 for time t whose random part comes from the demo's generator.
func (d *demoData) id(t time.Time) string {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	b[0], b[1], b[2], b[3], b[4], b[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	binary.BigEndian.PutUint64(b[8:], d.rng.Uint64())
	r := d.rng.Uint32()
	b[6], b[7] = byte(r>>8), byte(r)
	b[6] = b[6]&0x0f | 0x70 // version 7
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return uuid.UUID(b).String()
}

func (d *demoData) pick(weights map[string]int) string {
	keys := make([]string, 0, len(weights))
	total := 0
	for k, w := range weights {
		keys = append(keys, k)
		total += w
	}
	slices.Sort(keys) // map order is random; the draw must not be
	n := d.rng.IntN(total)
	for _, k := range keys {
		if n < weights[k] {
			return k
		}
		n -= weights[k]
	}
	return keys[len(keys)-1]
}

func (d *demoData) chance(p float64) bool { return d.rng.Float64() < p }

func set(coll, rec, field string, v any) syncengine.Change {
	return syncengine.Change{Collection: coll, Record: rec, Kind: schema.KindSet, Field: field, Value: v}
}

func add(coll, rec, field string, v any) syncengine.Change {
	return syncengine.Change{Collection: coll, Record: rec, Kind: schema.KindAdd, Field: field, Value: v}
}

// engagementChanges is what the coordinator writes to set up engagement e.
func (d *demoData) engagementChanges(e *demoEngagement) []syncengine.Change {
	set0, version := locales.CommunityConversation, 1
	if ps, ok := locales.BuiltinPromptSet(locales.CommunityConversation); ok {
		set0, version = ps.ID, ps.Version
	}
	c := []syncengine.Change{
		set(schema.Engagement, e.id, "team", demoTeam),
		set(schema.Engagement, e.id, "title", e.title),
		set(schema.Engagement, e.id, "topic", e.topic),
		set(schema.Engagement, e.id, "venue_type", e.venueType),
		set(schema.Engagement, e.id, "venue_name", e.venueName),
		set(schema.Engagement, e.id, "area", e.area),
		set(schema.Engagement, e.id, "starts_at", e.startsAt),
		set(schema.Engagement, e.id, "ends_at", e.endsAt),
		set(schema.Engagement, e.id, "prompt_set", set0),
		set(schema.Engagement, e.id, "prompt_set_version", version),
	}
	langs := []string{"en"}
	for l := range e.langs {
		if l != "en" {
			langs = append(langs, l)
		}
	}
	if e == d.engagements[0] {
		langs = []string{"en", "pa", "ur", "pl", "cy", "bn", "so"} // as the first demo had it
	}
	slices.Sort(langs[1:])
	for _, l := range langs {
		c = append(c, add(schema.Engagement, e.id, "languages", l))
	}
	return c
}

func answer(lang, promptLang string, v map[string]any) map[string]any {
	v["prompt_locale"], v["answer_locale"] = promptLang, lang
	return v
}

// conversationChanges records one conversation with its participant and consent, as a
// tablet does.
func (d *demoData) conversationChanges(e *demoEngagement, k int, groupSize int) ([]syncengine.Change, *demoConv) {
	at := time.UnixMilli(e.startsAt).Add(time.Duration(k*4+d.rng.IntN(4)) * time.Minute)
	if k >= 40 { // a second session a week later
		at = at.AddDate(0, 0, 7).Add(-160 * time.Minute)
	}
	lang := d.pick(e.langs)
	cv := &demoConv{id: d.id(at.Add(2 * time.Second)), consent: d.id(at.Add(time.Second)), lang: lang, eng: e}
	var ch []syncengine.Change
	interpreter := ""
	if lang != "en" && d.chance(0.45) {
		interpreter = demoInterpreters[lang]
	}

	// Consent first: nothing is recorded without it.
	scopes := []string{schema.ScopeRecordViews}
	quote := d.chance(0.5)
	contact := groupSize == 0 && d.chance(0.45)
	equality := groupSize == 0 && d.chance(0.75)
	if quote {
		scopes = append(scopes, schema.ScopeQuote)
	}
	if contact {
		scopes = append(scopes, schema.ScopeContactForFeedback)
	}
	if d.chance(0.2) {
		scopes = append(scopes, schema.ScopeShareWithPartners)
	}
	if equality {
		scopes = append(scopes, schema.ScopeEqualityMonitoring)
	}
	cv.quote = quote
	method := []string{"verbal", "written"}[d.rng.IntN(2)]
	if interpreter != "" {
		method = "interpreter"
	}
	ch = append(ch,
		set(schema.Consent, cv.consent, "engagement", e.id),
		set(schema.Consent, cv.consent, "statement_id", locales.StandardConsent),
		set(schema.Consent, cv.consent, "statement_version", 1),
		set(schema.Consent, cv.consent, "statement_locale", lang),
		set(schema.Consent, cv.consent, "method", method),
		set(schema.Consent, cv.consent, "recorded_by", "outreach worker"),
		set(schema.Consent, cv.consent, "given_at", at.UnixMilli()),
	)
	if interpreter != "" {
		ch = append(ch, set(schema.Consent, cv.consent, "interpreter", interpreter))
	}
	for _, s := range scopes {
		ch = append(ch, add(schema.Consent, cv.consent, "scopes", s))
	}

	if groupSize == 0 {
		cv.participant = d.id(at)
		p := cv.participant
		people := demoPeople[lang]
		who := people[d.rng.IntN(len(people))]
		ch = append(ch, set(schema.Consent, cv.consent, "participant", p),
			set(schema.Participant, p, "engagement", e.id),
			set(schema.Participant, p, "preferred_locale", lang))
		for _, c := range who.Communities {
			ch = append(ch, add(schema.Participant, p, "communities", c))
		}
		if contact {
			names := demoNames[lang]
			n := d.rng.IntN(9000) + 1000
			ch = append(ch, set(schema.Participant, p, "contact_name", names[d.rng.IntN(len(names))]))
			if d.chance(0.6) {
				ch = append(ch, set(schema.Participant, p, "contact_email", fmt.Sprintf("participant%d@example.org", n)))
			} else {
				ch = append(ch, set(schema.Participant, p, "contact_phone", fmt.Sprintf("07700 900%03d", n%1000))) // Ofcom drama range
			}
		}
		if equality {
			eth := who.Ethnicity
			if d.chance(0.08) {
				eth = schema.PreferNotToSay
			}
			bands := reports.AgeBands[1:] // adults only
			ch = append(ch,
				set(schema.Participant, p, "eq_ethnicity", eth),
				set(schema.Participant, p, "eq_age_band", bands[d.rng.IntN(len(bands))]),
				set(schema.Participant, p, "eq_sex", []string{"female", "male", "female", schema.PreferNotToSay}[d.rng.IntN(4)]),
				set(schema.Participant, p, "eq_religion", who.Religion),
				set(schema.Participant, p, "eq_disability", []string{"no", "no", "no", "yes_limited_a_little", "yes_limited_a_lot"}[d.rng.IntN(5)]),
				set(schema.Participant, p, "eq_carer", []string{"no", "no", "yes"}[d.rng.IntN(3)]),
			)
		}
	}

	c := cv.id
	ch = append(ch,
		set(schema.Conversation, c, "engagement", e.id),
		set(schema.Conversation, c, "consent", cv.consent),
		set(schema.Conversation, c, "started_at", at.UnixMilli()),
		set(schema.Conversation, c, "ended_at", at.Add(time.Duration(8+d.rng.IntN(20))*time.Minute).UnixMilli()),
		add(schema.Conversation, c, "locales", lang),
	)
	if cv.participant != "" {
		ch = append(ch, set(schema.Conversation, c, "participant", cv.participant))
	} else {
		ch = append(ch, set(schema.Conversation, c, "group_size", groupSize))
	}
	if interpreter != "" {
		ch = append(ch, set(schema.Conversation, c, "interpreter", interpreter))
	}
	// Prompts are shown in the participant's language; some conversations switch to
	// English part-way (a relative joins, or the person prefers English for a term).
	promptLang, switched := lang, false
	if lang != "en" && d.chance(0.25) {
		switched = true
		ch = append(ch, add(schema.Conversation, c, "locales", "en"),
			syncengine.Change{Collection: schema.Conversation, Record: c, Kind: schema.KindAppend, Field: "language_switches",
				Value: map[string]any{"at_prompt": "barriers", "from": lang, "to": "en", "at": at.Add(4 * time.Minute).UnixMilli()}})
	}
	theme := d.pick(e.themes)
	better := demoBetter[slices.IndexFunc(demoBetter, func(s demoSaying) bool { return s.Theme == theme })]
	works := demoWorks[d.rng.IntN(len(demoWorks))]
	cv.theme = better.Theme
	text := func(s demoSaying) map[string]any {
		m := map[string]any{"text": s.Text[lang]}
		if lang != "en" {
			m["translation_en"] = s.Text["en"]
		}
		return answer(lang, promptLang, m)
	}
	services := []any{"gp"}
	if works.Theme == "Pharmacy" || d.chance(0.4) {
		services = append(services, "pharmacy")
	}
	if d.chance(0.3) {
		services = append(services, "hospital")
	}
	ch = append(ch,
		set(schema.Conversation, c, "answer.services_used", answer(lang, promptLang, map[string]any{"choice": services})),
		set(schema.Conversation, c, "answer.what_works", text(works)),
		set(schema.Conversation, c, "answer.what_could_be_better", text(better)),
	)
	if switched {
		promptLang = "en"
	}
	ch = append(ch,
		set(schema.Conversation, c, "answer.barriers", answer(lang, promptLang, map[string]any{"choice": []any{demoBarrier[better.Theme]}})),
		set(schema.Conversation, c, "answer.gp_access_rating", answer(lang, promptLang, map[string]any{"choice": fmt.Sprint(1 + d.rng.IntN(5))})),
		set(schema.Conversation, c, "answer.needed_interpreter", answer(lang, promptLang, map[string]any{"choice": map[bool]string{true: "yes", false: "no"}[interpreter != ""]})),
		set(schema.Conversation, c, "answer.hear_back_preference", answer(lang, promptLang, map[string]any{"choice": []string{"text_message", "email", "community_venue", "not_needed"}[d.rng.IntN(4)]})),
		add(schema.Conversation, c, "themes", better.Theme),
	)
	if works.Theme != "" {
		ch = append(ch, add(schema.Conversation, c, "themes", works.Theme))
	}
	return ch, cv
}

// seed writes the demo through the store: engagements under the coordinator's node,
// conversations under three enrolled demo tablets' nodes, withdrawals, decisions and
// feedback through the decision service, as the API does.
func (d *demoData) seed(ctx context.Context, st *sqlite.DB, coord store.User, cfg Config) error {
	now := cfg.Now()
	for i, t := range d.tablets {
		code, err := issueDemoCode(ctx, st, coord, now, t.Label)
		if err != nil {
			return err
		}
		secret := auth.NewSecret()
		rt := store.RefreshToken{Hash: auth.HashSecret(secret), Family: auth.NewID(), CreatedAt: now.UnixMilli(), ExpiresAt: now.Add(24 * time.Hour).UnixMilli()}
		dev, err := st.Enrol(ctx, auth.HashSecret(code), now.UnixMilli(), t, rt)
		if err != nil {
			return fmt.Errorf("demo tablet: %w", err)
		}
		d.tablets[i] = dev
	}
	opt := syncengine.ApplyOptions{Hub: true, Teams: []string{demoTeam}, Team: demoTeam}
	write := func(node string, ch []syncengine.Change) error {
		for len(ch) > 0 {
			n := min(len(ch), 4000)
			if _, _, err := st.WriteAs(ctx, node, ch[:n], opt); err != nil {
				return err
			}
			ch = ch[n:]
		}
		return nil
	}
	for _, e := range d.engagements {
		if err := write(coord.NodeID, d.engagementChanges(e)); err != nil {
			return fmt.Errorf("engagement: %w", err)
		}
	}
	for i, e := range d.engagements {
		var ch []syncengine.Change
		for k := 0; k < e.n; k++ {
			c, cv := d.conversationChanges(e, k, 0)
			ch = append(ch, c...)
			e.convs = append(e.convs, cv)
		}
		for _, size := range e.groups {
			c, cv := d.conversationChanges(e, len(e.convs), size)
			ch = append(ch, c...)
			e.convs = append(e.convs, cv)
		}
		if err := write(d.tablets[i%len(d.tablets)].NodeID, ch); err != nil {
			return fmt.Errorf("conversations: %w", err)
		}
	}

	// Two people withdraw: one asked at the next session, one by phone.
	var coordCh []syncengine.Change
	for _, w := range []struct {
		eng, conv int
		reason    string
	}{{0, 3, "asked at the next session"}, {1, 7, "asked by phone"}} {
		cv := d.engagements[w.eng].convs[w.conv]
		cv.withdrawn = true
		coordCh = append(coordCh, syncengine.Change{Collection: schema.Consent, Record: cv.consent, Kind: schema.KindWithdraw, Value: map[string]any{"reason": w.reason}})
	}
	// Published engagements, and quotes a coordinator picked for their public pages.
	for _, e := range d.engagements {
		if !e.published {
			continue
		}
		coordCh = append(coordCh, set(schema.Engagement, e.id, "published", true))
		picked := 0
		for _, cv := range e.convs {
			if cv.quote && !cv.withdrawn && cv.participant != "" && picked < 2 && (picked == 0 || cv.lang != e.convs[0].lang) {
				coordCh = append(coordCh, set(schema.Conversation, cv.id, "public_quote", "what_could_be_better"))
				picked++
			}
		}
	}
	// Reviews: most conversations approved, a few with issues for the outreach worker,
	// two rejected (recorded twice) and left out of reports.
	picked := map[string]bool{}
	for _, ch := range coordCh {
		if ch.Field == "public_quote" {
			picked[ch.Record] = true
		}
	}
	for ei, e := range d.engagements {
		for k, cv := range e.convs {
			if cv.withdrawn || picked[cv.id] {
				continue
			}
			review := func(state, comment string) {
				coordCh = append(coordCh, set(schema.Conversation, cv.id, "review_state", state))
				if comment != "" {
					coordCh = append(coordCh, set(schema.Conversation, cv.id, "review_comment", comment))
				}
			}
			switch {
			case k == 11 && (ei == 2 || ei == 3):
				review(schema.ReviewRejected, "Recorded twice by mistake: the same conversation is on another tablet.")
			case k%9 == 5:
				review(schema.ReviewHasIssues, "Please add which language the answers were given in.")
			case k%3 != 0:
				review(schema.ReviewApproved, "")
			}
		}
	}
	if err := write(coord.NodeID, coordCh); err != nil {
		return fmt.Errorf("withdrawals: %w", err)
	}

	ix := reports.NewIndex(st)
	who := feedback.Caller{Node: coord.NodeID, Teams: []string{demoTeam}}
	for _, dec := range d.decisions {
		at := d.day.AddDate(0, 0, -dec.daysAgo).Add(14 * time.Hour).UnixMilli()
		fs := &feedback.Service{Replica: st, Index: ix, Now: func() int64 { return at }, PublicURL: cfg.PublicURL}
		in := dec.in
		for _, ei := range dec.eng {
			for _, cv := range d.engagements[ei].convs {
				if !cv.withdrawn && slices.Contains(in.Themes, cv.theme) {
					in.Conversations = append(in.Conversations, cv.id)
				}
			}
		}
		rec, err := fs.CreateDecision(ctx, who, in)
		if err != nil {
			return fmt.Errorf("decision %q: %w", in.Title, err)
		}
		if err := write(coord.NodeID, []syncengine.Change{set(schema.Decision, rec.ID, "progress", dec.progress)}); err != nil {
			return err
		}
		if _, err := fs.QueueFeedback(ctx, who, rec.ID); err != nil {
			return fmt.Errorf("feedback: %w", err)
		}
		if dec.sent {
			var sent []syncengine.Change
			items, err := fs.List(ctx, []string{demoTeam}, "queued")
			if err != nil {
				return err
			}
			for _, it := range items {
				if it.Decision == rec.ID {
					sent = append(sent, set(schema.Feedback, it.ID, "status", "sent"), set(schema.Feedback, it.ID, "sent_at", at+2*24*3600*1000))
				}
			}
			if err := write(coord.NodeID, sent); err != nil {
				return err
			}
		}
	}
	return nil
}

func issueDemoCode(ctx context.Context, st store.Store, coord store.User, now time.Time, label string) (string, error) {
	code := auth.NewEnrolmentCode()
	err := st.CreateEnrolmentCode(ctx, store.EnrolmentCode{Hash: auth.HashSecret(code), Team: demoTeam, Label: label,
		CreatedBy: coord.ID, CreatedAt: now.UnixMilli(), ExpiresAt: now.Add(time.Hour).UnixMilli()})
	return code, err
}
