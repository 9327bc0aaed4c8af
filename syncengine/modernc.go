//go:build !fieldnotes_device

package syncengine

// Stores run on modernc's pure-Go SQLite, registered as "sqlite", unless Options.OpenDB
// says otherwise. A tablet build (-tags fieldnotes_device, as for gomobile bind) leaves it
// out: the device opens its store over ncruces/go-sqlite3 (client-sdk), and one SQLite in
// the app is enough (the fieldnotes command is 6 MB smaller without it).
import _ "modernc.org/sqlite"
