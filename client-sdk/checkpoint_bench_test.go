package sdk

import (
	"context"
	"sort"
	"testing"
	"time"
)

// BenchmarkCaptureCheckpoint captures on two plain stores side by side, alternating
// conversation by conversation so both see the same machine: the store as it is
// (checkpoints off the writer, syncengine.Tablet) and one with SQLite checkpointing on
// the writer (wal_autocheckpoint, as before). In line, one commit in every thousand WAL
// pages copies them back and fsyncs twice: the p99 tail.
//
//	go test ./client-sdk -run '^$' -bench CaptureCheckpoint -benchtime 2000x -count 3
func BenchmarkCaptureCheckpoint(b *testing.B) {
	bg := MustOpenDevice(b)
	inline := MustOpenDevice(b, func(o *options) { o.inlineCheckpoint = true })
	bgEng, inlineEng := mustEngagement(b, bg), mustEngagement(b, inline)
	bgLat, inlineLat := make([]time.Duration, 0, b.N), make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			bgLat = append(bgLat, captureOne(b, bg, bgEng))
			inlineLat = append(inlineLat, captureOne(b, inline, inlineEng))
		} else {
			inlineLat = append(inlineLat, captureOne(b, inline, inlineEng))
			bgLat = append(bgLat, captureOne(b, bg, bgEng))
		}
	}
	b.StopTimer()
	p := func(lat []time.Duration, q float64) float64 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(p(bgLat, 0.50), "p50-ms")
	b.ReportMetric(p(bgLat, 0.99), "p99-ms")
	b.ReportMetric(p(inlineLat, 0.50), "inline-p50-ms")
	b.ReportMetric(p(inlineLat, 0.99), "inline-p99-ms")
}

// captureOne records a consent and a 10-answer conversation, each step committed.
func captureOne(b *testing.B, d *Device, eng string) time.Duration {
	ctx := context.Background()
	start := time.Now()
	c, err := d.RecordConsent(ctx, ConsentInput{Engagement: eng, StatementLocale: "pa", Scopes: []string{"record_views", "quote"}, Method: "verbal", RecordedBy: "worker-1"})
	if err != nil {
		b.Fatal(err)
	}
	conv, err := d.StartConversation(ctx, ConversationInput{Consent: c.ID, Locales: []string{"pa"}})
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range []string{"p01", "p02", "p03", "p04", "p05", "p06", "p07", "p08", "p09", "p10"} {
		if err := d.Answer(ctx, conv, AnswerInput{PromptID: p, Text: "ਡਾਕਟਰ ਚੰਗੇ ਹਨ ਪਰ ਮੁਲਾਕਾਤ ਲੈਣਾ ਔਖਾ ਹੈ", PromptLocale: "pa", TranslationEN: "The doctors are good but getting an appointment is hard"}); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}
