package sdk_test

// End-to-end: the real server binary on a loopback port, driven by the real client SDK.
// The server is built and started as a separate process, so client-sdk never imports
// server code.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	sdk "github.com/fieldnotes/fieldnotes/client-sdk"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

var (
	buildOnce sync.Once
	serverBin string
	buildErr  error
)

// buildServer compiles server/cmd/fieldnotes-server once per test run.
func buildServer(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fieldnotes-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		serverBin = filepath.Join(dir, "fieldnotes-server")
		cmd := exec.Command("go", "build", "-o", serverBin, "./server/cmd/fieldnotes-server")
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return serverBin
}

type demoInfo struct {
	Team        string `json:"team"`
	Coordinator struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	} `json:"coordinator"`
	EnrolmentCode string `json:"enrolment_code"`
	EngagementID  string `json:"engagement_id"`
}

// liveServer is a running fieldnotes-server process and a coordinator's session on it.
type liveServer struct {
	URL   string
	Demo  demoInfo
	Data  string // the server's data directory
	token string
}

// startServer runs the real server on 127.0.0.1:0 with --demo on a fresh data
// directory, and checks on cleanup that SIGTERM makes it exit 0.
func startServer(t testing.TB) *liveServer {
	t.Helper()
	bin := buildServer(t)
	data := t.TempDir()
	cmd := exec.Command(bin, "--addr", "127.0.0.1:0", "--data", data, "--demo")
	cmd.Env = append(os.Environ(), "FIELDNOTES_JWT_SECRET=e2e-secret-0123456789abcdef0123456789abcdef")
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
	s := &liveServer{Data: data}
	select {
	case s.URL = <-urlc:
	case <-time.After(30 * time.Second):
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
				t.Errorf("server exit after SIGTERM: %v", err)
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Error("server did not stop on SIGTERM")
		}
	})
	b, err := os.ReadFile(filepath.Join(data, "demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s.Demo); err != nil {
		t.Fatal(err)
	}
	var login struct {
		AccessToken string `json:"access_token"`
	}
	s.do(t, "POST", "/v1/auth/login", map[string]string{"email": s.Demo.Coordinator.Email, "password": s.Demo.Coordinator.Password}, &login, http.StatusOK)
	s.token = login.AccessToken
	return s
}

// do makes one coordinator call and decodes the answer.
func (s *liveServer) do(t testing.TB, method, path string, body, out any, want int) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.URL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s (want %d)", method, path, resp.StatusCode, b, want)
	}
	if resp.StatusCode >= 500 {
		t.Fatalf("%s %s: server error %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

// get fetches a coordinator resource as text with the given Accept header.
func (s *liveServer) get(t testing.TB, path, accept string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL+path, nil)
	req.Header.Set("Accept", accept)
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}

func (s *liveServer) enrolmentCode(t testing.TB, label string) string {
	var out struct {
		Code string `json:"code"`
	}
	s.do(t, "POST", "/v1/devices/enrolment-codes", map[string]string{"team": s.Demo.Team, "label": label}, &out, http.StatusOK)
	return out.Code
}

func (s *liveServer) state(t testing.TB) syncengine.StateResponse {
	var st syncengine.StateResponse
	s.do(t, "GET", "/v1/sync/state?team="+s.Demo.Team, nil, &st, http.StatusOK)
	return st
}

// flaky drops connections at random: sometimes before the request leaves, sometimes
// after the server has answered (so the server committed and the tablet never heard).
type flaky struct {
	base http.RoundTripper
	mu   sync.Mutex
	rnd  *rand.Rand
	rate float64 // 0 = reliable
}

var errDropped = errors.New("e2e: connection dropped")

func (f *flaky) roll() (before, after bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	x := f.rnd.Float64()
	return x < f.rate/2, x >= f.rate/2 && x < f.rate
}

func (f *flaky) setRate(r float64) {
	f.mu.Lock()
	f.rate = r
	f.mu.Unlock()
}

func (f *flaky) RoundTrip(req *http.Request) (*http.Response, error) {
	before, after := f.roll()
	if before {
		return nil, errDropped
	}
	resp, err := f.base.RoundTrip(req)
	if err == nil && after {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, errDropped
	}
	return resp, err
}

// tablet is one enrolled device behind its own flaky link.
type tablet struct {
	*sdk.Device
	name string
	link *flaky
}

func enrolTablet(t testing.TB, s *liveServer, name, code string, seed int64) *tablet {
	t.Helper()
	link := &flaky{base: &http.Transport{}, rnd: rand.New(rand.NewSource(seed))}
	d, err := sdk.Open(t.TempDir(), sdk.WithHTTPClient(&http.Client{Transport: link, Timeout: 30 * time.Second}),
		sdk.WithRetry(3, 5*time.Millisecond, 50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	// Enrolment uses a one-use code, so it goes over a reliable link.
	if _, err := d.Enrol(context.Background(), s.URL, code, name); err != nil {
		t.Fatalf("enrol %s: %v", name, err)
	}
	return &tablet{Device: d, name: name, link: link}
}

// syncUntilDone syncs over the flaky link until a sync completes.
func (tb *tablet) syncUntilDone(t testing.TB) {
	t.Helper()
	var err error
	for attempt := 0; attempt < 50; attempt++ {
		if err = tb.Sync(context.Background(), nil); err == nil {
			return
		}
	}
	t.Fatalf("%s never synced: %v", tb.name, err)
}

// converse records one consented conversation in a language, offline.
func converse(t testing.TB, tb *tablet, engagement, lang string, contact bool, switchTo string) (conv, consent string) {
	t.Helper()
	ctx := context.Background()
	scopes := []string{"record_views", "quote"}
	if contact {
		scopes = append(scopes, "contact_for_feedback")
	}
	c, err := tb.RecordConsent(ctx, sdk.ConsentInput{Engagement: engagement, StatementLocale: lang, PreferredLocale: lang,
		Communities: []string{"market traders"}, Scopes: scopes, Method: "interpreter", Interpreter: "volunteer", RecordedBy: tb.name})
	if err != nil {
		t.Fatalf("consent: %v", err)
	}
	if contact {
		if err := tb.SetContact(ctx, c.ID, sdk.Contact{Phone: "07700 900" + fmt.Sprint(100+rand.Intn(800))}); err != nil {
			t.Fatalf("contact: %v", err)
		}
	}
	conv, err = tb.StartConversation(ctx, sdk.ConversationInput{Engagement: engagement, Consent: c.ID, Locales: []string{lang}, Interpreter: "volunteer"})
	if err != nil {
		t.Fatalf("conversation: %v", err)
	}
	answers := map[string]string{"pa": "ਬੱਸ ਬਹੁਤ ਘੱਟ ਆਉਂਦੀ ਹੈ", "ur": "ڈاکٹر سے ملنا مشکل ہے", "pl": "Trudno się dodzwonić do przychodni"}
	if err := tb.Answer(ctx, conv, sdk.AnswerInput{PromptID: "what_could_be_better", Text: answers[lang], PromptLocale: lang, TranslationEN: "hard to get an appointment"}); err != nil {
		t.Fatalf("answer: %v", err)
	}
	at := lang
	if switchTo != "" {
		if err := tb.SwitchLanguage(ctx, conv, "what_works", lang, switchTo); err != nil {
			t.Fatalf("switch: %v", err)
		}
		at = switchTo
	}
	if err := tb.Answer(ctx, conv, sdk.AnswerInput{PromptID: "what_works", Text: "the pharmacy", PromptLocale: at, AnswerLocale: lang}); err != nil {
		t.Fatalf("answer: %v", err)
	}
	if err := tb.AddTheme(ctx, conv, "booking_appointments"); err != nil {
		t.Fatal(err)
	}
	return conv, c.ID
}

func assertConverged(t testing.TB, s *liveServer, tablets []*tablet) {
	t.Helper()
	want := s.state(t)
	for _, tb := range tablets {
		got, err := tb.State(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("%s: state %s (%d records), server %s (%d)", tb.name, got.Hash, got.Records, want.Hash, want.Records)
		}
	}
}

// Three tablets in three languages record conversations offline, edit one shared
// conversation concurrently, and sync in random order over links that drop; every tablet
// ends with the server's state. Then a coordinator withdraws a consent centrally and the
// conversation it covered is gone from the server and from every tablet.
func TestE2EThreeTabletsOfflineThenCentralWithdrawal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the server binary")
	}
	ctx := context.Background()
	s := startServer(t)
	rnd := rand.New(rand.NewSource(time.Now().UnixNano()))
	t.Logf("seed %d", rnd.Int63())
	// The demo comes with a year of conversations: count what this test adds to them.
	type totals struct {
		Total struct {
			Conversations *int `json:"conversations"`
			Suppressed    bool `json:"suppressed"`
		} `json:"total"`
	}
	reportPath := "/v1/reports/participation?group_by=language&policy=cell&min_cell=2&team=" + s.Demo.Team
	var before totals
	s.do(t, "GET", reportPath, nil, &before, http.StatusOK)
	if before.Total.Conversations == nil {
		t.Fatalf("the demo's total is suppressed: %+v", before.Total)
	}
	exportedBefore := strings.Count(s.get(t, "/v1/export/conversation", "text/csv"), "\r\n")
	tablets := []*tablet{
		enrolTablet(t, s, "tablet-pa", s.Demo.EnrolmentCode, rnd.Int63()),
		enrolTablet(t, s, "tablet-ur", s.enrolmentCode(t, "tablet-ur"), rnd.Int63()),
		enrolTablet(t, s, "tablet-pl", s.enrolmentCode(t, "tablet-pl"), rnd.Int63()),
	}
	for _, tb := range tablets {
		tb.syncUntilDone(t) // fetch the demo engagement
	}
	eng := s.Demo.EngagementID
	if _, err := tablets[0].Engagement(ctx, eng); err != nil {
		t.Fatalf("demo engagement not on the tablet: %v", err)
	}

	// A shared conversation everyone has seen.
	shared, _ := converse(t, tablets[0], eng, "pa", false, "en")
	tablets[0].syncUntilDone(t)
	for _, tb := range tablets[1:] {
		tb.syncUntilDone(t)
	}

	// Offline: everyone records in their own language and edits the shared conversation.
	var covered, coveredConsent string
	for i, tb := range tablets {
		lang := []string{"pa", "ur", "pl"}[i]
		for j := 0; j < 2; j++ {
			conv, consent := converse(t, tb, eng, lang, j == 0, map[bool]string{true: "en"}[j == 1])
			if i == 1 && j == 0 {
				covered, coveredConsent = conv, consent
			}
		}
	}
	if err := tablets[0].AddTheme(ctx, shared, "booking_appointments"); err != nil { // re-add, concurrent with the remove below
		t.Fatal(err)
	}
	if err := tablets[1].RemoveTheme(ctx, shared, "booking_appointments"); err != nil {
		t.Fatal(err)
	}
	if err := tablets[1].AddTheme(ctx, shared, "transport"); err != nil {
		t.Fatal(err)
	}
	for i, tb := range tablets {
		if err := tb.AddNote(ctx, shared, fmt.Sprintf("note from %s", tb.name)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := tb.Store().Write(ctx, []syncengine.Change{{Collection: "conversation", Record: shared, Kind: "set", Field: "interpreter", Value: []string{"Amrit", "Bushra", "Celina"}[i]}}, syncengine.ApplyOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	// Sync in random order over links that drop a quarter of requests.
	for _, tb := range tablets {
		tb.link.setRate(0.25)
	}
	for round := 0; round < 6; round++ {
		tb := tablets[rnd.Intn(len(tablets))]
		tb.Sync(ctx, nil) // may fail half-way: that's the point
	}
	for round := 0; round < 2; round++ {
		for _, i := range rnd.Perm(len(tablets)) {
			tablets[i].syncUntilDone(t)
		}
	}
	assertConverged(t, s, tablets)

	conv, err := tablets[2].Conversation(ctx, shared)
	if err != nil {
		t.Fatal(err)
	}
	if !containsAll(conv.Themes, "booking_appointments", "transport") {
		t.Errorf("shared themes %v: the concurrent add should win over the remove", conv.Themes)
	}
	if len(conv.Notes) != 3 {
		t.Errorf("shared notes %v: want one from each tablet", conv.Notes)
	}

	// A coordinator withdraws one consent centrally.
	for _, tb := range tablets {
		tb.link.setRate(0)
	}
	s.do(t, "POST", "/v1/consents/"+coveredConsent+"/withdraw", map[string]string{"reason": "asked by phone"}, nil, http.StatusOK)
	s.do(t, "GET", "/v1/records/conversation/"+covered, nil, nil, http.StatusNotFound)
	for _, tb := range tablets {
		tb.syncUntilDone(t)
		var serr *sdk.Error
		if _, err := tb.Conversation(ctx, covered); !errors.As(err, &serr) || serr.Code != "record_erased" {
			t.Errorf("%s still has the withdrawn conversation (err %v)", tb.name, err)
		}
		hist, err := tb.Store().History(ctx, syncengine.RecordKey{Collection: "conversation", Record: covered})
		if err != nil {
			t.Fatal(err)
		}
		for _, op := range hist {
			if !syncengine.KeptOnErase(&op) {
				t.Errorf("%s still holds op %s (%s %s) of the withdrawn conversation", tb.name, op.ID(), op.Kind, op.Field)
			}
		}
		c, err := tb.Consent(ctx, coveredConsent)
		if err != nil || !c.Withdrawn {
			t.Errorf("%s: consent withdrawn=%v err=%v", tb.name, c.Withdrawn, err)
		}
	}
	assertConverged(t, s, tablets)

	// The coordinator's report and export count what the tablets recorded, less what the
	// withdrawal covered: 7 conversations, one withdrawn, on top of the demo's.
	var report totals
	s.do(t, "GET", reportPath, nil, &report, http.StatusOK)
	if report.Total.Suppressed || report.Total.Conversations == nil || *report.Total.Conversations != *before.Total.Conversations+6 {
		t.Errorf("participation total = %+v, want the demo's %d and 6 more conversations", report.Total, *before.Total.Conversations)
	}
	csv := s.get(t, "/v1/export/conversation", "text/csv")
	if !strings.HasPrefix(csv, "\ufeff") {
		t.Error("CSV export has no BOM")
	}
	if strings.Contains(csv, covered) || !strings.Contains(csv, shared) {
		t.Errorf("export: withdrawn conversation present=%v, shared present=%v", strings.Contains(csv, covered), strings.Contains(csv, shared))
	}
	if strings.Count(csv, "\r\n") != exportedBefore+6 {
		t.Errorf("export has %d lines, want the demo's %d and 6 conversations more", strings.Count(csv, "\r\n"), exportedBefore)
	}
}

func containsAll(xs []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, x := range xs {
			found = found || x == w
		}
		if !found {
			return false
		}
	}
	return true
}

// A simulation: 100 tablets offline editing the same records, syncing in random order
// over links that drop, with retries. Every tablet ends with the server's state hash.
func TestE2ESimulation100Tablets(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the server binary and 100 tablets")
	}
	ctx := context.Background()
	s := startServer(t)
	seed := time.Now().UnixNano()
	rnd := rand.New(rand.NewSource(seed))
	t.Logf("seed %d", seed)
	const n = 100
	tablets := make([]*tablet, n)
	for i := range tablets {
		code := s.Demo.EnrolmentCode
		if i > 0 {
			code = s.enrolmentCode(t, fmt.Sprintf("tablet-%03d", i))
		}
		tablets[i] = enrolTablet(t, s, fmt.Sprintf("tablet-%03d", i), code, rnd.Int63())
	}
	// Everyone starts from the same shared conversations.
	tablets[0].syncUntilDone(t) // the demo engagement
	shared := make([]string, 3)
	for i := range shared {
		shared[i], _ = converse(t, tablets[0], s.Demo.EngagementID, "ur", false, "")
	}
	tablets[0].syncUntilDone(t)
	var wg sync.WaitGroup
	for _, tb := range tablets {
		wg.Add(1)
		go func(tb *tablet) { defer wg.Done(); tb.syncUntilDone(t) }(tb)
	}
	wg.Wait()

	// Offline, everyone edits the same records.
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
		tb.link.setRate(0.2)
	}
	// Random order, concurrently, with drops; then until everyone has everything.
	order := rnd.Perm(n)
	sem := make(chan struct{}, 10)
	for _, i := range order {
		wg.Add(1)
		sem <- struct{}{}
		go func(tb *tablet) { defer wg.Done(); defer func() { <-sem }(); tb.syncUntilDone(t) }(tablets[i])
	}
	wg.Wait()
	for _, tb := range tablets {
		tb.link.setRate(0)
	}
	for _, i := range rnd.Perm(n) {
		wg.Add(1)
		sem <- struct{}{}
		go func(tb *tablet) { defer wg.Done(); defer func() { <-sem }(); tb.syncUntilDone(t) }(tablets[i])
	}
	wg.Wait()
	assertConverged(t, s, tablets)
}

// A refresh whose answer was lost, then retried with the same token, is a reuse: the
// server ends the tablet's tokens. The tablet must keep what it has not synced (only a
// coordinator's revocation wipes it) and tell the worker to get a new code.
func TestE2ELostRefreshAnswerKeepsUnsyncedWork(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the server binary")
	}
	ctx := context.Background()
	s := startServer(t)
	tb := enrolTablet(t, s, "tablet-lost-answer", s.Demo.EnrolmentCode, 1)
	tb.syncUntilDone(t)
	conv, _ := converse(t, tb, s.Demo.EngagementID, "so", false, "")

	refresh, _, err := tb.Store().Meta("sdk.refresh_token")
	if err != nil || refresh == "" {
		t.Fatalf("refresh token: %q %v", refresh, err)
	}
	// The tablet's refresh reached the server, but the answer never came back...
	s.do(t, "POST", "/v1/auth/refresh", map[string]string{"refresh_token": refresh}, nil, http.StatusOK)
	// ...so the same token is presented again.
	s.do(t, "POST", "/v1/auth/refresh", map[string]string{"refresh_token": refresh}, nil, http.StatusUnauthorized)

	err = tb.Sync(ctx, nil)
	var serr *sdk.Error
	if !errors.As(err, &serr) || serr.Code != sdk.CodeTokensRevoked {
		t.Fatalf("sync after reuse: %v, want tokens_revoked", err)
	}
	if tb.Wiped() {
		t.Fatal("the tablet was wiped")
	}
	if c, err := tb.Conversation(ctx, conv); err != nil || len(c.Themes) == 0 {
		t.Fatalf("unsynced conversation lost: %+v %v", c, err)
	}
	if msg := serr.Message("so"); msg == "" || strings.Contains(msg, "tokens_revoked") {
		t.Errorf("no message for the worker: %q", msg)
	}
	var devices struct {
		Devices []struct {
			Label   string `json:"label"`
			Revoked bool   `json:"revoked"`
		} `json:"devices"`
	}
	s.do(t, "GET", "/v1/devices?team="+s.Demo.Team, nil, &devices, http.StatusOK)
	found := false
	for _, d := range devices.Devices {
		if d.Label == "tablet-lost-answer" {
			found = true
			if d.Revoked {
				t.Error("the device is listed as revoked")
			}
		}
	}
	if !found {
		t.Errorf("the tablet is not in the device list: %+v", devices)
	}

	// A new code from the coordinator signs it in again as itself, and what it had not
	// pushed reaches the server.
	before, _ := tb.Identity()
	after, err := tb.Enrol(ctx, s.URL, s.enrolmentCode(t, "again"), "")
	if err != nil {
		t.Fatalf("re-enrol: %v", err)
	}
	if after.Node != before.Node || after.DeviceID != before.DeviceID {
		t.Fatalf("identity changed: %+v -> %+v", before, after)
	}
	tb.syncUntilDone(t)
	s.do(t, "GET", "/v1/records/conversation/"+conv, nil, nil, http.StatusOK)
	assertConverged(t, s, []*tablet{tb})
}
