package schema

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Stable error codes. They travel over the wire and are append-only: never reuse or
// remove one.
const (
	CodeInvalidField    = "invalid_field"
	CodeInvalidType     = "invalid_type"
	CodeInvalidEnum     = "invalid_enum"
	CodeRequired        = "required"
	CodeInvalidKind     = "invalid_kind"
	CodeInvalidRecordID = "invalid_record_id"
)

// Error is a validation failure: a stable code, the field it concerns and a message in
// English for logs. People see a translation chosen by the code.
type Error struct {
	Code    string
	Field   string
	Message string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Code + ": " + e.Message
	}
	return e.Code + ": " + e.Field + ": " + e.Message
}

func errf(code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Op kinds as they appear on the wire.
const (
	KindSet      = "set"
	KindAdd      = "add"
	KindRemove   = "remove"
	KindAppend   = "append"
	KindDelete   = "delete"
	KindWithdraw = "withdraw"
	KindErase    = "erase"
)

// Kinds lists every op kind.
var Kinds = []string{KindSet, KindAdd, KindRemove, KindAppend, KindDelete, KindWithdraw, KindErase}

// MaxValueBytes bounds one op's value: a long answer fits, a pasted book does not.
const MaxValueBytes = 64 << 10

// ValidRecordID reports whether id is a UUID in its 36-character text form (devices make
// UUIDv7 ids). Written out by hand: it runs for every op ingested.
func ValidRecordID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := id[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// bcp47RE is the shape of a language tag; matching against supported languages is done
// elsewhere with golang.org/x/text.
var bcp47RE = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)

// ValidLocale reports whether s looks like a BCP 47 language tag.
func ValidLocale(s string) bool { return len(s) <= 35 && bcp47RE.MatchString(s) }

// validFieldName: snake_case, optionally with one ".suffix" (answer.<prompt_id>,
// summary.<locale>). By hand for the same reason as ValidRecordID.
func validFieldName(f string) bool {
	if f == "" || len(f) > 128 || f[0] < 'a' || f[0] > 'z' {
		return false
	}
	dot := false
	for i := 1; i < len(f); i++ {
		c := f[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_':
		case c == '.' && !dot && i < len(f)-1:
			dot = true
		case dot && (c >= 'A' && c <= 'Z' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// ValidateChange checks one op's kind, field and value against the collection's schema.
// value is the decoded JSON value (nil when absent). Fields the protocol does not list are
// accepted with any value and passed on untouched, as are unknown collections.
func ValidateChange(collection, kind, field string, value any, hasValue bool) *Error {
	switch kind {
	case KindDelete, KindErase:
		if field != "" {
			return errf(CodeInvalidField, "field", "%s takes no field", kind)
		}
		return nil
	case KindWithdraw:
		if field != "" {
			return errf(CodeInvalidField, "field", "withdraw takes no field")
		}
		if IsKnownCollection(collection) && collection != Consent {
			return errf(CodeInvalidKind, "kind", "only a consent can be withdrawn")
		}
		return nil
	case KindSet, KindAdd, KindRemove, KindAppend:
	default:
		return errf(CodeInvalidKind, "kind", "unknown op kind %q", kind)
	}
	if field == "" {
		return errf(CodeRequired, "field", "%s needs a field", kind)
	}
	if !validFieldName(field) {
		return errf(CodeInvalidField, "field", "field name %q is not snake_case", field)
	}
	if !hasValue && kind != KindSet {
		return errf(CodeRequired, field, "%s needs a value", kind)
	}
	f, known := Lookup(collection, field)
	if !known {
		return nil
	}
	want := map[Shape]string{Register: KindSet, Set: "add/remove", Log: KindAppend}[f.Shape]
	switch {
	case f.Shape == Register && kind != KindSet,
		f.Shape == Set && kind != KindAdd && kind != KindRemove,
		f.Shape == Log && kind != KindAppend:
		return errf(CodeInvalidKind, field, "%s takes %s, not %s", field, want, kind)
	}
	if value == nil {
		if f.Shape == Register {
			return nil // setting null clears a field
		}
		return errf(CodeRequired, field, "%s needs a value", kind)
	}
	return checkValue(f, field, value)
}

func checkValue(f Field, name string, v any) *Error {
	switch f.Type {
	case String, Text, Ref:
		s, ok := v.(string)
		if !ok {
			return errf(CodeInvalidType, name, "must be a string")
		}
		if f.Type == Ref && (s == "" || len(s) > 128) {
			return errf(CodeInvalidField, name, "must be a record id")
		}
		if f.Type == String && len(s) > 2000 {
			return errf(CodeInvalidField, name, "is longer than 2000 bytes")
		}
	case Int, Time:
		n, ok := v.(float64)
		if !ok {
			if num, isNum := v.(json.Number); isNum {
				f64, err := num.Float64()
				n, ok = f64, err == nil
			}
		}
		if !ok || n != float64(int64(n)) {
			return errf(CodeInvalidType, name, "must be an integer")
		}
		if n < 0 {
			return errf(CodeInvalidField, name, "must not be negative")
		}
	case Bool:
		if _, ok := v.(bool); !ok {
			return errf(CodeInvalidType, name, "must be true or false")
		}
	case Enum:
		s, ok := v.(string)
		if !ok {
			return errf(CodeInvalidType, name, "must be a string")
		}
		for _, x := range f.Values {
			if s == x {
				return nil
			}
		}
		return &Error{Code: CodeInvalidEnum, Field: name, Message: fmt.Sprintf("%q is not one of %s", s, strings.Join(f.Values, ", "))}
	case Locale:
		s, ok := v.(string)
		if !ok {
			return errf(CodeInvalidType, name, "must be a language tag string")
		}
		if !ValidLocale(s) {
			return errf(CodeInvalidField, name, "%q is not a BCP 47 language tag", s)
		}
	case Object:
		if _, ok := v.(map[string]any); !ok {
			return errf(CodeInvalidType, name, "must be an object")
		}
	case Array:
		if _, ok := v.([]any); !ok {
			return errf(CodeInvalidType, name, "must be an array")
		}
	}
	if f.Check != nil {
		return f.Check(v)
	}
	return nil
}

func str(m map[string]any, key string) (string, bool, *Error) {
	v, ok := m[key]
	if !ok || v == nil {
		return "", false, nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", true, errf(CodeInvalidType, key, "must be a string")
	}
	return s, true, nil
}

// checkAnswer: {text or choice, prompt_locale, answer_locale, translation_en}.
func checkAnswer(v any) *Error {
	m := v.(map[string]any)
	_, hasText, err := str(m, "text")
	if err != nil {
		return err
	}
	choice, hasChoice := m["choice"]
	if !hasText && (!hasChoice || choice == nil) {
		return errf(CodeRequired, "text", "an answer needs text or choice")
	}
	if hasChoice && choice != nil {
		switch c := choice.(type) {
		case string:
		case []any:
			for _, x := range c {
				if _, ok := x.(string); !ok {
					return errf(CodeInvalidType, "choice", "choices must be strings")
				}
			}
		default:
			return errf(CodeInvalidType, "choice", "must be a choice id or a list of them")
		}
	}
	for _, k := range []string{"prompt_locale", "answer_locale"} {
		s, has, err := str(m, k)
		if err != nil {
			return err
		}
		if !has {
			return errf(CodeRequired, k, "an answer records the language it was %s in", map[string]string{"prompt_locale": "asked", "answer_locale": "given"}[k])
		}
		if !ValidLocale(s) {
			return errf(CodeInvalidField, k, "%q is not a BCP 47 language tag", s)
		}
	}
	if _, _, err := str(m, "translation_en"); err != nil {
		return err
	}
	return nil
}

// checkLanguageSwitch: {at_prompt, from, to, at}.
func checkLanguageSwitch(v any) *Error {
	m := v.(map[string]any)
	if _, _, err := str(m, "at_prompt"); err != nil {
		return err
	}
	for _, k := range []string{"from", "to"} {
		s, has, err := str(m, k)
		if err != nil {
			return err
		}
		if !has || !ValidLocale(s) {
			return errf(CodeInvalidField, k, "a language switch names the languages it went %s", k)
		}
	}
	if at, ok := m["at"]; ok && at != nil {
		if _, isNum := at.(float64); !isNum {
			return errf(CodeInvalidType, "at", "must be a time in ms")
		}
	}
	return nil
}

// checkPrompts: an ordered array of {id, kind, choices, text, choice_text}.
func checkPrompts(v any) *Error {
	seen := map[string]bool{}
	for i, p := range v.([]any) {
		m, ok := p.(map[string]any)
		if !ok {
			return errf(CodeInvalidType, fmt.Sprintf("prompts[%d]", i), "must be an object")
		}
		id, has, err := str(m, "id")
		if err != nil {
			return err
		}
		if !has || id == "" || seen[id] {
			return errf(CodeInvalidField, fmt.Sprintf("prompts[%d].id", i), "every prompt needs a unique id")
		}
		seen[id] = true
		kind, _, err := str(m, "kind")
		if err != nil {
			return err
		}
		if !slices.Contains(PromptKinds, kind) {
			return errf(CodeInvalidEnum, fmt.Sprintf("prompts[%d].kind", i), "%q is not one of %s", kind, strings.Join(PromptKinds, ", "))
		}
		if t, ok := m["text"]; ok {
			if _, isObj := t.(map[string]any); !isObj {
				return errf(CodeInvalidType, fmt.Sprintf("prompts[%d].text", i), "must map locales to text")
			}
		}
	}
	return nil
}
