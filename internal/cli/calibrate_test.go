package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/eval/results"
)

// The calibration data: human grades calHuman and judge grades calJudge on
// a 1-5 scale for 15 outputs (the judge's stored score is (grade-1)/4);
// both are full of ties. testdata/calibrate/refs.py prints the reference
// values (output in refs.py.txt).
var (
	calHuman = []int{1, 2, 2, 3, 4, 5, 5, 3, 2, 1, 4, 4, 3, 5, 1}
	calJudge = []int{1, 3, 2, 3, 5, 5, 4, 2, 2, 2, 4, 3, 3, 5, 1}
)

// The reliability data of Krippendorff (2011), section C: observers A, B,
// C (people, columns a, b, c) and D (the judge), 12 units; 0 is missing.
var kripp = [4][12]int{
	{1, 2, 3, 3, 2, 1, 4, 1, 2, 0, 0, 0},
	{1, 2, 3, 3, 2, 2, 4, 1, 2, 5, 0, 3},
	{0, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, 0},
	{1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, 0},
}

// writeCalibrationRun writes a stored run with two judges: "grader" over
// the calJudge grades (score, pass = grade >= 3, label = the grade) and
// "coder" over observer D's values, and the label files that go with it.
func writeCalibrationRun(t *testing.T) (run, grades, coders string) {
	t.Helper()
	dir := t.TempDir()
	run = filepath.Join(dir, "run")
	if err := os.MkdirAll(run, 0o755); err != nil {
		t.Fatal(err)
	}
	m := &results.Manifest{FormatVersion: 1, RunID: "calib", Name: "calib", Status: results.RunCompleted, Mode: "score",
		Variants: []results.Variant{{Name: "v"}}, Judges: []results.Judge{{Name: "grader"}, {Name: "coder"}}}
	if err := results.WriteManifest(run, m); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(run, results.ScoresFile))
	if err != nil {
		t.Fatal(err)
	}
	w, err := results.NewScoreWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	row := func(judge, id string, grade int) results.Score {
		s := results.Score{RunID: "calib", Variant: "v", ExampleID: id, Judge: judge, JudgeType: "llm", JudgeHash: "h", Status: results.ScoreOK}
		if grade > 0 {
			score, pass, label := float64(grade-1)/4, grade >= 3, strconv.Itoa(grade)
			s.Score, s.Pass, s.Label = &score, &pass, &label
		}
		return s
	}
	var gradeRows, coderRows strings.Builder
	gradeRows.WriteString("example_id,label\n")
	coderRows.WriteString("example_id,a,b,c\n")
	for i, g := range calJudge {
		id := fmt.Sprintf("g%02d", i+1)
		if err := w.Write(row("grader", id, g)); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&gradeRows, "%s,%d\n", id, calHuman[i])
	}
	cell := func(v int) string {
		if v == 0 {
			return ""
		}
		return strconv.Itoa(v)
	}
	for u := range 12 {
		id := fmt.Sprintf("u%02d", u+1)
		if err := w.Write(row("coder", id, kripp[3][u])); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&coderRows, "%s,%s,%s,%s\n", id, cell(kripp[0][u]), cell(kripp[1][u]), cell(kripp[2][u]))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	var passRows strings.Builder
	passRows.WriteString("example_id,label\n")
	for i, h := range calHuman {
		fmt.Fprintf(&passRows, "g%02d,%s\n", i+1, map[bool]string{true: "pass", false: "fail"}[h >= 3])
	}
	grades = filepath.Join(dir, "grades.csv")
	coders = filepath.Join(dir, "coders.csv")
	for path, body := range map[string]string{grades: gradeRows.String(), coders: coderRows.String(),
		filepath.Join(dir, "pass.csv"): passRows.String()} {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return run, grades, coders
}

func TestCalibrateFigures(t *testing.T) {
	run, grades, coders := writeCalibrationRun(t)
	pass := filepath.Join(filepath.Dir(grades), "pass.csv")
	type figures struct {
		N             int      `json:"n"`
		LeftOut       int      `json:"labels_left_out"`
		Accuracy      *float64 `json:"accuracy"`
		Kappa         *float64 `json:"cohen_kappa"`
		WeightedKappa *float64 `json:"weighted_kappa"`
		Spearman      *float64 `json:"spearman"`
		SpearmanP     *float64 `json:"spearman_p"`
		Kendall       *float64 `json:"kendall_tau_b"`
		KendallP      *float64 `json:"kendall_tau_b_p"`
		Alpha         *float64 `json:"krippendorff_alpha"`
		AlphaHumans   *float64 `json:"krippendorff_alpha_humans"`
		AlphaUnits    int      `json:"alpha_units"`
	}
	f := func(x float64) *float64 { return &x }
	cases := []struct {
		golden string
		args   []string
		want   figures
	}{
		{"pass", []string{"--labels", pass, "--judge", "grader"},
			figures{N: 15, Accuracy: f(0.866666666666667), Kappa: f(0.722222222222222)}},
		{"label-only", []string{"--labels", grades, "--judge", "grader", "--compare", "label", "--labels-only", "1,2,3"},
			figures{N: 9, LeftOut: 6, Accuracy: f(6.0 / 9), Kappa: f(0.5)}},
		{"score-linear", []string{"--labels", grades, "--judge", "grader", "--compare", "score", "--scale", "1:5", "--weights", "linear"},
			figures{N: 15, WeightedKappa: f(0.741379310344828), Spearman: f(0.899455376898271), SpearmanP: f(5.04022819989625e-06),
				Kendall: f(0.820276499330278), KendallP: f(0.000146054131875812)}},
		{"score-quadratic", []string{"--labels", grades, "--judge", "grader", "--compare", "score", "--scale", "1:5"},
			figures{N: 15, WeightedKappa: f(0.892857142857143), Spearman: f(0.899455376898271), SpearmanP: f(5.04022819989625e-06),
				Kendall: f(0.820276499330278), KendallP: f(0.000146054131875812)}},
		{"score-only", []string{"--labels", grades, "--judge", "grader", "--compare", "score", "--scale", "1:5", "--weights", "linear", "--labels-only", "1,2,3"},
			figures{N: 9, LeftOut: 6, WeightedKappa: f(0.608695652173913), Spearman: f(0.732467020764714), SpearmanP: f(0.0248113808583145)}},
		// Krippendorff (2011): nominal 0.743, ordinal 0.815, interval 0.849
		// with all four observers (D the judge); the pairwise figures use
		// observer A, who coded units 1-9. The humans-only alphas are
		// printed by refs.py.
		{"alpha-nominal", []string{"--labels", coders, "--judge", "coder", "--compare", "label", "--raters", "a,b,c"},
			figures{N: 9, Accuracy: f(8.0 / 9), Alpha: f(0.743421052631579), AlphaHumans: f(0.675257731958763), AlphaUnits: 12}},
		{"alpha-ordinal", []string{"--labels", coders, "--judge", "coder", "--compare", "score", "--scale", "1:5", "--raters", "a,b,c", "--alpha-metric", "ordinal"},
			figures{N: 9, Alpha: f(0.815387503754881), AlphaHumans: f(0.804860524091293), AlphaUnits: 12}},
		{"alpha-interval", []string{"--labels", coders, "--judge", "coder", "--compare", "score", "--scale", "1:5", "--raters", "a,b,c"},
			figures{N: 9, Alpha: f(0.849107142857143), AlphaHumans: f(0.862104187946885), AlphaUnits: 12}},
	}
	check := func(name string, got, want *float64) {
		t.Helper()
		if want == nil {
			return
		}
		if got == nil || math.Abs(*got-*want) > 1e-9*math.Abs(*want) {
			t.Errorf("%s = %v, want %.15g", name, got, *want)
		}
	}
	for _, c := range cases {
		t.Run(c.golden, func(t *testing.T) {
			env, stdout, stderr := testEnv()
			if code := Main(context.Background(), append([]string{"calibrate", run, "--format", "json"}, c.args...), env); code != ExitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var got figures
			if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
				t.Fatalf("%v\n%s", err, stdout)
			}
			if got.N != c.want.N || got.LeftOut != c.want.LeftOut || got.AlphaUnits != c.want.AlphaUnits {
				t.Errorf("n %d, left out %d, alpha units %d; want %d, %d, %d", got.N, got.LeftOut, got.AlphaUnits, c.want.N, c.want.LeftOut, c.want.AlphaUnits)
			}
			check("accuracy", got.Accuracy, c.want.Accuracy)
			check("cohen_kappa", got.Kappa, c.want.Kappa)
			check("weighted_kappa", got.WeightedKappa, c.want.WeightedKappa)
			check("spearman", got.Spearman, c.want.Spearman)
			check("spearman_p", got.SpearmanP, c.want.SpearmanP)
			check("kendall_tau_b", got.Kendall, c.want.Kendall)
			check("kendall_tau_b_p", got.KendallP, c.want.KendallP)
			check("krippendorff_alpha", got.Alpha, c.want.Alpha)
			check("krippendorff_alpha_humans", got.AlphaHumans, c.want.AlphaHumans)
			golden(t, "calibrate/"+c.golden+".json", stdout.String())

			env, stdout, stderr = testEnv()
			if code := Main(context.Background(), append([]string{"calibrate", run}, c.args...), env); code != ExitOK {
				t.Fatalf("text: exit %d: %s", code, stderr)
			}
			golden(t, "calibrate/"+c.golden+".txt", stdout.String())
		})
	}
}

func TestCalibrateRejects(t *testing.T) {
	run, grades, coders := writeCalibrationRun(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--labels", grades, "--judge", "grader", "--compare", "label", "--labels-only", "9"}, "no labelled result"},
		{[]string{"--labels", grades, "--judge", "grader", "--compare", "score", "--scale", "1:5", "--weights", "cubic"}, "--weights"},
		{[]string{"--labels", grades, "--judge", "grader", "--compare", "score", "--labels-only", "1,2"}, "needs --scale"},
		{[]string{"--labels", coders, "--judge", "coder", "--compare", "label", "--raters", "a,b,c", "--alpha-metric", "interval"}, "needs numeric labels"},
	}
	for _, c := range cases {
		env, _, stderr := testEnv()
		code := Main(context.Background(), append([]string{"calibrate", run}, c.args...), env)
		if code == ExitOK || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want an error with %q", c.args, code, stderr, c.want)
		}
	}
}
