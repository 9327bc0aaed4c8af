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

func TestKeyInspectShred(t *testing.T) {
	if _, err := New(make([]byte, 16)); err != ErrKeySize {
		t.Fatalf("16-byte key: %v", err)
	}
	k, err := New(NewRandom())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "s.db")
	if st, _ := Inspect(path); st != Missing {
		t.Fatalf("missing file: %v", st)
	}
	db, err := k.OpenDB("file:" + path + "?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('ਸਤ ਸ੍ਰੀ ਅਕਾਲ')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if st, _ := Inspect(path); st != Encrypted {
		t.Fatalf("encrypted file: %v", st)
	}
	if err := k.Verify(path); err != nil {
		t.Fatalf("verify with the key: %v", err)
	}
	other, _ := New(NewRandom())
	defer other.Destroy()
	if err := other.Verify(path); err == nil {
		t.Fatal("another key opens the store")
	}
	k.Destroy()
	if !k.Destroyed() {
		t.Fatal("not destroyed")
	}
	if _, err := k.OpenDB("file:" + path); err != ErrDestroyed {
		t.Fatalf("open after destroy: %v", err)
	}
	if err := Shred(path); err != nil {
		t.Fatal(err)
	}
	if st, _ := Inspect(path); st != Missing {
		t.Fatal("shredded file still there")
	}
	if err := Shred(path); err != nil {
		t.Fatalf("shred a missing file: %v", err)
	}
}
