package syncengine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fieldnotes/fieldnotes/schema"
)

// Op is one immutable change, exactly as on the wire. (Node, Counter) is its identity.
type Op struct {
	Node       string          `json:"node"`
	Counter    uint64          `json:"counter"`
	TS         int64           `json:"ts"`
	TC         uint32          `json:"tc"`
	Collection string          `json:"collection"`
	Record     string          `json:"record"`
	Kind       string          `json:"kind"`
	Field      string          `json:"field,omitempty"`
	Value      json.RawMessage `json:"value,omitempty"`
	Observed   []string        `json:"observed,omitempty"`

	// validated is set by a successful Validate, so that a hub can validate ops in the
	// request's goroutine and the single writer need not do it again. Decoding JSON
	// never sets it.
	validated bool
}

// ID is the op's identity, "node:counter", as used in a remove's observed list.
func (o *Op) ID() string { return o.Node + ":" + strconv.FormatUint(o.Counter, 10) }

// Stamp is the op's position in the total order.
func (o *Op) Stamp() Stamp { return Stamp{TS: o.TS, TC: o.TC, Node: o.Node, Counter: o.Counter} }

// Key names the record the op changes.
func (o *Op) Key() RecordKey { return RecordKey{Collection: o.Collection, Record: o.Record} }

// RecordKey names a record.
type RecordKey struct {
	Collection string `json:"collection"`
	Record     string `json:"record"`
}

// Stamp orders ops: (ts, tc, node), node compared as a string. Counter breaks the tie an
// honest node never makes (two ops with one timestamp), so the order stays total whatever
// a faulty tablet sends.
type Stamp struct {
	TS      int64  `json:"ts"`
	TC      uint32 `json:"tc"`
	Node    string `json:"n"`
	Counter uint64 `json:"c,omitempty"`
}

// Compare returns -1, 0 or 1.
func (s Stamp) Compare(t Stamp) int {
	switch {
	case s.TS != t.TS:
		if s.TS < t.TS {
			return -1
		}
		return 1
	case s.TC != t.TC:
		if s.TC < t.TC {
			return -1
		}
		return 1
	case s.Node != t.Node:
		return strings.Compare(s.Node, t.Node)
	case s.Counter != t.Counter:
		if s.Counter < t.Counter {
			return -1
		}
		return 1
	}
	return 0
}

// Less reports whether s orders before t.
func (s Stamp) Less(t Stamp) bool { return s.Compare(t) < 0 }

// IsZero reports whether s was never set.
func (s Stamp) IsZero() bool { return s == Stamp{} }

// Error codes the engine adds to schema's; stable and append-only.
const (
	CodeInvalidOp    = "invalid_op"
	CodeInvalidNode  = "invalid_node"
	CodeOutOfScope   = "out_of_scope"
	CodeNotOwnNode   = "not_own_node"
	CodeMalformed    = "malformed_json"
	CodeUnknownColl  = "unknown_collection"
	CodeOpIDReused   = "op_id_reused"
	maxNodeLen       = 64
	maxCollectionLen = 64
	maxObserved      = 10000
)

// Rejection says why one op was not applied.
type Rejection struct {
	Node    string `json:"node"`
	Counter uint64 `json:"counter"`
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// OpError is an op that failed validation.
type OpError struct {
	Code, Field, Message string
}

func (e *OpError) Error() string { return e.Code + ": " + e.Message }

func opErr(code, field, format string, a ...any) *OpError {
	return &OpError{Code: code, Field: field, Message: fmt.Sprintf(format, a...)}
}

// DecodeOp parses one op from JSON, strictly: an op with a wrong type anywhere is an
// error, never a zero value.
func DecodeOp(data []byte) (Op, error) {
	var op Op
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&op); err != nil {
		return Op{}, opErr(CodeMalformed, "", "op is not valid JSON: %v", err)
	}
	if dec.More() {
		return Op{}, opErr(CodeMalformed, "", "trailing data after op")
	}
	return op, nil
}

// Validate checks the op's envelope and its change against the schema, and rewrites its
// value in canonical JSON so that every replica stores and hashes the same bytes.
func (o *Op) Validate() *OpError {
	o.validated = false
	if o.Node == "" || len(o.Node) > maxNodeLen || strings.ContainsAny(o.Node, ": \t\n") || !utf8.ValidString(o.Node) {
		return opErr(CodeInvalidNode, "node", "node must be a non-empty id of at most %d characters without ':'", maxNodeLen)
	}
	if o.Counter == 0 {
		return opErr(CodeInvalidOp, "counter", "counter starts at 1")
	}
	if o.TS <= 0 {
		return opErr(CodeInvalidOp, "ts", "ts must be a positive time in ms")
	}
	if o.Collection == "" || len(o.Collection) > maxCollectionLen || !collectionRE(o.Collection) {
		return opErr(CodeUnknownColl, "collection", "collection must be a snake_case name")
	}
	if !schema.ValidRecordID(o.Record) {
		return opErr(schema.CodeInvalidRecordID, "record", "record must be a UUID")
	}
	if len(o.Value) > schema.MaxValueBytes {
		return opErr(schema.CodeInvalidField, o.Field, "value is larger than %d bytes", schema.MaxValueBytes)
	}
	var v any
	hasValue := len(bytes.TrimSpace(o.Value)) > 0
	if hasValue {
		canon, decoded, err := canonicalJSON(o.Value)
		if err != nil {
			return opErr(CodeMalformed, o.Field, "value is not valid JSON")
		}
		o.Value, v = canon, decoded
		if v == nil {
			hasValue = o.Kind == schema.KindSet
		}
	} else {
		o.Value = nil
	}
	if e := schema.ValidateChange(o.Collection, o.Kind, o.Field, v, hasValue); e != nil {
		return &OpError{Code: e.Code, Field: e.Field, Message: e.Message}
	}
	if o.Kind == schema.KindRemove {
		if len(o.Observed) > maxObserved {
			return opErr(CodeInvalidOp, "observed", "too many observed ids")
		}
		for _, id := range o.Observed {
			if i := strings.LastIndexByte(id, ':'); i <= 0 || i == len(id)-1 {
				return opErr(CodeInvalidOp, "observed", "observed ids are node:counter")
			} else if _, err := strconv.ParseUint(id[i+1:], 10, 64); err != nil {
				return opErr(CodeInvalidOp, "observed", "observed ids are node:counter")
			}
		}
	} else if len(o.Observed) > 0 {
		return opErr(CodeInvalidOp, "observed", "only a remove carries observed ids")
	}
	if o.Kind != schema.KindSet && o.Kind != schema.KindAdd && o.Kind != schema.KindRemove && o.Kind != schema.KindAppend && len(o.Value) > 0 && o.Kind != schema.KindWithdraw {
		// delete and erase carry nothing; withdraw may carry a reason.
		o.Value = nil
	}
	o.validated = true
	return nil
}

func collectionRE(s string) bool {
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || r == '_' || (i > 0 && r >= '0' && r <= '9')) {
			return false
		}
	}
	return true
}

// canonicalJSON checks a JSON value and puts it in the form encoding/json puts a
// json.RawMessage on the wire: compact, with <, >, & and U+2028/2029 escaped. Replicas
// store and hash the bytes they receive, so the stored form must survive a trip through
// the wire unchanged, or a tablet and the hub would hash different bytes for one op.
// It returns the decoded value for validation. Plain strings, most values, skip the
// decoder.
func canonicalJSON(raw []byte) ([]byte, any, error) {
	if n := len(raw); n >= 2 && raw[0] == '"' && raw[n-1] == '"' && plainString(raw[1:n-1]) {
		return raw, string(raw[1 : n-1]), nil
	}
	var v any
	if !FastUnmarshal(raw, &v) {
		v = nil
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, nil, err
		}
	}
	if isCompact(raw) && !needsHTMLEscape(raw) {
		return raw, v, nil
	}
	var compact, out bytes.Buffer
	compact.Grow(len(raw))
	if err := json.Compact(&compact, raw); err != nil {
		return nil, nil, err
	}
	out.Grow(compact.Len())
	json.HTMLEscape(&out, compact.Bytes())
	return out.Bytes(), v, nil
}

// plainString: string contents with nothing to escape or check.
func plainString(b []byte) bool {
	ascii := true
	for _, c := range b {
		if c < 0x20 || c == '\\' || c == '"' || c == '<' || c == '>' || c == '&' {
			return false
		}
		if c >= 0x80 {
			ascii = false
		}
	}
	return ascii || utf8.Valid(b) && !needsHTMLEscape(b)
}

var lineSep, paraSep = []byte("\u2028"), []byte("\u2029")

// needsHTMLEscape reports whether encoding/json would rewrite b when marshalling it.
func needsHTMLEscape(b []byte) bool {
	return bytes.IndexAny(b, "<>&") >= 0 || bytes.Contains(b, lineSep) || bytes.Contains(b, paraSep)
}

// isCompact reports whether valid JSON has no whitespace outside its strings.
func isCompact(raw []byte) bool {
	in, esc := false, false
	for _, c := range raw {
		switch {
		case esc:
			esc = false
		case in && c == '\\':
			esc = true
		case c == '"':
			in = !in
		case !in && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return false
		}
	}
	return true
}
