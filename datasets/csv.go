package datasets

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"
)

// csvSource reads a CSV file whose first record is the header.
type csvSource struct {
	f          *os.File
	path       string
	r          *csv.Reader
	header     []string
	headerLine int
	done       bool
	strict     bool // StrictUTF8
}

func newCSVSource(f *os.File, path string, strict bool) *csvSource {
	br := bufio.NewReaderSize(f, 64<<10)
	if b, err := br.Peek(len(utf8BOM)); err == nil && bytes.Equal(b, utf8BOM) {
		br.Discard(len(utf8BOM))
	}
	r := csv.NewReader(br)
	r.FieldsPerRecord = -1 // checked here, to name the line
	r.ReuseRecord = true
	return &csvSource{f: f, path: path, r: r, strict: strict}
}

// readHeader reads and checks the header record.
func (s *csvSource) readHeader() error {
	rec, err := s.r.Read()
	if err != nil {
		return err // io.EOF: an empty file has no examples
	}
	s.headerLine, _ = s.r.FieldPos(0)
	seen := make(map[string]int, len(rec))
	s.header = make([]string, len(rec))
	for i, name := range rec {
		if name == "" {
			return &ParseError{Path: s.path, Line: s.headerLine, Err: fmt.Errorf("header column %d has an empty name", i+1)}
		}
		if s.strict && !utf8.ValidString(name) {
			return &ParseError{Path: s.path, Line: s.headerLine, Err: fmt.Errorf("invalid UTF-8 in header column %d", i+1)}
		}
		if j, ok := seen[name]; ok {
			return &ParseError{Path: s.path, Line: s.headerLine, Err: fmt.Errorf("duplicate header name %q (columns %d and %d)", name, j+1, i+1)}
		}
		seen[name] = i
		s.header[i] = name
	}
	return nil
}

func (s *csvSource) next() (row, error) {
	if s.done {
		return row{}, io.EOF
	}
	if s.header == nil {
		if err := s.readHeader(); err != nil {
			return row{}, s.fail(err)
		}
	}
	rec, err := s.r.Read()
	if err != nil {
		return row{}, s.fail(err)
	}
	line, _ := s.r.FieldPos(0)
	if len(rec) != len(s.header) {
		return row{}, &ParseError{Path: s.path, Line: line, Err: fmt.Errorf("wrong number of fields: got %d, want %d as in the header (line %d)", len(rec), len(s.header), s.headerLine)}
	}
	fields := make(map[string]any, len(rec))
	for i, v := range rec {
		if s.strict && !utf8.ValidString(v) {
			return row{}, &ParseError{Path: s.path, Line: line, Err: errInvalidUTF8(s.header[i])}
		}
		fields[s.header[i]] = v
	}
	return row{line: line, fields: fields}, nil
}

// fail converts a csv error to a *ParseError.
func (s *csvSource) fail(err error) error {
	if err == io.EOF {
		s.done = true
		return io.EOF
	}
	var pe *ParseError
	if errors.As(err, &pe) {
		return err
	}
	var ce *csv.ParseError
	if errors.As(err, &ce) {
		msg := fmt.Errorf("invalid CSV: %w", ce.Err)
		if ce.StartLine != ce.Line {
			msg = fmt.Errorf("invalid CSV (column %d; the record starts at line %d): %w", ce.Column, ce.StartLine, ce.Err)
		} else if ce.Column > 0 {
			msg = fmt.Errorf("invalid CSV (column %d): %w", ce.Column, ce.Err)
		}
		return &ParseError{Path: s.path, Line: ce.Line, Err: msg}
	}
	return &ParseError{Path: s.path, Err: fmt.Errorf("read: %w", err)}
}

func (s *csvSource) close() error { return s.f.Close() }
