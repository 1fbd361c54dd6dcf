package report

import (
	"fmt"
	"math"
	"testing"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/report/stats"
)

// scaledRun writes scoredRun's run with judge "j" declared at scale (""
// for none).
func scaledRun(t *testing.T, scale string, a, b []float64) string {
	t.Helper()
	var rs []results.Result
	var ss []results.Score
	for _, side := range []struct {
		v      string
		scores []float64
	}{{"A", a}, {"B", b}} {
		for i, x := range side.scores {
			id := fmt.Sprintf("e%02d", i)
			rs = append(rs, results.Result{Variant: side.v, ExampleID: id, ExampleIndex: int64(i), Status: results.StatusOK})
			ss = append(ss, results.Score{Variant: side.v, ExampleID: id, Judge: "j", Status: results.ScoreOK, Score: fp(x), Pass: bp(x >= 0.5)})
		}
	}
	dir := t.TempDir()
	m := &results.Manifest{FormatVersion: results.FormatVersion, RunID: "r1", Name: "scaled", Status: results.RunCompleted,
		Variants: []results.Variant{{Name: "A"}, {Name: "B"}},
		Judges:   []results.Judge{{Name: "j", Type: "classify", Scale: scale}}}
	if err := results.WriteRun(dir, m, rs, ss); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestAutoTestFollowsTheScale: under --test auto a declared ordinal judge
// gets the sign test, a declared continuous one Wilcoxon, a binary one
// McNemar, and an undeclared judge the scale its scores show.
func TestAutoTestFollowsTheScale(t *testing.T) {
	graded := []float64{0.25, 0.5, 0.75, 1, 0.5, 0.25, 0.75, 0.5}
	gradedB := []float64{0.5, 0.75, 0.75, 1, 1, 0.5, 1, 0.25}
	bin := []float64{1, 0, 1, 0, 1, 1, 0, 0}
	binB := []float64{1, 1, 1, 0, 1, 1, 1, 0}
	cases := []struct {
		scale     string
		a, b      []float64
		wantScale string
		wantTest  string
	}{
		{"ordinal", graded, gradedB, "ordinal", "sign"},
		{"continuous", graded, gradedB, "continuous", "wilcoxon_signed_rank"},
		{"", graded, gradedB, "continuous", "wilcoxon_signed_rank"},
		{"", bin, binB, "binary", "mcnemar_exact"},
		{"binary", bin, binB, "binary", "mcnemar_exact"},
		// Declared binary but graded scores: the scores win.
		{"binary", graded, gradedB, "continuous", "wilcoxon_signed_rank"},
		// Ordinal pass/fail scores still get the sign test.
		{"ordinal", bin, binB, "ordinal", "sign"},
	}
	for _, c := range cases {
		r, err := CompareVariants(scaledRun(t, c.scale, c.a, c.b), "A", "B", Options{})
		if err != nil {
			t.Fatal(err)
		}
		jc := r.Comparisons[0].Judges[0]
		if jc.Scale != c.wantScale || jc.Test != c.wantTest {
			t.Errorf("declared %q: scale %q test %q; want %q %q", c.scale, jc.Scale, jc.Test, c.wantScale, c.wantTest)
		}
		// An explicit test overrides the scale.
		r, err = CompareVariants(scaledRun(t, c.scale, c.a, c.b), "A", "B", Options{Test: TestT})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Comparisons[0].Judges[0].Test; got != "paired_t" {
			t.Errorf("declared %q with --test t: test %q", c.scale, got)
		}
	}
}

// TestVerdictFollowsTheTestsDirection: 15 examples up by 0.1 and 5 down
// by 0.9 have a negative mean difference but a significant sign test for
// B (R: binom.test(15, 20)$p.value = 0.0413894653320313,
// testdata/refs/mde_sided.R.txt): the verdict is the sign test's,
// "improved", not "no significant difference".
func TestVerdictFollowsTheTestsDirection(t *testing.T) {
	var a, b []float64
	for i := range 20 {
		if i < 15 {
			a, b = append(a, 0.5), append(b, 0.6)
		} else {
			a, b = append(a, 1), append(b, 0.1)
		}
	}
	for _, c := range []struct {
		alt     stats.Alternative
		verdict Verdict
		p       float64
	}{
		{"two-sided", VerdictImproved, 0.0413894653320313},
		{"greater", VerdictImproved, 0.0206947326660156},
	} {
		r, err := CompareVariants(scaledRun(t, "ordinal", a, b), "A", "B", Options{Alternative: c.alt})
		if err != nil {
			t.Fatal(err)
		}
		jc := r.Comparisons[0].Judges[0]
		if jc.Test != "sign" || !(jc.Diff < 0) || jc.Direction != 1 || jc.Verdict != c.verdict || math.Abs(jc.P-c.p) > 1e-9*c.p {
			t.Errorf("%s: test %s diff %g direction %d verdict %q p %.15g; want sign, diff < 0, direction 1, %q, p %.15g",
				c.alt, jc.Test, jc.Diff, jc.Direction, jc.Verdict, jc.P, c.verdict, c.p)
		}
	}
	// The t-test follows the mean: no significant gain, and a one-sided
	// "less" test sees no drop large enough either way here.
	r, err := CompareVariants(scaledRun(t, "ordinal", a, b), "A", "B", Options{Test: TestT})
	if err != nil {
		t.Fatal(err)
	}
	if jc := r.Comparisons[0].Judges[0]; jc.Direction != -1 || jc.Verdict == VerdictImproved {
		t.Errorf("t-test: direction %d verdict %q; want -1 and not improved", jc.Direction, jc.Verdict)
	}
}

// TestMDEFollowsTheAlternative: the paired-t MDE is R's
// power.t.test(type = "paired") delta for the report's alternative
// (testdata/refs/mde_sided.R.txt), and a one-sided McNemar MDE is the
// two-sided one at twice the level (Connor's formula with z_{1-α}).
func TestMDEFollowsTheAlternative(t *testing.T) {
	dir := scoredRun(t, altScoresA, altScoresB, nil)
	for _, c := range []struct {
		alt  stats.Alternative
		want float64
	}{
		{"two-sided", 0.15314008987212},
		{"greater", 0.13207303443017},
		{"less", 0.13207303443017},
	} {
		r, err := CompareVariants(dir, "A", "B", Options{Alternative: c.alt})
		if err != nil {
			t.Fatal(err)
		}
		jc := r.Comparisons[0].Judges[0]
		if jc.MDEMethod != MDEPairedT || math.Abs(jc.MDE-c.want) > 1e-9*c.want {
			t.Errorf("%s: mde %.15g (%s); want %.15g (paired_t)", c.alt, jc.MDE, jc.MDEMethod, c.want)
		}
	}
	bin := []float64{1, 0, 1, 0, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 0}
	binB := []float64{1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0}
	var binN, binBN []float64 // 100 examples, discordance 0.2
	for range 5 {
		binN, binBN = append(binN, bin...), append(binBN, binB...)
	}
	bdir := scaledRun(t, "", binN, binBN)
	mde := func(alt stats.Alternative, alpha float64) float64 {
		r, err := CompareVariants(bdir, "A", "B", Options{Alternative: alt, Alpha: alpha})
		if err != nil {
			t.Fatal(err)
		}
		jc := r.Comparisons[0].Judges[0]
		if jc.MDEMethod != MDEMcNemar {
			t.Fatalf("%s: mde_method %q, want mcnemar", alt, jc.MDEMethod)
		}
		return jc.MDE
	}
	two, twoAt10 := mde("two-sided", 0.05), mde("two-sided", 0.10)
	greater := mde("greater", 0.05)
	if math.IsNaN(two) || math.Abs(greater-twoAt10) > 1e-12 || !(greater < two) {
		t.Errorf("McNemar MDE: two-sided %.12g, two-sided at 0.10 %.12g, greater %.12g; want greater = two-sided at 0.10 < two-sided", two, twoAt10, greater)
	}
}
