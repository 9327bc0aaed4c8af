package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAppCommand runs `fieldnotes app`: it prints its URL alone on the first line, serves
// the field app there (an unenrolled tablet goes to the enrol screen), and exits 0 when
// interrupted. A non-loopback address is refused with a message.
func TestAppCommand(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"app", "--data", dir, "--addr", "127.0.0.1:0", "--sync-every", "0"}, strings.NewReader(""), pw, &errb)
		pw.Close()
	}()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		if sc.Scan() {
			lines <- sc.Text()
		}
		io.Copy(io.Discard, pr)
	}()
	var url string
	select {
	case url = <-lines:
	case <-time.After(20 * time.Second):
		t.Fatal("no URL printed")
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.HasSuffix(url, "/") {
		t.Fatalf("first line %q is not the app's URL", url)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/enrol" {
		t.Fatalf("GET /: %d → %q", res.StatusCode, res.Header.Get("Location"))
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("app did not stop")
	}

	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:8080", "nonsense"} {
		var out, errs bytes.Buffer
		data := filepath.Join(t.TempDir(), "tablet")
		code := run(context.Background(), []string{"app", "--data", data, "--addr", addr, "--lang", "cy"}, strings.NewReader(""), &out, &errs)
		want := (&cli{lang: "cy"}).t("fieldapp.cli.not_loopback", map[string]any{"Addr": addr})
		if code != 2 || strings.Join(strings.Fields(errs.String()), " ") != want { // wrapped at 80 columns
			t.Errorf("--addr %s: exit %d, %q (want %q)", addr, code, errs.String(), want)
		}
		if _, err := os.Stat(data); !os.IsNotExist(err) {
			t.Errorf("--addr %s: the refused command made %s", addr, data)
		}
	}
}
