package console

import (
	"errors"
	"net/http"

	"github.com/fieldnotes/fieldnotes/server/export"
	"github.com/labstack/echo/v4"
)

// exportDownload streams a collection through the export package, under its consent
// rules, and the export log records it (as GET /v1/export/{collection}).
func (h *Console) exportDownload(c echo.Context) error {
	w := current(c)
	format := export.CSV
	if c.QueryParam("format") == export.NDJSON {
		format = export.NDJSON
	}
	req := export.Request{Who: w.User.ID, Teams: w.Teams, Collection: c.Param("collection"), Format: format}
	if err := req.Validate(); err != nil {
		var ee *export.Error
		if errors.As(err, &ee) {
			return h.notFound(c)
		}
		return h.internal(c, err)
	}
	res := c.Response()
	if format == export.CSV {
		res.Header().Set(echo.HeaderContentType, export.ContentTypeCSV)
		res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+req.Collection+`.csv"`)
	} else {
		res.Header().Set(echo.HeaderContentType, export.ContentTypeNDJSON)
		res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+req.Collection+`.ndjson"`)
	}
	res.WriteHeader(http.StatusOK)
	n, err := h.Coord.Export.Export(c.Request().Context(), res, req)
	if err != nil {
		h.Log.Warn().Err(err).Str("collection", req.Collection).Msg("console export cut short")
	}
	h.audit(c, "export", "", "collection/"+req.Collection, "format="+format+" rows="+itoa(n))
	return nil
}
