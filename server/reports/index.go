package reports

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/fieldnotes/fieldnotes/schema"
	_ "modernc.org/sqlite" // driver "sqlite"
)

// Index is the reports' read model of a replica store: the few fields of engagements,
// participants, consents and conversations that reports, feedback and exports need to
// decide what may be counted or shown, kept in memory.
//
// It reads the store's SQLite file through its own read-only pool and never writes to
// it. Refresh brings it up to date incrementally: every op and every erasure gets a
// number from the store's ingest sequence, so the records touched since the last
// refresh are exactly those with an op or an erasure numbered above the last one seen.
// A consent withdrawal also erases fields of the participant without an op of its own,
// so a changed consent reloads its participant too.
//
// Memory is a few hundred bytes per record of those four collections; the first
// Refresh reads them all (a few seconds for a million ops), later ones only what
// changed (one indexed query when nothing did).
type Index struct {
	db *sql.DB

	refresh sync.Mutex // one refresh at a time
	mu      sync.RWMutex
	mark    int64 // highest ingest number seen
	eng     map[string]*Engagement
	part    map[string]*Participant
	cons    map[string]*Consent
	conv    map[string]*Conversation
	byPart  map[string][]string // participant -> consent ids
}

// Engagement is what reports need of an engagement record.
type Engagement struct {
	ID, Team, Title, VenueType string
}

// Participant is what reports need of a participant record.
type Participant struct {
	ID, Team, Engagement, PreferredLocale string
	Communities                           []string
	Ethnicity, AgeBand                    string // "" when absent (or erased)
}

// Consent is what reports need of a consent record.
type Consent struct {
	ID, Team, Participant, Engagement string
	Scopes                            Scopes
	Withdrawn                         bool
	GivenAt                           int64
}

// Conversation is what reports need of a conversation record.
type Conversation struct {
	ID, Team, Engagement, Participant, Consent string
	GroupSize                                  int
	Locales, Themes                            []string
	StartedAt                                  int64
}

// Scopes is a consent's scopes as a bit set.
type Scopes uint8

// Scope bits, in schema.ConsentScopes order.
const (
	RecordViews Scopes = 1 << iota
	Quote
	ContactForFeedback
	ShareWithPartners
	EqualityMonitoring
)

// ScopeBit returns the bit for a scope name (0 if unknown).
func ScopeBit(name string) Scopes {
	for i, s := range schema.ConsentScopes {
		if s == name {
			return 1 << i
		}
	}
	return 0
}

// Has reports whether every scope in want is present.
func (s Scopes) Has(want Scopes) bool { return s&want == want }

// Valid reports whether the consent is there, not withdrawn and covers want.
func (c *Consent) Valid(want Scopes) bool {
	return c != nil && !c.Withdrawn && c.Scopes.Has(want)
}

// OpenIndex opens a read model on the replica store file at path (read-only).
func OpenIndex(path string) (*Index, error) {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "query_only(1)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(4)
	return NewIndex(db), nil
}

// NewIndex makes a read model over db, a read-only handle on a replica store file.
func NewIndex(db *sql.DB) *Index {
	return &Index{db: db, eng: map[string]*Engagement{}, part: map[string]*Participant{},
		cons: map[string]*Consent{}, conv: map[string]*Conversation{}, byPart: map[string][]string{}}
}

// Close closes the read-only pool.
func (ix *Index) Close() error { return ix.db.Close() }

var indexed = []string{schema.Engagement, schema.Participant, schema.Consent, schema.Conversation}

// Refresh brings the index up to date with everything committed to the store.
func (ix *Index) Refresh(ctx context.Context) error {
	if ix.db == nil {
		return nil // built in memory by a test
	}
	ix.refresh.Lock()
	defer ix.refresh.Unlock()
	tx, err := ix.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var top int64
	if err := tx.QueryRowContext(ctx, `SELECT max(coalesce((SELECT max(seq) FROM ops), 0), coalesce((SELECT max(erased_seq) FROM records), 0))`).Scan(&top); err != nil {
		return fmt.Errorf("reports: read store: %w", err)
	}
	ix.mu.RLock()
	mark := ix.mark
	ix.mu.RUnlock()
	if top == mark {
		return nil
	}
	const cols = `collection, id, team, view, deleted, withdrawn, erased_seq IS NOT NULL`
	in := `collection IN ('engagement','participant','consent','conversation')`
	var rows *sql.Rows
	if mark == 0 {
		rows, err = tx.QueryContext(ctx, `SELECT `+cols+` FROM records WHERE `+in)
	} else {
		rows, err = tx.QueryContext(ctx, `SELECT `+cols+` FROM records WHERE `+in+` AND rid IN (SELECT rid FROM ops WHERE seq > ?1)
			UNION ALL SELECT `+cols+` FROM records WHERE erased_seq > ?1 AND `+in, mark)
	}
	if err != nil {
		return err
	}
	type change struct {
		coll, id, team string
		view           []byte
		gone           bool
		withdrawn      bool
	}
	var changes []change
	for rows.Next() {
		var c change
		var deleted, erased bool
		if err := rows.Scan(&c.coll, &c.id, &c.team, &c.view, &deleted, &c.withdrawn, &erased); err != nil {
			rows.Close()
			return err
		}
		c.gone = deleted || erased || len(c.view) == 0
		changes = append(changes, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// Participants of changed consents: a withdrawal erased their fields without an op.
	var more []string
	for _, c := range changes {
		if c.coll == schema.Consent && !c.gone {
			if p := jsonString(c.view, "participant"); p != "" {
				more = append(more, p)
			}
		}
	}
	for len(more) > 0 {
		n := min(len(more), 500)
		batch := more[:n]
		more = more[n:]
		args := make([]any, 0, n+1)
		args = append(args, schema.Participant)
		for _, id := range batch {
			args = append(args, id)
		}
		prow, err := tx.QueryContext(ctx, `SELECT `+cols+` FROM records WHERE collection = ? AND id IN (`+strings.TrimSuffix(strings.Repeat("?,", n), ",")+`)`, args...)
		if err != nil {
			return err
		}
		for prow.Next() {
			var c change
			var deleted, erased bool
			if err := prow.Scan(&c.coll, &c.id, &c.team, &c.view, &deleted, &c.withdrawn, &erased); err != nil {
				prow.Close()
				return err
			}
			c.gone = deleted || erased || len(c.view) == 0
			changes = append(changes, c)
		}
		prow.Close()
		if err := prow.Err(); err != nil {
			return err
		}
	}
	// Decode outside the lock, apply under it.
	type decoded struct {
		change
		v view
	}
	dec := make([]decoded, len(changes))
	for i, c := range changes {
		dec[i].change = c
		if !c.gone {
			dec[i].v = decodeView(c.view)
		}
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, d := range dec {
		ix.apply(d.coll, d.id, d.team, d.gone, d.withdrawn, &d.v)
	}
	ix.mark = top
	return nil
}

func (ix *Index) apply(coll, id, team string, gone, withdrawn bool, v *view) {
	switch coll {
	case schema.Engagement:
		if gone {
			delete(ix.eng, id)
			return
		}
		ix.eng[id] = &Engagement{ID: id, Team: team, Title: v.Title, VenueType: v.VenueType}
	case schema.Participant:
		if gone {
			delete(ix.part, id)
			return
		}
		ix.part[id] = &Participant{ID: id, Team: team, Engagement: v.Engagement, PreferredLocale: v.PreferredLocale,
			Communities: v.Communities, Ethnicity: v.Ethnicity, AgeBand: v.AgeBand}
	case schema.Consent:
		if old := ix.cons[id]; old != nil && old.Participant != "" {
			ix.byPart[old.Participant] = slices.DeleteFunc(ix.byPart[old.Participant], func(s string) bool { return s == id })
			if len(ix.byPart[old.Participant]) == 0 {
				delete(ix.byPart, old.Participant)
			}
		}
		if gone {
			delete(ix.cons, id)
			return
		}
		c := &Consent{ID: id, Team: team, Participant: v.Participant, Engagement: v.Engagement, Withdrawn: withdrawn, GivenAt: v.GivenAt}
		for _, s := range v.Scopes {
			c.Scopes |= ScopeBit(s)
		}
		ix.cons[id] = c
		if c.Participant != "" {
			ids := append(ix.byPart[c.Participant], id)
			slices.Sort(ids)
			ix.byPart[c.Participant] = ids
		}
	case schema.Conversation:
		if gone {
			delete(ix.conv, id)
			return
		}
		ix.conv[id] = &Conversation{ID: id, Team: team, Engagement: v.Engagement, Participant: v.Participant, Consent: v.Consent,
			GroupSize: v.GroupSize, Locales: v.Locales, Themes: v.Themes, StartedAt: v.StartedAt}
	}
}

// view is the union of the fields the index keeps, decoded from a record's view.
type view struct {
	Engagement      string   `json:"engagement"`
	Participant     string   `json:"participant"`
	Consent         string   `json:"consent"`
	GroupSize       int      `json:"group_size"`
	Locales         []string `json:"locales"`
	StartedAt       int64    `json:"started_at"`
	Themes          []string `json:"themes"`
	PreferredLocale string   `json:"preferred_locale"`
	Communities     []string `json:"communities"`
	Ethnicity       string   `json:"eq_ethnicity"`
	AgeBand         string   `json:"eq_age_band"`
	Scopes          []string `json:"scopes"`
	GivenAt         int64    `json:"given_at"`
	Title           string   `json:"title"`
	VenueType       string   `json:"venue_type"`
}

// decodeView reads the fields it knows. A field of an unexpected type (a newer device,
// a value that passed through as unknown) is left empty rather than losing the record.
func decodeView(b []byte) view {
	var v view
	if json.Unmarshal(b, &v) == nil {
		return v
	}
	v = view{}
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return v
	}
	set := func(k string, dst any) {
		if raw, ok := m[k]; ok {
			json.Unmarshal(raw, dst)
		}
	}
	set("engagement", &v.Engagement)
	set("participant", &v.Participant)
	set("consent", &v.Consent)
	var gs float64
	set("group_size", &gs)
	v.GroupSize = int(gs)
	set("locales", &v.Locales)
	var st float64
	set("started_at", &st)
	v.StartedAt = int64(st)
	set("themes", &v.Themes)
	set("preferred_locale", &v.PreferredLocale)
	set("communities", &v.Communities)
	set("eq_ethnicity", &v.Ethnicity)
	set("eq_age_band", &v.AgeBand)
	set("scopes", &v.Scopes)
	var ga float64
	set("given_at", &ga)
	v.GivenAt = int64(ga)
	set("title", &v.Title)
	set("venue_type", &v.VenueType)
	return v
}

func jsonString(b []byte, field string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return ""
	}
	var s string
	json.Unmarshal(m[field], &s)
	return s
}

// Read runs fn with the index read-locked, after a refresh. fn must not keep the
// pointers it is given beyond its return.
func (ix *Index) Read(ctx context.Context, fn func(v *View) error) error {
	if err := ix.Refresh(ctx); err != nil {
		return err
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return fn(&View{ix: ix})
}

// View is a consistent, read-locked look at the index.
type View struct{ ix *Index }

// Engagement returns an engagement, or nil.
func (v *View) Engagement(id string) *Engagement { return v.ix.eng[id] }

// Participant returns a participant, or nil.
func (v *View) Participant(id string) *Participant { return v.ix.part[id] }

// Consent returns a consent, or nil.
func (v *View) Consent(id string) *Consent { return v.ix.cons[id] }

// Conversation returns a conversation, or nil.
func (v *View) Conversation(id string) *Conversation { return v.ix.conv[id] }

// ConsentsOf lists a participant's consents (withdrawn ones included), by id.
func (v *View) ConsentsOf(participant string) []*Consent {
	ids := v.ix.byPart[participant]
	out := make([]*Consent, 0, len(ids))
	for _, id := range ids {
		if c := v.ix.cons[id]; c != nil {
			out = append(out, c)
		}
	}
	return out
}

// ParticipantCovers reports whether some consent of the participant that is not
// withdrawn covers want.
func (v *View) ParticipantCovers(participant string, want Scopes) bool {
	for _, id := range v.ix.byPart[participant] {
		if v.ix.cons[id].Valid(want) {
			return true
		}
	}
	return false
}

// ParticipantLive reports whether the participant has at least one consent that is not
// withdrawn (a participant whose every consent is withdrawn is not shown anywhere).
func (v *View) ParticipantLive(participant string) bool {
	for _, id := range v.ix.byPart[participant] {
		if c := v.ix.cons[id]; c != nil && !c.Withdrawn {
			return true
		}
	}
	return false
}

// Conversations calls fn for every conversation (in no particular order).
func (v *View) Conversations(fn func(*Conversation)) {
	for _, c := range v.ix.conv {
		fn(c)
	}
}

// Engagements calls fn for every engagement.
func (v *View) Engagements(fn func(*Engagement)) {
	for _, e := range v.ix.eng {
		fn(e)
	}
}
