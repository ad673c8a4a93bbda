package bolt_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/failoverdns/failoverdns/internal/store"
	"github.com/failoverdns/failoverdns/internal/store/bolt"
)

// benchValue is the size of a typical stored record set in JSON.
var benchValue = make([]byte, 200)

func openBench(b *testing.B) *bolt.Store {
	b.Helper()
	s, err := bolt.Open(filepath.Join(b.TempDir(), "store.db"), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkUpdate measures one small Put per commit: dominated by the fsyncs of each commit.
func BenchmarkUpdate(b *testing.B) {
	s := openBench(b)
	ctx := b.Context()
	i := 0
	for b.Loop() {
		key := fmt.Sprintf("bench/%08d", i)
		i++
		if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put(key, benchValue) }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateBatch1000 measures 1000 Puts in one commit.
func BenchmarkUpdateBatch1000(b *testing.B) {
	s := openBench(b)
	ctx := b.Context()
	i := 0
	for b.Loop() {
		if _, err := s.Update(ctx, func(tx store.Tx) error {
			for j := range 1000 {
				if err := tx.Put(fmt.Sprintf("bench/%08d/%04d", i, j), benchValue); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/key")
}

// BenchmarkScan measures a full Scan of 100k keys in one View.
func BenchmarkScan(b *testing.B) {
	const keys = 100_000
	s := openBench(b)
	ctx := b.Context()
	for i := 0; i < keys; i += 1000 {
		if _, err := s.Update(ctx, func(tx store.Tx) error {
			for j := i; j < i+1000; j++ {
				if err := tx.Put(fmt.Sprintf("zone/Z%03d/%08d", j%100, j), benchValue); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		n := 0
		err := s.View(ctx, func(r store.Reader) error {
			return r.Scan("zone/", func(string, []byte) error { n++; return nil })
		})
		if err != nil {
			b.Fatal(err)
		}
		if n != keys {
			b.Fatalf("scanned %d keys, want %d", n, keys)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*keys), "ns/key")
}
