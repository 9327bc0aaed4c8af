// Command fieldnotes-server runs the Fieldnotes API on its embedded SQLite store.
//
//	fieldnotes-server --addr 127.0.0.1:8080 --data ./data [--demo]
//
// Every flag also reads from the environment (FIELDNOTES_ADDR, FIELDNOTES_DATA, …);
// FIELDNOTES_JWT_SECRET sets the signing key. SIGTERM or SIGINT drains requests in
// flight and exits 0. See server/app for the flags and docs/PROTOCOL.md for the API.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/fieldnotes/fieldnotes/server/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := app.Run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fieldnotes-server:", err)
		os.Exit(1)
	}
}
