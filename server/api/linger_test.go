package api_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fieldnotes/fieldnotes/syncengine"
)

// rawRequest is what a plain HTTP client does: write the request line, the headers and
// the whole body, and only then read the answer. Any write error fails the test: the
// server must let the client finish.
func rawRequest(t *testing.T, addr, head string, body func(w io.Writer) error) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	w := bufio.NewWriterSize(conn, 64<<10)
	if _, err := io.WriteString(w, head); err != nil {
		t.Fatalf("writing the headers: %v", err)
	}
	if err := body(w); err != nil {
		t.Fatalf("writing the body: %v (the server closed before the client finished)", err)
	}
	if err := w.Flush(); err != nil {
		t.Fatalf("writing the body: %v (the server closed before the client finished)", err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer after writing the whole body: %v", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading the answer's body: %v", err)
	}
	return res, b
}

// A 40 MB push, written in full before the client reads: the client reads the 413 and
// its JSON error body, not a broken pipe. The same for a body without a length (chunked)
// that the server finds too large part way, and for a 401 answered before the body is read.
func TestOversizedPushReadByAPlainClient(t *testing.T) {
	e := newEnv(t)
	ts := httptest.NewServer(e.srv)
	defer ts.Close()
	addr := strings.TrimPrefix(ts.URL, "http://")
	const size = 40 << 20
	chunk := []byte(strings.Repeat(" ", 1<<20))
	spaces := func(w io.Writer, n int) error {
		for n > 0 {
			k := min(n, len(chunk))
			if _, err := w.Write(chunk[:k]); err != nil {
				return err
			}
			n -= k
		}
		return nil
	}
	wholeBody := func(w io.Writer) error {
		if _, err := io.WriteString(w, `{"ops": [`); err != nil {
			return err
		}
		if err := spaces(w, size-11); err != nil {
			return err
		}
		_, err := io.WriteString(w, `]}`)
		return err
	}
	chunked := func(w io.Writer) error {
		for i := 0; i < size/len(chunk); i++ {
			if _, err := fmt.Fprintf(w, "%x\r\n", len(chunk)); err != nil {
				return err
			}
			if _, err := w.Write(chunk); err != nil {
				return err
			}
			if _, err := io.WriteString(w, "\r\n"); err != nil {
				return err
			}
		}
		_, err := io.WriteString(w, "0\r\n\r\n")
		return err
	}
	head := func(token, framing string) string {
		return "POST /v1/sync/push HTTP/1.1\r\nHost: " + addr + "\r\nAuthorization: Bearer " + token +
			"\r\nContent-Type: application/json\r\nAccept-Language: pl\r\n" + framing + "\r\n"
	}
	cases := []struct {
		name   string
		head   string
		body   func(io.Writer) error
		status int
		code   string
	}{
		{"ContentLength", head(e.devN.AccessToken, fmt.Sprintf("Content-Length: %d\r\n", size)), wholeBody, 413, "body_too_large"},
		{"Chunked", head(e.devN.AccessToken, "Transfer-Encoding: chunked\r\n"), chunked, 413, "body_too_large"},
		{"BadTokenBeforeTheBody", head("not-a-token", fmt.Sprintf("Content-Length: %d\r\n", size)), wholeBody, 401, "invalid_token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, body := rawRequest(t, addr, c.head, c.body)
			if res.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, c.status, body)
			}
			var eb syncengine.ErrorBody
			if err := json.Unmarshal(body, &eb); err != nil {
				t.Fatalf("error body is not JSON: %v: %q", err, body)
			}
			if c.code != "" && eb.Error.Code != c.code || eb.Error.Message == "" {
				t.Fatalf("error %+v, want code %s", eb.Error, c.code)
			}
		})
	}
	// The server is still serving, and a normal push still works.
	if res := e.push(&e.devN, e.devN.op("engagement", e.engN, "set", "area", "LS7")); res.Accepted != 1 {
		t.Fatalf("push after: %+v", res)
	}
}
