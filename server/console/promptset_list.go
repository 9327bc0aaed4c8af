package console

import (
	"encoding/json"
	"sort"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/labstack/echo/v4"
)

// promptSetRow is a stored prompt set with its translation coverage.
type promptSetRow struct {
	ID, Name, Team string
	Version        int64
	Prompts        []form.Prompt
	Languages      []string // every language the set or its engagements use
	Missing        int      // texts missing across those languages
}

func promptSetOf(r syncengine.Record, engagementLangs []string) promptSetRow {
	f := fields(r.Fields)
	ps := promptSetRow{ID: r.ID, Team: r.Team, Name: f.str("name"), Version: f.num("version")}
	json.Unmarshal(r.Fields["prompts"], &ps.Prompts)
	langs := map[string]bool{}
	for _, l := range engagementLangs {
		langs[l] = true
	}
	for _, p := range ps.Prompts {
		for l := range p.Text {
			langs[l] = true
		}
	}
	for l := range langs {
		ps.Languages = append(ps.Languages, l)
	}
	sort.Slice(ps.Languages, func(i, j int) bool {
		if (ps.Languages[i] == "en") != (ps.Languages[j] == "en") {
			return ps.Languages[i] == "en"
		}
		return ps.Languages[i] < ps.Languages[j]
	})
	for _, p := range ps.Prompts {
		for _, l := range ps.Languages {
			if p.Text[l] == "" {
				ps.Missing++
			}
			for _, c := range p.Choices {
				if p.ChoiceText[c.ID][l] == "" {
					ps.Missing++
				}
			}
		}
	}
	return ps
}

// engagementLanguages maps prompt set ids to the languages of the engagements using them.
func engagementLanguages(engs []syncengine.Record) map[string][]string {
	out := map[string][]string{}
	for _, e := range engs {
		f := fields(e.Fields)
		id := f.str("prompt_set")
		for _, l := range f.strs("languages") {
			if !contains(out[id], l) {
				out[id] = append(out[id], l)
			}
		}
	}
	return out
}

func (h *Console) promptSetList(c echo.Context) error {
	w := current(c)
	ctx := c.Request().Context()
	recs, err := h.scan(ctx, w, schema.PromptSet)
	if err != nil {
		return h.internal(c, err)
	}
	engs, err := h.scan(ctx, w, schema.Engagement)
	if err != nil {
		return h.internal(c, err)
	}
	langs := engagementLanguages(engs)
	rows := make([]promptSetRow, 0, len(recs))
	for _, r := range recs {
		rows = append(rows, promptSetOf(r, langs[r.ID]))
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	return h.render(c, "promptset_list", h.newPage(c, "console.nav.prompt_sets", rows))
}
