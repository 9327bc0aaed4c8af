package feedback

import (
	"strings"
	"testing"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/reports/reportstest"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

// TestFeedbackLinksPublicPage: with a public address set, a message about a published
// engagement links to its "You said, we did" page in the person's language; about an
// unpublished one, or with no address, it does not.
func TestFeedbackLinksPublicPage(t *testing.T) {
	f, s := setup(t)
	s.PublicURL = "https://fieldnotes.example.org/"
	// Welsh speakers 80–83 and Syrians 89, 91 met at the engagements their persons name.
	welsh, arabic := convsOf(f, 80, 83), convsOf(f, 91, 94)
	published := f.Person(80).Engagement
	if f.Person(83).Engagement != published || f.Person(91).Engagement == published || f.Person(94).Engagement == published {
		t.Fatal("fixture: the groups are not at the engagements this test needs")
	}
	if _, _, err := f.Store.WriteAs(ctx, reportstest.Node, []syncengine.Change{{Collection: schema.Engagement, Record: published,
		Kind: schema.KindSet, Field: "published", Value: true}}, syncengine.ApplyOptions{Hub: true}); err != nil {
		t.Fatal(err)
	}
	link := "https://fieldnotes.example.org/public/engagements/" + published + "?lang=cy"
	for _, c := range []struct {
		convs []string
		want  bool
	}{{welsh, true}, {arabic, false}} {
		dec := decide(t, s, c.convs)
		if _, err := s.QueueFeedback(ctx, north, dec); err != nil {
			t.Fatal(err)
		}
		items, _ := s.List(ctx, north.Teams, "queued")
		n := 0
		for _, it := range items {
			if it.Decision != dec {
				continue
			}
			n++
			has := strings.Contains(it.Message, "/public/engagements/")
			if has != c.want || (c.want && (!strings.Contains(it.Message, link) || it.Fallback)) {
				t.Errorf("link %v, want %v (fallback %v):\n%s", has, c.want, it.Fallback, it.Message)
			}
		}
		if n == 0 {
			t.Fatal("nothing queued")
		}
	}
	s.PublicURL = ""
	dec := decide(t, s, convsOf(f, 85, 86))
	s.QueueFeedback(ctx, north, dec)
	items, _ := s.List(ctx, north.Teams, "queued")
	for _, it := range items {
		if it.Decision == dec && strings.Contains(it.Message, "/public/") {
			t.Errorf("linked without a public address:\n%s", it.Message)
		}
	}
}
