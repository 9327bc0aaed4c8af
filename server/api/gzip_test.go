package api

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// The gzip middleware compresses big responses for clients that accept gzip, leaves
// small ones and other clients alone, and writes a handler's error once, readable,
// through the compressor (a big error compressed, a small one plain).
func TestGzipResponses(t *testing.T) {
	big := strings.Repeat("tablet 1 pushed ", 200)
	e := echo.New()
	e.Use(gzipResponses())
	e.GET("/big", func(c echo.Context) error { return c.String(http.StatusOK, big) })
	e.GET("/small", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.GET("/fail-big", func(c echo.Context) error { return echo.NewHTTPError(http.StatusBadRequest, big) })
	e.GET("/fail", func(c echo.Context) error { return echo.NewHTTPError(http.StatusForbidden, "no") })
	for _, tc := range []struct {
		path, accept string
		status       int
		gzipped      bool
		want         string
	}{
		{"/big", "gzip", 200, true, big},
		{"/big", "", 200, false, big},
		{"/small", "gzip", 200, false, "ok"},
		{"/fail-big", "gzip", 400, true, big[:100]},
		{"/fail", "gzip", 403, false, `"no"`},
	} {
		t.Run(tc.path+"/"+tc.accept, func(t *testing.T) {
			req := httptest.NewRequest("GET", tc.path, nil)
			if tc.accept != "" {
				req.Header.Set("Accept-Encoding", tc.accept)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			body := io.Reader(rec.Body)
			if got := rec.Header().Get("Content-Encoding") == "gzip"; got != tc.gzipped {
				t.Fatalf("gzipped %v, want %v", got, tc.gzipped)
			}
			if tc.gzipped {
				zr, err := gzip.NewReader(rec.Body)
				if err != nil {
					t.Fatal(err)
				}
				body = zr
			}
			b, err := io.ReadAll(body)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), tc.want) || strings.Count(string(b), "message") > 1 {
				t.Fatalf("body %.200q does not hold %.50q once", b, tc.want)
			}
		})
	}
}
