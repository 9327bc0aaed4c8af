package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fieldnotes/fieldnotes/server/api"
	"github.com/fieldnotes/fieldnotes/server/app"
	"github.com/fieldnotes/fieldnotes/server/auth"
	"github.com/fieldnotes/fieldnotes/server/store/sqlite"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

// runServer runs app.Run in the background and returns the URL it printed.
func runServer(t *testing.T, ctx context.Context, args []string, env map[string]string) (url string, out *bytes.Buffer, done chan error) {
	t.Helper()
	pr, pw := io.Pipe()
	done = make(chan error, 1)
	go func() {
		err := app.Run(ctx, args, func(k string) string { return env[k] }, pw)
		pw.CloseWithError(fmt.Errorf("run returned: %v", err))
		done <- err
	}()
	out = &bytes.Buffer{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		if u, ok := strings.CutPrefix(line, "listening on "); ok {
			url = u
			break
		}
	}
	if url == "" {
		t.Fatalf("no address printed: %v\n%s", sc.Err(), out)
	}
	go func() {
		for sc.Scan() {
		}
	}() // keep draining what else is printed
	return url, out, done
}

func post(t *testing.T, url, token string, body any, out any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		json.NewDecoder(res.Body).Decode(out)
	}
	return res.StatusCode
}

func TestRunDemo(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	env := map[string]string{"FIELDNOTES_DATA": dir, "FIELDNOTES_LOG_LEVEL": "warn"}
	url, _, done := runServer(t, ctx, []string{"--addr", "127.0.0.1:0", "--demo"}, env)

	b, err := os.ReadFile(filepath.Join(dir, "demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	json.Unmarshal(b, &raw)
	if len(raw) != 4 || raw["team"] != "demo" {
		t.Fatalf("demo.json = %s", b)
	}
	var demo app.DemoInfo
	json.Unmarshal(b, &demo)
	if demo.Coordinator.Email == "" || demo.Coordinator.Password == "" || demo.EnrolmentCode == "" || demo.EngagementID == "" {
		t.Fatalf("demo.json = %s", b)
	}
	if fi, err := os.Stat(filepath.Join(dir, "jwt.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("jwt.key: %v %v", fi, err)
	}

	var login struct {
		AccessToken string `json:"access_token"`
	}
	if st := post(t, url+"/v1/auth/login", "", map[string]string{"email": demo.Coordinator.Email, "password": demo.Coordinator.Password}, &login); st != 200 {
		t.Fatalf("login: %d", st)
	}
	var enrol struct {
		Team        string `json:"team"`
		AccessToken string `json:"access_token"`
	}
	if st := post(t, url+"/v1/devices/enrol", "", map[string]string{"code": demo.EnrolmentCode, "label": "demo tablet"}, &enrol); st != 200 || enrol.Team != "demo" {
		t.Fatalf("enrol: %d %+v", st, enrol)
	}
	req, _ := http.NewRequest("GET", url+"/v1/sync/pull", nil)
	req.Header.Set("Authorization", "Bearer "+enrol.AccessToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page syncengine.PullResponse
	json.NewDecoder(res.Body).Decode(&page)
	res.Body.Close()
	if len(page.Ops) == 0 || page.Ops[0].Record != demo.EngagementID {
		t.Fatalf("device pulled %+v", page)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}

	// Again on the same directory: the same demo, printed, and the server still runs.
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	url2, out, done2 := runServer(t, ctx2, []string{"--addr=127.0.0.1:0", "--demo=true"}, env)
	_ = url2
	cancel2()
	if err := <-done2; err != nil {
		t.Fatalf("second Run: %v", err)
	}
	if !strings.Contains(out.String(), "listening on") {
		t.Fatalf("output: %s", out)
	}
}

func TestBootstrapAdminAndConfig(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	env := map[string]string{"FIELDNOTES_ADMIN_EMAIL": "root@example.org", "FIELDNOTES_ADMIN_PASSWORD": "root-password",
		"FIELDNOTES_JWT_SECRET": "a-secret-from-the-environment-0123456789", "FIELDNOTES_LOG_LEVEL": "error"}
	url, _, done := runServer(t, ctx, []string{"--addr", "127.0.0.1:0", "--data", dir}, env)
	var login struct {
		Role string `json:"role"`
	}
	if st := post(t, url+"/v1/auth/login", "", map[string]string{"email": "root@example.org", "password": "root-password"}, &login); st != 200 || login.Role != "admin" {
		t.Fatalf("admin login: %d %+v", st, login)
	}
	if _, err := os.Stat(filepath.Join(dir, "jwt.key")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("jwt.key written although FIELDNOTES_JWT_SECRET was set")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	for _, bad := range [][]string{{"--max-skew", "soon"}, {"--rate", "-1"}, {"--nope"}, {"extra"}, {"--log-level", "loud"}} {
		if _, err := app.ParseConfig(bad, nil); err == nil {
			t.Errorf("ParseConfig(%v) accepted", bad)
		}
	}
	cfg, err := app.ParseConfig([]string{"--addr", ":9"}, func(k string) string {
		return map[string]string{"FIELDNOTES_ADDR": ":1", "FIELDNOTES_DATA": "/srv/fn", "FIELDNOTES_DEMO": "1"}[k]
	})
	if err != nil || cfg.Addr != ":9" || cfg.Data != "/srv/fn" || !cfg.Demo {
		t.Fatalf("flags over env: %+v %v", cfg, err)
	}
}

// TestShutdownFinishesInFlightPush: a push whose body is still arriving when shutdown
// starts is finished, acknowledged and durable; the server then exits cleanly.
func TestShutdownFinishesInFlightPush(t *testing.T) {
	dir := t.TempDir()
	cfg, err := app.ParseConfig([]string{"--addr", "127.0.0.1:0", "--data", dir, "--demo", "--log-level", "error"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Argon2 = auth.TestArgon2
	active := make(chan struct{}, 16)
	cfg.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateActive {
			active <- struct{}{}
		}
	}
	in, err := app.Start(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	url := in.URL()
	var enrol struct {
		NodeID      string `json:"node_id"`
		AccessToken string `json:"access_token"`
	}
	if st := post(t, url+"/v1/devices/enrol", "", map[string]string{"code": in.Demo.EnrolmentCode}, &enrol); st != 200 {
		t.Fatalf("enrol: %d", st)
	}
	conv := auth.NewID()
	ops := []syncengine.Op{}
	for i := 1; i <= 200; i++ {
		ops = append(ops, syncengine.Op{Node: enrol.NodeID, Counter: uint64(i), TS: time.Now().UnixMilli(), Collection: "conversation", Record: conv,
			Kind: "append", Field: "notes", Value: json.RawMessage(fmt.Sprintf(`"note %d"`, i))})
	}
	ops = append(ops, syncengine.Op{Node: enrol.NodeID, Counter: 201, TS: time.Now().UnixMilli(), Collection: "conversation", Record: conv,
		Kind: "set", Field: "engagement", Value: json.RawMessage(`"` + in.Demo.EngagementID + `"`)})
	body, _ := json.Marshal(syncengine.PushRequest{Ops: ops})

	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", url+"/v1/sync/push", pr)
	req.Header.Set("Authorization", "Bearer "+enrol.AccessToken)
	req.ContentLength = int64(len(body))
	type result struct {
		status int
		push   syncengine.PushResponse
		err    error
	}
	got := make(chan result, 1)
	// A connection of its own: a kept-alive one counts as idle until the server has read
	// the request, and shutdown may close it first (clients retry that case).
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	go func() {
		res, err := client.Do(req)
		if err != nil {
			got <- result{err: err}
			return
		}
		defer res.Body.Close()
		var p syncengine.PushResponse
		err = json.NewDecoder(res.Body).Decode(&p)
		got <- result{status: res.StatusCode, push: p, err: err}
	}()
	for len(active) > 0 { // the enrolment's
		<-active
	}
	half := len(body) / 2
	if _, err := pw.Write(body[:half]); err != nil {
		t.Fatal(err)
	}
	<-active // the server has read the push's headers: its handler is reading the body

	stopped := make(chan error, 1)
	go func() { stopped <- in.Shutdown(context.Background()) }()
	// Wait until the listener is closed: shutdown has begun, the push is still in flight.
	for {
		c, err := net.Dial("tcp", in.Addr())
		if err != nil {
			break
		}
		c.Close()
		select {
		case err := <-stopped:
			t.Fatalf("shutdown finished with a request in flight: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	if _, err := pw.Write(body[half:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	r := <-got
	if r.err != nil || r.status != 200 || r.push.Accepted != len(ops) {
		t.Fatalf("in-flight push: %d %+v %v", r.status, r.push, r.err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}

	db, err := sqlite.Open(dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hist, err := db.History(context.Background(), syncengine.RecordKey{Collection: "conversation", Record: conv})
	if err != nil || len(hist) != len(ops) {
		t.Fatalf("after restart: %d ops, %v", len(hist), err)
	}
}

// TestOpenAPIDescribesEveryRoute: every route of the wired server, extensions included,
// is in /v1/openapi.json. Browser pages (the console under /console/, and / redirecting
// there) are HTML, not API: docs/PROTOCOL.md's "Browser UIs" lists them.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	cfg, err := app.ParseConfig([]string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--log-level", "error"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	in, err := app.Start(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Shutdown(context.Background())
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`:([a-z_]+)`)
	for _, r := range in.API.Echo().Routes() {
		if strings.HasPrefix(r.Method, "echo_") || strings.HasSuffix(r.Path, "*") {
			continue
		}
		if r.Path == "/" || r.Path == "/console" || strings.HasPrefix(r.Path, "/console/") {
			continue
		}
		path := param.ReplaceAllString(r.Path, "{$1}")
		if _, ok := doc.Paths[path][strings.ToLower(r.Method)]; !ok {
			t.Errorf("%s %s is not described in server/api/openapi.json", r.Method, path)
		}
	}
}
