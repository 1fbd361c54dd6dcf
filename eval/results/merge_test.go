package results_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/parquet-go/parquet-go"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/traces"
)

// spanRowV0 is traces.parquet as gavel wrote it before the end_time
// column was added beside end.
type spanRowV0 struct {
	RunID      string    `parquet:"run_id,dict"`
	TraceID    string    `parquet:"trace_id"`
	SpanID     string    `parquet:"span_id"`
	ParentID   *string   `parquet:"parent_id,optional"`
	Variant    string    `parquet:"variant,dict"`
	ExampleID  string    `parquet:"example_id"`
	ExampleIdx int64     `parquet:"example_index"`
	Epoch      int32     `parquet:"epoch"`
	Name       string    `parquet:"name,dict"`
	Kind       string    `parquet:"kind,dict"`
	Start      time.Time `parquet:"start,timestamp(microsecond)"`
	End        time.Time `parquet:"end,timestamp(microsecond)"`
	DurationMS float64   `parquet:"duration_ms"`
	Status     string    `parquet:"status,dict"`
	Error      *string   `parquet:"error,optional"`
	Input      string    `parquet:"input"`
	Output     string    `parquet:"output"`
	Attributes string    `parquet:"attributes,json"`
}

// arrowTimes reads the named timestamp columns of a Parquet file with
// Arrow's reader: span_id -> column -> time.
func arrowTimes(t *testing.T, path string, cols ...string) map[string]map[string]time.Time {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tbl, err := pqarrow.ReadTable(t.Context(), f, nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatalf("arrow: read %s: %v", path, err)
	}
	defer tbl.Release()
	index := func(name string) int {
		is := tbl.Schema().FieldIndices(name)
		if len(is) != 1 {
			t.Fatalf("%s: no column %s", path, name)
		}
		return is[0]
	}
	var ids []string
	for _, chunk := range tbl.Column(index("span_id")).Data().Chunks() {
		for k := 0; k < chunk.Len(); k++ {
			ids = append(ids, chunk.ValueStr(k))
		}
	}
	out := map[string]map[string]time.Time{}
	for _, id := range ids {
		out[id] = map[string]time.Time{}
	}
	for _, col := range cols {
		i := index(col)
		unit := tbl.Schema().Field(i).Type.(*arrow.TimestampType).Unit
		row := 0
		for _, chunk := range tbl.Column(i).Data().Chunks() {
			ts := chunk.(*array.Timestamp)
			for k := 0; k < ts.Len(); k++ {
				if !ts.IsNull(k) {
					out[ids[row]][col] = ts.Value(k).ToTime(unit).UTC()
				}
				row++
			}
		}
	}
	return out
}

// A traces part written before end_time existed, merged with a current
// one (on resume), keeps its spans' end in end_time: the column a newer
// gavel added repeats end, so it is filled from end, not left at zero.
func TestMergeFillsEndTimeOfOlderTraceParts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	old := filepath.Join(dir, "old.parquet")
	f, err := os.Create(old)
	if err != nil {
		t.Fatal(err)
	}
	ow := parquet.NewGenericWriter[spanRowV0](f)
	if _, err := ow.Write([]spanRowV0{
		{RunID: "run", TraceID: "t0", SpanID: "old-root", Variant: "v", ExampleID: "e0", ExampleIdx: 0, Name: "chain", Kind: "chain",
			Start: t0, End: t0.Add(1500 * time.Millisecond), DurationMS: 1500, Status: "ok", Attributes: "{}"},
		{RunID: "run", TraceID: "t0", SpanID: "old-llm", ParentID: results.Str("old-root"), Variant: "v", ExampleID: "e0", ExampleIdx: 0,
			Name: "solve", Kind: "llm", Start: t0.Add(time.Millisecond), End: t0.Add(1200 * time.Millisecond), DurationMS: 1199, Status: "ok", Attributes: "{}"},
		{RunID: "run", TraceID: "t2", SpanID: "old-late", Variant: "v", ExampleID: "e2", ExampleIdx: 2, Name: "chain", Kind: "chain",
			Start: t0.Add(time.Minute), End: t0.Add(time.Minute + 250*time.Millisecond), DurationMS: 250, Status: "ok", Attributes: "{}"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := ow.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	cur := filepath.Join(dir, "new.parquet")
	f, err = os.Create(cur)
	if err != nil {
		t.Fatal(err)
	}
	nw, err := traces.NewWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	t1 := t0.Add(30 * time.Second)
	if err := nw.WriteIndexed("run", "v", "e1", 1, 0, []traces.Span{{TraceID: "t1", SpanID: "new-root", Name: "chain", Kind: traces.KindChain,
		Start: t1, End: t1.Add(700 * time.Millisecond), Status: traces.StatusOK}}); err != nil {
		t.Fatal(err)
	}
	if err := nw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	wantEnd := map[string]time.Time{
		"old-root": t0.Add(1500 * time.Millisecond), "old-llm": t0.Add(1200 * time.Millisecond),
		"old-late": t0.Add(time.Minute + 250*time.Millisecond), "new-root": t1.Add(700 * time.Millisecond),
	}
	merges := map[string]func(string, []string) error{
		"MergeSorted": func(dst string, srcs []string) error { return results.MergeSorted(dst, srcs, nil) },
		"Concat":      results.Concat,
	}
	for _, order := range [][]string{{old, cur}, {cur, old}} {
		for name, merge := range merges {
			dst := filepath.Join(t.TempDir(), "traces.parquet")
			if err := merge(dst, order); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got := arrowTimes(t, dst, "end", "end_time")
			if len(got) != len(wantEnd) {
				t.Errorf("%s %s: %d spans, want %d", name, filepath.Base(order[0]), len(got), len(wantEnd))
			}
			for id, want := range wantEnd {
				if g := got[id]; !g["end"].Equal(want) || !g["end_time"].Equal(want) {
					t.Errorf("%s (%s first): span %s: end %v, end_time %v; want both %v", name, filepath.Base(order[0]), id, g["end"], g["end_time"], want)
				}
			}
			// The traces reader agrees, and the other columns survive.
			n := 0
			if err := traces.ReadFile(dst, func(r traces.Record) error {
				n++
				if !r.End.Equal(wantEnd[r.SpanID]) || r.Start.IsZero() || r.Name == "" {
					t.Errorf("%s: span %s read back as %+v", name, r.SpanID, r)
				}
				return nil
			}); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if n != len(wantEnd) {
				t.Errorf("%s: the traces reader read %d spans, want %d", name, n, len(wantEnd))
			}
		}
	}
}
