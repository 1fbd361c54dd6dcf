package report

import (
	"bytes"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/eval/results"
)

// writeRun writes a synthetic run directory with the given rows.
func writeRun(t *testing.T, variants []string, judges []string, rs []results.Result, ss []results.Score) string {
	t.Helper()
	dir := t.TempDir()
	m := &results.Manifest{FormatVersion: results.FormatVersion, RunID: "r1", Name: "synthetic", Status: results.RunCompleted}
	for _, v := range variants {
		m.Variants = append(m.Variants, results.Variant{Name: v})
	}
	for _, j := range judges {
		m.Judges = append(m.Judges, results.Judge{Name: j, Type: "equals"})
	}
	if err := results.WriteRun(dir, m, rs, ss); err != nil {
		t.Fatal(err)
	}
	return dir
}

func fp(x float64) *float64 { return &x }
func bp(x bool) *bool       { return &x }

func TestSummarize(t *testing.T) {
	var rs []results.Result
	var ss []results.Score
	// Variant a: latencies 10..50 (p50 30, p95 48 by NumPy's linear rule),
	// one chain error; judge j: 3 of the 4 judged pass, plus a judge error.
	for i, lat := range []float64{10, 20, 30, 40, 50} {
		id := string(rune('a' + i))
		r := results.Result{Variant: "a", ExampleID: id, Status: results.StatusOK, LatencyMS: lat, PromptTokens: 10, CompletionTokens: 2, CostUSD: fp(0.001)}
		s := results.Score{Variant: "a", ExampleID: id, Judge: "j", Status: results.ScoreOK, Score: fp(1), Pass: bp(true)}
		switch i {
		case 1:
			s.Score, s.Pass = fp(0), bp(false)
		case 3:
			s.Status, s.Score, s.Pass = results.ScoreJudgeError, nil, nil
		case 4:
			r.Status = results.StatusError
			s.Status, s.Score, s.Pass = results.ScoreSkipped, nil, nil
		}
		rs = append(rs, r)
		ss = append(ss, s)
	}
	// Variant b: graded scores 0.5 and 0.25, no prices.
	rs = append(rs, results.Result{Variant: "b", ExampleID: "a", Status: results.StatusOK, LatencyMS: 5},
		results.Result{Variant: "b", ExampleID: "b", Status: results.StatusOK, LatencyMS: 7})
	ss = append(ss, results.Score{Variant: "b", ExampleID: "a", Judge: "j", Status: results.ScoreOK, Score: fp(0.5), Pass: bp(true)},
		results.Score{Variant: "b", ExampleID: "b", Judge: "j", Status: results.ScoreOK, Score: fp(0.25), Pass: bp(false)})
	dir := writeRun(t, []string{"a", "b"}, []string{"j"}, rs, ss)

	sum, err := Summarize(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, b := sum.Variants[0], sum.Variants[1]
	if a.Results != 5 || a.Errors != 1 {
		t.Errorf("a: %d results, %d errors; want 5, 1", a.Results, a.Errors)
	}
	ja := a.Judge("j")
	if ja.Valid != 3 || ja.Passed != 2 || ja.JudgeErrors != 1 || ja.Skipped != 1 {
		t.Errorf("a/j: %+v", *ja)
	}
	if got := *ja.PassRate; math.Abs(got-2.0/3) > 1e-12 {
		t.Errorf("a/j pass rate %v, want 2/3", got)
	}
	if a.LatencyP50 != 30 || math.Abs(a.LatencyP95-48) > 1e-9 {
		t.Errorf("a latency p50 %v p95 %v, want 30 and 48", a.LatencyP50, a.LatencyP95)
	}
	if a.PromptTokens != 50 || math.Abs(a.CostUSD-0.005) > 1e-12 || a.Unpriced != 0 {
		t.Errorf("a tokens %d cost %v unpriced %d", a.PromptTokens, a.CostUSD, a.Unpriced)
	}
	jb := b.Judge("j")
	if !jb.Graded || math.Abs(*jb.Mean-0.375) > 1e-12 || b.Unpriced != 2 {
		t.Errorf("b/j graded %v mean %v unpriced %d", jb.Graded, *jb.Mean, b.Unpriced)
	}

	var buf bytes.Buffer
	if err := WriteSummary(&buf, sum); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	for _, want := range []string{"j pass", "j mean", "66.7% (2/3)", "50.0% (1/2)", "0.375", "n/a", "1 judge errors on j"} {
		if !strings.Contains(text, want) {
			t.Errorf("summary text lacks %q:\n%s", want, text)
		}
	}
}

func TestSummarizeMissingRun(t *testing.T) {
	if _, err := Summarize(filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Fatal("Summarize of a missing directory succeeded")
	}
}
