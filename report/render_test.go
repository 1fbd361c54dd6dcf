package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/report/stats"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// hostile strings stand for model outputs and dataset fields that try to
// break out of the report.
const (
	hostileScript  = "<script>alert(1)</script>"
	hostileDetails = "</details><img src=x onerror=alert(2)>"
	hostilePipe    = "a | pipe | b"
	hostileNewline = "line one\nline two\r\n# heading"
	hostileTicks   = "```\nrm -rf / `code` *bold* _it_ [link](javascript:alert(3)) @octocat $x$ ~~s~~"
	hostileANSI    = "\x1b[2Jcleared\u202eevil"
)

// fixtureReport is a hand-built compare report with everything a format
// must show.
func fixtureReport() *Report {
	long := strings.Repeat("very long output ", 20)
	return &Report{
		FormatVersion: FormatVersion,
		Kind:          "compare",
		Runs: []RunRef{
			{RunID: "r-base", Dir: "runs/r-base", Name: "gsm8k-prompts", Status: "completed", StartedAt: "2026-05-01T10:00:00Z", GitCommit: "0123456789abcdef0123"},
			{RunID: "r-cand", Dir: "runs/r-cand", Name: "gsm8k-prompts", Status: "completed", Mode: "regrade", StartedAt: "2026-05-02T10:00:00Z"},
		},
		Variants: []VariantStats{
			{Name: "baseline", Run: "r-base", Variant: "baseline", Results: 200, OK: 198, Errors: 2, ErrorRate: 0.01, Epochs: 1,
				LatencyP50: 812, LatencyP95: 1534.25, LatencyP99: 2001.5, PromptTokens: 41234, CompletionTokens: 9123, CostUSD: 0.1234,
				JudgePromptTokens: 51230, JudgeCompletionTokens: 4100, JudgeCostUSD: 0.0412, JudgeCalls: 196,
				Judges: []JudgeStats{
					{Judge: "correct", Type: "numeric_match", Valid: 198, Passed: 161, Failed: 37, Skipped: 2,
						PassRate: fp(161.0 / 198), PassRateCI: &stats.Interval{Lo: 0.752, Hi: 0.861}, Scored: 198, Mean: fp(161.0 / 198), MeanCI: &stats.Interval{Lo: 0.758, Hi: 0.868}},
					{Judge: "clear", Type: "llm_rubric", Valid: 196, Passed: 150, Failed: 46, JudgeErrors: 2, Skipped: 2,
						PassRate: fp(150.0 / 196), PassRateCI: &stats.Interval{Lo: 0.70, Hi: 0.82}, Scored: 196, Mean: fp(0.71), MeanCI: &stats.Interval{Lo: 0.68, Hi: 0.74}, Graded: true},
					{Judge: "concise", Type: "max_length", Valid: 198, Passed: 190, Failed: 8, Skipped: 2,
						PassRate: fp(190.0 / 198), PassRateCI: &stats.Interval{Lo: 0.92, Hi: 0.98}, Scored: 198, Mean: fp(190.0 / 198), MeanCI: &stats.Interval{Lo: 0.93, Hi: 0.99}},
				},
				Metrics: []results.CorpusMetric{{Variant: "baseline", Judge: "bleu", Type: "corpus_bleu", Value: 0.2312, Description: "corpus BLEU-4"}}},
			{Name: "candidate", Run: "r-cand", Variant: "candidate", Results: 200, OK: 200, Epochs: 1,
				LatencyP50: 790.5, LatencyP95: 1490, LatencyP99: 1900, PromptTokens: 43000, CompletionTokens: 9800, CostUSD: 0.1301, Unpriced: 3,
				JudgePromptTokens: 52800, JudgeCompletionTokens: 4300, JudgeCostUSD: 0.0398, JudgeCalls: 200, JudgeUnpriced: 4,
				Judges: []JudgeStats{
					{Judge: "correct", Type: "numeric_match", Valid: 200, Passed: 172, Failed: 28,
						PassRate: fp(0.86), PassRateCI: &stats.Interval{Lo: 0.805, Hi: 0.901}, Scored: 200, Mean: fp(0.86), MeanCI: &stats.Interval{Lo: 0.81, Hi: 0.91}},
					{Judge: "clear", Type: "llm_rubric", Valid: 200, Passed: 120, Failed: 80,
						PassRate: fp(0.6), PassRateCI: &stats.Interval{Lo: 0.53, Hi: 0.66}, Scored: 200, Mean: fp(0.62), MeanCI: &stats.Interval{Lo: 0.59, Hi: 0.65}, Graded: true},
					{Judge: "concise", Type: "max_length", Valid: 200, Passed: 191, Failed: 9,
						PassRate: fp(0.955), PassRateCI: &stats.Interval{Lo: 0.92, Hi: 0.98}, Scored: 200, Mean: fp(0.955), MeanCI: &stats.Interval{Lo: 0.93, Hi: 0.99}},
				},
				Metrics: []results.CorpusMetric{}},
		},
		Comparisons: []Comparison{{
			A: "baseline", B: "candidate", Paired: 196,
			OnlyA: []string{"ex-7", "ex-9"},
			OnlyB: []string{"ex-201", hostileScript},
			Judges: []JudgeComparison{
				{Judge: "correct", N: 196, MeanA: 0.812, MeanB: 0.862, Diff: 0.05, DiffCI: stats.Interval{Lo: 0.012, Hi: 0.081},
					DiffCINormal: stats.Interval{Lo: 0.011, Hi: 0.089}, PassRateA: 0.812, PassRateB: 0.862, Test: "mcnemar_exact",
					Method: "exact", Statistic: 4, P: 0.008, PRaw: 0.008, Alternative: "two-sided", PAdjusted: 0.024, Improved: 14, Regressed: 4, Equal: 178, Verdict: "improved", MDE: 0.035, MDEMethod: MDEMcNemar,
					Regressions: []ExampleChange{
						{ExampleID: "ex-12", Input: `{"question":"2+2?"}`, Expected: "4", OutputA: "#### 4", OutputB: hostilePipe,
							ScoreA: 1, ScoreB: 0, PassA: true, ReasonB: "expected 4", TraceA: "ta-12", TraceB: "tb-12"},
					},
					Improvements: []ExampleChange{
						{ExampleID: "ex-3", Input: `{"question":"1+1?"}`, OutputA: "3", OutputB: "2", ScoreB: 1, PassB: true, TraceA: "ta-3", TraceB: "tb-3"},
					}},
				{Judge: "clear", N: 194, MeanA: 0.71, MeanB: 0.62, Diff: -0.09, DiffCI: stats.Interval{Lo: -0.13, Hi: -0.05},
					DiffCINormal: stats.Interval{Lo: -0.131, Hi: -0.049}, PassRateA: 0.765, PassRateB: 0.6, Test: "wilcoxon_signed_rank",
					Method: "normal+cc", Statistic: 1830.5, Z: ptr(-4.42), P: 0.00001, PRaw: 0.00001, Alternative: "two-sided", PAdjusted: 0.00003, Improved: 20, Regressed: 61, Equal: 113, Verdict: "regressed", MDE: 0.04, MDEMethod: MDEPairedT,
					Regressions: []ExampleChange{
						{ExampleID: "ex-31", Input: hostileNewline, OutputA: "Clear steps.", OutputB: hostileScript,
							ScoreA: 0.9, ScoreB: 0.1, PassA: true, ReasonA: "easy to follow", ReasonB: hostileDetails, TraceA: "ta-31", TraceB: "tb-31"},
						{ExampleID: "ex-44", Input: "{}", OutputA: "fine", OutputB: hostileTicks,
							ScoreA: 0.8, ScoreB: 0.2, PassA: true, ReasonB: hostileANSI, TraceA: "ta-44", TraceB: "tb-44"},
						{ExampleID: hostilePipe, Input: "{}", OutputA: long, OutputB: "short",
							ScoreA: 0.7, ScoreB: 0.3, PassA: true, TraceB: "tb-x"},
					},
					Improvements: []ExampleChange{}},
				{Judge: "concise", N: 196, MeanA: 0.959, MeanB: 0.954, Diff: -0.005, DiffCI: stats.Interval{Lo: -0.03, Hi: 0.02},
					DiffCINormal: stats.Interval{Lo: -0.031, Hi: 0.021}, PassRateA: 0.959, PassRateB: 0.954, Test: "mcnemar_exact",
					Method: "exact", Statistic: 4, P: 0.81, PRaw: 0.81, Alternative: "two-sided", PAdjusted: 0.81, Improved: 3, Regressed: 4, Equal: 189, Verdict: "no significant difference", MDE: 0.03, MDEMethod: MDEMcNemar,
					Regressions: []ExampleChange{}, Improvements: []ExampleChange{}},
			},
		}},
		Pairwise: []PairSummary{{Judge: "prefer", A: "baseline", B: "candidate", Wins: 90, Losses: 70, Ties: 36, Inconsistent: 5, JudgeErrors: 1, Skipped: 2}},
		Ranking: []Rank{
			{Judge: "prefer", Variant: "candidate", Score: 0.125, CI: stats.Interval{Lo: -0.02, Hi: 0.27}},
			{Judge: "prefer", Variant: "baseline", Score: -0.125, CI: stats.Interval{Lo: -0.27, Hi: 0.02}},
		},
		Gates: []GateResult{
			{Gate: "correct: min_pass_rate 0.8", Judge: "correct", Variant: "candidate", Passed: true, Value: 0.86, Threshold: 0.8,
				Detail: "candidate: pass rate 86.0% (172/200 valid)"},
			{Gate: "clear: max_drop 0.02", Judge: "clear", Variant: "candidate", Passed: false, Value: 0.09, Threshold: 0.02,
				Detail: "significant drop larger than allowed: candidate vs baseline: change -0.0900 [-0.1300, -0.0500], p = 3e-05 (Holm-adjusted, wilcoxon_signed_rank), n = 194"},
		},
		Alpha:   0.05,
		PAdjust: "holm", ZeroMethod: "wilcox",
		Warnings: []string{"baseline: 2 of 200 results failed (chain or model errors) and have no scores"},
	}
}

func render(t *testing.T, r *Report, f Format, o RenderOptions) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Render(&buf, r, f, o); err != nil {
		t.Fatalf("Render %s: %v", f, err)
	}
	return buf.String()
}

// golden compares got with testdata/render/name, rewriting it under
// -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "render", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report/ -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test ./report/ -run %s -update rewrites it)\n--- got ---\n%s", path, t.Name(), got)
	}
}

func TestRenderGolden(t *testing.T) {
	cases := []struct {
		file string
		f    Format
		o    RenderOptions
	}{
		{"report.txt", FormatText, RenderOptions{}},
		{"report.color.txt", FormatText, RenderOptions{Color: true, MaxExamples: 2}},
		{"report.md", FormatMarkdown, RenderOptions{}},
		{"report.json", FormatJSON, RenderOptions{}},
		{"report.junit.xml", FormatJUnit, RenderOptions{JUnit: fixtureJUnit()}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			got := render(t, fixtureReport(), c.f, c.o)
			golden(t, c.file, got)
			// Rendering is deterministic.
			if again := render(t, fixtureReport(), c.f, c.o); again != got {
				t.Error("a second rendering differs from the first")
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range Formats() {
		got, err := ParseFormat(strings.ToUpper(string(f)))
		if err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %q, %v", f, got, err)
		}
	}
	_, err := ParseFormat("yaml")
	if err == nil || !strings.Contains(err.Error(), "text, markdown, json, junit") {
		t.Errorf("ParseFormat(yaml) error = %v, want the valid names listed", err)
	}
	if err := Render(&bytes.Buffer{}, fixtureReport(), "yaml", RenderOptions{}); err == nil {
		t.Error("Render with an unknown format succeeded")
	}
}

func TestRenderColorOnlyWhenAsked(t *testing.T) {
	for _, f := range Formats() {
		if f == FormatHTML {
			continue // reads stored runs, which the hand-built report has none of; it never writes ANSI codes (TestRenderBuiltReport renders it)
		}
		o := RenderOptions{JUnit: fixtureJUnit()}
		if out := render(t, fixtureReport(), f, o); strings.Contains(out, "\x1b[") {
			t.Errorf("%s without Color has an ANSI escape", f)
		}
	}
	plain := render(t, fixtureReport(), FormatText, RenderOptions{})
	color := render(t, fixtureReport(), FormatText, RenderOptions{Color: true})
	for _, code := range []string{ansiGreen, ansiRed, ansiReset} {
		if !strings.Contains(color, code) {
			t.Errorf("text with Color lacks %q", code)
		}
	}
	// Colours wrap whole lines: stripping them gives the plain text back.
	if stripped := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(color, ""); stripped != plain {
		t.Errorf("text with colours stripped differs from plain text:\n%s", stripped)
	}
	// The improved row is green, the regressed one and the failed gate red.
	for _, want := range []string{ansiGreen + "  correct", ansiRed + "  clear", ansiRed + "  FAIL"} {
		if !strings.Contains(color, want) {
			t.Errorf("text with Color lacks %q", want)
		}
	}
}

func TestRenderTextIsSafeForTerminals(t *testing.T) {
	out := render(t, fixtureReport(), FormatText, RenderOptions{})
	if strings.ContainsAny(out, "\x1b\r\t\u202e") {
		t.Error("text output holds a raw control or bidi character from a model output")
	}
	for _, want := range []string{`\u001b[2Jcleared\u202eevil`, `line one\nline two`, "~", "only in candidate (2)", "ex-7, ex-9",
		"tb-31", "trace ta-12", "very long outp…\"", "clear: max_drop 0.02", "[1] baseline: 2 of 200"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q", want)
		}
	}
	// MaxExamples caps the regressions shown per judge.
	two := render(t, fixtureReport(), FormatText, RenderOptions{MaxExamples: 2})
	if !strings.Contains(two, "2 of 61 worse") || strings.Contains(two, "a | pipe | b  score") {
		t.Error("MaxExamples 2 did not cap the regressions shown")
	}
	none := render(t, fixtureReport(), FormatText, RenderOptions{MaxExamples: -1})
	if strings.Contains(none, "top regressions") {
		t.Error("MaxExamples -1 still shows regressions")
	}
}

func TestRenderJSONRoundTrips(t *testing.T) {
	r := fixtureReport()
	out := render(t, r, FormatJSON, RenderOptions{})
	var back Report
	if err := json.Unmarshal([]byte(out), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, r) {
		a, _ := json.MarshalIndent(back, "", " ")
		t.Errorf("decoded report differs from the rendered one:\n%s", a)
	}
	if again := render(t, &back, FormatJSON, RenderOptions{}); again != out {
		t.Error("re-rendering the decoded report gives other JSON")
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["format_version"] != float64(FormatVersion) {
		t.Errorf("format_version = %v", doc["format_version"])
	}
	p := doc["pairwise"].([]any)[0].(map[string]any)
	if p["judge_errors"] != float64(1) || p["a"] != "baseline" {
		t.Errorf("pairwise keys are not snake_case: %v", p)
	}
}

func TestRenderJSONNullsAndEmptySlices(t *testing.T) {
	// A sparse report: nil slices everywhere, NaN in plain float64 fields.
	r := &Report{Kind: "report", Variants: []VariantStats{{Name: "v", LatencyP50: math.NaN(), LatencyP95: math.Inf(1),
		Judges: []JudgeStats{{Judge: "j"}}}},
		Comparisons: []Comparison{{A: "a", B: "b", Judges: []JudgeComparison{{Judge: "j", P: math.NaN(), PAdjusted: math.NaN(),
			MeanA: math.NaN(), DiffCI: stats.Interval{Lo: math.NaN(), Hi: math.NaN()}, Verdict: "not enough data"}}}},
		Gates: []GateResult{{Gate: "g", Value: math.NaN()}}}
	out := render(t, r, FormatJSON, RenderOptions{})
	var doc any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, out)
	}
	checkNoNullSlices(t, reflect.TypeFor[Report](), doc, "$")
	for _, want := range []string{`"latency_p50_ms": null`, `"latency_p95_ms": null`, `"p": null`, `"lo": null`, `"value": null`, `"format_version": 1`} {
		if !strings.Contains(out, want) {
			t.Errorf("JSON lacks %s", want)
		}
	}
	// The fixture too, and its text and Markdown do not print NaN.
	var full any
	if err := json.Unmarshal([]byte(render(t, fixtureReport(), FormatJSON, RenderOptions{})), &full); err != nil {
		t.Fatal(err)
	}
	checkNoNullSlices(t, reflect.TypeFor[Report](), full, "$")
	for _, f := range []Format{FormatText, FormatMarkdown} {
		if s := render(t, r, f, RenderOptions{}); strings.Contains(s, "NaN") || strings.Contains(s, "Inf") {
			t.Errorf("%s prints NaN or Inf:\n%s", f, s)
		}
	}
}

// checkNoNullSlices walks a decoded JSON value beside the Go type it
// encodes and fails where a slice field is null.
func checkNoNullSlices(t *testing.T, typ reflect.Type, v any, path string) {
	t.Helper()
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
		if v == nil {
			return
		}
	}
	switch typ.Kind() {
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			t.Errorf("%s is %v, want an array", path, v)
			return
		}
		for i, x := range arr {
			checkNoNullSlices(t, typ.Elem(), x, path+"["+itoa(i)+"]")
		}
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			t.Errorf("%s is %v, want an object", path, v)
			return
		}
		for i := range typ.NumField() {
			sf := typ.Field(i)
			name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if !sf.IsExported() || name == "-" {
				continue // not in the JSON
			}
			if name == "" {
				name = snakeCase(sf.Name)
			}
			x, present := obj[name]
			if !present {
				if !strings.Contains(sf.Tag.Get("json"), "omitempty") {
					t.Errorf("%s.%s is missing", path, name)
				}
				continue
			}
			checkNoNullSlices(t, sf.Type, x, path+"."+name)
		}
	}
}

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{"A": "a", "Lo": "lo", "JudgeErrors": "judge_errors", "RunID": "run_id",
		"CostUSD": "cost_usd", "LatencyP50": "latency_p50", "HTTPServer": "http_server"} {
		if got := snakeCase(in); got != want {
			t.Errorf("snakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRenderNilReport(t *testing.T) {
	if err := Render(&bytes.Buffer{}, nil, FormatText, RenderOptions{}); err == nil {
		t.Error("Render(nil) succeeded")
	}
}

// failingWriter fails every write, to check write errors surface.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestRenderReportsWriteErrors(t *testing.T) {
	for _, f := range Formats() {
		if err := Render(failingWriter{}, fixtureReport(), f, RenderOptions{JUnit: fixtureJUnit()}); err == nil {
			t.Errorf("%s: a failing writer gave no error", f)
		}
	}
}

// TestRenderBuiltReport renders a report computed from a stored run, not
// a hand-built one: whatever NaNs and empty lists the builder leaves, every
// format must still be valid.
func TestRenderBuiltReport(t *testing.T) {
	var rs []results.Result
	var ss []results.Score
	for i := range 6 {
		id := "e" + itoa(i)
		for _, v := range []string{"a", "b"} {
			r := results.Result{Variant: v, ExampleID: id, ExampleIndex: int64(i), Status: results.StatusOK, LatencyMS: float64(100 * (i + 1)), Output: hostileScript, TraceID: "t-" + v + id}
			s := results.Score{Variant: v, ExampleID: id, Judge: "j", Status: results.ScoreOK, Score: fp(1), Pass: bp(true), Reason: results.Str(hostileDetails)}
			if v == "b" && i%2 == 0 {
				s.Score, s.Pass = fp(0), bp(false)
			}
			if v == "b" && i == 5 {
				r.Status, r.Error = results.StatusError, results.Str("boom\n"+hostilePipe)
				s.Status, s.Score, s.Pass = results.ScoreSkipped, nil, nil
			}
			rs = append(rs, r)
			ss = append(ss, s)
		}
	}
	dir := writeRun(t, []string{"a", "b"}, []string{"j"}, rs, ss)
	r, err := CompareVariants(dir, "a", "b", Options{Gates: []Gate{{Judge: "j", MinPassRate: fp(0.9), MaxDrop: fp(0.01)}}})
	if err != nil {
		t.Fatal(err)
	}
	cases, err := JUnitCasesFromRun(dir, []string{"b"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range Formats() {
		out := render(t, r, f, RenderOptions{JUnit: cases})
		switch f {
		case FormatJSON:
			var doc any
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("invalid JSON: %v\n%s", err, out)
			}
			checkNoNullSlices(t, reflect.TypeFor[Report](), doc, "$")
		case FormatMarkdown:
			if html := gfm(t, out); strings.Contains(html, "<script") || strings.Contains(html, "<img") ||
				strings.Count(html, "</details>") != strings.Count(html, "<details>") {
				t.Errorf("markdown lets hostile text through:\n%s", out)
			}
		case FormatJUnit:
			validJUnit(t, "built.xml", []byte(out))
		}
		if f == FormatHTML {
			// The page's own script mentions NaN (isNaN); its data must not.
			out = regexp.MustCompile(`(?s)<script>.*?</script>`).ReplaceAllString(out, "")
		}
		if strings.Contains(out, "NaN") {
			t.Errorf("%s prints NaN:\n%s", f, out)
		}
	}
}

// TestReportJSONDocumented keeps docs/report-json.md in step with the
// Report: every key the JSON format writes is documented there.
func TestReportJSONDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "report-json.md"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type, string)
	walk = func(typ reflect.Type, path string) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			sf := typ.Field(i)
			name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if !sf.IsExported() || name == "-" {
				continue // not in the JSON
			}
			if name == "" {
				name = snakeCase(sf.Name)
			}
			if !bytes.Contains(doc, []byte("`"+name+"`")) && !bytes.Contains(doc, []byte(`"`+name+`"`)) {
				t.Errorf("docs/report-json.md does not document %s.%s", path, name)
			}
			walk(sf.Type, path+"."+name)
		}
	}
	walk(reflect.TypeFor[Report](), "$")
}
