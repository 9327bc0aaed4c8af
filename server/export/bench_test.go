package export

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/fieldnotes/fieldnotes/schema"
	"github.com/fieldnotes/fieldnotes/server/reports"
	"github.com/fieldnotes/fieldnotes/syncengine"
)

// BenchmarkExportCSV200k streams the 200,000 conversations of the reports benchmark's
// 1M-op store (build it first: go test ./server/reports -bench Report1M) and reports the
// peak live heap above the warm index while streaming: flat in the number of rows.
func BenchmarkExportCSV200k(b *testing.B) {
	path := filepath.Join(os.TempDir(), "fieldnotes-reports-bench-v1", "replica.db")
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), "done")); err != nil {
		b.Skip("no 1M-op store: run go test ./server/reports -bench Report1M first")
	}
	st, err := syncengine.Open(path, syncengine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	e := &Exporter{Replica: st, Index: reports.NewIndex(st)}
	if err := e.Index.Refresh(ctx); err != nil {
		b.Fatal(err)
	}
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	for b.Loop() {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		w := &peakWriter{}
		rows, err := e.Export(ctx, w, Request{Collection: schema.Conversation, Format: CSV})
		if err != nil || rows != 200_000 {
			b.Fatalf("%d rows, %v", rows, err)
		}
		b.ReportMetric(float64(w.peak-min(w.peak, ms.HeapAlloc))/(1<<20), "peak-MiB-above-index")
		b.ReportMetric(float64(rows), "rows")
	}
}
