// Package export streams a collection as Excel-friendly CSV (UTF-8 with a BOM, CRLF,
// RFC 4180 quoting, cells that a spreadsheet would run as a formula made inert) or as
// NDJSON, applying consent record by record, and records every export in the
// coordinators' log (coord.db).
//
// Consent rules:
//   - conversation: only under a consent that exists, is not withdrawn and covers
//     record_views, and not rejected in review unless the request includes rejected; without quote consent, verbatim text is dropped (each answer's text
//     and translation_en, and notes), choice answers are kept;
//   - participant: not at all when every consent of theirs is withdrawn (or they have
//     none); contact fields blank without contact_for_feedback, equality answers blank
//     without equality_monitoring, communities blank without record_views;
//   - consent: always (a withdrawn consent is the evidence), with its withdrawn flag;
//   - other collections as they are.
//
// Memory is flat in the number of rows: records are read a page at a time (Scan) and
// written out at once; CSV takes two passes, the first only collecting column names.
//
// It imports schema, syncengine and server/reports; never HTTP.
package export

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/reports"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

// Formats.
const (
	CSV    = "csv"
	NDJSON = "ndjson"
)

// Content types.
const (
	ContentTypeCSV    = "text/csv; charset=utf-8"
	ContentTypeNDJSON = "application/x-ndjson"
)

// Stable error codes.
const (
	CodeUnknownCollection = "unknown_collection"
	CodeNotAcceptable     = "not_acceptable"
)

// Error is a request the caller got wrong.
type Error struct {
	Code    string
	Message string
	Details map[string]any
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Source is what an export reads (store.Replica and *syncengine.Store satisfy it).
type Source interface {
	Scan(ctx context.Context, collection string, teams []string, fn func(syncengine.Record) error) error
}

// Exporter streams exports.
type Exporter struct {
	Replica Source
	Index   *reports.Index
	Coord   *reports.Coord // the export log; nil: not recorded (tests)
}

// Request is one export.
type Request struct {
	Who        string   // the caller (user id) for the log
	Teams      []string // nil: every team
	Collection string
	Format     string // CSV or NDJSON
	// IncludeRejected lets out conversations rejected in review (left out by default).
	IncludeRejected bool
}

// FormatFor picks the format from an Accept header: text/csv or application/x-ndjson
// (CSV when the header is empty or */*); an *Error not_acceptable otherwise.
func FormatFor(accept string) (string, error) {
	a := strings.ToLower(accept)
	switch {
	case strings.Contains(a, "application/x-ndjson"), strings.Contains(a, "application/ndjson"):
		return NDJSON, nil
	case strings.Contains(a, "text/csv"), strings.TrimSpace(a) == "", strings.Contains(a, "*/*"):
		return CSV, nil
	}
	return "", &Error{Code: CodeNotAcceptable, Message: "ask for text/csv or application/x-ndjson", Details: map[string]any{"field": "Accept"}}
}

// Validate checks the request before anything is written.
func (r Request) Validate() error {
	if !schema.IsKnownCollection(r.Collection) {
		return &Error{Code: CodeUnknownCollection, Message: "no collection " + r.Collection, Details: map[string]any{"collection": r.Collection}}
	}
	if r.Format != CSV && r.Format != NDJSON {
		return &Error{Code: CodeNotAcceptable, Message: "format is csv or ndjson", Details: map[string]any{"field": "Accept"}}
	}
	return nil
}

// Export writes the collection to w and records it in the log (complete or not). It
// returns the number of rows written.
func (e *Exporter) Export(ctx context.Context, w io.Writer, r Request) (int, error) {
	if err := r.Validate(); err != nil {
		return 0, err
	}
	if err := e.Index.Refresh(ctx); err != nil {
		return 0, err
	}
	var rows int
	var err error
	if r.Format == CSV {
		rows, err = e.csv(ctx, w, r)
	} else {
		rows, err = e.ndjson(ctx, w, r)
	}
	if e.Coord != nil {
		if _, lerr := e.Coord.LogExport(context.WithoutCancel(ctx), reports.ExportRecord{Who: r.Who, Collection: r.Collection, Format: r.Format,
			Teams: r.Teams, Rows: rows, Complete: err == nil}); lerr != nil && err == nil {
			err = lerr
		}
	}
	return rows, err
}

// scan calls fn with every record the consent rules let out, already filtered, a page
// of index look-ups at a time.
func (e *Exporter) scan(ctx context.Context, r Request, fn func(id, team string, withdrawn bool, fields map[string]json.RawMessage) error) error {
	const page = 500
	var buf []syncengine.Record
	flush := func() error {
		type out struct {
			rec    syncengine.Record
			fields map[string]json.RawMessage
		}
		var outs []out
		e.Index.Peek(func(v *reports.View) {
			for _, rec := range buf {
				if f, ok := filter(v, rec, r.IncludeRejected); ok {
					outs = append(outs, out{rec, f})
				}
			}
		})
		buf = buf[:0]
		for _, o := range outs {
			if err := fn(o.rec.ID, o.rec.Team, o.rec.Withdrawn, o.fields); err != nil {
				return err
			}
		}
		return nil
	}
	err := e.Replica.Scan(ctx, r.Collection, r.Teams, func(rec syncengine.Record) error {
		buf = append(buf, rec)
		if len(buf) == page {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

var (
	contactFields  = schema.ContactFields
	equalityFields = func() []string {
		var out []string
		for _, q := range schema.EqualityQuestions {
			out = append(out, q.Field)
		}
		return out
	}()
)

// filter applies the consent rules to one record: ok false leaves it out; fields is what
// may be shown.
func filter(v *reports.View, rec syncengine.Record, includeRejected bool) (map[string]json.RawMessage, bool) {
	f := rec.Fields
	switch rec.Collection {
	case schema.Conversation:
		c := v.Conversation(rec.ID)
		if c == nil || (c.Rejected() && !includeRejected) {
			return nil, false
		}
		cons := v.ConsentOf(c)
		if !cons.Valid(reports.RecordViews) {
			return nil, false
		}
		if cons.Scopes.Has(reports.Quote) {
			return f, true
		}
		out := make(map[string]json.RawMessage, len(f))
		for k, val := range f {
			switch {
			case k == "notes":
				continue
			case strings.HasPrefix(k, schema.AnswerPrefix):
				var a map[string]json.RawMessage
				if json.Unmarshal(val, &a) != nil {
					continue // not an answer object: drop, it may be verbatim
				}
				delete(a, "text")
				delete(a, "translation_en")
				if _, ok := a["choice"]; !ok {
					continue
				}
				val, _ = json.Marshal(a)
			}
			out[k] = val
		}
		return out, true
	case schema.Participant:
		if !v.ParticipantLive(rec.ID) {
			return nil, false
		}
		drop := map[string]bool{}
		if !v.ParticipantCovers(rec.ID, reports.ContactForFeedback) {
			for _, k := range contactFields {
				drop[k] = true
			}
		}
		if !v.ParticipantCovers(rec.ID, reports.EqualityMonitoring) {
			for _, k := range equalityFields {
				drop[k] = true
			}
		}
		if !v.ParticipantCovers(rec.ID, reports.RecordViews) {
			drop["communities"] = true
		}
		if len(drop) == 0 {
			return f, true
		}
		out := make(map[string]json.RawMessage, len(f))
		for k, val := range f {
			if !drop[k] {
				out[k] = val
			}
		}
		return out, true
	}
	return f, true
}

type ndjsonRow struct {
	ID        string                     `json:"id"`
	Team      string                     `json:"team"`
	Withdrawn *bool                      `json:"withdrawn,omitempty"`
	Fields    map[string]json.RawMessage `json:"fields"`
}

func (e *Exporter) ndjson(ctx context.Context, w io.Writer, r Request) (int, error) {
	n := 0
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	err := e.scan(ctx, r, func(id, team string, withdrawn bool, fields map[string]json.RawMessage) error {
		row := ndjsonRow{ID: id, Team: team, Fields: fields}
		if r.Collection == schema.Consent {
			row.Withdrawn = &withdrawn
		}
		n++
		if err := enc.Encode(row); err != nil {
			return err
		}
		if n%500 == 0 {
			flushHTTP(w)
		}
		return nil
	})
	flushHTTP(w)
	return n, err
}

func flushHTTP(w io.Writer) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// answerKeys are the parts of an answer object, each a CSV column of its own.
var answerKeys = []string{"choice", "text", "translation_en", "prompt_locale", "answer_locale"}

func (e *Exporter) csv(ctx context.Context, w io.Writer, r Request) (int, error) {
	// Pass 1: the columns (memory: one entry per distinct column name).
	cols := map[string]bool{}
	err := e.scan(ctx, r, func(_, _ string, _ bool, fields map[string]json.RawMessage) error {
		for k, v := range fields {
			if strings.HasPrefix(k, schema.AnswerPrefix) {
				var a map[string]json.RawMessage
				if json.Unmarshal(v, &a) == nil {
					for sub := range a {
						cols[k+"."+sub] = true
					}
					continue
				}
			}
			cols[k] = true
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	// Static fields always have a column, so an export's shape doesn't depend on data.
	for _, f := range schema.Fields(r.Collection) {
		cols[f.Name] = true
	}
	names := make([]string, 0, len(cols))
	for k := range cols {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return colLess(names[i], names[j]) })
	header := []string{"id", "team"}
	if r.Collection == schema.Consent {
		header = append(header, "withdrawn")
	}
	header = append(header, names...)

	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return 0, err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(header); err != nil {
		return 0, err
	}
	n := 0
	row := make([]string, len(header))
	err = e.scan(ctx, r, func(id, team string, withdrawn bool, fields map[string]json.RawMessage) error {
		row = row[:0]
		row = append(row, Cell(id), Cell(team))
		if r.Collection == schema.Consent {
			row = append(row, strconv.FormatBool(withdrawn))
		}
		var answers map[string]map[string]json.RawMessage
		for _, name := range names {
			if val, ok := fields[name]; ok {
				row = append(row, Cell(render(val)))
				continue
			}
			if strings.HasPrefix(name, schema.AnswerPrefix) {
				if i := strings.LastIndexByte(name, '.'); i > len(schema.AnswerPrefix) {
					field, sub := name[:i], name[i+1:]
					if answers == nil {
						answers = map[string]map[string]json.RawMessage{}
					}
					a, seen := answers[field]
					if !seen {
						json.Unmarshal(fields[field], &a)
						answers[field] = a
					}
					if val, ok := a[sub]; ok {
						row = append(row, Cell(render(val)))
						continue
					}
				}
			}
			row = append(row, "")
		}
		n++
		if err := cw.Write(row); err != nil {
			return err
		}
		if n%500 == 0 {
			cw.Flush()
			flushHTTP(w)
		}
		return cw.Error()
	})
	cw.Flush()
	flushHTTP(w)
	if err == nil {
		err = cw.Error()
	}
	return n, err
}

// colLess orders columns by name, an answer's parts in answerKeys order.
func colLess(a, b string) bool {
	fa, sa := splitAnswer(a)
	fb, sb := splitAnswer(b)
	if fa != fb {
		return fa < fb
	}
	return sa < sb
}

func splitAnswer(name string) (string, int) {
	if strings.HasPrefix(name, schema.AnswerPrefix) {
		if i := strings.LastIndexByte(name, '.'); i > len(schema.AnswerPrefix) {
			if k := slices.Index(answerKeys, name[i+1:]); k >= 0 {
				return name[:i], k
			}
			return name[:i], len(answerKeys)
		}
	}
	return name, -1
}

// render turns a JSON value into cell text: a string as it is, a list of strings joined
// with "; ", anything else as JSON.
func render(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	case '[':
		var ss []string
		if json.Unmarshal(raw, &ss) == nil {
			return strings.Join(ss, "; ")
		}
	}
	return string(raw)
}

// Cell guards a cell against formula injection: text a spreadsheet would run as a
// formula (starting with = + - @, or a tab or carriage return) gets a leading '.
func Cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
