package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/spf13/cobra"

	"github.com/gavel-eval/gavel/report"
	"github.com/gavel-eval/gavel/report/stats"
)

// planOptions holds what the flags of gavel plan say.
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
	// discordanceSet and rhoSet say whether --discordance and --rho were
	// given (else a run's estimates may replace them).
	discordanceSet, rhoSet bool
}

// newPlanCmd builds gavel plan; runF, when set, runs in place of runPlan
// (tests use it to see what the flags parse to).
func newPlanCmd(env *Env, runF func(context.Context, *Env, *planOptions) error) *cobra.Command {
	if runF == nil {
		runF = runPlan
	}
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
			o.discordanceSet, o.rhoSet = cmd.Flags().Changed("discordance"), cmd.Flags().Changed("rho")
			return withExitCode(runF(cmd.Context(), env, o), ExitError)
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
	f.StringVar(&o.test, "test", report.PlanMcNemar, "the `test` planned: mcnemar (pass/fail), t (paired t-test on scores) or normal (its normal approximation)")
	f.Float64Var(&o.sd, "sd", 0, "with --test t|normal, the standard deviation of the per-example differences B - A")
	f.IntVar(&o.n, "n", 0, "the examples available: print the minimum detectable effect (or, with --test t|normal and --delta, the power)")
	f.BoolVar(&o.oneSided, "one-sided", false, "with --test t|normal, a one-sided test (power.t.test's alternative = \"one.sided\")")
	f.BoolVar(&o.strict, "strict", false, "with --test t, count both tails of the two-sided test (power.t.test's strict = TRUE)")
	f.StringVar(&o.format, "format", "text", "output `format`: text or json")
	return cmd
}

// runPlan computes the plan the options describe (report.Plan) and prints
// it.
func runPlan(_ context.Context, env *Env, o *planOptions) error {
	if o.format != "text" && o.format != "json" {
		return fmt.Errorf("--format %q: plan prints text or json", o.format)
	}
	po := report.PlanOptions{Test: o.test, Baseline: o.baseline, Effect: o.effect, Discordance: o.discordance,
		Repeats: o.repeats, Rho: o.rho, Alpha: o.alpha, Power: o.power, From: o.from, Judge: o.judge,
		SD: o.sd, N: o.n, OneSided: o.oneSided, Strict: o.strict}
	if !o.discordanceSet {
		po.Discordance = math.NaN()
	}
	if !o.rhoSet {
		po.Rho = math.NaN()
	}
	res, err := report.Plan(po)
	if err != nil {
		return err
	}
	if o.format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return res.WriteText(env.Stdout)
}
