package fieldapp

import (
	"net/http"
	"slices"
	"strings"

	sdk "github.com/fieldnotes/fieldnotes/client-sdk"
	"github.com/fieldnotes/fieldnotes/locales"
)

type scopeView struct {
	ID, Text string
	Checked  bool
}

type consentData struct {
	Engagement  sdk.Engagement
	Participant string // the participant's language
	Title       string
	Paras       []string
	Scopes      []scopeView
	Methods     []scopeView
	Interpreter string
	Problem     string
	Field       string
}

// participantLang is the language the consent is taken in: ?lang= (the language control),
// else the worker's own if the engagement offers it, else the first the engagement
// offers, else the worker's.
func (a *App) participantLang(r *http.Request, e sdk.Engagement) string {
	if l := normLang(r.FormValue("lang")); l != "" {
		return l
	}
	ui := a.uiLang(r)
	var first string
	for _, l := range e.Languages {
		n := normLang(locales.Match(l).String())
		if n == ui {
			return ui
		}
		if first == "" {
			first = n
		}
	}
	if first != "" {
		return first
	}
	return ui
}

func (a *App) consentPage(r *http.Request, e sdk.Engagement, lang string) (*page, *consentData) {
	p := a.newPage(r, lang, "fieldapp.consent.title")
	p.Nav = "engagements"
	p.LangBar = langBar{Action: "/engagements/" + e.ID + "/consent", Method: "get", Options: langOptions(lang)}
	st := locales.BuiltinConsentStatements()[0]
	d := &consentData{Engagement: e, Participant: lang, Title: p.T(st.TitleID())}
	for _, para := range strings.Split(p.T(st.BodyID()), "\n\n") {
		if para = strings.TrimSpace(para); para != "" {
			d.Paras = append(d.Paras, para)
		}
	}
	for _, s := range locales.ConsentScopes {
		d.Scopes = append(d.Scopes, scopeView{ID: s, Text: p.T(locales.ScopeMessageID(s))})
	}
	for _, m := range locales.ConsentMethods {
		// Most people agree out loud: that is ticked to start with (the scopes never are).
		d.Methods = append(d.Methods, scopeView{ID: m, Text: p.T(locales.MethodMessageID(m)), Checked: m == "verbal"})
	}
	p.Data = d
	return p, d
}

func (a *App) consentShow(w http.ResponseWriter, r *http.Request) {
	e, err := a.dev.Engagement(r.Context(), r.PathValue("id"))
	if err != nil {
		a.failErr(w, r, a.uiLang(r), err)
		return
	}
	p, _ := a.consentPage(r, e, a.participantLang(r, e))
	a.render(w, http.StatusOK, "consent", p)
}

// consentRecord records the consent in the participant's language and, when they agreed
// to have their views written down, starts the conversation at the first prompt.
func (a *App) consentRecord(w http.ResponseWriter, r *http.Request) {
	e, err := a.dev.Engagement(r.Context(), r.PathValue("id"))
	if err != nil {
		a.failErr(w, r, a.uiLang(r), err)
		return
	}
	lang := normLang(r.PostFormValue("lang"))
	if lang == "" {
		a.fail(w, r, http.StatusBadRequest, a.uiLang(r), "fieldapp.error.language", nil)
		return
	}
	scopes := r.PostForm["scope"]
	method := r.PostFormValue("method")
	interp := strings.TrimSpace(r.PostFormValue("interpreter"))
	if method == "" {
		p, d := a.consentPage(r, e, lang)
		for i := range d.Scopes {
			d.Scopes[i].Checked = slices.Contains(scopes, d.Scopes[i].ID)
		}
		for i := range d.Methods {
			d.Methods[i].Checked = false
		}
		d.Interpreter, d.Field, d.Problem = interp, "method", p.T("fieldapp.consent.method_missing")
		a.render(w, http.StatusBadRequest, "consent", p)
		return
	}
	if method == "interpreter" && interp == "" {
		p, d := a.consentPage(r, e, lang)
		for i := range d.Scopes {
			d.Scopes[i].Checked = slices.Contains(scopes, d.Scopes[i].ID)
		}
		for i := range d.Methods {
			d.Methods[i].Checked = d.Methods[i].ID == method
		}
		d.Interpreter, d.Field, d.Problem = interp, "interpreter", p.T("fieldapp.consent.interpreter_missing")
		a.render(w, http.StatusBadRequest, "consent", p)
		return
	}
	ref, err := a.dev.RecordConsent(r.Context(), sdk.ConsentInput{Engagement: e.ID, StatementLocale: lang,
		PreferredLocale: lang, Scopes: scopes, Method: method, Interpreter: interp})
	if err != nil {
		a.failErr(w, r, lang, err)
		return
	}
	if !slices.Contains(scopes, "record_views") {
		redirect(w, r, "/consents/"+ref.ID+"/receipt")
		return
	}
	conv, err := a.dev.StartConversation(r.Context(), sdk.ConversationInput{Engagement: e.ID, Consent: ref.ID,
		Locales: []string{lang}, Interpreter: interp})
	if err != nil {
		a.failErr(w, r, lang, err)
		return
	}
	a.opts.Logger.Info("conversation started", "conversation", conv, "consent", ref.ID)
	redirect(w, r, "/conversations/"+conv+"/prompts/1")
}
