package stats

import (
	"math"
	"testing"
)

// krippendorffPaper is the reliability data of Krippendorff (2011),
// section C: 4 observers (rows) × 12 units (columns), NaN where an
// observer gave no value.
var krippendorffPaper = func() [][]float64 {
	n := math.NaN()
	rows := [][]float64{
		{1, 2, 3, 3, 2, 1, 4, 1, 2, n, n, n},
		{1, 2, 3, 3, 2, 2, 4, 1, 2, 5, n, 3},
		{n, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, n},
		{1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, n},
	}
	units := make([][]float64, len(rows[0]))
	for u := range units {
		for _, r := range rows {
			if !math.IsNaN(r[u]) {
				units[u] = append(units[u], r[u])
			}
		}
	}
	return units
}()

// krippendorffRandom is the "random units" line printed by
// testdata/refs/krippendorff_alpha.py.
var krippendorffRandom = [][]float64{{2, 4}, {5, 1}, {5, 1, 2, 5}, {1, 5, 2, 3}, {2, 1, 5}, {1, 5, 2, 4}, {4, 3, 2}, {5, 4, 4}, {2, 4, 4}, {3, 3}, {3, 4, 1, 1}, {3}, {1, 2, 3, 2}, {2, 4, 5}, {}, {4, 2, 3}, {3, 2, 5, 5}, {5, 4, 4}, {2}, {5, 1}, {5, 3, 4}, {3, 1, 2}, {2, 5, 2}, {1, 5, 3}, {2, 5, 5}, {2, 4, 2}, {3, 4, 3, 2}, {3, 1, 2}, {5, 4, 3}, {2, 4, 2, 4}}

func TestKrippendorffAlpha(t *testing.T) {
	// Published values (Krippendorff 2011, section C): nominal 0.743,
	// ordinal 0.815, interval 0.849, ratio 0.797; the digits are those of
	// testdata/refs/krippendorff_alpha.py (output in krippendorff_alpha.py.txt).
	cases := []struct {
		name   string
		units  [][]float64
		metric string
		want   float64
	}{
		{"paper nominal", krippendorffPaper, "nominal", 0.743421052631579},
		{"paper ordinal", krippendorffPaper, "ordinal", 0.815387503754881},
		{"paper interval", krippendorffPaper, "interval", 0.849107142857143},
		{"paper ratio", krippendorffPaper, "ratio", 0.797402774711613},
		{"random nominal", krippendorffRandom, "nominal", -0.0614954577218729},
		{"random ordinal", krippendorffRandom, "ordinal", -0.148753838703759},
		{"random interval", krippendorffRandom, "interval", -0.145981087470449},
		{"random ratio", krippendorffRandom, "ratio", -0.124013725947837},
		// Perfect agreement with two values in use.
		{"perfect", [][]float64{{1, 1}, {2, 2, 2}, {1, 1}}, "nominal", 1},
	}
	for _, c := range cases {
		got := KrippendorffAlpha(c.units, c.metric)
		if math.Abs(got-c.want) > 1e-9*math.Max(1, math.Abs(c.want)) {
			t.Errorf("%s: alpha = %.15g, want %.15g", c.name, got, c.want)
		}
	}
}

func TestKrippendorffAlphaUndefined(t *testing.T) {
	cases := []struct {
		name   string
		units  [][]float64
		metric string
	}{
		{"no units", nil, "nominal"},
		{"no pairable unit", [][]float64{{1}, {2}, {}}, "nominal"},
		{"one value everywhere", [][]float64{{3, 3}, {3, 3, 3}}, "interval"},
		{"NaN value", [][]float64{{1, math.NaN()}, {1, 2}}, "nominal"},
		{"unknown metric", krippendorffPaper, "cosine"},
	}
	for _, c := range cases {
		if got := KrippendorffAlpha(c.units, c.metric); !math.IsNaN(got) {
			t.Errorf("%s: alpha = %v, want NaN", c.name, got)
		}
	}
}
