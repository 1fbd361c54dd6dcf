package stats

import (
	"math"
	"slices"
)

// KrippendorffAlpha returns Krippendorff's alpha, the reliability of data
// that several coders (raters) assigned to the same units, following
// Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability":
//
//	alpha = 1 - (n - 1) Σ_c Σ_k o_ck δ²_ck / Σ_c Σ_k n_c n_k δ²_ck,
//
// where o_ck = Σ_u (number of ordered c-k pairs of values in unit u) /
// (m_u - 1) is the coincidence matrix, m_u the number of values unit u
// received, n_c = Σ_k o_ck, and n = Σ_c n_c the number of pairable values.
//
// units[u] holds the values the coders gave unit u, one per coder who
// coded it: a missing value is simply absent, so coders need not code
// every unit. Units with fewer than two values are not pairable and are
// left out, as in the paper. metric chooses the difference function δ²:
//
//   - "nominal":  0 if c = k, else 1 (values are category codes, matched with ==);
//   - "ordinal":  (Σ_{g=c..k} n_g - (n_c + n_k)/2)², g running over the
//     distinct values between c and k in increasing numeric order, so only
//     the order of the values matters;
//   - "interval": (c - k)²;
//   - "ratio":    ((c - k) / (c + k))² (0 when c = k = 0).
//
// It returns NaN for any other metric, when a value is NaN, when fewer
// than two pairable values remain, and when every pairable value is the
// same (the expected disagreement is 0 and alpha is 0/0; Krippendorff
// leaves alpha undefined there).
func KrippendorffAlpha(units [][]float64, metric string) float64 {
	switch metric {
	case "nominal", "ordinal", "interval", "ratio":
	default:
		return math.NaN()
	}
	var vals []float64
	for _, u := range units {
		if slices.ContainsFunc(u, math.IsNaN) {
			return math.NaN()
		}
		if len(u) >= 2 {
			vals = append(vals, u...)
		}
	}
	slices.Sort(vals)
	vals = slices.Compact(vals)
	k := len(vals)
	if k == 0 {
		return math.NaN()
	}
	index := make(map[float64]int, k)
	for i, v := range vals {
		index[v] = i
	}
	// o[c][d] is the coincidence matrix; within a unit each ordered pair
	// of values from different coders adds 1/(m_u - 1).
	o := make([][]float64, k)
	for i := range o {
		o[i] = make([]float64, k)
	}
	count := make([]float64, k)
	for _, u := range units {
		m := len(u)
		if m < 2 {
			continue
		}
		clear(count)
		for _, v := range u {
			count[index[v]]++
		}
		w := 1 / float64(m-1)
		for c := range count {
			if count[c] == 0 {
				continue
			}
			for d := range count {
				pairs := count[c] * count[d]
				if c == d {
					pairs = count[c] * (count[c] - 1)
				}
				o[c][d] += pairs * w
			}
		}
	}
	nc := make([]float64, k)
	var n float64
	for c := range o {
		for _, x := range o[c] {
			nc[c] += x
		}
		n += nc[c]
	}
	if n < 2 {
		return math.NaN()
	}
	delta := func(c, d int) float64 {
		switch metric {
		case "nominal":
			if c == d {
				return 0
			}
			return 1
		case "ordinal":
			lo, hi := min(c, d), max(c, d)
			var s float64
			for g := lo; g <= hi; g++ {
				s += nc[g]
			}
			s -= (nc[lo] + nc[hi]) / 2
			return s * s
		case "interval":
			x := vals[c] - vals[d]
			return x * x
		default: // ratio
			if vals[c]+vals[d] == 0 {
				return 0
			}
			x := (vals[c] - vals[d]) / (vals[c] + vals[d])
			return x * x
		}
	}
	var observed, expected float64
	for c := range k {
		for d := range k {
			if c == d {
				continue
			}
			dd := delta(c, d)
			observed += o[c][d] * dd
			expected += nc[c] * nc[d] * dd
		}
	}
	if expected == 0 {
		return math.NaN()
	}
	return 1 - (n-1)*observed/expected
}
