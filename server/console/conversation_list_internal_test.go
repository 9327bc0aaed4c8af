package console

import (
	"fmt"
	"math/rand"
	"sort"
	"testing"

	"github.com/fieldnotes/fieldnotes/server/reports"
)

// The page selection (a bounded heap from either end) gives exactly the rows a full sort
// would, for every page, with ties on time broken by id.
func TestTopKMatchesFullSort(t *testing.T) {
	rnd := rand.New(rand.NewSource(1))
	var all []hit
	for i := range 537 {
		all = append(all, hit{c: &reports.Conversation{ID: fmt.Sprintf("c%04d", i)}, at: int64(rnd.Intn(60))})
	}
	before := func(a, b hit) bool {
		if a.at != b.at {
			return a.at > b.at
		}
		return a.c.ID > b.c.ID
	}
	sorted := append([]hit(nil), all...)
	sort.Slice(sorted, func(i, j int) bool { return before(sorted[i], sorted[j]) })
	total, limit := len(all), 50
	for offset := 0; offset < total; offset += limit {
		backward := offset > 0 && offset+limit > total/2
		k, keep := offset+limit, before
		if backward {
			k, keep = total-offset, func(a, b hit) bool { return before(b, a) }
		}
		top := &topK{k: k, keep: keep}
		for _, h := range all {
			top.offer(h)
		}
		sel := top.h
		sort.Slice(sel, func(i, j int) bool { return before(sel[i], sel[j]) })
		if !backward {
			sel = sel[min(offset, len(sel)):]
		}
		if len(sel) > limit {
			sel = sel[:limit]
		}
		want := sorted[offset:min(offset+limit, total)]
		if len(sel) != len(want) {
			t.Fatalf("offset %d: %d rows, want %d", offset, len(sel), len(want))
		}
		for i := range want {
			if sel[i].c.ID != want[i].c.ID {
				t.Fatalf("offset %d row %d: %s, want %s", offset, i, sel[i].c.ID, want[i].c.ID)
			}
		}
	}
}
