package console

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

// Review states (BRIEF: ODK's). A conversation without review_state is received.
const (
	ReviewReceived  = "received"
	ReviewHasIssues = "has_issues"
	ReviewApproved  = "approved"
	ReviewRejected  = "rejected"
)

// ReviewStates in the order the console lists them.
var ReviewStates = []string{ReviewReceived, ReviewHasIssues, ReviewApproved, ReviewRejected}

// puller is what the review index reads (store.Replica satisfies it).
type puller interface {
	Pull(ctx context.Context, teams []string, cursor int64, limit int) (syncengine.PullResult, error)
}

// reviewIndex keeps each conversation's review_state in memory so that the conversation
// table can filter 200,000 rows by it without reading records. It follows the ingest
// sequence like reports.Index: each refresh reads only ops ingested since the last one,
// keeping the latest stamp per conversation (review_state is a last-writer-wins register).
type reviewIndex struct {
	src     puller
	refresh sync.Mutex
	mu      sync.RWMutex
	mark    int64
	state   map[string]reviewEntry
}

type reviewEntry struct {
	state string
	stamp syncengine.Stamp
}

func newReviewIndex(src puller) *reviewIndex {
	return &reviewIndex{src: src, state: map[string]reviewEntry{}}
}

// Refresh reads ops ingested since the last refresh.
func (ix *reviewIndex) Refresh(ctx context.Context) error {
	ix.refresh.Lock()
	defer ix.refresh.Unlock()
	cursor := ix.mark
	for {
		page, err := ix.src.Pull(ctx, nil, cursor, 5000)
		if err != nil {
			return err
		}
		ix.mu.Lock()
		for _, op := range page.Ops {
			if op.Collection != schema.Conversation || op.Kind != schema.KindSet || op.Field != "review_state" {
				continue
			}
			st := op.Stamp()
			if cur, ok := ix.state[op.Record]; ok && !cur.stamp.Less(st) {
				continue
			}
			var s string
			json.Unmarshal(op.Value, &s)
			ix.state[op.Record] = reviewEntry{state: s, stamp: st}
		}
		for _, k := range page.Erased {
			if k.Collection == schema.Conversation {
				delete(ix.state, k.Record)
			}
		}
		ix.mark = page.Cursor
		ix.mu.Unlock()
		cursor = page.Cursor
		if !page.More {
			return nil
		}
	}
}

// read runs fn with the states read-locked; a conversation absent from the map is
// received.
func (ix *reviewIndex) read(fn func(state func(id string) string)) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	fn(func(id string) string {
		if e, ok := ix.state[id]; ok && e.state != "" {
			return e.state
		}
		return ReviewReceived
	})
}
