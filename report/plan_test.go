package report

import (
	"math"
	"strings"
	"testing"
)

// The reference values are R's power.t.test(type = "paired"), printed
// with options(digits = 12) and tol = 1e-12 (its default uniroot
// tolerance, about 1e-4, moves the fifth digit of a solved delta).
func TestPlanPairedTMatchesR(t *testing.T) {
	base := PlanOptions{Test: PlanT, SD: 0.3, Alpha: 0.05, Power: 0.8, Repeats: 1, Rho: math.NaN(), Discordance: math.NaN()}
	for _, tc := range []struct {
		name   string
		edit   func(*PlanOptions)
		solved string
		got    func(*PlanResult) float64
		want   float64
	}{
		{"n for delta", func(o *PlanOptions) { o.Effect = 0.1 }, "n", func(r *PlanResult) float64 { return *r.NExact }, 72.5840748638},
		{"power of n", func(o *PlanOptions) { o.Effect, o.N = 0.1, 200 }, "power", func(r *PlanResult) float64 { return r.Power }, 0.996844977346},
		{"mde of n", func(o *PlanOptions) { o.N = 50 }, "mde", func(r *PlanResult) float64 { return r.Effect }, 0.121255047664},
		{"one-sided n", func(o *PlanOptions) { o.Effect, o.OneSided = 0.1, true }, "n", func(r *PlanResult) float64 { return *r.NExact }, 57.0204823788},
		{"strict power", func(o *PlanOptions) { o.Effect, o.N, o.Strict = 0.1, 30, true }, "power", func(r *PlanResult) float64 { return r.Power }, 0.422905789445},
	} {
		o := base
		tc.edit(&o)
		r, err := Plan(o)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if r.SolvedFor != tc.solved {
			t.Errorf("%s: solved for %q, want %q", tc.name, r.SolvedFor, tc.solved)
		}
		if got := tc.got(r); math.Abs(got-tc.want) > 1e-6*math.Max(1, tc.want) {
			t.Errorf("%s: %.10g, R gives %.10g", tc.name, got, tc.want)
		}
	}
}

func TestPlanRejects(t *testing.T) {
	for _, tc := range []struct {
		o    PlanOptions
		want string
	}{
		{PlanOptions{Test: PlanMcNemar, Repeats: 0}, "--repeats must be at least 1"},
		{PlanOptions{Test: "z", Repeats: 1}, `--test "z"`},
		{PlanOptions{Test: PlanMcNemar, Repeats: 1, OneSided: true}, "McNemar's plan is two-sided"},
		{PlanOptions{Test: PlanT, Repeats: 1, Effect: 0.1}, "--sd is required"},
		{PlanOptions{Repeats: 1, Discordance: math.NaN(), Rho: math.NaN()}, "--effect is required"},
	} {
		_, err := Plan(tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Plan(%+v) = %v, want an error with %q", tc.o, err, tc.want)
		}
	}
}
