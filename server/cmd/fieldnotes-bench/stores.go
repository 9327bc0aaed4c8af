package main

// The stores the harness runs the workload on (-stores): SQLite in a data directory, or
// PostgreSQL with one or two server instances on a fresh schema per run.

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fieldnotes/fieldnotes/server/app"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// summaryRow is one run's figures for the side-by-side table at the end.
type summaryRow struct {
	store      string
	instances  int
	batch      int
	push, pull float64 // conversations/s
	pushP50    time.Duration
	ok         bool
}

var summary []summaryRow

// printSummary prints every run side by side, each store's rates as a ratio of SQLite's
// for the same batch size measured in this run.
func printSummary() {
	if len(summary) < 2 {
		return
	}
	fmt.Printf("\n== summary (conversations/s, %d ops each; ratio against sqlite in this run)\n", opsPerConv)
	fmt.Printf("%-10s %9s %5s %12s %8s %12s %8s %10s %s\n", "store", "instances", "batch", "push", "×sqlite", "pull", "×sqlite", "push p50", "checks")
	for _, r := range summary {
		var base *summaryRow
		for i := range summary {
			if summary[i].store == "sqlite" && summary[i].batch == r.batch {
				base = &summary[i]
			}
		}
		rp, rl := "-", "-"
		if base != nil {
			rp, rl = fmt.Sprintf("%.2f", r.push/base.push), fmt.Sprintf("%.2f", r.pull/base.pull)
		}
		fmt.Printf("%-10s %9d %5d %12.0f %8s %12.0f %8s %10v %s\n", r.store, r.instances, r.batch, r.push, rp, r.pull, rl,
			r.pushP50.Round(10*time.Microsecond), verdict(r.ok))
	}
}

const benchSecret = "fieldnotes-bench-signing-key-0123456789abcdef"

// startServers starts the server(s) for o.store: one on a data directory, or one or two
// on a fresh schema of the PostgreSQL database (two share the signing key and the
// database, as behind a load balancer).
func startServers(o options, dir string, logf io.Writer) ([]*app.Instance, func()) {
	args := []string{"--addr", "127.0.0.1:0", "--data", dir, "--log-level", "warn",
		"--rate", "1000000", "--rate-burst", "1000000", "--auth-rate", "1000000", "--auth-burst", "1000000",
		"--admin-email", "admin@bench.local", "--admin-password", "bench-admin-password"}
	n := 1
	dropSchema := func() {}
	env := func(string) string { return "" }
	if o.store != "sqlite" {
		if o.store == "postgres2" {
			n = 2
		}
		u, drop, err := freshSchema(o.databaseURL)
		if err != nil {
			fail(err)
		}
		if !o.keep {
			dropSchema = drop
		}
		args = append(args, "--database-url", u)
		env = func(k string) string {
			if k == "FIELDNOTES_JWT_SECRET" {
				return benchSecret
			}
			return ""
		}
	}
	var srvs []*app.Instance
	for i := 0; i < n; i++ {
		a := append([]string(nil), args...)
		if i > 0 {
			sub := filepath.Join(dir, fmt.Sprintf("instance-%d", i))
			if err := os.MkdirAll(sub, 0o700); err != nil {
				fail(err)
			}
			a[3] = sub // its own data directory: only the database is shared
		}
		cfg, err := app.ParseConfig(a, env)
		if err != nil {
			fail(err)
		}
		cfg.LogOutput = logf
		srv, err := app.Start(context.Background(), cfg, io.Discard)
		if err != nil {
			fail(err)
		}
		srvs = append(srvs, srv)
	}
	return srvs, func() {
		for _, s := range srvs {
			s.Shutdown(context.Background())
		}
		dropSchema()
	}
}

// freshSchema makes an empty schema in the database at base and returns a URL whose
// search_path is that schema, and a function that drops it.
func freshSchema(base string) (string, func(), error) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, fmt.Errorf("database: %w", err)
	}
	defer conn.Close(ctx)
	name := "bench_" + strings.ReplaceAll(uuid.Must(uuid.NewV7()).String()[24:], "-", "")
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+name); err != nil {
		return "", nil, err
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String(), func() {
		if c, err := pgx.Connect(ctx, base); err == nil {
			c.Exec(ctx, `DROP SCHEMA `+name+` CASCADE`)
			c.Close(ctx)
		}
	}, nil
}
