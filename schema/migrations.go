package schema

import (
	"embed"
	"io/fs"
	"sort"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one SQL file, applied once, in name order.
type Migration struct {
	Name string
	SQL  string
}

// Migrations returns the replica store's migrations in the order they apply.
func Migrations() []Migration {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		panic(err) // the pattern is a constant
	}
	sort.Strings(names)
	out := make([]Migration, 0, len(names))
	for _, n := range names {
		b, err := migrationFiles.ReadFile(n)
		if err != nil {
			panic(err) // embedded at build time
		}
		out = append(out, Migration{Name: n[len("migrations/"):], SQL: string(b)})
	}
	return out
}
