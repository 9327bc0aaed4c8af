package main

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for the server: with FIELDNOTES_TEST_MAIN=1 it
// runs main, so the real signal handling and exit code are tested without a build.
func TestMain(m *testing.M) {
	if os.Getenv("FIELDNOTES_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestSIGTERMExitsZero(t *testing.T) {
	cmd := exec.Command(os.Args[0], "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--demo")
	cmd.Env = append(os.Environ(), "FIELDNOTES_TEST_MAIN=1", "FIELDNOTES_LOG_LEVEL=warn")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	url := ""
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
			url = u
			break
		}
	}
	if url == "" {
		cmd.Process.Kill()
		t.Fatal("server printed no address")
	}
	go func() {
		for sc.Scan() {
		}
	}()
	res, err := http.Get(url + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", res, err)
	}
	res.Body.Close()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("server did not stop after SIGTERM")
	}
}

// runMain runs the server's main in a child process with args.
func runMain(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "FIELDNOTES_TEST_MAIN=1", "FIELDNOTES_LOG_LEVEL=warn")
	return cmd
}

func TestHelpPrintsFlagsAndExitsZero(t *testing.T) {
	for _, arg := range []string{"--help", "-h"} {
		cmd := runMain(t, arg)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: exit %v; stderr %s", arg, err, stderr.String())
		}
		for _, want := range []string{"Usage: fieldnotes-server", "-addr", "-data", "-demo", "FIELDNOTES_ADDR", "-max-skew"} {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("%s: help lacks %q:\n%s", arg, want, stdout.String())
			}
		}
		if strings.Contains(stdout.String()+stderr.String(), "help requested") {
			t.Errorf("%s: still says 'help requested'", arg)
		}
	}
	cmd := runMain(t, "--adr", "x")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "-adr") {
		t.Fatalf("unknown flag: %v %s", err, out)
	}
	cmd = runMain(t, "serve")
	out, err = cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), `"serve"`) {
		t.Fatalf("unknown argument: %v %s", err, out)
	}
}

// startDemo starts the server with --demo on dir and returns its URL, the enrolment code
// line it printed, and a stop function.
func startDemo(t *testing.T, dir string) (url, codeLine string, stop func()) {
	t.Helper()
	cmd := runMain(t, "--addr", "127.0.0.1:0", "--data", dir, "--demo")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if u, ok := strings.CutPrefix(line, "listening on "); ok {
			url = u
		}
		if strings.Contains(line, "enrolment code") {
			codeLine = strings.TrimSpace(line)
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	if url == "" || codeLine == "" {
		cmd.Process.Kill()
		t.Fatal("no address or code printed")
	}
	return url, codeLine, func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}
}

func codeOf(line string) string { return strings.Fields(line)[2] } // "enrolment code XXXX (…)"

func enrol(t *testing.T, url, code string) int {
	t.Helper()
	res, err := http.Post(url+"/v1/devices/enrol", "application/json", strings.NewReader(`{"code":"`+code+`","label":"t"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// --demo on a directory seeded before: a code that was used is not printed again as if
// it were good; a new one is issued (and works), and the line says why.
func TestDemoAgainAfterTheCodeWasUsed(t *testing.T) {
	dir := t.TempDir()
	url, line, stop := startDemo(t, dir)
	first := codeOf(line)
	if st := enrol(t, url, first); st != http.StatusOK {
		t.Fatalf("enrol with the demo code: %d", st)
	}
	stop()

	url, line, stop = startDemo(t, dir)
	defer stop()
	second := codeOf(line)
	if second == first || !strings.Contains(line, "was used") {
		t.Fatalf("second start printed %q (first code %s)", line, first)
	}
	if st := enrol(t, url, second); st != http.StatusOK {
		t.Fatalf("enrol with the new code: %d", st)
	}
	b, _ := os.ReadFile(dir + "/demo.json")
	if !strings.Contains(string(b), second) {
		t.Fatal("demo.json keeps the used code")
	}
}

// An unused code is printed again unchanged.
func TestDemoAgainWithAnUnusedCode(t *testing.T) {
	dir := t.TempDir()
	_, line, stop := startDemo(t, dir)
	stop()
	_, again, stop := startDemo(t, dir)
	defer stop()
	if codeOf(again) != codeOf(line) || strings.Contains(again, "new:") {
		t.Fatalf("unused code replaced: %q then %q", line, again)
	}
}
