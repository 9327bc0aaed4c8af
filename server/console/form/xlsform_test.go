package form

import (
	"archive/zip"
	"bytes"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// xlsx writes a minimal workbook the way spreadsheet programs do: shared strings for
// text, a relationship per sheet, cell references with column letters.
func xlsx(t *testing.T, sheets map[string][][]string, order []string) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	put := func(name, body string) {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	var shared []string
	idx := map[string]int{}
	str := func(s string) int {
		if i, ok := idx[s]; ok {
			return i
		}
		idx[s] = len(shared)
		shared = append(shared, s)
		return idx[s]
	}
	var wb, rels strings.Builder
	for i, name := range order {
		fmt.Fprintf(&wb, `<sheet name="%s" sheetId="%d" r:id="rId%d"/>`, name, i+1, i+1)
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet%d.xml"/>`, i+1, i+1)
		var sd strings.Builder
		for r, row := range sheets[name] {
			fmt.Fprintf(&sd, `<row r="%d">`, r+1)
			for c, v := range row {
				if v == "" {
					continue // sparse rows, as Excel writes them
				}
				fmt.Fprintf(&sd, `<c r="%c%d" t="s"><v>%d</v></c>`, 'A'+c, r+1, str(v))
			}
			sd.WriteString(`</row>`)
		}
		put(fmt.Sprintf("xl/worksheets/sheet%d.xml", i+1), `<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`+sd.String()+`</sheetData></worksheet>`)
	}
	put("xl/workbook.xml", `<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>`+wb.String()+`</sheets></workbook>`)
	put("xl/_rels/workbook.xml.rels", `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`+rels.String()+`</Relationships>`)
	var sst strings.Builder
	for _, s := range shared {
		fmt.Fprintf(&sst, `<si><t>%s</t></si>`, s)
	}
	put("xl/sharedStrings.xml", `<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`+sst.String()+`</sst>`)
	z.Close()
	return buf.Bytes()
}

func TestXLSFormWorkbook(t *testing.T) {
	b := xlsx(t, map[string][][]string{
		"survey": {
			{"type", "name", "label::English (en)", "label::Welsh (cy)", "required"},
			{"start", "start", "", "", ""},
			{"begin_group", "g1", "About you", "Amdanoch chi", ""},
			{"text", "what_works", "What works well?", "Beth sy'n gweithio'n dda?", "yes"},
			{"select_one travel", "travel", "How did you come?", "", ""},
			{"integer", "visits", "How many visits?", "Sawl ymweliad?", ""},
			{"end_group", "", "", "", ""},
		},
		"choices": {
			{"list_name", "name", "label::English (en)", "label::Welsh (cy)"},
			{"travel", "bus", "Bus", "Bws"},
			{"travel", "walk", "On foot", "Ar droed"},
			{"other", "x", "X", "X"},
		},
	}, []string{"survey", "choices"})
	f := ParsePromptSet(url.Values{"name": {"From Kobo"}, "team": {"north"}}, b)
	if errs := f.Validate([]string{"north"}); len(errs) > 0 {
		t.Fatalf("errors %v for sheet:\n%s", errs, f.Sheet)
	}
	if len(f.Prompts) != 3 {
		t.Fatalf("prompts %+v, want what_works, travel, visits (groups and metadata left out)", f.Prompts)
	}
	travel := f.Prompts[1]
	if travel.Kind != "single_choice" || len(travel.Choices) != 2 || travel.ChoiceText["walk"]["cy"] != "Ar droed" || travel.Text["cy"] != "" {
		t.Fatalf("travel: %+v", travel)
	}
	if f.Prompts[0].Text["cy"] != "Beth sy'n gweithio'n dda?" || f.Prompts[2].Kind != "text" {
		t.Fatalf("prompts: %+v", f.Prompts)
	}
	if got := strings.Join(f.Languages, ","); got != "en,cy" {
		t.Errorf("languages %s", got)
	}
}

func TestXLSFormBadFiles(t *testing.T) {
	for name, b := range map[string][]byte{
		"NotAZip":        []byte("PK\x03\x04 not really a zip"),
		"NoSurveySheet":  xlsx(t, map[string][][]string{"Sheet1": {{"a", "b"}}}, []string{"Sheet1"}),
		"NoLabelColumns": xlsx(t, map[string][][]string{"survey": {{"type", "name"}, {"text", "a"}}}, []string{"survey"}),
	} {
		t.Run(name, func(t *testing.T) {
			f := ParsePromptSet(url.Values{"name": {"x"}, "team": {"north"}, "sheet": {"type,name,label::en\ntext,a,A\n"}}, b)
			errs := f.Validate([]string{"north"})
			if len(errs) != 1 || errs[0].Field != "file" || errs[0].Message != "console.prompt_set.xlsx_unreadable" {
				t.Fatalf("errors %v", errs)
			}
		})
	}
}
