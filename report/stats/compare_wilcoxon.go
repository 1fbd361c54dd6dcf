package stats

import (
	"math"
	"slices"
)

// WilcoxonOptions configures Wilcoxon. The zero value is R's
// wilcox.test(d, correct = FALSE) with zeros dropped. Further fields (such as
// a one-sided alternative) may be added; their zero value keeps today's
// behaviour.
type WilcoxonOptions struct {
	// ZeroMethod says what becomes of zero differences: "wilcox" (or "")
	// drops them before ranking, as R and SciPy do by default; "pratt"
	// ranks them with the others and then drops their ranks (Pratt 1959);
	// "zsplit" ranks them and splits each zero's rank evenly between W+
	// and W-. These are scipy.stats.wilcoxon's zero_method options.
	ZeroMethod string
	// Correction applies the continuity correction of 1/2 to the normal
	// approximation (R's correct = TRUE, SciPy's correction=True).
	Correction bool
	// Alternative is the alternative hypothesis on the differences:
	// TwoSided (also for ""), Greater (they tend to be positive) or Less.
	Alternative Alternative
}

// WilcoxonResult is the outcome of a Wilcoxon signed-rank test.
type WilcoxonResult struct {
	// N is the number of differences that take part: the nonzero ones for
	// "wilcox", all of them for "pratt" and "zsplit".
	N int
	// V is R's statistic, the sum W+ of the ranks of the positive
	// differences (for "zsplit" plus half the ranks of the zeros).
	V float64
	// Z is the standardized statistic of the normal approximation
	// (continuity-corrected when Method is "normal+cc"); NaN for "exact".
	Z float64
	// P is the p-value for the options' alternative (two-sided by
	// default).
	P float64
	// Method is "exact", "normal+cc" or "normal"; "" when P is NaN
	// because there is no data.
	Method string
}

// Wilcoxon runs the Wilcoxon (1945) signed-rank test of the
// paired differences diffs against a median of 0, by the rule of R 4.2's
// wilcox.test(d, exact = NULL, correct = o.Correction, alternative =
// o.Alternative):
//
//   - exact, when there are no zero and no tied absolute differences and
//     fewer than 50 nonzero differences: the null distribution of W+ over
//     the 2^n equally likely sign patterns, p = min(1, 2·min(P(W+ <= V),
//     P(W+ >= V))), or the one tail P(W+ >= V) for Greater and P(W+ <= V)
//     for Less;
//   - the normal approximation otherwise: z = (V - μ - cc) / σ with
//     μ = n(n+1)/4, the tie-corrected σ² = [n(n+1)(2n+1) - Σ(t³-t)/2] / 24
//     (t over the sizes of the groups of tied ranks), cc = sign(V - μ)/2
//     when o.Correction holds, else 0, and p = 2Φ(-|z|); for Greater
//     cc = +1/2 and p = 1 - Φ(z), for Less cc = -1/2 and p = Φ(z) (the
//     correction moves V toward μ in the direction of the alternative, as
//     R's and SciPy's).
//
// For "pratt", μ and σ² lose the share of the zero ranks: μ -= z0(z0+1)/4
// and σ² -= z0(z0+1)(2z0+1)/24, z0 being the number of zeros, as in
// scipy.stats.wilcoxon. With zeros present every zero method uses the
// normal approximation.
//
// SciPy 1.10's method="auto" differs in two places: it uses the exact
// distribution up to n = 50 inclusive (counting zeros), and it does so
// even with tied ranks. Where neither applies (no ties, n != 50, or zeros
// present) its p-value is the same as this function's.
//
// P is NaN (Method "") for an empty diffs, one holding a NaN, an unknown
// ZeroMethod or an unknown Alternative, and when every difference is zero under "wilcox" or "pratt"
// (R returns NaN there; SciPy raises an error). Under "zsplit" all zeros
// give V = n(n+1)/4, z = 0 and a two-sided p = 1.
func Wilcoxon(diffs []float64, o WilcoxonOptions) WilcoxonResult {
	res := WilcoxonResult{V: math.NaN(), Z: math.NaN(), P: math.NaN()}
	zm := o.ZeroMethod
	if zm == "" {
		zm = "wilcox"
	}
	if len(diffs) == 0 || slices.ContainsFunc(diffs, math.IsNaN) ||
		(zm != "wilcox" && zm != "pratt" && zm != "zsplit") {
		return res
	}
	alt := o.Alternative
	if alt == "" {
		alt = TwoSided
	}
	if !alt.valid() {
		return res
	}
	var d []float64
	zeros := 0
	for _, x := range diffs {
		if x == 0 {
			zeros++
			if zm == "wilcox" {
				continue
			}
		}
		d = append(d, x)
	}
	n := len(d)
	res.N = n
	ranks := averageRanks(absAll(d))
	var wPlus float64
	var nonzeroRanks []float64
	for i, r := range ranks {
		switch {
		case d[i] > 0:
			wPlus += r
		case d[i] == 0 && zm == "zsplit":
			wPlus += r / 2
		}
		if d[i] != 0 || zm == "zsplit" {
			nonzeroRanks = append(nonzeroRanks, r)
		}
	}
	res.V = wPlus
	if zeros == len(diffs) && zm != "zsplit" {
		return res
	}
	if zeros == 0 && n < 50 && !hasTies(ranks) {
		res.P = signedRankExactP(ranks, wPlus, alt)
		res.Method = "exact"
		return res
	}
	nf := float64(n)
	mu := nf * (nf + 1) / 4
	variance := nf * (nf + 1) * (2*nf + 1)
	if zm == "pratt" {
		z0 := float64(zeros)
		mu -= z0 * (z0 + 1) / 4
		variance -= z0 * (z0 + 1) * (2*z0 + 1)
	}
	variance = (variance - tieTerm(nonzeroRanks)/2) / 24
	res.Method = "normal"
	if o.Correction {
		res.Method = "normal+cc"
	}
	if alt == TwoSided {
		res.Z, res.P = signedRankNormal(wPlus, mu, variance, o.Correction)
	} else {
		res.Z, res.P = signedRankNormalOneSided(wPlus, mu, variance, o.Correction, alt)
	}
	return res
}

// signedRankNormal is the normal approximation to the two-sided p-value
// of the plus-rank sum wPlus with null mean mu and variance: z = (wPlus -
// mu - cc) / sqrt(variance), cc = sign(wPlus - mu)/2 when correct holds,
// and p = 2Φ(-|z|).
func signedRankNormal(wPlus, mu, variance float64, correct bool) (z, p float64) {
	num := wPlus - mu
	if correct {
		switch {
		case num > 0:
			num -= 0.5
		case num < 0:
			num += 0.5
		}
	}
	if num == 0 {
		return 0, 1
	}
	z = num / math.Sqrt(variance)
	return z, min(1, math.Erfc(math.Abs(z)/math.Sqrt2))
}

// signedRankNormalOneSided is the normal approximation to the one-sided
// p-value of the plus-rank sum wPlus for alt (Greater or Less): z = (wPlus -
// mu - cc) / sqrt(variance) with cc = +1/2 for Greater and -1/2 for Less
// when correct holds (0 otherwise), and p = 1 - Φ(z) for Greater, Φ(z) for
// Less.
func signedRankNormalOneSided(wPlus, mu, variance float64, correct bool, alt Alternative) (z, p float64) {
	num := wPlus - mu
	if correct {
		if alt == Greater {
			num -= 0.5
		} else {
			num += 0.5
		}
	}
	z = num / math.Sqrt(variance)
	if alt == Greater {
		return z, math.Erfc(z/math.Sqrt2) / 2
	}
	return z, math.Erfc(-z/math.Sqrt2) / 2
}

// WilcoxonSignedRank is Wilcoxon(diffs, WilcoxonOptions{ZeroMethod:
// "wilcox", Correction: true}), R's default wilcox.test, returning V and
// the two-sided p-value.
func WilcoxonSignedRank(diffs []float64) (v, p float64) {
	r := Wilcoxon(diffs, WilcoxonOptions{ZeroMethod: "wilcox", Correction: true})
	return r.V, r.P
}

// absAll returns the absolute values of x.
func absAll(x []float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = math.Abs(v)
	}
	return out
}

// tieTerm is Σ(t³ - t) over the groups of t equal values in x.
func tieTerm(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	var sum float64
	for i := 0; i < len(s); {
		j := i + 1
		for j < len(s) && s[j] == s[i] {
			j++
		}
		t := float64(j - i)
		sum += t*t*t - t
		i = j
	}
	return sum
}

// hasTies reports whether x holds two equal values.
func hasTies(x []float64) bool {
	s := slices.Clone(x)
	slices.Sort(s)
	for i := 1; i < len(s); i++ {
		if s[i] == s[i-1] {
			return true
		}
	}
	return false
}

// signedRankTails returns P(T <= w) and P(T >= w), where T is the sum of the
// ranks given a plus sign when each of ranks independently gets a plus or
// a minus with probability 1/2. ranks are average ranks, so 2·rank is an
// integer and the distribution is counted exactly over doubled ranks.
func signedRankTails(ranks []float64, w float64) (le, ge float64) {
	total := 0
	doubled := make([]int, len(ranks))
	for i, r := range ranks {
		doubled[i] = int(math.Round(2 * r))
		total += doubled[i]
	}
	// counts[s] = number of sign patterns whose doubled plus-rank sum is
	// s, divided by 2^k after k ranks so it stays a probability.
	counts := make([]float64, total+1)
	counts[0] = 1
	hi := 0
	for _, d := range doubled {
		for s := hi; s >= 0; s-- {
			if counts[s] != 0 {
				counts[s+d] += counts[s]
			}
		}
		hi += d
		for s := 0; s <= hi; s++ {
			counts[s] /= 2
		}
	}
	w2 := int(math.Round(2 * w))
	for s, c := range counts {
		if s <= w2 {
			le += c
		}
		if s >= w2 {
			ge += c
		}
	}
	return le, ge
}

// signedRankExactP is the exact (permutation) p-value of the observed
// plus-rank sum wPlus for alt: min(1, 2 · min(P(T <= w), P(T >= w)))
// two-sided, P(T >= w) for Greater, P(T <= w) for Less.
func signedRankExactP(ranks []float64, wPlus float64, alt Alternative) float64 {
	le, ge := signedRankTails(ranks, wPlus)
	switch alt {
	case Greater:
		return min(1, ge)
	case Less:
		return min(1, le)
	}
	return min(1, 2*min(le, ge))
}
