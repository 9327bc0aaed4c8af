package reports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

// Source is what the index reads: the server's replica (store.Replica and
// *syncengine.Store satisfy it).
type Source interface {
	MaxSeq(ctx context.Context) (int64, error)
	Pull(ctx context.Context, teams []string, cursor int64, limit int) (syncengine.PullResult, error)
	Get(ctx context.Context, k syncengine.RecordKey) (syncengine.Record, error)
	Scan(ctx context.Context, collection string, teams []string, fn func(syncengine.Record) error) error
}

// Index is the reports' read model of the replica: the few fields of engagements,
// participants, consents and conversations that reports, feedback and exports need to
// decide what may be counted or shown, kept in memory.
//
// It never writes. Refresh brings it up to date incrementally: every op and every
// erasure gets a number from the replica's ingest sequence, so the records touched since
// the last refresh are exactly those with an op or an erasure numbered above the last one
// seen (Pull from that cursor). A consent withdrawal also erases fields of the
// participant without an op of its own, so a changed consent reloads its participant.
//
// Memory is a few hundred bytes per record of those four collections; the first Refresh
// scans them all (seconds for a million ops: call Refresh at start-up to warm it), later
// ones read only what changed (one indexed query when nothing did).
type Index struct {
	src Source

	refresh sync.Mutex // one refresh at a time
	mu      sync.RWMutex
	mark    int64 // ingest cursor seen
	eng     map[string]*Engagement
	part    map[string]*Participant
	cons    map[string]*Consent
	conv    map[string]*Conversation
	byEng   map[string]map[string]*Conversation // engagement id → its conversations
}

// Engagement is what reports need of an engagement record.
type Engagement struct {
	ID, Team, Title, VenueType string
	live                       bool
}

// Participant is what reports need of a participant record.
type Participant struct {
	ID, Team, Engagement, PreferredLocale string
	Communities                           []string
	Ethnicity, AgeBand                    string // "" when absent (or erased)
	live                                  bool
	consents                              []*Consent // sorted by id, withdrawn ones included
}

// Consent is what reports need of a consent record.
type Consent struct {
	ID, Team, Participant, Engagement string
	Scopes                            Scopes
	Withdrawn                         bool
	GivenAt                           int64
	live                              bool
}

// Conversation is what reports need of a conversation record.
type Conversation struct {
	ID, Team, Engagement, Participant, Consent string
	GroupSize                                  int
	Locales, Themes                            []string
	StartedAt                                  int64
	ReviewState                                string // "" when never reviewed (received)
	// Interpreted: an interpreter is named. PublicQuote: the prompt whose answer a
	// coordinator picked for the engagement's public page ("" none). For the annual
	// report, which must not scan every record for them.
	Interpreted bool
	PublicQuote string
	// resolved links (never nil once applied; check live through the View)
	eng  *Engagement
	part *Participant
	cons *Consent
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
	return c != nil && c.live && !c.Withdrawn && c.Scopes.Has(want)
}

// NewIndex makes a read model over src. Nothing is read until the first Refresh.
func NewIndex(src Source) *Index {
	return &Index{src: src, eng: map[string]*Engagement{}, part: map[string]*Participant{},
		cons: map[string]*Consent{}, conv: map[string]*Conversation{}, byEng: map[string]map[string]*Conversation{}}
}

func isIndexed(coll string) bool {
	return coll == schema.Engagement || coll == schema.Participant || coll == schema.Consent || coll == schema.Conversation
}

type change struct {
	rec  syncengine.Record
	gone bool
	v    view
}

// Refresh brings the index up to date with everything committed to the replica.
func (ix *Index) Refresh(ctx context.Context) error {
	if ix.src == nil {
		return nil // built in memory by a test
	}
	ix.refresh.Lock()
	defer ix.refresh.Unlock()
	top, err := ix.src.MaxSeq(ctx)
	if err != nil {
		return fmt.Errorf("reports: read replica: %w", err)
	}
	ix.mu.RLock()
	mark := ix.mark
	ix.mu.RUnlock()
	if top == mark {
		return nil
	}
	var changes []change
	if mark == 0 {
		for _, coll := range []string{schema.Engagement, schema.Participant, schema.Consent, schema.Conversation} {
			err := ix.src.Scan(ctx, coll, nil, func(r syncengine.Record) error {
				changes = append(changes, change{rec: syncengine.Record{Collection: r.Collection, ID: r.ID, Team: r.Team, Withdrawn: r.Withdrawn}, v: viewOf(r.Fields)})
				return nil
			})
			if err != nil {
				return err
			}
		}
	} else {
		keys := map[syncengine.RecordKey]bool{}
		cursor := mark
		for {
			page, err := ix.src.Pull(ctx, nil, cursor, 10000)
			if err != nil {
				return err
			}
			for _, op := range page.Ops {
				if isIndexed(op.Collection) {
					keys[op.Key()] = true
				}
			}
			for _, k := range page.Erased {
				if isIndexed(k.Collection) {
					keys[k] = true
				}
			}
			cursor = page.Cursor
			if !page.More {
				break
			}
		}
		top = max(top, cursor)
		load := func(k syncengine.RecordKey) (change, error) {
			r, err := ix.src.Get(ctx, k)
			if errors.Is(err, syncengine.ErrNotFound) {
				return change{rec: syncengine.Record{Collection: k.Collection, ID: k.Record}, gone: true}, nil
			}
			if err != nil {
				return change{}, err
			}
			c := change{rec: syncengine.Record{Collection: r.Collection, ID: r.ID, Team: r.Team, Withdrawn: r.Withdrawn}}
			c.gone = r.Erased || r.Deleted || len(r.Fields) == 0
			if !c.gone {
				c.v = viewOf(r.Fields)
			}
			return c, nil
		}
		parts := map[string]bool{}
		for k := range keys {
			c, err := load(k)
			if err != nil {
				return err
			}
			changes = append(changes, c)
			if k.Collection == schema.Consent && c.v.Participant != "" {
				parts[c.v.Participant] = true
			}
		}
		for p := range parts {
			k := syncengine.RecordKey{Collection: schema.Participant, Record: p}
			if keys[k] {
				continue
			}
			c, err := load(k)
			if err != nil {
				return err
			}
			changes = append(changes, c)
		}
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for i := range changes {
		c := &changes[i]
		ix.apply(c.rec.Collection, c.rec.ID, c.rec.Team, c.gone, c.rec.Withdrawn, &c.v)
	}
	ix.mark = top
	return nil
}

// Engagements, participants and consents are kept as stable objects, mutated in place
// and flagged not live when gone, so that conversations can point at them.
func (ix *Index) engagement(id string) *Engagement {
	e := ix.eng[id]
	if e == nil {
		e = &Engagement{ID: id}
		ix.eng[id] = e
	}
	return e
}

func (ix *Index) participant(id string) *Participant {
	p := ix.part[id]
	if p == nil {
		p = &Participant{ID: id}
		ix.part[id] = p
	}
	return p
}

func (ix *Index) consent(id string) *Consent {
	c := ix.cons[id]
	if c == nil {
		c = &Consent{ID: id}
		ix.cons[id] = c
	}
	return c
}

func (ix *Index) apply(coll, id, team string, gone, withdrawn bool, v *view) {
	switch coll {
	case schema.Engagement:
		e := ix.engagement(id)
		*e = Engagement{ID: id, Team: team, Title: v.Title, VenueType: v.VenueType, live: !gone}
	case schema.Participant:
		p := ix.participant(id)
		*p = Participant{ID: id, Team: team, Engagement: v.Engagement, PreferredLocale: v.PreferredLocale,
			Communities: v.Communities, Ethnicity: v.Ethnicity, AgeBand: v.AgeBand, live: !gone, consents: p.consents}
	case schema.Consent:
		c := ix.consent(id)
		if c.Participant != "" && (gone || c.Participant != v.Participant) {
			old := ix.participant(c.Participant)
			old.consents = slices.DeleteFunc(old.consents, func(x *Consent) bool { return x == c })
		}
		prev := c.Participant
		*c = Consent{ID: id, Team: team, Participant: v.Participant, Engagement: v.Engagement, Withdrawn: withdrawn, GivenAt: v.GivenAt, live: !gone}
		for _, sc := range v.Scopes {
			c.Scopes |= ScopeBit(sc)
		}
		if gone {
			c.Participant = ""
		} else if c.Participant != "" && c.Participant != prev {
			p := ix.participant(c.Participant)
			p.consents = append(p.consents, c)
			slices.SortFunc(p.consents, func(a, b *Consent) int { return strings.Compare(a.ID, b.ID) })
		}
	case schema.Conversation:
		if old := ix.conv[id]; old != nil {
			if m := ix.byEng[old.Engagement]; m != nil {
				delete(m, id)
				if len(m) == 0 {
					delete(ix.byEng, old.Engagement)
				}
			}
		}
		if gone {
			delete(ix.conv, id)
			return
		}
		c := &Conversation{ID: id, Team: team, Engagement: v.Engagement, Participant: v.Participant, Consent: v.Consent,
			GroupSize: v.GroupSize, Locales: v.Locales, Themes: v.Themes, StartedAt: v.StartedAt, ReviewState: v.ReviewState,
			Interpreted: strings.TrimSpace(v.Interpreter) != "", PublicQuote: v.PublicQuote,
			eng: ix.engagement(v.Engagement), part: ix.participant(v.Participant), cons: ix.consent(v.Consent)}
		ix.conv[id] = c
		m := ix.byEng[c.Engagement]
		if m == nil {
			m = map[string]*Conversation{}
			ix.byEng[c.Engagement] = m
		}
		m[id] = c
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
	ReviewState     string   `json:"review_state"`
	Interpreter     string   `json:"interpreter"`
	PublicQuote     string   `json:"public_quote"`
}

// viewOf reads the fields it knows from a record's view. A field of an unexpected type
// (a newer device, a value that passed through as unknown) is left empty rather than
// losing the record.
func viewOf(m map[string]json.RawMessage) view {
	var v view
	set := func(k string, dst any) {
		if raw, ok := m[k]; ok {
			json.Unmarshal(raw, dst)
		}
	}
	num := func(k string) int64 {
		var f float64
		set(k, &f)
		return int64(f)
	}
	set("engagement", &v.Engagement)
	set("participant", &v.Participant)
	set("consent", &v.Consent)
	v.GroupSize = int(num("group_size"))
	set("locales", &v.Locales)
	v.StartedAt = num("started_at")
	set("themes", &v.Themes)
	set("preferred_locale", &v.PreferredLocale)
	set("communities", &v.Communities)
	set("eq_ethnicity", &v.Ethnicity)
	set("eq_age_band", &v.AgeBand)
	set("scopes", &v.Scopes)
	v.GivenAt = num("given_at")
	set("title", &v.Title)
	set("venue_type", &v.VenueType)
	set("review_state", &v.ReviewState)
	set("interpreter", &v.Interpreter)
	set("public_quote", &v.PublicQuote)
	return v
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

// Peek runs fn with the index read-locked, without refreshing it: for a long export that
// refreshed once at its start and looks up consents page by page, so that a refresh
// (which takes the write lock) is never held up for the whole stream.
func (ix *Index) Peek(fn func(v *View)) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	fn(&View{ix: ix})
}

// View is a consistent, read-locked look at the index.
type View struct{ ix *Index }

// Engagement returns an engagement, or nil.
func (v *View) Engagement(id string) *Engagement { return liveOr(v.ix.eng[id]) }

// Participant returns a participant, or nil.
func (v *View) Participant(id string) *Participant { return liveOr(v.ix.part[id]) }

// Consent returns a consent, or nil.
func (v *View) Consent(id string) *Consent { return liveOr(v.ix.cons[id]) }

// Rejected reports whether a coordinator rejected the conversation in review.
func (c *Conversation) Rejected() bool { return c.ReviewState == schema.ReviewRejected }

// Conversation returns a conversation, or nil.
func (v *View) Conversation(id string) *Conversation { return v.ix.conv[id] }

type lively interface {
	*Engagement | *Participant | *Consent
	isLive() bool
}

func (e *Engagement) isLive() bool  { return e != nil && e.live }
func (p *Participant) isLive() bool { return p != nil && p.live }
func (c *Consent) isLive() bool     { return c != nil && c.live }

func liveOr[T lively](x T) T {
	if x.isLive() {
		return x
	}
	var zero T
	return zero
}

// EngagementOf, ParticipantOf and ConsentOf follow a conversation's links (nil when
// the record is absent).
func (v *View) EngagementOf(c *Conversation) *Engagement { return liveOr(c.eng) }

// ParticipantOf is the conversation's participant, or nil (a group conversation).
func (v *View) ParticipantOf(c *Conversation) *Participant { return liveOr(c.part) }

// ConsentOf is the conversation's consent, or nil.
func (v *View) ConsentOf(c *Conversation) *Consent { return liveOr(c.cons) }

// ConsentsOf lists a participant's consents (withdrawn ones included), by id.
func (v *View) ConsentsOf(participant string) []*Consent {
	p := v.ix.part[participant]
	if p == nil {
		return nil
	}
	var out []*Consent
	for _, c := range p.consents {
		if c.live {
			out = append(out, c)
		}
	}
	return out
}

// Covers reports whether some consent of the participant that is not withdrawn covers
// want.
func (p *Participant) Covers(want Scopes) bool {
	if p == nil {
		return false
	}
	for _, c := range p.consents {
		if c.Valid(want) {
			return true
		}
	}
	return false
}

// ParticipantCovers is Covers by id.
func (v *View) ParticipantCovers(participant string, want Scopes) bool {
	return v.ix.part[participant].Covers(want)
}

// ParticipantLive reports whether the participant has at least one consent that is not
// withdrawn (a participant whose every consent is withdrawn is not shown anywhere).
func (v *View) ParticipantLive(participant string) bool {
	p := v.ix.part[participant]
	if p == nil {
		return false
	}
	for _, c := range p.consents {
		if c.live && !c.Withdrawn {
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

// ConversationsOf calls fn for every conversation of one engagement (in no particular
// order), without going through the others.
func (v *View) ConversationsOf(engagement string, fn func(*Conversation)) {
	for _, c := range v.ix.byEng[engagement] {
		fn(c)
	}
}

// Engagements calls fn for every engagement.
func (v *View) Engagements(fn func(*Engagement)) {
	for _, e := range v.ix.eng {
		if e.live {
			fn(e)
		}
	}
}
