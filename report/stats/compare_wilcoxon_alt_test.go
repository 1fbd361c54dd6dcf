package stats

import (
	"math"
	"testing"
)

// TestWilcoxonAlternativeMatchesR checks one-sided signed-rank p-values
// against R 4.2's wilcox.test(d, exact = NULL, correct =, alternative =);
// the script and its output are testdata/refs/wilcoxon_alt.R and
// wilcoxon_alt.R.txt.
func TestWilcoxonAlternativeMatchesR(t *testing.T) {
	t.Parallel()
	gen := func(n int) []float64 { // R: ifelse((i*7) %% 11 < 7, 1, -1) * i
		out := make([]float64, n)
		for i := 1; i <= n; i++ {
			out[i-1] = float64(i)
			if (i*7)%11 >= 7 {
				out[i-1] = -float64(i)
			}
		}
		return out
	}
	notie := []float64{1.5, -0.5, 2.25, 3, 4, -6, 7, 8, 9, 10}
	neg := make([]float64, len(notie))
	for i, x := range notie {
		neg[i] = -x
	}
	cases := []struct {
		name   string
		d      []float64
		cc     bool
		alt    Alternative
		v, p   float64
		method string
	}{
		{"notie", notie, true, TwoSided, 48, 0.037109375, "exact"},
		{"notie", notie, true, Greater, 48, 0.0185546875, "exact"},
		{"notie", notie, true, Less, 48, 0.986328125, "exact"},
		{"neg", neg, true, Greater, 7, 0.986328125, "exact"},
		{"neg", neg, false, Less, 7, 0.0185546875, "exact"},
		{"ties", []float64{1, 2, 2, 3, -1, 4, 5, 5, 6, 7}, true, Greater, 53.5, 0.00460339016052331, "normal+cc"},
		{"ties", []float64{1, 2, 2, 3, -1, 4, 5, 5, 6, 7}, true, Less, 53.5, 0.996599223433551, "normal+cc"},
		{"ties", []float64{1, 2, 2, 3, -1, 4, 5, 5, 6, 7}, false, Greater, 53.5, 0.00396138796028965, "normal"},
		{"ties", []float64{1, 2, 2, 3, -1, 4, 5, 5, 6, 7}, false, Less, 53.5, 0.99603861203971, "normal"},
		{"zeros", []float64{0, 0, 1, -1, 2, 3, -3, 4, 5, 6, 0, 7, 8}, true, Greater, 49, 0.0160443669891156, "normal+cc"},
		{"zeros", []float64{0, 0, 1, -1, 2, 3, -3, 4, 5, 6, 0, 7, 8}, true, Less, 49, 0.987627663976801, "normal+cc"},
		{"zeros", []float64{0, 0, 1, -1, 2, 3, -3, 4, 5, 6, 0, 7, 8}, false, Greater, 49, 0.014105683279871, "normal"},
		{"n60", gen(60), true, TwoSided, 1181, 0.0506414536082021, "normal+cc"},
		{"n60", gen(60), true, Greater, 1181, 0.025320726804101, "normal+cc"},
		{"n60", gen(60), true, Less, 1181, 0.975111026283703, "normal+cc"},
		{"n60", gen(60), false, Greater, 1181, 0.0251040722782555, "normal"},
		{"n60", gen(60), false, Less, 1181, 0.974895927721744, "normal"},
	}
	for _, c := range cases {
		r := Wilcoxon(c.d, WilcoxonOptions{Correction: c.cc, Alternative: c.alt})
		if r.V != c.v || !relClose(r.P, c.p) || r.Method != c.method {
			t.Errorf("%s cc=%v %s: V=%v P=%.15g method=%s; want V=%v P=%.15g %s",
				c.name, c.cc, c.alt, r.V, r.P, r.Method, c.v, c.p, c.method)
		}
	}
	if r := Wilcoxon(notie, WilcoxonOptions{Alternative: "up"}); !math.IsNaN(r.P) || r.Method != "" {
		t.Errorf("unknown alternative: %+v", r)
	}
	// The zero value is two-sided.
	a, b := Wilcoxon(notie, WilcoxonOptions{}), Wilcoxon(notie, WilcoxonOptions{Alternative: TwoSided})
	if a.V != b.V || a.P != b.P || a.Method != b.Method {
		t.Errorf("zero-value alternative %+v != two-sided %+v", a, b)
	}
}
