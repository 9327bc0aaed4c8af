package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/labstack/echo/v4"
)

const (
	defaultRecordLimit = 100
	maxRecordLimit     = 1000
)

// RecordJSON is a record on the wire.
type RecordJSON struct {
	ID         string                     `json:"id"`
	Collection string                     `json:"collection"`
	Team       string                     `json:"team"`
	Fields     map[string]json.RawMessage `json:"fields"`
	UpdatedTS  int64                      `json:"updated_ts"`
	Deleted    bool                       `json:"deleted,omitempty"`
	Withdrawn  bool                       `json:"withdrawn,omitempty"`
	History    []HistoryEntry             `json:"history,omitempty"`
}

func recordJSON(r syncengine.Record) RecordJSON {
	f := r.Fields
	if f == nil {
		f = map[string]json.RawMessage{}
	}
	return RecordJSON{ID: r.ID, Collection: r.Collection, Team: r.Team, Fields: f, UpdatedTS: r.UpdatedTS, Deleted: r.Deleted, Withdrawn: r.Withdrawn}
}

// HistoryEntry is one op of a record's audit history: who, when, what.
type HistoryEntry struct {
	syncengine.Op
	By Author `json:"by"`
}

// Author names who wrote under an op's node.
type Author struct {
	Kind  string `json:"kind"` // "user", "device" or "unknown"
	ID    string `json:"id,omitempty"`
	Label string `json:"label,omitempty"` // a user's email or a device's label
}

// knownCollection refuses collections the protocol does not list: 404 unknown_collection.
func knownCollection(c echo.Context) (string, error) {
	coll := c.Param("collection")
	if !schema.IsKnownCollection(coll) {
		return "", Fail(CodeUnknownCollection, map[string]any{"collection": coll})
	}
	return coll, nil
}

func queryInt(c echo.Context, name string, def, lo, hi int64) (int64, error) {
	v := c.QueryParam(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo {
		return 0, FailField(CodeInvalidQuery, name)
	}
	return min(n, hi), nil
}

func (s *Server) listRecords(c echo.Context) error {
	coll, err := knownCollection(c)
	if err != nil {
		return err
	}
	teams, err := ScopeTeams(c, c.QueryParam("team"))
	if err != nil {
		return err
	}
	since, err := queryInt(c, "updated_since", 0, 0, 1<<62)
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", defaultRecordLimit, 1, maxRecordLimit)
	if err != nil {
		return err
	}
	after := c.QueryParam("after")
	if len(after) > 128 {
		return FailField(CodeInvalidQuery, "after")
	}
	recs, next, err := s.Store.Records(c.Request().Context(), syncengine.RecordQuery{
		Collection: coll, Teams: teams, UpdatedSince: since, After: after, Limit: int(limit)})
	if err != nil {
		return Internal(err)
	}
	out := make([]RecordJSON, 0, len(recs))
	for _, r := range recs {
		out = append(out, recordJSON(r))
	}
	return c.JSON(http.StatusOK, map[string]any{"records": out, "next": next})
}

// loadRecord reads a record the caller may see: 404 not_found if it never existed,
// 404 record_erased if it was erased, 403 out_of_scope if another team's.
func (s *Server) loadRecord(c echo.Context, coll, id string) (syncengine.Record, error) {
	r, err := s.Store.Get(c.Request().Context(), syncengine.RecordKey{Collection: coll, Record: id})
	if errors.Is(err, syncengine.ErrNotFound) || (err == nil && !r.Erased && len(r.Fields) == 0 && !r.Withdrawn && r.UpdatedTS == 0) {
		return r, Fail(CodeNotFound)
	} else if err != nil {
		return r, Internal(err)
	}
	if !Caller(c).CanSee(r.Team) {
		return r, Fail(CodeOutOfScope)
	}
	if r.Erased {
		return r, Fail(CodeRecordErased)
	}
	return r, nil
}

func (s *Server) getRecord(c echo.Context) error {
	coll, err := knownCollection(c)
	if err != nil {
		return err
	}
	r, err := s.loadRecord(c, coll, c.Param("id"))
	if err != nil {
		return err
	}
	out := recordJSON(r)
	if h := c.QueryParam("history"); h == "1" || h == "true" {
		ops, err := s.Store.History(c.Request().Context(), syncengine.RecordKey{Collection: coll, Record: r.ID})
		if err != nil {
			return Internal(err)
		}
		authors := map[string]Author{}
		out.History = make([]HistoryEntry, 0, len(ops))
		for _, op := range ops {
			a, ok := authors[op.Node]
			if !ok {
				kind, id, label, found, err := s.Store.NodeOwner(c.Request().Context(), op.Node)
				if err != nil {
					return Internal(err)
				}
				a = Author{Kind: "unknown"}
				if found {
					a = Author{Kind: kind, ID: id, Label: label}
				}
				authors[op.Node] = a
			}
			out.History = append(out.History, HistoryEntry{Op: op, By: a})
		}
	}
	return c.JSON(http.StatusOK, out)
}

type withdrawRequest struct {
	Reason string `json:"reason"`
}

// WithdrawResponse answers POST /v1/consents/{id}/withdraw.
type WithdrawResponse struct {
	Consent          string                 `json:"consent"`
	Withdrawn        bool                   `json:"withdrawn"`
	AlreadyWithdrawn bool                   `json:"already_withdrawn"`
	Erased           []syncengine.RecordKey `json:"erased"`
	Op               *syncengine.Op         `json:"op,omitempty"`
}

func (s *Server) withdrawConsent(c echo.Context) error {
	var req withdrawRequest
	if c.Request().ContentLength != 0 {
		if err := DecodeStrict(c, &req); err != nil {
			var e *Error
			if !(errors.As(err, &e) && e.Code == CodeMalformedJSON && e.Details["reason"] == "empty body") {
				return err
			}
		}
	}
	out, err := WithdrawConsent(c.Request().Context(), s.Store, Caller(c), c.Param("id"), req.Reason)
	if err != nil {
		return err
	}
	if !out.AlreadyWithdrawn {
		s.Log.Info().Str("consent", out.Consent).Str("by", Caller(c).Subject).Int("erased", len(out.Erased)).Msg("consent withdrawn centrally")
	}
	return c.JSON(http.StatusOK, out)
}

// WithdrawConsent withdraws consent id as p (a coordinator or admin): a withdraw op
// under p's node that, in the same transaction, erases every conversation recorded
// under the consent and the participant's contact and equality fields. Withdrawing
// again is not an error (AlreadyWithdrawn). API errors: not_found, record_erased,
// out_of_scope. The console calls it too.
func WithdrawConsent(ctx context.Context, st store.Store, p *Principal, id, reason string) (WithdrawResponse, error) {
	if len(reason) > 2000 {
		return WithdrawResponse{}, Fail(schema.CodeInvalidField, map[string]any{"field": "reason", "reason": "at most 2000 bytes"})
	}
	r, err := st.Get(ctx, syncengine.RecordKey{Collection: schema.Consent, Record: id})
	if errors.Is(err, syncengine.ErrNotFound) || (err == nil && !r.Erased && len(r.Fields) == 0 && !r.Withdrawn && r.UpdatedTS == 0) {
		return WithdrawResponse{}, Fail(CodeNotFound)
	} else if err != nil {
		return WithdrawResponse{}, Internal(err)
	}
	if !p.CanSee(r.Team) {
		return WithdrawResponse{}, Fail(CodeOutOfScope)
	}
	if r.Erased {
		return WithdrawResponse{}, Fail(CodeRecordErased)
	}
	if r.Withdrawn {
		return WithdrawResponse{Consent: id, Withdrawn: true, AlreadyWithdrawn: true, Erased: []syncengine.RecordKey{}}, nil
	}
	value := map[string]any{}
	if reason != "" {
		value["reason"] = reason
	}
	ops, res, err := st.WriteAs(ctx, p.Node, []syncengine.Change{{
		Collection: schema.Consent, Record: id, Kind: schema.KindWithdraw, Value: value,
	}}, syncengine.ApplyOptions{Hub: true, Teams: p.Teams})
	var rej *syncengine.RejectedError
	if errors.As(err, &rej) {
		r := rej.Rejected[0]
		return WithdrawResponse{}, Fail(r.Code, map[string]any{"field": r.Field})
	} else if err != nil {
		return WithdrawResponse{}, Internal(err)
	}
	erased := res.Erased
	if erased == nil {
		erased = []syncengine.RecordKey{}
	}
	out := WithdrawResponse{Consent: id, Withdrawn: true, Erased: erased}
	if len(ops) == 1 {
		out.Op = &ops[0]
	}
	return out, nil
}
