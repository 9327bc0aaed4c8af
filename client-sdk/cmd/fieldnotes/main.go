// Command fieldnotes is the outreach worker's field tool: enrol a device, run an interview
// (consent, prompts in the person's language with a key to switch language for the
// interpreter, equality questions, notes, themes), list what is stored, sync with a
// progress bar, show status, and withdraw a consent.
//
//	fieldnotes enrol --server URL --code CODE --label "Blue tablet"
//	fieldnotes interview [--engagement ID] [--group N]
//	fieldnotes list | status | sync | withdraw CONSENT-ID
//
// Every command takes --data DIR (default ~/.fieldnotes, else ./fieldnotes-data) and
// --lang TAG (the worker's language).
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
	"strings"
	"time"

	sdk "github.com/fieldnotes/fieldnotes/client-sdk"
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
		if !strings.Contains(a, "=") && strings.TrimLeft(a, "-") != "yes" {
			i++ // skip the option's value
		}
	}
	return "", args
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{lang: os.Getenv("FIELDNOTES_LANG"), stdin: stdin, stdout: stdout, stderr: stderr}
	if c.lang == "" {
		c.lang = "en"
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-h") || args[0] == "help" {
		fmt.Fprintln(stdout, c.t("cli.usage", nil))
		return 2
	}
	cmd, args := splitCommand(args)
	if cmd == "" {
		fmt.Fprintln(stdout, c.t("cli.usage", nil))
		return 2
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
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
	if err := fs.Parse(args); err != nil {
		return 2
	}
	dev, err := sdk.Open(c.dir, sdk.WithLanguage(c.lang))
	if err != nil {
		return c.fail(err)
	}
	defer dev.Close()
	switch cmd {
	case "enrol", "enroll":
		if *server == "" || *code == "" {
			fmt.Fprintln(stderr, c.t("cli.usage", nil))
			return 2
		}
		id, err := dev.Enrol(ctx, *server, *code, *label)
		if err != nil {
			return c.fail(err)
		}
		c.println(c.t("cli.enrolled", map[string]any{"Label": id.Label, "Team": id.Team}))
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
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, c.t("cli.usage", nil))
			return 2
		}
		return c.withdraw(ctx, dev, fs.Arg(0), *reason, *yes)
	default:
		fmt.Fprintln(stderr, c.t("cli.usage", nil))
		return 2
	}
	return 0
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
	if st.LastError != "" {
		c.println(c.t("cli.status_last_error", map[string]any{"Message": st.LastError}))
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
