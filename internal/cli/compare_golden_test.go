package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/eval/results"
)

// goldenCompareRun writes a stored run of variants A and B on 40 examples
// with three judges, one of each scale: "exact" (binary: B fixes 9 and
// breaks 2), "grade" (ordinal, 1–5, with ties and zero differences) and
// "similarity" (continuous). B's last example failed with an error, so
// every figure shows how errors are counted. Everything is fixed: ids,
// times, latencies and tokens.
func goldenCompareRun(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := &results.Manifest{FormatVersion: results.FormatVersion, RunID: "golden-compare", Name: "golden-compare",
		Status: results.RunCompleted, Mode: "run", StartedAt: start, EndedAt: start.Add(90 * time.Second),
		Variants: []results.Variant{{Name: "A", Model: "offline/calc"}, {Name: "B", Model: "offline/calc"}},
		Judges: []results.Judge{{Name: "exact", Type: "equals"}, {Name: "grade", Type: "llm_rubric", Scale: "ordinal"},
			{Name: "similarity", Type: "levenshtein"}},
		Repeat: 1, Concurrency: 4}
	const n = 40
	var rs []results.Result
	var ss []results.Score
	for i := range n {
		id := fmt.Sprintf("e%03d", i)
		for _, v := range []string{"A", "B"} {
			r := results.Result{RunID: m.RunID, Variant: v, ExampleID: id, ExampleIndex: int64(i), Status: results.StatusOK,
				Input: `{"q":"` + id + `"}`, Output: "out " + id, Steps: "{}", LatencyMS: float64(10 + i%7 + len(v)),
				PromptTokens: int64(20 + i%3), CompletionTokens: int64(5 + i%2), TraceID: fmt.Sprintf("%032x", 2*i+len(rs)%2),
				StartedAt: start.Add(time.Duration(i) * time.Second)}
			if v == "B" && i == n-1 {
				r.Status, r.Output, r.Error = results.StatusError, "", results.Str("model \"offline/calc\": the server answered 500")
				rs = append(rs, r)
				for _, j := range m.Judges {
					ss = append(ss, results.Score{RunID: m.RunID, Variant: v, ExampleID: id, ExampleIndex: int64(i), Judge: j.Name, JudgeType: j.Type, Status: results.ScoreSkipped})
				}
				continue
			}
			rs = append(rs, r)
			passA := i%4 != 0
			pass := passA
			if v == "B" {
				pass = (passA && i%17 != 5) || (!passA && i < 36)
			}
			grade := float64(1 + (i*3)%5)
			if v == "B" {
				grade = min(grade+float64(i%3), 5)
			}
			sim := 0.5 + float64(i%10)/25
			if v == "B" {
				sim += float64(i%5-1) / 50
			}
			exact, gpass, spass := b2f(pass), grade >= 3, sim >= 0.7
			for _, s := range []results.Score{
				{Judge: "exact", JudgeType: "equals", Score: &exact, Pass: &pass},
				{Judge: "grade", JudgeType: "llm_rubric", Score: ptrTo((grade - 1) / 4), Pass: &gpass},
				{Judge: "similarity", JudgeType: "levenshtein", Score: &sim, Pass: &spass},
			} {
				s.RunID, s.Variant, s.ExampleID, s.ExampleIndex, s.Status = m.RunID, v, id, int64(i), results.ScoreOK
				ss = append(ss, s)
			}
		}
	}
	if err := results.WriteRun(dir, m, rs, ss); err != nil {
		t.Fatal(err)
	}
	return dir
}

func ptrTo[T any](v T) *T { return &v }

// TestCompareGolden holds gavel compare's stdout in every text format
// (text, markdown, json, junit) for the default tests and for a
// one-sided paired t-test with errors counted as failures; the HTML page
// is checked in a real browser (internal/browsertest).
func TestCompareGolden(t *testing.T) {
	run := goldenCompareRun(t)
	cases := []struct {
		name string
		args []string
	}{
		{"default", nil},
		{"t-greater-errors-fail", []string{"--test", "t", "--alternative", "greater", "--errors-as", "fail", "--p-adjust", "bh"}},
	}
	for _, c := range cases {
		for _, format := range []string{"text", "markdown", "json", "junit"} {
			t.Run(c.name+"/"+format, func(t *testing.T) {
				env, stdout, stderr := testEnv()
				args := append([]string{"compare", run, "--a", "A", "--b", "B", "--format", format}, c.args...)
				if code := Main(context.Background(), args, env); code != ExitOK && code != ExitGateFailed {
					t.Fatalf("compare %v: exit %d: %s", c.args, code, stderr)
				}
				got := strings.ReplaceAll(stdout.String(), run, "RUNDIR")
				ext := map[string]string{"text": "txt", "markdown": "md", "json": "json", "junit": "xml"}[format]
				golden(t, "compare/"+c.name+"."+ext, got)
			})
		}
	}
}
