package console

import (
	"context"
	"encoding/json"
	"errors"
	"sort"

	"github.com/fieldnotes/fieldnotes/syncengine"
)

// fields reads a record's view.
type fields map[string]json.RawMessage

func (f fields) str(k string) string {
	var s string
	json.Unmarshal(f[k], &s)
	return s
}

func (f fields) num(k string) int64 {
	var n float64
	json.Unmarshal(f[k], &n)
	return int64(n)
}

func (f fields) strs(k string) []string {
	var s []string
	json.Unmarshal(f[k], &s)
	sort.Strings(s)
	return s
}

func (f fields) boolean(k string) bool {
	var b bool
	json.Unmarshal(f[k], &b)
	return b
}

// errGone is a record that never existed, was erased, deleted, or belongs to a team the
// person may not see: the console answers 404 for all of them, so another team's ids
// can't be probed.
var errGone = errors.New("console: no such record")

// record loads a live record the person may see.
func (h *Console) record(ctx context.Context, w *who, coll, id string) (syncengine.Record, error) {
	r, err := h.Store.Get(ctx, syncengine.RecordKey{Collection: coll, Record: id})
	if errors.Is(err, syncengine.ErrNotFound) {
		return r, errGone
	} else if err != nil {
		return r, err
	}
	if r.Erased || r.Deleted || (len(r.Fields) == 0 && !r.Withdrawn) || !w.canSee(r.Team) {
		return r, errGone
	}
	return r, nil
}

// scan lists a collection's live records in the person's teams.
func (h *Console) scan(ctx context.Context, w *who, coll string) ([]syncengine.Record, error) {
	var out []syncengine.Record
	err := h.Store.Scan(ctx, coll, w.Teams, func(r syncengine.Record) error {
		if !r.Deleted && !r.Erased {
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// write applies changes as the signed-in person's ops.
func (h *Console) write(ctx context.Context, w *who, team string, ch []syncengine.Change) error {
	_, _, err := h.Store.WriteAs(ctx, w.User.NodeID, ch, syncengine.ApplyOptions{Hub: true, Teams: w.Teams, Team: team})
	return err
}

// teams lists the teams the person may act for.
func (h *Console) teams(ctx context.Context, w *who) ([]string, error) {
	ts, err := h.Store.Teams(ctx, w.Teams)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out, nil
}
