package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/charmbracelet/bubbles/progress"
	tea "github.com/charmbracelet/bubbletea"
	sdk "github.com/fieldnotes/fieldnotes/client-sdk"
	"github.com/fieldnotes/fieldnotes/locales"
)

type progressMsg sdk.Progress

type syncDone struct {
	rep sdk.SyncReport
	err error
}

type syncModel struct {
	c    *cli
	bar  progress.Model
	last sdk.Progress
	done *syncDone
}

func (m syncModel) Init() tea.Cmd { return nil }

func (m syncModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		if msg.Type == tea.KeyCtrlC {
			return m, tea.Quit
		}
	case tea.WindowSizeMsg:
		m.bar.Width = max(10, min(msg.Width-4, 80))
	case progressMsg:
		m.last = sdk.Progress(msg)
	case syncDone:
		m.done = &msg
		return m, tea.Quit
	}
	return m, nil
}

func (m syncModel) View() string {
	rtl := locales.IsRTL(m.c.lang)
	s := render(m.c.t("cli.sync_started", nil), rtl, 0) + "\n"
	p := m.last
	switch p.Phase {
	case sdk.PhasePush:
		pct := 1.0
		if p.Total > 0 {
			pct = float64(p.Done) / float64(p.Total)
		}
		s += render(m.c.t("cli.sync_progress", map[string]any{"Sent": p.Done, "Total": p.Total}), rtl, 0) + "\n" + m.bar.ViewAs(pct) + "\n"
	case sdk.PhasePull:
		pct := 0.0
		if p.Total > 0 {
			pct = 1
		}
		s += render(m.c.tn("cli.sync_received", p.Done, nil), rtl, 0) + "\n" + m.bar.ViewAs(pct) + "\n"
	}
	return s
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (c *cli) sync(ctx context.Context, dev *sdk.Device) int {
	var rep sdk.SyncReport
	var err error
	if isTerminal(os.Stdout) && c.stdout == os.Stdout {
		p := tea.NewProgram(syncModel{c: c, bar: progress.New(progress.WithDefaultGradient())}, tea.WithContext(ctx))
		go func() {
			rep, err := dev.SyncReport(ctx, func(pr sdk.Progress) { p.Send(progressMsg(pr)) })
			p.Send(syncDone{rep, err})
		}()
		final, perr := p.Run()
		if perr != nil {
			return c.fail(perr)
		}
		if d := final.(syncModel).done; d != nil {
			rep, err = d.rep, d.err
		} else {
			err = context.Canceled
		}
	} else {
		rep, err = dev.SyncReport(ctx, func(p sdk.Progress) {
			if p.Phase == sdk.PhasePush && p.Total > 0 {
				fmt.Fprintln(c.stdout, c.t("cli.sync_progress", map[string]any{"Sent": p.Done, "Total": p.Total}))
			}
		})
	}
	if errors.Is(err, sdk.ErrRevoked) {
		c.println(c.t("cli.device_revoked_wiped", nil))
		return 1
	}
	var e *sdk.Error
	if errors.As(err, &e) && e.Code == sdk.CodeConnectionRefused {
		return c.fail(err) // the server is not running there: say so, not "no connection"
	}
	if errors.Is(err, sdk.ErrOffline) {
		c.println(c.t("cli.offline_retry", nil))
		return 1
	}
	if err != nil {
		return c.fail(err)
	}
	c.println(c.tn("cli.sync_received", rep.Pulled, nil))
	if len(rep.Rejected) > 0 {
		c.println(c.tn("cli.status_rejected", len(rep.Rejected), nil))
	}
	c.println(c.t("cli.sync_complete", nil))
	return 0
}
