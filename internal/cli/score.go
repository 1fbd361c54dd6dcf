package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"github.com/gavel-eval/gavel/eval"
	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/report"
)

// scoreOptions are what gavel score's flags say.
type scoreOptions struct {
	spec        string
	input       string
	run         string
	out         string
	runID       string
	concurrency int
	limit       int
	judges      []string
	strict      bool
	check       checkFlags
	traces      traceSelection
}

// newScoreCmd is gavel score. RunE checks opts, then calls runF
// (runScore when nil).
func newScoreCmd(env *Env, runF func(context.Context, *Env, *scoreOptions) error) *cobra.Command {
	opts := &scoreOptions{}
	cmd := &cobra.Command{
		Use:   "score (--spec SPEC --input FILE | --run RUN_DIR) [--out DIR]",
		Short: "Judge outputs that already exist: a file of outputs, or a stored run (re-grading)",
		Long: `Score runs judges over outputs that already exist, calling no chain, and
writes the same stored-run format as gavel run, so every report works on it.

With --input, the spec's score section says which field of each row is the
output (or which fields are several variants' outputs); the judges' expected
templates read the other fields. The file is streamed: memory stays flat
from a thousand rows to millions, and heuristic judges use every core.

A row whose output field is missing or null becomes a result with status
error and the reason, and the other rows are scored; --strict stops at the
first such row instead, before anything is scored.

With --run, the judges of the run's own spec (or of --spec) are run again
over its stored outputs into a new run that records which run it
re-graded; --judge picks some of them.

Gates (the spec's, and the same flags as gavel run) are checked after
scoring — against --baseline RUN_DIR when given, else within the run —
and --format writes reports: exit 1 when a gate fails.`,
		Example: `  $ gavel score --spec score.yaml --input outputs.jsonl
  $ gavel score --spec score.yaml --input outputs.jsonl --min-pass-rate correct=0.8 --format junit=junit.xml
  $ gavel score --run runs/20261122T024638Z-f8b0 --judge correct
  $ gavel score --run runs/base --spec stricter-judges.yaml --out runs/base-regraded`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.traces.dir != "" {
				if opts.input != "" || opts.run != "" {
					return withExitCode(errors.New("--traces scores collected spans: give it instead of --input or --run"), ExitError)
				}
				if opts.spec == "" {
					return withExitCode(errors.New("--traces needs --spec: the spec says which judges to run"), ExitError)
				}
				if opts.traces.sample <= 0 || opts.traces.sample > 1 {
					return withExitCode(errors.New("--sample-rate must be in (0, 1]"), ExitError)
				}
			} else if (opts.input == "") == (opts.run == "") {
				return withExitCode(errors.New("give either --input FILE (with --spec), --run RUN_DIR or --traces DIR"), ExitError)
			}
			if opts.input != "" && opts.spec == "" {
				return withExitCode(errors.New("--input needs --spec: the spec says which fields hold the outputs and which judges to run"), ExitError)
			}
			if opts.concurrency < 0 || opts.limit < 0 {
				return withExitCode(errors.New("--concurrency and --limit must not be negative"), ExitError)
			}
			if runF != nil {
				return runF(cmd.Context(), env, opts)
			}
			return runScore(cmd.Context(), env, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.spec, "spec", "", "the spec with the judges (and, for --input, the score section)")
	f.StringVar(&opts.input, "input", "", "a JSONL, CSV or Parquet `file` of outputs to score")
	f.StringVar(&opts.run, "run", "", "a stored run `dir` to re-grade")
	f.StringVarP(&opts.out, "out", "o", "", "write the run into exactly this `dir` (default runs/<run-id>)")
	f.StringVar(&opts.runID, "run-id", "", "use this run `id` instead of a generated one")
	f.IntVarP(&opts.concurrency, "concurrency", "c", 0, "rows judged at once (default: two per core)")
	f.IntVar(&opts.limit, "limit", 0, "score only the first `n` rows of --input")
	f.StringArrayVar(&opts.judges, "judge", nil, "run only this judge (repeatable)")
	f.StringVar(&opts.traces.dir, "traces", "", "score collected spans: a `dir` of span files (gavel collect, gavel import, observe) or a run's traces.parquet")
	f.StringVar(&opts.traces.kind, "span-kind", "", "with --traces, score the spans of this `kind` (llm, chain, retriever, ...) rather than the root spans")
	f.StringVar(&opts.traces.name, "span-name", "", "with --traces, score the spans of this `name` rather than the root spans")
	f.Float64Var(&opts.traces.sample, "sample-rate", 1, "with --traces, score this share of the traces (`rate` in (0, 1], chosen by a hash of the trace id)")
	f.BoolVar(&opts.strict, "strict", false, "stop at the first row whose output field is missing or null, instead of storing it as an error")
	opts.check.register(f)
	return cmd
}

// runScore judges the outputs opts name and checks the gates.
func runScore(ctx context.Context, env *Env, opts *scoreOptions) error {
	var spec *eval.Spec
	if opts.spec != "" {
		var err error
		if spec, err = eval.LoadSpec(opts.spec, eval.LoadOptions{}); err != nil {
			return withExitCode(err, ExitError)
		}
		if err := opts.check.addPrices(spec); err != nil {
			return withExitCode(err, ExitError)
		}
	}
	if opts.traces.dir != "" {
		tmp, err := os.MkdirTemp("", "gavel-traces-")
		if err != nil {
			return withExitCode(err, ExitError)
		}
		defer os.RemoveAll(tmp)
		path, n, err := extractTraces(opts.traces, tmp)
		if err != nil {
			return withExitCode(err, ExitError)
		}
		fmt.Fprintf(env.Stderr, "gavel: scoring %d spans of %s\n", n, opts.traces.dir)
		traceSpec(spec, opts.traces)
		opts.input = path
	}
	// Everything the flags name is checked before the first judge call.
	judgeSpec := spec
	if judgeSpec == nil && opts.run != "" {
		judgeSpec, _ = storedSpec(opts.run) // an unreadable run is reported by Score
	}
	var judgeNames []string
	if judgeSpec != nil {
		judgeNames = specJudges(judgeSpec, opts.judges)
	}
	if err := opts.check.preflight(judgeNames); err != nil {
		return withExitCode(err, ExitError)
	}
	shard, err := parseShard(opts.check.shard, opts.check.shards, env.Getenv)
	if err != nil {
		return withExitCode(err, ExitError)
	}
	if shard != nil {
		shard.LimitsWhole = opts.check.whole
	}
	so := eval.ScoreOptions{
		Options: eval.Options{
			Shard: shard,
			Out:   opts.out, RunID: opts.runID, Concurrency: opts.concurrency, Limit: opts.limit,
			Getenv: env.Getenv, Now: env.Now, Progress: newProgress(env),
			Tool: results.Tool{Name: "gavel", Version: env.Version, Commit: env.Commit},
		},
		Input: opts.input, Run: opts.run, Judges: opts.judges, Strict: opts.strict, Traces: opts.traces.dir,
	}
	if so.Tool.Version == "" {
		so.Tool.Version = "(devel)"
	}
	out, err := eval.Score(ctx, spec, so)
	if err := finishRun(env, out, err); err != nil {
		return err
	}
	exportAfterRun(ctx, env, opts.check.otlp, out.Dir)
	// Without --spec the gates are the stored spec's, which report.RunGates
	// keeps to the judges the new run has.
	return opts.check.gateRun(env, selectedGates(spec, opts.judges), out.Dir)
}

// selectedGates returns spec with only the gates that apply when just the
// named judges were run (all of them when names is empty): gates on those
// judges and gates on no judge. The spec's gates on judges that were not
// run have no scores to read.
func selectedGates(spec *eval.Spec, names []string) *eval.Spec {
	if spec == nil || len(names) == 0 {
		return spec
	}
	c := *spec
	c.Gates = nil
	for _, g := range spec.Gates {
		if g.Judge == "" || slices.Contains(names, g.Judge) {
			c.Gates = append(c.Gates, g)
		}
	}
	return &c
}

// finishRun prints a finished run's summary and its directory (the last
// line of stdout), and maps its error to an exit code.
func finishRun(env *Env, out *eval.Outcome, runErr error) error {
	if out == nil {
		return withExitCode(runErr, ExitError)
	}
	if runErr != nil && !errors.Is(runErr, eval.ErrInterrupted) {
		fmt.Fprintln(env.Stderr, "gavel: "+runErr.Error())
		fmt.Fprintln(env.Stdout, out.Dir)
		return silentError{code: ExitError}
	}
	sum, err := report.Summarize(out.Dir)
	if err != nil {
		return withExitCode(err, ExitError)
	}
	m := out.Manifest
	what := "run"
	if m.Mode == eval.ModeScore || m.Mode == eval.ModeRegrade {
		what = "scored"
	}
	fmt.Fprintf(env.Stdout, "%s %s: %s, %d results (%d errors, %d judge errors) in %.1fs\n",
		what, m.RunID, m.Status, m.Totals.Results, m.Totals.Errors, m.Totals.JudgeErrors, m.Totals.DurationMS/1000)
	if t := m.Totals; t.CacheHits+t.CacheMisses > 0 {
		fmt.Fprintf(env.Stdout, "model calls: %d answered from the cache, %d sent\n", t.CacheHits, t.CacheMisses)
	}
	if m.RegradedFrom != "" {
		fmt.Fprintf(env.Stdout, "re-graded run %s\n", m.RegradedFrom)
	}
	fmt.Fprintln(env.Stdout)
	if err := report.WriteSummary(env.Stdout, sum); err != nil {
		return withExitCode(err, ExitError)
	}
	fmt.Fprintln(env.Stdout)
	if runErr != nil {
		fmt.Fprintln(env.Stderr, "gavel: "+runErr.Error())
		fmt.Fprintln(env.Stdout, out.Dir)
		return silentError{code: ExitInterrupted}
	}
	_, err = fmt.Fprintln(env.Stdout, out.Dir)
	return err
}
