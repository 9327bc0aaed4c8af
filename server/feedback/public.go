package feedback

import "github.com/fieldnotes/fieldnotes/server/disclosure"

// ProtectCount publishes a single count under pol as the audit trail's feedback counts
// are: nhs rounds it (1–7 hidden: nil), cell hides 1..min_cell−1. For counts that stand
// alone (feedback per language, views behind a decision), not cells of a table.
func ProtectCount(pol disclosure.Policy, n int) *int { return protectCount(pol, n) }
