package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gavel-eval/gavel/eval"
	"github.com/gavel-eval/gavel/eval/gates"
	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/report"
	"github.com/gavel-eval/gavel/report/stats"
)

// statFlags choose the statistics of paired comparisons: the p-value
// adjustment and Wilcoxon's zero method (gavel report, compare, run and
// score).
type statFlags struct {
	pAdjust     string
	zeroMethod  string
	alternative string
	test        string
	errorsAs    string
}

func (s *statFlags) register(f *pflag.FlagSet) {
	s.pAdjust, s.zeroMethod = "holm", "wilcox"
	f.Var(choiceValue{&s.pAdjust, stats.PAdjustMethods}, "p-adjust",
		"p-value `adjustment` over every comparison and judge of the report: holm, hochberg, bh, by, bonferroni or none")
	f.Var(choiceValue{&s.zeroMethod, []string{"wilcox", "pratt", "zsplit"}}, "zero-method",
		"Wilcoxon's treatment of zero differences: wilcox (drop them), pratt or zsplit")
	s.alternative, s.test, s.errorsAs = string(stats.TwoSided), string(report.TestAuto), string(report.ErrorsSkip)
	f.Var(choiceValue{&s.alternative, []string{string(stats.TwoSided), string(stats.Greater), string(stats.Less)}}, "alternative",
		"`alternative` of every paired test on B − A: two-sided, greater (B better) or less (B worse)")
	f.Var(choiceValue{&s.test, []string{string(report.TestAuto), string(report.TestWilcoxon), string(report.TestT), string(report.TestSign)}}, "test",
		"paired `test` of every judge: auto (McNemar for pass/fail over one epoch, else Wilcoxon), wilcoxon, t (paired t-test) or sign")
	f.Var(choiceValue{&s.errorsAs, []string{string(report.ErrorsSkip), string(report.ErrorsFail)}}, "errors-as",
		"what a result whose chain errored counts as for every judge: skip (left out) or fail (score 0, pass false)")
}

// options fills the statistics fields of o.
func (s *statFlags) options(o report.Options) report.Options {
	o.PAdjust, o.ZeroMethod = s.pAdjust, s.zeroMethod
	o.Alternative, o.Test, o.ErrorsAs = stats.Alternative(s.alternative), report.Test(s.test), report.ErrorsAs(s.errorsAs)
	return o
}

// choiceValue is a string flag that must be one of choices (checked as the
// flag is parsed, so a bad one is a usage error before any work).
type choiceValue struct {
	val     *string
	choices []string
}

func (c choiceValue) String() string {
	if c.val == nil {
		return ""
	}
	return *c.val
}

func (c choiceValue) Set(s string) error {
	if !slices.Contains(c.choices, s) {
		return fmt.Errorf("%q: want one of %s", s, strings.Join(c.choices, ", "))
	}
	*c.val = s
	return nil
}

func (c choiceValue) Type() string { return "string" }

// outputFlags are the format flags shared by report and compare.
type outputFlags struct {
	formats []string // FORMAT or FORMAT=FILE
	out     string
	top     int
	mde     report.MDEMethod // report.MDEPairedT or report.MDENormal
}

func (o *outputFlags) register(f *pflag.FlagSet) {
	f.Var(formatsValue{&o.formats}, "format", "output `format`: text, markdown, json, junit or html; FORMAT=FILE writes it to FILE (repeatable)")
	f.StringVarP(&o.out, "output", "o", "", "write the (single) format to this `file` instead of stdout")
	f.IntVar(&o.top, "top", 5, "regressions and improvements shown per judge")
	registerMDEMethod(f, &o.mde)
}

// registerMDEMethod adds --mde-method, how the minimum detectable effect
// of a judge with scores is computed: t (the paired t-test, the default)
// or normal (the normal approximation). Pass/fail judges always use
// McNemar's planning formula.
func registerMDEMethod(f *pflag.FlagSet, method *report.MDEMethod) {
	*method = report.MDEPairedT
	f.Var(mdeMethodValue{method}, "mde-method", "minimum detectable effect of judges with scores: t (paired t-test, noncentral t on n-1 df) or normal ((z+z)·sd/√n); pass/fail judges use McNemar's formula")
}

// mdeMethodValue is --mde-method, checked as the flag is parsed.
type mdeMethodValue struct{ method *report.MDEMethod }

func (m mdeMethodValue) String() string {
	if m.method == nil || *m.method == report.MDEPairedT {
		return "t"
	}
	return string(*m.method)
}

func (m mdeMethodValue) Set(s string) error {
	switch report.MDEMethod(s) {
	case "t", report.MDEPairedT:
		*m.method = report.MDEPairedT
	case report.MDENormal:
		*m.method = report.MDENormal
	default:
		return fmt.Errorf("%q: the MDE method is t or normal", s)
	}
	return nil
}

func (m mdeMethodValue) Type() string { return "string" }

// formatsValue is a repeatable --format flag (FORMAT or FORMAT=FILE) whose
// FORMAT is checked as the flag is parsed, so that a bad one is a usage
// error before any work.
type formatsValue struct{ vals *[]string }

func (f formatsValue) String() string {
	if f.vals == nil {
		return ""
	}
	return strings.Join(*f.vals, ",")
}

func (f formatsValue) Set(s string) error {
	name, file, hasFile := strings.Cut(s, "=")
	if _, err := report.ParseFormat(name); err != nil {
		return err
	}
	if hasFile && file == "" {
		return fmt.Errorf("%q: name the file after =, or give the format alone for stdout", s)
	}
	*f.vals = append(*f.vals, s)
	return nil
}

func (f formatsValue) Type() string { return "stringArray" }

// checkFlags are the flags gavel run and gavel score share: the report
// formats written after the run, the gates, and the baseline run the gates
// compare against.
type checkFlags struct {
	formats  []string
	gates    gateFlags
	stats    statFlags
	baseline string
	mde      report.MDEMethod // report.MDEPairedT or report.MDENormal
	otlp     string           // --otlp-endpoint: export the run's traces there
	prices   string           // --prices-file: more prices, LiteLLM's layout
	shard    string           // --shard I/N or auto
	shards   int              // --shards N, with --shard auto
	whole    bool             // --shard-whole-limits
}

func (c *checkFlags) register(f *pflag.FlagSet) {
	f.StringVar(&c.baseline, "baseline", "", "compare with this stored run `dir` (each variant with the one of the same name) and check the gates against it")
	f.Var(formatsValue{&c.formats}, "format", "after the run, also write the report in this `format` (FORMAT=FILE; see gavel report)")
	f.StringVar(&c.shard, "shard", "", "run only shard `I/N` of the examples (1/4 is the first of 4; by a hash of the example id), or auto: from JOB_COMPLETION_INDEX with --shards, or CI_NODE_INDEX and CI_NODE_TOTAL")
	f.BoolVar(&c.whole, "shard-whole-limits", false, "with --shard, apply the spec's rate limits in full rather than the shard's share (1/N of each)")
	f.IntVar(&c.shards, "shards", 0, "with --shard auto in a Kubernetes Indexed Job, the `N` of shards (the Job's completions)")
	f.StringVar(&c.prices, "prices-file", "", "price models the spec does not price from this `file` (LiteLLM's JSON layout, like the spec's prices_file)")
	f.StringVar(&c.otlp, "otlp-endpoint", "", "after the run, send its traces and scores to this OTLP/HTTP `URL` (as gavel export; default $OTEL_EXPORTER_OTLP_ENDPOINT when set)")
	// --max-cost is gavel run's budget, so the cost gate is --gate-max-cost.
	c.gates.registerAs(f, "gate-max-cost")
	registerMDEMethod(f, &c.mde)
	c.stats.register(f)
}

// addPrices adds the prices of the --prices-file to spec: under the ones
// the spec sets (prices, prices_file), over the built-in table.
func (c *checkFlags) addPrices(spec *eval.Spec) error {
	if c.prices == "" || spec == nil {
		return nil
	}
	table, err := llm.ReadPricesFile(c.prices)
	if err != nil {
		return fmt.Errorf("--prices-file: %w", err)
	}
	if spec.Prices == nil {
		spec.Prices = map[string]llm.Price{}
	}
	for k, v := range table {
		if _, ok := spec.Prices[k]; !ok {
			spec.Prices[k] = v
		}
	}
	return nil
}

// preflight checks, before any work, what the flags name: the baseline
// run, and the judges of flag gates against judges (the judges the run
// will have).
func (c *checkFlags) preflight(judges []string) error {
	if c.baseline != "" {
		if _, err := results.ReadManifest(c.baseline); err != nil {
			return fmt.Errorf("--baseline: %w", err)
		}
	}
	return c.gates.checkJudges(judges)
}

// gateRun checks the gates of a finished run (the spec's, or the stored
// spec's when spec is nil, and the flags') — against the baseline when
// given, else within the run — and writes the formats. With no gate, no
// baseline and no format it does nothing.
func (c *checkFlags) gateRun(env *Env, spec *eval.Spec, dir string) error {
	flagGates, err := c.gates.gates()
	if err != nil {
		return withExitCode(err, ExitError)
	}
	// With --no-spec-gates the flags' gates are checked as given.
	gates := flagGates
	if !c.gates.noSpecGates {
		var sg []report.Gate
		if spec != nil {
			sg = specGates(spec.Gates)
		} else if sg, err = storedSpecGates(dir); err != nil {
			return withExitCode(err, ExitError)
		}
		if gates, err = report.RunGates(dir, sg, flagGates); err != nil {
			return withExitCode(err, ExitError)
		}
	}
	if len(gates) == 0 && c.baseline == "" && len(c.formats) == 0 {
		return nil
	}
	var r *report.Report
	of := &outputFlags{formats: c.formats, top: 5}
	ropts := c.stats.options(report.Options{Gates: gates, MDEMethod: c.mde, HTML: of.pageOptions(env)})
	if c.baseline != "" {
		r, err = report.CompareRuns(c.baseline, dir, nil, ropts)
	} else {
		r, err = report.ForRun(dir, ropts)
	}
	if err != nil {
		return withExitCode(err, ExitError)
	}
	if len(c.formats) == 0 {
		// The summary is already printed; show the gates (and, against a
		// baseline, the comparison) on stderr so stdout's last line stays
		// the run directory.
		return emitGates(env, r, c.baseline != "")
	}
	return emit(env, r, of, []string{c.baseline, dir})
}

type target struct {
	format report.Format
	file   string
}

// pageOptions returns the options of the HTML page emit writes, when one
// of the targets is HTML (the report then reads the page's rows while it
// computes), or nil.
func (o *outputFlags) pageOptions(env *Env) *report.HTMLOptions {
	ts, err := o.targets()
	if err != nil {
		return nil // emit reports it
	}
	for _, t := range ts {
		if t.format == report.FormatHTML {
			return &report.HTMLOptions{Generator: generator(env)}
		}
	}
	return nil
}

func (o *outputFlags) targets() ([]target, error) {
	specs := o.formats
	if len(specs) == 0 {
		specs = []string{"text"}
	}
	if o.out != "" && len(specs) > 1 {
		return nil, errors.New("-o names one file: with several formats, write each as --format FORMAT=FILE")
	}
	var ts []target
	for _, s := range specs {
		name, file, _ := strings.Cut(s, "=")
		f, err := report.ParseFormat(name)
		if err != nil {
			return nil, err
		}
		if file == "" {
			file = o.out
		}
		ts = append(ts, target{f, file})
	}
	return ts, nil
}

// gateFlags set gates from the command line.
type gateFlags struct {
	minPassRate []string
	minMean     []string
	maxDrop     []string
	maxErrRate  string
	maxCost     string
	maxP95      string
	noSpecGates bool
}

func (g *gateFlags) register(f *pflag.FlagSet) { g.registerAs(f, "max-cost") }

// registerAs registers the gate flags, naming the cost gate costFlag (gavel
// run's --max-cost is its budget, so there the gate is --gate-max-cost).
func (g *gateFlags) registerAs(f *pflag.FlagSet, costFlag string) {
	f.StringArrayVar(&g.minPassRate, "min-pass-rate", nil, "gate: `JUDGE=RATE`, the lowest pass rate that passes (repeatable)")
	f.StringArrayVar(&g.minMean, "min-mean", nil, "gate: `JUDGE=SCORE`, the lowest mean score that passes (repeatable)")
	f.StringArrayVar(&g.maxDrop, "max-drop", nil, "gate: `JUDGE=DROP`, fail when the score drops by more than DROP and the drop is significant; a bare DROP gates every pass/fail judge (repeatable)")
	f.StringVar(&g.maxErrRate, "max-error-rate", "", "gate: the highest error rate that passes (`RATE` or JUDGE=RATE)")
	f.StringVar(&g.maxCost, costFlag, "", "gate: the highest cost per variant in `USD`")
	f.StringVar(&g.maxP95, "max-p95-latency-ms", "", "gate: the highest p95 chain latency in `ms`")
	f.BoolVar(&g.noSpecGates, "no-spec-gates", false, "ignore the gates of the run's spec")
}

func parseJudgeValue(flag, s string) (string, float64, error) {
	judge, val, ok := strings.Cut(s, "=")
	if !ok {
		val, judge = judge, ""
	}
	x, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
	if err != nil {
		return "", 0, fmt.Errorf("--%s %q: want JUDGE=NUMBER", flag, s)
	}
	return strings.TrimSpace(judge), x, nil
}

func (g *gateFlags) gates() ([]report.Gate, error) {
	var out []report.Gate
	add := func(flag string, vals []string, set func(*report.Gate, float64), needJudge bool) error {
		for _, s := range vals {
			j, x, err := parseJudgeValue(flag, s)
			if err != nil {
				return err
			}
			if needJudge && j == "" {
				return fmt.Errorf("--%s %q: name the judge, JUDGE=%s", flag, s, s)
			}
			gt := report.Gate{Judge: j}
			set(&gt, x)
			out = append(out, gt)
		}
		return nil
	}
	one := func(s string) []string {
		if s == "" {
			return nil
		}
		return []string{s}
	}
	if err := add("min-pass-rate", g.minPassRate, func(gt *report.Gate, x float64) { gt.MinPassRate = &x }, true); err != nil {
		return nil, err
	}
	if err := add("min-mean", g.minMean, func(gt *report.Gate, x float64) { gt.MinMean = &x }, true); err != nil {
		return nil, err
	}
	if err := add("max-drop", g.maxDrop, func(gt *report.Gate, x float64) { gt.MaxDrop = &x }, false); err != nil {
		return nil, err
	}
	if err := add("max-error-rate", one(g.maxErrRate), func(gt *report.Gate, x float64) { gt.MaxErrorRate = &x }, false); err != nil {
		return nil, err
	}
	if err := add("max-cost", one(g.maxCost), func(gt *report.Gate, x float64) { gt.MaxCost = &x }, false); err != nil {
		return nil, err
	}
	if err := add("max-p95-latency-ms", one(g.maxP95), func(gt *report.Gate, x float64) { gt.MaxP95LatencyMS = &x }, false); err != nil {
		return nil, err
	}
	return out, nil
}

// checkJudges checks that every judge a gate flag names is one of known,
// so that a typo is a usage error before any call rather than a failed
// gate after the run. known == nil means the judges are not known yet:
// only the flags' syntax is checked.
func (g *gateFlags) checkJudges(known []string) error {
	if _, err := g.gates(); err != nil || known == nil {
		return err
	}
	for _, fl := range []struct {
		name string
		vals []string
	}{{"min-pass-rate", g.minPassRate}, {"min-mean", g.minMean}, {"max-drop", g.maxDrop}, {"max-error-rate", []string{g.maxErrRate}}} {
		for _, s := range fl.vals {
			if s == "" {
				continue
			}
			j, _, _ := parseJudgeValue(fl.name, s)
			if j != "" && !slices.Contains(known, j) {
				return fmt.Errorf("--%s %s: no judge named %q (judges: %s)", fl.name, s, j, judgeList(known))
			}
		}
	}
	return nil
}

func judgeList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// specJudges returns the names of a spec's judges, or of those of them
// selected (when selected is not empty).
func specJudges(spec *eval.Spec, selected []string) []string {
	if len(selected) > 0 {
		return selected
	}
	out := make([]string, len(spec.Judges))
	for i, j := range spec.Judges {
		out[i] = j.Name
	}
	return out
}

// storedSpec parses the spec stored in a run's manifest; nil when it has
// none.
func storedSpec(dir string) (*eval.Spec, error) {
	m, err := results.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(m.Spec) == "" {
		return nil, nil
	}
	spec, err := eval.ParseSpec([]byte(m.Spec), m.SpecPath, eval.LoadOptions{Pinned: eval.PinsOf(m)})
	if err != nil {
		return nil, fmt.Errorf("the spec stored in run %s: %w", dir, err)
	}
	return spec, nil
}

// storedJudges returns the names of the judges a stored run has scores of.
func storedJudges(dir string) ([]string, error) {
	m, err := results.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(m.Judges))
	for i, j := range m.Judges {
		out[i] = j.Name
	}
	return out, nil
}

// specGates converts a spec's gates.
func specGates(gs []eval.GateSpec) []report.Gate { return gates.FromSpec(gs) }

// storedSpecGates are the gates of the spec stored in a run's manifest
// (nil when it stored none); report.RunGates keeps those that apply to the
// run.
func storedSpecGates(dir string) ([]report.Gate, error) {
	spec, err := storedSpec(dir)
	if err != nil {
		// A spec that no longer parses (a newer judge type, say) has
		// gates we cannot read; say so rather than guess.
		return nil, fmt.Errorf("%w (use --no-spec-gates)", err)
	}
	if spec == nil {
		return nil, nil
	}
	return specGates(spec.Gates), nil
}

// emit renders r to every target, writes the Markdown step summary when
// GITHUB_STEP_SUMMARY is set, and returns the exit status: a gate failure
// is ExitGateFailed with each failing gate printed.
func emit(env *Env, r *report.Report, of *outputFlags, runDirs []string) error {
	ts, err := of.targets()
	if err != nil {
		return withExitCode(err, ExitError)
	}
	opts := report.RenderOptions{MaxExamples: of.top, HTML: report.HTMLOptions{Generator: generator(env)}} // as pageOptions
	for _, t := range ts {
		if t.format == report.FormatJUnit {
			cases, err := junitCases(r, runDirs)
			if err != nil {
				return withExitCode(err, ExitError)
			}
			opts.JUnit = cases
		}
	}
	for _, t := range ts {
		o := opts
		if t.file == "" {
			o.Color = env.StdoutTTY && t.format == report.FormatText && env.Getenv("NO_COLOR") == ""
			if err := report.Render(env.Stdout, r, t.format, o); err != nil {
				return withExitCode(err, ExitError)
			}
			continue
		}
		if err := writeFile(t.file, func(f *os.File) error { return report.Render(f, r, t.format, o) }); err != nil {
			return withExitCode(err, ExitError)
		}
	}
	if path := env.Getenv("GITHUB_STEP_SUMMARY"); path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return withExitCode(fmt.Errorf("GITHUB_STEP_SUMMARY: %w", err), ExitError)
		}
		err = report.Render(f, r, report.FormatMarkdown, opts)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return withExitCode(fmt.Errorf("GITHUB_STEP_SUMMARY: %w", err), ExitError)
		}
	}
	if r.Failed() {
		for _, g := range r.Gates {
			if !g.Passed {
				fmt.Fprintf(env.Stderr, "gavel: gate failed: %s on %s: %s\n", g.Gate, g.Variant, g.Detail)
			}
		}
		return silentError{code: ExitGateFailed}
	}
	return nil
}

func writeFile(path string, fn func(*os.File) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

// reportOptions are what gavel report's flags and argument say.
type reportOptions struct {
	run    string
	output outputFlags
	gates  gateFlags
	stats  statFlags
}

// newReportCmd is gavel report. RunE fills opts, then calls runF
// (runReport when nil).
func newReportCmd(env *Env, runF func(context.Context, *Env, *reportOptions) error) *cobra.Command {
	opts := &reportOptions{}
	cmd := &cobra.Command{
		Use:   "report RUN",
		Short: "Report a stored run: per-variant figures with intervals, and every variant against the first",
		Long: `Report reads a stored run and prints, per variant and judge, the valid n,
the pass rate with its Wilson interval and the mean score with its interval,
the error counts, latency percentiles, tokens and cost; with several
variants, every variant is compared with the first (see gavel compare).
Gates from the run's spec and from flags are checked: exit 1 when one
fails. Formats: text, markdown, json, junit, html (several with FORMAT=FILE).
The html format is one self-contained page (no network) with the trace
table, each trace's timeline, the chain's architecture and charts.`,
		Example: `  $ gavel report runs/nightly
  $ gavel report runs/nightly --format markdown=summary.md --format junit=junit.xml
  $ gavel report runs/nightly --format json -o report.json
  $ gavel report runs/nightly --format html -o report.html`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.run = args[0]
			if runF != nil {
				return runF(cmd.Context(), env, opts)
			}
			return runReport(cmd.Context(), env, opts)
		},
	}
	opts.output.register(cmd.Flags())
	opts.gates.register(cmd.Flags())
	opts.stats.register(cmd.Flags())
	return cmd
}

// runReport reports the stored run opts name and checks its gates.
func runReport(_ context.Context, env *Env, opts *reportOptions) error {
	gates, err := collectGates(&opts.gates, opts.run)
	if err != nil {
		return withExitCode(err, ExitError)
	}
	r, err := report.ForRun(opts.run, opts.stats.options(report.Options{Gates: gates, TopK: opts.output.top, MDEMethod: opts.output.mde, HTML: opts.output.pageOptions(env)}))
	if err != nil {
		return withExitCode(err, ExitError)
	}
	return emit(env, r, &opts.output, []string{opts.run})
}

// collectGates returns the gates gavel report and compare check on the
// stored run in dir: the flags' (whose judges must be the run's) merged
// over its stored spec's, unless --no-spec-gates.
func collectGates(gf *gateFlags, dir string) ([]report.Gate, error) {
	flagGates, err := gf.gates()
	if err != nil {
		return nil, err
	}
	judges, err := storedJudges(dir)
	if err != nil {
		return nil, err
	}
	if err := gf.checkJudges(judges); err != nil {
		return nil, err
	}
	var sg []report.Gate
	if !gf.noSpecGates {
		if sg, err = storedSpecGates(dir); err != nil {
			return nil, err
		}
	}
	return report.RunGates(dir, sg, flagGates)
}

// compareOptions are what gavel compare's flags and arguments say.
type compareOptions struct {
	runs     []string // one run, or BASE_RUN NEW_RUN
	a, b     string
	variants []string
	output   outputFlags
	gates    gateFlags
	stats    statFlags
}

// newCompareCmd is gavel compare. RunE fills opts, then calls runF
// (runCompare when nil).
func newCompareCmd(env *Env, runF func(context.Context, *Env, *compareOptions) error) *cobra.Command {
	opts := &compareOptions{}
	cmd := &cobra.Command{
		Use:   "compare RUN --a VARIANT --b VARIANT | compare BASE_RUN NEW_RUN",
		Short: "Compare variants or runs on the same examples, with paired statistics and gates",
		Long: `Compare pairs results by example id (and epoch) and says, for every judge,
how large the difference is (mean paired difference with a bootstrap and a
normal-approximation 95% interval), how sure we are (exact McNemar test for
pass/fail judges, Wilcoxon signed-rank test otherwise, Holm–Bonferroni
adjusted across judges), the counts of examples that improved, regressed or
stayed equal, a verdict, the minimum detectable effect at this n, and the
examples that got worse, with both outputs and trace ids. Examples present
on one side only are counted and listed.

With one run: --a and --b name the variants; without them every variant is
compared with the first. With two runs: each variant of NEW_RUN is compared
with the variant of the same name in BASE_RUN (--variant limits them).

Gates from the new run's spec and from flags are checked. Exit codes: 0
every gate held, 1 a gate failed (each failing gate is printed with its
numbers), 2 usage or input error.`,
		Example: `  $ gavel compare runs/ab --a baseline --b candidate
  $ gavel compare runs/main runs/pr-123 --max-drop correct=0.02 --format markdown=pr.md --format junit=junit.xml
  $ gavel compare runs/ab --a baseline --b candidate --format html -o ab.html`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.runs = args
			if runF != nil {
				return runF(cmd.Context(), env, opts)
			}
			return runCompare(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().StringVarP(&opts.a, "a", "a", "", "the baseline `variant` (one run)")
	cmd.Flags().StringVarP(&opts.b, "b", "b", "", "the candidate `variant` (one run)")
	cmd.Flags().StringArrayVar(&opts.variants, "variant", nil, "with two runs, compare only this variant (repeatable)")
	opts.output.register(cmd.Flags())
	opts.gates.register(cmd.Flags())
	opts.stats.register(cmd.Flags())
	return cmd
}

// runCompare compares what opts name and checks the new run's gates. The
// checks of --a and --b come after the gates are read, as they always
// have: a run that cannot be read is the error reported first.
func runCompare(_ context.Context, env *Env, opts *compareOptions) error {
	var r *report.Report
	args, a, b := opts.runs, opts.a, opts.b
	gateDir := args[len(args)-1]
	gates, err := collectGates(&opts.gates, gateDir)
	if err != nil {
		return withExitCode(err, ExitError)
	}
	ropts := opts.stats.options(report.Options{Gates: gates, TopK: opts.output.top, MDEMethod: opts.output.mde, HTML: opts.output.pageOptions(env)})
	switch {
	case len(args) == 2:
		if a != "" || b != "" {
			return withExitCode(errors.New("--a/--b compare variants within one run; with two runs, use --variant"), ExitError)
		}
		r, err = report.CompareRuns(args[0], args[1], opts.variants, ropts)
	case a != "" || b != "":
		if a == "" || b == "" {
			return withExitCode(errors.New("give both --a and --b"), ExitError)
		}
		r, err = report.CompareVariants(args[0], a, b, ropts)
	default:
		r, err = report.ForRun(args[0], ropts)
		if err == nil && len(r.Comparisons) == 0 {
			err = fmt.Errorf("run %s has one variant: nothing to compare (use gavel report, or compare two runs)", args[0])
		}
	}
	if err != nil {
		return withExitCode(err, ExitError)
	}
	return emit(env, r, &opts.output, args)
}

// junitCases collects the per-row test cases of the report's variants.
func junitCases(r *report.Report, dirs []string) ([]report.JUnitCase, error) {
	gated := map[string]bool{}
	for _, c := range r.Comparisons {
		gated[c.B] = true
	}
	var cases []report.JUnitCase
	for _, v := range r.Variants {
		if len(gated) > 0 && !gated[v.Name] {
			continue
		}
		dir := ""
		for _, run := range r.Runs {
			if run.RunID == v.Run {
				dir = run.Dir
			}
		}
		cs, err := report.JUnitCasesFromRun(dir, []string{v.Variant})
		if err != nil {
			return nil, err
		}
		for i := range cs {
			cs[i].Variant = v.Name
		}
		cases = append(cases, cs...)
	}
	return cases, nil
}
