package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScoreRegradeSelectedJudgesGates: re-grading a stored run with
// --judge and no --spec checks only the stored spec's gates on the
// selected judges (and those on no judge); a gate of a judge that was not
// run has no scores to read and is not checked, then or when the re-graded
// run is reported.
func TestScoreRegradeSelectedJudgesGates(t *testing.T) {
	dir := t.TempDir()
	spec, err := os.ReadFile("testdata/score/score.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// correct passes 2 of 3 for each model; exact passes 1 of 3 and 0 of 3.
	gated := string(spec) + "gates:\n  - {judge: correct, min_pass_rate: 0.5}\n  - {judge: exact, min_pass_rate: 0.9}\n"
	specPath := filepath.Join(dir, "score.yaml")
	if err := os.WriteFile(specPath, []byte(gated), 0o644); err != nil {
		t.Fatal(err)
	}
	input, err := filepath.Abs("testdata/score/outputs.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	run1 := filepath.Join(dir, "run1")
	env, _, stderr := testEnv()
	if code := Main(context.Background(), []string{"score", "--spec", specPath, "--input", input, "--out", run1}, env); code != ExitGateFailed {
		t.Fatalf("score with both judges: exit %d, want %d (the exact gate fails): %s", code, ExitGateFailed, stderr)
	}

	cases := []struct {
		judge   string
		code    int
		mention string // a judge the gate output must name ("" for none)
		absent  string // a judge it must not name
	}{
		{"correct", ExitOK, "", "exact"},
		{"exact", ExitGateFailed, "exact", "correct"},
	}
	for _, tc := range cases {
		out := filepath.Join(dir, "regrade-"+tc.judge)
		env, stdout, stderr := testEnv()
		code := Main(context.Background(), []string{"score", "--run", run1, "--judge", tc.judge, "--out", out}, env)
		if code != tc.code {
			t.Errorf("--judge %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tc.judge, code, tc.code, stdout, stderr)
			continue
		}
		all := stdout.String() + stderr.String()
		if tc.mention != "" && !strings.Contains(all, tc.mention) {
			t.Errorf("--judge %s: the gate output does not name %s:\n%s", tc.judge, tc.mention, all)
		}
		if strings.Contains(stderr.String(), tc.absent) {
			t.Errorf("--judge %s: a gate of %s, which was not run, was checked:\n%s", tc.judge, tc.absent, stderr)
		}
		// Reporting the re-graded run later checks the same gates.
		env, stdout, stderr = testEnv()
		if code := Main(context.Background(), []string{"report", out}, env); code != tc.code {
			t.Errorf("report of the run re-graded with --judge %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tc.judge, code, tc.code, stdout, stderr)
		}
	}
}
