package stats

import (
	"math"
	"testing"
)

// The reference values below are printed by testdata/refs/paired_alt.R
// (R 4.2 t.test and binom.test; output in paired_alt.R.txt) and agree with
// SciPy 1.10's ttest_rel and binomtest (paired_alt.py, paired_alt.py.txt).
var (
	altA = []float64{0.2, 0.5, 0.4, 0.9, 0.3, 0.6, 0.8, 0.1, 0.7, 0.5, 0.4, 0.6}
	altB = []float64{0.4, 0.5, 0.7, 0.8, 0.6, 0.9, 0.8, 0.3, 0.9, 0.6, 0.2, 0.9}
)

func altDiffs() []float64 {
	d := make([]float64, len(altA))
	for i := range altA {
		d[i] = altB[i] - altA[i]
	}
	return d
}

// closeOrInf compares with 1e-9 relative tolerance; infinities must match.
func closeOrInf(got, want float64) bool {
	if math.IsInf(want, 0) {
		return got == want
	}
	return relClose(got, want)
}

func TestParseAlternative(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want Alternative
	}{{"", TwoSided}, {"two-sided", TwoSided}, {"greater", Greater}, {"less", Less}} {
		got, err := ParseAlternative(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseAlternative(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"two.sided", "Greater", "both", "less "} {
		if _, err := ParseAlternative(in); err == nil {
			t.Errorf("ParseAlternative(%q): no error", in)
		}
	}
}

func TestPairedTTestMatchesR(t *testing.T) {
	t.Parallel()
	const tStat = 2.68023757704196
	cases := []struct {
		alt    Alternative
		level  float64
		p      float64
		lo, hi float64
	}{
		{TwoSided, 0.95, 0.0213991103081574, 0.0238412903420921, 0.242825376324575},
		{TwoSided, 0.90, 0.0213991103081574, 0.0439937497040309, 0.222672916962636},
		{Greater, 0.95, 0.0106995551540787, 0.0439937497040309, math.Inf(1)},
		{Greater, 0.90, 0.0106995551540787, 0.065506991882648, math.Inf(1)},
		{Less, 0.95, 0.989300444845921, math.Inf(-1), 0.222672916962636},
		{Less, 0.90, 0.989300444845921, math.Inf(-1), 0.201159674784019},
	}
	d := altDiffs()
	for _, c := range cases {
		r := PairedTTest(d, c.alt, c.level)
		if r.N != 12 || r.DF != 11 || !relClose(r.T, tStat) {
			t.Errorf("%s %.2f: N=%d DF=%v T=%v; want 12, 11, %v", c.alt, c.level, r.N, r.DF, r.T, tStat)
		}
		if !relClose(r.P, c.p) || !closeOrInf(r.CI.Lo, c.lo) || !closeOrInf(r.CI.Hi, c.hi) {
			t.Errorf("%s %.2f: P=%.15g CI=[%.15g, %.15g]; want %.15g [%.15g, %.15g]",
				c.alt, c.level, r.P, r.CI.Lo, r.CI.Hi, c.p, c.lo, c.hi)
		}
		mean, sd := meanSD(d)
		if r.Mean != mean || r.SD != sd {
			t.Errorf("%s: Mean, SD = %v, %v; want %v, %v", c.alt, r.Mean, r.SD, mean, sd)
		}
	}
}

func TestPairedTTestLargeNKeepsTinyP(t *testing.T) {
	t.Parallel()
	// R: big <- seq(-1, 1, length.out = 20001) + 0.05; t.test(big, alternative = alt)
	big := make([]float64, 20001)
	for i := range big {
		big[i] = -1 + 2*float64(i)/20000 + 0.05
	}
	for _, c := range []struct {
		alt Alternative
		p   float64
	}{
		{TwoSided, 2.31936461947633e-34},
		{Greater, 1.15968230973817e-34},
		{Less, 1},
	} {
		r := PairedTTest(big, c.alt, 0.95)
		// The sequence is built slightly differently from R's seq, so the
		// statistic agrees to ~1e-12, the p-value's relative error is
		// larger by the factor |d log p / d t| ≈ t² ≈ 150.
		if math.Abs(r.T-12.2468363874043) > 1e-9*12.25 || math.Abs(r.P-c.p) > 1e-7*c.p {
			t.Errorf("%s: T=%.15g P=%.15g; want 12.2468363874043, %.15g", c.alt, r.T, r.P, c.p)
		}
	}
}

func TestPairedTTestDegenerate(t *testing.T) {
	t.Parallel()
	// n = 1: R stops with "not enough 'x' observations".
	r := PairedTTest([]float64{0.3}, TwoSided, 0.95)
	if r.N != 1 || r.Mean != 0.3 || !math.IsNaN(r.SD) || !math.IsNaN(r.T) || !math.IsNaN(r.P) || !math.IsNaN(r.CI.Lo) {
		t.Errorf("n=1: %+v", r)
	}
	if r := PairedTTest(nil, Greater, 0.95); r.N != 0 || !math.IsNaN(r.Mean) || !math.IsNaN(r.P) {
		t.Errorf("n=0: %+v", r)
	}
	// Constant non-zero differences: R stops with "data are essentially
	// constant" (the rounded mean 0.2 leaves an SD of ~3e-17, not 0); all
	// zeros: R's p-value is NaN.
	for _, d := range [][]float64{{0.2, 0.2, 0.2}, {0, 0, 0}} {
		for _, alt := range []Alternative{TwoSided, Greater, Less} {
			r := PairedTTest(d, alt, 0.95)
			if r.N != 3 || r.DF != 2 || math.Abs(r.Mean-d[0]) > 1e-15 || !math.IsNaN(r.T) || !math.IsNaN(r.P) ||
				!math.IsNaN(r.CI.Lo) || !math.IsNaN(r.CI.Hi) {
				t.Errorf("constant %v %s: %+v", d, alt, r)
			}
		}
	}
	if r := PairedTTest(altDiffs(), "two.sided", 0.95); !math.IsNaN(r.P) || !relClose(r.T, 2.68023757704196) {
		t.Errorf("unknown alternative: %+v", r)
	}
	if r := PairedTTest(altDiffs(), Greater, 1); !relClose(r.P, 0.0106995551540787) || !math.IsNaN(r.CI.Lo) {
		t.Errorf("level 1: %+v", r)
	}
	if r := PairedTTest([]float64{1, math.NaN(), 2}, TwoSided, 0.95); !math.IsNaN(r.P) || !math.IsNaN(r.Mean) {
		t.Errorf("NaN input: %+v", r)
	}
}

// binomRefs are R's binom.test(k, n, 0.5, alternative = alt)$p.value.
var binomRefs = []struct {
	k, n        int
	two, gt, lt float64
}{
	{9, 11, 0.0654296875, 0.03271484375, 0.994140625},
	{2, 11, 0.0654296875, 0.994140625, 0.03271484375},
	{5, 10, 1, 0.623046875, 0.623046875},
	{40, 60, 0.0134892937311919, 0.00674464686559595, 0.996891198670337},
	{0, 7, 0.015625, 1, 0.0078125},
	{300, 540, 0.01105048108193, 0.005525240540965, 0.995698232779825},
}

func TestSignTestMatchesBinomTest(t *testing.T) {
	t.Parallel()
	for _, c := range binomRefs {
		// k positive, n - k negative differences and three zeros, which
		// the sign test drops.
		var d []float64
		for i := 0; i < c.n; i++ {
			if i < c.k {
				d = append(d, 0.5+float64(i%3))
			} else {
				d = append(d, -0.25)
			}
		}
		d = append(d, 0, 0, 0)
		for _, a := range []struct {
			alt  Alternative
			want float64
		}{{TwoSided, c.two}, {Greater, c.gt}, {Less, c.lt}} {
			r := SignTest(d, a.alt)
			if r.N != c.n || r.Pos != c.k || r.Neg != c.n-c.k || !relClose(r.P, a.want) {
				t.Errorf("%d/%d %s: %+v; want P=%.15g", c.k, c.n, a.alt, r, a.want)
			}
		}
	}
	// The data of TestPairedTTestMatchesR: 9 positive, 1 zero, 2 negative.
	d := altDiffs()
	for _, a := range []struct {
		alt  Alternative
		want float64
	}{{TwoSided, 0.109375}, {Greater, 0.0546875}, {Less, 0.9892578125}} {
		if r := SignTest(d, a.alt); r.N != 10 || !relClose(r.P, a.want) {
			t.Errorf("sign d %s: %+v; want N=10 P=%v", a.alt, r, a.want)
		}
	}
}

func TestSignTestDegenerate(t *testing.T) {
	t.Parallel()
	if r := SignTest([]float64{0, 0}, Greater); r.N != 0 || r.P != 1 {
		t.Errorf("all ties: %+v; want N=0 P=1", r)
	}
	if r := SignTest([]float64{1, math.NaN()}, TwoSided); !math.IsNaN(r.P) {
		t.Errorf("NaN input: %+v", r)
	}
	if r := SignTest([]float64{1, 2}, "up"); !math.IsNaN(r.P) {
		t.Errorf("unknown alternative: %+v", r)
	}
}

func TestMcNemarExactAltMatchesBinomTest(t *testing.T) {
	t.Parallel()
	for _, c := range binomRefs {
		// c.k examples fail under A and pass under B (better), the rest
		// pass under A and fail under B (worse).
		better, worse := c.k, c.n-c.k
		for _, a := range []struct {
			alt  Alternative
			want float64
		}{{TwoSided, c.two}, {Greater, c.gt}, {Less, c.lt}} {
			if got := McNemarExactAlt(worse, better, a.alt); !relClose(got, a.want) {
				t.Errorf("b=%d c=%d %s: %.15g; want %.15g", worse, better, a.alt, got, a.want)
			}
		}
		if got, want := McNemarExactAlt(worse, better, TwoSided), McNemarExact(worse, better); got != want {
			t.Errorf("b=%d c=%d: two-sided %v != McNemarExact %v", worse, better, got, want)
		}
	}
	if got := McNemarExactAlt(0, 0, Less); got != 1 {
		t.Errorf("no discordant pairs: %v; want 1", got)
	}
	if got := McNemarExactAlt(-1, 3, Greater); !math.IsNaN(got) {
		t.Errorf("negative count: %v; want NaN", got)
	}
	if got := McNemarExactAlt(1, 3, ""); !math.IsNaN(got) {
		t.Errorf("empty alternative: %v; want NaN", got)
	}
}
