package report

import (
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/report/stats"
)

// The tests a plan is made for: PlanOptions.Test, and PlanResult.Test
// (where the t-test is written MDEPairedT and its normal approximation
// MDENormal, as compare's MDE method).
const (
	// PlanMcNemar plans McNemar's test on pass/fail verdicts.
	PlanMcNemar = "mcnemar"
	// PlanT plans the paired t-test on scores.
	PlanT = "t"
	// PlanNormal plans the normal approximation of the paired t-test.
	PlanNormal = "normal"
)

// PlanOptions says what to plan: how many examples a paired comparison
// needs to detect an effect, the power of a given number of examples, or
// the minimum detectable effect of n examples. The fields are gavel
// plan's flags, and error messages name those flags.
type PlanOptions struct {
	// Test is PlanMcNemar (the default, for ""), PlanT or PlanNormal.
	Test string
	// Baseline is the baseline variant's pass rate (McNemar).
	Baseline float64
	// Effect is the change to detect: in pass rate, or in score units.
	Effect float64
	// Discordance is the fraction of examples whose verdict differs
	// between the variants; NaN when unknown (the conservative bound, or
	// with From the run's estimate).
	Discordance float64
	// Repeats is the epochs per example: at least 1.
	Repeats int
	// Rho is the intra-example correlation, for Repeats > 1; NaN for the
	// default (stats.DefaultRepeatCorrelation), or with From the run's
	// estimate.
	Rho float64
	// Alpha is the significance level; Power the power wanted.
	Alpha, Power float64
	// From is a stored run to estimate the rates from (McNemar), and
	// Judge the judge to read there (default: the first).
	From, Judge string
	// SD is the standard deviation of the per-example differences B - A
	// (t and normal).
	SD float64
	// N is the examples available: the plan gives the minimum detectable
	// effect or, with Effect, the power.
	N int
	// OneSided and Strict are power.t.test's alternative = "one.sided" and
	// strict = TRUE.
	OneSided, Strict bool
}

// PlanResult is what a plan computed; gavel plan --format json prints it. The
// figures not computed for a plan are omitted.
type PlanResult struct {
	// Test is "mcnemar", "paired_t" or "normal"; SolvedFor is "n",
	// "power" or "mde".
	Test        string  `json:"test"`
	SolvedFor   string  `json:"solved_for"`
	Alternative string  `json:"alternative"`
	Strict      bool    `json:"strict"`
	Alpha       float64 `json:"alpha"`
	Power       float64 `json:"power"`
	// Effect is the change planned for (or, solved for "mde", the minimum
	// detectable one); EffectSD is it over SD.
	Effect   float64  `json:"effect"`
	SD       *float64 `json:"sd,omitempty"`
	EffectSD *float64 `json:"effect_sd,omitempty"`
	// N is the examples needed (rounded up) or given; NExact the real n
	// of the formula before rounding.
	N      int      `json:"n"`
	NExact *float64 `json:"n_exact,omitempty"`
	// Baseline, Discordance and the paired-difference variances, for
	// mcnemar.
	Baseline          *float64 `json:"baseline_rate,omitempty"`
	Discordance       *float64 `json:"discordance,omitempty"`
	DiscordanceSource string   `json:"discordance_source,omitempty"`
	DiffVarianceNull  *float64 `json:"diff_variance_null,omitempty"`
	DiffVarianceAlt   *float64 `json:"diff_variance_alt,omitempty"`
	Repeats           int      `json:"repeats"`
	Rho               *float64 `json:"rho,omitempty"`
	DesignEffect      *float64 `json:"design_effect,omitempty"`
	Source            string   `json:"source,omitempty"`
}

func fptr(x float64) *float64 { return &x }

// Plan computes a plan.
func Plan(o PlanOptions) (*PlanResult, error) {
	if o.Test == "" {
		o.Test = PlanMcNemar
	}
	if o.Repeats < 1 {
		return nil, errors.New("--repeats must be at least 1")
	}
	if o.N < 0 {
		return nil, errors.New("--n must be positive")
	}
	switch o.Test {
	case PlanMcNemar:
		if o.OneSided || o.Strict {
			return nil, errors.New("--one-sided and --strict apply to --test t and normal; McNemar's plan is two-sided")
		}
		return planMcNemar(o)
	case PlanT, PlanNormal:
		return planMeans(o)
	}
	return nil, fmt.Errorf("--test %q: the test is mcnemar, t or normal", o.Test)
}

// planMcNemar plans McNemar's test on pass/fail verdicts: the n for
// Effect, or with N the MDE.
func planMcNemar(o PlanOptions) (*PlanResult, error) {
	discordanceSet, rhoSet := !math.IsNaN(o.Discordance), !math.IsNaN(o.Rho)
	if !rhoSet {
		o.Rho = stats.DefaultRepeatCorrelation
	}
	if o.Effect == 0 && o.N == 0 {
		return nil, errors.New("--effect is required: the change in pass rate to detect, e.g. 0.03 (or --n for the smallest detectable)")
	}
	if o.Effect != 0 && o.N != 0 {
		return nil, errors.New("give --effect (for the examples needed) or --n (for the smallest detectable effect), not both")
	}
	source := "given"
	if o.From != "" {
		est, err := EstimateFromRun(o.From, o.Judge)
		if err != nil {
			return nil, err
		}
		o.Baseline = est.Baseline
		source = fmt.Sprintf("estimated from run %s (judge %s, %d examples", est.Run, est.Judge, est.N)
		// No example that changed says nothing of the discordance: the
		// conservative bound, as gavel compare takes it.
		if !discordanceSet && est.Discordance > 0 {
			o.Discordance = est.Discordance
			source += fmt.Sprintf(", variants %s and %s", est.A, est.B)
		}
		if !rhoSet && !math.IsNaN(est.Rho) {
			o.Rho = est.Rho
			o.Repeats = max(o.Repeats, est.Epochs)
		}
		source += ")"
	}
	// For n, the baseline is strictly inside (0, 1); an MDE is defined at
	// 0 and 1 too (a rise from 0, a drop from 1), as gavel compare gives it.
	if o.Baseline <= 0 || o.Baseline >= 1 {
		if o.N == 0 || o.Baseline < 0 || o.Baseline > 1 || (o.From == "" && o.Baseline == 0) {
			return nil, errors.New("--baseline-rate must be between 0 and 1 (exclusive), or use --from RUN")
		}
	}
	de := stats.RepeatDesignEffect(o.Repeats, o.Rho)
	if math.IsNaN(de) {
		return nil, fmt.Errorf("--rho %.4g: the intra-example correlation is between 0 and 1", o.Rho)
	}
	res := &PlanResult{Test: PlanMcNemar, Alternative: "two.sided", Alpha: o.Alpha, Power: o.Power,
		Baseline: fptr(o.Baseline), Repeats: o.Repeats, Source: source, DiscordanceSource: "given"}
	switch {
	case math.IsNaN(o.Discordance):
		res.DiscordanceSource = "conservative bound"
	case !discordanceSet && o.From != "":
		res.DiscordanceSource = "estimated"
	}
	if o.Repeats > 1 {
		res.Rho, res.DesignEffect = fptr(o.Rho), fptr(de)
	}
	if o.N > 0 {
		res.SolvedFor, res.N = "mde", o.N
		if o.Repeats > 1 {
			res.Effect = stats.PairedProportionMDERepeated(o.N, o.Baseline, o.Discordance, o.Alpha, o.Power, o.Repeats, o.Rho)
		} else {
			// As gavel compare computes a pass/fail judge's MDE.
			res.Effect = stats.McNemarMDE(o.N, o.Baseline, o.Discordance, o.Alpha, o.Power)
		}
		if math.IsNaN(res.Effect) {
			return nil, fmt.Errorf("no detectable effect for %d examples at baseline %.4g, discordance %.4g: the rates are out of range or inconsistent, or n is too small", o.N, o.Baseline, o.Discordance)
		}
	} else {
		res.SolvedFor, res.Effect = "n", o.Effect
		res.N = stats.PairedProportionNRepeated(o.Baseline, o.Effect, o.Discordance, o.Alpha, o.Power, o.Repeats, o.Rho)
		if res.N < 0 {
			return nil, fmt.Errorf("no sample size for baseline %.4g, effect %+.4g, discordance %.4g: the rates are out of range or inconsistent", o.Baseline, o.Effect, o.Discordance)
		}
	}
	psi := stats.PairedProportionDiscordance(o.Baseline, res.Effect, o.Discordance)
	if !math.IsNaN(psi) {
		null, alt := stats.PairedBinaryDiffVariance(psi, res.Effect)
		res.Discordance, res.DiffVarianceNull, res.DiffVarianceAlt = fptr(psi), fptr(null), fptr(alt)
	}
	return res, nil
}

// planMeans plans the paired t-test (or its normal approximation) on
// scores: n for --delta, power for --n and --delta, the MDE for --n.
func planMeans(o PlanOptions) (*PlanResult, error) {
	if math.IsNaN(o.Rho) {
		o.Rho = stats.DefaultRepeatCorrelation
	}
	if o.From != "" {
		return nil, errors.New("--from estimates pass rates for --test mcnemar; for --test t or normal give --sd")
	}
	if !(o.SD > 0) || math.IsInf(o.SD, 0) {
		return nil, errors.New("--sd is required: the standard deviation of the per-example differences B - A")
	}
	if o.Effect == 0 && o.N == 0 {
		return nil, errors.New("give --delta (the difference to detect), --n (the examples available), or both (for the power)")
	}
	if !(o.Alpha > 0 && o.Alpha < 1) || !(o.Power > 0 && o.Power < 1) {
		return nil, errors.New("--alpha and --power must be between 0 and 1")
	}
	if o.Test == PlanNormal && o.Strict {
		return nil, errors.New("--strict applies to --test t")
	}
	de := stats.RepeatDesignEffect(o.Repeats, o.Rho)
	if math.IsNaN(de) {
		return nil, fmt.Errorf("--rho %.4g: the intra-example correlation is between 0 and 1", o.Rho)
	}
	// The standard deviation of a per-example mean of the repeats.
	sd := o.SD * math.Sqrt(de)
	res := &PlanResult{Test: string(MDEPairedT), Alternative: "two.sided", Strict: o.Strict, Alpha: o.Alpha, Power: o.Power,
		SD: fptr(o.SD), Repeats: o.Repeats}
	if o.Test == PlanNormal {
		res.Test = string(MDENormal)
	}
	if o.OneSided {
		res.Alternative, res.Strict = "one.sided", false
	}
	if o.Repeats > 1 {
		res.Rho, res.DesignEffect = fptr(o.Rho), fptr(de)
	}
	t := stats.PairedT{Alpha: o.Alpha, OneSided: o.OneSided, Strict: o.Strict}
	d := math.Abs(o.Effect) / sd
	switch {
	case o.N > 0 && o.Effect != 0:
		res.SolvedFor, res.N, res.Effect = "power", o.N, o.Effect
		if o.Test == PlanNormal {
			res.Power = stats.PairedNormalPower(float64(o.N), d, o.Alpha, o.OneSided)
		} else {
			res.Power = t.Power(float64(o.N), d)
		}
	case o.N > 0:
		res.SolvedFor, res.N = "mde", o.N
		if o.Test == PlanNormal {
			d = stats.PairedNormalEffect(float64(o.N), o.Alpha, o.Power, o.OneSided)
		} else {
			d = t.Effect(float64(o.N), o.Power)
		}
		res.Effect = d * sd
	default:
		res.SolvedFor, res.Effect = "n", o.Effect
		var n float64
		if o.Test == PlanNormal {
			n = stats.PairedNormalN(d, o.Alpha, o.Power, o.OneSided)
		} else {
			n = t.N(d, o.Power)
		}
		if math.IsNaN(n) {
			return nil, fmt.Errorf("no sample size for delta %+.4g, sd %.4g, power %g", o.Effect, o.SD, o.Power)
		}
		res.NExact, res.N = fptr(n), int(math.Ceil(n-1e-9))
		if o.Test == PlanT {
			res.N = max(res.N, 2)
		}
	}
	if math.IsNaN(res.Power) || math.IsNaN(res.Effect) {
		return nil, fmt.Errorf("no %s for n = %d, sd %.4g: too few examples", res.SolvedFor, o.N, o.SD)
	}
	res.EffectSD = fptr(math.Abs(res.Effect) / sd)
	return res, nil
}

// WriteText writes the plan as gavel plan prints it.
func (r *PlanResult) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	w = ew
	if r.Test == PlanMcNemar {
		disc := r.DiscordanceSource
		if r.Discordance != nil {
			disc = fmt.Sprintf("%.4g (%s)", *r.Discordance, r.DiscordanceSource)
		}
		fmt.Fprintf(w, "baseline pass rate %.4g (%s), discordance %s\n", *r.Baseline, r.Source, disc)
	} else {
		name := "paired t-test (noncentral t, as R's power.t.test(type = \"paired\"))"
		if r.Test == string(MDENormal) {
			name = "paired normal approximation ((z + z)·sd/δ)²"
		}
		tails := r.Alternative
		if r.Strict {
			tails += ", strict"
		}
		fmt.Fprintf(w, "%s, %s, α = %g\n", name, tails, r.Alpha)
		fmt.Fprintf(w, "sd of the per-example differences %.4g\n", *r.SD)
	}
	if r.DesignEffect != nil {
		fmt.Fprintf(w, "%d epochs per example, intra-example correlation %.3g (design effect %.3g)\n", r.Repeats, *r.Rho, *r.DesignEffect)
	}
	what := "paired McNemar, two-sided"
	if r.Test != PlanMcNemar {
		what = r.Test
	}
	switch r.SolvedFor {
	case "n":
		fmt.Fprintf(w, "effect %+.4g", r.Effect)
		if r.EffectSD != nil {
			fmt.Fprintf(w, " (%.4g sd)", *r.EffectSD)
		}
		fmt.Fprintln(w)
		exact := ""
		if r.NExact != nil {
			exact = fmt.Sprintf(", n = %.6f", *r.NExact)
		}
		fmt.Fprintf(w, "examples needed: %d  (%s, α = %g, power %g%s)\n", r.N, what, r.Alpha, r.Power, exact)
	case "power":
		fmt.Fprintf(w, "effect %+.4g (%.4g sd)\n", r.Effect, *r.EffectSD)
		fmt.Fprintf(w, "power: %.6f  (%s, α = %g, n = %d)\n", r.Power, what, r.Alpha, r.N)
	case "mde":
		fmt.Fprintf(w, "minimum detectable effect: %.6g", r.Effect)
		if r.EffectSD != nil {
			fmt.Fprintf(w, " (%.4g sd)", *r.EffectSD)
		} else {
			fmt.Fprint(w, " in pass rate")
		}
		fmt.Fprintf(w, "  (%s, α = %g, power %g, n = %d)\n", what, r.Alpha, r.Power, r.N)
	}
	if r.DiffVarianceNull != nil {
		fmt.Fprintf(w, "variance of one example's difference B - A: %.4g under no effect (ψ), %.4g under the effect (ψ - δ²)\n", *r.DiffVarianceNull, *r.DiffVarianceAlt)
	}
	return ew.err
}

// PlanEstimate is what a stored run says of the rates a plan needs: the
// first variant's pass rate under one judge and, against the second, the
// discordance and the intra-example correlation of repeated epochs.
type PlanEstimate struct {
	// Run is the run id, Judge the judge read, A and B the variants.
	Run, Judge, A, B string
	// N is the examples judged; Epochs the epochs seen.
	N, Epochs int
	// Baseline is A's pass rate.
	Baseline float64
	// Discordance is the fraction of examples whose verdict differs
	// between A and B (NaN with one variant or repeated epochs).
	Discordance float64
	// Rho is the intra-example correlation of the paired differences
	// (NaN without repeated epochs).
	Rho float64
}

// EstimateFromRun reads the verdicts of one judge (the first that is not
// pairwise, for "") on a run's first two variants.
func EstimateFromRun(dir, judge string) (PlanEstimate, error) {
	m, err := results.ReadManifest(dir)
	if err != nil {
		return PlanEstimate{}, err
	}
	est := PlanEstimate{Run: m.RunID, Judge: judge, Discordance: math.NaN(), Rho: math.NaN()}
	if est.Judge == "" {
		for _, j := range m.Judges {
			if j.Type != "pairwise" {
				est.Judge = j.Name
				break
			}
		}
	}
	if est.Judge == "" || len(m.Variants) == 0 {
		return est, fmt.Errorf("run %s has no judge and variant to plan from", dir)
	}
	est.A = m.Variants[0].Name
	if len(m.Variants) > 1 {
		est.B = m.Variants[1].Name
	}
	type cell struct{ a, b []float64 }
	cells := map[string]*cell{}
	epochs := map[int32]bool{}
	err = results.ReadScores(filepath.Join(dir, results.ScoresFile), func(s results.Score) error {
		if s.Judge != est.Judge || s.OtherVariant != nil || s.Status != results.ScoreOK || s.Pass == nil {
			return nil
		}
		c := cells[s.ExampleID]
		if c == nil {
			c = &cell{}
			cells[s.ExampleID] = c
		}
		epochs[s.Epoch] = true
		switch s.Variant {
		case est.A:
			c.a = append(c.a, b2f(*s.Pass))
		case est.B:
			c.b = append(c.b, b2f(*s.Pass))
		}
		return nil
	})
	if err != nil {
		return est, err
	}
	est.Epochs = len(epochs)
	ids := make([]string, 0, len(cells))
	for id := range cells {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var passA, nA, disc, paired float64
	var diffClusters [][]float64
	for _, id := range ids {
		c := cells[id]
		for _, x := range c.a {
			passA += x
			nA++
		}
		if len(c.a) == 0 || len(c.b) == 0 {
			continue
		}
		paired++
		ma, mb := meanOf(c.a), meanOf(c.b)
		disc += math.Abs(ma - mb) // for one epoch: 1 when the verdicts differ
		if k := min(len(c.a), len(c.b)); k > 1 {
			d := make([]float64, k)
			for i := 0; i < k; i++ {
				d[i] = c.b[i] - c.a[i]
			}
			diffClusters = append(diffClusters, d)
		}
	}
	if nA == 0 {
		return est, fmt.Errorf("run %s: judge %s has no pass/fail verdicts for %s", dir, est.Judge, est.A)
	}
	est.N = len(ids)
	est.Baseline = passA / nA
	if paired > 0 && est.B != "" && est.Epochs <= 1 {
		est.Discordance = disc / paired
	}
	if len(diffClusters) > 1 {
		est.Rho = stats.RepeatCorrelation(diffClusters)
	}
	return est, nil
}

func meanOf(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
