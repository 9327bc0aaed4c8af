package console

import (
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/console/form"
	"github.com/fieldnotes/fieldnotes/server/reports"
	"github.com/labstack/echo/v4"
)

const conversationsPerPage = 50

// convFilter is the conversation table's search and filters (all in the URL: ids,
// enums and dates only, never participant text).
type convFilter struct {
	Q, Engagement, Language, VenueType, Theme, Review string
	FromRaw, ToRaw                                    string
	From, To                                          int64
	Page                                              int
}

func parseConvFilter(v url.Values) convFilter {
	f := convFilter{Q: strings.TrimSpace(v.Get("q")), Engagement: v.Get("engagement"), Language: v.Get("language"),
		VenueType: v.Get("venue_type"), Theme: strings.TrimSpace(v.Get("theme")), Review: v.Get("review"),
		FromRaw: v.Get("from"), ToRaw: v.Get("to")}
	if len(f.Q) > 200 {
		f.Q = f.Q[:200]
	}
	f.From, _ = form.Date(f.FromRaw)
	if to, ok := form.Date(f.ToRaw); ok && to > 0 {
		f.To = to + 24*3600*1000 // the whole "to" day
	}
	f.Page, _ = strconv.Atoi(v.Get("page"))
	if f.Page < 1 {
		f.Page = 1
	}
	return f
}

// query is the filter as URL parameters (page left out).
func (f convFilter) query() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"q": f.Q, "engagement": f.Engagement, "language": f.Language, "venue_type": f.VenueType,
		"theme": f.Theme, "review": f.Review, "from": f.FromRaw, "to": f.ToRaw} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// convRow is one conversation in the table.
type convRow struct {
	ID, Engagement, EngagementTitle, Team, Review string
	StartedAt                                     int64
	Locales, Themes                               []string
	Group                                         bool
}

// matchConversations runs the filter over the reports' in-memory index: conversations
// in the person's teams whose consent is valid and covers record_views (consent gates
// every page). It returns the page asked for, newest first, and the number of matches.
//
// With 200,000 conversations a full sort per page is most of the cost, so a page is
// selected instead: a bounded heap keeps the offset+limit newest (or, for a page in the
// older half, the oldest from the end), which for the pages people open is a pass over
// the index and a sort of a few dozen rows.
func (h *Console) matchConversations(c echo.Context, w *who, f convFilter, offset, limit int) ([]convRow, int, error) {
	ctx := c.Request().Context()
	q := strings.ToLower(f.Q)
	var rows []convRow
	total := 0
	err := h.Coord.Reports.Index.Read(ctx, func(v *reports.View) error {
		titleMatch := map[*reports.Engagement]bool{}
		pass := func(fn func(cv *reports.Conversation, st string)) {
			v.Conversations(func(cv *reports.Conversation) {
				if !w.canSee(cv.Team) || !v.ConsentOf(cv).Valid(reports.RecordViews) {
					return
				}
				if f.Engagement != "" && cv.Engagement != f.Engagement {
					return
				}
				if f.From > 0 && cv.StartedAt < f.From || f.To > 0 && (cv.StartedAt == 0 || cv.StartedAt >= f.To) {
					return
				}
				if f.Language != "" && !hasBase(cv.Locales, f.Language) {
					return
				}
				if f.Theme != "" && !contains(cv.Themes, f.Theme) {
					return
				}
				var e *reports.Engagement
				if f.VenueType != "" || q != "" {
					e = v.EngagementOf(cv)
				}
				if f.VenueType != "" && (e == nil || e.VenueType != f.VenueType) {
					return
				}
				st := cv.ReviewState
				if st == "" {
					st = ReviewReceived
				}
				if f.Review != "" && st != f.Review {
					return
				}
				if q != "" && !strings.HasPrefix(cv.ID, q) && cv.Participant != q && cv.Consent != q && !contains(cv.Themes, q) {
					m, ok := titleMatch[e]
					if !ok {
						m = e != nil && strings.Contains(strings.ToLower(e.Title), q)
						titleMatch[e] = m
					}
					if !m {
						return
					}
				}
				fn(cv, st)
			})
		}
		// Count first unless this is the first page (counted while selecting).
		if offset > 0 {
			pass(func(*reports.Conversation, string) { total++ })
			if offset >= total {
				return nil
			}
		}
		backward := offset > 0 && offset+limit > total/2
		k := offset + limit
		if backward {
			k = total - offset
		}
		// before reports whether a comes before b in the table (newest first).
		before := func(a, b hit) bool {
			if a.at != b.at {
				return a.at > b.at
			}
			return a.c.ID > b.c.ID
		}
		keep := before // the heap keeps the k rows that come first…
		if backward {
			keep = func(a, b hit) bool { return before(b, a) } // …or last
		}
		top := &topK{k: k, keep: keep}
		n := 0
		pass(func(cv *reports.Conversation, st string) {
			n++
			top.offer(hit{c: cv, at: cv.StartedAt, state: st})
		})
		if offset == 0 {
			total = n
		}
		sel := top.h
		sort.Slice(sel, func(i, j int) bool { return before(sel[i], sel[j]) })
		if !backward {
			sel = sel[min(offset, len(sel)):]
		}
		if len(sel) > limit {
			sel = sel[:limit]
		}
		for _, x := range sel {
			r := convRow{ID: x.c.ID, Engagement: x.c.Engagement, Team: x.c.Team, Review: x.state, StartedAt: x.c.StartedAt,
				Locales: append([]string(nil), x.c.Locales...), Themes: append([]string(nil), x.c.Themes...), Group: x.c.Participant == ""}
			if e := v.EngagementOf(x.c); e != nil {
				r.EngagementTitle = e.Title
			}
			rows = append(rows, r)
		}
		return nil
	})
	return rows, total, err
}

// hit is a conversation that matched the filters.
type hit struct {
	c     *reports.Conversation
	at    int64
	state string
}

// topK keeps the k hits that keep orders first: a heap whose root is the one of them
// that keep orders last, replaced when a better hit comes.
type topK struct {
	k    int
	keep func(a, b hit) bool
	h    []hit
}

func (t *topK) offer(x hit) {
	if t.k <= 0 {
		return
	}
	if len(t.h) < t.k {
		t.h = append(t.h, x)
		for i := len(t.h) - 1; i > 0; { // sift up: parents are kept later
			p := (i - 1) / 2
			if !t.keep(t.h[p], t.h[i]) {
				break
			}
			t.h[p], t.h[i] = t.h[i], t.h[p]
			i = p
		}
		return
	}
	if !t.keep(x, t.h[0]) {
		return
	}
	t.h[0] = x
	for i := 0; ; { // sift down
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(t.h) && t.keep(t.h[m], t.h[l]) {
			m = l
		}
		if r < len(t.h) && t.keep(t.h[m], t.h[r]) {
			m = r
		}
		if m == i {
			return
		}
		t.h[i], t.h[m] = t.h[m], t.h[i]
		i = m
	}
}

func hasBase(tags []string, lang string) bool {
	for _, t := range tags {
		if t == lang || strings.HasPrefix(t, lang+"-") {
			return true
		}
	}
	return false
}

type conversationListData struct {
	Filter            convFilter
	Query             string // the filter as a query string, for paging links and bulk forms
	Rows              []convRow
	Total, Page, Last int
	Engagements       []engagementRow
	Languages         []string
	VenueTypes        []string
	ReviewStates      []string
	PrevURL, NextURL  string
}

func (h *Console) conversationList(c echo.Context) error {
	w := current(c)
	f := parseConvFilter(c.QueryParams())
	rows, total, err := h.matchConversations(c, w, f, (f.Page-1)*conversationsPerPage, conversationsPerPage)
	if err != nil {
		return h.internal(c, err)
	}
	engs, err := h.scan(c.Request().Context(), w, schema.Engagement)
	if err != nil {
		return h.internal(c, err)
	}
	d := conversationListData{Filter: f, Rows: rows, Total: total, Page: f.Page, Languages: supportedLanguages(),
		VenueTypes: schema.VenueTypes, ReviewStates: ReviewStates, Query: f.query().Encode()}
	for _, e := range engs {
		d.Engagements = append(d.Engagements, engagementOf(e.ID, e.Team, e.Fields))
	}
	sort.Slice(d.Engagements, func(i, j int) bool { return d.Engagements[i].Title < d.Engagements[j].Title })
	d.Last = max(1, (total+conversationsPerPage-1)/conversationsPerPage)
	link := func(page int) string {
		v := f.query()
		v.Set("page", strconv.Itoa(page))
		return "/console/conversations?" + v.Encode()
	}
	if f.Page > 1 {
		d.PrevURL = link(f.Page - 1)
	}
	if f.Page < d.Last {
		d.NextURL = link(f.Page + 1)
	}
	return h.render(c, "conversation_list", h.newPage(c, "console.nav.conversations", d))
}
