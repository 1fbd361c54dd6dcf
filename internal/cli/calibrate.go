package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gavel-eval/gavel/datasets"
	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/report/stats"
)

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

func newCalibrateCmd(env *Env) *cobra.Command {
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
			rep, err := calibrate(opts)
			if err != nil {
				return withExitCode(err, ExitError)
			}
			if opts.format == "json" {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			return rep.writeText(env.Stdout)
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

// calibration is the report of one calibration.
type calibration struct {
	FormatVersion int    `json:"format_version"`
	Run           string `json:"run"`
	Judge         string `json:"judge"`
	Compare       string `json:"compare"`
	N             int    `json:"n"`
	Unmatched     int    `json:"unmatched_labels"`
	Unjudged      int    `json:"unjudged"`
	// LeftOut counts the rows --labels-only dropped.
	LeftOut       int      `json:"labels_left_out,omitempty"`
	Accuracy      *float64 `json:"accuracy,omitempty"`
	Kappa         *float64 `json:"cohen_kappa,omitempty"`
	WeightedKappa *float64 `json:"weighted_kappa,omitempty"`
	Weights       string   `json:"weighted_kappa_weights,omitempty"`
	Spearman      *float64 `json:"spearman,omitempty"`
	SpearmanP     *float64 `json:"spearman_p,omitempty"`
	Kendall       *float64 `json:"kendall_tau_b,omitempty"`
	KendallP      *float64 `json:"kendall_tau_b_p,omitempty"`
	// Raters and the alphas are set with --raters.
	Raters      []string `json:"raters,omitempty"`
	AlphaMetric string   `json:"alpha_metric,omitempty"`
	AlphaUnits  int      `json:"alpha_units,omitempty"`
	Alpha       *float64 `json:"krippendorff_alpha,omitempty"`
	AlphaHumans *float64 `json:"krippendorff_alpha_humans,omitempty"`
	Labels      []string `json:"labels,omitempty"`
	// Confusion[i][j] counts human label Labels[i] judged as Labels[j].
	Confusion [][]int `json:"confusion,omitempty"`
}

type labelKey struct {
	variant, example string
	epoch            int
}

func calibrate(opts *calibrateOptions) (*calibration, error) {
	m, err := results.ReadManifest(opts.run)
	if err != nil {
		return nil, err
	}
	rep := &calibration{FormatVersion: 1, Run: m.RunID, Judge: opts.judge}
	// The judge's verdicts, by (variant, example, epoch).
	type verdict struct {
		pass  *bool
		label string
		score *float64
	}
	verdicts := map[labelKey]verdict{}
	found := false
	err = results.ReadScores(filepath.Join(opts.run, results.ScoresFile), func(s results.Score) error {
		if s.Judge != opts.judge || s.OtherVariant != nil {
			return nil
		}
		found = true
		if opts.variant != "" && s.Variant != opts.variant {
			return nil
		}
		if s.Status != results.ScoreOK {
			rep.Unjudged++
			return nil
		}
		verdicts[labelKey{s.Variant, s.ExampleID, int(s.Epoch)}] = verdict{s.Pass, results.Deref(s.Label), s.Score}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !found {
		names := make([]string, len(m.Judges))
		for i, j := range m.Judges {
			names[i] = j.Name
		}
		return nil, fmt.Errorf("run %s has no scores from a judge named %q (judges: %s)", opts.run, opts.judge, strings.Join(names, ", "))
	}
	variants := map[string]bool{}
	for k := range verdicts {
		variants[k.variant] = true
	}

	raters := []string{"label"}
	if opts.raters != "" {
		raters = splitList(opts.raters)
		if len(raters) == 0 {
			return nil, fmt.Errorf("--raters %q: want one or more column names", opts.raters)
		}
		rep.Raters = raters
	}
	if opts.weights != "linear" && opts.weights != "quadratic" {
		return nil, fmt.Errorf("--weights %q: use linear or quadratic", opts.weights)
	}

	rd, err := datasets.Open(datasets.Options{Path: opts.labels})
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	// human[r] is rater r's label ("" when missing); the figures between
	// people and the judge use human[0].
	type pair struct {
		human []string
		v     verdict
	}
	var pairs []pair
	for {
		ex, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		id := field(ex.Fields, "example_id")
		human := make([]string, len(raters))
		present := false
		for r, col := range raters {
			human[r] = field(ex.Fields, col)
			present = present || human[r] != ""
		}
		if id == "" || !present {
			return nil, fmt.Errorf("labels %s line %d: needs example_id and %s", opts.labels, ex.Line, strings.Join(raters, " or "))
		}
		variant := field(ex.Fields, "variant")
		if variant == "" {
			if len(variants) > 1 && opts.variant == "" {
				return nil, fmt.Errorf("labels %s line %d: the run has several variants: add a variant column or pass --variant", opts.labels, ex.Line)
			}
			for v := range variants {
				variant = v
			}
		}
		epoch, _ := strconv.Atoi(field(ex.Fields, "epoch"))
		v, ok := verdicts[labelKey{variant, id, epoch}]
		if !ok {
			rep.Unmatched++
			continue
		}
		pairs = append(pairs, pair{human, v})
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("no label matched a judged result of %s (%d labels unmatched)", opts.judge, rep.Unmatched)
	}

	compare := opts.compare
	if compare == "" {
		compare = "pass"
		for _, p := range pairs {
			if _, ok := parseBool(p.human[0]); !ok && p.human[0] != "" {
				compare = "score"
				if p.v.label != "" {
					compare = "label"
				}
				break
			}
		}
	}
	rep.Compare = compare
	set := func(x float64) *float64 {
		if math.IsNaN(x) {
			return nil
		}
		return &x
	}
	only := splitList(opts.only)
	if opts.only != "" && len(only) == 0 {
		return nil, fmt.Errorf("--labels-only %q: want a comma-separated list of labels", opts.only)
	}
	metric := opts.metric
	switch {
	case metric == "" && compare == "score":
		metric = "interval"
	case metric == "":
		metric = "nominal"
	case metric != "nominal" && metric != "ordinal" && metric != "interval" && metric != "ratio":
		return nil, fmt.Errorf("--alpha-metric %q: use nominal, ordinal, interval or ratio", metric)
	case metric != "nominal" && compare != "score":
		return nil, fmt.Errorf("--alpha-metric %s needs numeric labels (--compare score); labels compared as categories are nominal", metric)
	}
	// units[u] holds the values of unit u: the humans' first, then the
	// judge's (when it is on the same scale); nil slices mark no value.
	var units [][]*float64
	switch compare {
	case "pass", "label":
		norm := func(s string) (string, error) {
			if compare == "label" || s == "" {
				return s, nil
			}
			b, ok := parseBool(s)
			if !ok {
				return "", fmt.Errorf("label %q is not pass/fail (use --compare label or score)", s)
			}
			return passLabel(b), nil
		}
		for i, l := range only {
			var err error
			if only[i], err = norm(l); err != nil {
				return nil, fmt.Errorf("--labels-only: %w", err)
			}
		}
		codes := map[string]float64{}
		code := func(s string) *float64 {
			if s == "" || (only != nil && !slices.Contains(only, s)) {
				return nil
			}
			c, ok := codes[s]
			if !ok {
				c = float64(len(codes))
				codes[s] = c
			}
			return &c
		}
		var human, judged []string
		for _, p := range pairs {
			labels := make([]string, len(p.human))
			for r, h := range p.human {
				var err error
				if labels[r], err = norm(h); err != nil {
					return nil, err
				}
			}
			var verdict string
			if compare == "pass" {
				if p.v.pass != nil {
					verdict = passLabel(*p.v.pass)
				}
			} else {
				verdict = p.v.label
			}
			unit := make([]*float64, 0, len(labels)+1)
			for _, l := range labels {
				unit = append(unit, code(l))
			}
			units = append(units, append(unit, code(verdict)))
			if verdict == "" || labels[0] == "" {
				continue
			}
			human = append(human, labels[0])
			judged = append(judged, verdict)
		}
		if only != nil {
			human, judged, rep.LeftOut = stats.KeepLabels(human, judged, only)
		}
		rep.N = len(human)
		rep.Accuracy = set(stats.Accuracy(human, judged))
		rep.Kappa = set(stats.CohenKappa(human, judged))
		rep.Labels, rep.Confusion = stats.ConfusionMatrix(human, judged)
	case "score":
		var lo, hi float64
		if opts.scale != "" {
			if lo, hi, err = parseScale(opts.scale); err != nil {
				return nil, err
			}
		}
		var keep []float64
		if only != nil {
			if opts.scale == "" {
				return nil, errors.New("--labels-only with --compare score needs --scale, to put the judge's scores on the labels' scale")
			}
			for _, l := range only {
				x, err := strconv.ParseFloat(l, 64)
				if err != nil {
					return nil, fmt.Errorf("--labels-only: %q is not a number", l)
				}
				keep = append(keep, x)
			}
		}
		inSet := func(x float64) bool { return keep == nil || slices.Contains(keep, x) }
		var human, judged, mapped []float64
		for _, p := range pairs {
			unit := make([]*float64, 0, len(p.human)+1)
			hs := make([]*float64, len(p.human))
			for r, s := range p.human {
				if s == "" {
					unit = append(unit, nil)
					continue
				}
				h, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
				if err != nil {
					return nil, fmt.Errorf("label %q is not a number (use --compare pass or label)", s)
				}
				hs[r] = &h
				if !inSet(h) {
					unit = append(unit, nil)
				} else {
					unit = append(unit, &h)
				}
			}
			var m *float64
			if p.v.score != nil && opts.scale != "" {
				x := math.Round(lo + *p.v.score*(hi-lo))
				if inSet(x) {
					m = &x
				}
			}
			units = append(units, append(unit, m))
			if p.v.score == nil || hs[0] == nil {
				continue
			}
			if keep != nil && (m == nil || !inSet(*hs[0])) {
				rep.LeftOut++
				continue
			}
			human = append(human, *hs[0])
			judged = append(judged, *p.v.score)
			if m != nil {
				mapped = append(mapped, *m)
			}
		}
		rep.N = len(human)
		rho, pRho := stats.SpearmanTest(human, judged)
		tau, pTau := stats.KendallTauBTest(human, judged)
		rep.Spearman, rep.SpearmanP = set(rho), set(pRho)
		rep.Kendall, rep.KendallP = set(tau), set(pTau)
		if opts.scale != "" {
			levels := keep
			if levels == nil {
				for x := lo; x <= hi; x++ {
					levels = append(levels, x)
				}
			}
			rep.Weights = opts.weights
			rep.WeightedKappa = set(stats.WeightedKappa(human, mapped, levels, opts.weights))
		}
	default:
		return nil, fmt.Errorf("--compare %q: use pass, label or score", compare)
	}
	if rep.N == 0 {
		return nil, fmt.Errorf("no labelled result of %s is left to compare (%d rows left out by --labels-only)", opts.judge, rep.LeftOut)
	}
	if opts.raters != "" {
		rep.AlphaMetric = metric
		rep.AlphaUnits = len(units)
		alpha := func(judge bool) *float64 {
			values := make([][]float64, len(units))
			for u, unit := range units {
				if !judge {
					unit = unit[:len(unit)-1]
				}
				for _, x := range unit {
					if x != nil {
						values[u] = append(values[u], *x)
					}
				}
			}
			return set(stats.KrippendorffAlpha(values, metric))
		}
		// Without --scale the judge's 0..1 scores are not on the labels'
		// scale, so it takes no part.
		if compare != "score" || opts.scale != "" {
			rep.Alpha = alpha(true)
		}
		if len(raters) > 1 {
			rep.AlphaHumans = alpha(false)
		}
	}
	return rep, nil
}

// splitList splits a comma-separated list, trimming spaces and dropping
// empty entries; it returns nil for a list with no entries.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func field(m map[string]any, k string) string {
	v, ok := m[k]
	if !ok || v == nil {
		return ""
	}
	return strings.TrimSpace(fmt.Sprint(v))
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "pass", "passed", "yes", "y", "true", "1", "good", "correct":
		return true, true
	case "fail", "failed", "no", "n", "false", "0", "bad", "incorrect":
		return false, true
	}
	return false, false
}

func passLabel(b bool) string {
	if b {
		return "pass"
	}
	return "fail"
}

func parseScale(s string) (float64, float64, error) {
	a, b, ok := strings.Cut(s, ":")
	lo, err1 := strconv.ParseFloat(a, 64)
	hi, err2 := strconv.ParseFloat(b, 64)
	if !ok || err1 != nil || err2 != nil || hi <= lo || lo != math.Trunc(lo) || hi != math.Trunc(hi) {
		return 0, 0, fmt.Errorf("--scale %q: want MIN:MAX with integers MIN < MAX, e.g. 1:5", s)
	}
	return lo, hi, nil
}

func (c *calibration) writeText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "judge %s in run %s: %d labelled results compared by %s", c.Judge, c.Run, c.N, c.Compare)
	if c.Unmatched > 0 || c.Unjudged > 0 {
		fmt.Fprintf(tw, " (%d labels matched no result, %d results had no verdict)", c.Unmatched, c.Unjudged)
	}
	fmt.Fprintln(tw)
	if c.LeftOut > 0 {
		fmt.Fprintf(tw, "%d rows left out by --labels-only\n", c.LeftOut)
	}
	num := func(v *float64) string {
		if v == nil {
			return "undefined"
		}
		return fmt.Sprintf("%.4f", *v)
	}
	row := func(name string, v *float64) { fmt.Fprintf(tw, "%s\t%s\n", name, num(v)) }
	test := func(name string, v, p *float64) {
		if p == nil {
			fmt.Fprintf(tw, "%s\t%s\tp undefined\n", name, num(v))
		} else {
			fmt.Fprintf(tw, "%s\t%s\tp = %.4g\n", name, num(v), *p)
		}
	}
	switch c.Compare {
	case "pass", "label":
		row("accuracy", c.Accuracy)
		row("cohen's kappa", c.Kappa)
	case "score":
		test("spearman rho", c.Spearman, c.SpearmanP)
		test("kendall tau-b", c.Kendall, c.KendallP)
		if c.Weights != "" {
			row("weighted kappa ("+c.Weights+")", c.WeightedKappa)
		}
	}
	if c.AlphaMetric != "" {
		if c.Compare != "score" || c.Weights != "" {
			row(fmt.Sprintf("krippendorff's alpha (%s; %s and judge)", c.AlphaMetric, strings.Join(c.Raters, ", ")), c.Alpha)
		}
		if len(c.Raters) > 1 {
			row(fmt.Sprintf("krippendorff's alpha (%s; %s)", c.AlphaMetric, strings.Join(c.Raters, ", ")), c.AlphaHumans)
		}
	}
	if len(c.Labels) > 0 {
		fmt.Fprintln(tw)
		fmt.Fprintln(tw, "human \\ judge\t"+strings.Join(c.Labels, "\t"))
		for i, l := range c.Labels {
			cells := make([]string, len(c.Confusion[i]))
			for j, n := range c.Confusion[i] {
				cells[j] = strconv.Itoa(n)
			}
			fmt.Fprintln(tw, l+"\t"+strings.Join(cells, "\t"))
		}
	}
	return tw.Flush()
}
