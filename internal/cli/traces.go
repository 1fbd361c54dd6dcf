package cli

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/gavel-eval/gavel/report"
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
}

// newTracesCmd is gavel traces. RunE fills opts and checks them, then
// calls runF (runTraces when nil).
func newTracesCmd(env *Env, runF func(context.Context, *Env, *tracesOptions) error) *cobra.Command {
	opts := &tracesOptions{}
	cmd := &cobra.Command{
		Use:   "traces RUN",
		Short: "Print a stored run's traces as trees: spans, durations, statuses and errors",
		Long: `Traces prints the traces of a stored run in the terminal, one tree per
variant × example × epoch, in the run's order. The header line of a trace
gives its variant, example id, epoch, total duration, status (error when
a span or the result failed) and trace id. Below it, every span sits under its parent,
siblings by start time: name, kind, duration and status; model calls add
the model, tokens (prompt→completion, "~" when estimated), cost, retries
and cache hits; judges, which are roots of their own in the trace, add the
judge type, score, pass or fail and label. A failed span prints its error
on the next line. --full adds each span's input and output.

Without --example, the first --limit matching traces are printed and a
last line says how many more matched. Every text read from the run is
printed with control characters and escape sequences escaped (\u001b, \r,
\u202e, ...), so no model output can move the cursor, recolour the
terminal or rewrite earlier lines.`,
		Example: `  $ gavel traces runs/nightly
  $ gavel traces runs/nightly --example q07
  $ gavel traces runs/ab --variant candidate --errors --full
  $ gavel traces runs/nightly --limit 0 --width 0 | less`,
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
	return cmd
}

// runTraces prints the trace trees of the run opts name.
func runTraces(_ context.Context, env *Env, opts *tracesOptions) error {
	f := report.TraceFilter{Variants: opts.variants, Example: opts.example, ErrorsOnly: opts.errorsOnly, Limit: opts.limit}
	if opts.epochSet {
		epoch := opts.epoch
		f.Epoch = &epoch
	}
	if opts.example != "" && !opts.limitSet {
		f.Limit = 0 // one example: all its variants and epochs
	}
	o := report.TreeOptions{
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
