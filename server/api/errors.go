package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/fieldnotes/fieldnotes/locales"
	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"
)

// Stable error codes this package returns, besides schema's and syncengine's. They travel
// over the wire and are append-only. Each has an "error.<code>" message in locales/en.toml.
const (
	CodeMalformedJSON        = "malformed_json"
	CodeBodyTooLarge         = "body_too_large"
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeUnknownCollection    = "unknown_collection"
	CodeUnauthorized         = "unauthorized"
	CodeInvalidToken         = "invalid_token"
	CodeTokenExpired         = "token_expired"
	CodeDeviceRevoked        = "device_revoked"
	CodeForbidden            = "forbidden"
	CodeOutOfScope           = "out_of_scope"
	CodeNotFound             = "not_found"
	CodeRecordErased         = "record_erased"
	CodeInvalidCredentials   = "invalid_credentials"
	CodeEnrolmentCodeInvalid = "enrolment_code_invalid"
	CodeEnrolmentCodeUsed    = "enrolment_code_used"
	CodeEnrolmentCodeExpired = "enrolment_code_expired"
	CodeRefreshTokenInvalid  = "refresh_token_invalid"
	CodeRefreshTokenReused   = "refresh_token_reused"
	CodeTokensRevoked        = "tokens_revoked"
	CodeRateLimited          = "rate_limited"
	CodeConflict             = "conflict"
	CodeInvalidQuery         = "invalid_query"
	CodeInvalidCursor        = "invalid_cursor"
	CodeTeamRequired         = "team_required"
	CodeUnknownTeam          = "unknown_team"
	CodeEmailTaken           = "email_taken"
	CodeWeakPassword         = "weak_password"
	CodeInternal             = "internal"
	CodeStoreUnavailable     = "store_unavailable"
	CodeMethodNotAllowed     = "method_not_allowed"
)

// statuses maps every code to its HTTP status. A code missing here is a bug: 500.
var statuses = map[string]int{
	CodeMalformedJSON: http.StatusBadRequest,
	CodeInvalidQuery:  http.StatusBadRequest,
	CodeInvalidCursor: http.StatusBadRequest,

	CodeUnauthorized:         http.StatusUnauthorized,
	CodeInvalidToken:         http.StatusUnauthorized,
	CodeTokenExpired:         http.StatusUnauthorized,
	CodeDeviceRevoked:        http.StatusUnauthorized,
	CodeInvalidCredentials:   http.StatusUnauthorized,
	CodeEnrolmentCodeInvalid: http.StatusUnauthorized,
	CodeRefreshTokenInvalid:  http.StatusUnauthorized,
	CodeRefreshTokenReused:   http.StatusUnauthorized,
	CodeTokensRevoked:        http.StatusUnauthorized,

	CodeForbidden:             http.StatusForbidden,
	CodeOutOfScope:            http.StatusForbidden,
	syncengine.CodeNotOwnNode: http.StatusForbidden,

	CodeNotFound:          http.StatusNotFound,
	CodeUnknownCollection: http.StatusNotFound,
	CodeRecordErased:      http.StatusNotFound,

	CodeMethodNotAllowed: http.StatusMethodNotAllowed,

	CodeEnrolmentCodeUsed:    http.StatusConflict,
	CodeEnrolmentCodeExpired: http.StatusConflict,
	CodeEmailTaken:           http.StatusConflict,
	CodeConflict:             http.StatusConflict,
	"consent_withdrawn":      http.StatusConflict,

	CodeBodyTooLarge:         http.StatusRequestEntityTooLarge,
	CodeUnsupportedMediaType: http.StatusUnsupportedMediaType,

	schema.CodeInvalidField:    http.StatusUnprocessableEntity,
	schema.CodeInvalidType:     http.StatusUnprocessableEntity,
	schema.CodeInvalidEnum:     http.StatusUnprocessableEntity,
	schema.CodeRequired:        http.StatusUnprocessableEntity,
	schema.CodeInvalidKind:     http.StatusUnprocessableEntity,
	schema.CodeInvalidRecordID: http.StatusUnprocessableEntity,
	syncengine.CodeInvalidOp:   http.StatusUnprocessableEntity,
	syncengine.CodeInvalidNode: http.StatusUnprocessableEntity,
	CodeTeamRequired:           http.StatusUnprocessableEntity,
	CodeUnknownTeam:            http.StatusUnprocessableEntity,
	CodeWeakPassword:           http.StatusUnprocessableEntity,

	CodeRateLimited: http.StatusTooManyRequests,

	CodeInternal:         http.StatusInternalServerError,
	CodeStoreUnavailable: http.StatusServiceUnavailable,
}

// Status is the HTTP status of an error code (500 for a code nobody mapped).
func Status(code string) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Error is the one error type handlers return. Code is stable; Details go to the client
// as they are (snake_case keys) and fill the message template (CamelCase keys: "field"
// fills {{.Field}}). Err is the internal cause: logged, never sent.
type Error struct {
	Code    string
	Status  int
	Details map[string]any
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Code + ": " + e.Err.Error()
	}
	return e.Code
}

func (e *Error) Unwrap() error { return e.Err }

// Fail returns an error with a stable code, its mapped status, and optional details
// (merged left to right).
func Fail(code string, details ...map[string]any) *Error {
	e := &Error{Code: code, Status: Status(code)}
	for _, d := range details {
		for k, v := range d {
			if e.Details == nil {
				e.Details = map[string]any{}
			}
			e.Details[k] = v
		}
	}
	return e
}

// FailField is Fail with details {"field": field}.
func FailField(code, field string) *Error { return Fail(code, map[string]any{"field": field}) }

// Internal wraps an unexpected error: the client sees only "internal".
func Internal(err error) *Error { return &Error{Code: CodeInternal, Status: 500, Err: err} }

// templateData turns details' snake_case keys into the CamelCase names message templates use.
func templateData(details map[string]any) map[string]any {
	if len(details) == 0 {
		return nil
	}
	out := make(map[string]any, len(details))
	for k, v := range details {
		var b strings.Builder
		for _, part := range strings.Split(k, "_") {
			if part != "" {
				b.WriteString(strings.ToUpper(part[:1]) + part[1:])
			}
		}
		out[b.String()] = v
	}
	return out
}

// Message renders a code's message in the language of acceptLanguage.
func Message(acceptLanguage, code string, details map[string]any) string {
	text, _ := locales.Localize(acceptLanguage, "error."+code, templateData(details))
	return text
}

// fromEcho maps echo's own errors (no route, wrong method, its binder) to our codes.
func fromEcho(he *echo.HTTPError) *Error {
	switch he.Code {
	case http.StatusNotFound:
		return Fail(CodeNotFound)
	case http.StatusMethodNotAllowed:
		return Fail(CodeMethodNotAllowed)
	case http.StatusRequestEntityTooLarge:
		return Fail(CodeBodyTooLarge)
	case http.StatusUnsupportedMediaType:
		return Fail(CodeUnsupportedMediaType)
	case http.StatusUnauthorized:
		return Fail(CodeUnauthorized)
	case http.StatusForbidden:
		return Fail(CodeForbidden)
	case http.StatusTooManyRequests:
		return Fail(CodeRateLimited)
	case http.StatusBadRequest:
		return Fail(CodeMalformedJSON)
	case http.StatusServiceUnavailable:
		return Fail(CodeStoreUnavailable)
	}
	return Internal(fmt.Errorf("echo: %w", he))
}

// handleError is the server's only error writer: {"error": {code, message, details}} in
// the caller's language. It never shows internal text and does nothing once a response
// has started.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var e *Error
	var he *echo.HTTPError
	switch {
	case errors.As(err, &e):
	case errors.As(err, &he):
		e = fromEcho(he)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		e = &Error{Code: CodeStoreUnavailable, Status: http.StatusServiceUnavailable, Err: err}
	default:
		e = Internal(err)
	}
	status := e.Status
	if status == 0 {
		status = Status(e.Code)
	}
	if status >= 500 {
		ev := zerolog.Ctx(c.Request().Context()).Error()
		if rid := c.Response().Header().Get(echo.HeaderXRequestID); rid != "" {
			ev = ev.Str("request_id", rid)
		}
		ev.Str("code", e.Code).AnErr("cause", e.Err).Msg("request failed")
	}
	body := syncengine.ErrorBody{Error: syncengine.ErrorDetail{
		Code:    e.Code,
		Message: Message(c.Request().Header.Get("Accept-Language"), e.Code, e.Details),
		Details: e.Details,
	}}
	if c.Request().Method == http.MethodHead {
		c.NoContent(status)
		return
	}
	c.JSON(status, body)
}
