package app

import (
	"github.com/fieldnotes/fieldnotes/server/api"
	"github.com/fieldnotes/fieldnotes/server/coordapi"
	"github.com/labstack/echo/v4"
)

// The coordinators' API (reports, baselines and gaps, decisions and feedback, exports,
// audit trails) is mounted on every server.
func init() {
	Extensions = append(Extensions, func(g *echo.Group, d api.Deps) { coordapi.Routes(d.DataDir)(g, d) })
}
