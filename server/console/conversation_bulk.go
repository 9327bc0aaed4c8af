package console

import (
	"net/http"
	"net/url"

	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/labstack/echo/v4"
)

// conversationBulkReview reviews the ticked conversations, or every one matching the
// table's filters, in one write per team.
func (h *Console) conversationBulkReview(c echo.Context) error {
	w := current(c)
	v := mustForm(c)
	f := form.ParseReview(v)
	filterQS, _ := url.ParseQuery(v.Get("filter"))
	back := "/console/conversations?" + filterQS.Encode()
	if errs := f.Validate(); len(errs) > 0 {
		return h.errorPageWith(c, http.StatusUnprocessableEntity, errs, back)
	}
	filter := parseConvFilter(filterQS)
	rows, _, err := h.matchConversations(c, w, filter, 0, 1<<30)
	if err != nil {
		return h.internal(c, err)
	}
	byTeam := map[string][]syncengine.Change{}
	n := 0
	for _, r := range rows {
		if f.All || contains(f.IDs, r.ID) {
			byTeam[r.Team] = append(byTeam[r.Team], reviewChanges(r.ID, f)...)
			n++
		}
	}
	if n == 0 {
		return h.errorPageWith(c, http.StatusUnprocessableEntity, form.Errors{{Field: "id", Message: "console.review.none_selected"}}, back)
	}
	for team, ch := range byTeam {
		for len(ch) > 0 {
			k := min(len(ch), 2000)
			if err := h.write(c.Request().Context(), w, team, ch[:k]); err != nil {
				return h.internal(c, err)
			}
			ch = ch[k:]
		}
		h.audit(c, "review_bulk", team, "", "state="+f.State+" conversations="+itoa(len(byTeam[team])/2))
	}
	q := filterQS
	q.Set("done", "reviewed")
	return seeOther(c, "/console/conversations?"+q.Encode())
}

// errorPageWith shows form problems on a page of their own with a way back (forms whose
// page is a table: the bulk review).
func (h *Console) errorPageWith(c echo.Context, status int, errs form.Errors, back string) error {
	p := h.newPage(c, "console.errors.title", map[string]string{"Back": back})
	p.Errors = h.fieldErrors(p, errs)
	p.Status = status
	return h.render(c, "form_error", p)
}
