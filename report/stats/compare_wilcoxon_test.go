package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// Every expected value below is transcribed from the source cited next to
// it, never computed here.

// Darwin's corn data as given in the scipy.stats.wilcoxon docstring
// (from Wilcoxon 1945): height differences of cross- and self-fertilized
// plants.
var cornDiffs = []float64{6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75}

// Hollander & Wolfe (1973), p. 29f: Hamilton depression scale factor IV of
// 9 patients at the first (x) and second (y) visit, the example of R's
// ?wilcox.test.
var (
	depressionX = []float64{1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30}
	depressionY = []float64{0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29}
)

func TestWilcoxonSignedRankPublishedExamples(t *testing.T) {
	t.Parallel()
	// scipy.stats.wilcoxon docstring: res = wilcoxon(d) ->
	// (24.0, 0.041259765625), exact (n = 15, no ties or zeros).
	// R's V is W+ = 120 - 24 = 96 (n = 15, so n(n+1)/2 = 120).
	stat, p := WilcoxonSignedRank(cornDiffs)
	checkClose(t, "corn statistic", 120-stat, 24, 0)
	checkClose(t, "corn p", p, 0.041259765625, 1e-15)

	// R: wilcox.test(x, y, paired = TRUE) on the depression data:
	// "Wilcoxon signed rank exact test, V = 40, p-value = 0.03906" (also
	// recorded in Apache Commons Math's WilcoxonSignedRankTestTest). R's V
	// is W+ = 40; W- = 45 - 40 = 5 is SciPy's two-sided statistic, and R's
	// one-sample wilcox.test(y - x) prints V = 5 with the same p-value.
	d := pairDiffs(depressionX, depressionY)
	stat, p = WilcoxonSignedRank(d)
	checkClose(t, "depression statistic", min(stat, 45-stat), 5, 0)
	checkClose(t, "depression p", p, 0.03906, 5e-6)

	// scipy stats/tests/test_morestats.py, test_accuracy_wilcoxon: 56
	// values -4..4 with frequencies 1, 4, 16, 15, 8, 4, 5, 1, 2 (8 zeros,
	// many ties): wilcoxon(x, y, "wilcox") -> T = 327,
	// p = 0.00641346115861 (normal approximation, tie-corrected,
	// correction=False), compared with assert_allclose's rtol 1e-7.
	var acc []float64
	for i, f := range []int{1, 4, 16, 15, 8, 4, 5, 1, 2} {
		for range f {
			acc = append(acc, float64(i-4))
		}
	}
	r := Wilcoxon(acc, WilcoxonOptions{ZeroMethod: "wilcox"})
	checkClose(t, "accuracy statistic", min(r.V, float64(r.N*(r.N+1))/2-r.V), 327, 0)
	checkRel(t, "accuracy p", r.P, 0.00641346115861, 1e-7)
	if r.Method != "normal" {
		t.Errorf("accuracy method %q; want normal", r.Method)
	}
}

func TestWilcoxonNormalApproximationMatchesPublished(t *testing.T) {
	t.Parallel()
	// The normal approximation on its own (WilcoxonSignedRank uses the
	// exact distribution for these untied samples).
	cases := []struct {
		name string
		d    []float64
		want float64
		rel  float64
	}{
		// scipy.stats.wilcoxon docstring: wilcoxon(d, method='asymptotic')
		// -> (24.0, 0.04088813291185591).
		{"corn", cornDiffs, 0.04088813291185591, 1e-12},
		// R: wilcox.test(x, y, paired = TRUE, exact = FALSE, correct =
		// FALSE) -> V = 40, p-value = 0.03815 (Apache Commons Math,
		// WilcoxonSignedRankTestTest).
		{"depression", pairDiffs(depressionX, depressionY), 0.03815, 5e-5 / 0.03815},
		// scipy test_accuracy_wilcoxon: "values computed in R with
		// wilcox.test(x, y, paired=TRUE, exact=FALSE, correct=FALSE)":
		// T = 34, p = 0.6948866 (rtol 1e-6).
		{"R 12 pairs", pairDiffs(
			[]float64{120, 114, 181, 188, 180, 146, 121, 191, 132, 113, 127, 112},
			[]float64{133, 143, 119, 189, 112, 199, 198, 113, 115, 121, 142, 187}),
			0.6948866, 1e-6},
		// scipy test_wilcoxon_tie: R wilcox.test(rep(0.1, 10), exact =
		// FALSE, correct = FALSE)$p.value = 0.001565402 (all ten tied).
		{"ten ties", []float64{0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1}, 0.001565402, 5e-10 / 0.001565402},
	}
	for _, c := range cases {
		var wPlus float64
		ranks := averageRanks(absAll(c.d))
		for i, x := range c.d {
			if x > 0 {
				wPlus += ranks[i]
			}
		}
		n := float64(len(c.d))
		variance := (n*(n+1)*(2*n+1) - tieTerm(ranks)/2) / 24
		_, p := signedRankNormal(wPlus, n*(n+1)/4, variance, false)
		checkRel(t, "normal p "+c.name, p, c.want, c.rel)
	}
	stat, _ := WilcoxonSignedRank(pairDiffs(
		[]float64{120, 114, 181, 188, 180, 146, 121, 191, 132, 113, 127, 112},
		[]float64{133, 143, 119, 189, 112, 199, 198, 113, 115, 121, 142, 187}))
	checkClose(t, "R 12 pairs statistic", min(stat, 78-stat), 34, 0)
}

func TestWilcoxonPermutationWithTies(t *testing.T) {
	t.Parallel()
	// scipy.stats.wilcoxon docstring: d = [-0.025, 0.05, 0.05, -0.05],
	// wilcoxon(d, alternative='greater') -> WilcoxonResult(statistic=6.0,
	// pvalue=0.5), SciPy's exhaustive permutation test (ties, n <= 13).
	// Ranks of |d|: 1, then 3, 3, 3 (average of 2..4); W+ = 3 + 3 = 6.
	ranks := averageRanks(absAll([]float64{-0.025, 0.05, 0.05, -0.05}))
	_, ge := signedRankTails(ranks, 6)
	checkClose(t, "P(W+ >= 6)", ge, 0.5, 1e-15)
	// All ten values tied: R's rule takes the normal approximation, not
	// the permutation p of 2/1024; scipy test_wilcoxon_tie, R
	// wilcox.test(rep(0.1, 10), exact = FALSE, correct = FALSE)$p.value =
	// 0.001565402.
	r := Wilcoxon([]float64{0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1}, WilcoxonOptions{})
	checkRel(t, "ten ties p", r.P, 0.001565402, 5e-10/0.001565402)
}

func TestWilcoxonProperties(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(21, 22))
	for trial := range 300 {
		n := 1 + rng.IntN(60)
		d := make([]float64, n)
		for i := range d {
			switch rng.IntN(6) {
			case 0:
				d[i] = 0
			case 1:
				d[i] = float64(rng.IntN(5) - 2) // ties
			default:
				d[i] = rng.NormFloat64() + 0.3
			}
		}
		stat, p := WilcoxonSignedRank(d)
		if !(p >= 0 && p <= 1) && !(math.IsNaN(p) && slices.Max(absAll(d)) == 0) {
			t.Fatalf("trial %d: p = %v for %v", trial, p, d)
		}
		// Flipping every sign swaps W+ and W-: V becomes total - V, same p.
		r := Wilcoxon(negate(d), WilcoxonOptions{Correction: true})
		s2, p2 := float64(r.N*(r.N+1))/2-r.V, r.P
		if s2 != stat || !(p2 == p || math.Abs(p2-p) < 1e-12 || (math.IsNaN(p) && math.IsNaN(p2))) {
			t.Fatalf("trial %d: sign flip changed (%v, %v) to (%v, %v)", trial, stat, p, s2, p2)
		}
		// Scaling by a positive constant changes nothing.
		scaled := make([]float64, n)
		for i, x := range d {
			scaled[i] = 4 * x
		}
		if s3, p3 := WilcoxonSignedRank(scaled); s3 != stat || !(p3 == p || (math.IsNaN(p) && math.IsNaN(p3))) {
			t.Fatalf("trial %d: scaling changed (%v, %v) to (%v, %v)", trial, stat, p, s3, p3)
		}
		// W+ + W- = m(m+1)/2 with m nonzero values, so V <= m(m+1)/2.
		m := 0
		for _, x := range d {
			if x != 0 {
				m++
			}
		}
		if stat > float64(m*(m+1))/2+1e-9 || stat < 0 {
			t.Fatalf("trial %d: statistic %v outside [0, m(m+1)/2] for m = %d", trial, stat, m)
		}
	}

	// Zeros are dropped, but their presence rules out the exact
	// distribution (as in R): adding zeros to an untied sample of 8 gives
	// the normal approximation of the sample without them.
	base := []float64{1.5, -0.3, 2.2, 4.1, 0.7, 3.3, -1.9, 2.8}
	r0 := Wilcoxon(base, WilcoxonOptions{Correction: true})
	r1 := Wilcoxon(append(slices.Clone(base), 0, 0, 0, 0, 0), WilcoxonOptions{Correction: true})
	_, pNormal := signedRankNormal(r0.V, 8*9/4.0, 8*9*17/24.0, true)
	if r0.Method != "exact" || r1.Method != "normal+cc" || r1.V != r0.V {
		t.Errorf("zeros: methods %q, %q, V %v, %v; want exact, normal+cc, equal V", r0.Method, r1.Method, r0.V, r1.V)
	}
	checkClose(t, "zeros dropped", r1.P, pNormal, 1e-15)

	// For a large untied sample (n = 49, exact) the normal approximation is
	// close.
	big := make([]float64, 49)
	for i := range big {
		big[i] = float64(i+1) * float64(1-2*(i%3/2)) // ranks 1..50, every third negative
	}
	_, exact := WilcoxonSignedRank(big)
	wPlus := 0.0
	for _, x := range big {
		if x > 0 {
			wPlus += x
		}
	}
	_, approx := signedRankNormal(wPlus, 49*50/4.0, 49*50*99/24.0, false)
	checkClose(t, "exact vs normal at n = 49", exact, approx, 0.01)

	// The exact null distribution of W+ sums to 1 and is symmetric about
	// n(n+1)/4.
	ranks := arange(13)
	for i := range ranks {
		ranks[i]++
	}
	for w := 0.0; w <= 91; w++ {
		le, _ := signedRankTails(ranks, w)
		_, ge := signedRankTails(ranks, 91-w)
		checkClose(t, "W+ symmetry", le, ge, 1e-15)
	}
	le, ge := signedRankTails(ranks, 0)
	checkClose(t, "P(W+ <= 0)", le, math.Ldexp(1, -13), 1e-18)
	checkClose(t, "P(W+ >= 0)", ge, 1, 1e-15)
}

func TestWilcoxonUndefined(t *testing.T) {
	t.Parallel()
	if s, p := WilcoxonSignedRank(nil); !math.IsNaN(s) || !math.IsNaN(p) {
		t.Errorf("WilcoxonSignedRank(nil) = %v, %v; want NaN", s, p)
	}
	if s, p := WilcoxonSignedRank([]float64{1, math.NaN(), 2}); !math.IsNaN(s) || !math.IsNaN(p) {
		t.Errorf("WilcoxonSignedRank with NaN = %v, %v; want NaN", s, p)
	}
	// R: wilcox.test(c(0, 0, 0)) -> V = 0, p-value = NaN.
	if s, p := WilcoxonSignedRank([]float64{0, 0, 0}); s != 0 || !math.IsNaN(p) {
		t.Errorf("WilcoxonSignedRank(all zero, n = 3) = %v, %v; want 0, NaN", s, p)
	}
	if s, p := WilcoxonSignedRank(make([]float64, 20)); s != 0 || !math.IsNaN(p) {
		t.Errorf("WilcoxonSignedRank(all zero, n = 20) = %v, %v; want 0, NaN", s, p)
	}
}
