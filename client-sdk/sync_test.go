package sdk

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

func fastRetry() Option { return WithRetry(4, time.Millisecond, 5*time.Millisecond) }

// mustEnrol opens a device in dir (a temp dir if "") and enrols it with the hub.
func mustEnrol(tb testing.TB, h *testHub, dir string, opts ...Option) *Device {
	tb.Helper()
	if dir == "" {
		dir = tb.TempDir()
	}
	d, err := Open(dir, append([]Option{WithClock(steppingClock(t0)), fastRetry()}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	if _, err := d.Enrol(context.Background(), h.URL(), h.Code(), "Blue tablet"); err != nil {
		tb.Fatal(err)
	}
	return d
}

// capture records an engagement, n conversations with answers, contact and equality.
func capture(tb testing.TB, d *Device, n int) (eng string, consents []ConsentRef, convs []string) {
	tb.Helper()
	ctx := context.Background()
	eng = mustEngagement(tb, d)
	for i := 0; i < n; i++ {
		c := mustConsent(tb, d, eng, allScopes...)
		conv := must[string](tb)(d.StartConversation(ctx, ConversationInput{Consent: c.ID, Locales: []string{"pa"}}))
		for _, p := range []string{"what_works", "what_could_be_better", "anything_else"} {
			if err := d.Answer(ctx, conv, AnswerInput{PromptID: p, Text: "ਜਵਾਬ " + p, PromptLocale: "pa", TranslationEN: "answer " + p}); err != nil {
				tb.Fatal(err)
			}
		}
		if err := d.SetContact(ctx, c.ID, Contact{Phone: "07700 900000"}); err != nil {
			tb.Fatal(err)
		}
		if err := d.SetEquality(ctx, c.ID, "eq_age_band", "25_34"); err != nil {
			tb.Fatal(err)
		}
		consents, convs = append(consents, c), append(convs, conv)
	}
	return
}

func localHash(tb testing.TB, d *Device) string {
	tb.Helper()
	return must[syncengine.StateResponse](tb)(d.State(context.Background())).Hash
}

func countOps(tb testing.TB, s *syncengine.Store) int64 {
	tb.Helper()
	n, err := s.CountOps(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

func TestSync(t *testing.T) {
	ctx := context.Background()
	hub := newTestHub(t, millis(steppingClock(t0+1000)))
	a := mustEnrol(t, hub, "", WithBatch(7, 5))
	b := mustEnrol(t, hub, "", WithBatch(7, 5))
	_, consents, convs := capture(t, a, 3)

	var phases []Progress
	rep, err := a.SyncReport(ctx, func(p Progress) { phases = append(phases, p) })
	if err != nil {
		t.Fatal(err)
	}
	if rep.Pushed == 0 || rep.Pushed != int(countOps(t, hub.store)) || len(rep.Rejected) != 0 {
		t.Fatalf("push report %+v, hub ops %d", rep, countOps(t, hub.store))
	}
	if last := phases[len(phases)-1]; last.Phase != PhasePull || last.Done != last.Total {
		t.Fatalf("progress ended with %+v", last)
	}
	if p := phases[1]; p.Phase != PhasePush || p.Done != 7 || p.Total != rep.Pushed {
		t.Fatalf("first push progress %+v", p)
	}
	if err := b.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if ha, hb, hh := localHash(t, a), localHash(t, b), hub.Hash(t); ha != hh || hb != hh {
		t.Fatalf("hashes a %s b %s hub %s", ha, hb, hh)
	}
	if got := must[Conversation](t)(b.Conversation(ctx, convs[1])); len(got.Answers) != 3 {
		t.Fatalf("b sees %+v", got)
	}
	if st := must[syncengine.StateResponse](t)(b.ServerState(ctx)); st.Hash != localHash(t, b) {
		t.Fatal("server state differs")
	}

	t.Run("Idempotent", func(t *testing.T) {
		before := hub.pushes.Load()
		rep, err := a.SyncReport(ctx, nil)
		if err != nil || rep.Pushed != 0 || hub.pushes.Load() != before {
			t.Fatalf("second sync pushed: %+v %v", rep, err)
		}
		st := must[Status](t)(a.Status(ctx))
		if st.Pending != 0 || st.LastSync == 0 || st.Cursor == "" || st.Hash != hub.Hash(t) {
			t.Fatalf("status %+v", st)
		}
	})

	t.Run("WithdrawalOnServerErasesOnDevices", func(t *testing.T) {
		c := consents[0]
		if _, _, err := hub.store.WriteAs(ctx, "coordinator-1", []syncengine.Change{{Collection: schema.Consent, Record: c.ID, Kind: schema.KindWithdraw}}, syncengine.ApplyOptions{Hub: true, Team: testTeam}); err != nil {
			t.Fatal(err)
		}
		rep, err := b.SyncReport(ctx, nil)
		if err != nil || rep.Erased == 0 {
			t.Fatalf("%+v %v", rep, err)
		}
		for _, d := range []*Device{a, b} {
			if d == a {
				if err := a.Sync(ctx, nil); err != nil {
					t.Fatal(err)
				}
			}
			_, err := d.Conversation(ctx, convs[0])
			wantCode(t, err, CodeRecordErased, "")
			p := must[Participant](t)(d.Participant(ctx, c.Participant))
			if p.ContactPhone != "" || len(p.Equality) != 0 {
				t.Fatalf("participant kept %+v", p)
			}
			if localHash(t, d) != hub.Hash(t) {
				t.Fatal("hash differs after withdrawal")
			}
			wantCode(t, d.Answer(ctx, convs[0], AnswerInput{PromptID: "x", Text: "x", PromptLocale: "en"}), CodeConsentWithdrawn, "")
		}
	})

	t.Run("GzipForBigPushes", func(t *testing.T) {
		c := mustEnrol(t, hub, "", WithBatch(500, 0))
		c.opts.gzipOver = 1024
		capture(t, c, 2)
		if err := c.Sync(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if hub.gzipPushes.Load() == 0 {
			t.Fatal("no gzip push")
		}
		if localHash(t, c) != hub.Hash(t) {
			t.Fatal("hash differs")
		}
	})
}

func millis(c func() time.Time) func() int64 { return func() int64 { return c().UnixMilli() } }

func TestSyncRetriesAndGivesUp(t *testing.T) {
	ctx := context.Background()
	hub := newTestHub(t, millis(steppingClock(t0)))
	d := mustEnrol(t, hub, "")
	capture(t, d, 1)
	hub.failNext.Store(2)
	hub.limitNext.Store(1)
	if err := d.Sync(ctx, nil); err != nil {
		t.Fatalf("sync through 503s and a 429: %v", err)
	}
	if localHash(t, d) != hub.Hash(t) {
		t.Fatal("hash differs")
	}

	t.Run("ErrBoundedRetries", func(t *testing.T) {
		capture(t, d, 1)
		hub.down.Store(true)
		defer hub.down.Store(false)
		before := hub.requests.Load()
		err := d.Sync(ctx, nil)
		var e *Error
		if !errors.As(err, &e) || e.Status != http.StatusServiceUnavailable {
			t.Fatalf("err = %v", err)
		}
		if n := hub.requests.Load() - before; n != 5 {
			t.Fatalf("%d requests, want 1 + 4 retries", n)
		}
		if st := must[Status](t)(d.Status(ctx)); st.Pending == 0 || st.LastError == "" {
			t.Fatalf("status after failure %+v", st)
		}
	})
	t.Run("ErrOffline", func(t *testing.T) {
		off, err := Open(t.TempDir(), fastRetry())
		if err != nil {
			t.Fatal(err)
		}
		defer off.Close()
		off.SetLocalIdentity(ctx, testNode, testTeam)
		off.SetServer(ctx, "http://127.0.0.1:1")
		err = off.Sync(ctx, nil)
		if !errors.Is(err, ErrOffline) {
			t.Fatalf("err = %v", err)
		}
		if off.Reachable(ctx) {
			t.Fatal("reachable")
		}
	})
}

func TestTokenRefreshAndRevocation(t *testing.T) {
	ctx := context.Background()
	hub := newTestHub(t, millis(steppingClock(t0)))
	d := mustEnrol(t, hub, "")
	capture(t, d, 1)
	oldRefresh, _ := d.meta(metaRefresh)
	hub.ExpireTokens()
	if err := d.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if newRefresh, _ := d.meta(metaRefresh); newRefresh == oldRefresh || newRefresh == "" {
		t.Fatal("refresh token not rotated and saved")
	}

	t.Run("ErrRevokedWipes", func(t *testing.T) {
		hub.Revoke()
		err := d.Sync(ctx, nil)
		if !errors.Is(err, ErrRevoked) {
			t.Fatalf("err = %v", err)
		}
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if _, err := os.Stat(filepath.Join(d.Dir(), DBName+suffix)); !os.IsNotExist(err) {
				t.Fatalf("%s%s still there", DBName, suffix)
			}
		}
		_, err = d.StartEngagement(ctx, EngagementInput{VenueType: "cafe"})
		if !errors.Is(err, ErrRevoked) || !d.Wiped() {
			t.Fatalf("capture after wipe: %v", err)
		}
		var e *Error
		errors.As(err, &e)
		if e.Message("en") == "" {
			t.Fatal("no message")
		}
	})
}

// A tablet whose clock is a year ahead: the hub restamps its ops, the device takes the
// hub's copies and adopts hub time, and both end with the same state.
func TestSyncRestamped(t *testing.T) {
	ctx := context.Background()
	hub := newTestHub(t, millis(steppingClock(t0)))
	yearAhead := steppingClock(t0 + 365*24*3600*1000)
	d := mustEnrol(t, hub, "", WithClock(yearAhead))
	capture(t, d, 1)
	rep, err := d.SyncReport(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Restamped == 0 {
		t.Fatal("nothing restamped")
	}
	if localHash(t, d) != hub.Hash(t) {
		t.Fatal("hash differs after restamp")
	}
	node := must[Identity](t)(d.Identity()).Node
	ops := must[[]syncengine.Op](t)(d.Store().OpsFrom(ctx, node, 0, 10))
	if ops[0].TS > t0+24*3600*1000 {
		t.Fatalf("device kept its own stamp %d", ops[0].TS)
	}
	// New writes are stamped in hub time now.
	capture(t, d, 1)
	ops = must[[]syncengine.Op](t)(d.Store().OpsFrom(ctx, node, uint64(rep.Pushed+rep.Duplicates), 1))
	if len(ops) == 0 || ops[0].TS > t0+24*3600*1000 {
		t.Fatalf("after adopting hub time: %+v", ops)
	}
	if err := d.Sync(ctx, nil); err != nil || localHash(t, d) != hub.Hash(t) {
		t.Fatalf("second sync: %v", err)
	}
}

// cancelAfter is a transport that lets a request reach the server and then, before the
// client reads the answer, cancels the sync: the server has committed, the device never
// hears so. It simulates the tablet dying between push and ack.
type cancelAfter struct {
	base   http.RoundTripper
	path   string
	cancel context.CancelFunc
}

func (c *cancelAfter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(r)
	if err == nil && r.URL.Path == c.path {
		resp.Body.Close()
		c.cancel()
		return nil, context.Canceled
	}
	return resp, err
}

func TestSyncCrashResume(t *testing.T) {
	ctx := context.Background()
	hub := newTestHub(t, millis(steppingClock(t0)))
	// Another device's data, with a withdrawal, for the pulls to carry.
	other := mustEnrol(t, hub, "")
	_, oc, _ := capture(t, other, 4)
	other.WithdrawConsent(ctx, oc[1].ID, "")
	if err := other.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}

	check := func(t *testing.T, d *Device) {
		t.Helper()
		rep, err := d.SyncReport(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if h := localHash(t, d); h != hub.Hash(t) {
			t.Fatalf("hash %s, hub %s (%+v)", h, hub.Hash(t), rep)
		}
		if dn, hn := countOps(t, d.Store()), countOps(t, hub.store); dn != hn {
			t.Fatalf("device holds %d ops, hub %d", dn, hn)
		}
		if st := must[Status](t)(d.Status(ctx)); st.Pending != 0 {
			t.Fatalf("pending %d", st.Pending)
		}
	}
	// reopen simulates the process dying: the device is closed without any cleanup and
	// opened again from its directory.
	reopen := func(t *testing.T, d *Device) *Device {
		d.Close()
		d2, err := Open(d.Dir(), WithClock(steppingClock(t0+10_000)), fastRetry(), WithBatch(5, 7))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d2.Close() })
		return d2
	}

	t.Run("BetweenPushAndAck", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		client := &http.Client{Transport: &cancelAfter{base: http.DefaultTransport, path: "/v1/sync/push", cancel: cancel}}
		d := mustEnrol(t, hub, "", WithHTTPClient(client), WithBatch(5, 7))
		capture(t, d, 2)
		before := countOps(t, hub.store)
		if err := d.Sync(cctx, nil); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
		if countOps(t, hub.store) != before+5 {
			t.Fatal("the server should have committed the first batch")
		}
		d = reopen(t, d)
		rep, err := d.SyncReport(ctx, nil)
		if err != nil || rep.Duplicates != 5 {
			t.Fatalf("resume: %+v %v", rep, err)
		}
		check(t, d)
	})
	t.Run("AfterPushAnsweredBeforeAckSaved", func(t *testing.T) {
		d := mustEnrol(t, hub, "", WithBatch(5, 7))
		capture(t, d, 2)
		d.hook = func(p string) error {
			if p == hookPushAnswered {
				return errors.New("crash")
			}
			return nil
		}
		if err := d.Sync(ctx, nil); err == nil {
			t.Fatal("no crash")
		}
		check(t, reopen(t, d))
	})
	for _, point := range []string{hookPullApplied, hookPullPurged} {
		t.Run("Pull/"+point, func(t *testing.T) {
			d := mustEnrol(t, hub, "", WithBatch(5, 7))
			pages := 0
			d.hook = func(p string) error {
				if p == point {
					if pages++; pages == 3 {
						return errors.New("crash")
					}
				}
				return nil
			}
			if err := d.Sync(ctx, nil); err == nil {
				t.Fatal("no crash")
			}
			check(t, reopen(t, d))
		})
	}
	t.Run("BetweenPullAndApply", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		client := &http.Client{Transport: &cancelAfter{base: http.DefaultTransport, path: "/v1/sync/pull", cancel: cancel}}
		d := mustEnrol(t, hub, "", WithHTTPClient(client), WithBatch(5, 7))
		if err := d.Sync(cctx, nil); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
		check(t, reopen(t, d))
	})
}

func TestAutoSyncNoticesServerBack(t *testing.T) {
	hub := newTestHub(t, millis(steppingClock(t0)))
	results := make(chan error, 100)
	d := mustEnrol(t, hub, "", WithSyncListener(func(err error) { results <- err }))
	hub.down.Store(true)
	capture(t, d, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.AutoSync(ctx, 5*time.Millisecond) }()
	// While the server is down AutoSync only probes: no sync attempt is reported.
	for hub.requests.Load() < 3 {
		runtime_Gosched()
	}
	select {
	case err := <-results:
		t.Fatalf("synced while down: %v", err)
	default:
	}
	hub.down.Store(false)
	select {
	case err := <-results:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("AutoSync did not notice the server came back")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("AutoSync returned %v", err)
	}
	if localHash(t, d) != hub.Hash(t) {
		t.Fatal("hash differs")
	}
}

// A coordinator's review reaches the tablet that recorded the conversation at its next
// pull: the outreach worker sees "has issues" and what to put right.
func TestReviewReachesTablet(t *testing.T) {
	ctx := context.Background()
	hub := newTestHub(t, millis(steppingClock(t0+1000)))
	d := mustEnrol(t, hub, "")
	_, _, convs := capture(t, d, 2)
	if err := d.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if c := must[Conversation](t)(d.Conversation(ctx, convs[0])); c.ReviewState != schema.ReviewReceived || c.ReviewComment != "" {
		t.Fatalf("before review: %q %q, want received and no comment", c.ReviewState, c.ReviewComment)
	}
	if _, _, err := hub.store.WriteAs(ctx, "coordinator-1", []syncengine.Change{
		{Collection: schema.Conversation, Record: convs[0], Kind: schema.KindSet, Field: "review_state", Value: schema.ReviewHasIssues},
		{Collection: schema.Conversation, Record: convs[0], Kind: schema.KindSet, Field: "review_comment", Value: "The answer to question 2 is cut off"},
	}, syncengine.ApplyOptions{Hub: true, Team: testTeam}); err != nil {
		t.Fatal(err)
	}
	if err := d.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	c := must[Conversation](t)(d.Conversation(ctx, convs[0]))
	if c.ReviewState != schema.ReviewHasIssues || c.ReviewComment != "The answer to question 2 is cut off" {
		t.Fatalf("after pull: %q %q", c.ReviewState, c.ReviewComment)
	}
	if other := must[Conversation](t)(d.Conversation(ctx, convs[1])); other.ReviewState != schema.ReviewReceived {
		t.Errorf("the other conversation: %q", other.ReviewState)
	}
}
