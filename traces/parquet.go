package traces

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gavel-eval/gavel/internal/parquetio"
	"github.com/parquet-go/parquet-go"
)

// Record is one row of traces.parquet: a span and the run coordinates of
// its trace.
type Record struct {
	RunID        string
	Variant      string
	ExampleID    string
	ExampleIndex int64
	Epoch        int
	Span
}

// spanRow is the Parquet schema of traces.parquet. Column names are part of
// the stored-run contract: add columns freely, rename none.
type spanRow struct {
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
	Attributes string    `parquet:"attributes,json"` // JSON object
	// EndTime repeats End under a name that is no SQL keyword.
	EndTime time.Time `parquet:"end_time,timestamp(microsecond)"`
}

// Flush policy: a row group is cut after this many rows or bytes of text,
// whichever comes first, so memory stays bounded whatever the run size.
const (
	maxRowsPerGroup  = 8192
	maxBytesPerGroup = 32 << 20
)

// Writer streams spans into a traces.parquet file in row groups.
type Writer struct {
	pw      *parquet.GenericWriter[spanRow]
	rows    int
	bytes   int
	written int64
}

// NewWriter returns a Writer that writes zstd-compressed Parquet to w.
func NewWriter(w io.Writer) (*Writer, error) {
	cfg, err := parquetio.WriterConfig()
	if err != nil {
		return nil, fmt.Errorf("traces parquet writer: %w", err)
	}
	return &Writer{pw: parquet.NewGenericWriter[spanRow](w, cfg)}, nil
}

// Write appends the spans of one trace, with no example index (-1).
func (w *Writer) Write(runID, variant, exampleID string, epoch int, spans []Span) error {
	return w.WriteIndexed(runID, variant, exampleID, -1, epoch, spans)
}

// WriteIndexed appends the spans of one trace of the example at position
// exampleIndex in the dataset (the order in which a run's files are kept).
// Every string is stored as valid UTF-8: invalid bytes are replaced by
// U+FFFD and the span's "invalid_utf8" attribute lists the columns
// concerned. The spans passed are not modified.
func (w *Writer) WriteIndexed(runID, variant, exampleID string, exampleIndex int64, epoch int, spans []Span) error {
	rows := make([]spanRow, len(spans))
	for i, s := range spans {
		run, vr, ex := runID, variant, exampleID
		altered := validUTF8([]textColumn{
			{"run_id", &run}, {"trace_id", &s.TraceID}, {"span_id", &s.SpanID}, {"parent_id", &s.ParentID},
			{"variant", &vr}, {"example_id", &ex}, {"name", &s.Name}, {"kind", (*string)(&s.Kind)},
			{"status", (*string)(&s.Status)}, {"error", &s.Error}, {"input", &s.Input}, {"output", &s.Output},
		})
		if !validAttr(s.Attributes) {
			altered = append(altered, "attributes")
		}
		if len(altered) > 0 {
			a := make(map[string]any, len(s.Attributes)+1)
			for k, v := range s.Attributes {
				a[k] = v
			}
			a[InvalidUTF8Attr] = altered
			s.Attributes = a
		}
		attrs := encodeAttributes(s.Attributes)
		rows[i] = spanRow{
			RunID: run, TraceID: s.TraceID, SpanID: s.SpanID, ParentID: optional(s.ParentID),
			Variant: vr, ExampleID: ex, ExampleIdx: exampleIndex, Epoch: int32(epoch),
			Name: s.Name, Kind: string(s.Kind), Start: s.Start.UTC(), End: s.End.UTC(),
			DurationMS: float64(s.End.Sub(s.Start).Microseconds()) / 1000,
			Status:     string(s.Status), Error: optional(s.Error),
			Input: s.Input, Output: s.Output, Attributes: attrs, EndTime: s.End.UTC(),
		}
		w.bytes += len(s.Input) + len(s.Output) + len(attrs) + 64
	}
	if _, err := w.pw.Write(rows); err != nil {
		return fmt.Errorf("writing spans: %w", err)
	}
	w.rows += len(rows)
	w.written += int64(len(rows))
	if w.rows >= maxRowsPerGroup || w.bytes >= maxBytesPerGroup {
		if err := w.pw.Flush(); err != nil {
			return fmt.Errorf("flushing spans: %w", err)
		}
		w.rows, w.bytes = 0, 0
	}
	return nil
}

// Rows returns how many spans were written.
func (w *Writer) Rows() int64 { return w.written }

// Close flushes the last row group and writes the footer. It does not close
// the underlying io.Writer.
func (w *Writer) Close() error {
	if err := w.pw.Close(); err != nil {
		return fmt.Errorf("closing traces parquet: %w", err)
	}
	return nil
}

// InvalidUTF8Attr is the span attribute that lists the columns whose
// invalid UTF-8 bytes were replaced by U+FFFD when the span was written
// ("attributes" when a string inside the attributes held some).
const InvalidUTF8Attr = "invalid_utf8"

// textColumn is a string of a span and the column that stores it.
type textColumn struct {
	column string
	text   *string
}

// validUTF8 replaces the invalid UTF-8 bytes of each text by U+FFFD and
// returns the columns it changed. Valid text costs one check.
func validUTF8(cols []textColumn) []string {
	var altered []string
	for _, c := range cols {
		if !utf8.ValidString(*c.text) {
			*c.text = strings.ToValidUTF8(*c.text, "\uFFFD")
			altered = append(altered, c.column)
		}
	}
	return altered
}

// validAttr reports whether the strings in v (keys and values of maps,
// elements of lists) are valid UTF-8. Other values are encoded by
// encoding/json, which replaces invalid bytes itself.
func validAttr(v any) bool {
	switch x := v.(type) {
	case string:
		return utf8.ValidString(x)
	case []string:
		for _, s := range x {
			if !utf8.ValidString(s) {
				return false
			}
		}
	case []any:
		for _, e := range x {
			if !validAttr(e) {
				return false
			}
		}
	case map[string]any:
		for k, e := range x {
			if !utf8.ValidString(k) || !validAttr(e) {
				return false
			}
		}
	}
	return true
}

// encodeAttributes encodes a span's attributes as a JSON object. A value
// JSON cannot encode (a NaN or infinite float, a channel, a function, ...)
// is stored as its %v text, so that one bad attribute, which may come from a
// user's step or judge, never costs the trace or the run.
func encodeAttributes(attrs map[string]any) string {
	if len(attrs) == 0 {
		return "{}"
	}
	if b, err := json.Marshal(attrs); err == nil {
		return string(b)
	}
	safe := make(map[string]any, len(attrs))
	for k, v := range attrs {
		if _, err := json.Marshal(v); err != nil {
			safe[k] = fmt.Sprintf("%v", v)
		} else {
			safe[k] = v
		}
	}
	b, err := json.Marshal(safe)
	if err != nil { // cannot happen: every value now encodes
		return "{}"
	}
	return string(b)
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ReadFile streams the spans of a traces.parquet file to fn, in file order.
// fn returning an error stops the read and returns that error.
func ReadFile(path string, fn func(Record) error) error {
	return parquetio.Each(path, func(row spanRow) error {
		rec, err := recordOf(path, row)
		if err != nil {
			return err
		}
		return fn(rec)
	})
}

// SpanHead is a stored span without its texts (input, output, error):
// what tallies over a run's spans read. Attributes are kept as stored,
// JSON, and decoded by Attrs on demand.
type SpanHead struct {
	Variant  string  `parquet:"variant,dict"`
	TraceID  string  `parquet:"trace_id"`
	SpanID   string  `parquet:"span_id"`
	ParentID *string `parquet:"parent_id,optional"`
	Kind     Kind    `parquet:"kind,dict"`
	// RawAttributes is the attributes column: a JSON object.
	RawAttributes string `parquet:"attributes,json"`
}

// Parent returns the span's parent id, "" for a root span.
func (h *SpanHead) Parent() string { return deref(h.ParentID) }

// Attrs decodes the span's attributes.
func (h *SpanHead) Attrs() (map[string]any, error) {
	if h.RawAttributes == "" || h.RawAttributes == "{}" {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(h.RawAttributes), &m); err != nil {
		return nil, fmt.Errorf("span %s attributes: %w", h.SpanID, err)
	}
	return m, nil
}

// ReadHeads streams the head of each span of a traces.parquet file to fn,
// in file order, decoding only its columns.
func ReadHeads(path string, fn func(SpanHead) error) error {
	return parquetio.Each(path, fn)
}

// ReadTraceIDs streams the trace id of each span of a traces.parquet file
// to fn, in file order, decoding that column only.
func ReadTraceIDs(path string, fn func(traceID string) error) error {
	type traceIDRow struct {
		TraceID string `parquet:"trace_id"`
	}
	return parquetio.Each(path, func(row traceIDRow) error { return fn(row.TraceID) })
}

// ReadRows streams the spans in rows [offset, offset+n) of a traces.parquet
// file to fn, in file order: with an index of where each trace's rows are
// (row numbers count from 0 in ReadFile's order), one trace is read
// without decoding the whole file.
func ReadRows(path string, offset, n int64, fn func(Record) error) error {
	f, r, err := openSpans(path)
	if err != nil {
		return err
	}
	defer f.Close()
	defer r.Close()
	if err := r.SeekToRow(offset); err != nil {
		return fmt.Errorf("%s: row %d: %w", path, offset, err)
	}
	buf := make([]spanRow, min(n, 256))
	for n > 0 {
		k, err := r.Read(buf[:min(n, int64(len(buf)))])
		for _, row := range buf[:k] {
			rec, cerr := recordOf(path, row)
			if cerr != nil {
				return cerr
			}
			if ferr := fn(rec); ferr != nil {
				return ferr
			}
		}
		n -= int64(k)
		if errors.Is(err, io.EOF) || (err == nil && k == 0) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

// openSpans opens a traces.parquet file for reading; the caller closes
// both.
func openSpans(path string) (*os.File, *parquet.GenericReader[spanRow], error) {
	f, pf, err := parquetio.Open(path)
	if err != nil {
		return nil, nil, err
	}
	return f, parquet.NewGenericReader[spanRow](pf), nil
}

// recordOf converts a stored row.
func recordOf(path string, row spanRow) (Record, error) {
	rec := Record{RunID: row.RunID, Variant: row.Variant, ExampleID: row.ExampleID, ExampleIndex: row.ExampleIdx, Epoch: int(row.Epoch), Span: Span{
		TraceID: row.TraceID, SpanID: row.SpanID, ParentID: deref(row.ParentID), Name: row.Name,
		Kind: Kind(row.Kind), Start: row.Start, End: row.End, Status: Status(row.Status),
		Error: deref(row.Error), Input: row.Input, Output: row.Output,
	}}
	if row.Attributes != "" && row.Attributes != "{}" {
		if err := json.Unmarshal([]byte(row.Attributes), &rec.Attributes); err != nil {
			return rec, fmt.Errorf("%s: span %s attributes: %w", path, row.SpanID, err)
		}
	}
	return rec, nil
}
