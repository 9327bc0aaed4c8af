package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"sync"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

// cache keeps what every capture step checks — the device identity, which consent a
// conversation was recorded under, and each consent's scopes — so an answer costs one
// transaction and no extra reads. Anything that can change them (a local withdrawal, a
// pulled page, a purge, restamped ops) calls invalidate. An entry read from the store is
// kept only if no invalidation happened meanwhile (gen), so a concurrent sync can't leave
// a stale "consent is live" behind. Even then the engine discards writes to erased records.
type cache struct {
	mu       sync.Mutex
	gen      uint64
	node     string
	team     string
	convs    map[string]string // conversation → consent (live conversations only)
	consents map[string]Consent
}

func (c *cache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.convs, c.consents = nil, nil
}

func (c *cache) forgetIdentity() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.node, c.team = "", ""
}

func (c *cache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (d *Device) identity(s *syncengine.Store) (node, team string, err error) {
	c := &d.cache
	c.mu.Lock()
	node, team = c.node, c.team
	gen := c.gen
	c.mu.Unlock()
	if node != "" {
		return node, team, nil
	}
	if node, team, err = s.Identity(); err != nil || node == "" {
		return node, team, err
	}
	c.mu.Lock()
	if c.gen == gen {
		c.node, c.team = node, team
	}
	c.mu.Unlock()
	return node, team, nil
}

// conversationConsent returns the consent a live conversation was recorded under.
func (d *Device) conversationConsent(ctx context.Context, s *syncengine.Store, conversation string) (string, error) {
	c := &d.cache
	c.mu.Lock()
	consent, ok := c.convs[conversation]
	gen := c.gen
	c.mu.Unlock()
	if ok {
		return consent, nil
	}
	r, err := s.Get(ctx, syncengine.RecordKey{Collection: schema.Conversation, Record: conversation})
	if err != nil {
		return "", fromStore(err)
	}
	if r.Erased {
		// Only a withdrawal erases on a device (directly or from the server).
		return "", &Error{Code: CodeConsentWithdrawn, Field: "conversation"}
	}
	if raw, ok := r.Fields["consent"]; ok {
		json.Unmarshal(raw, &consent)
	}
	c.mu.Lock()
	if c.gen == gen && consent != "" {
		if c.convs == nil {
			c.convs = map[string]string{}
		}
		c.convs[conversation] = consent
	}
	c.mu.Unlock()
	return consent, nil
}

// loadConsent reads a consent, through the cache.
func (d *Device) loadConsent(ctx context.Context, s *syncengine.Store, id string) (Consent, error) {
	c := &d.cache
	c.mu.Lock()
	got, ok := c.consents[id]
	gen := c.gen
	c.mu.Unlock()
	if ok {
		return got, nil
	}
	r, err := s.Get(ctx, syncengine.RecordKey{Collection: schema.Consent, Record: id})
	if errors.Is(err, syncengine.ErrNotFound) {
		return Consent{}, &Error{Code: CodeConsentRequired, Field: "consent"}
	}
	if err != nil {
		return Consent{}, fromStore(err)
	}
	got = consentFrom(r)
	if r.Erased {
		got.Withdrawn = true
	}
	if len(r.Fields) == 0 && !r.Erased {
		return Consent{}, &Error{Code: CodeConsentRequired, Field: "consent"}
	}
	c.mu.Lock()
	if c.gen == gen {
		if c.consents == nil {
			c.consents = map[string]Consent{}
		}
		c.consents[id] = got
	}
	c.mu.Unlock()
	return got, nil
}
