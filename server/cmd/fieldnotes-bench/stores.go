package main

// The hub on PostgreSQL: -systems fieldnotes-pg (one server instance) and fieldnotes-pg2
// (two instances on one database, as behind a load balancer: each tablet pushes to one
// and pulls from the other), on a fresh schema of -database-url per run.

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Systems that run the hub on PostgreSQL, and how many instances each starts.
var pgSystems = map[string]int{"fieldnotes-pg": 1, "fieldnotes-pg2": 2}

const benchSecret = "fieldnotes-bench-signing-key-0123456789abcdef"

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

// printStoreRatios gives each PostgreSQL system's rates as a ratio of the hub's on
// SQLite in the same runs.
func printStoreRatios(out interface{ Write([]byte) (int, error) }, o options, results map[string][]result) {
	base := results["fieldnotes"]
	for _, name := range o.systems {
		if pgSystems[name] == 0 || len(base) == 0 || len(results[name]) != len(base) {
			continue
		}
		var push, pull []float64
		for i, r := range results[name] {
			push = append(push, r.push.rate()/base[i].push.rate())
			pull = append(pull, r.pull.rate()/base[i].pull.rate())
		}
		fmt.Fprintf(out, "%-14s push %s×   pull %s×   (against the hub on SQLite)\n", name, spread(push, "%.2f"), spread(pull, "%.2f"))
	}
}
