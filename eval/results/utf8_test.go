package results_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/parquet/schema"
	"github.com/parquet-go/parquet-go"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/internal/arrowtest"
)

// arrowStrings reads every string and binary column of a Parquet file
// with Arrow's reader (an independent implementation): column name -> its
// values (nil for null), and the Parquet logical type of each column.
func arrowStrings(t *testing.T, path string) (map[string][]*string, map[string]schema.LogicalType) {
	_, logical, text := arrowtest.Strings(t, path)
	return text, logical
}

// checkValidUTF8 fails for every stored string that is not valid UTF-8.
func checkValidUTF8(t *testing.T, path string, cols map[string][]*string) {
	t.Helper()
	for name, vals := range cols {
		for i, v := range vals {
			if v != nil && !utf8.ValidString(*v) {
				t.Errorf("%s: column %s row %d: invalid UTF-8 %q", filepath.Base(path), name, i, *v)
			}
		}
	}
}

// checkJSONColumns fails unless each named column has Parquet's JSON
// logical type.
func checkJSONColumns(t *testing.T, path string, logical map[string]schema.LogicalType, names ...string) {
	t.Helper()
	for _, name := range names {
		lt, ok := logical[name]
		if !ok {
			t.Errorf("%s: no column %s", filepath.Base(path), name)
			continue
		}
		if _, isJSON := lt.(schema.JSONLogicalType); !isJSON {
			t.Errorf("%s: column %s has logical type %v, want JSON", filepath.Base(path), name, lt)
		}
	}
}

func TestResultWriterStoresValidUTF8(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "results.parquet")
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	bad := results.Result{
		RunID: "run", Variant: "v", ExampleID: "e\xff1", ExampleIndex: 0, Status: results.StatusError,
		Input: "{\"q\":\"caf\xe9\"}", Output: "a\xffb", Expected: results.Str("x\xc3"), Error: results.Str("bad \xfe byte"),
		Steps: "{}", TraceID: "t0", StartedAt: t0,
	}
	good := results.Result{
		RunID: "run", Variant: "v", ExampleID: "e2", ExampleIndex: 1, Status: results.StatusOK,
		Input: `{"q":"café"}`, Output: "fine ✓", Steps: `{"s":"x"}`, TraceID: "t1", StartedAt: t0,
	}
	rows := []results.Result{bad, good}
	writeResults(t, path, rows, 2)
	if rows[0].Output != "a\xffb" {
		t.Errorf("the caller's row was modified: output %q", rows[0].Output)
	}

	cols, logical := arrowStrings(t, path)
	checkValidUTF8(t, path, cols)
	checkJSONColumns(t, path, logical, "input", "steps", "details")

	got := readResults(t, path)
	if got[0].Output != "a\uFFFDb" || got[0].ExampleID != "e\uFFFD1" || results.Deref(got[0].Expected) != "x\uFFFD" {
		t.Errorf("bad row read back as output %q, example_id %q, expected %q", got[0].Output, got[0].ExampleID, results.Deref(got[0].Expected))
	}
	var details map[string][]string
	if err := json.Unmarshal([]byte(results.Deref(got[0].Details)), &details); err != nil {
		t.Fatalf("details %q: %v", results.Deref(got[0].Details), err)
	}
	if want := []string{"example_id", "input", "output", "expected", "error"}; !slices.Equal(details["invalid_utf8"], want) {
		t.Errorf("details invalid_utf8 = %v, want %v", details["invalid_utf8"], want)
	}
	if got[1].Details != nil {
		t.Errorf("clean row has details %q, want null", *got[1].Details)
	}
	if got[1].Output != good.Output || got[1].Input != good.Input {
		t.Errorf("clean row changed: %+v", got[1])
	}

	// The files a run's parts are merged into keep the logical types.
	merged := filepath.Join(dir, "merged.parquet")
	if err := results.MergeSorted(merged, []string{path}, nil); err != nil {
		t.Fatal(err)
	}
	_, mlogical := arrowStrings(t, merged)
	checkJSONColumns(t, merged, mlogical, "input", "steps", "details")
}

func TestScoreWriterStoresValidUTF8(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "scores.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := results.NewScoreWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	rows := []results.Score{
		{RunID: "run", Variant: "v", ExampleID: "e1", Judge: "j", JudgeType: "llm", JudgeHash: "h", Status: results.ScoreOK,
			Reason: results.Str("because \xff"), Label: results.Str("l\xfe"), Details: results.Str(`{"consistent":false,"raw":"ok"}`), TraceID: "t", SpanID: "s"},
		{RunID: "run", Variant: "v", ExampleID: "e2", Judge: "j", JudgeType: "llm", JudgeHash: "h", Status: results.ScoreOK,
			Reason: results.Str("\xc0"), TraceID: "t", SpanID: "s"},
		{RunID: "run", Variant: "v", ExampleID: "e3", Judge: "j", JudgeType: "llm", JudgeHash: "h", Status: results.ScoreOK,
			Reason: results.Str("fine"), Details: results.Str(`{"n":1.50}`), TraceID: "t", SpanID: "s"},
	}
	if err := w.Write(rows...); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	cols, logical := arrowStrings(t, path)
	checkValidUTF8(t, path, cols)
	checkJSONColumns(t, path, logical, "details")

	var got []results.Score
	if err := results.ReadScores(path, func(s results.Score) error { got = append(got, s); return nil }); err != nil {
		t.Fatal(err)
	}
	wantDetails := []string{
		`{"consistent":false,"invalid_utf8":["label","reason"],"raw":"ok"}`,
		`{"invalid_utf8":["reason"]}`,
		`{"n":1.50}`,
	}
	for i, want := range wantDetails {
		if d := results.Deref(got[i].Details); d != want {
			t.Errorf("row %d: details %s, want %s", i, d, want)
		}
	}
	if r := results.Deref(got[0].Reason); r != "because \uFFFD" {
		t.Errorf("reason %q", r)
	}
}

// TestWriterSanitizesNamedStrings: columns of a named string type (the
// statuses) are made valid UTF-8 like plain strings.
func TestWriterSanitizesNamedStrings(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "scores.parquet")
	writeScores(t, path, results.Score{RunID: "run", Variant: "v", ExampleID: "e1", Judge: "j", Status: "ok\xff"})
	var got []results.Score
	if err := results.ReadScores(path, func(s results.Score) error { got = append(got, s); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Status != "ok\uFFFD" || results.Deref(got[0].Details) != `{"invalid_utf8":["status"]}` {
		t.Errorf("read back %+v, want status \"ok\uFFFD\" and details listing status", got)
	}
}

// resultV0 is a results.parquet row as written before the details column
// and the JSON logical types: the parts of a run interrupted then may be
// resumed by this version.
type resultV0 struct {
	RunID            string    `parquet:"run_id,dict"`
	Variant          string    `parquet:"variant,dict"`
	ExampleID        string    `parquet:"example_id"`
	ExampleIndex     int64     `parquet:"example_index"`
	Epoch            int32     `parquet:"epoch"`
	Status           string    `parquet:"status,dict"`
	Input            string    `parquet:"input"`
	Output           string    `parquet:"output"`
	Expected         *string   `parquet:"expected,optional"`
	Error            *string   `parquet:"error,optional"`
	FailedStep       *string   `parquet:"failed_step,optional"`
	Steps            string    `parquet:"steps"`
	LatencyMS        float64   `parquet:"latency_ms"`
	PromptTokens     int64     `parquet:"prompt_tokens"`
	CompletionTokens int64     `parquet:"completion_tokens"`
	CostUSD          *float64  `parquet:"cost_usd,optional"`
	TraceID          string    `parquet:"trace_id"`
	StartedAt        time.Time `parquet:"started_at,timestamp(microsecond)"`
}

// Parts written with the older schema merge with new ones into the
// current schema, whichever comes first.
func TestMergeConvertsOlderParts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	old := filepath.Join(dir, "old.parquet")
	f, err := os.Create(old)
	if err != nil {
		t.Fatal(err)
	}
	ow := parquet.NewGenericWriter[resultV0](f)
	if _, err := ow.Write([]resultV0{{RunID: "run", Variant: "v", ExampleID: "e0", ExampleIndex: 0, Status: "ok",
		Input: `{"q":0}`, Output: "zero", Expected: results.Str("0"), Steps: "{}", TraceID: "t0", StartedAt: t0}}); err != nil {
		t.Fatal(err)
	}
	if err := ow.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cur := filepath.Join(dir, "new.parquet")
	writeResults(t, cur, []results.Result{{RunID: "run", Variant: "v", ExampleID: "e1", ExampleIndex: 1, Status: "ok",
		Input: `{"q":1}`, Output: "one\xff", Steps: "{}", TraceID: "t1", StartedAt: t0}}, 1)

	// A file of the older schema reads on its own too.
	var olds []results.Result
	if err := results.ReadResults(old, func(r results.Result) error { olds = append(olds, r); return nil }); err != nil {
		t.Fatalf("reading a file of the older schema: %v", err)
	}
	if len(olds) != 1 || olds[0].Output != "zero" || olds[0].Input != `{"q":0}` || results.Deref(olds[0].Expected) != "0" || olds[0].TTFTMS != nil {
		t.Errorf("a file of the older schema read back as %+v", olds)
	}

	for _, order := range [][]string{{old, cur}, {cur, old}} {
		for name, merge := range map[string]func(string, []string) error{
			"MergeSorted": func(dst string, srcs []string) error { return results.MergeSorted(dst, srcs, nil) },
			"Concat":      results.Concat,
		} {
			dst := filepath.Join(t.TempDir(), "out.parquet")
			if err := merge(dst, order); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got := map[string]results.Result{}
			if err := results.ReadResults(dst, func(r results.Result) error { got[r.ExampleID] = r; return nil }); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if g := got["e0"]; g.Output != "zero" || results.Deref(g.Expected) != "0" || g.Input != `{"q":0}` || g.Details != nil {
				t.Errorf("%s: old row read back as %+v", name, g)
			}
			if g := got["e1"]; g.Output != "one\uFFFD" || results.Deref(g.Details) != `{"invalid_utf8":["output"]}` {
				t.Errorf("%s: new row read back as %+v", name, g)
			}
			_, logical := arrowStrings(t, dst)
			checkJSONColumns(t, dst, logical, "input", "steps", "details")
		}
	}
}
