package annual

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/google/uuid"
)

// The two short texts a coordinator keeps for the annual report. They are records of
// the replica (collection annual_text), one per team and kind, written as ops under the
// coordinator's node like every other record, so they sync and carry their history.
// Every save is a new version: `text`, `version`, `updated_at` and `updated_by` hold the
// latest, and the log `versions` keeps every one with its date.
const (
	Collection = "annual_text"
	Governance = "governance"
	Strategy   = "strategy"
	// MaxTextBytes bounds one text (a page or two of plain prose).
	MaxTextBytes = 16 << 10
)

// Kinds are the texts the report has, in its order.
var Kinds = []string{Governance, Strategy}

var textNS = uuid.MustParse("9b4d7c2a-51e3-4f0e-8c1b-6a2f0d3e4b57")

// TextID is the record id of a team's text of a kind (the same on every replica, so two
// coordinators editing offline write to one record and the later save wins).
func TextID(team, kind string) string {
	return uuid.NewSHA1(textNS, []byte(team+"/"+kind)).String()
}

// Version is one saved version of a text.
type Version struct {
	Version int    `json:"version"`
	Text    string `json:"text"`
	At      int64  `json:"at"`
	By      string `json:"by"`
}

// Text is a team's current text of a kind, with every version.
type Text struct {
	Team      string    `json:"team"`
	Kind      string    `json:"kind"`
	Text      string    `json:"text"`
	Version   int       `json:"version"`
	UpdatedAt int64     `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
	Versions  []Version `json:"versions"`
}

// Replica is what texts need of the server's replica.
type Replica interface {
	WriteAs(ctx context.Context, node string, changes []syncengine.Change, opt syncengine.ApplyOptions) ([]syncengine.Op, syncengine.Result, error)
	Get(ctx context.Context, k syncengine.RecordKey) (syncengine.Record, error)
	Scan(ctx context.Context, collection string, teams []string, fn func(syncengine.Record) error) error
}

// ValidateText checks a kind and a text (codes: not_found for an unknown kind, required,
// invalid_field).
func ValidateText(kind, text string) error {
	if !slices.Contains(Kinds, kind) {
		return &Error{Code: CodeNotFound, Field: "kind", Message: "the texts are governance and strategy"}
	}
	switch {
	case strings.TrimSpace(text) == "":
		return &Error{Code: schema.CodeRequired, Field: "text", Message: "a text is needed"}
	case len(text) > MaxTextBytes || !utf8.ValidString(text):
		return &Error{Code: schema.CodeInvalidField, Field: "text", Message: "at most 16 KiB of UTF-8 text"}
	}
	return nil
}

// GetText reads a team's text of a kind; ok is false when none was saved yet.
func GetText(ctx context.Context, r Replica, team, kind string) (Text, bool, error) {
	rec, err := r.Get(ctx, syncengine.RecordKey{Collection: Collection, Record: TextID(team, kind)})
	if errors.Is(err, syncengine.ErrNotFound) || (err == nil && (rec.Erased || rec.Deleted)) {
		return Text{}, false, nil
	}
	if err != nil {
		return Text{}, false, err
	}
	return textOf(rec, team, kind), true, nil
}

func textOf(rec syncengine.Record, team, kind string) Text {
	t := Text{Team: team, Kind: kind, Versions: []Version{}}
	get := func(f string, dst any) {
		if raw, ok := rec.Fields[f]; ok {
			json.Unmarshal(raw, dst)
		}
	}
	get("text", &t.Text)
	get("version", &t.Version)
	get("updated_at", &t.UpdatedAt)
	get("updated_by", &t.UpdatedBy)
	get("versions", &t.Versions)
	if t.Versions == nil {
		t.Versions = []Version{}
	}
	return t
}

// PutText saves a new version of a team's text as ops under node, by the user by.
func PutText(ctx context.Context, r Replica, node, by, team, kind, text string, now int64) (Text, error) {
	if err := ValidateText(kind, text); err != nil {
		return Text{}, err
	}
	cur, _, err := GetText(ctx, r, team, kind)
	if err != nil {
		return Text{}, err
	}
	// Two coordinators saving offline at once may both write version n+1; the log keeps
	// both, ordered by stamp, and the later one is the text.
	v := Version{Version: max(cur.Version, len(cur.Versions)) + 1, Text: text, At: now, By: by}
	id := TextID(team, kind)
	set := func(f string, val any) syncengine.Change {
		return syncengine.Change{Collection: Collection, Record: id, Kind: schema.KindSet, Field: f, Value: val}
	}
	ch := []syncengine.Change{set("team", team), set("kind", kind), set("text", text), set("version", v.Version),
		set("updated_at", now), set("updated_by", by),
		{Collection: Collection, Record: id, Kind: schema.KindAppend, Field: "versions", Value: v}}
	if _, _, err := r.WriteAs(ctx, node, ch, syncengine.ApplyOptions{Hub: true, Teams: []string{team}, Team: team}); err != nil {
		return Text{}, err
	}
	out, _, err := GetText(ctx, r, team, kind)
	return out, err
}
