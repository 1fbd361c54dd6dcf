package cli

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/gavel-eval/gavel/report"
)

func newTracesCmd(env *Env) *cobra.Command {
	var (
		example  string
		variants []string
		epoch    int
		errOnly  bool
		limit    int
		full     bool
		width    int
	)
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
			if limit < 0 || width < 0 {
				return withExitCode(errors.New("--limit and --width must not be negative"), ExitError)
			}
			f := report.TraceFilter{Variants: variants, Example: example, ErrorsOnly: errOnly, Limit: limit}
			if cmd.Flags().Changed("epoch") {
				if epoch < 0 {
					return withExitCode(errors.New("--epoch must not be negative"), ExitError)
				}
				f.Epoch = &epoch
			}
			if example != "" && !cmd.Flags().Changed("limit") {
				f.Limit = 0 // one example: all its variants and epochs
			}
			o := report.TreeOptions{
				Full:     full,
				Width:    width,
				Color:    env.StdoutTTY && env.Getenv("NO_COLOR") == "",
				MoreHint: "see them all with --limit 0, or one example with --example ID",
			}
			if example != "" {
				o.MoreHint = "see them all with --limit 0"
			}
			if _, err := report.WriteTraceTrees(env.Stdout, args[0], f, o); err != nil {
				return withExitCode(err, ExitError)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&example, "example", "", "only the traces of the example with this `ID` (all its variants and epochs)")
	fl.StringArrayVar(&variants, "variant", nil, "only the traces of the variant `NAME` (repeatable)")
	fl.IntVar(&epoch, "epoch", 0, "only the traces of epoch `N` (0-based; default every epoch)")
	fl.BoolVar(&errOnly, "errors", false, "only the traces with a failed span or a failed result")
	fl.IntVar(&limit, "limit", 20, "print at most `N` traces (0: all); with --example the default is all")
	fl.BoolVar(&full, "full", false, "print each span's input and output")
	fl.IntVar(&width, "width", 120, "cut lines longer than `N` characters, ending them with \"…\" (0: never)")
	return cmd
}
