package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gavel-eval/gavel/report"
	"github.com/gavel-eval/gavel/report/traffic"
)

// tracesOptions are what gavel traces's flags and argument say.
type tracesOptions struct {
	run        string
	example    string
	variants   []string
	epoch      int
	epochSet   bool // --epoch was given
	errorsOnly bool
	limit      int
	limitSet   bool // --limit was given
	full       bool
	width      int

	// Collected traffic (a directory of span files, or --dashboard).
	user, session, service, model string
	trace                         string
	dashboard                     bool
	per, by                       string
	scores                        []string
	pricesFile                    string
	format                        string
	html                          string
	join                          []string
}

// newTracesCmd is gavel traces. RunE fills opts and checks them, then
// calls runF (runTraces when nil).
func newTracesCmd(env *Env, runF func(context.Context, *Env, *tracesOptions) error) *cobra.Command {
	opts := &tracesOptions{}
	cmd := &cobra.Command{
		Use:   "traces RUN|DIR",
		Short: "Print a run's traces as trees, or the trace table and dashboard of collected traffic",
		Long: `Traces prints the traces of a stored run in the terminal, one tree per
variant × example × epoch, in the run's order. The header line of a trace
gives its variant, example id, epoch, total duration, status (error when
a span or the result failed) and trace id. Below it, every span sits under its parent,
siblings by start time: name, kind, duration and status; model calls add
the model, tokens (prompt→completion, "~" when estimated), cost, retries
and cache hits; judges, which are roots of their own in the trace, add the
judge type, score, pass or fail and label. A failed span prints its error
on the next line. --full adds each span's input and output. --join DIR
adds the spans collected from an application (gavel collect) that
continue these traces, under the http or exec step that called it.

Without --example, the first --limit matching traces are printed and a
last line says how many more matched. Every text read from the run is
printed with control characters and escape sequences escaped (\u001b, \r,
\u202e, ...), so no model output can move the cursor, recolour the
terminal or rewrite earlier lines.

Given a directory of collected spans instead of a run (gavel collect,
gavel import or the observe SDK write them), traces prints the trace
table of that traffic, newest first: start, trace id, root span,
service, user, session, model, spans, duration, tokens, cost and status,
with --user, --session, --service, --model and --errors to filter it and
--trace ID to print one trace as a tree. --scores RUN joins the scores of
a run of gavel score --traces to the traces they judged. --dashboard
prints the traffic over time instead: traces, error rate, tokens, cost,
latency percentiles (p50, p90, p95, p99; R's type 7) and mean scores per
--per hour or day (UTC), overall or --by model, user, session or
service. --dashboard works on a run's traces too. --format json prints
the same as JSON. --html FILE writes all of it as one self-contained
page (the trace table of the newest --limit traces with filters, their
timelines, and the dashboard); gavel view serves the same pages for
every directory of spans it finds.`,
		Example: `  $ gavel traces runs/nightly
  $ gavel traces runs/nightly --example q07
  $ gavel traces runs/ab --variant candidate --errors --full
  $ gavel traces runs/nightly --limit 0 --width 0 | less
  $ gavel traces traffic/ --user alice --errors
  $ gavel traces traffic/ --trace 4bf92f3577b34da6a3ce929d0e0e4736
  $ gavel traces traffic/ --dashboard --per day --by model --scores runs/online`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.run = args[0]
			opts.epochSet = cmd.Flags().Changed("epoch")
			opts.limitSet = cmd.Flags().Changed("limit")
			if opts.limit < 0 || opts.width < 0 {
				return withExitCode(errors.New("--limit and --width must not be negative"), ExitError)
			}
			if opts.epochSet && opts.epoch < 0 {
				return withExitCode(errors.New("--epoch must not be negative"), ExitError)
			}
			if err := checkTrafficFlags(opts); err != nil {
				return withExitCode(err, ExitError)
			}
			if runF != nil {
				return runF(cmd.Context(), env, opts)
			}
			return runTraces(cmd.Context(), env, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.example, "example", "", "only the traces of the example with this `ID` (all its variants and epochs)")
	fl.StringArrayVar(&opts.variants, "variant", nil, "only the traces of the variant `NAME` (repeatable)")
	fl.IntVar(&opts.epoch, "epoch", 0, "only the traces of epoch `N` (0-based; default every epoch)")
	fl.BoolVar(&opts.errorsOnly, "errors", false, "only the traces with a failed span or a failed result")
	fl.IntVar(&opts.limit, "limit", 20, "print at most `N` traces (0: all); with --example the default is all")
	fl.BoolVar(&opts.full, "full", false, "print each span's input and output")
	fl.IntVar(&opts.width, "width", 120, "cut lines longer than `N` characters, ending them with \"…\" (0: never)")
	fl.StringVar(&opts.user, "user", "", "collected traffic: only the traces of this user `id`")
	fl.StringVar(&opts.session, "session", "", "collected traffic: only the traces of this session `id`")
	fl.StringVar(&opts.service, "service", "", "collected traffic: only the traces of this service (service.name) `name`")
	fl.StringVar(&opts.model, "model", "", "collected traffic: only the traces that called this `model`")
	fl.StringVar(&opts.trace, "trace", "", "print the trace with this `id` as a tree")
	fl.BoolVar(&opts.dashboard, "dashboard", false, "print the traffic over time: traces, errors, tokens, cost, latency percentiles and scores")
	fl.StringVar(&opts.per, "per", "hour", "with --dashboard, buckets of one `period`: hour or day (UTC)")
	fl.StringVar(&opts.by, "by", "", "with --dashboard, one table per `group`: model, user, session or service")
	fl.StringArrayVar(&opts.scores, "scores", nil, "join the scores of this `run` (gavel score --traces) to the traces it judged (repeatable)")
	fl.StringVar(&opts.pricesFile, "prices-file", "", "price model calls that carry tokens but no cost from this `file` (LiteLLM's JSON layout) before the built-in prices")
	fl.StringVar(&opts.format, "format", "text", "collected traffic and --dashboard: text or json")
	fl.StringArrayVar(&opts.join, "join", nil, "draw the spans in this `dir` of collected traffic that continue the run's traces, under the steps that called them (repeatable)")
	fl.StringVar(&opts.html, "html", "", "write the traffic's HTML report to `file` (\"-\": standard output): trace table, timelines and dashboard")
	return cmd
}

// runTraces prints the trace trees of the run opts name.
func runTraces(ctx context.Context, env *Env, opts *tracesOptions) error {
	if opts.isTraffic() {
		return runTraffic(ctx, env, opts)
	}
	f := report.TraceFilter{Variants: opts.variants, Example: opts.example, ErrorsOnly: opts.errorsOnly, Limit: opts.limit}
	if opts.epochSet {
		epoch := opts.epoch
		f.Epoch = &epoch
	}
	if opts.example != "" && !opts.limitSet {
		f.Limit = 0 // one example: all its variants and epochs
	}
	var join []string
	for _, d := range opts.join {
		files, err := traffic.SpanFiles(d)
		if err != nil {
			return withExitCode(fmt.Errorf("--join: %w", err), ExitError)
		}
		join = append(join, files...)
	}
	o := report.TreeOptions{
		Join:     join,
		Full:     opts.full,
		Width:    opts.width,
		Color:    env.StdoutTTY && env.Getenv("NO_COLOR") == "",
		MoreHint: "see them all with --limit 0, or one example with --example ID",
	}
	if opts.example != "" {
		o.MoreHint = "see them all with --limit 0"
	}
	if _, err := report.WriteTraceTrees(env.Stdout, opts.run, f, o); err != nil {
		return withExitCode(err, ExitError)
	}
	return nil
}
