package traces_test

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/traces"
)

func writeTraces(t *testing.T, path string, fn func(w *traces.Writer)) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := traces.NewWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	fn(w)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func readTraces(t *testing.T, path string) []traces.Record {
	t.Helper()
	var out []traces.Record
	if err := traces.ReadFile(path, func(r traces.Record) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestParquetRoundTrip(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC) // whole microseconds
	local := time.FixedZone("X", 3600)
	trace1 := []traces.Span{
		{TraceID: "t1", SpanID: "s1", Name: "chain", Kind: traces.KindChain, Start: t0, End: t0.Add(1500 * time.Microsecond),
			Status: traces.StatusOK, Input: `{"q":"ü 漢字"}`, Output: "out", Attributes: map[string]any{"variant": "v", "epoch": float64(0)}},
		{TraceID: "t1", SpanID: "s2", ParentID: "s1", Name: "solve", Kind: traces.KindLLM, Start: t0.In(local), End: t0.Add(time.Second).In(local),
			Status: traces.StatusError, Error: "model: HTTP 500", Input: "", Output: "",
			Attributes: map[string]any{"params": map[string]any{"temperature": 0.5}, "stop": []any{"a", "b"}, "ok": true}},
	}
	trace2 := []traces.Span{
		{TraceID: "t2", SpanID: "s3", Name: "judge", Kind: traces.KindJudge, Start: t0, End: t0, Status: traces.StatusOK},
	}
	path := filepath.Join(t.TempDir(), "traces.parquet")
	var rows int64
	writeTraces(t, path, func(w *traces.Writer) {
		if err := w.Write("run-1", "v", "e1", 0, trace1); err != nil {
			t.Fatal(err)
		}
		if err := w.Write("run-1", "v", "e1", 0, nil); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteIndexed("run-1", "w", "e2", 7, 3, trace2); err != nil {
			t.Fatal(err)
		}
		rows = w.Rows()
	})
	if rows != 3 {
		t.Errorf("Rows() = %d, want 3", rows)
	}
	got := readTraces(t, path)
	want := []traces.Record{
		{RunID: "run-1", Variant: "v", ExampleID: "e1", ExampleIndex: -1, Epoch: 0, Span: trace1[0]},
		{RunID: "run-1", Variant: "v", ExampleID: "e1", ExampleIndex: -1, Epoch: 0, Span: trace1[1]},
		{RunID: "run-1", Variant: "w", ExampleID: "e2", ExampleIndex: 7, Epoch: 3, Span: trace2[0]},
	}
	if len(got) != len(want) {
		t.Fatalf("read %d records, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if !g.Start.Equal(w.Start) || !g.End.Equal(w.End) {
			t.Errorf("record %d: times %v..%v, want %v..%v", i, g.Start, g.End, w.Start, w.End)
		}
		if g.Start.Location() != time.UTC {
			t.Errorf("record %d: start in %v, want UTC", i, g.Start.Location())
		}
		g.Start, g.End, w.Start, w.End = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

func TestParquetTimesTruncatedToMicroseconds(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)
	path := filepath.Join(t.TempDir(), "traces.parquet")
	writeTraces(t, path, func(w *traces.Writer) {
		if err := w.Write("r", "v", "e", 0, []traces.Span{{TraceID: "t", SpanID: "s", Name: "n", Kind: traces.KindTool,
			Start: t0, End: t0.Add(2 * time.Millisecond), Status: traces.StatusOK}}); err != nil {
			t.Fatal(err)
		}
	})
	got := readTraces(t, path)
	if len(got) != 1 {
		t.Fatalf("%d records", len(got))
	}
	if want := t0.Truncate(time.Microsecond); !got[0].Start.Equal(want) {
		t.Errorf("start %v, want %v", got[0].Start, want)
	}
	if d := got[0].Duration(); d != 2*time.Millisecond {
		t.Errorf("duration %v, want 2ms", d)
	}
}

func TestParquetManyRowGroups(t *testing.T) {
	t.Parallel()
	// More spans than one row group holds (8192).
	const n = 9000
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "traces.parquet")
	writeTraces(t, path, func(w *traces.Writer) {
		for i := 0; i < n; i += 100 {
			batch := make([]traces.Span, 100)
			for j := range batch {
				k := i + j
				batch[j] = traces.Span{TraceID: fmt.Sprint("t", i), SpanID: fmt.Sprint("s", k), Name: "n", Kind: traces.KindTool,
					Start: t0.Add(time.Duration(k) * time.Microsecond), End: t0.Add(time.Duration(k+1) * time.Microsecond), Status: traces.StatusOK}
			}
			if err := w.Write("r", "v", fmt.Sprint("e", i), 0, batch); err != nil {
				t.Fatal(err)
			}
		}
	})
	got := readTraces(t, path)
	if len(got) != n {
		t.Fatalf("read %d spans, want %d", len(got), n)
	}
	for k, r := range got {
		if r.SpanID != fmt.Sprint("s", k) || r.ExampleID != fmt.Sprint("e", k/100*100) {
			t.Fatalf("span %d: %s in %s, out of order", k, r.SpanID, r.ExampleID)
		}
	}
}

func TestReadRowsAcrossRowGroups(t *testing.T) {
	t.Parallel()
	const n = 9000 // more than one row group (8192)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "traces.parquet")
	writeTraces(t, path, func(w *traces.Writer) {
		for i := 0; i < n; i += 100 {
			batch := make([]traces.Span, 100)
			for j := range batch {
				k := i + j
				batch[j] = traces.Span{TraceID: fmt.Sprint("t", i), SpanID: fmt.Sprint("s", k), Name: "n", Kind: traces.KindTool,
					Start: t0, End: t0, Status: traces.StatusOK, Attributes: map[string]any{"k": k}}
			}
			if err := w.Write("r", "v", fmt.Sprint("e", i), 0, batch); err != nil {
				t.Fatal(err)
			}
		}
	})
	for _, tc := range []struct{ offset, n int64 }{{0, 1}, {0, 300}, {8150, 100}, {8192, 5}, {8999, 1}, {8990, 50}, {9000, 3}} {
		var got []string
		err := traces.ReadRows(path, tc.offset, tc.n, func(r traces.Record) error {
			got = append(got, r.SpanID)
			return nil
		})
		if err != nil {
			t.Fatalf("ReadRows(%d, %d): %v", tc.offset, tc.n, err)
		}
		want := min(tc.n, max(0, n-tc.offset))
		if int64(len(got)) != want {
			t.Fatalf("ReadRows(%d, %d): %d rows, want %d", tc.offset, tc.n, len(got), want)
		}
		for i, id := range got {
			if id != fmt.Sprint("s", tc.offset+int64(i)) {
				t.Fatalf("ReadRows(%d, %d): row %d is %s", tc.offset, tc.n, i, id)
			}
		}
	}
}

func TestReadFileStopsOnCallbackError(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "traces.parquet")
	writeTraces(t, path, func(w *traces.Writer) {
		spans := []traces.Span{{TraceID: "t", SpanID: "a"}, {TraceID: "t", SpanID: "b"}, {TraceID: "t", SpanID: "c"}}
		if err := w.Write("r", "v", "e", 0, spans); err != nil {
			t.Fatal(err)
		}
	})
	stop := errors.New("stop")
	calls := 0
	err := traces.ReadFile(path, func(traces.Record) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 2 {
		t.Errorf("ReadFile = %v after %d calls, want the callback's error after 2", err, calls)
	}
}

func TestReadFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := traces.ReadFile(filepath.Join(dir, "missing.parquet"), func(traces.Record) error { return nil }); err == nil {
		t.Error("no error for a missing file")
	}
	bad := filepath.Join(dir, "bad.parquet")
	if err := os.WriteFile(bad, []byte("not parquet at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := traces.ReadFile(bad, func(traces.Record) error { return nil }); err == nil {
		t.Error("no error for a file that is not Parquet")
	}
}

func TestWriteStoresUnencodableAttributesAsText(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "traces.parquet")
	writeTraces(t, path, func(w *traces.Writer) {
		err := w.Write("r", "v", "e", 0, []traces.Span{{TraceID: "t", SpanID: "s", Name: "bad",
			Attributes: map[string]any{"nan": math.NaN(), "inf": math.Inf(-1), "ch": make(chan int), "ok": "fine", "n": 2.5}}})
		if err != nil {
			t.Fatalf("Write: %v", err)
		}
	})
	got := readTraces(t, path)
	if len(got) != 1 {
		t.Fatalf("%d records", len(got))
	}
	a := got[0].Attributes
	if a["nan"] != "NaN" || a["inf"] != "-Inf" || a["ok"] != "fine" || a["n"] != 2.5 {
		t.Errorf("attributes %v", a)
	}
	if s, ok := a["ch"].(string); !ok || !strings.HasPrefix(s, "0x") {
		t.Errorf("channel attribute %#v, want its %%v text", a["ch"])
	}
}

// ReadHeads and ReadTraceIDs read, column by column, what ReadFile reads
// of each span.
func TestReadHeadsAndTraceIDsMatchReadFile(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "traces.parquet")
	writeTraces(t, path, func(w *traces.Writer) {
		for i := 0; i < 9000; i += 3 {
			spans := []traces.Span{
				{TraceID: fmt.Sprint("t", i), SpanID: fmt.Sprint("s", i), Name: "judge", Kind: traces.KindJudge, Start: t0, End: t0, Status: traces.StatusOK, Input: "a long input"},
				{TraceID: fmt.Sprint("t", i), SpanID: fmt.Sprint("s", i+1), ParentID: fmt.Sprint("s", i), Name: "llm", Kind: traces.KindLLM, Start: t0, End: t0,
					Status: traces.StatusOK, Output: "out", Attributes: map[string]any{"prompt_tokens": i, "cost_usd": 0.5}},
				{TraceID: fmt.Sprint("t", i), SpanID: fmt.Sprint("s", i+2), ParentID: fmt.Sprint("s", i), Name: "tool", Kind: traces.KindTool, Start: t0, End: t0, Status: traces.StatusError, Error: "boom"},
			}
			if err := w.Write("r", []string{"a", "b"}[i%2], fmt.Sprint("e", i), 0, spans); err != nil {
				t.Fatal(err)
			}
		}
	})
	want := readTraces(t, path)
	var heads []traces.SpanHead
	if err := traces.ReadHeads(path, func(h traces.SpanHead) error { heads = append(heads, h); return nil }); err != nil {
		t.Fatal(err)
	}
	var ids []string
	if err := traces.ReadTraceIDs(path, func(id string) error { ids = append(ids, id); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(heads) != len(want) || len(ids) != len(want) {
		t.Fatalf("%d heads, %d trace ids, want %d", len(heads), len(ids), len(want))
	}
	for i, r := range want {
		h := heads[i]
		attrs, err := h.Attrs()
		if err != nil {
			t.Fatal(err)
		}
		if h.Variant != r.Variant || h.TraceID != r.TraceID || h.SpanID != r.SpanID || h.Parent() != r.ParentID || h.Kind != r.Kind ||
			ids[i] != r.TraceID || fmt.Sprint(attrs) != fmt.Sprint(r.Attributes) {
			t.Fatalf("span %d: head %+v (attrs %v), id %s; ReadFile read %+v", i, h, attrs, ids[i], r)
		}
	}
}
