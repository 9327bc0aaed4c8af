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
