package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/labstack/echo/v4"
)

// readBody reads the whole (limited, gunzipped) body. Every body is read as JSON
// whatever its Content-Type says (curl sends form encoding by default): what is not JSON
// is a 400 malformed_json.
func readBody(c echo.Context) ([]byte, error) {
	b, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return nil, bodyError(err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, Fail(CodeMalformedJSON, map[string]any{"reason": "empty body"})
	}
	return b, nil
}

func bodyError(err error) error {
	var tl *errBodyTooLarge
	if errors.As(err, &tl) {
		return Fail(CodeBodyTooLarge, map[string]any{"limit": humanBytes(tl.limit)})
	}
	return Fail(CodeMalformedJSON, map[string]any{"reason": "body could not be read"})
}

// DecodeStrict decodes a management request body into v: unknown fields are refused,
// and so is anything after the JSON value. Not JSON → 400 malformed_json; JSON of the
// wrong shape → 422 invalid_type or invalid_field with details.field. Every JSON API of
// the server (coordinators', annual report) reads its bodies through it.
func DecodeStrict(c echo.Context, v any) error {
	b, err := readBody(c)
	if err != nil {
		return err
	}
	return DecodeStrictBytes(b, v)
}

// DecodeStrictBytes is DecodeStrict for a body already read.
func DecodeStrictBytes(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return Fail(CodeMalformedJSON, map[string]any{"reason": "empty body"})
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Fail(CodeMalformedJSON, map[string]any{"reason": "data after the JSON value"})
	}
	return nil
}

// jsonError maps an encoding/json error to our codes.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return Fail(schema.CodeInvalidType, map[string]any{"field": field, "expected": te.Type.String()})
	case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return Fail(CodeMalformedJSON)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return Fail(schema.CodeInvalidField, map[string]any{"field": field, "reason": "unknown field"})
	}
	return bodyError(err)
}
