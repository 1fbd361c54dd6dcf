package report

import (
	"fmt"
	"math"
	"testing"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/report/stats"
)

// TestMDEMethod: a judge with scores states its MDE by the paired t-test
// (the default) or the normal approximation (Options.MDEMethod), and says
// which in MDEMethod; a pass/fail judge uses McNemar's planning formula.
func TestMDEMethod(t *testing.T) {
	diffs := []float64{0.1, 0.3, -0.1, 0.2, 0.0, 0.4, 0.1, 0.2}
	var rs []results.Result
	var ss []results.Score
	for i := range 5 * len(diffs) {
		j, d := i%len(diffs), diffs[i%len(diffs)]
		id := fmt.Sprintf("e%d", i)
		for _, v := range []struct {
			name  string
			score float64
		}{{"A", 0.5}, {"B", 0.5 + d}} {
			rs = append(rs, results.Result{Variant: v.name, ExampleID: id, ExampleIndex: int64(i), Status: results.StatusOK})
			pass := v.score >= 0.6
			if v.name == "A" {
				pass = j%3 == 0
			}
			ss = append(ss, results.Score{Variant: v.name, ExampleID: id, Judge: "graded", Status: results.ScoreOK, Score: fp(v.score), Pass: bp(v.score >= 0.6)},
				results.Score{Variant: v.name, ExampleID: id, Judge: "binary", Status: results.ScoreOK, Score: fp(b2f(pass)), Pass: bp(pass)})
		}
	}
	dir := writeRun(t, []string{"A", "B"}, []string{"graded", "binary"}, rs, ss)
	judge := func(r *Report, name string) JudgeComparison {
		for _, jc := range r.Comparisons[0].Judges {
			if jc.Judge == name {
				return jc
			}
		}
		t.Fatalf("no judge %s", name)
		return JudgeComparison{}
	}
	// R: power.t.test(n = 40, sd = sd(rep(d, 5)), power = 0.8, type =
	// "paired", strict = TRUE)$delta and (qnorm(0.975) + qnorm(0.8))
	// sd(rep(d, 5))/sqrt(40),
	// report/stats/testdata/refs/power_t_test.R ("mde paired_t", "mde normal").
	for _, c := range []struct {
		method, want MDEMethod
		mde          float64
	}{
		{"", MDEPairedT, 0.06900658283827},
		{MDEPairedT, MDEPairedT, 0.06900658283827},
		{MDENormal, MDENormal, 0.0672919003056078},
	} {
		r, err := CompareVariants(dir, "A", "B", Options{MDEMethod: c.method})
		if err != nil {
			t.Fatal(err)
		}
		g := judge(r, "graded")
		if g.MDEMethod != c.want || math.Abs(g.MDE-c.mde) > 1e-9*c.mde {
			t.Errorf("method %q: mde %v (%s), want %v (%s)", c.method, g.MDE, g.MDEMethod, c.mde, c.want)
		}
		// Of each 8, A passes the 1st, 4th and 7th, B all but the 3rd and
		// 5th: baseline 3/8, and the 2nd, 6th and 8th are discordant.
		b := judge(r, "binary")
		want := stats.PairedProportionMDE(40, 3.0/8, 3.0/8, 0.05, Power)
		if b.Test != "mcnemar_exact" || b.MDEMethod != MDEMcNemar || b.MDE != want || !(want > 0) {
			t.Errorf("method %q: binary judge %s mde %v (%s), want McNemar's %v", c.method, b.Test, b.MDE, b.MDEMethod, want)
		}
	}
}
