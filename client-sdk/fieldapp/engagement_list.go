package fieldapp

import (
	"net/http"

	sdk "github.com/fieldnotes/fieldnotes/client-sdk"
)

type engagementView struct {
	sdk.Engagement
	VenueTypeLabel string
	LanguageNames  []string
	Conversations  int
}

type engagementsData struct {
	Device      sdk.Identity
	Engagements []engagementView
	Sync        syncView
}

func (a *App) engagementList(w http.ResponseWriter, r *http.Request) {
	lang := a.uiLang(r)
	id, err := a.dev.Identity()
	if err != nil {
		redirect(w, r, "/enrol")
		return
	}
	engs, err := a.dev.Engagements(r.Context())
	if err != nil {
		a.failErr(w, r, lang, err)
		return
	}
	convs, _ := a.dev.Conversations(r.Context(), "")
	count := map[string]int{}
	for _, c := range convs {
		if c.StartedAt != 0 {
			count[c.Engagement]++
		}
	}
	p := a.newPage(r, lang, "fieldapp.engagements.title")
	p.Nav = "engagements"
	d := engagementsData{Device: id, Sync: a.sync.view(r, lang)}
	// Newest first: ids are UUIDv7.
	for i := len(engs) - 1; i >= 0; i-- {
		e := engs[i]
		v := engagementView{Engagement: e, Conversations: count[e.ID]}
		if e.VenueType != "" {
			v.VenueTypeLabel = p.T("venue_type." + e.VenueType)
		}
		for _, l := range e.Languages {
			v.LanguageNames = append(v.LanguageNames, p.NameOf(l))
		}
		d.Engagements = append(d.Engagements, v)
	}
	p.Data = d
	a.render(w, http.StatusOK, "engagements", p)
}

func sdkMessage(err error, lang string) string {
	if e, ok := err.(*sdk.Error); ok {
		return e.Message(lang)
	}
	return tr(lang, "error.internal", nil)
}
