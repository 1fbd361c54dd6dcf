package datasets

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/gavel-eval/gavel/internal/canonjson"
)

// Supported formats, as accepted in [Options.Format] and reported in [Info.Format].
const (
	FormatJSONL   = "jsonl"
	FormatCSV     = "csv"
	FormatParquet = "parquet"
)

// DefaultMaxLineBytes is the longest JSONL line (in bytes, without its line
// ending) that a [Reader] accepts; a longer line is a [ParseError].
const DefaultMaxLineBytes = 64 << 20

// Example is one dataset row.
type Example struct {
	// ID is the example's stable id, unique within the file.
	ID string
	// Index is the 0-based position among the examples this Reader yields.
	Index int
	// Line is the 1-based line number in the file: the JSONL line, the line
	// on which a CSV record starts (the header is line 1), or the 1-based
	// Parquet row number.
	Line int
	// Fields holds the row's fields. JSONL values are decoded JSON values with
	// numbers as [json.Number] (so "1000000" renders as written); CSV values
	// are strings; Parquet values are JSON-like Go values: string, int64,
	// float64, bool, nil, []any and map[string]any.
	Fields map[string]any
}

// Options says which file to read and how.
type Options struct {
	// Path is the dataset file.
	Path string
	// Format is "jsonl", "csv" or "parquet". Empty means by extension:
	// .jsonl and .ndjson are JSONL, .csv is CSV, .parquet is Parquet.
	Format string
	// ID says how an example's id is made. Empty means a content hash of the
	// fields (see [ContentID]); a bare field name such as "id" uses that
	// field's value; anything containing "{{" is a text/template such as
	// "{{.source}}-{{.n}}" executed over the fields with missingkey=error.
	// A missing field, a null or non-scalar id field, a null field rendered
	// by the template and an empty id are errors naming the file and line.
	ID string
	// Limit keeps only the first Limit examples (after sampling); 0 means all.
	Limit int
	// Sample, when positive, chooses Sample examples deterministically from
	// the whole file (see [Reader]); 0 means no sampling.
	Sample int
	// Seed seeds the Sample selection.
	Seed int64
	// StrictUTF8 makes a string that is not valid UTF-8 a [ParseError]
	// naming the file, the line and the field: a CSV field or header name,
	// a JSONL string (key or value, at any depth) or a Parquet string
	// value (at any depth). Without it values are kept as the format gives
	// them: CSV fields and Parquet strings byte for byte, JSONL strings with
	// each invalid byte replaced by U+FFFD (as JSON decoding does); Parquet
	// binary values are strings when valid UTF-8 and base64 otherwise,
	// whatever this option.
	StrictUTF8 bool
	// KnownUnique says that the file's ids were found unique by an
	// earlier pass of a Reader with the same options (a runner's
	// validation pass, say): this Reader keeps no set of ids and does not
	// check them again, so its memory does not grow with the file. The
	// caller makes sure the file has not changed since (see [Fingerprint]).
	KnownUnique bool
}

// Info summarises a dataset file as [Scan] found it.
type Info struct {
	// Count is the number of examples Open/Next would yield with the same Options.
	Count int
	// Fingerprint is "sha256:<hex>" of the file's bytes (see [Fingerprint]).
	Fingerprint string
	// Format is the resolved format: "jsonl", "csv" or "parquet".
	Format string
}

// ParseError reports a bad row (or a bad file) at a line of a dataset.
type ParseError struct {
	// Path is the dataset file as given in [Options.Path].
	Path string
	// Line is the 1-based line (or Parquet row) number; 0 when the error has no line.
	Line int
	// Err is the underlying error.
	Err error
}

// Error returns "dataset PATH line N: MSG", or "dataset PATH: MSG" when there is no line.
func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("dataset %s line %d: %v", e.Path, e.Line, e.Err)
	}
	return fmt.Sprintf("dataset %s: %v", e.Path, e.Err)
}

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }

// row is one raw row produced by a format-specific source.
type row struct {
	line   int
	fields map[string]any
}

// source reads the raw rows of one file in file order. next returns io.EOF
// at the end and a *ParseError for a bad row.
type source interface {
	next() (row, error)
	close() error
}

// config holds internal knobs that are not part of Options.
type config struct {
	maxLineBytes int // JSONL line limit
	batchSize    int // Parquet record batch size
}

func defaultConfig() config {
	return config{maxLineBytes: DefaultMaxLineBytes, batchSize: 1024}
}

// Reader yields the examples of a dataset file one at a time. It is not safe
// for concurrent use.
//
// Without sampling, a Reader makes a single pass over the file. With
// [Options.Sample] it makes two: the first pass validates every row, ranks
// every example by SHA-256 of the seed (8 bytes, big-endian) followed by the
// id, and keeps the ids of the Sample smallest ranks in a bounded heap; the
// second pass yields the chosen examples in file order. The selection thus
// depends only on the seed and the ids, not on the order of the rows, and an
// example stays chosen when rows are added unless a new row outranks it.
//
// Ids seen so far are kept to detect duplicates, as a 64-bit fingerprint
// and a line each, in memory up to 786,432 ids and in sorted runs in a
// temporary file beyond that (see idSet), so memory stays bounded at any
// row count; rows are not kept. A repeat of one of the ids beyond the
// first 786,432 is reported when the reader stops (at the end of the file
// or at a bad row), as the first problem in file order.
type Reader struct {
	opts   Options
	format string
	cfg    config
	ids    idFunc

	src     source
	seen    *idSet // the ids so far, for duplicate detection
	chosen  map[string]struct{}
	want    int // with sampling: how many examples the second pass must find
	sampled bool
	yielded int
	err     error // sticky error (including io.EOF)
}

// Open opens the dataset described by opts. It fails when the file cannot be
// opened, the format is unknown or the id template does not parse; errors
// about rows are returned by [Reader.Next].
func Open(opts Options) (*Reader, error) {
	return open(opts, defaultConfig())
}

func open(opts Options, cfg config) (*Reader, error) {
	if opts.Path == "" {
		return nil, errors.New("dataset: no path given")
	}
	if opts.Limit < 0 {
		return nil, fmt.Errorf("dataset %s: negative limit %d", opts.Path, opts.Limit)
	}
	if opts.Sample < 0 {
		return nil, fmt.Errorf("dataset %s: negative sample %d", opts.Path, opts.Sample)
	}
	format, err := resolveFormat(opts.Path, opts.Format)
	if err != nil {
		return nil, err
	}
	ids, err := newIDFunc(opts.ID)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", opts.Path, err)
	}
	r := &Reader{
		opts:   opts,
		format: format,
		cfg:    cfg,
		ids:    ids,
		seen:   newIDSet(),
	}
	r.src, err = r.openSource()
	if err != nil {
		return nil, err
	}
	return r, nil
}

// resolveFormat returns the format to use for path.
func resolveFormat(path, format string) (string, error) {
	switch strings.ToLower(format) {
	case FormatJSONL, "ndjson":
		return FormatJSONL, nil
	case FormatCSV:
		return FormatCSV, nil
	case FormatParquet:
		return FormatParquet, nil
	case "":
	default:
		return "", fmt.Errorf("dataset %s: unknown format %q (accepted: jsonl, csv, parquet)", path, format)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson":
		return FormatJSONL, nil
	case ".csv":
		return FormatCSV, nil
	case ".parquet":
		return FormatParquet, nil
	}
	return "", fmt.Errorf("dataset %s: cannot tell the format from the extension (accepted: .jsonl, .ndjson, .csv, .parquet; or set the format)", path)
}

// openFile opens path for reading and rejects directories.
func openFile(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open dataset: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open dataset: %w", err)
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("open dataset %s: is a directory", path)
	}
	return f, nil
}

func (r *Reader) openSource() (source, error) {
	f, err := openFile(r.opts.Path)
	if err != nil {
		return nil, err
	}
	var src source
	switch r.format {
	case FormatJSONL:
		src = newJSONLSource(f, r.opts.Path, r.cfg.maxLineBytes, r.opts.StrictUTF8)
	case FormatCSV:
		src = newCSVSource(f, r.opts.Path, r.opts.StrictUTF8)
	case FormatParquet:
		src, err = newParquetSource(f, r.opts.Path, r.cfg.batchSize, r.opts.StrictUTF8)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return src, nil
}

// Next returns the next example, or io.EOF after the last one. A bad row is
// reported as a *ParseError naming the file and line. After an error
// (including io.EOF) every further call returns the same error.
func (r *Reader) Next() (Example, error) {
	if r.err != nil {
		return Example{}, r.err
	}
	ex, err := r.next()
	if err != nil {
		err = r.firstProblem(err)
		r.err = err
		return Example{}, err
	}
	return ex, nil
}

func (r *Reader) next() (Example, error) {
	if r.opts.Limit > 0 && r.yielded >= r.opts.Limit {
		return Example{}, io.EOF
	}
	if r.opts.Sample > 0 && !r.sampled {
		if err := r.selectSample(); err != nil {
			return Example{}, err
		}
	}
	for {
		rw, err := r.src.next()
		if err == io.EOF {
			if r.chosen != nil && r.yielded < r.want && (r.opts.Limit == 0 || r.yielded < r.opts.Limit) {
				return Example{}, &ParseError{Path: r.opts.Path, Err: fmt.Errorf("file changed while reading: the sample pass chose %d examples but only %d were found again", r.want, r.yielded)}
			}
			return Example{}, io.EOF
		}
		if err != nil {
			return Example{}, err
		}
		id, err := r.ids(rw.fields)
		if err != nil {
			return Example{}, &ParseError{Path: r.opts.Path, Line: rw.line, Err: err}
		}
		if r.chosen != nil {
			if _, ok := r.chosen[id]; !ok {
				continue
			}
		} else if err := r.checkDuplicate(id, rw.line); err != nil {
			return Example{}, err
		}
		ex := Example{ID: id, Index: r.yielded, Line: rw.line, Fields: rw.fields}
		r.yielded++
		return ex, nil
	}
}

// errInvalidUTF8 is the error of a strict reader for field name.
func errInvalidUTF8(field string) error {
	return fmt.Errorf("invalid UTF-8 in field %q", field)
}

// validText reports whether every string in v (a field value: string,
// []any or map[string]any, nested) is valid UTF-8, map keys included.
func validText(v any) bool {
	switch x := v.(type) {
	case string:
		return utf8.ValidString(x)
	case []any:
		for _, e := range x {
			if !validText(e) {
				return false
			}
		}
	case map[string]any:
		for k, e := range x {
			if !utf8.ValidString(k) || !validText(e) {
				return false
			}
		}
	}
	return true
}

// checkDuplicate records id at line and fails if it was seen before
// (unless the ids are known to be unique).
func (r *Reader) checkDuplicate(id string, line int) error {
	if r.opts.KnownUnique {
		return nil
	}
	first, dup, err := r.seen.add(id, int32(min(line, math.MaxInt32)), r.idAtLine)
	if err != nil {
		return err
	}
	if dup {
		return &ParseError{Path: r.opts.Path, Line: line, Err: fmt.Errorf("duplicate id %q (first seen at line %d)", id, first)}
	}
	return nil
}

// firstProblem returns the error the reader stops with: err, or a
// duplicate id found only now, among the ids beyond the duplicate check's
// table, which comes before err's line in the file.
func (r *Reader) firstProblem(err error) error {
	if r.seen == nil || r.opts.KnownUnique {
		return err
	}
	// Every id added is of a line before the one the reader stops at, so
	// a repeat among them comes first.
	d, found, rerr := r.seen.resolve(r.idsAtLines)
	r.seen.close()
	switch {
	case rerr != nil:
		return rerr
	case found:
		return &ParseError{Path: r.opts.Path, Line: int(d.second), Err: fmt.Errorf("duplicate id %q (first seen at line %d)", d.id, d.first)}
	}
	return err
}

// selectSample makes the first pass over the file, chooses the sample and
// reopens the file for the second pass.
func (r *Reader) selectSample() error {
	r.sampled = true
	sel := newSampler(r.opts.Seed, r.opts.Sample)
	for {
		rw, err := r.src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		id, err := r.ids(rw.fields)
		if err != nil {
			return &ParseError{Path: r.opts.Path, Line: rw.line, Err: err}
		}
		if err := r.checkDuplicate(id, rw.line); err != nil {
			return err
		}
		sel.add(id)
	}
	if err := r.firstProblem(io.EOF); err != io.EOF {
		return err
	}
	r.seen = nil // every id is validated; the second pass only needs the chosen ones
	r.chosen = sel.chosen()
	r.want = len(r.chosen)
	if err := r.src.close(); err != nil {
		return fmt.Errorf("dataset %s: %w", r.opts.Path, err)
	}
	src, err := r.openSource()
	if err != nil {
		r.src = nil
		return err
	}
	r.src = src
	return nil
}

// Close releases the file. It is safe to call more than once.
func (r *Reader) Close() error {
	if r.src == nil {
		return nil
	}
	err := r.src.close()
	r.src = nil
	if r.seen != nil {
		r.seen.close()
	}
	if r.err == nil {
		r.err = errors.New("dataset reader closed")
	}
	if err != nil {
		return fmt.Errorf("close dataset %s: %w", r.opts.Path, err)
	}
	return nil
}

// Fingerprint returns "sha256:<hex>" of the file's bytes, read as a stream.
func Fingerprint(path string) (string, error) {
	f, err := openFile(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("fingerprint dataset %s: %w", path, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// Scan makes one full streaming pass over the dataset through Open and Next,
// validating every row (malformed lines, ids, duplicates) even beyond
// opts.Limit, and returns the number of examples Open/Next would yield with
// opts, the resolved format and the file's [Fingerprint].
func Scan(opts Options) (Info, error) {
	r, err := Open(opts)
	if err != nil {
		return Info{}, err
	}
	limit := opts.Limit
	r.opts.Limit = 0 // validate every row, then apply the limit to the count
	defer r.Close()
	n := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Info{}, err
		}
		n++
	}
	if limit > 0 && n > limit {
		n = limit
	}
	fp, err := Fingerprint(opts.Path)
	if err != nil {
		return Info{}, err
	}
	return Info{Count: n, Fingerprint: fp, Format: r.format}, nil
}

// ContentID returns the first 16 hex characters of the SHA-256 of the
// canonical JSON of fields: compact encoding/json output with map keys sorted,
// json.Number values written as they were read, and no HTML escaping (so "<"
// stays "<"). For ordinary data this is the same text as Python's
// json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).
// Values that cannot be encoded (such as a NaN float64) are hashed from their
// Go representation instead, so ContentID never fails.
func ContentID(fields map[string]any) string {
	b, ok := canonjson.Append(nil, fields, false)
	if !ok {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(fields); err != nil {
			b = fmt.Appendf(nil, "%#v", fields)
		} else {
			b = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		}
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// Format returns the file's format: jsonl, csv or parquet.
func (r *Reader) Format() string { return r.format }
