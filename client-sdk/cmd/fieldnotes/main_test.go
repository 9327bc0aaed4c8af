package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	sdk "github.com/fieldnotes/fieldnotes/client-sdk"
)

// buildBinary builds fieldnotes into a temp dir once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "fieldnotes")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// seed makes a data dir with a device identity and an engagement (no server needed).
func seed(t *testing.T) (dir, eng string) {
	t.Helper()
	ctx := context.Background()
	dir = t.TempDir()
	d, err := sdk.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.SetLocalIdentity(ctx, "0193a4c2-0000-7000-8000-00000000c001", "team-a"); err != nil {
		t.Fatal(err)
	}
	eng, err = d.StartEngagement(ctx, sdk.EngagementInput{VenueName: "Gurdwara", VenueType: "place_of_worship", Languages: []string{"pa", "en"}})
	if err != nil {
		t.Fatal(err)
	}
	return dir, eng
}

// openDev opens the data dir's store as the command does, with its key.
func openDev(t *testing.T, dir string) *sdk.Device {
	t.Helper()
	key, _, err := storeKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	d, err := sdk.Open(dir, sdk.WithStoreKey(key))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// terminal reads a pty's output into a buffer and lets the test wait for text on screen.
type terminal struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	seen int
	f    *os.File
}

var ansiRE = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]|\x1b\][^\a]*\a|\x1bO.`)

func (tm *terminal) read() {
	b := make([]byte, 4096)
	for {
		n, err := tm.f.Read(b)
		tm.mu.Lock()
		tm.buf.Write(b[:n])
		tm.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// waitFor waits until text appears in output written since the last waitFor.
func (tm *terminal) waitFor(t *testing.T, text string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		tm.mu.Lock()
		out := ansiRE.ReplaceAllString(tm.buf.String()[tm.seen:], "")
		if i := strings.Index(out, text); i >= 0 {
			tm.seen = tm.buf.Len()
			tm.mu.Unlock()
			return
		}
		tm.mu.Unlock()
		time.Sleep(10 * time.Millisecond) // polling the screen, not an assertion
	}
	tm.mu.Lock()
	defer tm.mu.Unlock()
	t.Fatalf("timed out waiting for %q; screen since last step:\n%s", text, ansiRE.ReplaceAllString(tm.buf.String()[tm.seen:], ""))
}

func (tm *terminal) send(t *testing.T, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, err := tm.f.Write([]byte(k)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(15 * time.Millisecond) // let bubbletea read each key on its own
	}
}

const (
	enter = "\r"
	down  = "\x1b[B"
	space = " "
	tab   = "\t"
	f2    = "\x1bOQ"
)

// A scripted interview through a real pseudo-terminal: Punjabi chosen, consent without
// contact, language switched to English (F2) at the third prompt and back (Tab) at the
// last, equality answered, note and themes; then check what was stored.
func TestInterviewThroughPTY(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	dir, eng := seed(t)
	cmd := exec.Command(bin, "interview", "--data", dir, "--lang", "en")
	cmd.Env = append(os.Environ(), "TERM=xterm-256color")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 110})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tm := &terminal{f: f}
	go tm.read()

	tm.waitFor(t, "Choose a language")
	tm.send(t, down, down, down, down) // en cy pl ro [pa]
	tm.send(t, enter)
	tm.waitFor(t, "Read this to the person")
	tm.send(t, enter)
	for _, k := range []string{"y", "y", "n", "y", "y"} { // no contact_for_feedback
		tm.send(t, k)
	}
	tm.waitFor(t, "How did they agree?")
	tm.send(t, down, down, enter) // interpreter
	tm.waitFor(t, "Interpreter's name")
	tm.send(t, "Amrit", enter)

	tm.waitFor(t, "Question 1 of 8")
	tm.send(t, space, down, space, enter) // services_used: gp, pharmacy
	tm.waitFor(t, "Question 2 of 8")
	tm.send(t, "changa", enter) // what_works
	tm.waitFor(t, "Write the answer in English")
	tm.send(t, "good", enter)
	tm.waitFor(t, "Question 3 of 8")
	tm.send(t, f2) // the interpreter switches to English
	tm.waitFor(t, "Language changed to English")
	tm.send(t, "evening slots", enter)
	tm.waitFor(t, "Write the answer in English")
	tm.send(t, enter)
	tm.waitFor(t, "Question 4 of 8")
	tm.send(t, enter) // barriers: skipped
	tm.waitFor(t, "Question 5 of 8")
	tm.send(t, down, down, enter) // gp_access_rating: 3
	tm.waitFor(t, "Question 6 of 8")
	tm.send(t, enter) // needed_interpreter: yes
	tm.waitFor(t, "Question 7 of 8")
	tm.send(t, enter) // hear_back_preference: text_message
	tm.waitFor(t, "Question 8 of 8")
	tm.send(t, tab) // and back to Punjabi
	tm.waitFor(t, "Language changed to")
	tm.send(t, "bas", enter)
	tm.waitFor(t, "Write the answer in English")
	tm.send(t, "that's all", enter)
	for i := 1; i <= 8; i++ { // equality: the first answer of each
		tm.waitFor(t, "/8")
		tm.send(t, enter)
	}
	tm.waitFor(t, "Add a note")
	tm.send(t, "busy langar hall", enter)
	tm.waitFor(t, "Main topics")
	tm.send(t, "transport, booking", enter)
	tm.waitFor(t, "Conversation saved with 7 answers")
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
	ans := func(id string) sdk.Answer {
		a, ok := c.Answer(id)
		if !ok {
			t.Fatalf("no answer to %s", id)
		}
		return a
	}
	if a := ans("services_used"); a.PromptLocale != "pa" || a.AnswerLocale != "pa" || !slices.Equal(a.Choices, []string{"gp", "pharmacy"}) {
		t.Fatalf("services_used %+v", a)
	}
	if a := ans("what_works"); a.Text != "changa" || a.TranslationEN != "good" || a.PromptLocale != "pa" {
		t.Fatalf("what_works %+v", a)
	}
	if a := ans("what_could_be_better"); a.PromptLocale != "en" || a.AnswerLocale != "pa" {
		t.Fatalf("what_could_be_better %+v", a)
	}
	if a := ans("gp_access_rating"); !slices.Equal(a.Choices, []string{"3"}) || a.PromptLocale != "en" {
		t.Fatalf("gp_access_rating %+v", a)
	}
	if a := ans("anything_else"); a.PromptLocale != "pa" || a.TranslationEN != "that's all" {
		t.Fatalf("anything_else %+v", a)
	}
	if _, ok := c.Answer("barriers"); ok {
		t.Fatal("skipped prompt stored")
	}
	want := []struct{ at, from, to string }{{"what_could_be_better", "pa", "en"}, {"anything_else", "en", "pa"}}
	if len(c.LanguageSwitches) != 2 {
		t.Fatalf("switches %+v", c.LanguageSwitches)
	}
	for i, w := range want {
		s := c.LanguageSwitches[i]
		if s.AtPrompt != w.at || s.From != w.from || s.To != w.to {
			t.Fatalf("switch %d = %+v", i, s)
		}
	}
	if !slices.Equal(c.Locales, []string{"en", "pa"}) || c.Interpreter != "Amrit" || c.EndedAt == 0 ||
		!slices.Equal(c.Themes, []string{"booking", "transport"}) || !slices.Equal(c.Notes, []string{"busy langar hall"}) {
		t.Fatalf("conversation %+v", c)
	}
	k, err := d.Consent(ctx, c.Consent)
	if err != nil || k.StatementLocale != "pa" || k.Method != "interpreter" || slices.Contains(k.Scopes, "contact_for_feedback") || len(k.Scopes) != 4 {
		t.Fatalf("consent %+v %v", k, err)
	}
	p, err := d.Participant(ctx, c.Participant)
	if err != nil || len(p.Equality) != 8 || p.Equality["eq_age_band"] != "under_16" {
		t.Fatalf("participant %+v %v", p, err)
	}
}

func TestRenderRTL(t *testing.T) {
	got := render("کیا آپ متفق ہیں؟", true, 40)
	if !strings.HasSuffix(got, rli+"کیا آپ متفق ہیں؟"+pdi) || !strings.HasPrefix(got, " ") {
		t.Fatalf("rtl = %q", got)
	}
	// Right-aligned one cell short of the width (see rtl.go).
	if w := len(got) - len(strings.TrimLeft(got, " ")); w != 39-len([]rune("کیا آپ متفق ہیں؟")) {
		t.Fatalf("padding %d", w)
	}
	if got := render("Do you agree?", false, 40); got != "Do you agree?" {
		t.Fatalf("ltr = %q", got)
	}
	lines := strings.Split(render(strings.Repeat("كلمة ", 30), true, 30), "\n")
	if len(lines) < 2 {
		t.Fatal("not wrapped")
	}
}

func TestCommandsOffline(t *testing.T) {
	dir, _ := seed(t)
	var out, errb bytes.Buffer
	ctx := context.Background()
	if code := run(ctx, []string{"list", "--data", dir}, strings.NewReader(""), &out, &errb); code != 0 || !strings.Contains(out.String(), "Gurdwara") {
		t.Fatalf("list: %d %s %s", code, out.String(), errb.String())
	}
	out.Reset()
	if code := run(ctx, []string{"status", "--data", dir, "--lang", "en"}, strings.NewReader(""), &out, &errb); code != 0 || !strings.Contains(out.String(), "Not synced yet") {
		t.Fatalf("status: %d %s", code, out.String())
	}
	out.Reset()
	errb.Reset()
	if code := run(ctx, []string{"withdraw", "--data", dir, "--yes", "0193a4c2-0000-7000-8000-0000000000aa"}, strings.NewReader(""), &out, &errb); code != 1 || !strings.Contains(errb.String(), "Problem:") {
		t.Fatalf("withdraw unknown: %d %s", code, errb.String())
	}
}

func TestSplitCommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		cmd  string
		rest string
	}{
		{[]string{"sync", "--data", "d"}, "sync", "--data d"},
		{[]string{"--data", "d", "--lang", "cy", "status"}, "status", "--data d --lang cy"},
		{[]string{"--lang=ur", "withdraw", "--yes", "abc"}, "withdraw", "--lang=ur --yes abc"},
		{[]string{"--yes", "withdraw", "abc"}, "withdraw", "--yes abc"},
		{[]string{"--data", "d"}, "", "--data d"},
	} {
		cmd, rest := splitCommand(tc.args)
		if cmd != tc.cmd || strings.Join(rest, " ") != tc.rest {
			t.Errorf("splitCommand(%q) = %q %q", tc.args, cmd, rest)
		}
	}
}
