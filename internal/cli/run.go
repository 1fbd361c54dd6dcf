package cli

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gavel-eval/gavel/eval"
	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/report"
)

// runOptions are what gavel run's flags and argument say.
type runOptions struct {
	spec        string // the spec file; empty with --resume
	out         string
	runID       string
	concurrency int
	limit       int
	repeat      int
	variants    []string
	check       checkFlags
	resume      string
	retryErrors bool
	maxCost     float64
	maxTokens   int64
	grace       time.Duration
	dryRun      bool
	cache       cacheFlags
}

// newRunCmd is gavel run. RunE fills opts and checks them, then calls
// runF (runRun when nil).
func newRunCmd(env *Env, runF func(context.Context, *Env, *runOptions) error) *cobra.Command {
	opts := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run SPEC",
		Short: "Run an evaluation: dataset × variants through the chain, judged, stored as Parquet",
		Long: `Run reads the spec (gavel.yaml), checks the whole dataset and every template
before any model call, runs every example through the chain for every
variant (and epoch), scores each output with the spec's judges, and writes
the run directory: manifest.json, results.parquet, scores.parquet and
traces.parquet. It prints a summary per variant; the last line of stdout is
the run directory.`,
		Example: `  $ gavel run examples/arithmetic/gavel.yaml
  $ gavel run gavel.yaml --out runs/pr-123 --concurrency 32 --limit 50
  $ gavel run gavel.yaml --variant candidate --repeat 3`,
		Args: func(cmd *cobra.Command, args []string) error {
			if opts.resume != "" {
				if len(args) != 0 {
					return withExitCode(errors.New("--resume takes the run directory, and the run's own spec: give no spec file"), ExitError)
				}
				return nil
			}
			if len(args) != 1 {
				return withExitCode(fmt.Errorf("run takes one spec file, got %d arguments", len(args)), ExitError)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.spec = args[0]
			}
			if opts.retryErrors && opts.resume == "" {
				return withExitCode(errors.New("--retry-errors goes with --resume RUN_DIR"), ExitError)
			}
			if opts.maxCost < 0 || opts.maxTokens < 0 {
				return withExitCode(errors.New("--max-cost and --max-tokens must not be negative"), ExitError)
			}
			if opts.concurrency < 0 || opts.limit < 0 || opts.repeat < 0 {
				return withExitCode(errors.New("--concurrency, --limit and --repeat must not be negative"), ExitError)
			}
			if runF != nil {
				return runF(cmd.Context(), env, opts)
			}
			return runRun(cmd.Context(), env, opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.out, "out", "o", "", "write the run into exactly this `dir` (default runs/<run-id>)")
	f.StringVar(&opts.runID, "run-id", "", "use this run `id` instead of a generated time-based one")
	f.IntVarP(&opts.concurrency, "concurrency", "c", 0, "examples in flight at once (default: the spec's, else 8)")
	f.IntVar(&opts.limit, "limit", 0, "run only the first `n` examples")
	f.IntVar(&opts.repeat, "repeat", 0, "run every example `n` times (epochs)")
	f.StringArrayVar(&opts.variants, "variant", nil, "run only this variant (repeatable)")
	opts.check.register(f)
	opts.cache.register(f)
	f.StringVar(&opts.resume, "resume", "", "finish the interrupted run in `dir`: keep what it stored, run exactly what is missing")
	f.BoolVar(&opts.retryErrors, "retry-errors", false, "with --resume, also run again the results that ended in an error")
	f.Float64Var(&opts.maxCost, "max-cost", 0, "stop cleanly (resumable) once the run has cost this many `USD`")
	f.Int64Var(&opts.maxTokens, "max-tokens", 0, "stop cleanly (resumable) once the run has used this many `tokens`")
	f.BoolVar(&opts.dryRun, "dry-run", false, "render every prompt and print the calls, tokens and cost the run would make, calling no model")
	f.DurationVar(&opts.grace, "grace", 30*time.Second, "on Ctrl-C, how long examples in flight may take to finish")
	return cmd
}

// runRun runs (or resumes, or estimates) the evaluation opts describe.
func runRun(ctx context.Context, env *Env, opts *runOptions) error {
	var spec *eval.Spec
	var err error
	if opts.resume == "" {
		if spec, err = eval.LoadSpec(opts.spec, eval.LoadOptions{}); err != nil {
			return withExitCode(err, ExitError)
		}
		if err := opts.check.addPrices(spec); err != nil {
			return withExitCode(err, ExitError)
		}
	}
	// Everything the flags name is checked before the first call.
	judgeSpec := spec
	if judgeSpec == nil {
		// Resuming: the run's own spec (a run that cannot be read is
		// reported by Resume).
		judgeSpec, _ = storedSpec(opts.resume)
	}
	var judgeNames []string
	if judgeSpec != nil {
		judgeNames = specJudges(judgeSpec, nil)
	}
	if err := opts.check.preflight(judgeNames); err != nil {
		return withExitCode(err, ExitError)
	}
	// Ctrl-C closes env.Drain: no new examples start, those in flight get
	// the grace period, then ctx is cancelled; everything stored stays.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-env.Drain:
		case <-finished:
			return
		}
		t := time.NewTimer(opts.grace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-finished:
		}
	}()
	oc, err := opts.cache.open(env)
	if err != nil {
		return withExitCode(err, ExitError)
	}
	cacheClosed := false
	closeCache := func() error {
		if cacheClosed {
			return nil
		}
		cacheClosed = true
		return oc.finish()
	}
	defer closeCache()
	// --dry-run --shards N, without --shard: every shard's estimate.
	perShard := opts.dryRun && opts.check.shard == "" && opts.check.shards > 0
	shardFlag, shards := opts.check.shard, opts.check.shards
	if perShard {
		shards = 0
	}
	shard, err := parseShard(shardFlag, shards, env.Getenv)
	if err != nil {
		return withExitCode(err, ExitError)
	}
	if shard != nil {
		shard.LimitsWhole = opts.check.whole
	}
	ro := eval.Options{
		Shard:       shard,
		Cache:       oc.cache,
		CacheMode:   oc.mode,
		Drain:       env.Drain,
		MaxCostUSD:  opts.maxCost,
		MaxTokens:   opts.maxTokens,
		Out:         opts.out,
		RunID:       opts.runID,
		Concurrency: opts.concurrency,
		Limit:       opts.limit,
		Repeat:      opts.repeat,
		Variants:    opts.variants,
		Getenv:      env.Getenv,
		Now:         env.Now,
		Progress:    newProgress(env),
		Tool:        results.Tool{Name: "gavel", Version: env.Version, Commit: env.Commit},
	}
	if ro.Tool.Version == "" {
		ro.Tool.Version = "(devel)"
	}
	if opts.dryRun {
		if spec == nil {
			return withExitCode(errors.New("--dry-run needs a spec, not --resume"), ExitError)
		}
		if perShard {
			for i := 1; i <= opts.check.shards; i++ {
				ro.Shard = &results.Shard{Index: i, Count: opts.check.shards}
				est, err := eval.DryRun(ctx, spec, ro, oc.cache)
				if err != nil {
					return withExitCode(err, ExitError)
				}
				fmt.Fprintf(env.Stdout, "shard %d/%d: ", i, opts.check.shards)
				if err := printEstimate(env, est); err != nil {
					return err
				}
				fmt.Fprintln(env.Stdout)
			}
			return nil
		}
		est, err := eval.DryRun(ctx, spec, ro, oc.cache)
		if err != nil {
			return withExitCode(err, ExitError)
		}
		return printEstimate(env, est)
	}
	var out *eval.Outcome
	var runErr error
	if opts.resume != "" {
		out, runErr = eval.Resume(ctx, opts.resume, eval.ResumeOptions{Options: ro, RetryErrors: opts.retryErrors})
	} else {
		out, runErr = eval.Run(ctx, spec, ro)
	}
	if err := closeCache(); err != nil && runErr == nil {
		runErr = err
	}
	if le := lockedError(runErr); le != nil {
		return le
	}
	if err := finishRun(env, out, runErr); err != nil {
		return err
	}
	exportAfterRun(ctx, env, opts.check.otlp, out.Dir)
	return opts.check.gateRun(env, spec, out.Dir)
}

// emitGates prints the comparison (when there is a baseline) and the gates
// to stderr, and returns ExitGateFailed when one failed.
func emitGates(env *Env, r *report.Report, withComparison bool) error {
	if withComparison {
		if err := report.Render(env.Stderr, r, report.FormatText, report.RenderOptions{MaxExamples: 3}); err != nil {
			return withExitCode(err, ExitError)
		}
	} else {
		for _, g := range r.Gates {
			status := "PASS"
			if !g.Passed {
				status = "FAIL"
			}
			fmt.Fprintf(env.Stderr, "gate %s  %s on %s: %s\n", status, g.Gate, g.Variant, g.Detail)
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

// printEstimate prints a dry run's calls, tokens and cost.
func printEstimate(env *Env, est *eval.DryRunEstimate) error {
	w := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(env.Stdout, "dry run: %d examples × %d epochs, no model called\n\n", est.Examples, est.Epochs)
	fmt.Fprintln(w, "\tmodel\tcalls\tcache hits\ttokens in\ttokens out\tcost $\t")
	var total float64
	known := true
	row := func(kind string, c eval.CallEstimate) {
		cost := "n/a"
		if c.CostUSD != nil {
			cost = fmt.Sprintf("%.4f", *c.CostUSD)
			total += *c.CostUSD
		} else if c.Calls > c.CacheHits {
			known = false
		}
		fmt.Fprintf(w, "%s %s\t%s\t%d\t%d\t%d\t%d\t%s\t\n", kind, c.Name, c.Model, c.Calls, c.CacheHits, c.PromptTokens, c.CompletionTokens, cost)
	}
	for _, v := range est.Variants {
		row("variant", v)
	}
	for _, j := range est.Judges {
		row("judge", j)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	suffix := ""
	if !known {
		suffix = " (plus calls to models with no known price)"
	}
	fmt.Fprintf(env.Stdout, "\ntotal estimated cost: $%.4f%s\n", total, suffix)
	for _, n := range est.Notes {
		fmt.Fprintln(env.Stdout, "note: "+n)
	}
	return nil
}
