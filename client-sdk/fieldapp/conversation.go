package fieldapp

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	sdk "github.com/fieldnotes/fieldnotes/client-sdk"
	"github.com/fieldnotes/fieldnotes/locales"
)

// conv is a conversation with what its pages need: its consent, prompt set and the
// language it is shown in now (the last switch's, else the consent statement's).
type conv struct {
	sdk.Conversation
	Consent sdk.Consent
	Set     sdk.PromptSet
	Lang    string
}

func (a *App) loadConv(w http.ResponseWriter, r *http.Request) (*conv, bool) {
	c, err := a.dev.Conversation(r.Context(), r.PathValue("id"))
	if err == nil && c.Consent == "" {
		err = sdk.ErrNotFound
	}
	if err != nil {
		a.failErr(w, r, a.uiLang(r), err)
		return nil, false
	}
	cv := &conv{Conversation: c}
	if cv.Consent, err = a.dev.Consent(r.Context(), c.Consent); err != nil {
		a.failErr(w, r, a.uiLang(r), err)
		return nil, false
	}
	cv.Lang = normLang(cv.Consent.StatementLocale)
	if n := len(c.LanguageSwitches); n > 0 {
		if l := normLang(c.LanguageSwitches[n-1].To); l != "" {
			cv.Lang = l
		}
	}
	if cv.Lang == "" {
		cv.Lang = a.uiLang(r)
	}
	if cv.Set, err = a.dev.Prompts(r.Context(), c.Engagement); err != nil {
		a.failErr(w, r, cv.Lang, err)
		return nil, false
	}
	return cv, true
}

// convPage is a page of a conversation, in its language, whose language control records
// a switch at where the conversation is.
func (a *App) convPage(r *http.Request, cv *conv, titleID, at string) *page {
	p := a.newPage(r, cv.Lang, titleID)
	p.Nav = "conversation"
	p.LangBar = langBar{Action: "/conversations/" + cv.ID + "/language", Method: "post",
		Hidden: map[string]string{"at": at, "return": r.URL.Path}, Options: langOptions(cv.Lang)}
	return p
}

// conversationResume goes to where the conversation is: the first prompt not answered,
// or the receipt once it has ended.
func (a *App) conversationResume(w http.ResponseWriter, r *http.Request) {
	cv, ok := a.loadConv(w, r)
	if !ok {
		return
	}
	if cv.EndedAt != 0 {
		redirect(w, r, "/consents/"+cv.Consent.ID+"/receipt")
		return
	}
	for i, pr := range cv.Set.Prompts {
		if _, done := cv.Answer(pr.ID); !done {
			redirect(w, r, "/conversations/"+cv.ID+"/prompts/"+strconv.Itoa(i+1))
			return
		}
	}
	redirect(w, r, a.afterPrompts(cv))
}

// afterPrompts is the step after the last prompt: equality questions if agreed, contact
// details if agreed, then notes.
func (a *App) afterPrompts(cv *conv) string {
	switch {
	case cv.Consent.Covers("equality_monitoring"):
		return "/conversations/" + cv.ID + "/equality"
	case cv.Consent.Covers("contact_for_feedback"):
		return "/conversations/" + cv.ID + "/contact"
	}
	return "/conversations/" + cv.ID + "/notes"
}

type choiceView struct {
	ID, Text string
	Checked  bool
}

type promptData struct {
	ID, ConsentID string
	N, Of         int
	Prev          string
	Prompt        sdk.Prompt
	Question      string
	Multi, Text   bool
	Choices       []choiceView
	Answer        string
	Translation   string
	AskEnglish    bool
}

func (a *App) promptIndex(w http.ResponseWriter, r *http.Request, cv *conv) (int, bool) {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 || n > len(cv.Set.Prompts) {
		a.fail(w, r, http.StatusNotFound, cv.Lang, "fieldapp.error.no_prompt", nil)
		return 0, false
	}
	return n, true
}

func (a *App) promptShow(w http.ResponseWriter, r *http.Request) {
	cv, ok := a.loadConv(w, r)
	if !ok {
		return
	}
	n, ok := a.promptIndex(w, r, cv)
	if !ok {
		return
	}
	pr := cv.Set.Prompts[n-1]
	p := a.convPage(r, cv, "fieldapp.prompt.title", pr.ID)
	q, _ := cv.Set.Text(pr.ID, cv.Lang)
	d := promptData{ID: cv.ID, ConsentID: cv.Consent.ID, N: n, Of: len(cv.Set.Prompts), Prompt: pr, Question: q,
		Multi: pr.Kind == locales.KindMultiChoice, Text: pr.Kind == locales.KindText || len(pr.Choices) == 0,
		AskEnglish: !strings.HasPrefix(cv.Lang, "en")}
	if n > 1 {
		d.Prev = "/conversations/" + cv.ID + "/prompts/" + strconv.Itoa(n-1)
	}
	ans, _ := cv.Answer(pr.ID)
	d.Answer, d.Translation = ans.Text, ans.TranslationEN
	for _, c := range pr.Choices {
		t, _ := cv.Set.ChoiceText(pr.ID, c, cv.Lang)
		d.Choices = append(d.Choices, choiceView{ID: c, Text: t, Checked: slices.Contains(ans.Choices, c)})
	}
	p.Title = q
	p.Data = d
	a.render(w, http.StatusOK, "prompt", p)
}

// promptAnswer stores the answer (durable when this returns) and goes to the next step.
// An empty answer skips the prompt.
func (a *App) promptAnswer(w http.ResponseWriter, r *http.Request) {
	cv, ok := a.loadConv(w, r)
	if !ok {
		return
	}
	n, ok := a.promptIndex(w, r, cv)
	if !ok {
		return
	}
	pr := cv.Set.Prompts[n-1]
	in := sdk.AnswerInput{PromptID: pr.ID, PromptLocale: cv.Lang, Multi: pr.Kind == locales.KindMultiChoice,
		Text: strings.TrimSpace(r.PostFormValue("answer")), TranslationEN: strings.TrimSpace(r.PostFormValue("translation_en"))}
	for _, c := range r.PostForm["choice"] {
		if !slices.Contains(pr.Choices, c) {
			a.fail(w, r, http.StatusBadRequest, cv.Lang, "error.invalid_enum",
				map[string]any{"Field": pr.ID, "Allowed": strings.Join(pr.Choices, ", ")})
			return
		}
		in.Choices = append(in.Choices, c)
	}
	if !in.Multi && len(in.Choices) > 1 {
		a.fail(w, r, http.StatusBadRequest, cv.Lang, "fieldapp.error.one_choice", nil)
		return
	}
	if in.Text != "" || len(in.Choices) > 0 {
		if err := a.dev.Answer(r.Context(), cv.ID, in); err != nil {
			a.failErr(w, r, cv.Lang, err)
			return
		}
	}
	if r.PostFormValue("go") == "back" && n > 1 {
		redirect(w, r, "/conversations/"+cv.ID+"/prompts/"+strconv.Itoa(n-1))
		return
	}
	if n < len(cv.Set.Prompts) {
		redirect(w, r, "/conversations/"+cv.ID+"/prompts/"+strconv.Itoa(n+1))
		return
	}
	redirect(w, r, a.afterPrompts(cv))
}

// languageSwitch records that the conversation is shown in another language from here on
// (at the prompt, or the step, the page was showing), then shows the same page again.
func (a *App) languageSwitch(w http.ResponseWriter, r *http.Request) {
	cv, ok := a.loadConv(w, r)
	if !ok {
		return
	}
	to := normLang(r.PostFormValue("lang"))
	if to == "" {
		a.fail(w, r, http.StatusBadRequest, cv.Lang, "fieldapp.error.language", nil)
		return
	}
	at := r.PostFormValue("at")
	if at == "" {
		a.fail(w, r, http.StatusBadRequest, cv.Lang, "error.required", map[string]any{"Field": "at"})
		return
	}
	back := r.PostFormValue("return")
	if !strings.HasPrefix(back, "/conversations/"+cv.ID+"/") || !localPath(back) {
		back = "/conversations/" + cv.ID
	}
	if to != cv.Lang {
		if err := a.dev.SwitchLanguage(r.Context(), cv.ID, at, cv.Lang, to); err != nil {
			a.failErr(w, r, cv.Lang, err)
			return
		}
	}
	redirect(w, r, back)
}
