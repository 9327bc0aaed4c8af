package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	sdk "github.com/fieldnotes/fieldnotes/client-sdk"
	"github.com/fieldnotes/fieldnotes/locales"
	"github.com/fieldnotes/fieldnotes/schema"
)

// The interview: choose the person's language → read the consent statement in it → take
// consent scope by scope, and how it was given → the prompts one by one, F2 or Tab
// switching the display language for the interpreter (each switch recorded at that
// prompt) → equality questions, only if consented → a note and themes. Every answer is
// saved as it is given, so quitting (or a flat battery) loses nothing already answered.

type stage int

const (
	stLang stage = iota
	stStatement
	stScope
	stMethod
	stInterpreter
	stPrompt
	stTranslation
	stEquality
	stContactName
	stContactEmail
	stContactPhone
	stNotes
	stThemes
	stDeclined
	stDone
)

type interview struct {
	c     *cli
	ctx   context.Context
	dev   *sdk.Device
	eng   string
	group int
	set   sdk.PromptSet
	width int

	stage    stage
	cursor   int
	picked   map[int]bool
	input    lineInput
	problem  string
	langs    []string
	partLang string   // the person's language, chosen first
	engLangs []string // the engagement's languages
	display  string   // the language prompts are shown in now
	ring     []string

	scopeIdx int
	agreed   []string
	method   string
	consent  sdk.ConsentRef
	conv     string
	prompt   int
	pending  sdk.AnswerInput // a text answer waiting for its English translation
	answers  int
	eqIdx    int
	note     string
}

func (c *cli) interview(ctx context.Context, dev *sdk.Device, eng, venue, venueType string, group int) int {
	if _, err := dev.Identity(); err != nil {
		return c.fail(err)
	}
	if eng == "" {
		engs, err := dev.Engagements(ctx)
		if err != nil {
			return c.fail(err)
		}
		if len(engs) > 0 {
			eng = engs[len(engs)-1].ID // ids are UUIDv7: the last is the latest
		} else if eng, err = dev.StartEngagement(ctx, sdk.EngagementInput{VenueName: venue, VenueType: venueType}); err != nil {
			return c.fail(err)
		}
	}
	set, err := dev.Prompts(ctx, eng)
	if err != nil {
		return c.fail(err)
	}
	m := &interview{c: c, ctx: ctx, dev: dev, eng: eng, group: group, set: set, width: 80, picked: map[int]bool{}}
	if e, err := dev.Engagement(ctx, eng); err == nil {
		m.engLangs = e.Languages
	}
	for _, t := range locales.Supported {
		m.langs = append(m.langs, t.String())
	}
	final, err := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(c.stdin), tea.WithOutput(c.stdout)).Run()
	if err != nil {
		return c.fail(err)
	}
	fm := final.(*interview)
	switch fm.stage {
	case stDone:
		c.println(c.tn("cli.conversation_saved", fm.answers, nil))
	case stDeclined:
		c.println(c.t("cli.consent_declined", nil))
	default:
		c.println(c.t("cli.goodbye", nil))
	}
	return 0
}

func (m *interview) Init() tea.Cmd { return nil }

func (m *interview) fail(err error) {
	if e, ok := err.(*sdk.Error); ok {
		m.problem = m.c.t("cli.problem", map[string]any{"Message": e.Message(m.c.lang)})
		return
	}
	m.problem = m.c.t("cli.problem", map[string]any{"Message": err.Error()})
}

func (m *interview) text(lang, id string) string {
	s, _ := locales.Localize(lang, id, nil)
	return s
}

func (m *interview) startText() {
	m.input.Reset()
}

// listLen is the number of rows of the list the current stage shows.
func (m *interview) listLen() int {
	switch m.stage {
	case stLang:
		return len(m.langs)
	case stMethod:
		return len(schema.ConsentMethods)
	case stEquality:
		return len(locales.EqualityQuestions()[m.eqIdx].Values)
	case stPrompt:
		return len(m.set.Prompts[m.prompt].Choices)
	}
	return 0
}

func (m *interview) isText() bool {
	switch m.stage {
	case stInterpreter, stTranslation, stContactName, stContactEmail, stContactPhone, stNotes, stThemes:
		return true
	case stPrompt:
		return m.set.Prompts[m.prompt].Kind == locales.KindText
	}
	return false
}

func (m *interview) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width = msg.Width
		return m, nil
	case tea.KeyMsg:
		if msg.Type == tea.KeyCtrlC {
			return m, tea.Quit
		}
		if m.stage == stPrompt && (msg.Type == tea.KeyF2 || msg.Type == tea.KeyTab) {
			m.switchLanguage()
			return m, nil
		}
		if m.stage == stDeclined {
			return m, tea.Quit
		}
		if n := m.listLen(); n > 0 && !m.isText() {
			switch msg.Type {
			case tea.KeyUp:
				m.cursor = (m.cursor + n - 1) % n
				return m, nil
			case tea.KeyDown:
				m.cursor = (m.cursor + 1) % n
				return m, nil
			case tea.KeySpace:
				m.picked[m.cursor] = !m.picked[m.cursor]
				return m, nil
			}
		}
		if m.stage == stScope {
			// Keys typed quickly can arrive together ("yyn"): take each in turn.
			for _, r := range strings.ToLower(string(msg.Runes)) {
				if m.stage != stScope {
					break
				}
				switch r {
				case 'y':
					m.agreed = append(m.agreed, locales.ConsentScopes[m.scopeIdx])
					m.nextScope()
				case 'n':
					m.nextScope()
				}
			}
			return m, nil
		}
		if msg.Type == tea.KeyEsc && m.stage == stPrompt && m.prompt > 0 {
			m.prompt--
			m.enterPrompt()
			return m, nil
		}
		if msg.Type == tea.KeyEnter {
			m.problem = ""
			return m, m.enter()
		}
	}
	if m.isText() {
		m.input.Update(msg)
	}
	return m, nil
}

func (m *interview) switchLanguage() {
	from := m.display
	i := slices.Index(m.ring, from)
	to := m.ring[(i+1)%len(m.ring)]
	if to == from {
		return
	}
	if err := m.dev.SwitchLanguage(m.ctx, m.conv, m.set.Prompts[m.prompt].ID, from, to); err != nil {
		m.fail(err)
		return
	}
	m.display = to
	m.problem = m.c.t("cli.language_switched", map[string]any{"Language": locales.Name(to)})
}

// languageRing is the order F2/Tab moves the prompts through: the person's language, the
// worker's, the engagement's languages, then English; each once. With an English-speaking
// person and an English worker it is still the engagement's languages that an
// interpreter switches between.
func languageRing(person, worker string, engagement []string) []string {
	ring := []string{person}
	for _, l := range append(append([]string{locales.Match(worker).String()}, engagement...), "en") {
		if l = locales.Match(l).String(); !slices.Contains(ring, l) {
			ring = append(ring, l)
		}
	}
	return ring
}

func (m *interview) nextScope() {
	m.scopeIdx++
	if m.scopeIdx < len(locales.ConsentScopes) {
		return
	}
	if !slices.Contains(m.agreed, schema.ScopeRecordViews) {
		m.stage = stDeclined // nothing is saved
		return
	}
	m.stage, m.cursor = stMethod, 0
}

// enter acts on Enter in the current stage.
func (m *interview) enter() tea.Cmd {
	switch m.stage {
	case stLang:
		m.partLang = m.langs[m.cursor]
		m.display = m.partLang
		m.ring = languageRing(m.partLang, m.c.lang, m.engLangs)
		m.stage = stStatement
	case stStatement:
		m.stage = stScope
	case stMethod:
		m.method = schema.ConsentMethods[m.cursor]
		m.stage = stInterpreter
		m.startText()
	case stInterpreter:
		interp := strings.TrimSpace(m.input.Value())
		st := locales.BuiltinConsentStatements()[0]
		ref, err := m.dev.RecordConsent(m.ctx, sdk.ConsentInput{Engagement: m.eng, Group: m.group > 0,
			StatementID: st.ID, StatementVersion: st.Version, StatementLocale: m.partLang,
			Scopes: m.agreed, Method: m.method, Interpreter: interp, RecordedBy: m.recorder()})
		if err != nil {
			m.fail(err)
			return nil
		}
		m.consent = ref
		conv, err := m.dev.StartConversation(m.ctx, sdk.ConversationInput{Engagement: m.eng, Consent: ref.ID,
			GroupSize: m.group, Locales: []string{m.partLang}, Interpreter: interp})
		if err != nil {
			m.fail(err)
			return nil
		}
		m.conv = conv
		m.prompt = 0
		m.stage = stPrompt
		m.enterPrompt()
	case stPrompt:
		p := m.set.Prompts[m.prompt]
		in := sdk.AnswerInput{PromptID: p.ID, PromptLocale: m.display, AnswerLocale: m.partLang}
		if p.Kind == locales.KindText {
			in.Text = strings.TrimSpace(m.input.Value())
			if in.Text == "" {
				return m.nextPrompt() // skipped
			}
			if m.partLang != "en" {
				m.pending = in
				m.stage = stTranslation
				m.startText()
				return nil
			}
		} else if p.Kind == locales.KindMultiChoice {
			in.Multi = true
			for i, c := range p.Choices {
				if m.picked[i] {
					in.Choices = append(in.Choices, c)
				}
			}
			if len(in.Choices) == 0 {
				return m.nextPrompt()
			}
		} else {
			in.Choices = []string{p.Choices[m.cursor]}
		}
		return m.save(in)
	case stTranslation:
		m.pending.TranslationEN = strings.TrimSpace(m.input.Value())
		m.stage = stPrompt
		return m.save(m.pending)
	case stEquality:
		q := locales.EqualityQuestions()[m.eqIdx]
		if err := m.dev.SetEquality(m.ctx, m.consent.ID, q.Field, q.Values[m.cursor]); err != nil {
			m.fail(err)
			return nil
		}
		m.nextEquality()
	case stContactName, stContactEmail, stContactPhone:
		m.contactField()
	case stNotes:
		m.note = strings.TrimSpace(m.input.Value())
		if m.note != "" {
			if err := m.dev.AddNote(m.ctx, m.conv, m.note); err != nil {
				m.fail(err)
				return nil
			}
		}
		m.stage = stThemes
		m.startText()
	case stThemes:
		for _, th := range strings.Split(m.input.Value(), ",") {
			if th = strings.TrimSpace(th); th != "" {
				if err := m.dev.AddTheme(m.ctx, m.conv, th); err != nil {
					m.fail(err)
					return nil
				}
			}
		}
		if err := m.dev.EndConversation(m.ctx, m.conv, 0); err != nil {
			m.fail(err)
			return nil
		}
		m.stage = stDone
		return tea.Quit
	}
	return nil
}

func (m *interview) recorder() string {
	if id, err := m.dev.Identity(); err == nil && id.Label != "" {
		return id.Label
	}
	return "fieldnotes-cli"
}

func (m *interview) save(in sdk.AnswerInput) tea.Cmd {
	if err := m.dev.Answer(m.ctx, m.conv, in); err != nil {
		m.fail(err)
		return nil
	}
	m.answers++
	return m.nextPrompt()
}

func (m *interview) enterPrompt() {
	m.cursor, m.picked = 0, map[int]bool{}
	m.startText()
}

func (m *interview) nextPrompt() tea.Cmd {
	m.stage = stPrompt
	m.prompt++
	if m.prompt < len(m.set.Prompts) {
		m.enterPrompt()
		return nil
	}
	if slices.Contains(m.agreed, schema.ScopeEqualityMonitoring) && m.group == 0 {
		m.stage, m.eqIdx, m.cursor = stEquality, 0, 0
		return nil
	}
	m.afterEquality()
	return nil
}

// afterEquality asks how to reach the person when they agreed to hear back (so the
// team's "you said, we did" feedback can reach them), then for a note.
func (m *interview) afterEquality() {
	if slices.Contains(m.agreed, schema.ScopeContactForFeedback) && m.group == 0 {
		m.stage = stContactName
	} else {
		m.stage = stNotes
	}
	m.startText()
}

// contactField saves the contact detail just typed (empty: skipped) and moves on; a
// detail the SDK refuses (an email without @) keeps the worker on that line.
func (m *interview) contactField() {
	v := strings.TrimSpace(m.input.Value())
	var c sdk.Contact
	next := stNotes
	switch m.stage {
	case stContactName:
		c.Name, next = v, stContactEmail
	case stContactEmail:
		c.Email, next = v, stContactPhone
	case stContactPhone:
		c.Phone = v
	}
	if v != "" {
		if err := m.dev.SetContact(m.ctx, m.consent.ID, c); err != nil {
			m.fail(err)
			return
		}
	}
	m.stage = next
	m.startText()
}

func (m *interview) nextEquality() {
	m.eqIdx++
	m.cursor = 0
	if m.eqIdx < len(locales.EqualityQuestions()) {
		return
	}
	m.afterEquality()
}

// inputView is the text field, cut to the terminal's width (see rtl.go).
func (m *interview) inputView() string {
	w := m.width
	if w <= 0 {
		w = 80
	}
	return strings.Join(hardWrap(m.input.View(), max(w-1, 10)), "\n") + "\n"
}

func (m *interview) View() string {
	var b strings.Builder
	ui := m.c.lang
	line := func(lang, s string) {
		b.WriteString(render(s, locales.IsRTL(lang), m.width))
		b.WriteString("\n")
	}
	list := func(lang string, labels []string, multi bool) {
		for i, l := range labels {
			mark := "  "
			if i == m.cursor {
				mark = "> "
			}
			if multi {
				if m.picked[i] {
					mark += "[x] "
				} else {
					mark += "[ ] "
				}
			}
			line(lang, mark+l)
		}
	}
	line(ui, m.c.t("cli.welcome", nil))
	line(ui, m.c.t("cli.help_keys", nil))
	b.WriteString("\n")
	p := m.display
	switch m.stage {
	case stLang:
		line(ui, m.c.t("cli.choose_language", nil))
		var names []string
		for _, l := range m.langs {
			names = append(names, locales.Name(l)+" ("+l+")")
		}
		list(ui, names, false)
	case stStatement:
		st := locales.BuiltinConsentStatements()[0]
		line(ui, m.c.t("cli.read_statement", nil))
		b.WriteString("\n")
		line(p, m.text(p, st.TitleID()))
		line(p, m.text(p, st.BodyID()))
		b.WriteString("\n")
		line(ui, m.c.t("cli.next", nil)+": Enter")
	case stScope:
		scope := locales.ConsentScopes[m.scopeIdx]
		line(p, m.text(p, locales.ScopeMessageID(scope)))
		line(p, m.text(p, "consent.question"))
		line(ui, m.c.t("cli.consent_scope_prompt", map[string]any{"YesKey": "Y", "NoKey": "N"}))
	case stMethod:
		line(ui, m.c.t("cli.consent_method_prompt", nil))
		var labels []string
		for _, meth := range schema.ConsentMethods {
			labels = append(labels, m.c.t(locales.MethodMessageID(meth), nil))
		}
		list(ui, labels, false)
	case stInterpreter:
		line(ui, m.c.t("cli.interpreter_prompt", nil))
		b.WriteString(m.inputView())
	case stPrompt, stTranslation:
		pr := m.set.Prompts[m.prompt]
		line(ui, m.c.tn("cli.question_progress", len(m.set.Prompts), map[string]any{"Number": m.prompt + 1, "Count": len(m.set.Prompts)}))
		line(ui, m.c.t("cli.display_language", map[string]any{"Language": locales.Name(p)})+"   "+m.c.t("cli.language_switch_hint", nil))
		b.WriteString("\n")
		q, _ := m.set.Text(pr.ID, p)
		line(p, q)
		b.WriteString("\n")
		if m.stage == stTranslation {
			line(ui, m.c.t("cli.translation_prompt", nil))
			b.WriteString(m.inputView())
			break
		}
		switch pr.Kind {
		case locales.KindText:
			line(ui, m.c.t("cli.type_answer", nil)+" "+m.c.t("cli.skip_hint", nil))
			b.WriteString(m.inputView())
		default:
			multi := pr.Kind == locales.KindMultiChoice
			if multi {
				line(ui, m.c.t("cli.choose_many", nil))
			} else {
				line(ui, m.c.t("cli.choose_one", nil))
			}
			var labels []string
			for _, ch := range pr.Choices {
				t, _ := m.set.ChoiceText(pr.ID, ch, p)
				labels = append(labels, t)
			}
			list(p, labels, multi)
		}
	case stEquality:
		q := locales.EqualityQuestions()[m.eqIdx]
		if m.eqIdx == 0 {
			line(p, m.text(p, "equality.intro"))
		}
		line(ui, fmt.Sprintf("%d/%d", m.eqIdx+1, len(locales.EqualityQuestions())))
		line(p, m.text(p, q.QuestionID()))
		var labels []string
		for _, v := range q.Values {
			labels = append(labels, m.text(p, q.ValueID(v)))
		}
		list(p, labels, false)
	case stContactName, stContactEmail, stContactPhone:
		line(ui, m.c.t("cli.contact_intro", nil))
		id := map[stage]string{stContactName: "cli.contact_name", stContactEmail: "cli.contact_email", stContactPhone: "cli.contact_phone"}[m.stage]
		line(ui, m.c.t(id, nil))
		b.WriteString(m.inputView())
	case stNotes:
		line(ui, m.c.t("cli.notes_prompt", nil))
		b.WriteString(m.inputView())
	case stThemes:
		line(ui, m.c.t("cli.themes_prompt", nil))
		b.WriteString(m.inputView())
	case stDeclined:
		line(ui, m.c.t("cli.consent_declined", nil))
	case stDone:
		line(ui, m.c.t("cli.saved", nil))
	}
	if m.problem != "" {
		b.WriteString("\n")
		line(ui, m.problem)
	}
	return b.String()
}
