package otlp

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gavel-eval/gavel/traces"
)

// SinkOptions tune a Sink. Zero values take the defaults.
type SinkOptions struct {
	// MaxRows rolls to a new file after this many spans (default 100,000).
	MaxRows int64
	// MaxAge rolls to a new file when the open one is older (default 10
	// minutes; see Sink.Tick).
	MaxAge time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Sink writes spans to Parquet files of the traces.parquet schema in a
// directory, spans-<UTC time>-<n>.parquet, rolling to a new file by span
// count and age. A file is written under a hidden temporary name and
// renamed when it is complete, so that a reader never sees half a file;
// memory is bounded by traces.Writer's row groups. It is safe for
// concurrent use.
type Sink struct {
	dir  string
	opts SinkOptions

	mu     sync.Mutex
	file   *SpanFile // the open file, nil between files
	opened time.Time
	seq    int
	files  []string
	spans  int64
	closed bool
}

// NewSink returns a Sink writing into dir, which it creates.
func NewSink(dir string, opts SinkOptions) (*Sink, error) {
	if opts.MaxRows <= 0 {
		opts.MaxRows = 100_000
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = 10 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("span sink: %w", err)
	}
	return &Sink{dir: dir, opts: opts}, nil
}

// Write appends recs, all of them to the same file: a batch is never split
// between two files.
func (s *Sink) Write(recs []traces.Record) error {
	if len(recs) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("span sink: closed")
	}
	if s.file == nil {
		if err := s.open(); err != nil {
			return err
		}
	}
	if err := s.file.Write(recs); err != nil {
		return fmt.Errorf("span sink %w", err)
	}
	s.spans += int64(len(recs))
	if s.file.Rows() >= s.opts.MaxRows || s.opts.Now().Sub(s.opened) >= s.opts.MaxAge {
		return s.roll()
	}
	return nil
}

// Tick closes the open file when it is older than MaxAge, so that a
// quiet receiver still publishes what it has; call it now and then.
func (s *Sink) Tick() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file != nil && s.opts.Now().Sub(s.opened) >= s.opts.MaxAge {
		return s.roll()
	}
	return nil
}

// Close completes the open file. Later writes fail.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return s.roll()
}

// Files returns the completed files, oldest first; Spans how many spans
// were written.
func (s *Sink) Files() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.files...)
}

// Spans returns how many spans were written.
func (s *Sink) Spans() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.spans
}

func (s *Sink) open() error {
	s.opened = s.opts.Now()
	// Another receiver writing into the same directory may take a name
	// first (its temporary file, or the complete one): take the next.
	for tries := 0; ; tries++ {
		s.seq++
		name := fmt.Sprintf("spans-%s-%04d.parquet", s.opened.UTC().Format("20060102T150405Z"), s.seq)
		final := filepath.Join(s.dir, name)
		if _, err := os.Stat(final); err == nil {
			continue
		}
		f, err := CreateSpanFile(final, true)
		if errors.Is(err, fs.ErrExist) && tries < 10_000 {
			continue
		}
		if err != nil {
			return fmt.Errorf("span sink: %w", err)
		}
		s.file = f
		return nil
	}
}

// roll completes the open file, if any.
func (s *Sink) roll() error {
	if s.file == nil {
		return nil
	}
	f := s.file
	s.file = nil
	if err := f.Close(); err != nil {
		return fmt.Errorf("span sink %w", err)
	}
	s.files = append(s.files, f.Path())
	return nil
}
