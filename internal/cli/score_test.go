package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/report"
)

// TestScoreMultiVariantFile scores a file where each row holds two models'
// answers under nested keys, then re-grades the run with one judge, then
// calibrates a judge against human labels.
func TestScoreMultiVariantFile(t *testing.T) {
	dir := t.TempDir()
	run1 := filepath.Join(dir, "run1")
	env, stdout, stderr := testEnv()
	code := Main(context.Background(), []string{"score", "--spec", "testdata/score/score.yaml", "--input", "testdata/score/outputs.jsonl", "--out", run1}, env)
	if code != ExitOK {
		t.Fatalf("score: exit %d: %s", code, stderr)
	}
	if !strings.HasSuffix(strings.TrimSpace(stdout.String()), run1) {
		t.Errorf("last line is not the run directory:\n%s", stdout)
	}
	m, err := results.ReadManifest(run1)
	if err != nil {
		t.Fatal(err)
	}
	if m.Mode != "score" || len(m.Variants) != 2 || m.Totals.Results != 6 || m.Totals.Scores != 12 {
		t.Fatalf("manifest: mode %q, %d variants, %d results, %d scores", m.Mode, len(m.Variants), m.Totals.Results, m.Totals.Scores)
	}
	// Outputs and latencies come from the nested fields, in file order.
	var got []string
	err = results.ReadResults(filepath.Join(run1, results.ResultsFile), func(r results.Result) error {
		got = append(got, r.Variant+"/"+r.ExampleID+"="+r.Output+"@"+jsonNum(r.LatencyMS))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"model_a/1=The answer is 4@120", "model_a/2=9@100", "model_a/3=three@130",
		"model_b/1=5@80", "model_b/2=It is 9.@90", "model_b/3=#### 3@70"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("results:\n got %v\nwant %v", got, want)
	}
	sum, err := report.Summarize(run1)
	if err != nil {
		t.Fatal(err)
	}
	// numeric_match: a passes 4 and 9 (not "three"); b passes 9 and 3.
	for _, v := range sum.Variants {
		if j := v.Judge("correct"); j.Passed != 2 || j.Valid != 3 {
			t.Errorf("%s correct: %d/%d, want 2/3", v.Name, j.Passed, j.Valid)
		}
	}
	// Heuristic judgments of stored outputs leave no traces.
	if m.Totals.Spans != 0 {
		t.Errorf("%d spans written for heuristic scoring", m.Totals.Spans)
	}

	run2 := filepath.Join(dir, "run2")
	env, _, stderr = testEnv()
	code = Main(context.Background(), []string{"score", "--run", run1, "--judge", "exact", "--out", run2}, env)
	if code != ExitOK {
		t.Fatalf("re-grade: exit %d: %s", code, stderr)
	}
	m2, err := results.ReadManifest(run2)
	if err != nil {
		t.Fatal(err)
	}
	if m2.Mode != "regrade" || m2.RegradedFrom != m.RunID || m2.Totals.Results != 6 || m2.Totals.Scores != 6 {
		t.Errorf("re-graded manifest: mode %q from %q, %d results, %d scores", m2.Mode, m2.RegradedFrom, m2.Totals.Results, m2.Totals.Scores)
	}
	hashes := map[string]string{}
	for _, run := range []string{run1, run2} {
		err := results.ReadScores(filepath.Join(run, results.ScoresFile), func(s results.Score) error {
			if s.Judge != "exact" {
				return nil
			}
			if h, ok := hashes[s.ExampleID+s.Variant]; ok && h != s.JudgeHash {
				t.Errorf("judge hash changed between runs for the same judge: %s vs %s", h, s.JudgeHash)
			}
			hashes[s.ExampleID+s.Variant] = s.JudgeHash
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	env, stdout, stderr = testEnv()
	code = Main(context.Background(), []string{"calibrate", run1, "--labels", "testdata/score/labels.csv", "--judge", "correct", "--format", "json"}, env)
	if code != ExitOK {
		t.Fatalf("calibrate: exit %d: %s", code, stderr)
	}
	var cal struct {
		N         int     `json:"n"`
		Compare   string  `json:"compare"`
		Accuracy  float64 `json:"accuracy"`
		Kappa     float64 `json:"cohen_kappa"`
		Confusion [][]int `json:"confusion"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &cal); err != nil {
		t.Fatalf("calibrate JSON: %v\n%s", err, stdout)
	}
	// Humans: a passes 1,2,3; b fails 1, passes 2,3. The judge agrees on 5
	// of 6 (it fails a/3, "three"). p_o = 5/6; humans pass 5/6, the judge
	// 4/6, so p_e = 5/6·4/6 + 1/6·2/6 = 22/36 and kappa = (30/36 − 22/36) /
	// (14/36) = 4/7.
	if cal.N != 6 || cal.Compare != "pass" || abs(cal.Accuracy-5.0/6) > 1e-12 || abs(cal.Kappa-4.0/7) > 1e-12 {
		t.Errorf("calibration %+v; want n 6, accuracy 5/6, kappa 4/7", cal)
	}
	if len(cal.Confusion) != 2 || cal.Confusion[1][0] != 1 || cal.Confusion[0][0] != 1 || cal.Confusion[1][1] != 4 {
		t.Errorf("confusion %v; want [[1 0] [1 4]] (rows fail, pass)", cal.Confusion)
	}
}

func jsonNum(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestScoreGSM8K scores the real GSM8K test split end to end.
func TestScoreGSM8K(t *testing.T) {
	path := "../../../shared/datasets/gsm8k/test.jsonl"
	if _, err := os.Stat(path); err != nil {
		t.Skipf("the shared GSM8K dataset is not present at %s: %v", path, err)
	}
	out := filepath.Join(t.TempDir(), "run")
	env, _, stderr := testEnv()
	code := Main(context.Background(), []string{"score", "--spec", "testdata/score/gsm8k.yaml", "--input", path, "--out", out}, env)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	sum, err := report.Summarize(out)
	if err != nil {
		t.Fatal(err)
	}
	ref, q := sum.Variants[0].Judge("correct"), sum.Variants[1].Judge("correct")
	if ref.Valid != 1319 || ref.Passed != 1319 {
		t.Errorf("reference solutions: %d/%d pass, want 1319/1319", ref.Passed, ref.Valid)
	}
	if q.Valid+q.JudgeErrors != 1319 || q.Passed > 400 {
		t.Errorf("questions as answers: %d/%d pass; expected most to fail", q.Passed, q.Valid)
	}
}

func TestScoreUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"score"}, "give either --input FILE"},
		{[]string{"score", "--input", "x.jsonl"}, "--input needs --spec"},
		{[]string{"score", "--input", "x.jsonl", "--run", "r"}, "give either --input FILE"},
		{[]string{"score", "--spec", "../../examples/arithmetic/gavel.yaml", "--input", "testdata/score/outputs.jsonl"}, "score: missing"},
		{[]string{"score", "--run", "testdata/nope"}, "reading run testdata/nope"},
		{[]string{"score", "--spec", "testdata/score/score.yaml", "--input", "testdata/score/outputs.jsonl", "--judge", "nope"}, `no judge named "nope"`},
	}
	for _, tt := range tests {
		env, _, stderr := testEnv()
		if code := Main(context.Background(), tt.args, env); code != ExitError {
			t.Errorf("%v: exit %d, want %d", tt.args, code, ExitError)
		}
		if !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%v: stderr %q lacks %q", tt.args, stderr, tt.want)
		}
	}
}
