package report

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/report/stats"
)

// scoredRun writes a run with variants A and B and one graded judge "j"
// whose scores are a and b (one epoch). Results listed in failB have a
// chain error under B and no score.
func scoredRun(t *testing.T, a, b []float64, failB map[int]bool) string {
	t.Helper()
	var rs []results.Result
	var ss []results.Score
	for _, side := range []struct {
		v      string
		scores []float64
	}{{"A", a}, {"B", b}} {
		for i, x := range side.scores {
			id := fmt.Sprintf("e%02d", i)
			if side.v == "B" && failB[i] {
				rs = append(rs, results.Result{Variant: side.v, ExampleID: id, ExampleIndex: int64(i), Status: results.StatusError, Error: results.Str("boom")})
				continue
			}
			rs = append(rs, results.Result{Variant: side.v, ExampleID: id, ExampleIndex: int64(i), Status: results.StatusOK})
			ss = append(ss, results.Score{Variant: side.v, ExampleID: id, Judge: "j", Status: results.ScoreOK, Score: fp(x), Pass: bp(x >= 0.5)})
		}
	}
	return writeRun(t, []string{"A", "B"}, []string{"j"}, rs, ss)
}

// The scores of stats' TestPairedTTestMatchesR (testdata/refs/paired_alt.R).
var (
	altScoresA = []float64{0.2, 0.5, 0.4, 0.9, 0.3, 0.6, 0.8, 0.1, 0.7, 0.5, 0.4, 0.6}
	altScoresB = []float64{0.4, 0.5, 0.7, 0.8, 0.6, 0.9, 0.8, 0.3, 0.9, 0.6, 0.2, 0.9}
)

func TestCompareAlternativeAndTest(t *testing.T) {
	dir := scoredRun(t, altScoresA, altScoresB, nil)
	diffs := make([]float64, len(altScoresA))
	for i := range diffs {
		diffs[i] = altScoresB[i] - altScoresA[i]
	}
	cases := []struct {
		test     Test
		alt      stats.Alternative
		wantTest string
		wantP    float64 // R (paired_alt.R.txt); NaN: computed below
	}{
		{"", "", "wilcoxon_signed_rank", math.NaN()},
		{"wilcoxon", "greater", "wilcoxon_signed_rank", math.NaN()},
		{"t", "", "paired_t", 0.0213991103081574},
		{"t", "greater", "paired_t", 0.0106995551540787},
		{"t", "less", "paired_t", 0.989300444845921},
		{"sign", "greater", "sign", 0.0546875},
		{"sign", "two-sided", "sign", 0.109375},
	}
	for _, c := range cases {
		r, err := CompareVariants(dir, "A", "B", Options{Test: c.test, Alternative: c.alt})
		if err != nil {
			t.Fatal(err)
		}
		jc := r.Comparisons[0].Judges[0]
		wantAlt := c.alt
		if wantAlt == "" {
			wantAlt = "two-sided"
		}
		want := c.wantP
		if math.IsNaN(want) {
			want = stats.Wilcoxon(diffs, stats.WilcoxonOptions{Correction: true, Alternative: wantAlt}).P
		}
		if jc.Test != c.wantTest || jc.Alternative != wantAlt || math.Abs(jc.P-want) > 1e-9*want {
			t.Errorf("test %q alt %q: got %s %s p=%.15g; want %s %s p=%.15g", c.test, c.alt, jc.Test, jc.Alternative, jc.P, c.wantTest, wantAlt, want)
		}
		if c.test == "t" {
			if jc.T == nil || jc.DF == nil || *jc.DF != 11 || math.Abs(*jc.T-2.68023757704196) > 1e-9*2.68 || jc.DiffCIT == nil {
				t.Errorf("t-test %s: t %v df %v ci %v", c.alt, jc.T, jc.DF, jc.DiffCIT)
			}
		} else if jc.T != nil || jc.DF != nil || jc.DiffCIT != nil {
			t.Errorf("%s: t-test fields set: %v %v %v", c.test, jc.T, jc.DF, jc.DiffCIT)
		}
	}
	// R t.test(b, a, paired = TRUE, alternative = "greater")$conf.int
	r, _ := CompareVariants(dir, "A", "B", Options{Test: "t", Alternative: "greater"})
	if ci := r.Comparisons[0].Judges[0].DiffCIT; ci == nil || math.Abs(ci.Lo-0.0439937497040309) > 1e-9 || !math.IsInf(ci.Hi, 1) {
		t.Errorf("one-sided t interval %v; want [0.0439937497040309, +Inf)", ci)
	}
	for _, o := range []Options{{Test: "z"}, {Alternative: "two.sided"}, {ErrorsAs: "zero"}} {
		if _, err := CompareVariants(dir, "A", "B", o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

// TestCompareMcNemarOneSided: a pass/fail judge over one epoch takes the
// one-sided exact McNemar test.
func TestCompareMcNemarOneSided(t *testing.T) {
	// 1 pass→fail, 6 fail→pass, 3 unchanged.
	a := []float64{1, 0, 0, 0, 0, 0, 0, 1, 1, 0}
	b := []float64{0, 1, 1, 1, 1, 1, 1, 1, 1, 0}
	dir := scoredRun(t, a, b, nil)
	for _, alt := range []stats.Alternative{stats.TwoSided, stats.Greater, stats.Less} {
		r, err := CompareVariants(dir, "A", "B", Options{Alternative: alt})
		if err != nil {
			t.Fatal(err)
		}
		jc := r.Comparisons[0].Judges[0]
		if want := stats.McNemarExactAlt(1, 6, alt); jc.Test != "mcnemar_exact" || jc.P != want || jc.Alternative != alt {
			t.Errorf("%s: %s p %v alt %s; want mcnemar_exact %v", alt, jc.Test, jc.P, jc.Alternative, want)
		}
	}
}

// TestCompareErrorsAsFail: with ErrorsAs "fail" a result whose chain
// errored counts as a failed verdict with score 0 in the pass rates and
// the paired test; by default it is left out.
func TestCompareErrorsAsFail(t *testing.T) {
	a := []float64{1, 1, 1, 1, 1, 1, 1, 1, 0, 0}
	b := []float64{1, 1, 1, 1, 1, 1, 1, 1, 0, 0}
	failB := map[int]bool{0: true, 1: true, 2: true, 3: true, 4: true, 5: true}
	dir := scoredRun(t, a, b, failB)
	skip, err := CompareVariants(dir, "A", "B", Options{})
	if err != nil {
		t.Fatal(err)
	}
	fail, err := CompareVariants(dir, "A", "B", Options{ErrorsAs: "fail"})
	if err != nil {
		t.Fatal(err)
	}
	js, jf := skip.Comparisons[0].Judges[0], fail.Comparisons[0].Judges[0]
	if js.N != 4 || js.P != 1 || js.Regressed != 0 {
		t.Errorf("skip: n %d p %v regressed %d; want 4, 1, 0", js.N, js.P, js.Regressed)
	}
	if want := stats.McNemarExact(6, 0); jf.N != 10 || jf.Regressed != 6 || jf.PassRateB != 0.2 || jf.P != want {
		t.Errorf("fail: n %d regressed %d pass rate B %v p %v; want 10, 6, 0.2, %v", jf.N, jf.Regressed, jf.PassRateB, jf.P, want)
	}
	vb := fail.Variants[1].Judges[0]
	if vb.Valid != 10 || vb.Passed != 2 || *vb.PassRate != 0.2 {
		t.Errorf("fail: variant B judge valid %d passed %d rate %v; want 10, 2, 0.2", vb.Valid, vb.Passed, *vb.PassRate)
	}
	if vs := skip.Variants[1].Judges[0]; vs.Valid != 4 || !strings.HasPrefix(skip.Warnings[len(skip.Warnings)-1], "B:") {
		t.Errorf("skip: variant B judge valid %d, warnings %v", vs.Valid, skip.Warnings)
	}
}

// TestMaxDropGateAlternative: a max_drop gate fails a significant drop
// under the one-sided "less" as under "two-sided", and cannot pass on a
// test of "greater", which has no power against a drop.
func TestMaxDropGateAlternative(t *testing.T) {
	n := 30
	a, b := make([]float64, n), make([]float64, n)
	for i := range a {
		a[i] = 0.9
		b[i] = 0.5 + 0.01*float64(i%5)
	}
	dir := scoredRun(t, a, b, nil)
	drop := 0.1
	for _, c := range []struct {
		alt  stats.Alternative
		pass bool
	}{{"two-sided", false}, {"less", false}, {"greater", false}} {
		r, err := CompareVariants(dir, "A", "B", Options{Alternative: c.alt, Gates: []Gate{{Judge: "j", MaxDrop: &drop}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Gates) != 1 || r.Gates[0].Passed != c.pass {
			t.Errorf("%s: gates %+v; want passed=%v", c.alt, r.Gates, c.pass)
		}
	}
	// B better than A: greater still cannot vouch for "no drop"; less and
	// two-sided pass.
	dir = scoredRun(t, b, a, nil)
	for _, c := range []struct {
		alt  stats.Alternative
		pass bool
	}{{"two-sided", true}, {"less", true}, {"greater", false}} {
		r, err := CompareVariants(dir, "A", "B", Options{Alternative: c.alt, Gates: []Gate{{Judge: "j", MaxDrop: &drop}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Gates) != 1 || r.Gates[0].Passed != c.pass {
			t.Errorf("improvement, %s: gates %+v; want passed=%v", c.alt, r.Gates, c.pass)
		}
	}
}

// TestGateAlternativeAndErrorsAs: a gate's own alternative and errors_as
// are those its figures are computed with, whatever the report's.
func TestGateAlternativeAndErrorsAs(t *testing.T) {
	// B worse on most examples, but not by enough for the two-sided test
	// at α = 0.05: the one-sided "less" test is significant.
	a := []float64{0.5, 0.6, 0.7, 0.4, 0.8, 0.5, 0.6, 0.7, 0.3, 0.9}
	b := []float64{0.3, 0.7, 0.4, 0.35, 0.55, 0.6, 0.3, 0.65, 0.32, 0.7}
	diffs := make([]float64, len(a))
	for i := range a {
		diffs[i] = b[i] - a[i]
	}
	two := stats.Wilcoxon(diffs, stats.WilcoxonOptions{Correction: true}).P
	less := stats.Wilcoxon(diffs, stats.WilcoxonOptions{Correction: true, Alternative: stats.Less}).P
	if !(two >= 0.05 && less < 0.05) {
		t.Fatalf("data: two-sided p %v, less p %v; want >= 0.05 and < 0.05", two, less)
	}
	dir := scoredRun(t, a, b, nil)
	drop := 0.01
	for _, c := range []struct {
		alt  stats.Alternative
		pass bool
	}{{"", true}, {"two-sided", true}, {"less", false}} {
		r, err := CompareVariants(dir, "A", "B", Options{Gates: []Gate{{Judge: "j", MaxDrop: &drop, Alternative: c.alt}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Gates) != 1 || r.Gates[0].Passed != c.pass || r.Comparisons[0].Judges[0].Alternative != "two-sided" {
			t.Errorf("gate alternative %q: gates %+v; want passed=%v on a two-sided report", c.alt, r.Gates, c.pass)
		}
	}
	// errors_as: fail on a gate: B's pass rate counts its 6 errored results.
	ones := []float64{1, 1, 1, 1, 1, 1, 1, 1, 0, 0}
	dir = scoredRun(t, ones, ones, map[int]bool{0: true, 1: true, 2: true, 3: true, 4: true, 5: true})
	min := 0.4
	for _, c := range []struct {
		errs ErrorsAs
		pass bool
	}{{"", true}, {"fail", false}} {
		r, err := CompareVariants(dir, "A", "B", Options{Gates: []Gate{{Judge: "j", MinPassRate: &min, ErrorsAs: c.errs}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Gates) != 1 || r.Gates[0].Passed != c.pass {
			t.Errorf("gate errors_as %q: gates %+v; want passed=%v", c.errs, r.Gates, c.pass)
		}
	}
	if _, err := CompareVariants(dir, "A", "B", Options{Gates: []Gate{{Judge: "j", MinPassRate: &min, Alternative: "up"}}}); err == nil {
		t.Error("gate alternative \"up\": no error")
	}
}

// TestTestLabelNamesAlternative: the text and markdown tables and gate
// details name a one-sided alternative beside the test.
func TestTestLabelNamesAlternative(t *testing.T) {
	for _, c := range []struct {
		j    JudgeComparison
		want string
	}{
		{JudgeComparison{Test: "wilcoxon_signed_rank", Method: "normal+cc", Alternative: "two-sided"}, "wilcoxon normal+cc"},
		{JudgeComparison{Test: "wilcoxon_signed_rank", Method: "exact", Alternative: "less"}, "wilcoxon exact less"},
		{JudgeComparison{Test: "paired_t", Method: "t", Alternative: "greater"}, "t greater"},
		{JudgeComparison{Test: "sign", Method: "exact", Alternative: "two-sided"}, "sign exact"},
		{JudgeComparison{Test: "mcnemar_exact", Method: "exact"}, "mcnemar exact"},
	} {
		if got := testLabel(c.j); got != c.want {
			t.Errorf("testLabel(%+v) = %q; want %q", c.j, got, c.want)
		}
	}
}

// TestErrorsAsFailLeavesPairwiseJudges: a pairwise judge has no
// per-variant verdicts, so an errored result gives it none either.
func TestErrorsAsFailLeavesPairwiseJudges(t *testing.T) {
	var rs []results.Result
	var ss []results.Score
	for i := 0; i < 4; i++ {
		id := fmt.Sprintf("e%d", i)
		rs = append(rs, results.Result{Variant: "A", ExampleID: id, ExampleIndex: int64(i), Status: results.StatusOK})
		ss = append(ss, results.Score{Variant: "A", ExampleID: id, Judge: "j", Status: results.ScoreOK, Score: fp(1), Pass: bp(true)})
		if i == 0 {
			rs = append(rs, results.Result{Variant: "B", ExampleID: id, ExampleIndex: int64(i), Status: results.StatusError, Error: results.Str("boom")})
			continue
		}
		rs = append(rs, results.Result{Variant: "B", ExampleID: id, ExampleIndex: int64(i), Status: results.StatusOK})
		ss = append(ss, results.Score{Variant: "B", ExampleID: id, Judge: "j", Status: results.ScoreOK, Score: fp(1), Pass: bp(true)},
			results.Score{Variant: "B", OtherVariant: results.Str("A"), ExampleID: id, Judge: "pw", Status: results.ScoreOK, Label: results.Str("tie")})
	}
	dir := writeRun(t, []string{"A", "B"}, []string{"j", "pw"}, rs, ss)
	r, err := CompareVariants(dir, "A", "B", Options{ErrorsAs: "fail"})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range r.Variants {
		for _, js := range v.Judges {
			if js.Judge == "pw" && js.Valid != 0 {
				t.Errorf("%s: pairwise judge has %d valid verdicts; want 0", v.Name, js.Valid)
			}
			if js.Judge == "j" && v.Name == "B" && (js.Valid != 4 || js.Passed != 3) {
				t.Errorf("B: judge j valid %d passed %d; want 4, 3", js.Valid, js.Passed)
			}
		}
	}
}
