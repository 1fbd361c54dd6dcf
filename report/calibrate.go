package report

import (
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/report/stats"
)

// CalibrateOptions says what to calibrate: a judge of a stored run against
// human labels. The fields are gavel calibrate's flags.
type CalibrateOptions struct {
	// Run is the run directory; Judge the judge to calibrate; Variant,
	// when set, keeps that variant's results only.
	Run, Judge, Variant string
	// LabelsName names the labels file in messages.
	LabelsName string
	// Compare is pass, label or score ("" chooses from the labels).
	Compare string
	// Scale is the labels' numeric scale MIN:MAX, for weighted kappa on
	// scores; Weights is linear or quadratic ("" for quadratic).
	Scale, Weights string
	// Only keeps the rows whose label and verdict are both in this
	// comma-separated set.
	Only string
	// Raters names several label columns, comma-separated (default:
	// label), for Krippendorff's alpha; Metric is its metric.
	Raters, Metric string
}

// LabelRow is one row of a labels file: its fields and its line (for
// messages).
type LabelRow struct {
	Line   int
	Fields map[string]any
}

// Calibration is the report of one calibration of a judge against human
// labels; gavel calibrate --format json prints it.
type Calibration struct {
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

// Calibrate compares a judge's verdicts in a stored run with human labels.
// labels yields the rows of the labels file in order and io.EOF after the
// last; each row has example_id, the label column(s) and optionally
// variant and epoch. The options are gavel calibrate's flags, and error
// messages name those flags.
func Calibrate(opts CalibrateOptions, labels func() (LabelRow, error)) (*Calibration, error) {
	m, err := results.ReadManifest(opts.Run)
	if err != nil {
		return nil, err
	}
	rep := &Calibration{FormatVersion: 1, Run: m.RunID, Judge: opts.Judge}
	// The judge's verdicts, by (variant, example, epoch).
	type verdict struct {
		pass  *bool
		label string
		score *float64
	}
	verdicts := map[labelKey]verdict{}
	found := false
	err = results.ReadScores(filepath.Join(opts.Run, results.ScoresFile), func(s results.Score) error {
		if s.Judge != opts.Judge || s.OtherVariant != nil {
			return nil
		}
		found = true
		if opts.Variant != "" && s.Variant != opts.Variant {
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
		return nil, fmt.Errorf("run %s has no scores from a judge named %q (judges: %s)", opts.Run, opts.Judge, strings.Join(names, ", "))
	}
	variants := map[string]bool{}
	for k := range verdicts {
		variants[k.variant] = true
	}

	raters := []string{"label"}
	if opts.Raters != "" {
		raters = splitList(opts.Raters)
		if len(raters) == 0 {
			return nil, fmt.Errorf("--raters %q: want one or more column names", opts.Raters)
		}
		rep.Raters = raters
	}
	if opts.Weights == "" {
		opts.Weights = "quadratic"
	}
	if opts.Weights != "linear" && opts.Weights != "quadratic" {
		return nil, fmt.Errorf("--weights %q: use linear or quadratic", opts.Weights)
	}

	// human[r] is rater r's label ("" when missing); the figures between
	// people and the judge use human[0].
	type pair struct {
		human []string
		v     verdict
	}
	var pairs []pair
	for {
		ex, err := labels()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		id := labelField(ex.Fields, "example_id")
		human := make([]string, len(raters))
		present := false
		for r, col := range raters {
			human[r] = labelField(ex.Fields, col)
			present = present || human[r] != ""
		}
		if id == "" || !present {
			return nil, fmt.Errorf("labels %s line %d: needs example_id and %s", opts.LabelsName, ex.Line, strings.Join(raters, " or "))
		}
		variant := labelField(ex.Fields, "variant")
		if variant == "" {
			if len(variants) > 1 && opts.Variant == "" {
				return nil, fmt.Errorf("labels %s line %d: the run has several variants: add a variant column or pass --variant", opts.LabelsName, ex.Line)
			}
			for v := range variants {
				variant = v
			}
		}
		epoch, _ := strconv.Atoi(labelField(ex.Fields, "epoch"))
		v, ok := verdicts[labelKey{variant, id, epoch}]
		if !ok {
			rep.Unmatched++
			continue
		}
		pairs = append(pairs, pair{human, v})
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("no label matched a judged result of %s (%d labels unmatched)", opts.Judge, rep.Unmatched)
	}

	compare := opts.Compare
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
	only := splitList(opts.Only)
	if opts.Only != "" && len(only) == 0 {
		return nil, fmt.Errorf("--labels-only %q: want a comma-separated list of labels", opts.Only)
	}
	metric := opts.Metric
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
		if opts.Scale != "" {
			if lo, hi, err = parseScale(opts.Scale); err != nil {
				return nil, err
			}
		}
		var keep []float64
		if only != nil {
			if opts.Scale == "" {
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
			if p.v.score != nil && opts.Scale != "" {
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
		if opts.Scale != "" {
			levels := keep
			if levels == nil {
				for x := lo; x <= hi; x++ {
					levels = append(levels, x)
				}
			}
			rep.Weights = opts.Weights
			rep.WeightedKappa = set(stats.WeightedKappa(human, mapped, levels, opts.Weights))
		}
	default:
		return nil, fmt.Errorf("--compare %q: use pass, label or score", compare)
	}
	if rep.N == 0 {
		return nil, fmt.Errorf("no labelled result of %s is left to compare (%d rows left out by --labels-only)", opts.Judge, rep.LeftOut)
	}
	if opts.Raters != "" {
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
		if compare != "score" || opts.Scale != "" {
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

func labelField(m map[string]any, k string) string {
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

// WriteText writes the calibration as gavel calibrate prints it.
func (c *Calibration) WriteText(w io.Writer) error {
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
