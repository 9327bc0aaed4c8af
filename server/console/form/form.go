// Package form parses and checks the console's forms, one file per form. A form's
// problems are Errors naming the field and a message id in locales/console.
package form

import (
	"strings"
	"time"
	"unicode"
)

// Error is one problem with a field; Message is a message id.
type Error struct {
	Field, Message string
}

// Errors collects problems in field order.
type Errors []Error

func (es *Errors) add(field, msg string) { *es = append(*es, Error{field, msg}) }

// clean trims a one-line value and refuses control characters and overlong text.
func clean(s string, max int) (string, bool) {
	s = strings.TrimSpace(s)
	return s, len(s) <= max && strings.IndexFunc(s, unicode.IsControl) < 0
}

// Date reads an <input type=date> value (YYYY-MM-DD, UTC) as Unix ms; 0 when empty.
func Date(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, true
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return 0, false
	}
	return t.UnixMilli(), true
}
