package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"

	"github.com/spf13/cobra"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/report"
	"github.com/gavel-eval/gavel/report/stats"
)

type planOptions struct {
	baseline    float64
	effect      float64
	discordance float64
	repeats     int
	rho         float64
	alpha       float64
	power       float64
	from        string
	judge       string
	test        string
	sd          float64
	n           int
	oneSided    bool
	strict      bool
	format      string
}

func newPlanCmd(env *Env) *cobra.Command {
	o := &planOptions{}
	cmd := &cobra.Command{
		Use:   "plan --baseline-rate P --effect D [--repeats K] | plan --from RUN --effect D | plan --test t --sd S --delta D",
		Short: "How many examples a paired comparison needs to detect an effect",
		Long: `Plan prints how many examples a paired comparison of two variants needs to
detect a change of --effect in pass rate with 80% power at α = 0.05 (exact
numbers: Connor's 1987 formula for McNemar's test, as PASS, G*Power and
Stata use), and the variance of one example's paired difference that the
formula uses. With --n it prints the minimum detectable change in pass rate
for n examples instead, the figure gavel compare reports as a pass/fail
judge's MDE.

The fraction of examples whose verdict differs between the two variants
(--discordance) matters most; unknown, the conservative bound (the largest
the pass rates allow) is used, which overstates n for two prompts on the
same model. --from RUN estimates the baseline rate, the discordance and,
with repeated epochs, the per-example correlation from a stored run (its
first two variants, the first judge or --judge).

With --repeats K each example is run K times and compared by its mean:
n shrinks by the design effect (1 + (K-1)ρ)/K, where ρ (--rho) is the share
of the difference's variance between examples; ρ = 1 (the default) means
repeats buy nothing, as for a deterministic model.

For scores, --test t plans the paired t-test on differences with standard
deviation --sd, with the figures of R's power.t.test(type = "paired"):
the examples needed for --delta (the exact real n and its ceiling), the
power of --n examples against --delta, or with --n alone the minimum
detectable difference. --one-sided and --strict (count both tails of a
two-sided test) are power.t.test's alternative and strict. --test normal
gives the normal approximation n = ((z_{1-α/2} + z_power)·sd/delta)².
--format json prints the same figures as one JSON object.`,
		Example: `  $ gavel plan --baseline-rate 0.72 --effect 0.03
  $ gavel plan --baseline-rate 0.72 --effect 0.03 --discordance 0.10 --repeats 3 --rho 0.5
  $ gavel plan --from runs/pilot --effect 0.02 --judge correct
  $ gavel plan --from runs/pilot --n 400 --judge correct
  $ gavel plan --test t --sd 0.3 --delta 0.1 --power 0.8
  $ gavel plan --test t --sd 0.3 --delta 0.1 --n 200 --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("delta") && cmd.Flags().Changed("effect") {
				return withExitCode(errors.New("--delta and --effect are the same; give one"), ExitError)
			}
			return withExitCode(runPlan(env, o, cmd.Flags().Changed("discordance"), cmd.Flags().Changed("rho")), ExitError)
		},
	}
	f := cmd.Flags()
	f.Float64Var(&o.baseline, "baseline-rate", 0, "the baseline variant's pass rate, 0..1")
	f.Float64Var(&o.effect, "effect", 0, "the change to detect: in pass rate, e.g. 0.03, or with --test t|normal in score units")
	f.Float64Var(&o.effect, "delta", 0, "the same as --effect")
	f.Float64Var(&o.discordance, "discordance", math.NaN(), "fraction of examples whose verdict differs between the variants (default: the conservative bound)")
	f.IntVar(&o.repeats, "repeats", 1, "epochs per example")
	f.Float64Var(&o.rho, "rho", stats.DefaultRepeatCorrelation, "intra-example correlation, for --repeats")
	f.Float64Var(&o.alpha, "alpha", 0.05, "significance level")
	f.Float64Var(&o.power, "power", 0.8, "power")
	f.StringVar(&o.from, "from", "", "estimate the rates from this stored `run`")
	f.StringVar(&o.judge, "judge", "", "with --from, the judge to read (default: the first)")
	f.StringVar(&o.test, "test", planMcNemar, "the `test` planned: mcnemar (pass/fail), t (paired t-test on scores) or normal (its normal approximation)")
	f.Float64Var(&o.sd, "sd", 0, "with --test t|normal, the standard deviation of the per-example differences B - A")
	f.IntVar(&o.n, "n", 0, "the examples available: print the minimum detectable effect (or, with --test t|normal and --delta, the power)")
	f.BoolVar(&o.oneSided, "one-sided", false, "with --test t|normal, a one-sided test (power.t.test's alternative = \"one.sided\")")
	f.BoolVar(&o.strict, "strict", false, "with --test t, count both tails of the two-sided test (power.t.test's strict = TRUE)")
	f.StringVar(&o.format, "format", "text", "output `format`: text or json")
	return cmd
}

// The values of gavel plan --test, and of its JSON "test".
const (
	planMcNemar = "mcnemar"
	planT       = "t"
	planNormal  = "normal"
)

// planResult is what gavel plan computed; --format json prints it. The
// figures not computed for a plan are omitted.
type planResult struct {
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

func runPlan(env *Env, o *planOptions, discordanceSet, rhoSet bool) error {
	if o.format != "text" && o.format != "json" {
		return fmt.Errorf("--format %q: plan prints text or json", o.format)
	}
	if o.repeats < 1 {
		return errors.New("--repeats must be at least 1")
	}
	if o.n < 0 {
		return errors.New("--n must be positive")
	}
	var res *planResult
	var err error
	switch o.test {
	case planMcNemar:
		if o.oneSided || o.strict {
			return errors.New("--one-sided and --strict apply to --test t and normal; McNemar's plan is two-sided")
		}
		res, err = planMcNemarTest(o, discordanceSet, rhoSet)
	case planT, planNormal:
		res, err = planMeans(o)
	default:
		return fmt.Errorf("--test %q: the test is mcnemar, t or normal", o.test)
	}
	if err != nil {
		return err
	}
	if o.format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	printPlan(env.Stdout, res)
	return nil
}

// planMcNemarTest plans McNemar's test on pass/fail verdicts: the n for
// --effect, or with --n the MDE.
func planMcNemarTest(o *planOptions, discordanceSet, rhoSet bool) (*planResult, error) {
	if o.effect == 0 && o.n == 0 {
		return nil, errors.New("--effect is required: the change in pass rate to detect, e.g. 0.03 (or --n for the smallest detectable)")
	}
	if o.effect != 0 && o.n != 0 {
		return nil, errors.New("give --effect (for the examples needed) or --n (for the smallest detectable effect), not both")
	}
	source := "given"
	if o.from != "" {
		est, err := estimateFromRun(o.from, o.judge)
		if err != nil {
			return nil, err
		}
		o.baseline = est.baseline
		source = fmt.Sprintf("estimated from run %s (judge %s, %d examples", est.run, est.judge, est.n)
		// No example that changed says nothing of the discordance: the
		// conservative bound, as gavel compare takes it.
		if !discordanceSet && est.discordance > 0 {
			o.discordance = est.discordance
			source += fmt.Sprintf(", variants %s and %s", est.a, est.b)
		}
		if !rhoSet && !math.IsNaN(est.rho) {
			o.rho = est.rho
			o.repeats = max(o.repeats, est.epochs)
		}
		source += ")"
	}
	// For n, the baseline is strictly inside (0, 1); an MDE is defined at
	// 0 and 1 too (a rise from 0, a drop from 1), as gavel compare gives it.
	if o.baseline <= 0 || o.baseline >= 1 {
		if o.n == 0 || o.baseline < 0 || o.baseline > 1 || (o.from == "" && o.baseline == 0) {
			return nil, errors.New("--baseline-rate must be between 0 and 1 (exclusive), or use --from RUN")
		}
	}
	de := stats.RepeatDesignEffect(o.repeats, o.rho)
	if math.IsNaN(de) {
		return nil, fmt.Errorf("--rho %.4g: the intra-example correlation is between 0 and 1", o.rho)
	}
	res := &planResult{Test: planMcNemar, Alternative: "two.sided", Alpha: o.alpha, Power: o.power,
		Baseline: fptr(o.baseline), Repeats: o.repeats, Source: source, DiscordanceSource: "given"}
	switch {
	case math.IsNaN(o.discordance):
		res.DiscordanceSource = "conservative bound"
	case !discordanceSet && o.from != "":
		res.DiscordanceSource = "estimated"
	}
	if o.repeats > 1 {
		res.Rho, res.DesignEffect = fptr(o.rho), fptr(de)
	}
	if o.n > 0 {
		res.SolvedFor, res.N = "mde", o.n
		if o.repeats > 1 {
			res.Effect = stats.PairedProportionMDERepeated(o.n, o.baseline, o.discordance, o.alpha, o.power, o.repeats, o.rho)
		} else {
			// As gavel compare computes a pass/fail judge's MDE.
			res.Effect = stats.McNemarMDE(o.n, o.baseline, o.discordance, o.alpha, o.power)
		}
		if math.IsNaN(res.Effect) {
			return nil, fmt.Errorf("no detectable effect for %d examples at baseline %.4g, discordance %.4g: the rates are out of range or inconsistent, or n is too small", o.n, o.baseline, o.discordance)
		}
	} else {
		res.SolvedFor, res.Effect = "n", o.effect
		res.N = stats.PairedProportionNRepeated(o.baseline, o.effect, o.discordance, o.alpha, o.power, o.repeats, o.rho)
		if res.N < 0 {
			return nil, fmt.Errorf("no sample size for baseline %.4g, effect %+.4g, discordance %.4g: the rates are out of range or inconsistent", o.baseline, o.effect, o.discordance)
		}
	}
	psi := stats.PairedProportionDiscordance(o.baseline, res.Effect, o.discordance)
	if !math.IsNaN(psi) {
		null, alt := stats.PairedBinaryDiffVariance(psi, res.Effect)
		res.Discordance, res.DiffVarianceNull, res.DiffVarianceAlt = fptr(psi), fptr(null), fptr(alt)
	}
	return res, nil
}

// planMeans plans the paired t-test (or its normal approximation) on
// scores: n for --delta, power for --n and --delta, the MDE for --n.
func planMeans(o *planOptions) (*planResult, error) {
	if o.from != "" {
		return nil, errors.New("--from estimates pass rates for --test mcnemar; for --test t or normal give --sd")
	}
	if !(o.sd > 0) || math.IsInf(o.sd, 0) {
		return nil, errors.New("--sd is required: the standard deviation of the per-example differences B - A")
	}
	if o.effect == 0 && o.n == 0 {
		return nil, errors.New("give --delta (the difference to detect), --n (the examples available), or both (for the power)")
	}
	if !(o.alpha > 0 && o.alpha < 1) || !(o.power > 0 && o.power < 1) {
		return nil, errors.New("--alpha and --power must be between 0 and 1")
	}
	if o.test == planNormal && o.strict {
		return nil, errors.New("--strict applies to --test t")
	}
	de := stats.RepeatDesignEffect(o.repeats, o.rho)
	if math.IsNaN(de) {
		return nil, fmt.Errorf("--rho %.4g: the intra-example correlation is between 0 and 1", o.rho)
	}
	// The standard deviation of a per-example mean of the repeats.
	sd := o.sd * math.Sqrt(de)
	res := &planResult{Test: report.MDEPairedT, Alternative: "two.sided", Strict: o.strict, Alpha: o.alpha, Power: o.power,
		SD: fptr(o.sd), Repeats: o.repeats}
	if o.test == planNormal {
		res.Test = report.MDENormal
	}
	if o.oneSided {
		res.Alternative, res.Strict = "one.sided", false
	}
	if o.repeats > 1 {
		res.Rho, res.DesignEffect = fptr(o.rho), fptr(de)
	}
	t := stats.PairedT{Alpha: o.alpha, OneSided: o.oneSided, Strict: o.strict}
	d := math.Abs(o.effect) / sd
	switch {
	case o.n > 0 && o.effect != 0:
		res.SolvedFor, res.N, res.Effect = "power", o.n, o.effect
		if o.test == planNormal {
			res.Power = stats.PairedNormalPower(float64(o.n), d, o.alpha, o.oneSided)
		} else {
			res.Power = t.Power(float64(o.n), d)
		}
	case o.n > 0:
		res.SolvedFor, res.N = "mde", o.n
		if o.test == planNormal {
			d = stats.PairedNormalEffect(float64(o.n), o.alpha, o.power, o.oneSided)
		} else {
			d = t.Effect(float64(o.n), o.power)
		}
		res.Effect = d * sd
	default:
		res.SolvedFor, res.Effect = "n", o.effect
		var n float64
		if o.test == planNormal {
			n = stats.PairedNormalN(d, o.alpha, o.power, o.oneSided)
		} else {
			n = t.N(d, o.power)
		}
		if math.IsNaN(n) {
			return nil, fmt.Errorf("no sample size for delta %+.4g, sd %.4g, power %g", o.effect, o.sd, o.power)
		}
		res.NExact, res.N = fptr(n), int(math.Ceil(n-1e-9))
		if o.test == planT {
			res.N = max(res.N, 2)
		}
	}
	if math.IsNaN(res.Power) || math.IsNaN(res.Effect) {
		return nil, fmt.Errorf("no %s for n = %d, sd %.4g: too few examples", res.SolvedFor, o.n, o.sd)
	}
	res.EffectSD = fptr(math.Abs(res.Effect) / sd)
	return res, nil
}

// printPlan prints a plan as text.
func printPlan(w io.Writer, r *planResult) {
	if r.Test == planMcNemar {
		disc := r.DiscordanceSource
		if r.Discordance != nil {
			disc = fmt.Sprintf("%.4g (%s)", *r.Discordance, r.DiscordanceSource)
		}
		fmt.Fprintf(w, "baseline pass rate %.4g (%s), discordance %s\n", *r.Baseline, r.Source, disc)
	} else {
		name := "paired t-test (noncentral t, as R's power.t.test(type = \"paired\"))"
		if r.Test == report.MDENormal {
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
	if r.Test != planMcNemar {
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
}

type estimate struct {
	run, judge, a, b string
	n, epochs        int
	baseline         float64
	discordance      float64
	rho              float64
}

// estimateFromRun reads a run's first two variants' verdicts of one judge.
func estimateFromRun(dir, judge string) (estimate, error) {
	m, err := results.ReadManifest(dir)
	if err != nil {
		return estimate{}, err
	}
	est := estimate{run: m.RunID, judge: judge, discordance: math.NaN(), rho: math.NaN()}
	if est.judge == "" {
		for _, j := range m.Judges {
			if j.Type != "pairwise" {
				est.judge = j.Name
				break
			}
		}
	}
	if est.judge == "" || len(m.Variants) == 0 {
		return est, fmt.Errorf("run %s has no judge and variant to plan from", dir)
	}
	est.a = m.Variants[0].Name
	if len(m.Variants) > 1 {
		est.b = m.Variants[1].Name
	}
	type cell struct{ a, b []float64 }
	cells := map[string]*cell{}
	epochs := map[int32]bool{}
	err = results.ReadScores(filepath.Join(dir, results.ScoresFile), func(s results.Score) error {
		if s.Judge != est.judge || s.OtherVariant != nil || s.Status != results.ScoreOK || s.Pass == nil {
			return nil
		}
		c := cells[s.ExampleID]
		if c == nil {
			c = &cell{}
			cells[s.ExampleID] = c
		}
		epochs[s.Epoch] = true
		switch s.Variant {
		case est.a:
			c.a = append(c.a, b2f(*s.Pass))
		case est.b:
			c.b = append(c.b, b2f(*s.Pass))
		}
		return nil
	})
	if err != nil {
		return est, err
	}
	est.epochs = len(epochs)
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
		ma, mb := mean(c.a), mean(c.b)
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
		return est, fmt.Errorf("run %s: judge %s has no pass/fail verdicts for %s", dir, est.judge, est.a)
	}
	est.n = len(ids)
	est.baseline = passA / nA
	if paired > 0 && est.b != "" && est.epochs <= 1 {
		est.discordance = disc / paired
	}
	if len(diffClusters) > 1 {
		est.rho = stats.RepeatCorrelation(diffClusters)
	}
	return est, nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
