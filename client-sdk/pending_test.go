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

// BenchmarkSyncSummaryVsStatus: what the field app's status panel pays per refresh with
// SyncSummary, against Status (which hashes every record), on a store of 3000
// conversations (9000 records).
func BenchmarkSyncSummaryVsStatus(b *testing.B) {
	ctx := context.Background()
	d, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	d.SetLocalIdentity(ctx, "0193a4c2-0000-7000-8000-00000000f001", "team-a")
	eng, _ := d.StartEngagement(ctx, EngagementInput{VenueType: "market"})
	for i := 0; i < 3000; i++ {
		ref, _ := d.RecordConsent(ctx, ConsentInput{Engagement: eng, StatementLocale: "en", Method: "verbal", Scopes: []string{"record_views"}})
		c, _ := d.StartConversation(ctx, ConversationInput{Consent: ref.ID})
		d.Answer(ctx, c, AnswerInput{PromptID: "what_works", Text: "The pharmacy", PromptLocale: "en"})
	}
	b.Run("SyncSummary", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := d.SyncSummary(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Status", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := d.Status(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
