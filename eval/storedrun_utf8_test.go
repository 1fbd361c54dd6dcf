package eval_test

// Stored runs whose inputs carry bytes that are not UTF-8, read back with
// Arrow's Parquet reader as DuckDB or Spark would: every string is valid
// UTF-8, the altered rows say so, and the JSON columns are typed JSON.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/parquet/schema"

	"github.com/gavel-eval/gavel/eval"
	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/internal/arrowtest"
)

// storedColumns reads a Parquet file with Arrow and returns its column
// names in order, the Parquet logical type of each, and the text of its
// string and binary columns (nil for null).
func storedColumns(t *testing.T, path string) ([]string, map[string]schema.LogicalType, map[string][]*string) {
	return arrowtest.Strings(t, path)
}

// checkStoredRun checks the three Parquet files of dir and returns the
// results' details column.
func checkStoredRun(t *testing.T, dir string) []*string {
	t.Helper()
	jsonCols := map[string][]string{
		results.ResultsFile: {"input", "steps", "details"},
		results.ScoresFile:  {"details"},
		results.TracesFile:  {"attributes"},
	}
	var details []*string
	for _, name := range []string{results.ResultsFile, results.ScoresFile, results.TracesFile} {
		_, logical, text := storedColumns(t, filepath.Join(dir, name))
		for col, vals := range text {
			for i, v := range vals {
				if v != nil && !utf8.ValidString(*v) {
					t.Errorf("%s: column %s row %d is not valid UTF-8: %q", name, col, i, *v)
				}
			}
		}
		for _, col := range jsonCols[name] {
			if _, ok := logical[col].(schema.JSONLogicalType); !ok {
				t.Errorf("%s: column %s has logical type %v, want JSON", name, col, logical[col])
			}
		}
		if name == results.ResultsFile {
			details = text["details"]
		}
	}
	return details
}

// flagged returns the invalid_utf8 list of a details value.
func flagged(t *testing.T, details *string) []string {
	t.Helper()
	if details == nil {
		return nil
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(*details), &d); err != nil {
		t.Fatalf("details %q: %v", *details, err)
	}
	var out []string
	list, _ := d["invalid_utf8"].([]any)
	for _, c := range list {
		out = append(out, c.(string))
	}
	return out
}

func TestStoredRunFromInvalidUTF8IsValidUTF8(t *testing.T) {
	t.Parallel()
	// The second row's question and answer hold Latin-1 bytes, as a CSV
	// exported by an old spreadsheet would.
	csv := "id,q,a\nok,two plus two,4\nlatin,caf\xe9 au lait?,cr\xe8me\n"
	spec := `name: latin1
dataset: {path: data.csv, id: "{{.id}}"}
variants:
  - {name: v1, model: offline/echo, prompt: "{{.example.q}}"}
chain:
  - {name: m, kind: llm}
judges:
  - {name: same, type: equals, expected: "{{.example.a}}"}
`
	sr := newSpecRun(t, spec, map[string]string{"data.csv": csv})
	out, err := sr.run(t.Context(), eval.Options{})
	if err != nil {
		t.Fatal(err)
	}
	details := checkStoredRun(t, out.Dir)
	if len(details) != 2 {
		t.Fatalf("%d results, want 2", len(details))
	}
	if details[0] != nil {
		t.Errorf("clean row: details %q, want null", *details[0])
	}
	if got := flagged(t, details[1]); !slices.Contains(got, "output") || !slices.Contains(got, "expected") {
		t.Errorf("altered row: invalid_utf8 %v, want output and expected among them", got)
	}

	// With strict_utf8 the same dataset is refused before any call, naming
	// the file, the line and the field.
	strict := strings.Replace(spec, `id: "{{.id}}"}`, `id: "{{.id}}", strict_utf8: true}`, 1)
	sr = newSpecRun(t, strict, map[string]string{"data.csv": csv})
	_, err = sr.run(t.Context(), eval.Options{})
	if err == nil || !strings.Contains(err.Error(), `data.csv line 3: invalid UTF-8 in field "q"`) {
		t.Errorf("strict run: error %v, want the file, line 3 and field q", err)
	}
}

func TestStoredRunExecInvalidUTF8IsValidUTF8(t *testing.T) {
	t.Parallel()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	// The program fails with bytes that are not UTF-8 on stderr; the step
	// error carries them into results.error and the span's error.
	spec := `name: exec-bytes
dataset: {path: data.jsonl, id: "{{.id}}"}
variants:
  - {name: v1, model: offline/echo, prompt: "{{.example.q}}"}
chain:
  - {name: prog, kind: exec, command: ["` + sh + `", "-c", "printf 'bad \\377\\376 bytes' >&2; exit 3"]}
judges:
  - {name: same, type: equals, value: "x"}
`
	sr := newSpecRun(t, spec, map[string]string{"data.jsonl": "{\"id\":\"e1\",\"q\":\"hi\"}\n"})
	out, err := sr.run(t.Context(), eval.Options{})
	if err != nil {
		t.Fatal(err)
	}
	details := checkStoredRun(t, out.Dir)
	if len(details) != 1 {
		t.Fatalf("%d results, want 1", len(details))
	}
	if got := flagged(t, details[0]); !slices.Contains(got, "error") {
		t.Errorf("invalid_utf8 %v, want error among them", got)
	}
	_, _, text := storedColumns(t, filepath.Join(out.Dir, results.ResultsFile))
	if e := text["error"][0]; e == nil || !strings.Contains(*e, "bad \uFFFD bytes") {
		t.Errorf("results.error = %v, want the stderr with U+FFFD", e)
	}
}

// docColumns parses docs/stored-run.md: the column names of the table
// under each "## FILE" heading (every `name` in a row's first cell).
func docColumns(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "stored-run.md"))
	if err != nil {
		t.Fatal(err)
	}
	tick := regexp.MustCompile("`([^`]+)`")
	out := map[string][]string{}
	section := ""
	for _, line := range strings.Split(string(b), "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			section = strings.TrimSpace(h)
			continue
		}
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.SplitN(line, "|", 3)[1]
		for _, m := range tick.FindAllStringSubmatch(first, -1) {
			out[section] = append(out[section], m[1])
		}
	}
	return out
}

// Every column of the stored files is documented in docs/stored-run.md,
// and every documented column exists.
func TestStoredRunDocumentsEveryColumn(t *testing.T) {
	t.Parallel()
	spec := `name: doc
dataset: {path: data.jsonl, id: "{{.id}}"}
variants:
  - {name: v1, model: offline/echo, prompt: "{{.example.q}}"}
chain:
  - {name: m, kind: llm}
judges:
  - {name: same, type: equals, expected: "{{.example.q}}"}
`
	sr := newSpecRun(t, spec, map[string]string{"data.jsonl": "{\"id\":\"e1\",\"q\":\"hi\"}\n"})
	out, err := sr.run(t.Context(), eval.Options{})
	if err != nil {
		t.Fatal(err)
	}
	doc := docColumns(t)
	for _, name := range []string{results.ResultsFile, results.ScoresFile, results.TracesFile} {
		cols, _, _ := storedColumns(t, filepath.Join(out.Dir, name))
		documented := doc[name]
		if len(documented) == 0 {
			t.Fatalf("docs/stored-run.md has no column table under \"## %s\" (sections %v)", name, doc)
		}
		for _, c := range cols {
			if !slices.Contains(documented, c) {
				t.Errorf("%s: column %s is not in docs/stored-run.md", name, c)
			}
		}
		for _, c := range documented {
			if !slices.Contains(cols, c) {
				t.Errorf("docs/stored-run.md documents %s.%s, which the file does not have", name, c)
			}
		}
	}
}
