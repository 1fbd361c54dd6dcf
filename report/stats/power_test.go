package stats

import (
	"math"
	"testing"
)

// Every expected value below is transcribed from the source cited next to
// it, never computed here.

func TestPairedTPowerMatchesPwr(t *testing.T) {
	t.Parallel()
	// R package pwr, pwr.t.test(..., type = "one.sample", alternative =
	// "two.sided"), as recorded in statsmodels
	// statsmodels/stats/tests/test_power.py (TestTTPowerOneS1, OneS2). The
	// one-sample test on n differences is the paired test on n pairs.
	checkRel(t, "pwr d=0.2 n=20", pairedTPower(20, 0.2, 0.05), 0.1359562887679666, 1e-9)
	checkRel(t, "pwr d=1 n=30", pairedTPower(30, 1, 0.05), 0.9995636009612725, 1e-9)
	// The same file, two-sample pwr.t.test (TestTTPowerTwoS1, TwoS2): the
	// noncentral t with 2n - 2 degrees of freedom and noncentrality
	// d·√(n/2).
	checkRel(t, "pwr two-sample d=1 n=30", tTestPower(58, 1*math.Sqrt(15), 0.05), 0.967708258242517, 1e-9)
	checkRel(t, "pwr two-sample d=0.1 n=20", tTestPower(38, 0.1*math.Sqrt(10), 0.05), 0.06095912465411235, 1e-9)
}

func TestPairedMeanNMatchesPwr(t *testing.T) {
	t.Parallel()
	// pwr.t.test(d = .5, sig.level = .05, power = .8, type = "paired") ->
	// n = 33.36713 ("NOTE: n is number of *pairs*"); pwr.t.test(d = .5,
	// sig.level = .01, power = .9, type = "one.sample") -> n = 62.87021.
	// pwr solves with uniroot(tol = .Machine$double.eps^0.25), so its n is
	// good to about 1e-4.
	checkClose(t, "pwr n d=0.5 power 0.8", pairedMeanN(0.5, 0.05, 0.8), 33.36713, 2e-4)
	checkClose(t, "pwr n d=0.5 alpha 0.01 power 0.9", pairedMeanN(0.5, 0.01, 0.9), 62.87021, 2e-4)
	if n := PairedMeanN(5, 10, 0.05, 0.8); n != 34 {
		t.Errorf("PairedMeanN(delta 5, sd 10) = %d, want ⌈33.36713⌉ = 34", n)
	}
	if n := PairedMeanN(-0.25, 0.5, 0.01, 0.9); n != 63 {
		t.Errorf("PairedMeanN(delta -0.25, sd 0.5, alpha 0.01, power 0.9) = %d, want ⌈62.87021⌉ = 63", n)
	}
}

func TestPairedMeanProperties(t *testing.T) {
	t.Parallel()
	for _, sd := range []float64{0.1, 1, 7} {
		for _, n := range []int{2, 3, 10, 34, 100, 1000, 20000} {
			for _, pw := range []float64{0.5, 0.8, 0.9} {
				mde := PairedMeanMDE(n, sd, 0.05, pw)
				if !(mde > 0) {
					t.Fatalf("PairedMeanMDE(%d, %v, 0.05, %v) = %v", n, sd, pw, mde)
				}
				// The MDE is what n examples detect: PairedMeanN of it is n
				// (n >= 2), and of a slightly smaller effect more than n.
				if got := PairedMeanN(mde*(1+1e-9), sd, 0.05, pw); got != n {
					t.Errorf("PairedMeanN(PairedMeanMDE(%d)) = %d (sd %v, power %v)", n, got, sd, pw)
				}
				if got := PairedMeanN(mde*0.99, sd, 0.05, pw); got <= n {
					t.Errorf("PairedMeanN(0.99·MDE(%d)) = %d, want more than %d", n, got, n)
				}
				// More than the normal approximation ((z_a + z_b) sd / mde)^2
				// (which ignores the t quantile, Guenther's +z²/2, and the far
				// tail; the far tail can win at low power, so check from 0.8).
				za, zb := normalQuantile(0.975), normalQuantile(pw)
				if normal := (za + zb) * (za + zb) * sd * sd / (mde * mde); pw >= 0.8 && float64(n) < normal-1e-6 {
					t.Errorf("n = %d below the normal approximation %v", n, normal)
				}
			}
		}
	}
	for name, n := range map[string]int{
		"delta 0":  PairedMeanN(0, 1, 0.05, 0.8),
		"sd 0":     PairedMeanN(1, 0, 0.05, 0.8),
		"alpha 0":  PairedMeanN(1, 1, 0, 0.8),
		"power 1":  PairedMeanN(1, 1, 0.05, 1),
		"NaN":      PairedMeanN(math.NaN(), 1, 0.05, 0.8),
		"negative": PairedMeanN(1, -1, 0.05, 0.8),
	} {
		if n != -1 {
			t.Errorf("PairedMeanN %s = %d, want -1", name, n)
		}
	}
	for name, m := range map[string]float64{
		"n 1":     PairedMeanMDE(1, 1, 0.05, 0.8),
		"sd 0":    PairedMeanMDE(10, 0, 0.05, 0.8),
		"power 1": PairedMeanMDE(10, 1, 0.05, 1),
	} {
		if !math.IsNaN(m) {
			t.Errorf("PairedMeanMDE %s = %v, want NaN", name, m)
		}
	}
}

func TestNoncentralTCDFProperties(t *testing.T) {
	t.Parallel()
	for _, nu := range []float64{1, 3.5, 9, 40, 300} {
		for _, delta := range []float64{-3, -0.5, 0, 0.5, 2, 6} {
			prev := 0.0
			for x := -12.0; x <= 12; x += 0.25 {
				c := noncentralTCDF(x, nu, delta)
				if c < prev-1e-12 || c < 0 || c > 1 {
					t.Fatalf("noncentralTCDF(%v, %v, %v) = %v after %v: not a CDF", x, nu, delta, c, prev)
				}
				prev = c
				// Reflection: P(T_δ <= x) = 1 - P(T_{-δ} <= -x).
				if r := 1 - noncentralTCDF(-x, nu, -delta); math.Abs(r-c) > 1e-10 {
					t.Fatalf("reflection fails at (%v, %v, %v): %v vs %v", x, nu, delta, c, r)
				}
			}
		}
		// Continuity at the central t.
		for _, x := range []float64{-2, 0.3, 1.7} {
			c0 := noncentralTCDF(x, nu, 0)
			c1 := noncentralTCDF(x, nu, 1e-9)
			if math.Abs(c0-c1) > 1e-8 {
				t.Fatalf("noncentral t at δ → 0 differs from central t: %v vs %v", c1, c0)
			}
		}
	}
	// At x = 0, P(T <= 0) = Φ(-δ) for every ν.
	checkClose(t, "P(T <= 0)", noncentralTCDF(0, 7, 1.5), 1-0.93319, 5e-6) // Φ(1.5) = 0.93319 (standard normal table)
}

func TestPairedProportionNMatchesConnor(t *testing.T) {
	t.Parallel()
	// HyLown Consulting's calculator "Compare Paired Proportions: McNemar's
	// Z-test, 2-Sided Equality" (powerandsamplesize.com), which cites
	// Connor (1987), Biometrics 43:207-211, p. 209: p01 = 0.45, p10 = 0.05,
	// alpha = 0.05, beta = 0.20 -> ceiling(n) = 23. Here δ = p01 - p10 =
	// 0.4 and ψ = p01 + p10 = 0.5; any baseline with p10 <= baseline and
	// p01 <= 1 - baseline gives the same n.
	for _, baseline := range []float64{0.05, 0.3, 0.55} {
		if n := PairedProportionN(baseline, 0.4, 0.5, 0.05, 0.8); n != 23 {
			t.Errorf("PairedProportionN(%v, 0.4, 0.5, 0.05, 0.8) = %d, want 23", baseline, n)
		}
	}
	// B worse than A by the same amount is the same test.
	if n := PairedProportionN(0.6, -0.4, 0.5, 0.05, 0.8); n != 23 {
		t.Errorf("PairedProportionN(0.6, -0.4, 0.5, 0.05, 0.8) = %d, want 23", n)
	}
}

func TestPairedProportionProperties(t *testing.T) {
	t.Parallel()
	// n grows with the discordance (for a fixed effect), and the
	// conservative bound (NaN discordance) needs at least as many as any
	// feasible discordance.
	for _, baseline := range []float64{0.1, 0.5, 0.8} {
		for _, delta := range []float64{0.02, 0.05, 0.1} {
			if baseline+delta > 1 {
				continue
			}
			worst := PairedProportionN(baseline, delta, math.NaN(), 0.05, 0.8)
			prev := 0
			for psi := delta + 0.01; psi <= 1; psi += 0.01 {
				n := PairedProportionN(baseline, delta, psi, 0.05, 0.8)
				if n == -1 {
					continue // psi incompatible with the marginals
				}
				if n < prev {
					t.Fatalf("n not increasing in ψ: %d after %d at ψ = %v", n, prev, psi)
				}
				if n > worst {
					t.Fatalf("n = %d at ψ = %v exceeds the conservative bound's %d (baseline %v, δ %v)", n, psi, worst, baseline, delta)
				}
				prev = n
			}
		}
	}

	// The MDE inverts N: n examples detect the MDE with the power, and
	// PairedProportionN of the MDE is n.
	for _, baseline := range []float64{0.2, 0.5, 0.7} {
		for _, psi := range []float64{0.1, 0.3, math.NaN()} {
			for _, n := range []int{50, 200, 1000, 5000} {
				mde := PairedProportionMDE(n, baseline, psi, 0.05, 0.8)
				if math.IsNaN(mde) {
					continue
				}
				if got := PairedProportionN(baseline, mde, psi, 0.05, 0.8); got != n && got != n-1 {
					// The MDE is the bisection's upper end, a hair above the
					// root, so its n can round down by one.
					t.Errorf("PairedProportionN(MDE(%d)) = %d (baseline %v, ψ %v, MDE %v)", n, got, baseline, psi, mde)
				}
				if got := PairedProportionN(baseline, mde*0.98, psi, 0.05, 0.8); got <= n && got != -1 {
					t.Errorf("PairedProportionN(0.98·MDE(%d)) = %d, want more than %d", n, got, n)
				}
				if next := PairedProportionMDE(2*n, baseline, psi, 0.05, 0.8); !(next < mde) {
					t.Errorf("MDE(%d) = %v not below MDE(%d) = %v", 2*n, next, n, mde)
				}
			}
		}
	}
	// A baseline of 0 forces every discordant example to go B's way, ψ = δ,
	// which the conservative bound finds too.
	if n0, n1 := PairedProportionN(0, 0.1, math.NaN(), 0.05, 0.8), PairedProportionN(0, 0.1, 0.1, 0.05, 0.8); n0 != n1 || n0 < 1 {
		t.Errorf("baseline 0: conservative n %d, ψ = δ n %d", n0, n1)
	}
	if m := PairedProportionMDE(100, 0.5, 0, 0.05, 0.8); !math.IsNaN(m) {
		t.Errorf("PairedProportionMDE with discordance 0 = %v, want NaN", m)
	}
	// Too few examples to reach the power at any feasible effect.
	if m := PairedProportionMDE(3, 0.5, 0.1, 0.05, 0.8); !math.IsNaN(m) {
		t.Errorf("PairedProportionMDE(3 examples, ψ 0.1) = %v, want NaN", m)
	}
	for name, n := range map[string]int{
		"delta 0":                PairedProportionN(0.5, 0, 0.2, 0.05, 0.8),
		"p10 above baseline 0":   PairedProportionN(0, 0.1, 0.2, 0.05, 0.8),
		"baseline -0.1":          PairedProportionN(-0.1, 0.1, 0.2, 0.05, 0.8),
		"discordance 0":          PairedProportionN(0.5, 0.1, 0, 0.05, 0.8),
		"baseline+delta > 1":     PairedProportionN(0.95, 0.1, 0.2, 0.05, 0.8),
		"psi below delta":        PairedProportionN(0.5, 0.1, 0.05, 0.05, 0.8),
		"psi above marginals":    PairedProportionN(0.1, 0.05, 0.5, 0.05, 0.8),
		"power 1":                PairedProportionN(0.5, 0.1, 0.2, 0.05, 1),
		"repeats k 0":            PairedProportionNRepeated(0.5, 0.1, 0.2, 0.05, 0.8, 0, 0.5),
		"repeats rho 2":          PairedProportionNRepeated(0.5, 0.1, 0.2, 0.05, 0.8, 3, 2),
		"repeats invalid effect": PairedProportionNRepeated(0.5, 0, 0.2, 0.05, 0.8, 3, 0.5),
	} {
		if n != -1 {
			t.Errorf("%s = %d, want -1", name, n)
		}
	}
}

func TestRepeatDesignEffect(t *testing.T) {
	t.Parallel()
	checkClose(t, "DE k=1", RepeatDesignEffect(1, 0.3), 1, 0)
	checkClose(t, "DE rho=1", RepeatDesignEffect(5, 1), 1, 0)
	checkClose(t, "DE rho=0", RepeatDesignEffect(4, 0), 0.25, 0)
	checkClose(t, "DE k=3 rho=0.5", RepeatDesignEffect(3, 0.5), 2.0/3, 1e-15)
	checkClose(t, "DE default", RepeatDesignEffect(8, math.NaN()), RepeatDesignEffect(8, DefaultRepeatCorrelation), 0)
	if !math.IsNaN(RepeatDesignEffect(0, 0.5)) || !math.IsNaN(RepeatDesignEffect(2, -0.1)) {
		t.Error("RepeatDesignEffect should be NaN for k < 1 or rho < 0")
	}
	// Repeats scale the unrounded Connor n by DE.
	n1 := PairedProportionN(0.5, 0.05, 0.2, 0.05, 0.8)
	if got := PairedProportionNRepeated(0.5, 0.05, 0.2, 0.05, 0.8, 1, 0.3); got != n1 {
		t.Errorf("k = 1 repeats: %d, want %d", got, n1)
	}
	if got := PairedProportionNRepeated(0.5, 0.05, 0.2, 0.05, 0.8, 4, math.NaN()); got != n1 {
		t.Errorf("default rho (no gain): %d, want %d", got, n1)
	}
	n4 := PairedProportionNRepeated(0.5, 0.05, 0.2, 0.05, 0.8, 4, 0)
	if math.Abs(float64(n4)-float64(n1)/4) > 1 {
		t.Errorf("4 independent repeats: %d, want about %d/4", n4, n1)
	}
	m1 := PairedProportionMDE(400, 0.5, 0.2, 0.05, 0.8)
	m4 := PairedProportionMDERepeated(400, 0.5, 0.2, 0.05, 0.8, 4, 0)
	m1600 := PairedProportionMDE(1600, 0.5, 0.2, 0.05, 0.8)
	if !(m4 < m1) || math.Abs(m4-m1600) > 1e-9 {
		t.Errorf("MDE with 4 independent repeats of 400 = %v, want below %v and equal to 1600 examples' %v", m4, m1, m1600)
	}
}

func TestRepeatCorrelationMatchesShroutFleiss(t *testing.T) {
	t.Parallel()
	// Shrout & Fleiss (1979), Psychological Bulletin 86:420-428, Table 2:
	// 6 targets rated by 4 judges; ICC(1,1) = .17 (printed to 2 decimals).
	sf := [][]float64{
		{9, 2, 5, 8}, {6, 1, 3, 2}, {8, 4, 6, 8},
		{7, 1, 2, 6}, {10, 5, 6, 9}, {6, 2, 4, 7},
	}
	checkClose(t, "ICC(1,1)", RepeatCorrelation(sf), 0.17, 0.005)

	// Identical runs within each example: ρ = 1. Unequal run counts and
	// empty examples are allowed.
	checkClose(t, "identical runs", RepeatCorrelation([][]float64{{1, 1, 1}, {0, 0}, {}, {0.5, 0.5, 0.5, 0.5}}), 1, 1e-12)
	if !math.IsNaN(RepeatCorrelation([][]float64{{1, 2, 3}})) {
		t.Error("RepeatCorrelation of one example should be NaN")
	}
	if !math.IsNaN(RepeatCorrelation([][]float64{{1}, {2}, {3}})) {
		t.Error("RepeatCorrelation with one run per example should be NaN")
	}
	if !math.IsNaN(RepeatCorrelation([][]float64{{2, 2}, {2, 2}})) {
		t.Error("RepeatCorrelation of constant values should be NaN")
	}
}

func TestPairedTMatchesPowerTTest(t *testing.T) {
	t.Parallel()
	// R 4.2 power.t.test(type = "paired", tol = 1e-12, ...): the script is
	// testdata/refs/power_t_test.R, its output power_t_test.out.
	two := PairedT{Alpha: 0.05}
	one := PairedT{Alpha: 0.05, OneSided: true}
	strict := PairedT{Alpha: 0.05, Strict: true}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"n d=0.1 sd=0.3 a=0.05 pw=0.8", two.N(0.1/0.3, 0.8), 72.5840748637552},
		{"n d=0.5 sd=1 a=0.01 pw=0.9", PairedT{Alpha: 0.01}.N(0.5, 0.9), 62.8702352914315},
		{"n d=2 sd=1 a=0.05 pw=0.8", two.N(2, 0.8), 4.2207194036814},
		{"n d=0.1 sd=0.3 a=0.05 pw=0.8 one", one.N(0.1/0.3, 0.8), 57.0204759623955},
		{"n d=0.3 sd=1 a=0.05 pw=0.8 strict", strict.N(0.3, 0.8), 89.1493643536038},
	} {
		checkRel(t, c.name, c.got, c.want, 1e-8)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"power n=200 d=0.1 sd=0.3", two.Power(200, 0.1/0.3), 0.996844977345524},
		{"power n=10 d=0.2 sd=1", two.Power(10, 0.2), 0.081965460871938},
		{"power n=10 d=0.2 sd=1 strict", strict.Power(10, 0.2), 0.0876571540293024},
		{"power n=30 d=0.4 sd=1.5 a=0.01 one", PairedT{Alpha: 0.01, OneSided: true}.Power(30, 0.4/1.5), 0.17539141724488},
		{"power n=5 d=1 sd=1", two.Power(5, 1), 0.401320285199933},
		{"delta n=50 sd=1 pw=0.8", two.Effect(50, 0.8), 0.404183492213754},
		{"delta n=200 sd=0.3 pw=0.9 a=0.01", 0.3 * PairedT{Alpha: 0.01}.Effect(200, 0.9), 0.0825169999423118},
		{"delta n=12 sd=2 pw=0.8 one", 2 * one.Effect(12, 0.8), 1.53280914846787},
		{"delta n=40 sd=1 pw=0.8 strict", strict.Effect(40, 0.8), 0.454256939683535},
		// The normal approximation, from the same script.
		{"normal n d=0.1 sd=0.3 a=0.05 pw=0.8", PairedNormalN(0.1/0.3, 0.05, 0.8, false), 70.6399176091418},
		{"normal n d=0.1 sd=0.3 a=0.05 pw=0.8 one", PairedNormalN(0.1/0.3, 0.05, 0.8, true), 55.6430150881779},
		{"normal delta n=50 sd=1 pw=0.8", PairedNormalEffect(50, 0.05, 0.8, false), 0.396203981159934},
		{"normal delta n=200 sd=0.3 pw=0.9 a=0.01", PairedMeanMDENormal(200, 0.3, 0.01, 0.9), 0.0818274051046582},
		{"normal power n=200 d=0.1 sd=0.3", PairedNormalPower(200, 0.1/0.3, 0.05, false), 0.997057142033975},
	} {
		checkRel(t, c.name, c.got, c.want, 1e-9)
	}
	// The strict two-sided power is the existing pairedTPower (pwr.t.test),
	// and the comparison's MDE is strict's effect.
	checkRel(t, "strict = pwr", strict.Power(20, 0.2), pairedTPower(20, 0.2, 0.05), 1e-12)
	checkRel(t, "PairedMeanMDE = strict effect", PairedMeanMDE(40, 1, 0.05, 0.8), 0.454256939683535, 1e-9)
	for _, bad := range []float64{two.N(0, 0.8), two.N(0.5, 0.04), two.Effect(1, 0.8), two.Power(1, 0.5), PairedNormalN(-1, 0.05, 0.8, false)} {
		if !math.IsNaN(bad) {
			t.Errorf("out-of-range argument gave %v, want NaN", bad)
		}
	}
}

func TestMDEMethodsDiffer(t *testing.T) {
	t.Parallel()
	// The paired-t MDE exceeds the normal one by a factor of about 1 + 1/n
	// (at α = 0.05, power 0.8), and never falls below it.
	for _, n := range []int{10, 30, 100, 1000} {
		tm := PairedMeanMDE(n, 1, 0.05, 0.8)
		zm := PairedMeanMDENormal(n, 1, 0.05, 0.8)
		ratio := tm / zm
		if !(ratio > 1) || math.Abs(ratio-1-1/float64(n)) > 0.3/float64(n) {
			t.Errorf("n=%d: t MDE / normal MDE = %v, want about 1 + 1/n = %v", n, ratio, 1+1/float64(n))
		}
	}
}

func TestMcNemarMDE(t *testing.T) {
	t.Parallel()
	// A zero discordance is unknown: the conservative bound.
	checkRel(t, "disc 0", McNemarMDE(100, 0.6, 0, 0.05, 0.8), PairedProportionMDE(100, 0.6, math.NaN(), 0.05, 0.8), 1e-15)
	// At baseline 1 no rise is possible: the MDE of a drop.
	got := McNemarMDE(100, 1, 0.2, 0.05, 0.8)
	if want := PairedProportionMDE(100, 0, 0.2, 0.05, 0.8); !(got > 0) || got != want {
		t.Errorf("McNemarMDE at baseline 1 = %v, want %v", got, want)
	}
	// Its inverse is PairedProportionN: n examples detect the MDE.
	mde := McNemarMDE(250, 0.7, 0.15, 0.05, 0.8)
	if n := PairedProportionN(0.7, mde*(1+1e-9), 0.15, 0.05, 0.8); n != 250 {
		t.Errorf("PairedProportionN(McNemarMDE(250)) = %d", n)
	}
	if null, alt := PairedBinaryDiffVariance(0.15, 0.05); null != 0.15 || math.Abs(alt-(0.15-0.0025)) > 1e-15 {
		t.Errorf("PairedBinaryDiffVariance(0.15, 0.05) = %v, %v", null, alt)
	}
	if null, _ := PairedBinaryDiffVariance(0.1, 0.2); !math.IsNaN(null) {
		t.Errorf("|delta| > psi gave %v, want NaN", null)
	}
}

func TestPairedProportionDiscordance(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ p, d, psi, want float64 }{
		{0.72, 0.03, math.NaN(), 0.03 + 2*0.25}, // bound: δ + 2·min(p, 1-p-δ)
		{0.72, -0.03, math.NaN(), 0.03 + 2*0.28},
		{0.72, 0.03, 0.1, 0.1},
		{0.5, 0.2, 0.1, math.NaN()}, // |δ| > ψ: no such joint distribution
	} {
		got := PairedProportionDiscordance(c.p, c.d, c.psi)
		if math.IsNaN(c.want) != math.IsNaN(got) || (!math.IsNaN(got) && math.Abs(got-c.want) > 1e-15) {
			t.Errorf("PairedProportionDiscordance(%v, %v, %v) = %v, want %v", c.p, c.d, c.psi, got, c.want)
		}
	}
}
