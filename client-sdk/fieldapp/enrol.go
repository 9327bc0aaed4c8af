package fieldapp

import (
	"net/http"
	"net/url"
	"strings"
)

type enrolForm struct {
	Server, Code, Label string
	Problem             string
	Field               string // the field the problem is about: server | code
	Enrolled            bool   // already enrolled: enrolling again re-joins
}

func (a *App) enrolShow(w http.ResponseWriter, r *http.Request) {
	lang := a.uiLang(r)
	p := a.newPage(r, lang, "fieldapp.enrol.title")
	p.Nav = "enrol"
	f := enrolForm{}
	if id, err := a.dev.Identity(); err == nil {
		f.Server, f.Label, f.Enrolled = id.Server, id.Label, true
	}
	p.Data = f
	a.render(w, http.StatusOK, "enrol", p)
}

// enrolCheck enrols the tablet with a code. The server field may hold the QR code's text
// (a link or JSON with the server and the code): then it fills both.
func (a *App) enrolCheck(w http.ResponseWriter, r *http.Request) {
	lang := a.uiLang(r)
	f := enrolForm{Server: strings.TrimSpace(r.PostFormValue("server")), Code: normCode(r.PostFormValue("code")),
		Label: strings.TrimSpace(r.PostFormValue("label"))}
	if s, c, ok := ParseEnrolment(r.PostFormValue("qr")); ok {
		if s != "" {
			f.Server = s
		}
		f.Code = c
	} else if s, c, ok := ParseEnrolment(f.Server); ok {
		if s != "" {
			f.Server = s
		}
		if f.Code == "" {
			f.Code = c
		}
	}
	show := func(status int, field, id string) {
		p := a.newPage(r, lang, "fieldapp.enrol.title")
		p.Nav = "enrol"
		f.Field, f.Problem = field, p.T(id)
		p.Data = f
		a.render(w, status, "enrol", p)
	}
	if f.Server == "" {
		show(http.StatusBadRequest, "server", "fieldapp.enrol.server_missing")
		return
	}
	if u, err := url.Parse(f.Server); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		show(http.StatusBadRequest, "server", "fieldapp.enrol.server_invalid")
		return
	}
	if f.Code == "" {
		show(http.StatusBadRequest, "code", "fieldapp.enrol.code_missing")
		return
	}
	if _, err := a.dev.Enrol(r.Context(), f.Server, f.Code, f.Label); err != nil {
		a.opts.Logger.Info("enrolment failed", "err", err)
		p := a.newPage(r, lang, "fieldapp.enrol.title")
		p.Nav = "enrol"
		f.Field, f.Problem = "code", sdkMessage(err, lang)
		p.Data = f
		a.render(w, errorStatus(err), "enrol", p)
		return
	}
	// Fetch the engagements at once while the network is there; the page shows how it went.
	a.sync.start()
	redirect(w, r, "/engagements?notice=fieldapp.notice.enrolled")
}
