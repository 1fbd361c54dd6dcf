package datasets

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"testing"
)

func BenchmarkJSONL(b *testing.B) {
	const rows = 100_000
	path := filepath.Join(b.TempDir(), "bench.jsonl")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := range rows {
		fmt.Fprintf(w, `{"id":"q%d","question":"What is %d plus %d? Show your work.","answer":"%d","n":%d}`+"\n", i, i, i, 2*i, i)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(path)

	for _, id := range []string{"id", ""} {
		name := "id=field"
		if id == "" {
			name = "id=hash"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(st.Size())
			b.ReportAllocs()
			for b.Loop() {
				r, err := Open(Options{Path: path, ID: id})
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for {
					_, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				r.Close()
				if n != rows {
					b.Fatalf("read %d rows, want %d", n, rows)
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkDuplicateCheck reads N rows of distinct ids (1M and 10M) and
// reports the highest live heap seen (sampled every 100,000 rows, after a
// collection), which the duplicate-id check bounds: it must not grow with
// N beyond its table and one run.
func BenchmarkDuplicateCheck(b *testing.B) {
	for _, rows := range []int{1_000_000, 10_000_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "ids.jsonl")
			f, err := os.Create(path)
			if err != nil {
				b.Fatal(err)
			}
			w := bufio.NewWriter(f)
			for i := range rows {
				fmt.Fprintf(w, "{\"id\":\"r%d\"}\n", i)
			}
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
			if err := f.Close(); err != nil {
				b.Fatal(err)
			}
			sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
			var peak uint64
			for b.Loop() {
				r, err := Open(Options{Path: path, ID: "{{.id}}"})
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for {
					_, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					if n++; n%100_000 == 0 {
						runtime.GC()
						metrics.Read(sample)
						peak = max(peak, sample[0].Value.Uint64())
					}
				}
				r.Close()
				if n != rows {
					b.Fatalf("read %d rows, want %d", n, rows)
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-live-MiB")
		})
	}
}
