package traces_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"github.com/gavel-eval/gavel/traces"
)

// The stored spans read by Arrow's Parquet reader, an implementation
// independent of the writer's: every string is valid UTF-8, the altered
// span says so, attributes are typed JSON and end_time repeats end.
func TestWriterStoresValidUTF8(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "traces.parquet")
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)
	spans := []traces.Span{
		{TraceID: "t1", SpanID: "s1", Name: "ch\xffain", Kind: traces.KindChain, Start: t0, End: t0.Add(time.Millisecond),
			Status: traces.StatusError, Error: "exit: \xfe", Input: "in \xc3", Output: "out \xff\xfe",
			Attributes: map[string]any{"stderr": "x\xff", "nested": map[string]any{"list": []any{"ok", "b\xc0"}}}},
		{TraceID: "t1", SpanID: "s2", ParentID: "s1", Name: "solve", Kind: traces.KindLLM, Start: t0, End: t0.Add(2 * time.Millisecond),
			Status: traces.StatusOK, Input: "fine ✓", Output: `{"a":1}`, Attributes: map[string]any{"model": "m"}},
	}
	writeTraces(t, path, func(w *traces.Writer) {
		if err := w.WriteIndexed("run", "v\xff", "e1", 0, 0, spans); err != nil {
			t.Fatal(err)
		}
	})
	if spans[0].Output != "out \xff\xfe" {
		t.Errorf("the caller's span was modified: %q", spans[0].Output)
	}

	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	sc := pf.MetaData().Schema
	logical := map[string]schema.LogicalType{}
	for i := 0; i < sc.NumColumns(); i++ {
		logical[sc.Column(i).Name()] = sc.Column(i).LogicalType()
	}
	pf.Close()
	if _, ok := logical["attributes"].(schema.JSONLogicalType); !ok {
		t.Errorf("attributes: logical type %v, want JSON", logical["attributes"])
	}

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tbl, err := pqarrow.ReadTable(t.Context(), f, nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	times := map[string][]arrow.Timestamp{}
	for i, fld := range tbl.Schema().Fields() {
		for _, chunk := range tbl.Column(i).Data().Chunks() {
			for k := 0; k < chunk.Len(); k++ {
				if chunk.IsNull(k) {
					continue
				}
				var v string
				switch a := chunk.(type) {
				case *array.String:
					v = a.Value(k)
				case *array.Binary:
					v = string(a.Value(k))
				case *array.Timestamp:
					times[fld.Name] = append(times[fld.Name], a.Value(k))
					continue
				default:
					continue
				}
				if !utf8.ValidString(v) {
					t.Errorf("column %s row %d: invalid UTF-8 %q", fld.Name, k, v)
				}
			}
		}
	}
	if len(times["end_time"]) != len(spans) || !slices.Equal(times["end_time"], times["end"]) {
		t.Errorf("end_time %v, want end %v", times["end_time"], times["end"])
	}

	// A run of invalid bytes becomes one U+FFFD.
	got := readTraces(t, path)
	if got[0].Output != "out \uFFFD" || got[0].Name != "ch\uFFFDain" || got[0].Variant != "v\uFFFD" {
		t.Errorf("span read back as name %q, output %q, variant %q", got[0].Name, got[0].Output, got[0].Variant)
	}
	want := []any{"variant", "name", "error", "input", "output", "attributes"}
	if flagged, _ := got[0].Attributes["invalid_utf8"].([]any); !slices.Equal(flagged, want) {
		t.Errorf("invalid_utf8 attribute %v, want %v", got[0].Attributes["invalid_utf8"], want)
	}
	// The run coordinates are every span's: the second span is flagged
	// for them alone.
	if flagged, _ := got[1].Attributes["invalid_utf8"].([]any); !slices.Equal(flagged, []any{"variant"}) {
		t.Errorf("second span: invalid_utf8 attribute %v, want [variant]", got[1].Attributes["invalid_utf8"])
	}
	if got[1].Output != spans[1].Output || got[1].Input != spans[1].Input {
		t.Errorf("clean span changed: %+v", got[1].Span)
	}
}
