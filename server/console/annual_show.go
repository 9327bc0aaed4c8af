package console

import (
	"context"
	"errors"
	"net/http"
	"sort"

	"github.com/fieldnotes/fieldnotes/locales"
	"github.com/fieldnotes/fieldnotes/server/annual"
	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/labstack/echo/v4"
)

// versionView is one saved version of a text, its author by email.
type versionView struct {
	Version int
	Text    string
	At      int64
	By      string
}

// annualTextView is one team's text of one kind on the annual page.
type annualTextView struct {
	Team, Kind, ID string // ID: the textarea's element id
	Current        *versionView
	Earlier        []versionView // newest first
	Draft          string        // what was typed, when saving failed
}

type annualTeamView struct {
	Team  string
	Texts []annualTextView
}

type annualData struct {
	Form      form.Annual
	Languages []langOption
	Report    string // the report's address for the form's period
	Teams     []annualTeamView
}

// annualShow is the annual report page: the form for the report (web page or PDF) and
// each team's governance and strategy texts with their versions.
func (h *Console) annualShow(c echo.Context) error {
	return h.annualPage(c, form.ParseAnnual(c.QueryParams(), lang(c), h.Now()), nil, nil, http.StatusOK)
}

func (h *Console) annualPage(c echo.Context, f form.Annual, draft *form.AnnualText, errs form.Errors, status int) error {
	w := current(c)
	ctx := c.Request().Context()
	d := annualData{Form: f, Report: "/console/annual/report?" + f.Values().Encode()}
	for _, t := range locales.Supported {
		d.Languages = append(d.Languages, langOption{Code: t.String(), Name: locales.Name(t.String()), Current: t.String() == f.Lang})
	}
	teams, err := h.teams(ctx, w)
	if err != nil {
		return h.internal(c, err)
	}
	sort.Strings(teams)
	emails := map[string]string{}
	for _, team := range teams {
		tv := annualTeamView{Team: team}
		for _, kind := range annual.Kinds {
			v := annualTextView{Team: team, Kind: kind, ID: "text-" + team + "-" + kind}
			t, ok, err := annual.GetText(ctx, h.Store, team, kind)
			if err != nil {
				return h.internal(c, err)
			}
			if ok {
				cur := versionView{Version: t.Version, Text: t.Text, At: t.UpdatedAt, By: h.email(ctx, emails, t.UpdatedBy)}
				v.Current = &cur
				vs := append([]annual.Version(nil), t.Versions...)
				sort.SliceStable(vs, func(i, j int) bool { return vs[i].Version > vs[j].Version })
				skipped := false
				for _, x := range vs {
					if !skipped && x.Version == t.Version && x.Text == t.Text {
						skipped = true // the current one, shown above
						continue
					}
					v.Earlier = append(v.Earlier, versionView{Version: x.Version, Text: x.Text, At: x.At, By: h.email(ctx, emails, x.By)})
				}
			}
			if draft != nil && draft.Team == team && draft.Kind == kind {
				v.Draft = draft.Text
			}
			tv.Texts = append(tv.Texts, v)
		}
		d.Teams = append(d.Teams, tv)
	}
	p := h.newPage(c, "console.nav.annual", &d)
	p.Errors = h.fieldErrors(p, errs)
	p.Status = status
	return h.render(c, "annual_show", p)
}

// email names a user by email (their id when unknown), caching in seen.
func (h *Console) email(ctx context.Context, seen map[string]string, id string) string {
	if e, ok := seen[id]; ok {
		return e
	}
	e := id
	if u, err := h.Store.UserByID(ctx, id); err == nil {
		e = u.Email
	} else if !errors.Is(err, store.ErrNotFound) {
		h.Log.Warn().Err(err).Msg("annual text author not found")
	}
	seen[id] = e
	return e
}
