package sdk_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdk "github.com/fieldnotes/fieldnotes/client-sdk"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

// Withdrawals that meet offline work, end to end: the real server binary and two SDK
// tablets. In every case each tablet ends with the server's state hash, the withdrawn
// conversation is erased everywhere, and what the participant said is in no database file
// (nor its -wal) on either tablet or on the server.

// secretText is an answer no other test writes, in Punjabi and English, so a byte scan of
// the files finds only it.
func secretText(t *testing.T, what string) string {
	return fmt.Sprintf("ਸਾਡੀ ਗਲੀ ਵਿੱਚ ਕੋਈ ਬੱਸ ਨਹੀਂ ਰੁਕਦੀ %s-%s", what, t.Name())
}

// assertNotInFiles fails if any file under the directories (database, -wal, -shm) still
// holds any of the texts, byte for byte, a few seconds on: the server scrubs its WAL off
// the writer, as soon as no reader holds an old snapshot.
func assertNotInFiles(t *testing.T, dirs map[string]string, texts ...string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		found := filesHolding(t, dirs, texts...)
		if len(found) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, f := range found {
				t.Error(f)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func filesHolding(t *testing.T, dirs map[string]string, texts ...string) []string {
	t.Helper()
	var found []string
	for who, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil // a -wal or -shm that went meanwhile
				}
				return err
			}
			for _, text := range texts {
				if bytes.Contains(b, []byte(text)) {
					found = append(found, fmt.Sprintf("%s: %s still holds %q", who, filepath.Base(path), text))
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return found
}

// assertInFiles is the control: before the withdrawal the text is in the files, so the
// scan can see it.
func assertInFiles(t *testing.T, dir, text string) {
	t.Helper()
	found := false
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, err := os.ReadFile(path); err == nil && bytes.Contains(b, []byte(text)) {
				found = true
			}
		}
		return nil
	})
	if !found {
		t.Fatalf("control: %q not found under %s before the withdrawal", text, dir)
	}
}

func assertErasedOn(t *testing.T, s *liveServer, conv string, tablets ...*tablet) {
	t.Helper()
	var body struct {
		Error struct{ Code string } `json:"error"`
	}
	s.do(t, "GET", "/v1/records/conversation/"+conv, nil, &body, http.StatusNotFound)
	if body.Error.Code != "record_erased" {
		t.Fatalf("server: conversation answers %q, want record_erased (the server must know it was erased)", body.Error.Code)
	}
	for _, tb := range tablets {
		var serr *sdk.Error
		if _, err := tb.Conversation(context.Background(), conv); !errors.As(err, &serr) || serr.Code != sdk.CodeRecordErased {
			t.Fatalf("%s: conversation err %v, want record_erased", tb.name, err)
		}
		hist, err := tb.Store().History(context.Background(), syncengine.RecordKey{Collection: "conversation", Record: conv})
		if err != nil {
			t.Fatal(err)
		}
		for _, op := range hist {
			if !syncengine.KeptOnErase(&op) {
				t.Fatalf("%s keeps op %s (%s %s) of the erased conversation", tb.name, op.ID(), op.Kind, op.Field)
			}
		}
	}
}

func twoTablets(t *testing.T) (*liveServer, *tablet, *tablet) {
	if testing.Short() {
		t.Skip("starts the server binary")
	}
	s := startServer(t)
	a := enrolTablet(t, s, "tablet-a", s.Demo.EnrolmentCode, 1)
	b := enrolTablet(t, s, "tablet-b", s.enrolmentCode(t, "tablet-b"), 2)
	syncAll(t, a, b) // both hold the demo engagement
	return s, a, b
}

func syncAll(t *testing.T, tablets ...*tablet) {
	t.Helper()
	for round := 0; round < 2; round++ {
		for _, tb := range tablets {
			tb.syncUntilDone(t)
		}
	}
}

func answer(t *testing.T, tb *tablet, conv, prompt, text string) {
	t.Helper()
	if err := tb.Answer(context.Background(), conv, sdk.AnswerInput{PromptID: prompt, Text: text, PromptLocale: "pa", TranslationEN: "no bus stops in our street"}); err != nil {
		t.Fatal(err)
	}
}

// Issue 9, case 1: a tablet records a consent and a conversation, withdraws the consent
// before its first sync, then syncs. Before the fix its hash never matched the server's.
func TestE2ETabletWithdrawsBeforeFirstSync(t *testing.T) {
	ctx := context.Background()
	s, a, b := twoTablets(t)
	eng := s.Demo.EngagementID
	conv, consent := converse(t, a, eng, "pa", true, "")
	said := secretText(t, "never-left")
	answer(t, a, conv, "what_matters", said)
	assertInFiles(t, a.Dir(), said)
	if err := a.WithdrawConsent(ctx, consent, "changed their mind"); err != nil {
		t.Fatal(err)
	}
	syncAll(t, a, b)
	assertConverged(t, s, []*tablet{a, b})
	assertErasedOn(t, s, conv, a, b)
	assertNotInFiles(t, map[string]string{"tablet-a": a.Dir(), "tablet-b": b.Dir(), "server": s.Data}, said)

	// Part of a conversation has left the tablet, more is said offline, then the consent
	// is withdrawn on the tablet: the server and the other tablet erase it too.
	conv2, consent2 := converse(t, a, eng, "pa", false, "")
	first := secretText(t, "pushed")
	answer(t, a, conv2, "what_matters", first)
	syncAll(t, a, b)
	assertInFiles(t, s.Data, first)
	later := secretText(t, "offline")
	answer(t, a, conv2, "anything_else", later)
	if err := a.WithdrawConsent(ctx, consent2, ""); err != nil {
		t.Fatal(err)
	}
	syncAll(t, a, b)
	assertConverged(t, s, []*tablet{a, b})
	assertErasedOn(t, s, conv2, a, b)
	assertNotInFiles(t, map[string]string{"tablet-a": a.Dir(), "tablet-b": b.Dir(), "server": s.Data}, first, later)
}

// A participant withdraws on one tablet while another tablet, offline, adds a note to the
// same conversation.
func TestE2EWithdrawalWhileAnotherTabletAddsANote(t *testing.T) {
	ctx := context.Background()
	s, a, b := twoTablets(t)
	conv, consent := converse(t, a, s.Demo.EngagementID, "pa", true, "")
	said := secretText(t, "answer")
	answer(t, a, conv, "what_matters", said)
	syncAll(t, a, b)
	if _, err := b.Conversation(ctx, conv); err != nil {
		t.Fatalf("tablet-b did not get the conversation: %v", err)
	}
	note := secretText(t, "note")
	if err := b.AddNote(ctx, conv, note); err != nil { // offline
		t.Fatal(err)
	}
	if err := a.WithdrawConsent(ctx, consent, "asked"); err != nil {
		t.Fatal(err)
	}
	a.syncUntilDone(t) // the withdrawal reaches the server first
	syncAll(t, b, a)   // then the note arrives, and is discarded
	assertConverged(t, s, []*tablet{a, b})
	assertErasedOn(t, s, conv, a, b)
	assertNotInFiles(t, map[string]string{"tablet-a": a.Dir(), "tablet-b": b.Dir(), "server": s.Data}, said, note)
}

// A coordinator withdraws a consent centrally while a tablet, offline, adds answers to the
// conversation it covers.
func TestE2ECentralWithdrawalWhileATabletAddsAnswers(t *testing.T) {
	s, a, b := twoTablets(t)
	conv, consent := converse(t, a, s.Demo.EngagementID, "pa", true, "")
	said := secretText(t, "first")
	answer(t, a, conv, "what_matters", said)
	syncAll(t, a, b)
	offline := secretText(t, "offline")
	answer(t, a, conv, "anything_else", offline) // a is offline
	s.do(t, "POST", "/v1/consents/"+consent+"/withdraw", map[string]string{"reason": "asked by phone"}, nil, http.StatusOK)
	syncAll(t, a, b)
	assertConverged(t, s, []*tablet{a, b})
	assertErasedOn(t, s, conv, a, b)
	assertNotInFiles(t, map[string]string{"tablet-a": a.Dir(), "tablet-b": b.Dir(), "server": s.Data}, said, offline)
}

// The real server binary answers a 40 MB push, written in full by a plain client before it
// reads, with a 413 and its JSON error body (not a broken pipe).
func TestE2EOversizedPushReadsThe413(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the server binary")
	}
	s := startServer(t)
	addr := strings.TrimPrefix(s.URL, "http://")
	const size = 40 << 20
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	w := bufio.NewWriterSize(conn, 64<<10)
	fmt.Fprintf(w, "POST /v1/sync/push HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", addr, s.token, size)
	io.WriteString(w, `{"ops": [`)
	pad := []byte(strings.Repeat(" ", 1<<20))
	for left := size - 11; left > 0; left -= len(pad) {
		if _, err := w.Write(pad[:min(left, len(pad))]); err != nil {
			t.Fatalf("writing the body: %v (the server closed before the client finished)", err)
		}
	}
	io.WriteString(w, `]}`)
	if err := w.Flush(); err != nil {
		t.Fatalf("writing the body: %v (the server closed before the client finished)", err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer res.Body.Close()
	var body syncengine.ErrorBody
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("413 body is not the JSON error: %v", err)
	}
	if res.StatusCode != http.StatusRequestEntityTooLarge || body.Error.Code != "body_too_large" || body.Error.Message == "" {
		t.Fatalf("%d %+v", res.StatusCode, body.Error)
	}
}
