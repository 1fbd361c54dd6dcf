package stats

import (
	"math"
	"testing"
)

// wilcoxonGen is gen(n) of testdata/refs/wilcoxon.R: ±i for i = 1..n, the
// sign + when 7i mod 11 < 7. No ties and no zeros.
func wilcoxonGen(n int) []float64 {
	d := make([]float64, n)
	for i := 1; i <= n; i++ {
		d[i-1] = float64(i)
		if (i*7)%11 >= 7 {
			d[i-1] = -d[i-1]
		}
	}
	return d
}

// wilcoxonBig is big(n) of testdata/refs/wilcoxon.R: (37i mod 101) - 50,
// with many zeros and ties.
func wilcoxonBig(n int) []float64 {
	d := make([]float64, n)
	for i := 1; i <= n; i++ {
		d[i-1] = float64((i*37)%101 - 50)
	}
	return d
}

// TestWilcoxonMatchesR checks Wilcoxon with R 4.2's defaults against
// wilcox.test(d, exact = NULL, correct = TRUE); the values are
// testdata/refs/wilcoxon.R.txt, printed by testdata/refs/wilcoxon.R.
func TestWilcoxonMatchesR(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		d      []float64
		cc     bool
		v, p   float64
		method string
	}{
		{"zeros and tied ranks", []float64{0, 0, 1, 1, 1, 1, 2, 2, 2, 2}, true, 36, 0.0119759036768085, "normal+cc"},
		// The exact sign-flip distribution of the nine nonzero values
		// would give 2/2^9 = 0.0039, 2.2 times too significant.
		{"one zero, tied ranks", []float64{0, 1, 1, 1, 2, 2, 3, 3, 4, 4}, true, 45, 0.00872903923863971, "normal+cc"},
		{"tied ranks", []float64{1, 2, 2, 3, -1, 4, 5, 5, 6, 7}, true, 53.5, 0.00920678032104663, "normal+cc"},
		{"tied ranks, no cc", []float64{1, 2, 2, 3, -1, 4, 5, 5, 6, 7}, false, 53.5, 0.00792277592057931, "normal"},
		{"no ties", []float64{1.5, -0.5, 2.25, 3, 4, -6, 7, 8, 9, 10}, true, 48, 0.037109375, "exact"},
		{"zeros", []float64{0, 0, 1, -1, 2, 3, -3, 4, 5, 6, 0, 7, 8}, true, 49, 0.0320887339782313, "normal+cc"},
		{"n = 1", []float64{3}, true, 1, 1, "exact"},
		{"n = 1 negative", []float64{-2}, true, 0, 1, "exact"},
		{"all equal", []float64{2, 2, 2, 2, 2}, true, 15, 0.0368884257070499, "normal+cc"},
		{"n = 20", wilcoxonGen(20), false, 128, 0.409097671508789, "exact"},
		{"n = 49", wilcoxonGen(49), true, 793, 0.073187417314994, "exact"},
		{"n = 50", wilcoxonGen(50), true, 793, 0.134586384739494, "normal+cc"},
		{"n = 51", wilcoxonGen(51), true, 844, 0.090662988251757, "normal+cc"},
		{"n = 10000", wilcoxonBig(10000), true, 24508687.5, 0.996528279558565, "normal+cc"},
	}
	for _, c := range cases {
		r := Wilcoxon(c.d, WilcoxonOptions{ZeroMethod: "wilcox", Correction: c.cc})
		checkRel(t, c.name+" V", r.V, c.v, 1e-12)
		checkRel(t, c.name+" p", r.P, c.p, 1e-9)
		if r.Method != c.method {
			t.Errorf("%s: method %q; want %q", c.name, r.Method, c.method)
		}
		if (r.Method == "exact") != math.IsNaN(r.Z) {
			t.Errorf("%s: z = %v with method %q", c.name, r.Z, r.Method)
		}
	}
	// R: wilcox.test(c(0, 0, 0)) -> V = 0, p = NaN.
	if r := Wilcoxon([]float64{0, 0, 0}, WilcoxonOptions{Correction: true}); r.V != 0 || !math.IsNaN(r.P) || r.Method != "" || r.N != 0 {
		t.Errorf("all zeros: %+v; want V 0, p NaN, no method, N 0", r)
	}
}

// TestWilcoxonZeroMethodsMatchSciPy checks the three zero methods against
// scipy.stats.wilcoxon(d, zero_method=..., correction=True) of SciPy 1.10
// (testdata/refs/wilcoxon.py.txt). SciPy's statistic is min(W+, W-); V is
// W+, so the test compares min(V, n(n+1)/2 - V).
func TestWilcoxonZeroMethodsMatchSciPy(t *testing.T) {
	t.Parallel()
	finding := []float64{0, 0, 1, 1, 1, 1, 2, 2, 2, 2}
	zeros := []float64{0, 0, 1, -1, 2, 3, -3, 4, 5, 6, 0, 7, 8}
	notie := []float64{1.5, -0.5, 2.25, 3, 4, -6, 7, 8, 9, 10}
	cases := []struct {
		name, zm string
		d        []float64
		t, p     float64
	}{
		{"finding", "wilcox", finding, 0, 0.0119759036768085},
		{"finding", "pratt", finding, 0, 0.00801674511280031},
		{"finding", "zsplit", finding, 1.5, 0.00840416049534783},
		{"zeros", "wilcox", zeros, 6, 0.0320887339782313},
		{"zeros", "pratt", zeros, 12, 0.0343416738180015},
		{"zeros", "zsplit", zeros, 15, 0.0356919001168044},
		{"notie", "wilcox", notie, 7, 0.037109375},
		{"notie", "pratt", notie, 7, 0.037109375},
		{"notie", "zsplit", notie, 7, 0.037109375},
		{"n51", "wilcox", wilcoxonGen(51), 482, 0.090662988251757},
		{"n51", "pratt", wilcoxonGen(51), 482, 0.090662988251757},
		{"n51", "zsplit", wilcoxonGen(51), 482, 0.090662988251757},
	}
	for _, c := range cases {
		r := Wilcoxon(c.d, WilcoxonOptions{ZeroMethod: c.zm, Correction: true})
		total := float64(r.N*(r.N+1)) / 2
		if c.zm == "pratt" {
			// Pratt's W+ and W- share the ranks of the nonzero values only.
			z0 := 0
			for _, x := range c.d {
				if x == 0 {
					z0++
				}
			}
			total -= float64(z0*(z0+1)) / 2
		}
		checkRel(t, c.name+" "+c.zm+" statistic", min(r.V, total-r.V), c.t, 1e-12)
		checkRel(t, c.name+" "+c.zm+" p", r.P, c.p, 1e-9)
	}
	// zsplit with every difference zero: V = n(n+1)/4 = μ, p = 1.
	if r := Wilcoxon([]float64{0, 0, 0, 0}, WilcoxonOptions{ZeroMethod: "zsplit", Correction: true}); r.V != 5 || r.P != 1 || r.Z != 0 {
		t.Errorf("zsplit all zeros: %+v; want V 5, p 1, z 0", r)
	}
	if r := Wilcoxon(finding, WilcoxonOptions{ZeroMethod: "bogus"}); !math.IsNaN(r.P) {
		t.Errorf("unknown zero method: p = %v; want NaN", r.P)
	}
}
