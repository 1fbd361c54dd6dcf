package datasets

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestJSONLRead(t *testing.T) {
	content := "\xEF\xBB\xBF" + `{"id":"a","n":1000000,"x":1e3,"p":0.10,"big":123456789012345678901234567890}` + "\r\n" +
		"\n" +
		"   \t\n" +
		`{"id":"b","nested":{"list":[1,"two",null,true],"obj":{"k":"v"}},"s":"caf\u00e9 \"q\""}` + "\n" +
		`  {"id":"c"}  ` // no final newline
	path := writeFile(t, "data.jsonl", content)
	exs := mustReadAll(t, Options{Path: path, ID: "id"})

	if got, want := ids(exs), []string{"a", "b", "c"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ids = %v, want %v", got, want)
	}
	if got, want := lines(exs), []int{1, 4, 5}; !reflect.DeepEqual(got, want) {
		t.Errorf("lines = %v, want %v", got, want)
	}
	for i, ex := range exs {
		if ex.Index != i {
			t.Errorf("example %d: Index = %d", i, ex.Index)
		}
	}
	wantFirst := map[string]any{
		"id":  "a",
		"n":   json.Number("1000000"),
		"x":   json.Number("1e3"),
		"p":   json.Number("0.10"),
		"big": json.Number("123456789012345678901234567890"),
	}
	if !reflect.DeepEqual(exs[0].Fields, wantFirst) {
		t.Errorf("first fields = %#v, want %#v", exs[0].Fields, wantFirst)
	}
	// Numbers render as written.
	for _, tc := range []struct{ key, want string }{{"n", "1000000"}, {"x", "1e3"}, {"p", "0.10"}} {
		if got := fmt.Sprint(exs[0].Fields[tc.key]); got != tc.want {
			t.Errorf("field %s renders as %q, want %q", tc.key, got, tc.want)
		}
	}
	wantSecond := map[string]any{
		"id": "b",
		"nested": map[string]any{
			"list": []any{json.Number("1"), "two", nil, true},
			"obj":  map[string]any{"k": "v"},
		},
		"s": `café "q"`,
	}
	if !reflect.DeepEqual(exs[1].Fields, wantSecond) {
		t.Errorf("second fields = %#v, want %#v", exs[1].Fields, wantSecond)
	}
}

func TestJSONLExtensionsAndFormat(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		format string
	}{
		{"jsonl extension", "d.jsonl", ""},
		{"ndjson extension", "d.ndjson", ""},
		{"upper-case extension", "D.JSONL", ""},
		{"explicit format overrides extension", "d.txt", "jsonl"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, tc.file, `{"id":"x"}`+"\n")
			exs := mustReadAll(t, Options{Path: path, Format: tc.format, ID: "id"})
			if len(exs) != 1 || exs[0].ID != "x" {
				t.Fatalf("got %+v, want one example x", exs)
			}
		})
	}
}

// TestMalformed checks that every kind of bad row is reported with the
// exact file and line.
func TestMalformed(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		content string
		id      string
		line    int
		msg     string // the exact message after "dataset PATH line N: ", or a prefix of it ending in "..."
		before  int    // examples yielded before the error
	}{
		{
			name:    "bad JSON line",
			file:    "data.jsonl",
			content: `{"id":"a"}` + "\n\n" + `{"id":` + "\n" + `{"id":"b"}` + "\n",
			id:      "id", line: 3, before: 1,
			msg: "invalid JSON: unexpected end of line",
		},
		{
			name:    "syntax error",
			file:    "data.jsonl",
			content: `{"id":"a"}` + "\n" + `{"id" "a"}` + "\n",
			id:      "id", line: 2, before: 1,
			msg: "invalid JSON: invalid character '\"' after object key...",
		},
		{
			name:    "array line",
			file:    "data.jsonl",
			content: `{"id":"a"}` + "\n" + `[1,2]` + "\n",
			id:      "id", line: 2, before: 1,
			msg: "invalid JSON: expected an object, got an array",
		},
		{
			name:    "scalar line",
			file:    "data.jsonl",
			content: "\n\n\n\n\n\n42\n",
			line:    7,
			msg:     "invalid JSON: expected an object, got a number",
		},
		{
			name:    "null line",
			file:    "data.jsonl",
			content: "null\n",
			line:    1,
			msg:     "invalid JSON: expected an object, got null",
		},
		{
			name:    "trailing garbage",
			file:    "data.jsonl",
			content: `{"id":"a"} x` + "\n",
			id:      "id", line: 1,
			msg: `invalid JSON: unexpected data after the object: "x"`,
		},
		{
			name:    "two objects on one line",
			file:    "data.jsonl",
			content: `{"id":"a"}` + "\n" + `{"id":"b"}{"id":"c"}` + "\n",
			id:      "id", line: 2, before: 1,
			msg: `invalid JSON: unexpected data after the object: "{\"id\":\"c\"}"`,
		},
		{
			name: "duplicate id",
			file: "data.jsonl",
			content: `{"id":"q1"}` + "\n" + `{"id":"q3"}` + "\n" + `{"id":"q2"}` + "\n" + "\n\n\n\n\n" +
				`{"id":"q3"}` + "\n",
			id: "id", line: 9, before: 3,
			msg: `duplicate id "q3" (first seen at line 2)`,
		},
		{
			name:    "duplicate content hash",
			file:    "data.jsonl",
			content: `{"a":1}` + "\n" + `{"a":2}` + "\n" + `{ "a" : 1 }` + "\n",
			line:    3, before: 2,
			msg: `duplicate id "015abd7f5cc57a2d" (first seen at line 1)`,
		},
		{
			name:    "missing id field",
			file:    "data.jsonl",
			content: `{"id":"a"}` + "\n" + `{"ID":"b"}` + "\n",
			id:      "id", line: 2, before: 1,
			msg: `id field "id" missing`,
		},
		{
			name:    "null id field",
			file:    "data.jsonl",
			content: `{"id":null}` + "\n",
			id:      "id", line: 1,
			msg: `id field "id": is null`,
		},
		{
			name:    "object id field",
			file:    "data.jsonl",
			content: `{"id":{"x":1}}` + "\n",
			id:      "id", line: 1,
			msg: `id field "id": is not a string or number (got map[string]interface {})`,
		},
		{
			name:    "empty id field",
			file:    "data.jsonl",
			content: `{"id":"a"}` + "\n" + `{"id":""}` + "\n",
			id:      "id", line: 2, before: 1,
			msg: `id field "id" is empty`,
		},
		{
			name:    "template missing key",
			file:    "data.jsonl",
			content: `{"source":"s","n":1}` + "\n" + `{"source":"s"}` + "\n",
			id:      "{{.source}}-{{.n}}", line: 2, before: 1,
			msg: `id template "{{.source}}-{{.n}}": executing "id" at <.n>: no field "n"`,
		},
		{
			name:    "template renders empty",
			file:    "data.jsonl",
			content: `{"id":"a"}` + "\n" + `{"id":""}` + "\n",
			id:      "{{.id}}", line: 2, before: 1,
			msg: `id template "{{.id}}" rendered an empty id`,
		},
		{
			name:    "template over null field",
			file:    "data.jsonl",
			content: `{"id":null}` + "\n",
			id:      "{{.id}}", line: 1,
			msg: `id template "{{.id}}": field .id is null or missing`,
		},
		{
			name:    "template over null field inside a longer id",
			file:    "data.jsonl",
			content: `{"source":"s","n":1}` + "\n" + `{"source":"s","n":null}` + "\n",
			id:      "{{.source}}-{{.n}}", line: 2, before: 1,
			msg: `id template "{{.source}}-{{.n}}": field .n is null or missing`,
		},
		{
			name:    "template over null field via index",
			file:    "data.jsonl",
			content: `{"my-id":null}` + "\n",
			id:      `x-{{index . "my-id"}}`, line: 1,
			msg: `id template "x-{{index . \"my-id\"}}": field index . "my-id" is null or missing`,
		},
		{
			name:    "csv wrong field count",
			file:    "data.csv",
			content: "id,q\na,1\nb,2,3\n",
			id:      "id", line: 3, before: 1,
			msg: "wrong number of fields: got 3, want 2 as in the header (line 1)",
		},
		{
			name:    "csv too few fields after multi-line record",
			file:    "data.csv",
			content: "id,q\na,\"multi\nline\"\nb\n",
			id:      "id", line: 4, before: 1,
			msg: "wrong number of fields: got 1, want 2 as in the header (line 1)",
		},
		{
			name:    "csv bare quote",
			file:    "data.csv",
			content: "id,q\na,1\nb,x\"y\n",
			id:      "id", line: 3, before: 1,
			msg: `invalid CSV (column 4): bare " in non-quoted-field`,
		},
		{
			name:    "csv unterminated quote",
			file:    "data.csv",
			content: "id,q\na,\"never\nclosed\n",
			id:      "id", line: 3,
			msg: `invalid CSV (column 8; the record starts at line 2): extraneous or missing " in quoted-field`,
		},
		{
			name:    "csv duplicate header",
			file:    "data.csv",
			content: "id,q,q\na,1,2\n",
			id:      "id", line: 1,
			msg: `duplicate header name "q" (columns 2 and 3)`,
		},
		{
			name:    "csv empty header name",
			file:    "data.csv",
			content: "\n\nid,,q\na,1,2\n",
			id:      "id", line: 3,
			msg: `header column 2 has an empty name`,
		},
		{
			name:    "csv duplicate id",
			file:    "data.csv",
			content: "id,q\nq1,a\nq3,b\nq2,c\nq3,d\n",
			id:      "id", line: 5, before: 3,
			msg: `duplicate id "q3" (first seen at line 3)`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, tc.file, tc.content)
			exs, err := readAll(t, Options{Path: path, ID: tc.id})
			checkParseError(t, err, path, tc.line, tc.msg)
			if len(exs) != tc.before {
				t.Errorf("yielded %d examples before the error, want %d", len(exs), tc.before)
			}
			// Scan reports the same error.
			_, err = Scan(Options{Path: path, ID: tc.id})
			checkParseError(t, err, path, tc.line, tc.msg)
		})
	}
}

// checkParseError asserts that err is a *ParseError for path and line whose
// message is "dataset PATH line N: " followed by msg (a prefix if msg ends in "...").
func checkParseError(t *testing.T, err error, path string, line int, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one at line %d", line)
	}
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %q (%T) is not a *ParseError", err, err)
	}
	if pe.Path != path || pe.Line != line {
		t.Errorf("ParseError at %s line %d, want %s line %d", pe.Path, pe.Line, path, line)
	}
	want := fmt.Sprintf("dataset %s line %d: %s", path, line, msg)
	got := err.Error()
	if prefix, ok := strings.CutSuffix(want, "..."); ok {
		if !strings.HasPrefix(got, prefix) {
			t.Errorf("error = %q, want prefix %q", got, prefix)
		}
	} else if got != want {
		t.Errorf("error = %q\n            want %q", got, want)
	}
}

func TestJSONLLongLine(t *testing.T) {
	const max = 32
	short := `{"id":"` + strings.Repeat("a", max-9) + `"}` // exactly max bytes
	long := `{"id":"` + strings.Repeat("b", max-8) + `"}`  // max+1 bytes
	if len(short) != max || len(long) != max+1 {
		t.Fatalf("bad test lines: %d %d", len(short), len(long))
	}
	path := writeFile(t, "long.jsonl", short+"\n\n"+long+"\n"+`{"id":"c"}`+"\n")
	cfg := defaultConfig()
	cfg.maxLineBytes = max
	exs, err := readAllConfig(t, Options{Path: path, ID: "id"}, cfg)
	checkParseError(t, err, path, 3, fmt.Sprintf("line longer than %d bytes", max))
	if len(exs) != 1 {
		t.Errorf("yielded %d examples before the long line, want 1", len(exs))
	}
}

func TestJSONLDefaultAllowsLongLines(t *testing.T) {
	// Lines well above bufio.Scanner's 64 KiB default are fine.
	big := strings.Repeat("x", 1<<20)
	path := writeFile(t, "big.jsonl", `{"id":"a","t":"`+big+`"}`+"\n"+`{"id":"b"}`+"\n")
	exs := mustReadAll(t, Options{Path: path, ID: "id"})
	if len(exs) != 2 || exs[0].Fields["t"] != big || exs[1].Line != 2 {
		t.Fatalf("got %d examples, want 2 with the long field intact", len(exs))
	}
}

func TestReaderErrorIsSticky(t *testing.T) {
	path := writeFile(t, "data.jsonl", "[1]\n"+`{"id":"a"}`+"\n")
	r, err := Open(Options{Path: path, ID: "id"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err1 := r.Next()
	_, err2 := r.Next()
	if err1 == nil || err1 != err2 {
		t.Fatalf("second Next after an error returned %v, want the same error %v", err2, err1)
	}
}
