package stats

import (
	"math"

	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat/distuv"
)

// This file holds power and sample-size calculations for gavel's paired
// comparisons (variant A against variant B on the same n examples), for
// pass/fail outcomes (McNemar's test) and for continuous scores (the
// paired t-test). Every test is two-sided at level alpha.

// validProb reports whether 0 < p < 1.
func validProb(p float64) bool { return p > 0 && p < 1 }

// ---------------------------------------------------------------------
// Paired proportions: McNemar's test, Connor (1987).

// conservativeDiscordance is the largest discordance rate compatible with
// pass rates baseline under A and baseline + delta under B:
// P(A pass, B fail) can be at most min(baseline, 1 - baseline - delta), and
// the discordance is delta plus twice that.
func conservativeDiscordance(baseline, delta float64) float64 {
	return delta + 2*min(baseline, 1-baseline-delta)
}

// discordanceFor resolves the discordance used for effect delta: the
// caller's psi, or the conservative bound when psi is NaN. ok is false
// when no joint distribution of the paired outcomes has pass rates
// baseline and baseline + delta and discordance psi, that is unless
// delta <= psi, (psi + delta)/2 <= 1 - baseline and (psi - delta)/2 <=
// baseline.
func discordanceFor(baseline, delta, psi float64) (float64, bool) {
	if math.IsNaN(psi) {
		psi = conservativeDiscordance(baseline, delta)
	}
	const eps = 1e-12
	ok := psi > 0 && psi <= 1 && delta <= psi+eps &&
		(psi+delta)/2 <= 1-baseline+eps && (psi-delta)/2 <= baseline+eps
	return psi, ok
}

// connorN is Connor's (1987) sample size, unrounded: the number of pairs
// for which McNemar's test at two-sided level alpha has the given power
// against a difference delta = p01 - p10 in pass rates with discordance
// psi = p01 + p10:
//
//	n = [z_{1-α/2} √ψ + z_{power} √(ψ - δ²)]² / δ².
func connorN(psi, delta, alpha, power float64) float64 {
	za := normalQuantile(1 - alpha/2)
	zb := normalQuantile(power)
	r := za*math.Sqrt(psi) + zb*math.Sqrt(max(psi-delta*delta, 0))
	return r * r / (delta * delta)
}

// connorPower is the power that connorN inverts: for n pairs,
//
//	power = Φ( (√n |δ| - z_{1-α/2} √ψ) / √(ψ - δ²) ),
//
// the probability of rejecting in the direction of δ (the other tail is
// negligible whenever the power is of interest).
//
// With oneSided, z_{1-α} replaces z_{1-α/2}: the power of the one-sided
// test in the direction of δ.
func connorPower(n, psi, delta, alpha float64, oneSided bool) float64 {
	za := normalCritical(alpha, oneSided)
	v := psi - delta*delta
	if v <= 0 {
		return 1
	}
	return distuv.UnitNormal.CDF((math.Sqrt(n)*math.Abs(delta) - za*math.Sqrt(psi)) / math.Sqrt(v))
}

// PairedProportionN returns the number of examples needed for McNemar's
// test of a paired pass-rate comparison, two-sided at level alpha, to
// detect with the given power an improvement from pass rate baseline under
// A to baseline + delta under B, when a fraction discordance of the
// examples pass under exactly one of A and B. It is Connor's (1987)
// formula (Lachin 1992; the formula of PASS, G*Power and Stata's power
// pairedproportions for the normal-approximation McNemar test), rounded up:
//
//	n = ⌈ [z_{1-α/2} √ψ + z_{power} √(ψ - δ²)]² / δ² ⌉,   ψ = discordance.
//
// The baseline enters only through what it allows: the discordant cells
// are p01 = (ψ + δ)/2 (fail under A, pass under B) and p10 = (ψ - δ)/2,
// which must fit under the marginals. When the discordance is not known,
// pass NaN: the function then takes the largest discordance the marginals
// allow, ψ = δ + 2·min(p, 1 - p - δ) with p = baseline, the conservative
// bound (n grows with ψ, so no joint distribution needs more examples).
// Discordance between two prompts on the same model is usually far
// smaller, so an estimate from a pilot run (the fraction of examples
// whose pass differs) gives a much smaller n.
//
// delta may be negative (B worse); the sample size depends on |delta| and
// on the cells it implies. It returns -1 when an argument is out of range
// (baseline outside [0, 1], alpha or power outside (0, 1), delta = 0,
// baseline + delta outside [0, 1]), or the discordance is not in (0, 1] or
// is incompatible with the pass rates.
// For examples run several times see PairedProportionNRepeated.
func PairedProportionN(baseline, delta, discordance, alpha, power float64) int {
	n := pairedProportionN(baseline, delta, discordance, alpha, power)
	if math.IsNaN(n) {
		return -1
	}
	return int(math.Ceil(n - 1e-9))
}

// pairedProportionN is PairedProportionN unrounded (NaN where it returns -1).
func pairedProportionN(baseline, delta, discordance, alpha, power float64) float64 {
	if !(baseline >= 0 && baseline <= 1) || !validProb(alpha) || !validProb(power) ||
		delta == 0 || math.IsNaN(delta) || baseline+delta < 0 || baseline+delta > 1 {
		return math.NaN()
	}
	// Work with an improvement: B worse by d is A better by d, which is the
	// same test with the roles of A and B (and so the baseline) swapped.
	if delta < 0 {
		baseline, delta = baseline+delta, -delta
	}
	psi, ok := discordanceFor(baseline, delta, discordance)
	if !ok {
		return math.NaN()
	}
	return connorN(max(psi, delta), delta, alpha, power)
}

// PairedProportionMDE returns the minimum detectable difference in pass
// rate for McNemar's test on n paired examples, two-sided at level alpha:
// the smallest improvement δ > 0 from pass rate baseline under A to
// baseline + δ under B that the test detects with the given power, by
// Connor's (1987) formula as in PairedProportionN, inverted by bisection
// on δ (Connor's power, Φ((√n δ - z_{1-α/2} √ψ)/√(ψ - δ²)), increases with
// δ). discordance is ψ, the fraction of examples whose pass differs
// between A and B, held fixed as δ varies; NaN means unknown and takes the
// conservative bound δ + 2·min(p, 1 - p - δ) at each δ, as in
// PairedProportionN.
//
// The result is the smallest feasible δ when even that reaches the power
// (ψ > 2·baseline forces δ >= ψ - 2·baseline), and NaN when no δ that the
// baseline and discordance allow reaches the power, or an argument is out
// of range (n < 1, baseline outside [0, 1), alpha or power outside (0, 1),
// discordance not NaN and not in (0, 1]: an observed discordance of 0
// gives NaN, pass NaN for the conservative bound instead).
func PairedProportionMDE(n int, baseline, discordance, alpha, power float64) float64 {
	if n < 1 {
		return math.NaN()
	}
	return pairedProportionMDE(float64(n), baseline, discordance, alpha, power, false)
}

// pairedProportionMDE is PairedProportionMDE for a real-valued n.
// With oneSided the test is one-sided at level alpha (in the direction
// of the improvement).
func pairedProportionMDE(n, baseline, discordance, alpha, power float64, oneSided bool) float64 {
	if !(baseline >= 0 && baseline < 1) || !validProb(alpha) || !validProb(power) ||
		(!math.IsNaN(discordance) && !(discordance > 0 && discordance <= 1)) {
		return math.NaN()
	}
	reaches := func(delta float64) (feasible, enough bool) {
		psi, ok := discordanceFor(baseline, delta, discordance)
		if !ok {
			return false, false
		}
		return true, connorPower(n, psi, delta, alpha, oneSided) >= power
	}
	// The feasible deltas form an interval [lo, hi] within (0, 1-baseline].
	hi := 1 - baseline
	if !math.IsNaN(discordance) {
		hi = min(hi, discordance, 2*(1-baseline)-discordance)
	}
	lo := 0.0
	if !math.IsNaN(discordance) {
		lo = max(lo, discordance-2*baseline)
	}
	if hi <= 0 || lo > hi {
		return math.NaN()
	}
	if f, e := reaches(hi); !f || !e {
		return math.NaN()
	}
	if lo > 0 {
		if f, e := reaches(lo); f && e {
			return lo
		}
	}
	// Bisection: reaches(a) is false, reaches(b) is true.
	a, b := lo, hi
	for range 200 {
		m := (a + b) / 2
		if m == a || m == b {
			break
		}
		if _, e := reaches(m); e {
			b = m
		} else {
			a = m
		}
	}
	return b
}

// ---------------------------------------------------------------------
// Repeated runs of each example.

// DefaultRepeatCorrelation is the intra-example correlation the *Repeated
// functions assume when given NaN: 1, the conservative choice under which
// running each example k times gives no more information than running it
// once (the per-example difference is a fixed property of the example,
// as for a deterministic model). Estimate the real value from a pilot run
// with RepeatCorrelation.
const DefaultRepeatCorrelation = 1.0

// RepeatDesignEffect returns the factor by which averaging k runs of each
// example scales the variance of the per-example difference, relative to
// a single run:
//
//	DE = (1 + (k - 1) ρ) / k,
//
// where ρ is the intra-example correlation of the single-run differences
// (the share of their variance that lies between examples rather than
// between runs of one example; Kish 1965's design effect for clusters of
// size k). DE = 1 for k = 1 or ρ = 1 and 1/k for ρ = 0. rho NaN means
// DefaultRepeatCorrelation. It returns NaN for k < 1 or rho outside
// [0, 1].
func RepeatDesignEffect(k int, rho float64) float64 {
	if math.IsNaN(rho) {
		rho = DefaultRepeatCorrelation
	}
	if k < 1 || rho < 0 || rho > 1 {
		return math.NaN()
	}
	return (1 + float64(k-1)*rho) / float64(k)
}

// PairedProportionNRepeated is PairedProportionN when each example is run
// k times under each variant and the comparison uses each example's mean
// pass rate over its runs. Averaging scales both variances of Connor's
// formula (ψ under the null, ψ - δ² under the alternative, per single
// run) by the design effect DE = RepeatDesignEffect(k, rho), so
//
//	n = ⌈ DE · [z_{1-α/2} √ψ + z_{power} √(ψ - δ²)]² / δ² ⌉,
//
// with discordance ψ the single-run discordance. rho NaN means
// DefaultRepeatCorrelation (no gain from repeats). It returns -1 where
// PairedProportionN does, and for k < 1 or rho outside [0, 1].
func PairedProportionNRepeated(baseline, delta, discordance, alpha, power float64, k int, rho float64) int {
	de := RepeatDesignEffect(k, rho)
	n := pairedProportionN(baseline, delta, discordance, alpha, power)
	if math.IsNaN(de) || math.IsNaN(n) {
		return -1
	}
	return int(math.Ceil(de*n - 1e-9))
}

// PairedProportionMDERepeated is PairedProportionMDE when each of the n
// examples is run k times under each variant: averaging the runs makes n
// examples worth n/DE single runs, DE = RepeatDesignEffect(k, rho). It is
// NaN where PairedProportionMDE is, and for k < 1 or rho outside [0, 1].
func PairedProportionMDERepeated(n int, baseline, discordance, alpha, power float64, k int, rho float64) float64 {
	de := RepeatDesignEffect(k, rho)
	if math.IsNaN(de) || n < 1 {
		return math.NaN()
	}
	return pairedProportionMDE(float64(n)/de, baseline, discordance, alpha, power, false)
}

// RepeatCorrelation estimates the intra-example correlation ρ of
// RepeatDesignEffect from a pilot run: clusters holds, for each example,
// its single-run differences (or scores), one per run. It is the one-way
// analysis-of-variance intraclass correlation, Shrout & Fleiss's (1979)
// ICC(1,1):
//
//	ρ = (MSB - MSW) / (MSB + (k₀ - 1) MSW),
//
// MSB and MSW the between- and within-example mean squares, and k₀ =
// (N - Σ kᵢ²/N)/(G - 1) the effective run count for G examples with kᵢ
// runs (N in all), which is k when every example has k runs. The estimate
// can fall below 0; RepeatDesignEffect wants it clipped to [0, 1].
// Examples with no runs are ignored. It is NaN with fewer than 2 examples,
// no example with 2 runs, or MSB + (k₀ - 1) MSW = 0 (all values equal).
func RepeatCorrelation(clusters [][]float64) float64 {
	var grand float64
	n, g := 0, 0
	var sumK2 float64
	for _, c := range clusters {
		if len(c) == 0 {
			continue
		}
		g++
		n += len(c)
		sumK2 += float64(len(c) * len(c))
		for _, x := range c {
			grand += x
		}
	}
	if g < 2 || n-g < 1 {
		return math.NaN()
	}
	grand /= float64(n)
	var ssb, ssw float64
	for _, c := range clusters {
		if len(c) == 0 {
			continue
		}
		var m float64
		for _, x := range c {
			m += x
		}
		m /= float64(len(c))
		ssb += float64(len(c)) * (m - grand) * (m - grand)
		for _, x := range c {
			ssw += (x - m) * (x - m)
		}
	}
	nf, gf := float64(n), float64(g)
	msb := ssb / (gf - 1)
	msw := ssw / (nf - gf)
	k0 := (nf - sumK2/nf) / (gf - 1)
	den := msb + (k0-1)*msw
	if den == 0 {
		return math.NaN()
	}
	return (msb - msw) / den
}

// ---------------------------------------------------------------------
// Paired means: the paired t-test.

// pairedTPower is the power of the two-sided paired t-test at level alpha
// with n pairs (real-valued, n > 1) when the mean difference is d standard
// deviations of the differences: with ν = n - 1, λ = d √n and
// c = t_{1-α/2, ν},
//
//	power = P(T'_{ν,λ} > c) + P(T'_{ν,λ} < -c),
//
// T' the noncentral t. This is R's power.t.test(type = "paired",
// strict = TRUE) and pwr.t.test(type = "paired").
func pairedTPower(n, d, alpha float64) float64 {
	return tTestPower(n-1, d*math.Sqrt(n), alpha)
}

// tTestPower is the power of a two-sided t-test at level alpha whose
// statistic is noncentral t with nu degrees of freedom and noncentrality
// lambda under the alternative.
func tTestPower(nu, lambda, alpha float64) float64 {
	c := tQuantile(1-alpha/2, nu)
	return 1 - noncentralTCDF(c, nu, lambda) + noncentralTCDF(-c, nu, lambda)
}

// pairedMeanN is the real-valued n > 1 at which pairedTPower reaches power
// for effect d (d > 0), by bisection.
func pairedMeanN(d, alpha, power float64) float64 {
	lo, hi := 1.0+1e-9, 2.0
	for pairedTPower(hi, d, alpha) < power {
		lo = hi
		hi *= 2
		if hi > 1e12 {
			return math.NaN()
		}
	}
	if pairedTPower(lo, d, alpha) >= power {
		return lo
	}
	for range 200 {
		m := (lo + hi) / 2
		if m == lo || m == hi {
			break
		}
		if pairedTPower(m, d, alpha) >= power {
			hi = m
		} else {
			lo = m
		}
	}
	return hi
}

// PairedMeanN returns the number of examples needed for the two-sided
// paired t-test at level alpha to detect, with the given power, a mean
// difference delta in a continuous score whose per-example differences
// B - A have standard deviation sdDiff: the smallest integer n >= 2 with
//
//	P(T'_{n-1, λ} > t_{1-α/2, n-1}) + P(T'_{n-1, λ} < -t_{1-α/2, n-1}) >= power,
//
// λ = |delta| √n / sdDiff, T' the noncentral t (Lenth's 1989 algorithm
// AS 243). This is ⌈n⌉ for the n of R's pwr.t.test(d = delta/sdDiff,
// power = power, sig.level = alpha, type = "paired"), and exceeds the
// normal-approximation n = ((z_{1-α/2} + z_{power}) sdDiff/delta)² by
// about z²_{1-α/2}/2 (Guenther 1981). For examples run k times, pass
// sdDiff·√RepeatDesignEffect(k, rho), the standard deviation of a
// per-example mean of k runs. It returns -1 when delta = 0, sdDiff <= 0,
// alpha or power is outside (0, 1), or an argument is NaN.
func PairedMeanN(delta, sdDiff, alpha, power float64) int {
	if delta == 0 || math.IsNaN(delta) || !(sdDiff > 0) || math.IsInf(sdDiff, 1) ||
		!validProb(alpha) || !validProb(power) {
		return -1
	}
	d := math.Abs(delta) / sdDiff
	n := pairedMeanN(d, alpha, power)
	if math.IsNaN(n) {
		return -1
	}
	ni := max(2, int(math.Ceil(n)))
	// Guard the rounding: the bisection's n is within a hair of the root.
	for ni > 2 && pairedTPower(float64(ni-1), d, alpha) >= power {
		ni--
	}
	for pairedTPower(float64(ni), d, alpha) < power {
		ni++
	}
	return ni
}

// PairedMeanMDE returns the minimum detectable mean difference for the
// two-sided paired t-test at level alpha on n examples whose per-example
// differences have standard deviation sdDiff: the δ > 0 at which the power
// of PairedMeanN's formula equals power, found by bisection (the power
// increases with δ). It is pwr.t.test(n = n, power = power, sig.level =
// alpha, type = "paired")$d times sdDiff. For examples run k times pass
// sdDiff·√RepeatDesignEffect(k, rho). It is NaN for n < 2, sdDiff <= 0, or
// alpha or power outside (0, 1).
func PairedMeanMDE(n int, sdDiff, alpha, power float64) float64 {
	if n < 2 || !(sdDiff > 0) || math.IsInf(sdDiff, 1) || !validProb(alpha) || !validProb(power) {
		return math.NaN()
	}
	nf := float64(n)
	if power <= alpha {
		// The power at δ = 0 is alpha already.
		return 0
	}
	lo, hi := 0.0, 1.0
	for pairedTPower(nf, hi, alpha) < power {
		lo = hi
		hi *= 2
		if hi > 1e6 {
			return math.NaN()
		}
	}
	for range 200 {
		m := (lo + hi) / 2
		if m == lo || m == hi {
			break
		}
		if pairedTPower(nf, m, alpha) >= power {
			hi = m
		} else {
			lo = m
		}
	}
	return hi * sdDiff
}

// noncentralTCDF returns P(T <= t) for T noncentral t with nu > 0 degrees
// of freedom and noncentrality delta, by Lenth's (1989) algorithm AS 243:
// for t >= 0,
//
//	P(T <= t) = Φ(-δ) + Σ_{j>=0} [p_j I_x(j + 1/2, ν/2) + q_j I_x(j + 1, ν/2)],
//
// x = t²/(t² + ν), p_j = e^{-δ²/2} (δ²/2)^j / (2 j!), q_j = e^{-δ²/2}
// (δ²/2)^j δ / (√2 Γ(j + 3/2)), I the regularized incomplete beta, the
// series summed with the recurrences of the incomplete beta until its
// error bound is below 1e-12; for t < 0, P(T <= t) = 1 - P(T' <= -t) with
// T' of noncentrality -δ. Where e^{-δ²/2} underflows or ν > 4·10⁵ it uses
// the normal approximation of Abramowitz & Stegun 26.7.10, as R's pt does.
func noncentralTCDF(t, nu, delta float64) float64 {
	if math.IsNaN(t) || math.IsNaN(nu) || math.IsNaN(delta) || nu <= 0 {
		return math.NaN()
	}
	if math.IsInf(t, 0) {
		if t < 0 {
			return 0
		}
		return 1
	}
	if delta == 0 {
		return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: nu}.CDF(t)
	}
	negate := t < 0
	tt, del := t, delta
	if negate {
		tt, del = -t, -delta
	}
	if nu > 4e5 || del*del > 2*math.Ln2*1021 {
		// exp(-δ²/2) underflows (or ν is huge): Abramowitz & Stegun
		// 26.7.10, the approximation R's pnt uses there.
		s := 1 / (4 * nu)
		z := (tt*(1-s) - del) / math.Sqrt(1+tt*tt*2*s)
		if negate {
			return distuv.UnitNormal.Survival(z)
		}
		return distuv.UnitNormal.CDF(z)
	}
	var tnc float64
	x := tt * tt / (tt*tt + nu)
	if x > 0 {
		lambda := del * del
		p := 0.5 * math.Exp(-0.5*lambda)
		q := math.Sqrt(2/math.Pi) * p * del
		s := 0.5 - p
		if s < 1e-7 {
			s = -0.5 * math.Expm1(-0.5*lambda)
		}
		a := 0.5
		b := 0.5 * nu
		rxb := math.Pow(1-x, b)
		lgb, _ := math.Lgamma(b)
		lgb5, _ := math.Lgamma(b + 0.5)
		albeta := 0.5*math.Log(math.Pi) + lgb - lgb5
		xodd := mathext.RegIncBeta(a, b, x)
		godd := 2 * rxb * math.Exp(a*math.Log(x)-albeta)
		xeven := 1 - rxb
		if b*x < 1e-16 {
			xeven = b * x
		}
		geven := b * x * rxb
		tnc = p*xodd + q*xeven
		for it := 1; it <= 10000; it++ {
			a++
			xodd -= godd
			xeven -= geven
			godd *= x * (a + b - 1) / a
			geven *= x * (a + b - 0.5) / (a + 0.5)
			p *= lambda / float64(2*it)
			q *= lambda / float64(2*it+1)
			tnc += p*xodd + q*xeven
			s -= p
			if s <= 0 && it > 1 {
				break
			}
			if math.Abs(2*s*(xodd-godd)) < 1e-12 {
				break
			}
		}
	}
	tnc += distuv.UnitNormal.CDF(-del)
	tnc = min(max(tnc, 0), 1)
	if negate {
		return 1 - tnc
	}
	return tnc
}

// ---------------------------------------------------------------------
// Planning the paired t-test as R's power.t.test(type = "paired").

// PairedT is a paired t-test design for planning: its level, its
// alternative and which tails its power counts. Its methods give the
// figures of R's power.t.test(type = "paired") with sig.level = Alpha,
// alternative = "one.sided" when OneSided (else "two.sided") and strict =
// Strict, in units of the standard deviation of the per-example
// differences (d = delta/sd).
type PairedT struct {
	// Alpha is the significance level, in (0, 1).
	Alpha float64
	// OneSided tests against an effect in the direction planned for
	// (critical value t_{1-α, n-1}); otherwise the test is two-sided
	// (t_{1-α/2, n-1}).
	OneSided bool
	// Strict counts, for a two-sided test, the probability of rejecting in
	// the wrong direction too, as power.t.test(strict = TRUE) and
	// pwr.t.test do; R's default (false) counts only the tail of the effect.
	Strict bool
}

// Power returns the power of the test on n pairs (real-valued, n > 1)
// against a standardized effect d >= 0: with ν = n - 1, λ = d √n and c the
// critical value,
//
//	power = P(T'_{ν,λ} > c) [+ P(T'_{ν,λ} < -c) when Strict and two-sided],
//
// T' the noncentral t. It is NaN for n <= 1, d < 0 or Alpha outside (0, 1).
func (p PairedT) Power(n, d float64) float64 {
	if !(n > 1) || !(d >= 0) || math.IsInf(n, 0) || !validProb(p.Alpha) {
		return math.NaN()
	}
	nu, lambda := n-1, d*math.Sqrt(n)
	if p.OneSided {
		return 1 - noncentralTCDF(tQuantile(1-p.Alpha, nu), nu, lambda)
	}
	c := tQuantile(1-p.Alpha/2, nu)
	pw := 1 - noncentralTCDF(c, nu, lambda)
	if p.Strict {
		pw += noncentralTCDF(-c, nu, lambda)
	}
	return pw
}

// N returns the real-valued number of pairs n > 1 at which Power(n, d)
// equals power (power.t.test's n, which R prints unrounded; plan for
// ⌈n⌉), by bisection to machine precision. It is NaN for d <= 0, power
// outside (Alpha, 1), or an n beyond 10¹².
func (p PairedT) N(d, power float64) float64 {
	if !(d > 0) || math.IsInf(d, 0) || !validProb(p.Alpha) || !validProb(power) || power <= p.Alpha {
		return math.NaN()
	}
	lo, hi := 1.0, 2.0
	for p.Power(hi, d) < power {
		lo = hi
		hi *= 2
		if hi > 1e12 {
			return math.NaN()
		}
	}
	return bisect(lo, hi, func(n float64) bool { return p.Power(n, d) >= power })
}

// Effect returns the standardized effect d > 0 at which Power(n, d)
// equals power on n pairs (power.t.test's delta for sd = 1), by bisection
// to machine precision. It is NaN for n <= 1 or power outside (Alpha, 1).
func (p PairedT) Effect(n, power float64) float64 {
	if !(n > 1) || math.IsInf(n, 0) || !validProb(p.Alpha) || !validProb(power) || power <= p.Alpha {
		return math.NaN()
	}
	lo, hi := 0.0, 1.0
	for p.Power(n, hi) < power {
		lo = hi
		hi *= 2
		if hi > 1e9 {
			return math.NaN()
		}
	}
	return bisect(lo, hi, func(d float64) bool { return p.Power(n, d) >= power })
}

// bisect returns the smallest x in (lo, hi] at which the monotone ok turns
// true, to machine precision; ok(lo) is false and ok(hi) true.
func bisect(lo, hi float64, ok func(float64) bool) float64 {
	for range 200 {
		m := (lo + hi) / 2
		if m == lo || m == hi {
			break
		}
		if ok(m) {
			hi = m
		} else {
			lo = m
		}
	}
	return hi
}

// normalCritical is z_{1-α} for a one-sided test and z_{1-α/2} otherwise.
func normalCritical(alpha float64, oneSided bool) float64 {
	if oneSided {
		return normalQuantile(1 - alpha)
	}
	return normalQuantile(1 - alpha/2)
}

// PairedNormalN returns the real-valued number of pairs the normal
// approximation to the paired test needs to detect a standardized effect
// d > 0 (mean difference over the standard deviation of the differences)
// with the given power, the textbook formula of A/B-testing references:
//
//	n = ((z_{1-α/2} + z_{power}) / d)²   (z_{1-α} when oneSided).
//
// It understates the paired t-test's n (PairedT.N) by about z²_{1-α/2}/2
// (Guenther 1981). It is NaN for d <= 0 or alpha or power outside (0, 1).
func PairedNormalN(d, alpha, power float64, oneSided bool) float64 {
	if !(d > 0) || math.IsInf(d, 0) || !validProb(alpha) || !validProb(power) {
		return math.NaN()
	}
	r := (normalCritical(alpha, oneSided) + normalQuantile(power)) / d
	return r * r
}

// PairedNormalEffect returns the standardized effect the normal
// approximation detects on n pairs with the given power,
//
//	d = (z_{1-α/2} + z_{power}) / √n   (z_{1-α} when oneSided),
//
// which is smaller than PairedT.Effect by a factor of about 1 + 1/n at the
// usual levels. It is NaN for n <= 0 or alpha or power outside (0, 1).
func PairedNormalEffect(n, alpha, power float64, oneSided bool) float64 {
	if !(n > 0) || math.IsInf(n, 0) || !validProb(alpha) || !validProb(power) {
		return math.NaN()
	}
	return (normalCritical(alpha, oneSided) + normalQuantile(power)) / math.Sqrt(n)
}

// PairedNormalPower returns the power of the normal approximation on n
// pairs against a standardized effect d >= 0, the probability of
// rejecting in the direction of the effect:
//
//	power = Φ(√n d - z_{1-α/2})   (z_{1-α} when oneSided).
//
// It is NaN for n <= 0, d < 0 or alpha outside (0, 1).
func PairedNormalPower(n, d, alpha float64, oneSided bool) float64 {
	if !(n > 0) || !(d >= 0) || math.IsInf(n, 0) || !validProb(alpha) {
		return math.NaN()
	}
	return distuv.UnitNormal.CDF(math.Sqrt(n)*d - normalCritical(alpha, oneSided))
}

// PairedMeanMDENormal is PairedMeanMDE by the normal approximation:
// (z_{1-α/2} + z_{power})·sdDiff/√n, two-sided. It is NaN where
// PairedMeanMDE is.
func PairedMeanMDENormal(n int, sdDiff, alpha, power float64) float64 {
	if n < 2 || !(sdDiff > 0) || math.IsInf(sdDiff, 1) || !validProb(alpha) || !validProb(power) {
		return math.NaN()
	}
	return PairedNormalEffect(float64(n), alpha, power, false) * sdDiff
}

// McNemarMDE is the minimum detectable difference in pass rate for a
// pass/fail judge on n paired examples, as a comparison reports it:
// PairedProportionMDE(n, baseline, discordance, alpha, power) with an
// observed discordance of 0 (or NaN) taken as unknown (the conservative
// bound), and, when no rise from baseline is detectable (or possible, at
// baseline 1), the MDE of a drop, which is that of a rise from
// 1 - baseline.
func McNemarMDE(n int, baseline, discordance, alpha, power float64) float64 {
	return McNemarMDESided(n, baseline, discordance, alpha, power, false)
}

// McNemarMDESided is McNemarMDE for a two-sided test, or, with oneSided,
// for the one-sided test at level alpha of an improvement from baseline
// (Connor's formula with z_{1-α} for z_{1-α/2}). For the one-sided test
// of a drop from pass rate p, pass baseline 1 − p: a drop from p is a
// rise from 1 − p with the roles of A and B swapped. The fallback to the
// other direction applies to the two-sided test only.
func McNemarMDESided(n int, baseline, discordance, alpha, power float64, oneSided bool) float64 {
	if n < 1 {
		return math.NaN()
	}
	if discordance == 0 {
		discordance = math.NaN()
	}
	mde := pairedProportionMDE(float64(n), baseline, discordance, alpha, power, oneSided)
	if math.IsNaN(mde) && !oneSided {
		mde = pairedProportionMDE(float64(n), 1-baseline, discordance, alpha, power, false)
	}
	return mde
}

// PairedBinaryDiffVariance returns the variance of one example's
// difference B - A in pass (-1, 0 or 1) when a fraction psi of the
// examples are discordant and the pass rates differ by delta: psi under
// the null (delta = 0) and psi - delta² under the alternative, the two
// variances of Connor's formula. It is NaN unless 0 <= |delta| <= psi <= 1.
func PairedBinaryDiffVariance(psi, delta float64) (null, alt float64) {
	if !(psi >= 0 && psi <= 1) || !(math.Abs(delta) <= psi) {
		return math.NaN(), math.NaN()
	}
	return psi, psi - delta*delta
}

// PairedProportionDiscordance returns the discordance ψ that
// PairedProportionN uses for an effect delta from pass rate baseline: the
// given discordance, or the conservative bound when it is NaN, and never
// less than |delta|. It is NaN where PairedProportionN returns -1.
func PairedProportionDiscordance(baseline, delta, discordance float64) float64 {
	if math.IsNaN(pairedProportionN(baseline, delta, discordance, 0.05, 0.8)) {
		return math.NaN()
	}
	if delta < 0 {
		baseline, delta = baseline+delta, -delta
	}
	psi, _ := discordanceFor(baseline, delta, discordance)
	return max(psi, delta)
}
