package fieldapp

import (
	"net/http"
	"strings"

	sdk "github.com/fieldnotes/fieldnotes/client-sdk"
)

type withdrawData struct {
	Consent sdk.Consent
}

// withdrawShow asks to confirm, in the participant's language, that they take their
// agreement back.
func (a *App) withdrawShow(w http.ResponseWriter, r *http.Request) {
	c, err := a.dev.Consent(r.Context(), r.PathValue("id"))
	if err != nil {
		a.failErr(w, r, a.uiLang(r), err)
		return
	}
	lang := normLang(r.URL.Query().Get("lang"))
	if lang == "" {
		lang = normLang(c.StatementLocale)
	}
	if lang == "" {
		lang = a.uiLang(r)
	}
	p := a.newPage(r, lang, "fieldapp.withdraw.title")
	p.Nav = "conversations"
	p.LangBar = langBar{Action: r.URL.Path, Method: "get", Options: langOptions(lang)}
	p.Data = withdrawData{Consent: c}
	a.render(w, http.StatusOK, "withdraw", p)
}

// withdrawDo withdraws the consent on the spot: the SDK erases at once on this tablet what
// was recorded under it, and everywhere at the next sync.
func (a *App) withdrawDo(w http.ResponseWriter, r *http.Request) {
	c, err := a.dev.Consent(r.Context(), r.PathValue("id"))
	if err != nil {
		a.failErr(w, r, a.uiLang(r), err)
		return
	}
	lang := normLang(r.PostFormValue("lang"))
	if lang == "" {
		lang = a.uiLang(r)
	}
	if !c.Withdrawn {
		if err := a.dev.WithdrawConsent(r.Context(), c.ID, strings.TrimSpace(r.PostFormValue("reason"))); err != nil {
			a.failErr(w, r, lang, err)
			return
		}
		a.opts.Logger.Info("consent withdrawn", "consent", c.ID)
		a.sync.poke()
	}
	redirect(w, r, "/conversations?notice=fieldapp.notice.withdrawn")
}
