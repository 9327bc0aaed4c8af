package form

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// errXLSX is an .xlsx file that is not a readable XLSForm.
var errXLSX = errors.New("form: not a readable XLSForm workbook")

// IsXLSX reports whether an upload is a zip (an .xlsx workbook) rather than CSV.
func IsXLSX(b []byte) bool { return bytes.HasPrefix(b, []byte("PK\x03\x04")) }

// XLSFormSheet turns an XLSForm workbook (ODK's and Kobo's: a "survey" sheet with type,
// name and label::<language> columns, select_one/select_multiple naming a list, and a
// "choices" sheet with list_name, name and labels) into the one-sheet CSV the prompt set
// form reads. Rows the console has no prompt kind for (groups, metadata, calculations)
// are left out. Only the standard library reads the file: an .xlsx is a zip of XML.
func XLSFormSheet(b []byte) (string, error) {
	sheets, err := readXLSX(b)
	if err != nil {
		return "", err
	}
	survey, ok := sheets["survey"]
	if !ok || len(survey) == 0 {
		return "", errXLSX
	}
	col := func(header []string, name string) int {
		for i, h := range header {
			if strings.EqualFold(strings.TrimSpace(h), name) {
				return i
			}
		}
		return -1
	}
	cell := func(row []string, i int) string {
		if i >= 0 && i < len(row) {
			return strings.TrimSpace(row[i])
		}
		return ""
	}
	head := survey[0]
	typeCol, nameCol := col(head, "type"), col(head, "name")
	var langs []string
	labelCols := map[string]int{}
	for i, h := range head {
		if l, ok := labelLanguage(h); ok {
			langs = append(langs, l)
			labelCols[l] = i
		}
	}
	if typeCol < 0 || nameCol < 0 || len(langs) == 0 {
		return "", errXLSX
	}
	// choices: list name → rows of (name, labels by language).
	type choice struct {
		name   string
		labels map[string]string
	}
	lists := map[string][]choice{}
	if ch := sheets["choices"]; len(ch) > 0 {
		h := ch[0]
		listCol, cnameCol := col(h, "list_name"), col(h, "name")
		if listCol < 0 {
			listCol = col(h, "list name")
		}
		cl := map[string]int{}
		for i, x := range h {
			if l, ok := labelLanguage(x); ok {
				cl[l] = i
			}
		}
		for _, r := range ch[1:] {
			list, name := cell(r, listCol), cell(r, cnameCol)
			if list == "" || name == "" {
				continue
			}
			c := choice{name: name, labels: map[string]string{}}
			for l, i := range cl {
				c.labels[l] = cell(r, i)
			}
			lists[list] = append(lists[list], c)
		}
	}
	var out bytes.Buffer
	w := csv.NewWriter(&out)
	header := []string{"type", "name"}
	for _, l := range langs {
		header = append(header, "label::"+l)
	}
	w.Write(header)
	labelsOf := func(get func(l string) string) []string {
		var r []string
		for _, l := range langs {
			r = append(r, get(l))
		}
		return r
	}
	for _, r := range survey[1:] {
		typ := strings.ToLower(cell(r, typeCol))
		kind, list, _ := strings.Cut(typ, " ")
		list = strings.TrimSpace(list)
		switch kind {
		case "text", "integer", "decimal", "note":
			kind = "text"
		case "select_one", "select_multiple", "range", "acknowledge":
		default:
			continue // begin_group, start, calculate, … have no prompt here
		}
		w.Write(append([]string{kind, cell(r, nameCol)}, labelsOf(func(l string) string { return cell(r, labelCols[l]) })...))
		if kind == "select_one" || kind == "select_multiple" {
			for _, c := range lists[list] {
				w.Write(append([]string{"choice", c.name}, labelsOf(func(l string) string { return c.labels[l] })...))
			}
		}
	}
	w.Flush()
	return out.String(), w.Error()
}

// readXLSX reads every worksheet of a workbook into rows of cell text, by sheet name
// (lower-cased).
func readXLSX(b []byte) (map[string][][]string, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, errXLSX
	}
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = f
	}
	read := func(name string, v any) error {
		f := files[name]
		if f == nil {
			return errXLSX
		}
		rc, err := f.Open()
		if err != nil {
			return errXLSX
		}
		defer rc.Close()
		if err := xml.NewDecoder(io.LimitReader(rc, 16<<20)).Decode(v); err != nil {
			return fmt.Errorf("%w: %s: %v", errXLSX, name, err)
		}
		return nil
	}
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			RID  string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := read("xl/workbook.xml", &wb); err != nil {
		return nil, err
	}
	var rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := read("xl/_rels/workbook.xml.rels", &rels); err != nil {
		return nil, err
	}
	var shared []string
	if files["xl/sharedStrings.xml"] != nil {
		var sst struct {
			SI []struct {
				T string `xml:"t"`
				R []struct {
					T string `xml:"t"`
				} `xml:"r"`
			} `xml:"si"`
		}
		if err := read("xl/sharedStrings.xml", &sst); err != nil {
			return nil, err
		}
		for _, si := range sst.SI {
			s := si.T
			for _, r := range si.R {
				s += r.T
			}
			shared = append(shared, s)
		}
	}
	out := map[string][][]string{}
	for _, s := range wb.Sheets {
		target := ""
		for _, r := range rels.Rels {
			if r.ID == s.RID {
				target = r.Target
			}
		}
		if target == "" {
			continue
		}
		name := path.Clean("xl/" + strings.TrimPrefix(target, "/xl/"))
		if strings.HasPrefix(target, "/") {
			name = strings.TrimPrefix(target, "/")
		}
		var ws struct {
			Rows []struct {
				Cells []struct {
					Ref  string `xml:"r,attr"`
					Type string `xml:"t,attr"`
					V    string `xml:"v"`
					IS   struct {
						T string `xml:"t"`
					} `xml:"is"`
				} `xml:"c"`
			} `xml:"sheetData>row"`
		}
		if err := read(name, &ws); err != nil {
			return nil, err
		}
		var rows [][]string
		for _, r := range ws.Rows {
			var row []string
			for i, c := range r.Cells {
				idx := colIndex(c.Ref)
				if idx < 0 {
					idx = i
				}
				if idx > 1000 {
					return nil, errXLSX
				}
				for len(row) <= idx {
					row = append(row, "")
				}
				switch c.Type {
				case "s":
					n, err := strconv.Atoi(c.V)
					if err != nil || n < 0 || n >= len(shared) {
						return nil, errXLSX
					}
					row[idx] = shared[n]
				case "inlineStr":
					row[idx] = c.IS.T
				default:
					row[idx] = c.V
				}
			}
			rows = append(rows, row)
		}
		out[strings.ToLower(strings.TrimSpace(s.Name))] = rows
	}
	return out, nil
}

// colIndex turns a cell reference's letters ("C7") into a column index (2); -1 if none.
func colIndex(ref string) int {
	n := 0
	seen := false
	for _, r := range ref {
		if r < 'A' || r > 'Z' {
			break
		}
		n = n*26 + int(r-'A'+1)
		seen = true
	}
	if !seen {
		return -1
	}
	return n - 1
}
