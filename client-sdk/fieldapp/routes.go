package fieldapp

import "net/http"

// routes lists every page of the field app (docs/PROTOCOL.md, "Browser UIs").
func (a *App) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", a.home)
	m.HandleFunc("GET /static/nhsuk/nhsuk-frontend.min.css", a.nhsukCSS)
	m.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(staticFiles())))
	m.HandleFunc("POST /language", a.languageSet)

	m.HandleFunc("GET /enrol", a.enrolShow)
	m.HandleFunc("POST /enrol", a.enrolCheck)

	m.HandleFunc("GET /engagements", a.engagementList)
	m.HandleFunc("GET /engagements/{id}/consent", a.consentShow)
	m.HandleFunc("POST /engagements/{id}/consent", a.consentRecord)

	m.HandleFunc("GET /conversations", a.conversationList)
	m.HandleFunc("GET /conversations/{id}", a.conversationResume)
	m.HandleFunc("GET /conversations/{id}/prompts/{n}", a.promptShow)
	m.HandleFunc("POST /conversations/{id}/prompts/{n}", a.promptAnswer)
	m.HandleFunc("POST /conversations/{id}/language", a.languageSwitch)
	m.HandleFunc("GET /conversations/{id}/equality", a.equalityShow)
	m.HandleFunc("POST /conversations/{id}/equality", a.equalitySave)
	m.HandleFunc("GET /conversations/{id}/contact", a.contactShow)
	m.HandleFunc("POST /conversations/{id}/contact", a.contactSave)
	m.HandleFunc("GET /conversations/{id}/notes", a.notesShow)
	m.HandleFunc("POST /conversations/{id}/notes", a.notesSave)
	m.HandleFunc("GET /consents/{id}/receipt", a.receiptShow)

	m.HandleFunc("GET /consents/{id}/withdraw", a.withdrawShow)
	m.HandleFunc("POST /consents/{id}/withdraw", a.withdrawDo)

	m.HandleFunc("GET /sync", a.syncShow)
	m.HandleFunc("POST /sync", a.syncStart)
	m.HandleFunc("GET /sync/status", a.syncStatus)

	m.HandleFunc("/", a.notFound)
	a.mux = m
}

func (a *App) notFound(w http.ResponseWriter, r *http.Request) {
	a.fail(w, r, http.StatusNotFound, a.uiLang(r), "error.not_found", nil)
}

func (a *App) home(w http.ResponseWriter, r *http.Request) {
	if _, err := a.dev.Identity(); err != nil {
		redirect(w, r, "/enrol")
		return
	}
	redirect(w, r, "/engagements")
}

// languageSet keeps the worker's language in a cookie and goes back where they were.
func (a *App) languageSet(w http.ResponseWriter, r *http.Request) {
	lang := normLang(r.PostFormValue("lang"))
	if lang == "" {
		a.fail(w, r, http.StatusBadRequest, a.uiLang(r), "fieldapp.error.language", nil)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: "lang", Value: lang, Path: "/", MaxAge: 400 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	back := r.PostFormValue("return")
	if !localPath(back) {
		back = "/"
	}
	redirect(w, r, back)
}

// localPath reports whether p is a path on this server (not //host or a URL).
func localPath(p string) bool {
	return len(p) > 0 && p[0] == '/' && (len(p) == 1 || (p[1] != '/' && p[1] != '\\'))
}
