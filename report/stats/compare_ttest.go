package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// TTestResult is the outcome of a paired t-test on differences B - A.
type TTestResult struct {
	// N is the number of differences.
	N int
	// Mean is the mean difference and SD its standard deviation
	// (divisor N - 1).
	Mean, SD float64
	// T is the statistic Mean / (SD / √N) and DF = N - 1 its degrees of
	// freedom.
	T, DF float64
	// P is the p-value for the requested alternative.
	P float64
	// CI is the confidence interval for the mean difference at the
	// requested level; for a one-sided alternative one end is infinite
	// (Lo = -Inf for Less, Hi = +Inf for Greater).
	CI Interval
}

// PairedTTest returns the paired t-test of the differences diffs (B - A)
// against a mean of zero, with the p-value for alt and the confidence
// interval at level. It is R's t.test(b, a, paired = TRUE,
// alternative = alt, conf.level = level), and scipy.stats.ttest_rel(b, a,
// alternative=alt):
//
//	T = mean / (sd/√n),  DF = n - 1,
//	two-sided: P = 2·P(t_DF >= |T|), CI = mean ± t_{(1+level)/2} · sd/√n,
//	greater:   P = P(t_DF >= T),     CI = [mean - t_level · sd/√n, +Inf),
//	less:      P = P(t_DF <= T),     CI = (-Inf, mean + t_level · sd/√n].
//
// Where R stops with an error the result is NaN instead:
//   - n < 2 ("not enough 'x' observations"): Mean is the single value (NaN
//     for none) and SD, T, DF, P and CI are NaN;
//   - differences that are all equal, so sd/√n < 10·ε·|mean| ("data are
//     essentially constant"): N, Mean, SD and DF are set, T, P and CI are
//     NaN. In particular a comparison where every example scored the same
//     under A and B has no t-test p-value.
//
// An unknown alt or a level outside (0, 1) makes P (and CI) NaN; a NaN in
// diffs makes everything but N NaN. The tail probabilities come from the
// regularised incomplete beta function, so a large n or a large |T| gives
// a small p-value accurately rather than 0 from 1 - CDF.
func PairedTTest(diffs []float64, alt Alternative, level float64) TTestResult {
	n := len(diffs)
	r := TTestResult{N: n, SD: math.NaN(), T: math.NaN(), DF: math.NaN(), P: math.NaN(), CI: nanInterval()}
	r.Mean, r.SD = meanSD(diffs)
	if n < 2 {
		return r
	}
	r.DF = float64(n - 1)
	se := r.SD / math.Sqrt(float64(n))
	if math.IsNaN(se) || se < 10*epsilon*math.Abs(r.Mean) || se == 0 {
		return r
	}
	r.T = r.Mean / se
	if !alt.valid() {
		return r
	}
	dist := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: r.DF}
	switch alt {
	case TwoSided:
		r.P = min(1, 2*dist.CDF(-math.Abs(r.T)))
	case Greater:
		r.P = dist.CDF(-r.T)
	case Less:
		r.P = dist.CDF(r.T)
	}
	if !validLevel(level) {
		return r
	}
	switch alt {
	case TwoSided:
		h := dist.Quantile((1+level)/2) * se
		r.CI = Interval{r.Mean - h, r.Mean + h}
	case Greater:
		r.CI = Interval{r.Mean - dist.Quantile(level)*se, math.Inf(1)}
	case Less:
		r.CI = Interval{math.Inf(-1), r.Mean + dist.Quantile(level)*se}
	}
	return r
}

// epsilon is the machine epsilon of float64, R's .Machine$double.eps.
const epsilon = 0x1p-52
