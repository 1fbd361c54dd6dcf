package stats

import (
	"math"
	"strconv"
	"testing"
)

// The values below are printed by testdata/refs/agreement_refs.py
// (scikit-learn 1.2.1, statsmodels 0.13.5, SciPy 1.10.1; output in
// agreement_refs.py.txt) and agreement_refs.R (R 4.2 cor.test with
// exact=FALSE; output in agreement_refs.R.txt). Both samples are full of
// ties.
var (
	refA = []float64{1, 2, 2, 3, 4, 5, 5, 3, 2, 1, 4, 4, 3, 5, 1}
	refB = []float64{1, 3, 2, 3, 5, 5, 4, 2, 2, 2, 4, 3, 3, 5, 1}
	refC = []float64{2, 2, 1, 3, 3, 5, 3, 2, 1, 1, 5, 4, 4, 4, 2}
)

func relClose(got, want float64) bool {
	return math.Abs(got-want) <= 1e-9*math.Abs(want)
}

func TestWeightedKappaMatchesScikitLearnAndStatsmodels(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		a, b    []float64
		levels  []float64
		weights string
		want    float64
	}{
		// cohen_kappa_score(a, b, weights=w); statsmodels cohens_kappa(table, wt=w) agrees.
		{"a,b", refA, refB, nil, "linear", 0.741379310344828},
		{"a,b", refA, refB, nil, "quadratic", 0.892857142857143},
		{"a,c", refA, refC, nil, "linear", 0.52991452991453},
		{"a,c", refA, refC, nil, "quadratic", 0.771929824561403},
		// labels=[1, 2, 3]: pairs with a 4 or 5 on either side are dropped.
		{"a,b labels 1..3", refA, refB, []float64{1, 2, 3}, "linear", 0.608695652173913},
		{"a,b labels 1..3", refA, refB, []float64{1, 2, 3}, "quadratic", 0.727272727272727},
	}
	for _, c := range cases {
		if got := WeightedKappa(c.a, c.b, c.levels, c.weights); !relClose(got, c.want) {
			t.Errorf("WeightedKappa %s %s = %.15g, want %.15g", c.name, c.weights, got, c.want)
		}
	}
}

func TestKeepLabelsMatchesScikitLearnLabels(t *testing.T) {
	t.Parallel()
	str := func(v []float64) []string {
		s := make([]string, len(v))
		for i, x := range v {
			s[i] = strconv.FormatFloat(x, 'g', -1, 64)
		}
		return s
	}
	a, b, dropped := KeepLabels(str(refA), str(refB), []string{"1", "2", "3"})
	// cohen_kappa_score(a, b, labels=[1, 2, 3]) = 0.5.
	if got := CohenKappa(a, b); !relClose(got, 0.5) {
		t.Errorf("CohenKappa on labels 1..3 = %.15g, want 0.5", got)
	}
	// Rows with a 4 or a 5 on either side are dropped.
	want := 0
	for i := range refA {
		if refA[i] > 3 || refB[i] > 3 {
			want++
		}
	}
	if dropped != want || len(a)+dropped != len(refA) {
		t.Errorf("KeepLabels dropped %d of %d, want %d", dropped, len(refA), want)
	}
	if a, b, dropped := KeepLabels(str(refA), str(refB), []string{"7"}); len(a) != 0 || len(b) != 0 || dropped != len(refA) {
		t.Errorf("KeepLabels with a label nobody used kept %d, dropped %d", len(a), dropped)
	}
	// Nothing left: kappa undefined (scikit-learn raises "At least one
	// label specified must be in y_true").
	if got := CohenKappa(nil, nil); !math.IsNaN(got) {
		t.Errorf("CohenKappa of nothing = %v, want NaN", got)
	}
}

func TestRankTestsMatchScipyAndR(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		x, y    []float64
		rho, pS float64 // scipy.stats.spearmanr
		tau, pK float64 // scipy.stats.kendalltau (method auto: asymptotic with ties)
	}{
		{"a,b", refA, refB, 0.899455376898271, 5.04022819989625e-06, 0.820276499330278, 0.000146054131875812},
		{"a,c", refA, refC, 0.791089420050103, 0.000444004448386916, 0.648054805715525, 0.00262546600119842},
		// n = 2: scipy gives rho 1 with p NaN, tau 1 with exact p 1.
		{"n=2", []float64{1, 2}, []float64{1, 3}, 1, math.NaN(), 1, 1},
		{"n=3", []float64{1, 2, 3}, []float64{1, 3, 2}, 0.5, 0.6666666666666667, 1.0 / 3, 1},
		// n = 1: everything undefined.
		{"n=1", []float64{1}, []float64{1}, math.NaN(), math.NaN(), math.NaN(), math.NaN()},
	}
	near := func(got, want float64) bool {
		if math.IsNaN(want) {
			return math.IsNaN(got)
		}
		return math.Abs(got-want) <= 1e-9*math.Max(math.Abs(want), 1e-300) || math.Abs(got-want) < 1e-14
	}
	for _, c := range cases {
		rho, p := SpearmanTest(c.x, c.y)
		if !near(rho, c.rho) || !near(p, c.pS) {
			t.Errorf("SpearmanTest %s = %.15g, %.15g; want %.15g, %.15g", c.name, rho, p, c.rho, c.pS)
		}
		tau, p := KendallTauBTest(c.x, c.y)
		if !near(tau, c.tau) || !near(p, c.pK) {
			t.Errorf("KendallTauBTest %s = %.15g, %.15g; want %.15g, %.15g", c.name, tau, p, c.tau, c.pK)
		}
	}
}
