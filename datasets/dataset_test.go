package datasets

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

func TestIDs(t *testing.T) {
	// Hashes below were computed independently, e.g.
	//   printf '%s' '{"a":1}' | sha256sum | cut -c1-16
	tests := []struct {
		name    string
		file    string
		content string
		id      string
		want    []string
	}{
		{"content hash", "d.jsonl", `{"a":1}` + "\n", "", []string{"015abd7f5cc57a2d"}},
		{"content hash sorts keys", "d.jsonl", `{"b":"y","a":"x"}` + "\n", "", []string{"9280388d629fb065"}},
		{"content hash keeps numbers as written, no HTML escaping", "d.jsonl",
			`{ "b": [1, 2.50, {"c": null}], "a": "<&>" }` + "\n", "", []string{"ab5a77e474f3a2fd"}},
		{"content hash of csv strings", "d.csv", "id,answer\nx,1000000\n", "", []string{"5d11e4877a3ee7e0"}},
		{"empty object", "d.jsonl", "{}\n", "", []string{"44136fa355b3678a"}},
		{"field string", "d.jsonl", `{"id":"q1"}` + "\n" + `{"id":"q2"}` + "\n", "id", []string{"q1", "q2"}},
		{"field number as written", "d.jsonl", `{"n":1000000}` + "\n" + `{"n":1e3}` + "\n" + `{"n":true}` + "\n", "n",
			[]string{"1000000", "1e3", "true"}},
		{"field from csv", "d.csv", "key,v\nk1,a\nk2,b\n", "key", []string{"k1", "k2"}},
		{"template", "d.jsonl", `{"source":"gsm","n":7}` + "\n" + `{"source":"math","n":7}` + "\n",
			"{{.source}}-{{.n}}", []string{"gsm-7", "math-7"}},
		{"template with index for odd names", "d.jsonl", `{"my-id":"x"}` + "\n", `{{index . "my-id"}}`, []string{"x"}},
		{"template over a field holding the text <no value>", "d.jsonl", `{"id":"<no value>"}` + "\n" + `{"id":"a <no value> b"}` + "\n",
			"{{.id}}", []string{"<no value>", "a <no value> b"}},
		{"template with default for a null field", "d.jsonl", `{"id":"a","v":null}` + "\n" + `{"id":"b","v":2}` + "\n",
			`{{.id}}-{{default "none" .v}}`, []string{"a-none", "b-2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, tc.file, tc.content)
			exs := mustReadAll(t, Options{Path: path, ID: tc.id})
			if got := ids(exs); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ids = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestContentID(t *testing.T) {
	tests := []struct {
		fields map[string]any
		want   string
	}{
		{map[string]any{"a": json.Number("1")}, "015abd7f5cc57a2d"},
		{map[string]any{"a": int64(1)}, "015abd7f5cc57a2d"},
		{map[string]any{"b": "y", "a": "x"}, "9280388d629fb065"},
		{map[string]any{}, "44136fa355b3678a"},
	}
	for _, tc := range tests {
		if got := ContentID(tc.fields); got != tc.want {
			t.Errorf("ContentID(%v) = %s, want %s", tc.fields, got, tc.want)
		}
	}
	// The id is the SHA-256 of the row as encoding/json writes it (keys
	// sorted, HTML characters as they are), whatever the values.
	for _, fields := range []map[string]any{
		{"q": "<a> & \"é\" \u2028 \xff", "n": 1.5e-7, "big": 1e21, "i": int64(-3)},
		{"nested": map[string]any{"z": []any{nil, true, json.Number("2.50")}, "a": map[string]any{}}, "list": []any{}},
		{"odd": []string{"not", "a", "decoded", "value"}, "u": uint8(7)},
	} {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(fields); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
		if got, want := ContentID(fields), hex.EncodeToString(sum[:8]); got != want {
			t.Errorf("ContentID(%v) = %s, want %s (encoding/json's bytes)", fields, got, want)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope.jsonl")
	txt := writeFile(t, "data.txt", "{}\n")
	tests := []struct {
		name string
		opts Options
		want []string // substrings of the error
	}{
		{"missing file", Options{Path: missing}, []string{missing, "no such file"}},
		{"directory", Options{Path: dir, Format: "jsonl"}, []string{dir, "is a directory"}},
		{"unknown extension", Options{Path: txt}, []string{txt, ".jsonl", ".ndjson", ".csv", ".parquet"}},
		{"unknown format", Options{Path: txt, Format: "xml"}, []string{txt, `"xml"`, "jsonl, csv, parquet"}},
		{"bad template", Options{Path: txt, Format: "jsonl", ID: "{{.id"}, []string{txt, `id template "{{.id"`}},
		{"negative limit", Options{Path: txt, Format: "jsonl", Limit: -1}, []string{txt, "negative limit"}},
		{"negative sample", Options{Path: txt, Format: "jsonl", Sample: -2}, []string{txt, "negative sample"}},
		{"no path", Options{}, []string{"no path"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Open(tc.opts)
			if err == nil {
				r.Close()
				t.Fatal("Open succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			// Scan and Fingerprint fail the same way.
			if _, err := Scan(tc.opts); err == nil {
				t.Error("Scan succeeded")
			}
		})
	}
	if _, err := Open(Options{Path: missing}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file error %v is not fs.ErrNotExist", err)
	}
	if _, err := Fingerprint(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("Fingerprint of a missing file: %v, want an error naming it", err)
	}
}

func TestCloseTwiceAndNextAfterClose(t *testing.T) {
	path := writeFile(t, "d.jsonl", `{"a":1}`+"\n")
	r, err := Open(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := r.Next(); err == nil {
		t.Fatal("Next after Close succeeded")
	}
}

// numbered writes a JSONL file with ids q000.. in the given order.
func numbered(t testing.TB, name string, order []int) string {
	t.Helper()
	var b strings.Builder
	for _, i := range order {
		fmt.Fprintf(&b, `{"id":"q%03d","n":%d}`+"\n", i, i)
	}
	return writeFile(t, name, b.String())
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func TestLimit(t *testing.T) {
	path := numbered(t, "d.jsonl", seq(5))
	tests := []struct {
		limit int
		want  []string
	}{
		{0, []string{"q000", "q001", "q002", "q003", "q004"}},
		{2, []string{"q000", "q001"}},
		{5, []string{"q000", "q001", "q002", "q003", "q004"}},
		{50, []string{"q000", "q001", "q002", "q003", "q004"}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.limit), func(t *testing.T) {
			exs := mustReadAll(t, Options{Path: path, ID: "id", Limit: tc.limit})
			if got := ids(exs); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ids = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLimitStopsReadingButScanValidatesAll(t *testing.T) {
	path := writeFile(t, "d.jsonl", `{"id":"a"}`+"\n"+`{"id":"b"}`+"\n"+"oops\n")
	exs := mustReadAll(t, Options{Path: path, ID: "id", Limit: 2})
	if len(exs) != 2 {
		t.Fatalf("got %d examples, want 2", len(exs))
	}
	_, err := Scan(Options{Path: path, ID: "id", Limit: 2})
	checkParseError(t, err, path, 3, "invalid JSON: expected an object, got invalid character 'o'")
}

// expectedSample computes the documented selection independently: the n
// ids with the smallest SHA-256(seed big-endian || id).
func expectedSample(seed int64, all []string, n int) []string {
	type kv struct {
		h  []byte
		id string
	}
	var ranked []kv
	for _, id := range all {
		var s [8]byte
		binary.BigEndian.PutUint64(s[:], uint64(seed))
		sum := sha256.Sum256(append(s[:], id...))
		ranked = append(ranked, kv{sum[:], id})
	}
	sort.Slice(ranked, func(i, j int) bool { return bytes.Compare(ranked[i].h, ranked[j].h) < 0 })
	var out []string
	for _, r := range ranked[:min(n, len(ranked))] {
		out = append(out, r.id)
	}
	sort.Strings(out)
	return out
}

func TestSample(t *testing.T) {
	const n = 100
	path := numbered(t, "d.jsonl", seq(n))
	var all []string
	for i := range n {
		all = append(all, fmt.Sprintf("q%03d", i))
	}

	read := func(t *testing.T, opts Options) []Example {
		t.Helper()
		exs := mustReadAll(t, opts)
		for i, ex := range exs {
			if ex.Index != i {
				t.Errorf("example %d has Index %d", i, ex.Index)
			}
			if i > 0 && ex.Line <= exs[i-1].Line {
				t.Errorf("examples not in file order: line %d after line %d", ex.Line, exs[i-1].Line)
			}
			if want := fmt.Sprintf("q%03d", ex.Line-1); ex.ID != want {
				t.Errorf("example at line %d has id %s, want %s", ex.Line, ex.ID, want)
			}
		}
		return exs
	}

	t.Run("matches the documented ranking and is in file order", func(t *testing.T) {
		got := ids(read(t, Options{Path: path, ID: "id", Sample: 10, Seed: 1}))
		if want := expectedSample(1, all, 10); !reflect.DeepEqual(got, want) {
			t.Errorf("sample = %v, want %v", got, want)
		}
	})
	t.Run("deterministic", func(t *testing.T) {
		a := ids(read(t, Options{Path: path, ID: "id", Sample: 10, Seed: 42}))
		b := ids(read(t, Options{Path: path, ID: "id", Sample: 10, Seed: 42}))
		if !reflect.DeepEqual(a, b) || len(a) != 10 {
			t.Errorf("two reads with the same seed differ: %v vs %v", a, b)
		}
	})
	t.Run("different seed differs", func(t *testing.T) {
		a := ids(read(t, Options{Path: path, ID: "id", Sample: 10, Seed: 1}))
		b := ids(read(t, Options{Path: path, ID: "id", Sample: 10, Seed: 2}))
		if reflect.DeepEqual(a, b) {
			t.Errorf("seeds 1 and 2 chose the same sample %v", a)
		}
	})
	t.Run("independent of file order", func(t *testing.T) {
		rev := seq(n)
		slices.Reverse(rev)
		revPath := numbered(t, "rev.jsonl", rev)
		a := ids(read(t, Options{Path: path, ID: "id", Sample: 10, Seed: 7}))
		exs := mustReadAll(t, Options{Path: revPath, ID: "id", Sample: 10, Seed: 7})
		b := ids(exs)
		sort.Strings(b)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("reversed file chose %v, want %v", b, a)
		}
	})
	t.Run("stable as the file grows", func(t *testing.T) {
		grown := numbered(t, "grown.jsonl", seq(2*n))
		before := ids(read(t, Options{Path: path, ID: "id", Sample: 10, Seed: 3}))
		after := ids(mustReadAll(t, Options{Path: grown, ID: "id", Sample: 10, Seed: 3}))
		kept := 0
		for _, id := range after {
			if id < fmt.Sprintf("q%03d", n) { // an original row
				if !slices.Contains(before, id) {
					t.Errorf("growing the file newly chose old example %s", id)
				}
				kept++
			}
		}
		if kept == 0 {
			t.Log("no original example survived (possible but unlikely)")
		}
	})
	t.Run("sample larger than the file yields all", func(t *testing.T) {
		got := ids(read(t, Options{Path: path, ID: "id", Sample: 1000, Seed: 1}))
		if !reflect.DeepEqual(got, all) {
			t.Errorf("got %d examples, want all %d in order", len(got), n)
		}
	})
	t.Run("limit applies after sampling", func(t *testing.T) {
		full := ids(read(t, Options{Path: path, ID: "id", Sample: 10, Seed: 5}))
		got := ids(read(t, Options{Path: path, ID: "id", Sample: 10, Seed: 5, Limit: 3}))
		if !reflect.DeepEqual(got, full[:3]) {
			t.Errorf("sample+limit = %v, want %v", got, full[:3])
		}
	})
	t.Run("content-hash ids", func(t *testing.T) {
		a := mustReadAll(t, Options{Path: path, Sample: 5, Seed: 9})
		var hashes []string
		for i := range n {
			hashes = append(hashes, ContentID(map[string]any{"id": fmt.Sprintf("q%03d", i), "n": json.Number(fmt.Sprint(i))}))
		}
		got := ids(a)
		sort.Strings(got)
		if want := expectedSample(9, hashes, 5); !reflect.DeepEqual(got, want) {
			t.Errorf("sample = %v, want %v", got, want)
		}
	})
}

func TestSampleValidatesWholeFile(t *testing.T) {
	tests := []struct {
		name    string
		content string
		line    int
		msg     string
	}{
		{"bad line late in the file", `{"id":"a"}` + "\n" + `{"id":"b"}` + "\n" + "{\n", 3, "invalid JSON: unexpected end of line"},
		{"duplicate", `{"id":"a"}` + "\n" + `{"id":"b"}` + "\n" + `{"id":"a"}` + "\n", 3, `duplicate id "a" (first seen at line 1)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "d.jsonl", tc.content)
			exs, err := readAll(t, Options{Path: path, ID: "id", Sample: 1})
			checkParseError(t, err, path, tc.line, tc.msg)
			if len(exs) != 0 {
				t.Errorf("yielded %d examples before the error, want 0", len(exs))
			}
		})
	}
}

func TestScanAndFingerprint(t *testing.T) {
	jsonl := numbered(t, "d.jsonl", seq(20))
	csvPath := writeFile(t, "d.csv", "id,q\na,1\nb,\"2\n2\"\nc,3\n")
	pq := writeParquet(t, []pqRow{{ID: "x"}, {ID: "y"}}, 1)
	tests := []struct {
		name   string
		opts   Options
		count  int
		format string
	}{
		{"jsonl all", Options{Path: jsonl, ID: "id"}, 20, "jsonl"},
		{"jsonl limit", Options{Path: jsonl, ID: "id", Limit: 7}, 7, "jsonl"},
		{"jsonl sample", Options{Path: jsonl, ID: "id", Sample: 5, Seed: 1}, 5, "jsonl"},
		{"jsonl sample then limit", Options{Path: jsonl, ID: "id", Sample: 5, Limit: 3}, 3, "jsonl"},
		{"jsonl sample larger than file", Options{Path: jsonl, Sample: 500}, 20, "jsonl"},
		{"csv", Options{Path: csvPath, ID: "id"}, 3, "csv"},
		{"parquet", Options{Path: pq, ID: "id"}, 2, "parquet"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info, err := Scan(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(tc.opts.Path)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(data)
			want := Info{Count: tc.count, Fingerprint: "sha256:" + hex.EncodeToString(sum[:]), Format: tc.format}
			if info != want {
				t.Errorf("Scan = %+v, want %+v", info, want)
			}
			fp, err := Fingerprint(tc.opts.Path)
			if err != nil || fp != want.Fingerprint {
				t.Errorf("Fingerprint = %q, %v; want %q", fp, err, want.Fingerprint)
			}
			// Scan's count is what Open/Next yields.
			if exs := mustReadAll(t, tc.opts); len(exs) != tc.count {
				t.Errorf("Open/Next yielded %d examples, Scan counted %d", len(exs), tc.count)
			}
		})
	}
}

// A Reader told the ids are known unique keeps no set of them: it yields a
// duplicate that a plain Reader reports (the caller, having validated the
// file, checks it did not change).
func TestKnownUniqueSkipsTheIDSet(t *testing.T) {
	path := writeFile(t, "d.jsonl", `{"id":"a"}`+"\n"+`{"id":"b"}`+"\n"+`{"id":"a"}`+"\n")
	if _, err := readAll(t, Options{Path: path, ID: "id"}); err == nil || !strings.Contains(err.Error(), "duplicate id") {
		t.Fatalf("plain reader: %v, want the duplicate", err)
	}
	exs, err := readAll(t, Options{Path: path, ID: "id", KnownUnique: true})
	if err != nil || len(exs) != 3 {
		t.Fatalf("known-unique reader: %d examples, %v; want all 3", len(exs), err)
	}
	unique := writeFile(t, "u.jsonl", `{"id":"a"}`+"\n"+`{"id":"b"}`+"\n"+`{"id":"c"}`+"\n")
	for _, sample := range []int{0, 2} {
		rd, err := Open(Options{Path: unique, ID: "id", KnownUnique: true, Sample: sample})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for {
			if rd.seen != nil && rd.seen.n != 0 {
				t.Fatalf("sample %d: %d ids kept after %d examples", sample, rd.seen.n, n)
			}
			if _, err := rd.Next(); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatalf("sample %d: %v", sample, err)
				}
				break
			}
			n++
		}
		if want := cmp.Or(sample, 3); n != want {
			t.Errorf("sample %d: %d examples, want %d", sample, n, want)
		}
		rd.Close()
	}
}
