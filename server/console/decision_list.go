package console

import (
	"sort"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/feedback"
	"github.com/labstack/echo/v4"
)

func (h *Console) decisionList(c echo.Context) error {
	recs, err := h.scan(c.Request().Context(), current(c), schema.Decision)
	if err != nil {
		return h.internal(c, err)
	}
	ds := make([]feedback.Decision, 0, len(recs))
	for _, r := range recs {
		ds = append(ds, feedback.DecisionOf(r))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].DecidedAt > ds[j].DecidedAt })
	return h.render(c, "decision_list", h.newPage(c, "console.nav.decisions", ds))
}
