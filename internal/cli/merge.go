package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/spf13/cobra"

	"github.com/gavel-eval/gavel/eval"
	"github.com/gavel-eval/gavel/eval/results"
)

// mergeOptions are what gavel merge's flags and arguments say.
type mergeOptions struct {
	shards       []string
	out          string
	allowPartial bool
}

// newMergeCmd is gavel merge. RunE fills opts, then calls runF (runMerge
// when nil).
func newMergeCmd(env *Env, runF func(context.Context, *Env, *mergeOptions) error) *cobra.Command {
	opts := &mergeOptions{}
	cmd := &cobra.Command{
		Use:   "merge SHARD_RUN... --out DIR",
		Short: "Merge the runs of a sharded run (gavel run --shard I/N) into one run",
		Long: `Merge joins the runs of the shards of one sharded run into one stored run,
as a single run of the spec would have written it: results, scores and
traces in the run's order (variants in the spec's order, examples in
dataset order, epochs), one manifest with the totals and the list of
shards. Arguments are run directories or globs (shards/*).

The shards must share the spec, the dataset, the variants, the judges,
the epochs and the shard count, every shard index must be there once and
completed (resume an interrupted shard with gavel run --resume DIR), and
every (variant, example, epoch) must be in exactly one shard. Anything
else is an error naming the shards and the rows, exit 2, and nothing is
written. --allow-partial merges what exists of an unfinished sharded run
instead: the merged run's status is partial and its error says what is
missing. The merge streams: its memory does not grow with the rows.`,
		Example: `  $ gavel merge shards/* --out runs/nightly
  $ gavel compare runs/main runs/nightly --gate-max-drop correct=0.02`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.shards = args
			if opts.out == "" {
				return withExitCode(errors.New("--out DIR: where the merged run goes"), ExitError)
			}
			if runF != nil {
				return runF(cmd.Context(), env, opts)
			}
			return runMerge(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().StringVar(&opts.out, "out", "", "the merged run's `dir` (must not exist)")
	cmd.Flags().BoolVar(&opts.allowPartial, "allow-partial", false, "merge what exists of an unfinished sharded run (missing or unfinished shards, missing rows); the run's status is then partial")
	return cmd
}

func runMerge(ctx context.Context, env *Env, opts *mergeOptions) error {
	var dirs []string
	for _, a := range opts.shards {
		matches, err := filepath.Glob(a)
		if err != nil {
			return withExitCode(fmt.Errorf("%s: %w", a, err), ExitError)
		}
		if len(matches) == 0 {
			matches = []string{a} // reported by the merge, naming it
		}
		sort.Strings(matches)
		dirs = append(dirs, matches...)
	}
	m, err := eval.MergeShards(ctx, dirs, opts.out, eval.MergeOptions{AllowPartial: opts.allowPartial})
	if err != nil {
		return withExitCode(err, ExitError)
	}
	fmt.Fprintf(env.Stderr, "gavel: merged %d shards: %d results, %d scores, %d errors\n", len(m.Shards), m.Totals.Results, m.Totals.Scores, m.Totals.Errors)
	if m.Status == results.RunPartial {
		fmt.Fprintf(env.Stderr, "gavel: warning: the merged run is partial (%s)\n", m.Error)
	}
	fmt.Fprintln(env.Stdout, opts.out)
	return nil
}
