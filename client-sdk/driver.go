//go:build !fieldnotes_device

package sdk

import "database/sql"

// defaultOpenDB opens an unencrypted store: nil is syncengine's default, modernc's
// SQLite. A tablet build (-tags fieldnotes_device) uses ncruces's instead (driver_device.go).
var defaultOpenDB func(string) (*sql.DB, error)
