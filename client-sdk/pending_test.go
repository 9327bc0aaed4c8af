package sdk

import (
	"context"
	"testing"
)

// TestSyncSummary: the cheap summary says what Status says about pending ops, the last
// sync and its error, before a sync, after a failed one and after a good one.
func TestSyncSummary(t *testing.T) {
	ctx := context.Background()
	hub := newTestHub(t, millis(steppingClock(t0)))
	d := mustEnrol(t, hub, "")
	capture(t, d, 2)
	same := func(when string) SyncSummary {
		t.Helper()
		sum := must[SyncSummary](t)(d.SyncSummary(ctx))
		st := must[Status](t)(d.Status(ctx))
		if sum.Pending != st.Pending || sum.LastSync != st.LastSync || sum.LastError != st.LastError {
			t.Fatalf("%s: summary %+v, status %+v", when, sum, st)
		}
		return sum
	}
	if s := same("before sync"); s.Pending == 0 || s.LastSync != 0 {
		t.Fatalf("before sync: %+v", s)
	}
	hub.down.Store(true)
	d.Sync(ctx, nil)
	hub.down.Store(false)
	if s := same("after a failed sync"); s.Pending == 0 || s.LastError == "" {
		t.Fatalf("after a failed sync: %+v", s)
	}
	if err := d.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if s := same("after sync"); s.Pending != 0 || s.LastSync == 0 || s.LastError != "" {
		t.Fatalf("after sync: %+v", s)
	}
	d.Close()
	if _, err := d.SyncSummary(ctx); err == nil {
		t.Fatal("summary of a closed device")
	}
}
