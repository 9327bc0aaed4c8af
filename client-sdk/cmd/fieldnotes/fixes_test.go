package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/creack/pty"
	sdk "github.com/fieldnotes/fieldnotes/client-sdk"
	"github.com/fieldnotes/fieldnotes/locales"
)

// What a new user hit in the CLI (issue 12), each with the behaviour they should have seen.

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelpAndUnknownCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"sync", "--help"}, {"--data", dir, "--help"}} {
		code, out, _ := runCLI(t, args...)
		if code != 0 || !strings.Contains(out, "Usage: fieldnotes") {
			t.Errorf("%q: exit %d, out %q", args, code, out)
		}
	}
	code, out, _ := runCLI(t, "--help", "--lang", "cy")
	if cy, _ := locales.Localize("cy", "cli.usage", nil); code != 0 || !strings.Contains(out, strings.Split(cy, "\n")[0]) {
		t.Errorf("--help --lang cy: %d %q", code, out)
	}
	code, _, errs := runCLI(t, "frobnicate", "--data", dir)
	if code != 2 || !strings.Contains(errs, "“frobnicate”") || !strings.Contains(errs, "Usage: fieldnotes") {
		t.Errorf("unknown command: %d %q", code, errs)
	}
	code, _, errs = runCLI(t, "sync", "--data", dir, "--bogus")
	if code != 2 || !strings.Contains(errs, "--bogus") {
		t.Errorf("unknown option: %d %q", code, errs)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Error("a wrong command made a data directory")
	}
	code, _, errs = runCLI(t, "nonsens", "--lang", "ur", "--data", dir)
	if want, _ := locales.Localize("ur", "cli.unknown_command", map[string]any{"Command": "nonsens"}); code != 2 || !has(errs, want) {
		t.Errorf("unknown command in Urdu: %q", errs)
	}
}

// withdraw ID --reason "…" --yes: options after the argument.
func TestWithdrawOptionsAfterTheID(t *testing.T) {
	dir, eng := seed(t)
	d := openDev(t, dir)
	ref, err := d.RecordConsent(context.Background(), sdk.ConsentInput{Engagement: eng, StatementLocale: "pa", Scopes: []string{"record_views"}, Method: "verbal", RecordedBy: "t"})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	code, out, errs := runCLI(t, "withdraw", ref.ID, "--reason", "changed their mind", "--yes", "--data", dir)
	if code != 0 {
		t.Fatalf("withdraw: %d %s %s", code, out, errs)
	}
	d = openDev(t, dir)
	k, err := d.Consent(context.Background(), ref.ID)
	if err != nil || !k.Withdrawn {
		t.Fatalf("consent after withdraw: %+v %v", k, err)
	}
	d.Close()
	if code, _, _ := runCLI(t, "withdraw", "--data", dir, "--yes"); code != 2 {
		t.Fatalf("withdraw without an id: %d", code)
	}
	if code, _, _ := runCLI(t, "withdraw", ref.ID, "extra", "--data", dir, "--yes"); code != 2 {
		t.Fatalf("withdraw with two ids: %d", code)
	}
}

// closedPort is a loopback address nothing listens on, held for the test: the port is
// bound by a socket that never listens, so a connection to it is refused and no other
// process (a browser test, another server) can be given it while the SDK retries.
func closedPort(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
}

func message(lang, code string) string { return (&sdk.Error{Code: code}).Message(lang) }

// has reports whether out shows msg, however the terminal layout wrapped it.
func has(out, msg string) bool {
	return strings.Contains(strings.Join(strings.Fields(out), " "), strings.Join(strings.Fields(msg), " "))
}

// A URL without a scheme and a refused connection get messages that say what is wrong,
// in the worker's language; a failed enrolment leaves no store (nor key, nor directory).
func TestEnrolErrorsAndNothingLeftBehind(t *testing.T) {
	for _, lang := range []string{"en", "pa"} {
		dir := filepath.Join(t.TempDir(), "tablet")
		code, _, errs := runCLI(t, "enrol", "--server", "localhost:8080", "--code", "ABCD-EFGH", "--data", dir, "--lang", lang)
		if code != 1 || !has(errs, message(lang, sdk.CodeInvalidServerURL)) {
			t.Fatalf("%s: no scheme: %d %q", lang, code, errs)
		}
		for _, wrong := range []string{message(lang, sdk.CodeInternal), message(lang, sdk.CodeOffline)} {
			if has(errs, wrong) {
				t.Fatalf("%s: no scheme says %q", lang, wrong)
			}
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Fatalf("%s: a failed enrolment left %s behind", lang, dir)
		}
	}
	if testing.Short() {
		return
	}
	// Refused: the SDK retries (the server may be restarting), then says so.
	dir := t.TempDir()
	code, _, errs := runCLI(t, "enrol", "--server", "http://"+closedPort(t), "--code", "ABCD-EFGH", "--data", dir)
	if code != 1 || !has(errs, message("en", sdk.CodeConnectionRefused)) || strings.Contains(errs, "No internet connection") {
		t.Fatalf("refused: %d %q", code, errs)
	}
	if left, _ := os.ReadDir(dir); len(left) > 0 {
		t.Fatalf("a failed enrolment left %v", left)
	}
}

// status --lang pa after a failed sync shows the reason in Punjabi, no Go error text.
func TestStatusShowsTheLastErrorLocalized(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the sync retries")
	}
	dir, _ := seed(t)
	d := openDev(t, dir)
	if err := d.SetServer(context.Background(), "http://"+closedPort(t)); err != nil {
		t.Fatal(err)
	}
	d.Close()
	code, out, errs := runCLI(t, "sync", "--data", dir, "--lang", "pa")
	if code != 1 || !has(out+errs, message("pa", sdk.CodeConnectionRefused)) {
		t.Fatalf("sync: %d %q %q", code, out, errs)
	}
	code, out, _ = runCLI(t, "status", "--data", dir, "--lang", "pa")
	if code != 0 || !has(out, message("pa", sdk.CodeConnectionRefused)) {
		t.Fatalf("status: %d %q", code, out)
	}
	for _, english := range []string{"dial tcp", "connection refused", "offline", "Post \"", "connect:"} {
		if strings.Contains(out, english) {
			t.Errorf("status --lang pa shows %q:\n%s", english, out)
		}
	}
}

func TestLanguageRing(t *testing.T) {
	for _, tc := range []struct {
		person, worker string
		eng, want      []string
	}{
		{"en", "en", []string{"en", "pa", "ur"}, []string{"en", "pa", "ur"}},
		{"en", "en", nil, []string{"en"}},
		{"pa", "en", []string{"en", "pa", "ur"}, []string{"pa", "en", "ur"}},
		{"pa", "cy", []string{"pa", "bn"}, []string{"pa", "cy", "bn", "en"}},
	} {
		if got := languageRing(tc.person, tc.worker, tc.eng); !slices.Equal(got, tc.want) {
			t.Errorf("languageRing(%s, %s, %v) = %v, want %v", tc.person, tc.worker, tc.eng, got, tc.want)
		}
	}
}

// An Urdu interface with a Punjabi participant: every line of every screen fits the
// terminal as the terminal counts cells (each Gurmukhi vowel sign takes one), so
// nothing wraps behind the renderer's back and leaves stale lines.
func TestViewFitsTheTerminal(t *testing.T) {
	dir, eng := seed(t)
	d := openDev(t, dir)
	set, err := d.Prompts(context.Background(), eng)
	if err != nil {
		t.Fatal(err)
	}
	for _, width := range []int{40, 61, 80} {
		m := &interview{c: &cli{lang: "ur"}, dev: d, set: set, width: width, picked: map[int]bool{},
			partLang: "pa", display: "pa", langs: []string{"en", "pa", "ur"}}
		m.input.runes = []rune(strings.Repeat("ਮੈਨੂੰ ਡਾਕਟਰ ਨਾਲ ਮੁਲਾਕਾਤ ਨਹੀਂ ਮਿਲਦੀ ", 4))
		for _, st := range []stage{stLang, stStatement, stScope, stPrompt, stTranslation, stEquality, stContactName, stNotes} {
			m.stage = st
			m.prompt = 1
			for i, line := range strings.Split(m.View(), "\n") {
				if n := cells(line); n >= width {
					t.Errorf("width %d, stage %d, line %d takes %d cells: %q", width, st, i, n, line)
				}
			}
		}
	}
	// The measure itself: "ਪੰਜਾਬੀ" is five cells on a terminal (ਪੰ ਜ ਾ ਬ ੀ).
	if n := cells("ਪੰਜਾਬੀ"); n != 5 {
		t.Fatalf("cells(ਪੰਜਾਬੀ) = %d", n)
	}
}

// An English-speaking person, no --lang: Tab moves the prompts to the engagement's next
// language and back (both switches stored); they agreed to hear back, so the interview
// asks how to reach them, and the details are stored.
func TestInterviewEnglishPersonTabAndContact(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	dir, eng := seed(t) // languages pa, en
	cmd := exec.Command(bin, "interview", "--data", dir)
	cmd.Env = append(os.Environ(), "TERM=xterm-256color", "FIELDNOTES_LANG=")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 110})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tm := &terminal{f: f}
	go tm.read()

	tm.waitFor(t, "Choose a language")
	tm.send(t, enter) // English, first in the list
	tm.waitFor(t, "Read this to the person")
	tm.send(t, enter)
	for _, k := range []string{"y", "y", "y", "y", "n"} { // contact_for_feedback yes, equality no
		tm.send(t, k)
	}
	tm.waitFor(t, "How did they agree?")
	tm.send(t, enter) // verbal
	tm.waitFor(t, "Interpreter's name")
	tm.send(t, enter)
	tm.waitFor(t, "Question 1 of 8")
	tm.send(t, tab)
	tm.waitFor(t, "Language changed to "+locales.Name("pa"))
	tm.send(t, space, enter)
	tm.waitFor(t, "Question 2 of 8")
	tm.send(t, f2)
	tm.waitFor(t, "Language changed to English")
	tm.send(t, "the staff", enter)
	for q := 3; q <= 8; q++ {
		tm.waitFor(t, "of 8")
		tm.send(t, enter)
	}
	contactIntro, _ := locales.Localize("en", "cli.contact_intro", nil)
	tm.waitFor(t, contactIntro)
	tm.send(t, "Sam Jones", enter)
	tm.waitFor(t, "mail")
	tm.send(t, "sam@example.org", enter)
	tm.waitFor(t, "hone")
	tm.send(t, "07700 900456", enter)
	tm.waitFor(t, "Add a note")
	tm.send(t, enter)
	tm.waitFor(t, "Main topics")
	tm.send(t, enter)
	tm.waitFor(t, "Conversation saved")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v", err)
	}

	d := openDev(t, dir)
	ctx := context.Background()
	convs, err := d.Conversations(ctx, eng)
	if err != nil || len(convs) != 1 {
		t.Fatalf("conversations %d %v", len(convs), err)
	}
	c := convs[0]
	if len(c.LanguageSwitches) != 2 || c.LanguageSwitches[0].From != "en" || c.LanguageSwitches[0].To != "pa" || c.LanguageSwitches[1].To != "en" {
		t.Fatalf("switches %+v", c.LanguageSwitches)
	}
	if a, ok := c.Answer("services_used"); !ok || a.PromptLocale != "pa" {
		t.Fatalf("services_used %+v", a)
	}
	p, err := d.Participant(ctx, c.Participant)
	if err != nil || p.ContactName != "Sam Jones" || p.ContactEmail != "sam@example.org" || p.ContactPhone != "07700 900456" {
		t.Fatalf("participant %+v %v", p, err)
	}
}

// The desktop keeps its store key in DIR/device.key (0600), or takes it from
// FIELDNOTES_DEVICE_KEY; without it an encrypted store is refused with a clear message.
func TestDesktopStoreKey(t *testing.T) {
	dir, _ := seed(t) // written by the SDK without a key: plain
	if code, _, errs := runCLI(t, "list", "--data", dir); code != 0 {
		t.Fatalf("list: %s", errs)
	}
	st, err := os.Stat(filepath.Join(dir, keyFileName))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	if plain, _ := isPlainStore(filepath.Join(dir, sdk.DBName)); plain {
		t.Fatal("the store is still plain after the command opened it")
	}
	raw, _ := os.ReadFile(filepath.Join(dir, keyFileName))
	os.Rename(filepath.Join(dir, keyFileName), filepath.Join(dir, "elsewhere"))
	code, _, errs := runCLI(t, "list", "--data", dir, "--lang", "cy")
	if code != 1 || !has(errs, message("cy", sdk.CodeStoreKey)) {
		t.Fatalf("no key: %d %q", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, keyFileName)); err == nil {
		t.Fatal("a new key was made for an encrypted store")
	}
	t.Setenv(keyEnv, strings.TrimSpace(string(raw)))
	if code, out, errs := runCLI(t, "list", "--data", dir); code != 0 || !strings.Contains(out, "Gurdwara") {
		t.Fatalf("key from the environment: %d %s %s", code, out, errs)
	}
	t.Setenv(keyEnv, "not-hex")
	if code, _, errs := runCLI(t, "list", "--data", dir); code != 1 || !has(errs, message("en", sdk.CodeStoreKey)) {
		t.Fatalf("bad key in the environment: %d %q", code, errs)
	}
}

// Consent keys that reach the program together ("yyyyn" in one read, as a busy pty or a
// fast typist delivers them) each count.
func TestScopeKeysArrivingTogether(t *testing.T) {
	m := &interview{c: &cli{lang: "en"}, stage: stScope, picked: map[int]bool{}}
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("yyY")})
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("nY")})
	want := []string{"record_views", "quote", "contact_for_feedback", "equality_monitoring"}
	if m.stage != stMethod || !slices.Equal(m.agreed, want) {
		t.Fatalf("stage %d, agreed %v", m.stage, m.agreed)
	}
}

// A server that revokes the device: the sync wipes the store and shreds the key file.
func TestRevocationShredsTheKeyFile(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":{"code":"device_revoked","message":"revoked"}}`))
	}))
	defer srv.Close()
	dir, _ := seed(t)
	d := openDev(t, dir)
	if err := d.SetServer(context.Background(), srv.URL); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if _, err := os.Stat(filepath.Join(dir, keyFileName)); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "sync", "--data", dir)
	if wiped, _ := locales.Localize("en", "cli.device_revoked_wiped", nil); code != 1 || !has(out, wiped) {
		t.Fatalf("sync: %d %q %q", code, out, errs)
	}
	if left, _ := os.ReadDir(dir); len(left) > 0 {
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		t.Fatalf("left after revocation: %v", names)
	}
}
