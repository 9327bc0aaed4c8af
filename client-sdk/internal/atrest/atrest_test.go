package atrest

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/fieldnotes/fieldnotes/syncengine"
	"github.com/ncruces/go-sqlite3/driver"
)

// BenchmarkCommit separates what encryption costs a commit from what the other driver
// does: one small transaction (a meta value) per op on the syncengine store over modernc,
// over ncruces without encryption, and over ncruces with the Adiantum VFS.
//
//	go test ./client-sdk/internal/atrest -run '^$' -bench Commit -count 3
func BenchmarkCommit(b *testing.B) {
	key, err := New(make([]byte, KeySize))
	if err != nil {
		b.Fatal(err)
	}
	defer key.Destroy()
	for _, v := range []struct {
		name string
		open func(string) (*sql.DB, error)
	}{
		{"modernc", nil},
		{"ncruces", func(dsn string) (*sql.DB, error) { return driver.Open(dsn) }},
		{"ncruces+adiantum", key.OpenDB},
	} {
		b.Run(v.name, func(b *testing.B) {
			s, err := syncengine.Open(filepath.Join(b.TempDir(), "s.db"), syncengine.Options{OpenDB: v.open})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			val := fmt.Sprintf("%0200d", 0)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t := time.Now()
				if err := s.SetMeta(ctx, map[string]string{fmt.Sprintf("k%d", i%50): val}); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1000, "p50-us")
		})
	}
}
