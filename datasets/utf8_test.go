package datasets

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

type pqText struct {
	ID   string   `parquet:"id"`
	Text string   `parquet:"text"`
	Tags []string `parquet:"tags,list"`
}

func writeTextParquet(t *testing.T, rows []pqText) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "text.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[pqText](f)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// With StrictUTF8 every format reports the first string that is not valid
// UTF-8 with the file, the line and the field; without it the values are
// read as the format gives them.
func TestStrictUTF8(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		path    func(t *testing.T) string
		id      string
		line    int
		field   string // in the strict error
		lenient string // the field's value read without StrictUTF8, at row lenientRow
		row     int
	}{
		{name: "csv field", id: "id", line: 3, field: `field "answer"`, lenient: "b\xffc", row: 1,
			path: func(t *testing.T) string {
				return writeFile(t, "d.csv", "id,question,answer\n1,q1,a\n2,q2,b\xffc\n3,q3,d\n")
			}},
		{name: "csv quoted multi-line field", id: "id", line: 3, field: `field "question"`, lenient: "two\nlines \xfe", row: 1,
			path: func(t *testing.T) string {
				return writeFile(t, "d.csv", "id,question,answer\n1,q1,a\n2,\"two\nlines \xfe\",b\n")
			}},
		{name: "csv header", id: "", line: 1, field: "header column 2",
			path: func(t *testing.T) string { return writeFile(t, "d.csv", "id,qu\xe9stion\n1,q\n") }},
		{name: "jsonl string", id: "id", line: 2, field: `field "text"`, lenient: "caf\uFFFD", row: 1,
			path: func(t *testing.T) string {
				return writeFile(t, "d.jsonl", "{\"id\":\"1\",\"text\":\"ok\"}\n{\"id\":\"2\",\"n\":1,\"text\":\"caf\xe9\"}\n")
			}},
		{name: "jsonl nested", id: "id", line: 1, field: `field "meta"`,
			path: func(t *testing.T) string {
				return writeFile(t, "d.jsonl", "{\"id\":\"1\",\"meta\":{\"tags\":[\"x\",\"\xff\"]}}\n")
			}},
		{name: "parquet string", id: "id", line: 2, field: `field "text"`, lenient: "x\xc3", row: 1,
			path: func(t *testing.T) string {
				return writeTextParquet(t, []pqText{{ID: "1", Text: "ok"}, {ID: "2", Text: "x\xc3"}})
			}},
		{name: "parquet list", id: "id", line: 1, field: `field "tags"`,
			path: func(t *testing.T) string {
				return writeTextParquet(t, []pqText{{ID: "1", Text: "ok", Tags: []string{"a", "\xfe"}}})
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := tc.path(t)
			_, err := readAll(t, Options{Path: path, ID: tc.id, StrictUTF8: true})
			want := fmt.Sprintf("dataset %s line %d: invalid UTF-8 in %s", path, tc.line, tc.field)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("strict: error %v, want %q", err, want)
			}
			if _, serr := Scan(Options{Path: path, ID: tc.id, StrictUTF8: true}); serr == nil || !strings.Contains(serr.Error(), want) {
				t.Errorf("strict Scan: error %v, want %q", serr, want)
			}
			if tc.lenient == "" {
				return
			}
			exs, err := readAll(t, Options{Path: path, ID: tc.id})
			if err != nil {
				t.Fatalf("lenient: %v", err)
			}
			name := strings.Trim(strings.TrimPrefix(tc.field, "field "), `"`)
			if got := exs[tc.row].Fields[name]; got != tc.lenient {
				t.Errorf("lenient: field %s = %q, want %q", name, got, tc.lenient)
			}
		})
	}
}

// Valid text, including characters outside ASCII, passes the strict check.
func TestStrictUTF8AcceptsValidText(t *testing.T) {
	t.Parallel()
	for _, path := range []string{
		writeFile(t, "d.csv", "id,text\n1,café ✓\n2,漢字\n"),
		writeFile(t, "d.jsonl", "{\"id\":\"1\",\"text\":\"café ✓\",\"m\":{\"k\":[\"漢字\"]}}\n"),
		writeTextParquet(t, []pqText{{ID: "1", Text: "café ✓", Tags: []string{"漢字"}}}),
	} {
		if exs := mustReadAll(t, Options{Path: path, ID: "id", StrictUTF8: true}); len(exs) == 0 {
			t.Errorf("%s: no examples", path)
		}
	}
}
