// Command fieldnotes is the outreach worker's field tool: enrol a device, run an interview
// (consent, prompts in the person's language with a key to switch language for the
// interpreter, equality questions, notes, themes), list what is stored, sync with a
// progress bar, show status, and withdraw a consent.
//
//	fieldnotes enrol --server URL --code CODE --label "Blue tablet"
//	fieldnotes interview [--engagement ID] [--group N]
//	fieldnotes list | status | sync | withdraw CONSENT-ID [--reason TEXT]
//
// Every command takes --data DIR (default ~/.fieldnotes, else ./fieldnotes-data) and
// --lang TAG (the worker's language). The store is encrypted at rest (see key.go): with
// the key in FIELDNOTES_DEVICE_KEY, else in DIR/device.key, made on first use.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"

	sdk "github.com/fieldnotes/fieldnotes/client-sdk"
	"github.com/fieldnotes/fieldnotes/client-sdk/fieldapp"
	"github.com/fieldnotes/fieldnotes/locales"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// cli carries what every command needs.
type cli struct {
	lang   string
	dir    string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer

	keyMade     bool // open made a new key file
	holdKeyNote bool // enrol says so only once the enrolment worked
}

func (c *cli) t(id string, data map[string]any) string {
	s, _ := locales.Localize(c.lang, id, data)
	return s
}

func (c *cli) tn(id string, n int, data map[string]any) string {
	s, _ := locales.LocalizePlural(c.lang, id, n, data)
	return s
}

func (c *cli) println(s string) {
	fmt.Fprintln(c.stdout, render(s, locales.IsRTL(c.lang), 0))
}

// fail prints an error in the worker's language and returns the exit code.
func (c *cli) fail(err error) int {
	var e *sdk.Error
	msg := err.Error()
	if errors.As(err, &e) {
		msg = e.Message(c.lang)
	}
	fmt.Fprintln(c.stderr, render(c.t("cli.problem", map[string]any{"Message": msg}), locales.IsRTL(c.lang), 0))
	return 1
}

func defaultDir() string {
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		return filepath.Join(home, ".fieldnotes")
	}
	return "fieldnotes-data"
}

// splitCommand finds the command wherever it is, so options may come before it as well as
// after: "fieldnotes --data DIR --lang cy sync" and "fieldnotes sync --data DIR" both work.
func splitCommand(args []string) (string, []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			return a, append(append([]string{}, args[:i]...), args[i+1:]...)
		}
		if !strings.Contains(a, "=") && !isSwitch(a) {
			i++ // skip the option's value
		}
	}
	return "", args
}

// isSwitch is an option that takes no value.
func isSwitch(a string) bool {
	switch strings.TrimLeft(a, "-") {
	case "yes", "h", "help":
		return true
	}
	return false
}

func isHelp(a string) bool {
	switch a {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// parseAnywhere parses options wherever they are among the arguments, so that
// "withdraw ID --reason …" works as well as "withdraw --reason … ID", and returns the
// arguments that are not options, in order. "--" ends the options.
func parseAnywhere(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		if args[0] == "--" {
			return append(rest, args[1:]...), nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}

// badOption names the option a flag error is about, as the worker typed it ("--grop"),
// not flag's English sentence.
func badOption(err error, args []string) string {
	msg := err.Error()
	i := strings.LastIndex(msg, " -")
	if i < 0 {
		return "?"
	}
	name := strings.TrimLeft(strings.Fields(msg[i+1:])[0], "-")
	name = strings.TrimSuffix(name, ":")
	for _, a := range args {
		if n, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "="); n == name && strings.HasPrefix(a, "-") {
			return strings.SplitN(a, "=", 2)[0]
		}
	}
	return "--" + name
}

// commands are the commands run knows; "app" serves the field app (client-sdk/fieldapp).
var commands = []string{"app", "enrol", "enroll", "interview", "list", "status", "sync", "withdraw"}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{lang: os.Getenv("FIELDNOTES_LANG"), stdin: stdin, stdout: stdout, stderr: stderr}
	if c.lang == "" {
		c.lang = "en"
	}
	if len(args) == 0 {
		fmt.Fprintln(stderr, c.t("cli.usage", nil))
		return 2
	}
	cmd, args := splitCommand(args)
	if isHelp(cmd) || (cmd == "" && slices.ContainsFunc(args, isHelp)) {
		// --lang may come with --help: show the help in that language.
		for i, a := range args {
			if v, ok := strings.CutPrefix(a, "--lang="); ok {
				c.lang = v
			} else if (a == "--lang" || a == "-lang") && i+1 < len(args) {
				c.lang = args[i+1]
			}
		}
		fmt.Fprintln(stdout, c.t("cli.usage", nil))
		return 0
	}
	if cmd == "" {
		fmt.Fprintln(stderr, c.t("cli.usage", nil))
		return 2
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.dir, "data", defaultDir(), "data directory")
	fs.StringVar(&c.lang, "lang", c.lang, "your language (BCP 47 tag, e.g. cy, pa, ar)")
	server := fs.String("server", "", "server URL (enrol)")
	code := fs.String("code", "", "enrolment code (enrol)")
	label := fs.String("label", "", "device name (enrol)")
	engagement := fs.String("engagement", "", "engagement id (interview; default: the latest)")
	venue := fs.String("venue", "", "venue name for a new engagement (interview)")
	venueType := fs.String("venue-type", "other", "venue type for a new engagement (interview)")
	group := fs.Int("group", 0, "group size, for a group conversation (interview)")
	reason := fs.String("reason", "", "why the consent is withdrawn (withdraw)")
	yes := fs.Bool("yes", false, "don't ask for confirmation (withdraw)")
	addr := fs.String("addr", "127.0.0.1:0", "loopback address the field app listens on (app)")
	syncEvery := fs.Duration("sync-every", 30*time.Second, "how often the field app syncs while the server is reachable; 0 = never (app)")
	pos, err := parseAnywhere(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stdout, c.t("cli.usage", nil))
		return 0
	}
	if !slices.Contains(commands, cmd) {
		fmt.Fprintln(stderr, render(c.t("cli.unknown_command", map[string]any{"Command": cmd}), locales.IsRTL(c.lang), 0))
		fmt.Fprintln(stderr, c.t("cli.usage", nil))
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, render(c.t("cli.bad_option", map[string]any{"Option": badOption(err, args)}), locales.IsRTL(c.lang), 0))
		fmt.Fprintln(stderr, c.t("cli.usage", nil))
		return 2
	}
	want := 0
	if cmd == "withdraw" {
		want = 1
	}
	if len(pos) != want {
		fmt.Fprintln(stderr, c.t("cli.usage", nil))
		return 2
	}
	if (cmd == "enrol" || cmd == "enroll") && (*server == "" || *code == "") {
		fmt.Fprintln(stderr, c.t("cli.usage", nil))
		return 2
	}
	if cmd == "enrol" || cmd == "enroll" {
		return c.enrol(ctx, *server, *code, *label)
	}
	if cmd == "app" && fieldapp.CheckAddr(*addr) != nil {
		// Refused before anything is opened or made.
		fmt.Fprintln(stderr, render(c.t("fieldapp.cli.not_loopback", map[string]any{"Addr": *addr}), locales.IsRTL(c.lang), 0))
		return 2
	}
	dev, err := c.open()
	if err != nil {
		return c.fail(err)
	}
	defer dev.Close()
	switch cmd {
	case "app":
		return c.app(ctx, dev, *addr, *syncEvery)
	case "interview":
		return c.interview(ctx, dev, *engagement, *venue, *venueType, *group)
	case "list":
		return c.list(ctx, dev)
	case "status":
		return c.status(ctx, dev)
	case "sync":
		return c.sync(ctx, dev)
	case "withdraw":
		return c.withdraw(ctx, dev, pos[0], *reason, *yes)
	default:
		fmt.Fprintln(stderr, render(c.t("cli.unknown_command", map[string]any{"Command": cmd}), locales.IsRTL(c.lang), 0))
		fmt.Fprintln(stderr, c.t("cli.usage", nil))
		return 2
	}
}

// enrol sets the device up with a code. A failed enrolment on a device that had no store
// leaves nothing behind: the store, its key file and the directory made for them go.
func (c *cli) enrol(ctx context.Context, server, code, label string) int {
	if _, err := sdk.CheckServerURL(server); err != nil {
		return c.fail(err) // before anything is made
	}
	_, dirErr := os.Stat(c.dir)
	_, dbErr := os.Stat(filepath.Join(c.dir, sdk.DBName))
	_, keyErr := os.Stat(filepath.Join(c.dir, keyFileName))
	c.holdKeyNote = true
	dev, err := c.open()
	if err != nil {
		return c.fail(err)
	}
	id, err := dev.Enrol(ctx, server, code, label)
	if err == nil {
		dev.Close()
		if c.keyMade {
			c.keyNote()
		}
		c.println(c.t("cli.enrolled", map[string]any{"Label": id.Label, "Team": id.Team}))
		return 0
	}
	dev.Close()
	if errors.Is(dbErr, os.ErrNotExist) {
		base := filepath.Join(c.dir, sdk.DBName)
		for _, p := range []string{base, base + "-wal", base + "-shm", base + "-journal"} {
			os.Remove(p)
		}
		if errors.Is(keyErr, os.ErrNotExist) {
			os.Remove(filepath.Join(c.dir, keyFileName))
		}
		if errors.Is(dirErr, os.ErrNotExist) {
			os.Remove(c.dir) // only if empty
		}
	}
	return c.fail(err)
}

func (c *cli) list(ctx context.Context, dev *sdk.Device) int {
	engs, err := dev.Engagements(ctx)
	if err != nil {
		return c.fail(err)
	}
	convs, err := dev.Conversations(ctx, "")
	if err != nil {
		return c.fail(err)
	}
	consents, err := dev.Consents(ctx, "")
	if err != nil {
		return c.fail(err)
	}
	section := func(heading string, n int, line func(i int) string) {
		c.println("== " + heading + " ==")
		if n == 0 {
			c.println(c.t("cli.list_empty", nil))
		}
		for i := 0; i < n; i++ {
			fmt.Fprintln(c.stdout, line(i))
		}
	}
	section(c.t("cli.heading_engagements", nil), len(engs), func(i int) string {
		e := engs[i]
		venue, _ := locales.Localize(c.lang, locales.VenueTypeMessageID(e.VenueType), nil)
		return fmt.Sprintf("%s  %s  %s (%s) %s", e.ID, when(e.StartsAt), e.VenueName, venue, e.Area)
	})
	section(c.t("cli.heading_consents", nil), len(consents), func(i int) string {
		k := consents[i]
		w := ""
		if k.Withdrawn {
			w = "  [withdrawn]"
		}
		return fmt.Sprintf("%s  %s  %s  %s  %s%s", k.ID, when(k.GivenAt), k.StatementLocale, k.Method, strings.Join(k.Scopes, ","), w)
	})
	section(c.t("cli.heading_conversations", nil), len(convs), func(i int) string {
		v := convs[i]
		who := "1"
		if v.GroupSize > 0 {
			who = fmt.Sprintf("group of %d", v.GroupSize)
		}
		return fmt.Sprintf("%s  %s  %s  %s  %s", v.ID, when(v.StartedAt), who, strings.Join(v.Locales, ","),
			c.tn("cli.conversation_saved", len(v.Answers), nil))
	})
	return 0
}

func when(ms int64) string {
	if ms == 0 {
		return "-"
	}
	return time.UnixMilli(ms).Local().Format("2006-01-02 15:04")
}

func (c *cli) status(ctx context.Context, dev *sdk.Device) int {
	st, err := dev.Status(ctx)
	if err != nil {
		return c.fail(err)
	}
	if !st.Enrolled {
		c.println(sdk.ErrNotEnrolled.Message(c.lang))
	} else {
		c.println(c.t("cli.status_device", map[string]any{"Label": st.Label}))
		c.println(c.t("cli.status_team", map[string]any{"Team": st.Team}))
		c.println(c.t("cli.status_server", map[string]any{"Server": st.Server}))
	}
	c.println(c.tn("cli.status_pending", int(st.Pending), nil))
	if st.LastSync == 0 {
		c.println(c.t("cli.status_never_synced", nil))
	} else {
		c.println(c.t("cli.status_last_sync", map[string]any{"Time": when(st.LastSync)}))
	}
	if st.LastErrorCode != "" {
		msg := (&sdk.Error{Code: st.LastErrorCode}).Message(c.lang)
		c.println(c.t("cli.status_last_error", map[string]any{"Message": msg}))
	}
	c.println(c.t("cli.status_cursor", map[string]any{"Cursor": orDash(st.Cursor)}))
	c.println(c.tn("cli.status_state", st.Records, map[string]any{"Hash": st.Hash}))
	if len(st.Rejected) > 0 {
		c.println(c.tn("cli.status_rejected", len(st.Rejected), nil))
		for _, r := range st.Rejected {
			fmt.Fprintf(c.stdout, "  %s:%d  %s  %s  %s\n", r.Node, r.Counter, r.Code, r.Field, r.Message)
		}
	}
	return 0
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (c *cli) withdraw(ctx context.Context, dev *sdk.Device, consent, reason string, yes bool) int {
	if _, err := dev.Consent(ctx, consent); err != nil {
		return c.fail(err)
	}
	if !yes {
		c.println(c.t("cli.withdraw_confirm", nil))
		yk, nk := c.t("cli.yes", nil), c.t("cli.no", nil)
		c.println(c.t("cli.press_key_confirm", map[string]any{"YesKey": firstLetter(yk), "NoKey": firstLetter(nk)}))
		line, _ := bufio.NewReader(c.stdin).ReadString('\n')
		line = strings.TrimSpace(strings.ToLower(line))
		if line == "" || (!strings.HasPrefix(strings.ToLower(yk), line) && line != "y") {
			return 1
		}
	}
	if err := dev.WithdrawConsent(ctx, consent, reason); err != nil {
		return c.fail(err)
	}
	c.println(c.t("cli.withdraw_done", nil))
	return 0
}

func firstLetter(s string) string {
	for _, r := range s {
		return strings.ToUpper(string(r))
	}
	return s
}
