package results_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// TestMergeSortedOrder merges many sources, in order and overlapping,
// with ties, empty sources and a keep filter, and checks the rows against
// a stable sort of all of them by (example_index, epoch), equal keys in
// the order of their sources.
func TestMergeSortedOrder(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sources int
		overlap bool
		rows    int  // at most, per source
		all     bool // keep every row (a nil keep)
	}{
		{"chunks in order", 300, false, 12, false},
		{"overlapping chunks", 40, true, 12, false},
		{"one source", 1, false, 12, false},
		{"large chunks in order, every row kept", 6, false, 3000, true},
		{"large overlapping chunks, every row kept", 4, true, 3000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, uint64(tc.sources)))
			dir := t.TempDir()
			type row struct {
				key results.RowKey
				src int
				id  string
			}
			var all []row
			var srcs []string
			next := int64(0)
			for s := 0; s < tc.sources; s++ {
				n := r.IntN(tc.rows) // some sources are empty
				var rows []results.Result
				var keys []results.RowKey
				for i := 0; i < n; i++ {
					var k results.RowKey
					if tc.overlap {
						k = results.RowKey{ExampleIndex: r.Int64N(int64(5 * tc.rows)), Epoch: int32(r.IntN(2))}
					} else {
						// In order, with a key now and then repeated at a
						// chunk boundary (the next epoch of an example).
						k = results.RowKey{ExampleIndex: next / 2, Epoch: int32(next % 2)}
						if tc.all {
							// One epoch: the sources' ranges do not touch,
							// and their row groups are copied.
							k = results.RowKey{ExampleIndex: next}
						}
						next++
					}
					keys = append(keys, k)
				}
				sort.Slice(keys, func(a, b int) bool {
					if keys[a].ExampleIndex != keys[b].ExampleIndex {
						return keys[a].ExampleIndex < keys[b].ExampleIndex
					}
					return keys[a].Epoch < keys[b].Epoch
				})
				for i, k := range keys {
					id := fmt.Sprintf("s%d-%d", s, i)
					rows = append(rows, results.Result{RunID: "r", Variant: "v", ExampleID: id, ExampleIndex: k.ExampleIndex, Epoch: k.Epoch, Status: results.StatusOK})
					all = append(all, row{k, s, id})
				}
				path := filepath.Join(dir, fmt.Sprintf("c%04d.parquet", s))
				writeResults(t, path, rows, 64)
				srcs = append(srcs, path)
			}
			// Drop a result of every source whose index is a multiple of 3
			// when the key's example index is odd.
			keep := func(src int, k results.RowKey) bool { return src%3 != 0 || k.ExampleIndex%2 == 0 }
			if tc.all {
				keep = nil
			}
			sort.SliceStable(all, func(a, b int) bool {
				ka, kb := all[a].key, all[b].key
				if ka != kb {
					if ka.ExampleIndex != kb.ExampleIndex {
						return ka.ExampleIndex < kb.ExampleIndex
					}
					return ka.Epoch < kb.Epoch
				}
				return all[a].src < all[b].src
			})
			var want []string
			for _, x := range all {
				if keep == nil || keep(x.src, x.key) {
					want = append(want, x.id)
				}
			}
			dst := filepath.Join(dir, "merged.parquet")
			if err := results.MergeSorted(dst, srcs, keep); err != nil {
				t.Fatal(err)
			}
			var got []string
			if err := results.ReadResults(dst, func(r results.Result) error {
				got = append(got, r.ExampleID)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("merged %d rows, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("row %d is %s, want %s (got %v)", i, got[i], want[i], got[max(0, i-3):min(len(got), i+3)])
				}
			}
		})
	}
}

// BenchmarkMergeSorted merges the chunks of a variant of 200,000 results
// as a run's end does: 256 a chunk (merged row by row) and 4,096 a chunk
// (copied row group by row group).
func BenchmarkMergeSorted(b *testing.B) {
	for _, per := range []int{256, 4096} {
		b.Run(fmt.Sprintf("chunk=%d", per), func(b *testing.B) { benchmarkMerge(b, per) })
	}
}

func benchmarkMerge(b *testing.B, per int) {
	dir := b.TempDir()
	const total = 200_000
	var srcs []string
	for c := 0; c*per < total; c++ {
		rows := make([]results.Result, 0, per)
		for i := c * per; i < min(total, (c+1)*per); i++ {
			rows = append(rows, results.Result{RunID: "r", Variant: "v", ExampleID: fmt.Sprintf("e%07d", i), ExampleIndex: int64(i), Status: results.StatusOK, Output: "an output of some forty characters long"})
		}
		path := filepath.Join(dir, fmt.Sprintf("c%06d.parquet", c))
		writeResults(b, path, rows, 64)
		srcs = append(srcs, path)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := results.MergeSorted(filepath.Join(dir, "merged.parquet"), srcs, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(total)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// TestMergedFilesAreStored: rows merged from chunks of an older build
// (Snappy) are written compressed as stored files are (zstd), every
// column; chunks written now (zstd) are copied page for page.
func TestMergedFilesAreStored(t *testing.T) {
	dir := t.TempDir()
	rows := make([]results.Result, 3000)
	for i := range rows {
		rows[i] = results.Result{RunID: "r", Variant: "v", ExampleID: fmt.Sprint(i), ExampleIndex: int64(i), Output: "x", Status: results.StatusOK}
	}
	// Enough rows that the merge copies the chunk's row groups rather
	// than merging it row by row.
	chunk := filepath.Join(dir, "chunk.parquet")
	f, err := os.Create(chunk)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[results.Result](f, parquet.Compression(&parquet.Snappy))
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	current := filepath.Join(dir, "current.parquet")
	writeResults(t, current, rows, 1000)
	// chunks returns the metadata of every column chunk of the file.
	chunks := func(path string) []format.ColumnMetaData {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		st, _ := f.Stat()
		pf, err := parquet.OpenFile(f, st.Size())
		if err != nil {
			t.Fatal(err)
		}
		var out []format.ColumnMetaData
		for _, rg := range pf.Metadata().RowGroups {
			for _, c := range rg.Columns {
				out = append(out, c.MetaData)
			}
		}
		return out
	}
	sizes := func(path string) []int64 {
		var out []int64
		for _, c := range chunks(path) {
			out = append(out, c.TotalCompressedSize)
		}
		return out
	}
	copied := filepath.Join(dir, "copied.parquet")
	if err := results.Concat(copied, []string{current}); err != nil {
		t.Fatal(err)
	}
	if got, want := sizes(copied), sizes(current); !slices.Equal(got, want) {
		t.Errorf("column chunk sizes of a merged zstd chunk %v, want the chunk's %v", got, want)
	}
	codecs := func(path string) map[string]bool {
		out := map[string]bool{}
		for _, c := range chunks(path) {
			out[c.Codec.String()] = true
		}
		return out
	}
	if got := codecs(chunk); !got["SNAPPY"] || len(got) != 1 {
		t.Fatalf("older chunk codecs %v, want SNAPPY only", got)
	}
	for name, merge := range map[string]func(string, []string) error{
		"MergeSorted": func(dst string, srcs []string) error { return results.MergeSorted(dst, srcs, nil) },
		"Concat":      results.Concat,
	} {
		dst := filepath.Join(dir, name+".parquet")
		if err := merge(dst, []string{chunk}); err != nil {
			t.Fatal(err)
		}
		if got := codecs(dst); !got["ZSTD"] || len(got) != 1 {
			t.Errorf("%s: stored file codecs %v, want ZSTD only", name, got)
		}
		n := 0
		if err := results.ReadResults(dst, func(r results.Result) error {
			if r.ExampleID != fmt.Sprint(n) {
				t.Fatalf("%s: row %d is %s", name, n, r.ExampleID)
			}
			n++
			return nil
		}); err != nil || n != 3000 {
			t.Errorf("%s: read %d rows (%v), want 3000", name, n, err)
		}
	}
}
