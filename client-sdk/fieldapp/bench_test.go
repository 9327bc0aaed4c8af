package fieldapp

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	sdk "github.com/fieldnotes/fieldnotes/client-sdk"
)

// BenchmarkAnswerTap is one tap on Next with an answer: the POST through the CSRF check,
// the SDK's committed write, and the redirect; then the next prompt's page is rendered.
// Plain is the unencrypted store; Encrypted the store encrypted at rest (as on a tablet).
func BenchmarkAnswerTap(b *testing.B) {
	for _, c := range []struct {
		name string
		opts []sdk.Option
	}{{"Plain", nil}, {"Encrypted", []sdk.Option{sdk.WithStoreKey(bytes.Repeat([]byte{7}, 32))}}} {
		b.Run(c.name, func(b *testing.B) {
			ta := newTestApp(b, c.opts...)
			conv := ta.consent("ar", "record_views")
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r := ta.post("/conversations/"+conv+"/prompts/2", url.Values{"answer": {"الصيدلية قريبة " + strconv.Itoa(i)}}, "")
				if r.status != http.StatusSeeOther {
					b.Fatalf("answer: %d", r.status)
				}
				if p := ta.do("GET", "/conversations/"+conv+"/prompts/3", nil, "", nil); p.status != http.StatusOK {
					b.Fatalf("next prompt: %d", p.status)
				}
			}
		})
	}
}
