//go:build tools

// Package tools pins dependencies that packages still under construction will import,
// so `go mod tidy` keeps them. Removed once every dependency has a real importer.
package tools

import (
	_ "github.com/BurntSushi/toml"
	_ "github.com/charmbracelet/bubbles/progress"
	_ "github.com/charmbracelet/bubbletea"
	_ "github.com/creack/pty"
	_ "github.com/golang-jwt/jwt/v5"
	_ "github.com/google/uuid"
	_ "github.com/labstack/echo-jwt/v4"
	_ "github.com/labstack/echo/v4"
	_ "github.com/labstack/echo/v4/middleware"
	_ "github.com/nicksnyder/go-i18n/v2/i18n"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/rs/zerolog"
	_ "golang.org/x/crypto/argon2"
	_ "golang.org/x/text/language"
	_ "modernc.org/sqlite"
	_ "pgregory.net/rapid"
)
