package stats

import (
	"math"
	"slices"
)

// This file holds the agreement statistics for categorical and ordinal
// labels that gavel calibrate uses to compare an LLM judge with human
// labels. The rank correlations are in agreement_rank.go.

// Accuracy returns the fraction of items on which the two labelings agree:
// #{i : a[i] == b[i]} / n, labels compared as exact strings. It is
// scikit-learn's accuracy_score(a, b) and is symmetric in a and b. It
// returns NaN when a and b are empty or differ in length.
func Accuracy(a, b []string) float64 {
	if len(a) == 0 || len(a) != len(b) {
		return math.NaN()
	}
	same := 0
	for i := range a {
		if a[i] == b[i] {
			same++
		}
	}
	return float64(same) / float64(len(a))
}

// ConfusionMatrix cross-tabulates two labelings of the same items. labels
// is the union of the distinct strings in a and b, sorted in increasing
// byte order; counts[r][c] is the number of positions k with
// a[k] == labels[r] and b[k] == labels[c]. Rows are a and columns are b, so with a the human
// labels and b the judge's this is scikit-learn's confusion_matrix(a, b)
// (rows true, columns predicted). It returns nil, nil when a and b are
// empty or differ in length.
func ConfusionMatrix(a, b []string) (labels []string, counts [][]int) {
	if len(a) == 0 || len(a) != len(b) {
		return nil, nil
	}
	labels = make([]string, 0, len(a)+len(b))
	labels = append(labels, a...)
	labels = append(labels, b...)
	slices.Sort(labels)
	labels = slices.Clip(slices.Compact(labels))
	index := make(map[string]int, len(labels))
	for i, l := range labels {
		index[l] = i
	}
	counts = make([][]int, len(labels))
	for i := range counts {
		counts[i] = make([]int, len(labels))
	}
	for i := range a {
		counts[index[a[i]]][index[b[i]]]++
	}
	return labels, counts
}

// CohenKappa returns Cohen's (1960) unweighted kappa between two raters
// who put the same n items into nominal categories:
//
//	kappa = (p_o - p_e) / (1 - p_e),
//	p_o = (1/n) Σ_k n_kk,    p_e = (1/n²) Σ_k a_k b_k,
//
// where n_kk counts the items both raters put in category k, and a_k and
// b_k count the items rater a, respectively b, put in category k. The
// categories are the distinct strings of a and b, compared exactly; their
// order does not matter. This is scikit-learn's cohen_kappa_score(a, b),
// and it is symmetric in a and b.
//
// It returns NaN when a and b are empty or differ in length, and when
// p_e = 1 — both raters gave every item one and the same label — where
// kappa is 0/0 (scikit-learn also gives NaN there).
func CohenKappa(a, b []string) float64 {
	_, counts := ConfusionMatrix(a, b)
	if counts == nil {
		return math.NaN()
	}
	return kappaFromTable(counts, func(i, j int) float64 {
		if i == j {
			return 0
		}
		return 1
	})
}

// WeightedKappa returns Cohen's (1968) weighted kappa between two raters
// who scored the same items on an ordinal scale, for weights "linear" or
// "quadratic":
//
//	kappa_w = 1 - Σ_ij w_ij O_ij / Σ_ij w_ij E_ij,
//	w_ij = |i - j| (linear)  or  (i - j)² (quadratic),
//
// where O_ij is the number of items a scored in category i and b in
// category j, E_ij = a_i b_j / n is the number expected by chance from the
// marginal totals a_i and b_j, and i, j are 0-based positions in the
// ordered list of categories. Distances count positions, not the numeric
// differences of the values: 1, 2, 4 are three equally spaced categories.
// (The equivalent agreement-weight form, (p_o - p_e) / (1 - p_e) with
// weights 1 - |i-j|/(k-1) or 1 - (i-j)²/(k-1)², gives the same value.)
//
// The categories are:
//   - levels nil: the sorted union of the distinct values in a and b,
//     scikit-learn's default (labels=None). A value neither rater used
//     takes no position, so on a 1-5 scale where nobody gave a 3, the
//     scores 2 and 4 are adjacent.
//   - levels non-nil: the distinct values of levels, sorted (the caller's
//     order is ignored). Levels nobody used still count in the distances.
//     Items whose a or b value is not one of the levels are left out, as
//     scikit-learn does for labels=levels.
//
// Values are matched with ==. With these conventions the result is
// scikit-learn's cohen_kappa_score(a, b, labels=L, weights=weights) with L
// the sorted distinct levels (scikit-learn takes positions in the order
// labels are given); it is symmetric in a and b.
//
// It returns NaN when a and b are empty or differ in length, when weights
// is neither "linear" nor "quadratic", when a, b or levels holds a NaN,
// when no item is left, and when Σ w_ij E_ij = 0 (all items in a single
// category), where kappa_w is 0/0.
func WeightedKappa(a, b []float64, levels []float64, weights string) float64 {
	if len(a) == 0 || len(a) != len(b) {
		return math.NaN()
	}
	var quadratic bool
	switch weights {
	case "linear":
	case "quadratic":
		quadratic = true
	default:
		return math.NaN()
	}
	if slices.ContainsFunc(a, math.IsNaN) || slices.ContainsFunc(b, math.IsNaN) ||
		slices.ContainsFunc(levels, math.IsNaN) {
		return math.NaN()
	}
	var cats []float64
	if levels == nil {
		cats = append(append(cats, a...), b...)
	} else {
		cats = append(cats, levels...)
	}
	slices.Sort(cats)
	cats = slices.Compact(cats)
	index := make(map[float64]int, len(cats))
	for i, c := range cats {
		index[c] = i
	}
	counts := make([][]int, len(cats))
	for i := range counts {
		counts[i] = make([]int, len(cats))
	}
	kept := 0
	for i := range a {
		ia, okA := index[a[i]]
		ib, okB := index[b[i]]
		if okA && okB {
			counts[ia][ib]++
			kept++
		}
	}
	if kept == 0 {
		return math.NaN()
	}
	return kappaFromTable(counts, func(i, j int) float64 {
		d := math.Abs(float64(i - j))
		if quadratic {
			return d * d
		}
		return d
	})
}

// kappaFromTable returns 1 - Σ w O / Σ w E for the square contingency
// table counts and disagreement weights w (zero on the diagonal), with
// E_ij = row_i col_j / n. It is written n Σ w O / Σ w row col so that, for
// integer weights, both sums are exact in float64. It returns NaN for an
// empty table or a zero denominator.
func kappaFromTable(counts [][]int, w func(i, j int) float64) float64 {
	k := len(counts)
	row := make([]float64, k)
	col := make([]float64, k)
	var n float64
	for i := range counts {
		for j, c := range counts[i] {
			row[i] += float64(c)
			col[j] += float64(c)
			n += float64(c)
		}
	}
	var observed, expected float64
	for i := range counts {
		for j, c := range counts[i] {
			wij := w(i, j)
			observed += wij * float64(c)
			expected += wij * row[i] * col[j]
		}
	}
	if n == 0 || expected == 0 {
		return math.NaN()
	}
	return 1 - n*observed/expected
}

// KeepLabels restricts two labelings of the same items to a label subset,
// as scikit-learn's labels= argument does for confusion_matrix and
// cohen_kappa_score: the pair (a[i], b[i]) is kept only when both a[i] and
// b[i] are in keep (exact string match), and dropped otherwise. It returns
// the kept pairs in their original order and the number dropped. It
// returns nil, nil, 0 when a and b differ in length.
func KeepLabels(a, b, keep []string) (ka, kb []string, dropped int) {
	if len(a) != len(b) {
		return nil, nil, 0
	}
	for i := range a {
		if slices.Contains(keep, a[i]) && slices.Contains(keep, b[i]) {
			ka = append(ka, a[i])
			kb = append(kb, b[i])
		} else {
			dropped++
		}
	}
	return ka, kb, dropped
}
