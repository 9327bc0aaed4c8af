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
func (h *Console) matchConversations(c echo.Context, w *who, f convFilter, offset, limit int) ([]convRow, int, error) {
	ctx := c.Request().Context()
	q := strings.ToLower(f.Q)
	var rows []convRow
	type hit struct {
		c     *reports.Conversation
		state string
	}
	var hits []hit
	err := h.Coord.Reports.Index.Read(ctx, func(v *reports.View) error {
		{
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
				e := v.EngagementOf(cv)
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
				if q != "" && !strings.HasPrefix(cv.ID, q) && cv.Participant != q && cv.Consent != q &&
					!contains(cv.Themes, q) && (e == nil || !strings.Contains(strings.ToLower(e.Title), q)) {
					return
				}
				hits = append(hits, hit{cv, st})
			})
		}
		sort.Slice(hits, func(i, j int) bool {
			a, b := hits[i].c, hits[j].c
			if a.StartedAt != b.StartedAt {
				return a.StartedAt > b.StartedAt
			}
			return a.ID > b.ID
		})
		end := min(offset+limit, len(hits))
		for _, x := range hits[min(offset, end):end] {
			r := convRow{ID: x.c.ID, Engagement: x.c.Engagement, Team: x.c.Team, Review: x.state, StartedAt: x.c.StartedAt,
				Locales: append([]string(nil), x.c.Locales...), Themes: append([]string(nil), x.c.Themes...), Group: x.c.Participant == ""}
			if e := v.EngagementOf(x.c); e != nil {
				r.EngagementTitle = e.Title
			}
			rows = append(rows, r)
		}
		return nil
	})
	return rows, len(hits), err
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
