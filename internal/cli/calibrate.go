package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gavel-eval/gavel/datasets"
	"github.com/gavel-eval/gavel/report"
)

// calibrateOptions holds what the flags and argument of gavel calibrate say.
type calibrateOptions struct {
	run     string
	labels  string
	judge   string
	variant string
	compare string
	scale   string
	format  string
	weights string
	only    string
	raters  string
	metric  string
}

// newCalibrateCmd builds gavel calibrate; runF, when set, runs in place of
// runCalibrate (tests use it to see what the flags parse to).
func newCalibrateCmd(env *Env, runF func(context.Context, *Env, *calibrateOptions) error) *cobra.Command {
	if runF == nil {
		runF = runCalibrate
	}
	opts := &calibrateOptions{}
	cmd := &cobra.Command{
		Use:   "calibrate RUN --labels FILE --judge NAME",
		Short: "Compare a judge's verdicts with human labels: accuracy, kappa, correlations",
		Long: `Calibrate measures how far an (LLM) judge can be trusted, by comparing its
verdicts in a stored run with labels a person gave the same outputs.

The labels file (JSONL, CSV or Parquet) has a row per labelled output with
example_id and label, and optionally variant and epoch (when the run has
several). What is compared (--compare):

  pass   the judge's pass/fail with labels such as pass/fail, yes/no, true/false, 1/0
  label  the judge's label (a classify or closed_qa choice) with the label, as categories
  score  the judge's score with numeric labels: Spearman's rho and Kendall's tau-b
         with their p-values, and, with --scale MIN:MAX (the labels' scale, onto
         which the judge's 0..1 score is mapped and rounded), weighted kappa
         (--weights quadratic, the default, or linear)

The default is pass when every label reads as a boolean, else label when the
judge recorded labels, else score. Accuracy, Cohen's kappa and the confusion
matrix are reported for pass and label.

--labels-only a,b,c keeps only the rows whose human label and judge verdict
are both in the set (scikit-learn's labels=); the rows left out are counted.

--raters COL,COL,... names several human label columns (default: label); the
figures above compare the first with the judge, and Krippendorff's alpha
(--alpha-metric nominal, ordinal, interval or ratio) measures the agreement
of all of them, with and without the judge. An empty cell is a missing value.`,
		Example: `  $ gavel calibrate runs/nightly --labels human.csv --judge helpful
  $ gavel calibrate runs/nightly --labels grades.jsonl --judge quality --compare score --scale 1:5`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return withExitCode(fmt.Errorf("calibrate takes one run directory, got %d arguments", len(args)), ExitError)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.run = args[0]
			if opts.labels == "" || opts.judge == "" {
				return withExitCode(errors.New("--labels and --judge are required"), ExitError)
			}
			return runF(cmd.Context(), env, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.labels, "labels", "", "human labels: a JSONL, CSV or Parquet `file` with example_id and label")
	f.StringVar(&opts.judge, "judge", "", "the judge to calibrate")
	f.StringVar(&opts.variant, "variant", "", "only this variant's results")
	f.StringVar(&opts.compare, "compare", "", "pass, label or score (default: from the labels)")
	f.StringVar(&opts.scale, "scale", "", "the labels' numeric scale `MIN:MAX`, for weighted kappa on scores")
	f.StringVar(&opts.format, "format", "text", "text or json")
	f.StringVar(&opts.weights, "weights", "quadratic", "weighted kappa's weights: linear or quadratic")
	f.StringVar(&opts.only, "labels-only", "", "only rows whose human label and verdict are both in this comma-separated `set`")
	f.StringVar(&opts.raters, "raters", "", "several human label `columns`, comma-separated, for Krippendorff's alpha (the first is compared with the judge)")
	f.StringVar(&opts.metric, "alpha-metric", "", "Krippendorff's alpha metric: nominal, ordinal, interval or ratio (default: nominal, interval for --compare score)")
	return cmd
}

// runCalibrate calibrates the judge against the labels file
// (report.Calibrate) and prints the report.
func runCalibrate(_ context.Context, env *Env, opts *calibrateOptions) error {
	// The labels file is opened when Calibrate first reads it: after the
	// run and the judge are checked.
	var rd *datasets.Reader
	defer func() {
		if rd != nil {
			rd.Close()
		}
	}()
	rows := func() (report.LabelRow, error) {
		if rd == nil {
			var err error
			if rd, err = datasets.Open(datasets.Options{Path: opts.labels}); err != nil {
				return report.LabelRow{}, err
			}
		}
		ex, err := rd.Next()
		return report.LabelRow{Line: ex.Line, Fields: ex.Fields}, err
	}
	rep, err := report.Calibrate(report.CalibrateOptions{Run: opts.run, Judge: opts.judge, Variant: opts.variant,
		LabelsName: opts.labels, Compare: opts.compare, Scale: opts.scale, Weights: opts.weights, Only: opts.only,
		Raters: opts.raters, Metric: opts.metric}, rows)
	if err != nil {
		return withExitCode(err, ExitError)
	}
	if opts.format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.WriteText(env.Stdout)
}
