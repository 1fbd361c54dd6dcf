package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gavel-eval/gavel/report/stats"
)

// newStatsCmd is the gavel stats group: the report's statistics on
// numbers given on the command line, so that they can be checked on their
// own.
func newStatsCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Run the report's statistics on numbers given on the command line",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(newPAdjustCmd(env, nil))
	return cmd
}

// pAdjustOptions are what gavel stats p-adjust's flags and arguments say.
type pAdjustOptions struct {
	ps     []float64 // NaN: a missing p-value (NA)
	method string
	format string
}

// newPAdjustCmd is gavel stats p-adjust: the p-value adjustment of gavel
// report and compare, on p-values given as arguments. RunE parses them
// into opts, then calls runF (runPAdjust when nil).
func newPAdjustCmd(env *Env, runF func(context.Context, *Env, *pAdjustOptions) error) *cobra.Command {
	opts := &pAdjustOptions{method: "holm", format: "text"}
	cmd := &cobra.Command{
		Use:   "p-adjust [--method M] P...",
		Short: "Adjust p-values for multiple comparisons, as R's p.adjust",
		Long: `Adjust the p-values given as arguments for multiple comparisons with the
code gavel report and compare use (R's p.adjust), printing one adjusted
p-value per line in the order given, or with --format json an object
{"method", "p", "p_adjusted"}. NA or NaN is a missing p-value: it stays
missing (NaN; null in JSON) and does not count in the family size. A p-value
that is not a number or is outside [0, 1] is a usage error (exit 2).`,
		Example: `  $ gavel stats p-adjust --method bh 0.01 0.04 0.03 0.2
  $ gavel stats p-adjust --format json 0.01 NA 0.04`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ps = make([]float64, len(args))
			for i, a := range args {
				p, err := parsePValue(a)
				if err != nil {
					return withExitCode(fmt.Errorf("p-adjust: argument %d %q: %w", i+1, a, err), ExitError)
				}
				opts.ps[i] = p
			}
			if runF != nil {
				return runF(cmd.Context(), env, opts)
			}
			return runPAdjust(cmd.Context(), env, opts)
		},
	}
	f := cmd.Flags()
	f.Var(choiceValue{&opts.method, stats.PAdjustMethods}, "method", "`adjustment`: holm, hochberg, bh, by, bonferroni or none")
	f.Var(choiceValue{&opts.format, []string{"text", "json"}}, "format", "output `format`: text (one adjusted p per line) or json")
	return cmd
}

// runPAdjust prints the adjusted p-values of opts.ps.
func runPAdjust(_ context.Context, env *Env, opts *pAdjustOptions) error {
	adj, err := stats.PAdjust(opts.ps, opts.method)
	if err != nil {
		return withExitCode(err, ExitError)
	}
	if opts.format == "json" {
		b, err := json.Marshal(struct {
			Method    string     `json:"method"`
			P         []*float64 `json:"p"`
			PAdjusted []*float64 `json:"p_adjusted"`
		}{opts.method, nullable(opts.ps), nullable(adj)})
		if err != nil {
			return withExitCode(fmt.Errorf("p-adjust: %w", err), ExitError)
		}
		_, err = fmt.Fprintf(env.Stdout, "%s\n", b)
		return err
	}
	var sb strings.Builder
	for _, q := range adj {
		sb.WriteString(strconv.FormatFloat(q, 'g', -1, 64))
		sb.WriteByte('\n')
	}
	_, err = fmt.Fprint(env.Stdout, sb.String())
	return err
}

// parsePValue parses one p-value argument: a number in [0, 1], or NA/NaN
// for a missing one.
func parsePValue(s string) (float64, error) {
	if strings.EqualFold(s, "NA") || strings.EqualFold(s, "NaN") {
		return math.NaN(), nil
	}
	p, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(p) {
		return 0, fmt.Errorf("not a number")
	}
	if p < 0 || p > 1 {
		return 0, fmt.Errorf("outside [0, 1]")
	}
	return p, nil
}

// nullable maps NaN to nil, for JSON's null.
func nullable(xs []float64) []*float64 {
	out := make([]*float64, len(xs))
	for i := range xs {
		if !math.IsNaN(xs[i]) {
			out[i] = &xs[i]
		}
	}
	return out
}
