package reports

// Counted lists the conversations a report for q counts (q's teams, date range and
// engagement; GroupBy and Policy are ignored), by the same rules as every report. Pages
// built on reports (the annual report, the public page) use it to show what a count is
// made of, such as quotes, without counting again by rules of their own.
func (v *View) Counted(q Query) []*Conversation {
	return counted(v, filter{Teams: q.Teams, From: q.From, To: q.To, Engagement: q.Engagement, IncludeRejected: q.IncludeRejected})
}
