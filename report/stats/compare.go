package stats

import (
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// This file holds the intervals and tests gavel uses to compare two
// variants (prompt A against prompt B) run on the same examples: a paired
// design, where each example contributes one difference B - A. The
// Wilcoxon signed-rank test is in compare_wilcoxon.go, the power and
// sample-size calculations in power.go, Bradley–Terry in bt.go.

// Interval is a confidence interval [Lo, Hi]. An undefined interval has
// both ends NaN.
type Interval struct{ Lo, Hi float64 }

// nanInterval is the undefined interval.
func nanInterval() Interval { return Interval{math.NaN(), math.NaN()} }

// validLevel reports whether level is a usable confidence level, 0 < level < 1.
func validLevel(level float64) bool { return level > 0 && level < 1 }

// normalQuantile returns Φ⁻¹(p), the quantile of the standard normal.
func normalQuantile(p float64) float64 { return distuv.UnitNormal.Quantile(p) }

// tQuantile returns the p quantile of Student's t with df degrees of freedom.
func tQuantile(p, df float64) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(p)
}

// meanSD returns the sample mean of xs and its standard deviation with
// divisor n - 1 (NaN for fewer than 2 values; mean NaN for none).
func meanSD(xs []float64) (mean, sd float64) {
	n := len(xs)
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	mean = s / float64(n)
	if n < 2 {
		return mean, math.NaN()
	}
	var ss float64
	for _, x := range xs {
		d := x - mean
		ss += d * d
	}
	return mean, math.Sqrt(ss / float64(n-1))
}

// MeanCI returns the sample mean of xs and the Student-t confidence
// interval for the population mean at the given level (e.g. 0.95):
//
//	mean ± t_{(1+level)/2, n-1} · s / √n,
//
// with s the standard deviation with divisor n - 1. Applied to paired
// differences it is the interval of the paired t-test, R's
// t.test(x, y, paired = TRUE)$conf.int.
//
// The mean is NaN for an empty xs; the interval is NaN when n < 2 or level
// is not in (0, 1). A NaN in xs makes everything NaN.
func MeanCI(xs []float64, level float64) (mean float64, ci Interval) {
	mean, sd := meanSD(xs)
	if len(xs) < 2 || !validLevel(level) {
		return mean, nanInterval()
	}
	n := float64(len(xs))
	h := tQuantile((1+level)/2, n-1) * sd / math.Sqrt(n)
	return mean, Interval{mean - h, mean + h}
}

// NormalCI returns the large-sample (z) confidence interval for the mean
// of the paired differences diffs:
//
//	mean ± z_{(1+level)/2} · s / √n,
//
// with s the standard deviation with divisor n - 1 and z the standard
// normal quantile. It is narrower than MeanCI's t interval, and the two
// agree as n grows. It is NaN when n < 2 or level is not in (0, 1).
func NormalCI(diffs []float64, level float64) Interval {
	mean, sd := meanSD(diffs)
	if len(diffs) < 2 || !validLevel(level) {
		return nanInterval()
	}
	h := normalQuantile((1+level)/2) * sd / math.Sqrt(float64(len(diffs)))
	return Interval{mean - h, mean + h}
}

// Wilson returns the Wilson (1927) score interval for a binomial
// proportion with the given successes out of n trials, without continuity
// correction:
//
//	(p̂ + z²/2n ± z √(p̂(1-p̂)/n + z²/4n²)) / (1 + z²/n),
//
// p̂ = successes/n, z = z_{(1+level)/2}. It is statsmodels'
// proportion_confint(successes, n, alpha=1-level, method="wilson") and R's
// prop.test(successes, n, correct = FALSE)$conf.int. The ends are clamped
// to [0, 1] against rounding, so 0 successes give Lo = 0 and n successes
// Hi = 1 exactly. It is NaN when n <= 0, successes is outside [0, n], or
// level is not in (0, 1).
func Wilson(successes, n int, level float64) Interval {
	if n <= 0 || successes < 0 || successes > n || !validLevel(level) {
		return nanInterval()
	}
	z := normalQuantile((1 + level) / 2)
	nf := float64(n)
	p := float64(successes) / nf
	z2 := z * z
	denom := 1 + z2/nf
	center := (p + z2/(2*nf)) / denom
	half := z / denom * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	lo, hi := center-half, center+half
	if successes == 0 {
		lo = 0
	}
	if successes == n {
		hi = 1
	}
	return Interval{max(lo, 0), min(hi, 1)}
}

// ClusteredMean returns the mean of all observations in clusters (one
// cluster per example, its epochs or repeats as the observations), its
// cluster-robust standard error and a confidence interval at level.
//
// With N observations in G non-empty clusters and x̄ the mean over all N,
//
//	se = √( G/(G-1) · Σ_c (Σ_i (x_ci - x̄))² ) / N,
//	ci = x̄ ± t_{(1+level)/2, G-1} · se.
//
// This is the sandwich (Liang–Zeger) variance of the intercept of an
// intercept-only regression with the usual small-sample factor
// G/(G-1)·(N-1)/(N-K), which for K = 1 parameter is G/(G-1): the standard
// error of statsmodels' OLS(x, ones).fit(cov_type="cluster") (default
// use_correction=True) and of Stata's "mean x, vce(cluster id)", and the
// with-replacement standard error of the ratio-estimated mean of a
// one-stage cluster sample (R survey's svymean without fpc). The t with
// G - 1 degrees of freedom is Stata's choice and statsmodels' with
// use_t=True. With one observation per cluster it reduces to MeanCI.
//
// Empty clusters are ignored. mean is NaN when there are no observations;
// se and ci are NaN when G < 2 (and ci when level is not in (0, 1)).
func ClusteredMean(clusters [][]float64, level float64) (mean, se float64, ci Interval) {
	var sum float64
	n, g := 0, 0
	for _, c := range clusters {
		if len(c) == 0 {
			continue
		}
		g++
		n += len(c)
		for _, x := range c {
			sum += x
		}
	}
	if n == 0 {
		return math.NaN(), math.NaN(), nanInterval()
	}
	mean = sum / float64(n)
	if g < 2 {
		return mean, math.NaN(), nanInterval()
	}
	var ss float64
	for _, c := range clusters {
		var r float64
		for _, x := range c {
			r += x - mean
		}
		ss += r * r
	}
	gf := float64(g)
	se = math.Sqrt(gf/(gf-1)*ss) / float64(n)
	if !validLevel(level) {
		return mean, se, nanInterval()
	}
	h := tQuantile((1+level)/2, gf-1) * se
	return mean, se, Interval{mean - h, mean + h}
}

// PairedBootstrapCI returns the percentile bootstrap confidence interval
// at level for the mean of the paired differences diffs: it draws
// `resamples` samples of len(diffs) differences with replacement, takes
// the mean of each, and returns the (1-level)/2 and (1+level)/2 quantiles
// of those means (Quantile's linear interpolation, NumPy's default, as in
// scipy.stats.bootstrap(method="percentile")). Resampling whole
// differences keeps each example's A and B together.
//
// The draws come from math/rand/v2's PCG generator created as
// rand.New(rand.NewPCG(seed, seed)), index i of a resample being
// IntN(len(diffs)), so the interval is a deterministic function of diffs,
// level, resamples and seed. It is NaN when len(diffs) < 2, resamples < 1
// or level is not in (0, 1).
func PairedBootstrapCI(diffs []float64, level float64, resamples int, seed uint64) Interval {
	n := len(diffs)
	if n < 2 || resamples < 1 || !validLevel(level) {
		return nanInterval()
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	means := make([]float64, resamples)
	for b := range means {
		var s float64
		for range n {
			s += diffs[rng.IntN(n)]
		}
		means[b] = s / float64(n)
	}
	sort.Float64s(means)
	return Interval{QuantileSorted(means, (1-level)/2), QuantileSorted(means, (1+level)/2)}
}

// McNemarExact returns the two-sided exact McNemar p-value for paired
// binary outcomes, from the discordant counts b (pass under A, fail under
// B) and c (fail under A, pass under B). Under the null hypothesis of equal
// pass rates, min(b, c) is Binomial(b+c, 1/2), and
//
//	p = min(1, 2 · P(X <= min(b, c))),   X ~ Binomial(b+c, 1/2).
//
// This is statsmodels' mcnemar(table, exact=True).pvalue and R's
// binom.test(b, b + c)$p.value (the two agree for p = 1/2, where the
// binomial is symmetric). It returns 1 when b + c = 0, and NaN for a
// negative count.
func McNemarExact(b, c int) float64 {
	if b < 0 || c < 0 {
		return math.NaN()
	}
	n := b + c
	if n == 0 {
		return 1
	}
	k := min(b, c)
	if 2*k == n {
		return 1
	}
	p := 2 * distuv.Binomial{N: float64(n), P: 0.5}.CDF(float64(k))
	return min(p, 1)
}

// HolmBonferroni returns Holm's (1979) step-down adjusted p-values for the
// family ps, in the order of ps: PAdjust(ps, "holm"), R's p.adjust(ps,
// "holm"). A NaN p-value stays NaN and does not count in the family size;
// a value outside [0, 1] gives NaN throughout.
func HolmBonferroni(ps []float64) []float64 {
	out, err := PAdjust(ps, "holm")
	if err != nil {
		out = make([]float64, len(ps))
		for i := range out {
			out[i] = math.NaN()
		}
	}
	return out
}
