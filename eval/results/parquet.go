package results

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"unsafe"

	"github.com/gavel-eval/gavel/internal/parquetio"
	"github.com/parquet-go/parquet-go"
)

// Row-group policy: a row group is cut after this many rows or this many
// bytes of text, whichever comes first, so a writer's memory stays bounded
// whatever the size of the run.
const (
	maxRowsPerGroup  = 8192
	maxBytesPerGroup = 32 << 20
)

// Writer streams rows of type T (Result or Score) to a zstd-compressed
// Parquet file, cutting row groups as it goes. Every string it writes is
// valid UTF-8: invalid bytes are replaced by U+FFFD and the row's details
// list the columns concerned (see InvalidUTF8Key). Columns that always hold
// JSON are stored with Parquet's JSON logical type (their `json` tag).
//
// The schema is T's own, so parquet-go writes a batch of rows column by
// column straight from the structs, without making a row of values first.
type Writer[T any] struct {
	pw      flusher
	write   func([]T) error // sanitizes copies of the rows and writes them
	fix     *sanitizer
	size    func(*T) int
	rows    int
	bytes   int
	written int64
}

// flusher is the part of a parquet-go writer that Writer drives directly.
type flusher interface {
	Flush() error
	Close() error
}

// newWriter returns a Writer of T that hands rows to parquet-go as S (T's
// stored form, with the same schema), converted by store.
//
// jsonNulls returns the mask of S's optional JSON columns that hold a
// value: a batch is handed to parquet-go in parts, cut before any row
// with a null in a column that an earlier row of the part has a value in,
// which parquet-go would write as an empty value (see storedResult).
func newWriter[T, S any](w io.Writer, size func(*T) int, store func(*S, *T), jsonNulls func(*S) uint8) (*Writer[T], error) {
	schema := parquet.SchemaOf(new(T))
	if !parquet.EqualNodes(schema, parquet.SchemaOf(new(S))) {
		return nil, fmt.Errorf("parquet writer: %T and %T have different schemas", *new(T), *new(S))
	}
	cfg, err := parquetio.WriterConfig(schema)
	if err != nil {
		return nil, fmt.Errorf("parquet writer: %w", err)
	}
	pw := parquet.NewGenericWriter[S](w, cfg)
	wr := &Writer[T]{pw: pw, fix: newSanitizer[T](), size: size}
	var batch []S // the stored form of one call's rows, reused
	wr.write = func(rows []T) error {
		batch = slices.Grow(batch[:0], len(rows))[:len(rows)]
		for i := range rows {
			row := rows[i] // a copy: sanitizing never changes the caller's row
			if !wr.fix.valid(unsafe.Pointer(&row)) {
				wr.fix.fix(reflect.ValueOf(&row).Elem())
			}
			wr.bytes += size(&row)
			store(&batch[i], &row)
		}
		// The writer copies the values out of the batch.
		var err error
		start, seen := 0, uint8(0)
		for i := range batch {
			m := jsonNulls(&batch[i])
			if seen&^m != 0 {
				if _, err = pw.Write(batch[start:i]); err != nil {
					break
				}
				start, seen = i, 0
			}
			seen |= m
		}
		if err == nil {
			_, err = pw.Write(batch[start:])
		}
		clear(batch) // drop the strings the batch points to
		return err
	}
	return wr, nil
}

// NewResultWriter returns a Writer of results.parquet rows (a stored file
// or a running run's chunk: they are written alike).
func NewResultWriter(w io.Writer) (*Writer[Result], error) {
	return newWriter(w, func(r *Result) int { return len(r.Input) + len(r.Output) + len(r.Steps) + 128 }, storeResult, resultJSONs)
}

// NewScoreWriter returns a Writer of scores.parquet rows.
func NewScoreWriter(w io.Writer) (*Writer[Score], error) {
	return newWriter(w, func(s *Score) int { return len(Deref(s.Reason)) + len(Deref(s.Error)) + 96 }, storeScore, scoreJSONs)
}

// Write appends rows. The rows passed are not modified.
func (w *Writer[T]) Write(rows ...T) error {
	if len(rows) == 0 {
		return nil
	}
	if err := w.write(rows); err != nil {
		return fmt.Errorf("writing rows: %w", err)
	}
	w.rows += len(rows)
	w.written += int64(len(rows))
	if w.rows >= maxRowsPerGroup || w.bytes >= maxBytesPerGroup {
		if err := w.pw.Flush(); err != nil {
			return fmt.Errorf("flushing row group: %w", err)
		}
		w.rows, w.bytes = 0, 0
	}
	return nil
}

// Rows returns how many rows were written.
func (w *Writer[T]) Rows() int64 { return w.written }

// Close flushes the last row group and writes the footer. It does not close
// the underlying io.Writer.
func (w *Writer[T]) Close() error {
	if err := w.pw.Close(); err != nil {
		return fmt.Errorf("closing parquet writer: %w", err)
	}
	return nil
}

// ReadResults streams the rows of a results.parquet file to fn in file order.
func ReadResults(path string, fn func(Result) error) error {
	return readFile(path, fn)
}

// ReadScores streams the rows of a scores.parquet file to fn in file order.
func ReadScores(path string, fn func(Score) error) error {
	return readFile(path, fn)
}

// ResultFigures is the part of a results.parquet row that summaries and
// totals count: no texts. ReadResultFigures decodes only its columns,
// several times faster than reading whole rows.
type ResultFigures struct {
	Variant          string   `parquet:"variant,dict"`
	ExampleID        string   `parquet:"example_id"`
	ExampleIndex     int64    `parquet:"example_index"`
	Epoch            int32    `parquet:"epoch"`
	Status           Status   `parquet:"status,dict"`
	LatencyMS        float64  `parquet:"latency_ms"`
	PromptTokens     int64    `parquet:"prompt_tokens"`
	CompletionTokens int64    `parquet:"completion_tokens"`
	CostUSD          *float64 `parquet:"cost_usd,optional"`
	Cached           bool     `parquet:"cached"`
	CachedCostUSD    float64  `parquet:"cached_cost_usd"`
}

// ReadResultFigures streams the figures of each row of a results.parquet
// file to fn in file order.
func ReadResultFigures(path string, fn func(ResultFigures) error) error {
	return readFile(path, fn)
}

// ScoreFigures is the part of a scores.parquet row that summaries and
// totals count: the verdict without its texts (reason, error, details).
// ReadScoreFigures decodes only its columns.
type ScoreFigures struct {
	Variant      string      `parquet:"variant,dict"`
	Epoch        int32       `parquet:"epoch"`
	Judge        string      `parquet:"judge,dict"`
	JudgeType    string      `parquet:"judge_type,dict"`
	Status       ScoreStatus `parquet:"status,dict"`
	Score        *float64    `parquet:"score,optional"`
	Pass         *bool       `parquet:"pass,optional"`
	Label        *string     `parquet:"label,optional"`
	OtherVariant *string     `parquet:"other_variant,optional"`
}

// ReadScoreFigures streams the figures of each row of a scores.parquet
// file to fn in file order.
func ReadScoreFigures(path string, fn func(ScoreFigures) error) error {
	return readFile(path, fn)
}

// CountScores returns how many rows a scores.parquet file has and how many
// of them are judge errors, reading the status column alone, page by page.
func CountScores(path string) (rows, judgeErrors int64, err error) {
	f, pf, err := parquetio.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	col, ok := pf.Schema().Lookup("status")
	if !ok {
		return 0, 0, fmt.Errorf("%s: no status column", path)
	}
	buf := make([]parquet.Value, 1024)
	for _, rg := range pf.RowGroups() {
		pages := rg.ColumnChunks()[col.ColumnIndex].Pages()
		for {
			page, err := pages.ReadPage()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				pages.Close()
				return 0, 0, fmt.Errorf("%s: %w", path, err)
			}
			values := page.Values()
			for {
				n, err := values.ReadValues(buf)
				for _, v := range buf[:n] {
					rows++
					if string(v.ByteArray()) == string(ScoreJudgeError) {
						judgeErrors++
					}
				}
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					parquet.Release(page)
					pages.Close()
					return 0, 0, fmt.Errorf("%s: %w", path, err)
				}
			}
			parquet.Release(page)
		}
		pages.Close()
	}
	return rows, judgeErrors, nil
}

// readFile reads the rows of path as T through T's schema (the one the
// writer stores), so files written that way are read without a per-row
// conversion; older files are converted.
func readFile[T any](path string, fn func(T) error) error {
	return parquetio.Each(path, fn, parquet.SchemaOf(new(T)))
}

// Concat writes the rows of the Parquet files srcs, in order, into a new
// zstd-compressed Parquet file at dst, one row group at a time. All sources
// must share one schema (they are parts of the same table). dst is written
// to a temporary file and renamed into place, so it is either absent or
// complete. Sources written with an older schema (fewer columns) are
// converted to the widest, as in MergeSorted.
func Concat(dst string, srcs []string) error {
	if len(srcs) == 0 {
		return fmt.Errorf("concat %s: no source files", dst)
	}
	schemas := make([]*parquet.Schema, 0, len(srcs))
	for _, src := range srcs {
		f, pf, err := parquetio.Open(src)
		if err != nil {
			return err
		}
		f.Close() // only the schema is used: it is in memory
		schemas = append(schemas, pf.Schema())
	}
	schema := targetSchema(schemas)
	err := writeAtomically(dst, schema, func(w *parquet.GenericWriter[any]) error {
		for _, src := range srcs {
			if err := appendFile(w, src, schema); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("concat %s: %w", dst, err)
	}
	return nil
}

func appendFile(w *parquet.GenericWriter[any], src string, schema *parquet.Schema) error {
	f, pf, err := parquetio.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	groups, err := conform(pf, schema)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	for _, rg := range groups {
		if _, err := w.WriteRowGroup(rg); err != nil {
			return fmt.Errorf("%s: %w", src, err)
		}
	}
	return nil
}

// writeAtomically writes a zstd-compressed Parquet file of schema at dst:
// fn writes the rows, then the file is closed, fsynced and renamed into
// place, so dst is either absent (or as before) or complete.
func writeAtomically(dst string, schema *parquet.Schema, fn func(*parquet.GenericWriter[any]) error) (err error) {
	tmp := dst + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			out.Close()
			os.Remove(tmp)
		}
	}()
	cfg, err := parquetio.WriterConfig(parquetio.Recompressed(schema))
	if err != nil {
		return err
	}
	w := parquet.NewGenericWriter[any](out, cfg)
	if err := fn(w); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return commitTmp(out, tmp, dst)
}

// Reader reads rows of type T from a Parquet file one at a time, for
// merging several files in step.
type Reader[T any] struct {
	f   *os.File
	r   *parquet.GenericReader[T]
	buf []T
	pos int
	n   int
	err error
}

// OpenResults opens a results.parquet file (or part) for reading row by row.
func OpenResults(path string) (*Reader[Result], error) { return openReader[Result](path) }

func openReader[T any](path string) (*Reader[T], error) {
	f, pf, err := parquetio.Open(path)
	if err != nil {
		return nil, err
	}
	return &Reader[T]{f: f, r: parquet.NewGenericReader[T](pf), buf: make([]T, 256)}, nil
}

// Next returns the next row, or io.EOF after the last.
func (r *Reader[T]) Next() (T, error) {
	var zero T
	for r.pos >= r.n {
		if r.err != nil {
			return zero, r.err
		}
		r.n, r.err = r.r.Read(r.buf)
		r.pos = 0
		if r.n == 0 && r.err == nil {
			r.err = io.EOF
		}
	}
	row := r.buf[r.pos]
	r.pos++
	return row, nil
}

// Close releases the file.
func (r *Reader[T]) Close() error {
	r.r.Close()
	return r.f.Close()
}

// commitTmp makes the temporary file out (at tmp) durable and renames it
// to dst.
func commitTmp(out *os.File, tmp, dst string) error {
	if err := out.Sync(); err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// WriteRun writes a whole run directory from rows held in memory: the
// manifest m, results.parquet with rs and scores.parquet with ss, each
// file complete when it returns. It is for tools and tests that make a
// stored run without the runner (which streams its rows instead).
func WriteRun(dir string, m *Manifest, rs []Result, ss []Score) error {
	if err := WriteManifest(dir, m); err != nil {
		return err
	}
	if err := writeRows(filepath.Join(dir, ResultsFile), NewResultWriter, rs); err != nil {
		return err
	}
	return writeRows(filepath.Join(dir, ScoresFile), NewScoreWriter, ss)
}

// writeRows writes rows to a new Parquet file at path.
func writeRows[T any](path string, open func(io.Writer) (*Writer[T], error), rows []T) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w, err := open(f)
	if err == nil {
		err = w.Write(rows...)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
