package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// SignResult is the outcome of a sign test on differences B - A.
type SignResult struct {
	// N is the number of non-zero differences, Pos + Neg; zero differences
	// (ties) are dropped.
	N int
	// Pos counts the positive differences (B better), Neg the negative
	// ones (B worse).
	Pos, Neg int
	// P is the p-value for the requested alternative.
	P float64
}

// SignTest returns the classical sign test of the differences diffs
// (B - A): zeros are dropped and, under the null hypothesis of a zero
// median difference, the number of positive differences Pos is
// Binomial(N, 1/2), N = Pos + Neg. It is R's binom.test(Pos, N, 0.5,
// alternative = alt)$p.value and scipy.stats.binomtest(Pos, N, 0.5,
// alternative=alt).pvalue:
//
//	greater:   P = P(X >= Pos),
//	less:      P = P(X <= Pos),
//	two-sided: P = min(1, 2·min(P(X <= Pos), P(X >= Pos))),
//
// the two-sided value being binom.test's (for p = 1/2 the binomial is
// symmetric, so it is twice the smaller tail). The test uses only the
// direction of each difference, so it suits ordinal scores.
//
// With no non-zero difference P is 1 (no evidence against the null; R's
// binom.test stops with an error there), as McNemarExact. A NaN in diffs
// or an unknown alt makes P NaN.
func SignTest(diffs []float64, alt Alternative) SignResult {
	var r SignResult
	for _, d := range diffs {
		switch {
		case math.IsNaN(d):
			r.P = math.NaN()
		case d > 0:
			r.Pos++
		case d < 0:
			r.Neg++
		}
	}
	r.N = r.Pos + r.Neg
	if math.IsNaN(r.P) {
		return r
	}
	r.P = binomHalfP(r.Pos, r.N, alt)
	return r
}

// McNemarExactAlt returns the exact McNemar p-value for the alternative
// alt from the discordant counts of paired pass/fail outcomes: b examples
// pass under A and fail under B (B worse), c fail under A and pass under B
// (B better). Under the null of equal pass rates c is Binomial(b+c, 1/2);
// Greater is the alternative "B passes more often than A":
//
//	greater:   P = P(X >= c),
//	less:      P = P(X <= c),
//	two-sided: P = McNemarExact(b, c),
//
// R's binom.test(c, b + c, 0.5, alternative = alt)$p.value. It returns 1
// when b + c = 0, and NaN for a negative count or an unknown alt.
func McNemarExactAlt(b, c int, alt Alternative) float64 {
	if b < 0 || c < 0 {
		return math.NaN()
	}
	return binomHalfP(c, b+c, alt)
}

// binomHalfP is the exact binomial test p-value of k successes in n trials
// against success probability 1/2, for alt. It is 1 for n = 0. Both tails
// are computed as lower-tail CDFs (P(X >= k) = P(X <= n-k) by symmetry) so
// that small p-values keep their precision.
func binomHalfP(k, n int, alt Alternative) float64 {
	if !alt.valid() {
		return math.NaN()
	}
	if n == 0 {
		return 1
	}
	lower := func(x int) float64 { // P(X <= x)
		return distuv.Binomial{N: float64(n), P: 0.5}.CDF(float64(x))
	}
	switch alt {
	case Greater:
		return min(1, lower(n-k))
	case Less:
		return min(1, lower(k))
	}
	return McNemarExact(n-k, k)
}
