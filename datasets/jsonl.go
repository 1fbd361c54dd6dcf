package datasets

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// jsonlSource reads one JSON object per line.
type jsonlSource struct {
	f      *os.File
	path   string
	max    int
	sc     *bufio.Scanner
	line   int
	strict bool // StrictUTF8
}

func newJSONLSource(f *os.File, path string, maxLine int, strict bool) *jsonlSource {
	sc := bufio.NewScanner(f)
	// A token must be smaller than the buffer's maximum size, hence the +1.
	sc.Buffer(make([]byte, 0, min(64<<10, maxLine+1)), maxLine+1)
	return &jsonlSource{f: f, path: path, max: maxLine, sc: sc, strict: strict}
}

func (s *jsonlSource) next() (row, error) {
	for s.sc.Scan() {
		s.line++
		b := s.sc.Bytes()
		if s.line == 1 {
			b = bytes.TrimPrefix(b, utf8BOM)
		}
		if len(trimJSONSpace(b)) == 0 {
			continue
		}
		fields, err := decodeObject(b)
		if err != nil {
			return row{}, &ParseError{Path: s.path, Line: s.line, Err: err}
		}
		// Decoding replaced invalid bytes in strings: check the line itself.
		if s.strict && !utf8.Valid(b) {
			return row{}, &ParseError{Path: s.path, Line: s.line, Err: errInvalidUTF8(invalidMember(b))}
		}
		return row{line: s.line, fields: fields}, nil
	}
	if err := s.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return row{}, &ParseError{Path: s.path, Line: s.line + 1, Err: fmt.Errorf("line longer than %d bytes", s.max)}
		}
		return row{}, &ParseError{Path: s.path, Line: s.line + 1, Err: fmt.Errorf("read: %w", err)}
	}
	return row{}, io.EOF
}

// decodeObject decodes b, which must hold exactly one JSON object, keeping
// numbers as json.Number.
func decodeObject(b []byte) (map[string]any, error) {
	b = trimJSONSpace(b)
	if b[0] != '{' {
		return nil, fmt.Errorf("invalid JSON: expected an object, got %s", jsonKind(b[0]))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var fields map[string]any
	if err := dec.Decode(&fields); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errors.New("invalid JSON: unexpected end of line")
		}
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if rest := trimJSONSpace(b[dec.InputOffset():]); len(rest) > 0 {
		return nil, fmt.Errorf("invalid JSON: unexpected data after the object: %q", truncate(rest, 20))
	}
	return fields, nil
}

// invalidMember returns the name of the first member of the JSON object b
// whose bytes (name or value) are not valid UTF-8. b decodes as an object.
func invalidMember(b []byte) string {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // the opening brace
		return ""
	}
	for dec.More() {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return ""
		}
		if name, _ := tok.(string); !utf8.Valid(b[start:dec.InputOffset()]) {
			return name
		}
	}
	return ""
}

// jsonKind names the JSON value that starts with c.
func jsonKind(c byte) string {
	switch {
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "a number"
	}
	return fmt.Sprintf("invalid character %q", c)
}

// trimJSONSpace trims the whitespace JSON allows between tokens.
func trimJSONSpace(b []byte) []byte {
	return bytes.Trim(b, " \t\r\n")
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "..."
}

func (s *jsonlSource) close() error { return s.f.Close() }
