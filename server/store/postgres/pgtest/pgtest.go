// Package pgtest gives tests a PostgreSQL database of their own: a fresh schema in the
// database FIELDNOTES_TEST_DATABASE_URL names, dropped when the test ends, so tests run
// in parallel without seeing each other's rows. Without that variable a test skips,
// unless FIELDNOTES_REQUIRE_POSTGRES=1 (CI), when it fails.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Env is the variable naming the test database.
const Env = "FIELDNOTES_TEST_DATABASE_URL"

// URL returns the URL of a new, empty schema for tb (its search_path), or skips.
func URL(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(Env)
	if base == "" {
		if os.Getenv("FIELDNOTES_REQUIRE_POSTGRES") == "1" {
			tb.Fatalf("FIELDNOTES_REQUIRE_POSTGRES=1 but %s is not set", Env)
		}
		tb.Skipf("no PostgreSQL: set %s (e.g. under pg_virtualenv) to run this test", Env)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect %s: %v", Env, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		c.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s: %v", Env, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
