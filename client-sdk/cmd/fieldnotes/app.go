package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	sdk "github.com/fieldnotes/fieldnotes/client-sdk"
	"github.com/fieldnotes/fieldnotes/client-sdk/fieldapp"
)

// app serves the field app on loopback from this device's store until interrupted. The
// first line on stdout is its URL alone, for scripts and the mobile shell.
func (c *cli) app(ctx context.Context, dev *sdk.Device, addr string, every time.Duration) int {
	if every <= 0 {
		every = -1
	}
	srv, err := fieldapp.Start(dev, addr, fieldapp.Options{AutoSync: every})
	if errors.Is(err, fieldapp.ErrNotLoopback) {
		fmt.Fprintln(c.stderr, c.t("fieldapp.cli.not_loopback", map[string]any{"Addr": addr}))
		return 2
	}
	if err != nil {
		return c.fail(err)
	}
	fmt.Fprintln(c.stdout, srv.URL)
	fmt.Fprintln(c.stderr, c.t("fieldapp.cli.listening", map[string]any{"URL": srv.URL}))
	<-ctx.Done()
	if err := srv.Stop(); err != nil {
		return c.fail(err)
	}
	return 0
}
