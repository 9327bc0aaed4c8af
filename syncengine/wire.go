package syncengine

import (
	"strconv"
)

// The JSON shapes of the sync protocol (docs/PROTOCOL.md, "Sync"). They live here, below
// both the server and the client SDK, so the two can't drift apart; nothing here speaks
// HTTP.

// PushRequest is the body of POST /v1/sync/push.
type PushRequest struct {
	Ops []Op `json:"ops"`
}

// PushResponse answers a push. Every op is accepted, a duplicate, or rejected.
type PushResponse struct {
	Accepted   int         `json:"accepted"`
	Duplicates int         `json:"duplicates"`
	Rejected   []Rejection `json:"rejected"`
	Restamped  []Op        `json:"restamped"`
	Cursor     string      `json:"cursor"`
	ServerTS   int64       `json:"server_ts"`
}

// PullResponse answers GET /v1/sync/pull.
type PullResponse struct {
	Ops      []Op        `json:"ops"`
	Erased   []RecordKey `json:"erased"`
	Cursor   string      `json:"cursor"`
	More     bool        `json:"more"`
	ServerTS int64       `json:"server_ts"`
}

// StateResponse answers GET /v1/sync/state.
type StateResponse struct {
	Hash    string `json:"hash"`
	Records int    `json:"records"`
}

// ErrorBody is every non-2xx response's body.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail: code never changes with language; message is in the caller's language.
type ErrorDetail struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

// EncodeCursor turns an ingest sequence into the opaque cursor clients hold.
func EncodeCursor(seq int64) string {
	if seq <= 0 {
		return ""
	}
	return strconv.FormatInt(seq, 10)
}

// DecodeCursor parses a cursor; "" is the start. ok is false for anything else a client
// could not have been given.
func DecodeCursor(c string) (seq int64, ok bool) {
	if c == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(c, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}
