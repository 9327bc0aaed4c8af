package sdk_test

// End-to-end on PostgreSQL: two server processes on one database, tablets pushing to one
// and pulling from the other. client-sdk never imports server code, so the test makes
// its own schema with pgx (the server's pgtest does the same).

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	sdk "github.com/fieldnotes/fieldnotes/client-sdk"
	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/jackc/pgx/v5"
)

const e2eSecret = "e2e-secret-0123456789abcdef0123456789abcdef"

// e2eOnPostgres makes startServer put the server on a fresh PostgreSQL schema.
var e2eOnPostgres bool

// TestE2EOnPostgres runs the single-server end-to-end tests again with the server on
// PostgreSQL: capture, sync with drops, central withdrawal, report and export, and a lost
// refresh answer.
func TestE2EOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the server binary")
	}
	testDatabase(t) // skips (or fails in CI) when there is no PostgreSQL
	e2eOnPostgres = true
	defer func() { e2eOnPostgres = false }()
	t.Run("ThreeTabletsOfflineThenCentralWithdrawal", TestE2EThreeTabletsOfflineThenCentralWithdrawal)
	t.Run("LostRefreshAnswerKeepsUnsyncedWork", TestE2ELostRefreshAnswerKeepsUnsyncedWork)
}

// testDatabase returns the URL of a fresh schema in FIELDNOTES_TEST_DATABASE_URL, or skips
// (fails when FIELDNOTES_REQUIRE_POSTGRES=1).
func testDatabase(t testing.TB) string {
	t.Helper()
	base := os.Getenv("FIELDNOTES_TEST_DATABASE_URL")
	if base == "" {
		if os.Getenv("FIELDNOTES_REQUIRE_POSTGRES") == "1" {
			t.Fatal("FIELDNOTES_REQUIRE_POSTGRES=1 but FIELDNOTES_TEST_DATABASE_URL is not set")
		}
		t.Skip("no PostgreSQL: set FIELDNOTES_TEST_DATABASE_URL (e.g. under pg_virtualenv) to run this test")
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "e2e_" + hex.EncodeToString(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c, err := pgx.Connect(context.Background(), base); err == nil {
			c.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
			c.Close(context.Background())
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// runServer starts the server binary with args and returns its URL; SIGTERM on cleanup
// must make it exit 0.
func runServer(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(buildServer(t), append([]string{"--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "FIELDNOTES_JWT_SECRET="+e2eSecret)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				urlc <- strings.TrimSpace(u)
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	var u string
	select {
	case u = <-urlc:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("server did not start:\n%s", stderr.String())
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server exit after SIGTERM: %v\n%s", err, stderr.String())
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Error("server did not stop on SIGTERM")
		}
	})
	return u
}

// splitLink sends pushes to one instance and everything else (pulls, state, refresh)
// to the other, through a link that drops.
type splitLink struct {
	push, rest *url.URL
	link       *flaky
	calls      map[string]*atomic.Int64 // "push host", "pull host": requests sent
}

func (s *splitLink) RoundTrip(req *http.Request) (*http.Response, error) {
	to := s.rest
	if strings.HasSuffix(req.URL.Path, "/sync/push") {
		to = s.push
	}
	kind := "other"
	switch {
	case strings.HasSuffix(req.URL.Path, "/sync/push"):
		kind = "push"
	case strings.HasSuffix(req.URL.Path, "/sync/pull"):
		kind = "pull"
	}
	s.calls[kind+" "+to.Host].Add(1)
	r := req.Clone(req.Context())
	r.URL.Scheme, r.URL.Host, r.Host = to.Scheme, to.Host, to.Host
	return s.link.RoundTrip(r)
}

// Two server instances on one PostgreSQL. Tablets enrol on one, push to one instance and
// pull from the other, offline-edit shared records and sync in random order over links
// that drop. Every tablet ends with the state hash both instances report. A consent
// withdrawn through instance A reaches tablets that pull from instance B, and a token
// signed by one instance is accepted by the other.
func TestE2ETwoInstancesOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two server binaries and many tablets")
	}
	db := testDatabase(t)
	ctx := context.Background()
	dataA := t.TempDir()
	a := &liveServer{URL: runServer(t, "--database-url", db, "--data", dataA, "--demo")}
	b := &liveServer{URL: runServer(t, "--database-url", db, "--data", t.TempDir())}
	raw, err := os.ReadFile(filepath.Join(dataA, "demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &a.Demo); err != nil {
		t.Fatal(err)
	}
	b.Demo = a.Demo
	var login struct {
		AccessToken string `json:"access_token"`
	}
	a.do(t, "POST", "/v1/auth/login", map[string]string{"email": a.Demo.Coordinator.Email, "password": a.Demo.Coordinator.Password}, &login, http.StatusOK)
	a.token, b.token = login.AccessToken, login.AccessToken // signed by A, accepted by B

	seed := time.Now().UnixNano()
	rnd := mrand.New(mrand.NewSource(seed))
	t.Logf("seed %d", seed)
	const n = 100
	servers := []*liveServer{a, b}
	ua, _ := url.Parse(a.URL)
	ub, _ := url.Parse(b.URL)
	calls := map[string]*atomic.Int64{}
	for _, kind := range []string{"push", "pull", "other"} {
		for _, u := range []*url.URL{ua, ub} {
			calls[kind+" "+u.Host] = &atomic.Int64{}
		}
	}
	tablets := make([]*tablet, n)
	var enrolWG sync.WaitGroup
	sem := make(chan struct{}, 10)
	codes := make([]string, n)
	codes[0] = a.Demo.EnrolmentCode
	for i := 1; i < n; i++ {
		codes[i] = servers[i%2].enrolmentCode(t, fmt.Sprintf("tablet-%03d", i))
	}
	for i := range tablets {
		link := &flaky{base: &http.Transport{}, rnd: mrand.New(mrand.NewSource(rnd.Int63()))}
		split := &splitLink{push: ua, rest: ub, link: link, calls: calls}
		if i%2 == 1 {
			split.push, split.rest = ub, ua
		}
		d, err := sdk.Open(t.TempDir(), sdk.WithHTTPClient(&http.Client{Transport: split, Timeout: 30 * time.Second}),
			sdk.WithRetry(3, 5*time.Millisecond, 50*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		tablets[i] = &tablet{Device: d, name: fmt.Sprintf("tablet-%03d", i), link: link}
		enrolWG.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer enrolWG.Done()
			defer func() { <-sem }()
			if _, err := tablets[i].Enrol(ctx, servers[rnd.Intn(2)].URL, codes[i], tablets[i].name); err != nil {
				t.Errorf("enrol %d: %v", i, err)
			}
		}(i)
	}
	enrolWG.Wait()
	if t.Failed() {
		t.FailNow()
	}
	syncAll := func(rate float64) {
		var wg sync.WaitGroup
		for _, i := range rnd.Perm(n) {
			tablets[i].link.setRate(rate)
			wg.Add(1)
			sem <- struct{}{}
			go func(tb *tablet) { defer wg.Done(); defer func() { <-sem }(); tb.syncUntilDone(t) }(tablets[i])
		}
		wg.Wait()
	}
	syncAll(0) // the demo engagement
	shared := make([]string, 3)
	for i := range shared {
		shared[i], _ = converse(t, tablets[0], a.Demo.EngagementID, "ur", false, "")
	}
	covered, coveredConsent := converse(t, tablets[1], a.Demo.EngagementID, "pa", true, "")
	tablets[0].syncUntilDone(t)
	tablets[1].syncUntilDone(t)
	syncAll(0)

	// Offline, everyone edits the same records; then random order with drops.
	themes := []string{"transport", "language", "cost", "opening_hours"}
	for i, tb := range tablets {
		for _, conv := range shared {
			var err error
			switch rnd.Intn(4) {
			case 0:
				err = tb.AddTheme(ctx, conv, themes[rnd.Intn(len(themes))])
			case 1:
				err = tb.RemoveTheme(ctx, conv, themes[rnd.Intn(len(themes))])
			case 2:
				err = tb.AddNote(ctx, conv, fmt.Sprintf("tablet %d was here", i))
			default:
				_, _, err = tb.Store().Write(ctx, []syncengine.Change{{Collection: "conversation", Record: conv, Kind: "set", Field: "interpreter", Value: fmt.Sprintf("interpreter %d", i)}}, syncengine.ApplyOptions{})
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	syncAll(0.2)
	syncAll(0)
	want := a.state(t)
	if got := b.state(t); got != want {
		t.Fatalf("instances disagree: A %s (%d), B %s (%d)", want.Hash, want.Records, got.Hash, got.Records)
	}
	assertConverged(t, a, tablets)

	// A coordinator withdraws a consent through A; tablets whose pulls go to B lose the
	// conversation too.
	a.do(t, "POST", "/v1/consents/"+coveredConsent+"/withdraw", map[string]string{"reason": "asked by phone"}, nil, http.StatusOK)
	b.do(t, "GET", "/v1/records/conversation/"+covered, nil, nil, http.StatusNotFound)
	syncAll(0)
	for _, tb := range tablets {
		var serr *sdk.Error
		if _, err := tb.Conversation(ctx, covered); !errors.As(err, &serr) || serr.Code != "record_erased" {
			t.Errorf("%s still has the withdrawn conversation (err %v)", tb.name, err)
		}
	}
	assertConverged(t, b, tablets)
	for _, kind := range []string{"push", "pull"} {
		for _, u := range []*url.URL{ua, ub} {
			if calls[kind+" "+u.Host].Load() == 0 {
				t.Errorf("no %s went to %s", kind, u.Host)
			}
		}
	}
}
