package form

import (
	"bytes"
	"encoding/csv"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/fieldnotes/fieldnotes/schema"
)

// Prompt is one prompt of a prompt set, as stored in a prompt_set record's prompts.
type Prompt struct {
	ID         string                       `json:"id"`
	Kind       string                       `json:"kind"`
	Choices    []Choice                     `json:"choices,omitempty"`
	Text       map[string]string            `json:"text"`
	ChoiceText map[string]map[string]string `json:"choice_text,omitempty"`
}

// Choice is one answer of a choice prompt.
type Choice struct {
	ID string `json:"id"`
}

// PromptSet is the prompt set form: a name, its team, and the prompts as an
// XLSForm-style sheet (CSV, pasted or uploaded).
type PromptSet struct {
	Name, Team, Sheet string
	Prompts           []Prompt
	Languages         []string // from the label::<language> columns, in column order
	badUpload         bool     // an .xlsx that could not be read
}

// ParsePromptSet reads the form; upload is an uploaded file's content (nil if none): a
// CSV sheet, or an XLSForm workbook (.xlsx), which wins over the pasted sheet.
func ParsePromptSet(v url.Values, upload []byte) PromptSet {
	f := PromptSet{Team: v.Get("team"), Sheet: v.Get("sheet")}
	f.Name, _ = clean(v.Get("name"), 10_000)
	switch {
	case IsXLSX(upload):
		sheet, err := XLSFormSheet(upload)
		if err != nil {
			f.badUpload = true
			break
		}
		f.Sheet = sheet
	case len(upload) > 0:
		f.Sheet = string(bytes.TrimPrefix(upload, []byte("\ufeff")))
	}
	return f
}

// kinds maps XLSForm types (and ours) to prompt kinds.
var kinds = map[string]string{
	"text": "text", "note": "text", "single_choice": "single_choice", "select_one": "single_choice",
	"multi_choice": "multi_choice", "select_multiple": "multi_choice", "scale": "scale", "range": "scale",
	"yes_no": "yes_no", "acknowledge": "yes_no",
}

var (
	idRE   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	langRE = regexp.MustCompile(`\(([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)*)\)\s*$`)
)

// labelLanguage reads a label::<language> header: "label::cy" or ODK's "label::Welsh (cy)".
func labelLanguage(h string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(h)), "label::")
	if !ok {
		return "", false
	}
	if m := langRE.FindStringSubmatch(strings.TrimSpace(h)); m != nil {
		rest = strings.ToLower(m[1])
	}
	rest = strings.TrimSpace(rest)
	return rest, schema.ValidLocale(rest)
}

// Validate parses the sheet. Columns: type, name, label::<language>… Prompt rows have a
// type (text, single_choice/select_one, multi_choice/select_multiple, scale/range,
// yes_no); rows of type "choice" are the answers of the choice prompt above them.
func (f *PromptSet) Validate(teams []string) Errors {
	var es Errors
	if f.Name == "" {
		es.add("name", "console.form.required")
	} else if len(f.Name) > 200 {
		es.add("name", "console.form.too_long")
	}
	if !slices.Contains(teams, f.Team) {
		es.add("team", "console.form.team_required")
	}
	if f.badUpload {
		es.add("file", "console.prompt_set.xlsx_unreadable")
		return es
	}
	if strings.TrimSpace(f.Sheet) == "" {
		es.add("sheet", "console.form.required")
		return es
	}
	r := csv.NewReader(strings.NewReader(f.Sheet))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		es.add("sheet", "console.prompt_set.sheet_unreadable")
		return es
	}
	typeCol, nameCol := -1, -1
	labels := map[int]string{}
	for i, h := range header {
		switch strings.ToLower(strings.TrimSpace(h)) {
		case "type":
			typeCol = i
		case "name":
			nameCol = i
		default:
			if l, ok := labelLanguage(h); ok {
				labels[i] = l
				f.Languages = append(f.Languages, l)
			}
		}
	}
	if typeCol < 0 || nameCol < 0 || len(labels) == 0 {
		es.add("sheet", "console.prompt_set.sheet_columns")
		return es
	}
	seen := map[string]bool{}
	for {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			es.add("sheet", "console.prompt_set.sheet_unreadable")
			return es
		}
		cell := func(i int) string {
			if i < len(row) {
				return strings.TrimSpace(row[i])
			}
			return ""
		}
		typ, name := strings.ToLower(cell(typeCol)), cell(nameCol)
		if typ == "" && name == "" {
			continue
		}
		if t, _, ok := strings.Cut(typ, " "); ok {
			typ = t // "select_one yes_no_list": the list name is not needed
		}
		if !idRE.MatchString(name) {
			es.add("sheet", "console.prompt_set.bad_name")
			return es
		}
		texts := map[string]string{}
		for i, l := range labels {
			if t := cell(i); t != "" {
				texts[l] = t
			}
		}
		if typ == "choice" {
			if len(f.Prompts) == 0 {
				es.add("sheet", "console.prompt_set.choice_without_prompt")
				return es
			}
			p := &f.Prompts[len(f.Prompts)-1]
			if p.Kind != "single_choice" && p.Kind != "multi_choice" {
				es.add("sheet", "console.prompt_set.choice_without_prompt")
				return es
			}
			for _, c := range p.Choices {
				if c.ID == name {
					es.add("sheet", "console.prompt_set.duplicate_name")
					return es
				}
			}
			p.Choices = append(p.Choices, Choice{ID: name})
			if p.ChoiceText == nil {
				p.ChoiceText = map[string]map[string]string{}
			}
			p.ChoiceText[name] = texts
			continue
		}
		kind, ok := kinds[typ]
		if !ok {
			es.add("sheet", "console.prompt_set.bad_type")
			return es
		}
		if seen[name] {
			es.add("sheet", "console.prompt_set.duplicate_name")
			return es
		}
		seen[name] = true
		f.Prompts = append(f.Prompts, Prompt{ID: name, Kind: kind, Text: texts})
	}
	if len(f.Prompts) == 0 {
		es.add("sheet", "console.form.required")
	}
	for _, p := range f.Prompts {
		if (p.Kind == "single_choice" || p.Kind == "multi_choice") && len(p.Choices) == 0 {
			es.add("sheet", "console.prompt_set.no_choices")
			break
		}
	}
	return es
}

// Sheet writes prompts back as the CSV the form reads, with a column per language.
func Sheet(prompts []Prompt, langs []string) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	head := []string{"type", "name"}
	for _, l := range langs {
		head = append(head, "label::"+l)
	}
	w.Write(head)
	for _, p := range prompts {
		row := []string{p.Kind, p.ID}
		for _, l := range langs {
			row = append(row, p.Text[l])
		}
		w.Write(row)
		for _, c := range p.Choices {
			row := []string{"choice", c.ID}
			for _, l := range langs {
				row = append(row, p.ChoiceText[c.ID][l])
			}
			w.Write(row)
		}
	}
	w.Flush()
	return b.String()
}
