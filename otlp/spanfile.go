package otlp

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gavel-eval/gavel/traces"
)

// SpanFile is a Parquet file of the traces.parquet schema written under a
// hidden temporary name (.NAME.partial beside it) and renamed to its name
// when Close completes it, so that a reader never sees half a file. It is
// not safe for concurrent use.
type SpanFile struct {
	f          *os.File
	w          *traces.Writer
	tmp, final string
}

// CreateSpanFile starts the span file path. With exclusive, a temporary
// file already there (another writer's) is an error; otherwise it is
// replaced.
func CreateSpanFile(path string, exclusive bool) (*SpanFile, error) {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".partial")
	flag := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if exclusive {
		flag = os.O_WRONLY | os.O_CREATE | os.O_EXCL
	}
	f, err := os.OpenFile(tmp, flag, 0o644)
	if err != nil {
		return nil, err
	}
	w, err := traces.NewWriter(f)
	if err != nil {
		f.Close()
		os.Remove(tmp)
		return nil, err
	}
	return &SpanFile{f: f, w: w, tmp: tmp, final: path}, nil
}

// Path is the file's name once complete.
func (s *SpanFile) Path() string { return s.final }

// Rows returns how many spans were written.
func (s *SpanFile) Rows() int64 { return s.w.Rows() }

// Write appends recs; consecutive spans of one run, variant, example and
// epoch go in one call of the traces writer.
func (s *SpanFile) Write(recs []traces.Record) error {
	for i := 0; i < len(recs); {
		j := i + 1
		for j < len(recs) && recs[j].RunID == recs[i].RunID && recs[j].Variant == recs[i].Variant &&
			recs[j].ExampleID == recs[i].ExampleID && recs[j].Epoch == recs[i].Epoch {
			j++
		}
		spans := make([]traces.Span, 0, j-i)
		for _, r := range recs[i:j] {
			spans = append(spans, r.Span)
		}
		if err := s.w.Write(recs[i].RunID, recs[i].Variant, recs[i].ExampleID, recs[i].Epoch, spans); err != nil {
			return fmt.Errorf("%s: %w", s.tmp, err)
		}
		i = j
	}
	return nil
}

// Close completes the file: footer, sync, rename, and a sync of its
// directory.
func (s *SpanFile) Close() error {
	err := s.w.Close()
	if err == nil {
		err = s.f.Sync()
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(s.tmp, s.final)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", s.final, err)
	}
	if d, err := os.Open(filepath.Dir(s.final)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
