package report

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/report/stats"
)

// TestComparePairsByExample checks the paired bookkeeping on a small run:
// examples on one side only are listed, not dropped; counts, differences,
// the test and the regressions (with their texts) come from the pairs.
func TestComparePairsByExample(t *testing.T) {
	type row struct {
		id    string
		score float64
	}
	a := []row{{"e1", 1}, {"e2", 1}, {"e3", 1}, {"e4", 0}, {"e5", 1}, {"onlyA", 1}}
	b := []row{{"e1", 1}, {"e2", 0}, {"e3", 0}, {"e4", 1}, {"e5", 1}, {"onlyB", 0}}
	var rs []results.Result
	var ss []results.Score
	for _, side := range []struct {
		v    string
		rows []row
	}{{"A", a}, {"B", b}} {
		for i, r := range side.rows {
			out := fmt.Sprintf("%s says %s", side.v, r.id)
			rs = append(rs, results.Result{Variant: side.v, ExampleID: r.id, ExampleIndex: int64(i), Status: results.StatusOK,
				Input: `{"q":"` + r.id + `"}`, Output: out, TraceID: "t-" + side.v + r.id})
			ss = append(ss, results.Score{Variant: side.v, ExampleID: r.id, Judge: "j", Status: results.ScoreOK,
				Score: fp(r.score), Pass: bp(r.score == 1), Reason: results.Str("because " + out)})
		}
	}
	dir := writeRun(t, []string{"A", "B"}, []string{"j"}, rs, ss)
	r, err := CompareVariants(dir, "A", "B", Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := r.Comparisons[0]
	if c.Paired != 5 || len(c.OnlyA) != 1 || c.OnlyA[0] != "onlyA" || len(c.OnlyB) != 1 || c.OnlyB[0] != "onlyB" {
		t.Errorf("paired %d, only A %v, only B %v; want 5, [onlyA], [onlyB]", c.Paired, c.OnlyA, c.OnlyB)
	}
	jc := c.Judges[0]
	// Pairs: e1 1→1, e2 1→0, e3 1→0, e4 0→1, e5 1→1: 1 better, 2 worse, 2 equal.
	if jc.N != 5 || jc.Improved != 1 || jc.Regressed != 2 || jc.Equal != 2 {
		t.Errorf("n %d improved %d regressed %d equal %d", jc.N, jc.Improved, jc.Regressed, jc.Equal)
	}
	if math.Abs(jc.MeanA-0.8) > 1e-12 || math.Abs(jc.MeanB-0.6) > 1e-12 || math.Abs(jc.Diff+0.2) > 1e-12 {
		t.Errorf("means %v %v diff %v; want 0.8 0.6 -0.2", jc.MeanA, jc.MeanB, jc.Diff)
	}
	// McNemar on the discordant pairs: 2 pass→fail, 1 fail→pass.
	if jc.Test != "mcnemar_exact" || jc.P != stats.McNemarExact(2, 1) || jc.PAdjusted != jc.P {
		t.Errorf("test %s p %v (adjusted %v); want mcnemar_exact with p = McNemarExact(2, 1) = %v", jc.Test, jc.P, jc.PAdjusted, stats.McNemarExact(2, 1))
	}
	if jc.Verdict != "no significant difference" {
		t.Errorf("verdict %q", jc.Verdict)
	}
	if len(jc.Regressions) != 2 || jc.Regressions[0].ExampleID != "e2" || jc.Regressions[1].ExampleID != "e3" {
		t.Fatalf("regressions %+v; want e2 then e3 (dataset order among equal drops)", jc.Regressions)
	}
	reg := jc.Regressions[0]
	if reg.OutputA != "A says e2" || reg.OutputB != "B says e2" || reg.ReasonB != "because B says e2" ||
		reg.TraceA != "t-Ae2" || reg.TraceB != "t-Be2" || reg.Input != `{"q":"e2"}` {
		t.Errorf("regression texts %+v", reg)
	}
	if len(jc.Improvements) != 1 || jc.Improvements[0].ExampleID != "e4" {
		t.Errorf("improvements %+v", jc.Improvements)
	}
}

// TestCompareEpochsUsesWilcoxon: with several epochs, each side's unit is
// the example's mean, compared with the signed-rank test.
func TestCompareEpochsUsesWilcoxon(t *testing.T) {
	var rs []results.Result
	var ss []results.Score
	for e := int32(0); e < 2; e++ {
		for i := 0; i < 8; i++ {
			id := fmt.Sprintf("e%d", i)
			for _, v := range []string{"A", "B"} {
				pass := v == "B" || (i+int(e))%2 == 0
				rs = append(rs, results.Result{Variant: v, ExampleID: id, ExampleIndex: int64(i), Epoch: e, Status: results.StatusOK})
				ss = append(ss, results.Score{Variant: v, ExampleID: id, Epoch: e, Judge: "j", Status: results.ScoreOK, Score: fp(b2f(pass)), Pass: bp(pass)})
			}
		}
	}
	dir := writeRun(t, []string{"A", "B"}, []string{"j"}, rs, ss)
	r, err := ForRun(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	jc := r.Comparisons[0].Judges[0]
	// Every example: A passes one epoch of two (mean 0.5), B both (1.0).
	// R: wilcox.test(rep(0.5, 8), correct = TRUE)$p.value
	// (testdata/refs/family.R.txt); all eight differences tie.
	wantP := 0.0059620785320937102
	if jc.Test != "wilcoxon_signed_rank" || jc.N != 8 || jc.Diff != 0.5 || math.Abs(jc.P-wantP) > 1e-9*wantP {
		t.Errorf("test %s n %d diff %v p %v; want wilcoxon, 8, 0.5, %v", jc.Test, jc.N, jc.Diff, jc.P, wantP)
	}
	if v := r.Variants[0]; v.Epochs != 2 || v.Judges[0].ClusteredSE == nil {
		t.Errorf("variant A: %d epochs, clustered SE %v; want 2 and a value", v.Epochs, v.Judges[0].ClusteredSE)
	}
}

// wilcoxonRun writes a run whose graded judge j gives A 0.5 on every
// example and each other variant 0.5 + d/16 (exact in binary, so tied
// differences stay tied).
func wilcoxonRun(t *testing.T, ds map[string][]float64) string {
	t.Helper()
	var rs []results.Result
	var ss []results.Score
	n := 0
	for _, d := range ds {
		n = len(d)
	}
	variants := []string{"A"}
	for _, v := range []string{"B", "C"} {
		if ds[v] != nil {
			variants = append(variants, v)
		}
	}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("e%d", i)
		for _, v := range variants {
			score := 0.5
			if v != "A" {
				score += ds[v][i] / 16
			}
			rs = append(rs, results.Result{Variant: v, ExampleID: id, ExampleIndex: int64(i), Status: results.StatusOK})
			ss = append(ss, results.Score{Variant: v, ExampleID: id, Judge: "j", Status: results.ScoreOK, Score: fp(score)})
		}
	}
	return writeRun(t, variants, []string{"j"}, rs, ss)
}

// TestCompareWilcoxonTiesAndZeros: with tied ranks or zero differences the
// signed-rank p-value is R's normal approximation with tie and continuity
// corrections, not the exact distribution (which assumes neither).
// Expected values: testdata/refs/family.R.txt.
func TestCompareWilcoxonTiesAndZeros(t *testing.T) {
	dir := wilcoxonRun(t, map[string][]float64{
		"B": {1, 2, 2, 3, -1, 4, 5, 5, 6, 7},
		"C": {0, 0, 1, 1, 1, 1, 2, 2, 2, 2},
	})
	r, err := ForRun(dir, Options{PAdjust: "none"})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		v, p float64
	}{{53.5, 0.009206780321046628}, {36, 0.011975903676808506}}
	for i, w := range want {
		jc := r.Comparisons[i].Judges[0]
		if jc.Test != "wilcoxon_signed_rank" || jc.Method != "normal+cc" || jc.Statistic != w.v || jc.Z == nil ||
			math.Abs(jc.P-w.p) > 1e-9*w.p || jc.PRaw != jc.P || jc.PAdjusted != jc.P {
			t.Errorf("comparison %d: test %s method %q V %v z %v p %v raw %v adj %v; want wilcoxon normal+cc, V %v, a z, p %v unadjusted",
				i, jc.Test, jc.Method, jc.Statistic, jc.Z, jc.P, jc.PRaw, jc.PAdjusted, w.v, w.p)
		}
	}
}

// TestCompareAdjustsOverTheWholeReport: the p-value adjustment runs once
// over every (comparison, judge) p-value of the report, here B vs A and C
// vs A. Expected values: R's p.adjust, testdata/refs/family.R.txt.
func TestCompareAdjustsOverTheWholeReport(t *testing.T) {
	dir := wilcoxonRun(t, map[string][]float64{
		"B": {1, 2, 2, 3, -1, 4, 5, 5, 6, 7},
		"C": {0, 0, 1, 1, 1, 1, 2, 2, 2, 2},
	})
	cases := []struct {
		method string
		want   [2]float64
	}{
		{"", [2]float64{0.018413560642093256, 0.018413560642093256}},
		{"holm", [2]float64{0.018413560642093256, 0.018413560642093256}},
		{"bonferroni", [2]float64{0.018413560642093256, 0.023951807353617013}},
		{"bh", [2]float64{0.011975903676808506, 0.011975903676808506}},
	}
	for _, c := range cases {
		r, err := ForRun(dir, Options{PAdjust: c.method})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Comparisons) != 2 {
			t.Fatalf("%d comparisons; want 2", len(r.Comparisons))
		}
		wantName := c.method
		if wantName == "" {
			wantName = "holm"
		}
		if r.PAdjust != wantName || r.ZeroMethod != "wilcox" {
			t.Errorf("%q: report p_adjust %q zero_method %q", c.method, r.PAdjust, r.ZeroMethod)
		}
		for i, w := range c.want {
			if got := r.Comparisons[i].Judges[0].PAdjusted; math.Abs(got-w) > 1e-9*w {
				t.Errorf("%q: comparison %d adjusted p %v; want %v", c.method, i, got, w)
			}
		}
	}
	if _, err := ForRun(dir, Options{PAdjust: "sidak"}); err == nil {
		t.Error("unknown p-value adjustment: no error")
	}
	if _, err := ForRun(dir, Options{ZeroMethod: "drop"}); err == nil {
		t.Error("unknown zero method: no error")
	}
	// A max_drop gate states both p-values, the adjustment and the method.
	r, err := ForRun(dir, Options{PAdjust: "bonferroni", Gates: []Gate{{Judge: "j", MaxDrop: ptr(0.01)}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Gates) != 2 || !strings.Contains(r.Gates[0].Detail, "p = 0.01841 (Bonferroni-adjusted p; raw 0.009207, wilcoxon normal+cc)") {
		t.Errorf("gates %+v; want the detail to state adjusted and raw p and the method", r.Gates)
	}
	// pratt keeps the zeros of C in the ranking: SciPy's
	// wilcoxon(d, zero_method="pratt", correction=True) = 0.00801674511280031
	// (report/stats/testdata/refs/wilcoxon.py.txt).
	r, err = ForRun(dir, Options{PAdjust: "none", ZeroMethod: "pratt"})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Comparisons[1].Judges[0].P; math.Abs(got-0.00801674511280031) > 1e-9 {
		t.Errorf("pratt: p %v; want 0.00801674511280031", got)
	}
}
