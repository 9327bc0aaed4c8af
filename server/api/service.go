package api

import (
	"context"
	_ "embed"
	"net/http"
	"time"

	"github.com/fieldnotes/fieldnotes/locales"
	"github.com/labstack/echo/v4"
)

//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI is the hand-written OpenAPI 3.1 description served at /v1/openapi.json.
func OpenAPI() []byte { return openAPIDoc }

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 503 only when a store does not answer within two seconds.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.Store.Ping(ctx); err != nil {
		s.Log.Warn().Err(err).Msg("store not ready")
		return Fail(CodeStoreUnavailable)
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// Language is one entry of GET /v1/locales.
type Language struct {
	Code       string  `json:"code"`
	Name       string  `json:"name"`
	Direction  string  `json:"direction"`
	Translated float64 `json:"translated"` // share of English messages translated, 0..1
}

func (s *Server) listLocales(c echo.Context) error {
	cov := locales.Coverage()
	out := make([]Language, 0, len(locales.Supported))
	for _, t := range locales.Supported {
		code := t.String()
		out = append(out, Language{Code: code, Name: locales.Name(code), Direction: locales.Direction(code), Translated: cov[code]})
	}
	return c.JSON(http.StatusOK, map[string]any{"languages": out})
}

func (s *Server) openAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPIDoc)
}
