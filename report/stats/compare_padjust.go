package stats

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// PAdjustMethods are the names PAdjust accepts, in the order they are
// documented.
var PAdjustMethods = []string{"holm", "hochberg", "bh", "by", "bonferroni", "none"}

// PAdjust adjusts the family of p-values ps for multiple comparisons by
// method, exactly as R's p.adjust(ps, method): with the m non-NaN values
// sorted, p_(1) <= ... <= p_(m),
//
//   - "bonferroni": min(1, m·p);
//   - "holm" (Holm 1979, step-down): min(1, max_{j<=i} (m-j+1)·p_(j));
//   - "hochberg" (Hochberg 1988, step-up): min(1, min_{j>=i} (m-j+1)·p_(j));
//   - "bh" (Benjamini–Hochberg 1995, false discovery rate):
//     min(1, min_{j>=i} m/j·p_(j));
//   - "by" (Benjamini–Yekutieli 2001, FDR under dependence): as "bh" times
//     Σ_{k=1..m} 1/k;
//   - "none": the values unchanged.
//
// The method name is case-insensitive (R's "BH" and "BY" are accepted). A
// NaN stays NaN and, as in R (where the default n is evaluated after the
// NAs are removed), does not count in m. With m <= 1 every method returns
// the values unchanged. The result is a new slice in the order of ps. An
// unknown method or a p-value outside [0, 1] is an error.
func PAdjust(ps []float64, method string) ([]float64, error) {
	method = strings.ToLower(method)
	if !slices.Contains(PAdjustMethods, method) {
		return nil, fmt.Errorf("p-value adjustment %q: unknown method (want one of %s)", method, strings.Join(PAdjustMethods, ", "))
	}
	out := make([]float64, len(ps))
	order := make([]int, 0, len(ps))
	for i, p := range ps {
		out[i] = p
		if math.IsNaN(p) {
			continue
		}
		if p < 0 || p > 1 {
			return nil, fmt.Errorf("p-value adjustment: p[%d] = %v is outside [0, 1]", i, p)
		}
		order = append(order, i)
	}
	m := len(order)
	if m <= 1 || method == "none" {
		return out, nil
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case ps[a] < ps[b]:
			return -1
		case ps[a] > ps[b]:
			return 1
		}
		return 0
	})
	mf := float64(m)
	switch method {
	case "bonferroni":
		for _, i := range order {
			out[i] = min(1, mf*ps[i])
		}
	case "holm":
		running := 0.0
		for j, i := range order {
			running = max(running, float64(m-j)*ps[i])
			out[i] = min(running, 1)
		}
	case "hochberg", "bh", "by":
		q := 1.0
		if method == "by" {
			q = 0
			for k := 1; k <= m; k++ {
				q += 1 / float64(k)
			}
		}
		running := math.Inf(1)
		for j := m - 1; j >= 0; j-- {
			i := order[j]
			var f float64
			if method == "hochberg" {
				f = float64(m - j)
			} else {
				f = q * mf / float64(j+1)
			}
			running = min(running, f*ps[i])
			out[i] = min(running, 1)
		}
	}
	return out, nil
}
