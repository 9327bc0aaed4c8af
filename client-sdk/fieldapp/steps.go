package fieldapp

import (
	"net/http"
	"slices"
	"strings"

	sdk "github.com/fieldnotes/fieldnotes/client-sdk"
	"github.com/fieldnotes/fieldnotes/locales"
)

type eqGroup struct {
	Heading string
	Values  []choiceView
}

type eqQuestion struct {
	Field, Question string
	Groups          []eqGroup
}

type equalityData struct {
	ID        string
	Questions []eqQuestion
}

func (a *App) equalityShow(w http.ResponseWriter, r *http.Request) {
	cv, ok := a.loadConv(w, r)
	if !ok {
		return
	}
	if !cv.Consent.Covers("equality_monitoring") {
		a.fail(w, r, http.StatusForbidden, cv.Lang, "error.consent_scope_missing",
			map[string]any{"Scope": tr(cv.Lang, locales.ScopeNameID("equality_monitoring"), nil)})
		return
	}
	var have map[string]string
	if cv.Participant != "" {
		if pt, err := a.dev.Participant(r.Context(), cv.Participant); err == nil {
			have = pt.Equality
		}
	}
	p := a.convPage(r, cv, "fieldapp.equality.title", "equality")
	d := equalityData{ID: cv.ID}
	for _, q := range locales.EqualityQuestions() {
		eq := eqQuestion{Field: q.Field, Question: p.T(q.QuestionID())}
		var cur *eqGroup
		for _, v := range q.Values {
			head := ""
			if q.Field == "eq_ethnicity" {
				for _, g := range locales.EthnicGroups {
					if strings.HasPrefix(v, g+"_") {
						head = p.T(locales.EthnicGroupMessageID(g))
					}
				}
			}
			if cur == nil || cur.Heading != head {
				eq.Groups = append(eq.Groups, eqGroup{Heading: head})
				cur = &eq.Groups[len(eq.Groups)-1]
			}
			cur.Values = append(cur.Values, choiceView{ID: v, Text: p.T(q.ValueID(v)), Checked: have[q.Field] == v})
		}
		d.Questions = append(d.Questions, eq)
	}
	p.Data = d
	a.render(w, http.StatusOK, "equality", p)
}

// equalitySave stores every question answered (one transaction each; a question left
// blank is not stored). Bad values are refused before anything is written.
func (a *App) equalitySave(w http.ResponseWriter, r *http.Request) {
	cv, ok := a.loadConv(w, r)
	if !ok {
		return
	}
	r.ParseForm()
	// Check every answer before saving any, so a bad one changes nothing.
	type answer struct{ field, value string }
	var answers []answer
	for _, q := range locales.EqualityQuestions() {
		v := r.PostFormValue(q.Field)
		if v == "" {
			continue
		}
		if !slices.Contains(q.Values, v) {
			a.fail(w, r, http.StatusBadRequest, cv.Lang, "error.invalid_enum",
				map[string]any{"Field": q.Field, "Allowed": strings.Join(q.Values, ", ")})
			return
		}
		answers = append(answers, answer{q.Field, v})
	}
	for _, x := range answers {
		if err := a.dev.SetEquality(r.Context(), cv.Consent.ID, x.field, x.value); err != nil {
			a.failErr(w, r, cv.Lang, err)
			return
		}
	}
	if cv.Consent.Covers("contact_for_feedback") {
		redirect(w, r, "/conversations/"+cv.ID+"/contact")
		return
	}
	redirect(w, r, "/conversations/"+cv.ID+"/notes")
}

type contactData struct {
	ID                 string
	Name, Email, Phone string
	Problem            string
}

func (a *App) contactShow(w http.ResponseWriter, r *http.Request) {
	cv, ok := a.loadConv(w, r)
	if !ok {
		return
	}
	if !cv.Consent.Covers("contact_for_feedback") {
		a.fail(w, r, http.StatusForbidden, cv.Lang, "error.consent_scope_missing",
			map[string]any{"Scope": tr(cv.Lang, locales.ScopeNameID("contact_for_feedback"), nil)})
		return
	}
	p := a.convPage(r, cv, "fieldapp.contact.title", "contact")
	d := contactData{ID: cv.ID}
	if pt, err := a.dev.Participant(r.Context(), cv.Participant); err == nil {
		d.Name, d.Email, d.Phone = pt.ContactName, pt.ContactEmail, pt.ContactPhone
	}
	p.Data = d
	a.render(w, http.StatusOK, "contact", p)
}

func (a *App) contactSave(w http.ResponseWriter, r *http.Request) {
	cv, ok := a.loadConv(w, r)
	if !ok {
		return
	}
	c := sdk.Contact{Name: strings.TrimSpace(r.PostFormValue("name")), Email: strings.TrimSpace(r.PostFormValue("email")),
		Phone: strings.TrimSpace(r.PostFormValue("phone"))}
	if c.Email != "" && (!strings.Contains(c.Email, "@") || strings.ContainsAny(c.Email, " \t")) {
		p := a.convPage(r, cv, "fieldapp.contact.title", "contact")
		p.Data = contactData{ID: cv.ID, Name: c.Name, Email: c.Email, Phone: c.Phone, Problem: p.T("fieldapp.contact.email_invalid")}
		a.render(w, http.StatusBadRequest, "contact", p)
		return
	}
	if err := a.dev.SetContact(r.Context(), cv.Consent.ID, c); err != nil {
		a.failErr(w, r, cv.Lang, err)
		return
	}
	redirect(w, r, "/conversations/"+cv.ID+"/notes")
}

type notesData struct {
	ID     string
	Notes  []string
	Themes []string
}

func (a *App) notesShow(w http.ResponseWriter, r *http.Request) {
	cv, ok := a.loadConv(w, r)
	if !ok {
		return
	}
	p := a.convPage(r, cv, "fieldapp.notes.title", "notes")
	p.Data = notesData{ID: cv.ID, Notes: cv.Notes, Themes: cv.Themes}
	a.render(w, http.StatusOK, "notes", p)
}

// notesSave adds the note and themes; "finish" then ends the conversation and shows the
// receipt, "save" stays on the page.
func (a *App) notesSave(w http.ResponseWriter, r *http.Request) {
	cv, ok := a.loadConv(w, r)
	if !ok {
		return
	}
	if note := strings.TrimSpace(r.PostFormValue("note")); note != "" {
		if err := a.dev.AddNote(r.Context(), cv.ID, note); err != nil {
			a.failErr(w, r, cv.Lang, err)
			return
		}
	}
	for _, t := range strings.FieldsFunc(r.PostFormValue("themes"), func(c rune) bool { return c == ',' || c == '\n' || c == '،' }) {
		if t = strings.ToLower(strings.TrimSpace(t)); t != "" {
			if err := a.dev.AddTheme(r.Context(), cv.ID, t); err != nil {
				a.failErr(w, r, cv.Lang, err)
				return
			}
		}
	}
	if r.PostFormValue("go") != "finish" {
		redirect(w, r, "/conversations/"+cv.ID+"/notes?notice=fieldapp.notice.saved")
		return
	}
	if cv.EndedAt == 0 {
		if err := a.dev.EndConversation(r.Context(), cv.ID, 0); err != nil {
			a.failErr(w, r, cv.Lang, err)
			return
		}
	}
	a.sync.poke()
	redirect(w, r, "/consents/"+cv.Consent.ID+"/receipt")
}

type receiptData struct {
	Consent sdk.Consent
	Scopes  []string
}

// receiptShow is what the participant keeps: the consent id, in their language, and how
// to take their agreement back.
func (a *App) receiptShow(w http.ResponseWriter, r *http.Request) {
	c, err := a.dev.Consent(r.Context(), r.PathValue("id"))
	if err != nil {
		a.failErr(w, r, a.uiLang(r), err)
		return
	}
	lang := normLang(c.StatementLocale)
	if l := normLang(r.URL.Query().Get("lang")); l != "" {
		lang = l
	}
	if lang == "" {
		lang = a.uiLang(r)
	}
	p := a.newPage(r, lang, "fieldapp.receipt.title")
	p.Nav = "conversations"
	p.LangBar = langBar{Action: r.URL.Path, Method: "get", Options: langOptions(lang)}
	d := receiptData{Consent: c}
	for _, s := range c.Scopes {
		d.Scopes = append(d.Scopes, p.T(locales.ScopeMessageID(s)))
	}
	p.Data = d
	a.render(w, http.StatusOK, "receipt", p)
}
