package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/fieldnotes/fieldnotes/server/api"
	"github.com/fieldnotes/fieldnotes/server/auth"
	"github.com/fieldnotes/fieldnotes/server/store"
	"github.com/fieldnotes/fieldnotes/server/store/sqlite"
	"github.com/rs/zerolog"
)

// DemoInfo is <data>/demo.json, exactly as docs/PROTOCOL.md gives it.
type DemoInfo struct {
	Team        string `json:"team"`
	Coordinator struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	} `json:"coordinator"`
	EnrolmentCode string `json:"enrolment_code"`
	EngagementID  string `json:"engagement_id"`
	// Replaced says why EnrolmentCode is new on a later start: the code seeded before
	// was used or ran out ("used", "expired"); empty otherwise. Not in demo.json.
	Replaced string `json:"-"`
}

const (
	demoTeam     = "demo"
	demoEmail    = "coordinator@demo.fieldnotes.local"
	demoCodeTTL  = 24 * time.Hour
	demoFileName = "demo.json"
)

// seedDemo seeds the demo on a data directory that has none, or reads the existing
// demo.json.
func seedDemo(ctx context.Context, st *sqlite.DB, cfg Config, log zerolog.Logger) (*DemoInfo, error) {
	path := filepath.Join(cfg.Data, demoFileName)
	if b, err := os.ReadFile(path); err == nil {
		var info DemoInfo
		if err := json.Unmarshal(b, &info); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		log.Info().Msg("demo already seeded; using " + path)
		return &info, refreshDemoCode(ctx, st, cfg, path, &info, log)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if _, err := st.Team(ctx, demoTeam); err == nil {
		return nil, fmt.Errorf("team %q exists but %s does not: use an empty data directory for --demo", demoTeam, path)
	}

	now := cfg.Now()
	if err := st.CreateTeam(ctx, store.Team{Name: demoTeam, CreatedAt: now.UnixMilli()}); err != nil {
		return nil, err
	}
	password := auth.NewSecret()[:16]
	coord, err := api.NewUser(demoEmail, password, store.RoleCoordinator, []string{demoTeam}, cfg.Argon2, now.UnixMilli())
	if err != nil {
		return nil, err
	}
	if err := st.CreateUser(ctx, coord); err != nil {
		return nil, err
	}

	d := newDemoData(now)
	if err := d.seed(ctx, st, coord, cfg); err != nil {
		return nil, err
	}
	code, _, err := api.IssueEnrolmentCode(ctx, st, demoTeam, "demo tablet", coord.ID, now, demoCodeTTL)
	if err != nil {
		return nil, err
	}
	eng := d.engagements[0].id

	info := &DemoInfo{Team: demoTeam, EnrolmentCode: code, EngagementID: eng}
	info.Coordinator.Email, info.Coordinator.Password = demoEmail, password
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return nil, err
	}
	log.Info().Str("team", demoTeam).Str("engagement", eng).Msg("demo seeded")
	return info, nil
}

// refreshDemoCode gives an existing demo a fresh enrolment code when the one in demo.json
// was used or has run out, so that what is printed can be typed into a tablet, and
// rewrites demo.json with it.
func refreshDemoCode(ctx context.Context, st *sqlite.DB, cfg Config, path string, info *DemoInfo, log zerolog.Logger) error {
	c, err := st.EnrolmentCode(ctx, auth.HashSecret(info.EnrolmentCode))
	now := cfg.Now()
	switch {
	case errors.Is(err, store.ErrNotFound):
		info.Replaced = "unknown"
	case err != nil:
		return err
	case c.UsedAt != 0:
		info.Replaced = "used"
	case now.UnixMilli() >= c.ExpiresAt:
		info.Replaced = "expired"
	default:
		return nil
	}
	coord, err := st.UserByEmail(ctx, info.Coordinator.Email)
	if err != nil {
		return fmt.Errorf("the demo coordinator %s: %w", info.Coordinator.Email, err)
	}
	code, _, err := api.IssueEnrolmentCode(ctx, st, info.Team, "demo tablet", coord.ID, now, demoCodeTTL)
	if err != nil {
		return err
	}
	info.EnrolmentCode = code
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return err
	}
	log.Info().Str("team", info.Team).Str("reason", info.Replaced).Msg("demo: the previous enrolment code can't be used; issued a new one")
	return nil
}

func printDemo(w io.Writer, url, data string, d *DemoInfo, now time.Time) {
	to := now.UTC().Format(time.DateOnly)
	from := now.UTC().AddDate(-1, 0, 1).Format(time.DateOnly)
	codeNote := fmt.Sprintf("(one use, valid %s from seeding)", demoCodeTTL)
	switch d.Replaced {
	case "used":
		codeNote = fmt.Sprintf("(new: the code printed before was used; one use, valid %s)", demoCodeTTL)
	case "expired":
		codeNote = fmt.Sprintf("(new: the code printed before ran out; one use, valid %s)", demoCodeTTL)
	case "unknown":
		codeNote = fmt.Sprintf("(new: the code in demo.json is not in this store; one use, valid %s)", demoCodeTTL)
	}
	fmt.Fprintf(w, `
Fieldnotes demo
  team            %s
  coordinator     %s
  password        %s
  enrolment code  %s   %s
  engagement      %s
  written to      %s

Log in as the coordinator:
  curl -s %s/v1/auth/login -H 'Content-Type: application/json' \
    -d '{"email":"%s","password":"%s"}'

Enrol a tablet with the code, then record and sync from the CLI:
  go run ./client-sdk/cmd/fieldnotes enrol --server %s --code %s

More codes (with the coordinator's access token):
  curl -s %s/v1/devices/enrolment-codes -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -d '{"team":"%s","label":"tablet 2"}'

The year's annual involvement report, as a PDF (Accept: text/html for the web page;
&lang=ar, ur, pa, bn, pl, so, cy, ro, gu or pt for another language):
  curl -s "%s/v1/reports/annual?from=%s&to=%s" -H 'Accept: application/pdf' -o annual-report.pdf \
    -H "Authorization: Bearer $(curl -s %s/v1/auth/login -d '{"email":"%s","password":"%s"}' | sed 's/.*"access_token":"\([^"]*\)".*/\1/')"

The first engagement's public "You said, we did" page (no sign-in):
  %s/public/engagements/%s

API description: %s/v1/openapi.json
`, d.Team, d.Coordinator.Email, d.Coordinator.Password, d.EnrolmentCode, codeNote, d.EngagementID,
		filepath.Join(data, demoFileName), url, d.Coordinator.Email, d.Coordinator.Password, url, d.EnrolmentCode, url, d.Team,
		url, from, to, url, d.Coordinator.Email, d.Coordinator.Password, url, d.EngagementID, url)
}
