//go:build fieldnotes_device

package sdk

import (
	"database/sql"

	"github.com/ncruces/go-sqlite3/driver"
)

// defaultOpenDB: a tablet build carries one SQLite, ncruces's, for encrypted and
// unencrypted stores alike (syncengine leaves modernc out under this tag).
var defaultOpenDB = func(dsn string) (*sql.DB, error) { return driver.Open(dsn) }
