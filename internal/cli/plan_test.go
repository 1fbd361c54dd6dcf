package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/report"
)

// pairedRun writes a stored run of variants A and B on n examples with one
// pass/fail judge "j": A passes the examples i with passA(i), B those with
// passB(i).
func pairedRun(t *testing.T, n int, passA, passB func(int) bool) string {
	t.Helper()
	f := func(pass func(int) bool) func(int) float64 { return func(i int) float64 { return b2f(pass(i)) } }
	return scoredRun(t, n, f(passA), f(passB))
}

// scoredRun writes a stored run of variants A and B on n examples with one
// judge "j" that scores example i scoreA(i) under A and scoreB(i) under B
// (passing at 0.5 and above).
func scoredRun(t *testing.T, n int, scoreA, scoreB func(int) float64) string {
	t.Helper()
	dir := t.TempDir()
	m := &results.Manifest{FormatVersion: results.FormatVersion, RunID: "paired", Name: "paired", Status: results.RunCompleted,
		Variants: []results.Variant{{Name: "A"}, {Name: "B"}}, Judges: []results.Judge{{Name: "j", Type: "equals"}}}
	var rs []results.Result
	var ss []results.Score
	for i := range n {
		id := fmt.Sprintf("e%03d", i)
		for _, v := range []struct {
			name  string
			score float64
		}{{"A", scoreA(i)}, {"B", scoreB(i)}} {
			score, pass := v.score, v.score >= 0.5
			rs = append(rs, results.Result{Variant: v.name, ExampleID: id, ExampleIndex: int64(i), Status: results.StatusOK})
			ss = append(ss, results.Score{Variant: v.name, ExampleID: id, Judge: "j", JudgeType: "equals", Status: results.ScoreOK, Score: &score, Pass: &pass})
		}
	}
	if err := results.WriteRun(dir, m, rs, ss); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestPlanAgreesWithCompare: on the same data, the MDE gavel compare
// reports for a pass/fail judge is the one gavel plan --from RUN --n N
// prints.
func TestPlanAgreesWithCompare(t *testing.T) {
	for _, c := range []struct {
		name         string
		n            int
		passA, passB func(int) bool
	}{
		// 70% pass under A; B fixes 12 and breaks 4 of 200 (discordance 0.08).
		{"discordant", 200, func(i int) bool { return i%10 < 7 }, func(i int) bool { return (i%10 < 7 && i%50 != 0) || (i%10 == 7 && i%40 < 20 && i < 120) }},
		// No example changes: the conservative bound.
		{"identical", 150, func(i int) bool { return i%3 != 0 }, func(i int) bool { return i%3 != 0 }},
		// A passes all: no rise is possible, the MDE is that of a drop.
		{"ceiling", 120, func(int) bool { return true }, func(i int) bool { return i%6 != 0 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			run := pairedRun(t, c.n, c.passA, c.passB)
			env, stdout, stderr := testEnv()
			if code := Main(context.Background(), []string{"compare", run, "--a", "A", "--b", "B", "--format", "json"}, env); code != ExitOK && code != ExitGateFailed {
				t.Fatalf("compare: exit %d: %s", code, stderr)
			}
			var r report.Report
			if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
				t.Fatal(err)
			}
			jc := r.Comparisons[0].Judges[0]
			if jc.MDEMethod != report.MDEMcNemar || !(jc.MDE > 0) || jc.N != c.n {
				t.Fatalf("compare: judge %s n %d mde %v (%s)", jc.Judge, jc.N, jc.MDE, jc.MDEMethod)
			}
			env, stdout, stderr = testEnv()
			if code := Main(context.Background(), []string{"plan", "--from", run, "--n", itoa(c.n), "--format", "json"}, env); code != ExitOK {
				t.Fatalf("plan: exit %d: %s", code, stderr)
			}
			var p struct {
				Test, SolvedFor string
				Effect          float64
			}
			if err := json.Unmarshal(stdout.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if p.Test != "mcnemar" || p.Effect != jc.MDE {
				t.Errorf("plan --n %d: %s MDE %v, compare's %v", c.n, p.Test, p.Effect, jc.MDE)
			}
		})
	}
}

// TestPlanGolden holds gavel plan's text and JSON for each kind of plan.
func TestPlanGolden(t *testing.T) {
	cases := [][]string{
		{"--baseline-rate", "0.72", "--effect", "0.03"},
		{"--baseline-rate", "0.72", "--effect", "0.03", "--discordance", "0.10", "--repeats", "3", "--rho", "0.5"},
		{"--baseline-rate", "0.72", "--n", "400", "--discordance", "0.1"},
		{"--test", "t", "--sd", "0.3", "--delta", "0.1", "--power", "0.8"},
		{"--test", "t", "--sd", "0.3", "--delta", "0.1", "--n", "200"},
		{"--test", "t", "--sd", "1", "--n", "50"},
		{"--test", "t", "--sd", "0.3", "--delta", "0.1", "--one-sided"},
		{"--test", "t", "--sd", "1", "--delta", "0.2", "--n", "10", "--strict"},
		{"--test", "normal", "--sd", "0.3", "--delta", "0.1"},
		{"--test", "normal", "--sd", "1", "--n", "50"},
	}
	for _, format := range []string{"text", "json"} {
		var out strings.Builder
		for _, args := range cases {
			env, stdout, stderr := testEnv()
			if code := Main(context.Background(), append(append([]string{"plan"}, args...), "--format", format), env); code != ExitOK {
				t.Fatalf("plan %v: exit %d: %s", args, code, stderr)
			}
			fmt.Fprintf(&out, "$ gavel plan %s\n%s\n", strings.Join(args, " "), stdout)
		}
		golden(t, "plan."+format, out.String())
	}
}

// TestPlanMatchesPowerTTest: the figures gavel plan prints for the paired
// t-test are R's power.t.test(type = "paired") (report/stats/testdata/refs/
// power_t_test.R).
func TestPlanMatchesPowerTTest(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--test", "t", "--sd", "0.3", "--delta", "0.1"}, "examples needed: 73  (paired_t, α = 0.05, power 0.8, n = 72.584075)"},
		{[]string{"--test", "t", "--sd", "0.3", "--delta", "0.1", "--n", "200"}, "power: 0.996845"},
		{[]string{"--test", "t", "--sd", "1", "--n", "50"}, "minimum detectable effect: 0.404183"},
		{[]string{"--test", "t", "--sd", "0.3", "--delta", "0.1", "--one-sided"}, "n = 57.020476"},
		{[]string{"--test", "normal", "--sd", "0.3", "--delta", "0.1"}, "examples needed: 71  (normal, α = 0.05, power 0.8, n = 70.639918)"},
	} {
		env, stdout, stderr := testEnv()
		if code := Main(context.Background(), append([]string{"plan"}, c.args...), env); code != ExitOK {
			t.Fatalf("plan %v: exit %d: %s", c.args, code, stderr)
		}
		if !strings.Contains(stdout.String(), c.want) {
			t.Errorf("plan %v printed:\n%s\nwant %q", c.args, stdout, c.want)
		}
	}
	// Usage errors: exit 2.
	for _, args := range [][]string{
		{"--test", "t", "--delta", "0.1"},
		{"--test", "t", "--sd", "0.3"},
		{"--test", "z", "--sd", "0.3", "--delta", "0.1"},
		{"--test", "t", "--sd", "0.3", "--delta", "0.1", "--effect", "0.1"},
		{"--baseline-rate", "0.7", "--effect", "0.03", "--one-sided"},
		{"--test", "t", "--sd", "0.3", "--delta", "0.1", "--format", "yaml"},
	} {
		env, _, stderr := testEnv()
		if code := Main(context.Background(), append([]string{"plan"}, args...), env); code != ExitError {
			t.Errorf("plan %v: exit %d, want %d (%s)", args, code, ExitError, stderr)
		}
	}
}

// TestMDEMethodFlag: --mde-method picks the method of a scored judge's
// MDE, and a method other than t or normal is a usage error.
func TestMDEMethodFlag(t *testing.T) {
	run := pairedRun(t, 60, func(i int) bool { return i%2 == 0 }, func(i int) bool { return i%3 == 0 })
	scored := scoredRun(t, 60, func(i int) float64 { return 0.5 }, func(i int) float64 { return 0.5 + float64(i%7)/20 })
	mdes := map[string]float64{}
	for _, c := range []struct {
		flag   string
		method report.MDEMethod
	}{{"", "paired_t"}, {"t", "paired_t"}, {"normal", "normal"}} {
		for _, dir := range []string{run, scored} {
			args := []string{"compare", dir, "--a", "A", "--b", "B", "--format", "json"}
			if c.flag != "" {
				args = append(args, "--mde-method", c.flag)
			}
			env, stdout, stderr := testEnv()
			if code := Main(context.Background(), args, env); code != ExitOK && code != ExitGateFailed {
				t.Fatalf("%v: exit %d: %s", args, code, stderr)
			}
			var r report.Report
			if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
				t.Fatal(err)
			}
			jc := r.Comparisons[0].Judges[0]
			// A pass/fail judge keeps McNemar's formula whichever is asked.
			want := c.method
			if dir == run {
				want = report.MDEMcNemar
			}
			if jc.MDEMethod != want || !(jc.MDE > 0) {
				t.Errorf("%v: mde %v (%s), want one by %s", args, jc.MDE, jc.MDEMethod, want)
			}
			if dir == scored {
				mdes[c.flag] = jc.MDE
			}
		}
	}
	if mdes[""] != mdes["t"] || !(mdes["normal"] < mdes["t"]) {
		t.Errorf("MDEs by flag %v: want t the default and normal smaller", mdes)
	}
	// gavel run takes the flag too.
	env, _, stderr := testEnv()
	if code := Main(context.Background(), []string{"run", "../../examples/arithmetic/gavel.yaml", "--out", filepath.Join(t.TempDir(), "r"), "--mde-method", "normal", "--format", "json=" + filepath.Join(t.TempDir(), "r.json")}, env); code != ExitOK {
		t.Errorf("run --mde-method normal: exit %d: %s", code, stderr)
	}
	for _, args := range [][]string{
		{"compare", run, "--a", "A", "--b", "B", "--mde-method", "z"},
		{"report", run, "--mde-method", "exact"},
	} {
		env, _, stderr := testEnv()
		if code := Main(context.Background(), args, env); code != ExitError || !strings.Contains(stderr.String(), "t or normal") {
			t.Errorf("%v: exit %d (%s), want %d", args, code, stderr, ExitError)
		}
	}
}

// b2f is 1 for true and 0 for false.
func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
