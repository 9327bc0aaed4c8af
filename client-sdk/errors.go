package sdk

import (
	"errors"
	"fmt"
	"strings"

	"github.com/fieldnotes/fieldnotes/locales"
	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

// Error codes the SDK returns. Codes are stable and match the server's where they mean the
// same thing; each has a message "error.<code>" in locales.
const (
	CodeConsentScopeMissing = "consent_scope_missing"
	CodeConsentWithdrawn    = "consent_withdrawn"
	CodeConsentRequired     = "consent_required"
	CodeNotEnrolled         = "not_enrolled"
	CodeDeviceRevoked       = "device_revoked"
	CodeTokensRevoked       = "tokens_revoked" // signed out for safety; nothing is wiped
	CodeOffline             = "offline"
	CodeSyncFailed          = "sync_failed"
	CodeNotFound            = "not_found"
	CodeRecordErased        = "record_erased"
	CodeInvalidField        = schema.CodeInvalidField
	CodeInvalidEnum         = schema.CodeInvalidEnum
	CodeRequired            = schema.CodeRequired
	CodeTokenExpired        = "token_expired"
	CodeInternal            = "internal"
	// CodeStoreKey: the store is encrypted and the key given does not open it (or none
	// was given); nothing was changed.
	CodeStoreKey = "store_key"
	// CodeConnectionRefused: the server's address answered but nothing listens there
	// (wrong port, or the server is not running); the data stays on the device.
	CodeConnectionRefused = "connection_refused"
	// CodeInvalidServerURL: the server address is not a URL the device can use (no
	// http:// or https://, or no host).
	CodeInvalidServerURL = "invalid_server_url"
)

// Error is every failure the SDK reports on purpose: a stable Code, the consent Scope or
// Field it concerns, and the cause. Message renders it in a language for the worker.
type Error struct {
	Code    string
	Scope   string // the consent scope that is missing (consent_scope_missing)
	Field   string // the field concerned, as the program names it
	Detail  string // English detail for logs; never what a participant said
	Status  int    // HTTP status when the error came from the server
	Allowed []string
	Err     error // the underlying cause, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Code)
	if e.Scope != "" {
		b.WriteString(": scope " + e.Scope)
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is matches errors by code, so errors.Is(err, ErrRevoked) holds for any revoked error.
// A refused connection is also ErrOffline: the server can't be reached either way.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || t.Scope != "" || t.Field != "" {
		return false
	}
	return t.Code == e.Code || (t.Code == CodeOffline && e.Code == CodeConnectionRefused)
}

// Message is the error in lang (a BCP 47 tag), for the worker: "This person has not agreed
// to be contacted later…" with the scope's name in the same language.
func (e *Error) Message(lang string) string {
	data := map[string]any{"Field": e.Field, "Scope": e.Scope, "Allowed": strings.Join(e.Allowed, ", ")}
	if e.Scope != "" {
		data["Scope"], _ = locales.Localize(lang, locales.ScopeNameID(e.Scope), nil)
	}
	text, _ := locales.Localize(lang, locales.ErrorMessageID(e.Code), data)
	if text == locales.ErrorMessageID(e.Code) { // no message for this code
		text, _ = locales.Localize(lang, locales.ErrorMessageID(CodeInternal), nil)
	}
	return text
}

// Sentinels for errors.Is.
var (
	// ErrRevoked: the server switched this device off; its store has been wiped.
	ErrRevoked = &Error{Code: CodeDeviceRevoked}
	// ErrNotEnrolled: the device has no identity yet; call Enrol.
	ErrNotEnrolled = &Error{Code: CodeNotEnrolled}
	// ErrNotFound: no such record on this device.
	ErrNotFound = &Error{Code: CodeNotFound}
	// ErrOffline: the server could not be reached.
	ErrOffline = &Error{Code: CodeOffline}
	// ErrStoreKey: the store is encrypted and the key does not open it.
	ErrStoreKey = &Error{Code: CodeStoreKey}
)

func errCode(code string, format string, a ...any) *Error {
	return &Error{Code: code, Detail: fmt.Sprintf(format, a...)}
}

func scopeMissing(scope string) *Error { return &Error{Code: CodeConsentScopeMissing, Scope: scope} }

// fromStore turns a store error into an *Error: a rejected write keeps its code and field.
func fromStore(err error) error {
	if err == nil {
		return nil
	}
	var rej *syncengine.RejectedError
	if errors.As(err, &rej) && len(rej.Rejected) > 0 {
		r := rej.Rejected[0]
		return &Error{Code: r.Code, Field: r.Field, Detail: r.Message, Err: err}
	}
	if errors.Is(err, syncengine.ErrNotFound) {
		return &Error{Code: CodeNotFound, Err: err}
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Code: CodeInternal, Err: err}
}
