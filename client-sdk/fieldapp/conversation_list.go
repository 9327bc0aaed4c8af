package fieldapp

import (
	"net/http"
	"sort"
	"strings"
	"time"

	sdk "github.com/fieldnotes/fieldnotes/client-sdk"
)

type convRow struct {
	sdk.Conversation
	EngagementTitle string
	LanguageNames   string
	Answered        int
	Review          string // the review state, in the page's language
	ReviewState     string
	Comment         string
	Withdrawn       bool
}

type convListData struct {
	Rows []convRow
	Sync syncView
}

// conversationList shows the day's conversations on this tablet: where each is, its
// review state and any comment a coordinator left, with resume and withdraw.
func (a *App) conversationList(w http.ResponseWriter, r *http.Request) {
	lang := a.uiLang(r)
	if _, err := a.dev.Identity(); err != nil {
		redirect(w, r, "/enrol")
		return
	}
	convs, err := a.dev.Conversations(r.Context(), "")
	if err != nil {
		a.failErr(w, r, lang, err)
		return
	}
	p := a.newPage(r, lang, "fieldapp.conversations.title")
	p.Nav = "conversations"
	now := a.opts.Now()
	y, m, d := now.Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, now.Location()).UnixMilli()
	titles := map[string]string{}
	if engs, err := a.dev.Engagements(r.Context()); err == nil {
		for _, e := range engs {
			titles[e.ID] = e.Title
			if e.Title == "" {
				titles[e.ID] = e.VenueName
			}
		}
	}
	data := convListData{Sync: a.sync.view(r, lang)}
	for _, c := range convs {
		if c.StartedAt < midnight || c.Consent == "" {
			continue
		}
		row := convRow{Conversation: c, EngagementTitle: titles[c.Engagement], Answered: len(c.Answers)}
		var names []string
		for _, l := range c.Locales {
			names = append(names, p.NameOf(l))
		}
		row.LanguageNames = strings.Join(names, ", ")
		if cs, err := a.dev.Consent(r.Context(), c.Consent); err == nil {
			row.Withdrawn = cs.Withdrawn
		}
		row.ReviewState, row.Comment = reviewOf(c)
		row.Review = p.T("review.state." + row.ReviewState)
		data.Rows = append(data.Rows, row)
	}
	sort.Slice(data.Rows, func(i, j int) bool { return data.Rows[i].StartedAt > data.Rows[j].StartedAt })
	p.Data = data
	a.render(w, http.StatusOK, "conversations", p)
}

// reviewOf is the coordinators' review of a conversation (received until they say more)
// and their comment, shown for has_issues (what to put right) and rejected.
func reviewOf(c sdk.Conversation) (state, comment string) {
	state = c.ReviewState
	switch state {
	case "has_issues", "approved", "rejected":
	default:
		state = "received"
	}
	if state == "has_issues" || state == "rejected" {
		comment = c.ReviewComment
	}
	return state, comment
}
