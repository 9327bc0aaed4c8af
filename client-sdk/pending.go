package sdk

import (
	"context"
	"strconv"

	"github.com/fieldnotes/fieldnotes/syncengine"
)

// SyncSummary is the cheap part of Status, for a screen that refreshes it often: no state
// hash and no record count, only what is waiting and when the device last synced.
type SyncSummary struct {
	Pending   int64  // own ops not yet acknowledged by the server
	LastSync  int64  // ms; 0 = never
	LastError string // the last sync's error, "" if it succeeded
}

// SyncSummary reads the device's sync summary from its meta table (no scan).
func (d *Device) SyncSummary(ctx context.Context) (SyncSummary, error) {
	var st SyncSummary
	err := d.use(func(s *syncengine.Store) error {
		get := func(k string) string { v, _, _ := s.Meta(k); return v }
		written, _ := strconv.ParseInt(get(metaEngineCount), 10, 64)
		acked, _ := strconv.ParseInt(get(metaAcked), 10, 64)
		st.Pending = max(written-acked, 0)
		st.LastSync, _ = strconv.ParseInt(get(metaLastSync), 10, 64)
		st.LastError = get(metaLastError)
		return nil
	})
	return st, fromStore(err)
}
