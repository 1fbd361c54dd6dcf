package report

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/report/stats"
)

// Side names one variant of one stored run.
type Side struct {
	Dir     string
	Variant string
}

// Options tune how a report is computed.
type Options struct {
	// Alpha is the significance level (default 0.05).
	Alpha float64
	// Bootstrap is the number of bootstrap resamples (default 10,000);
	// Seed seeds them, so a report is reproducible.
	Bootstrap int
	Seed      uint64
	// TopK is how many regressions and improvements are kept per judge
	// (default 5).
	TopK int
	// Gates are evaluated when set.
	Gates []Gate
	// MDEMethod is how the minimum detectable effect of a judge with
	// continuous scores is computed: MDEPairedT (the default, also for "")
	// or MDENormal. Pass/fail judges always use MDEMcNemar.
	MDEMethod MDEMethod
	// PAdjust is the p-value adjustment over every (comparison, judge)
	// p-value of the report: one of stats.PAdjustMethods (default "holm").
	PAdjust string
	// ZeroMethod is Wilcoxon's treatment of zero differences: "wilcox"
	// (default), "pratt" or "zsplit" (see stats.WilcoxonOptions).
	ZeroMethod string
	// Alternative is the alternative hypothesis of every paired test on
	// B − A: "two-sided" (default), "greater" (B better) or "less" (B
	// worse).
	Alternative stats.Alternative
	// Test is the paired test of each judge: TestAuto (default), TestWilcoxon,
	// TestT or TestSign.
	Test Test
	// ErrorsAs is what a result whose chain errored counts as for the
	// judges: ErrorsSkip (default: left out) or ErrorsFail (a failed
	// verdict, score 0 and pass false, for every judge).
	ErrorsAs ErrorsAs
	// HTML, when set, says the report will be written as an HTML page
	// with these options: Build then reads the page's rows and spans
	// while it computes the statistics, and WriteHTML uses them.
	HTML *HTMLOptions
}

// MDEMethod is how a minimum detectable effect is computed
// (Options.MDEMethod, JudgeComparison.MDEMethod).
type MDEMethod string

// The values of JudgeComparison.MDEMethod.
const (
	// MDEPairedT is the effect at which the two-sided paired t-test has
	// 80% power, counting both tails (the noncentral t on n - 1 degrees of
	// freedom; R's power.t.test(type = "paired", strict = TRUE)$delta).
	MDEPairedT MDEMethod = "paired_t"
	// MDENormal is the normal approximation (z_{1-α/2} + z_{0.8})·sd/√n.
	MDENormal MDEMethod = "normal"
	// MDEMcNemar is Connor's (1987) McNemar planning formula inverted
	// for the pass-rate difference at the observed discordance, as gavel
	// plan computes it.
	MDEMcNemar MDEMethod = "mcnemar"
)

// Test chooses the paired test of each judge (Options.Test).
type Test string

// The values of Options.Test.
const (
	// TestAuto chooses by the judge's scale: the exact McNemar test for
	// binary judges over one epoch, the sign test for ordinal judges and
	// the Wilcoxon signed-rank test otherwise.
	TestAuto Test = "auto"
	// TestWilcoxon is the Wilcoxon signed-rank test for every judge.
	TestWilcoxon Test = "wilcoxon"
	// TestT is the paired t-test for every judge.
	TestT Test = "t"
	// TestSign is the sign test for every judge.
	TestSign Test = "sign"
)

// ErrorsAs is what a result whose chain errored counts as for the judges
// (Options.ErrorsAs, Gate.ErrorsAs).
type ErrorsAs string

// The values of Options.ErrorsAs.
const (
	// ErrorsSkip leaves errored results out of every judge's figures.
	ErrorsSkip ErrorsAs = "skip"
	// ErrorsFail counts an errored result as a failed verdict (score 0,
	// pass false) for every judge.
	ErrorsFail ErrorsAs = "fail"
)

func (o *Options) defaults() {
	if o.Alpha <= 0 {
		o.Alpha = 0.05
	}
	if o.Bootstrap <= 0 {
		o.Bootstrap = 10000
	}
	if o.TopK <= 0 {
		o.TopK = 5
	}
	if o.PAdjust == "" {
		o.PAdjust = "holm"
	}
	if o.ZeroMethod == "" {
		o.ZeroMethod = "wilcox"
	}
	if o.Alternative == "" {
		o.Alternative = stats.TwoSided
	}
	if o.Test == "" {
		o.Test = TestAuto
	}
	if o.ErrorsAs == "" {
		o.ErrorsAs = ErrorsSkip
	}
}

// validate reports an unknown PAdjust or ZeroMethod.
func (o *Options) validate() error {
	if !slices.Contains(stats.PAdjustMethods, strings.ToLower(o.PAdjust)) {
		return fmt.Errorf("p-value adjustment %q: want one of %s", o.PAdjust, strings.Join(stats.PAdjustMethods, ", "))
	}
	switch o.ZeroMethod {
	case "wilcox", "pratt", "zsplit":
	default:
		return fmt.Errorf("zero method %q: want wilcox, pratt or zsplit", o.ZeroMethod)
	}
	if _, err := stats.ParseAlternative(string(o.Alternative)); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	switch o.Test {
	case TestAuto, TestWilcoxon, TestT, TestSign:
	default:
		return fmt.Errorf("test %q: want auto, wilcoxon, t or sign", o.Test)
	}
	switch o.ErrorsAs {
	case ErrorsSkip, ErrorsFail:
	default:
		return fmt.Errorf("errors-as %q: want skip or fail", o.ErrorsAs)
	}
	for _, g := range o.Gates {
		if _, err := stats.ParseAlternative(string(g.Alternative)); err != nil {
			return fmt.Errorf("report: gate on %q: %w", g.Judge, err)
		}
		switch g.ErrorsAs {
		case "", ErrorsSkip, ErrorsFail:
		default:
			return fmt.Errorf("report: gate on %q: errors_as %q: want skip or fail", g.Judge, g.ErrorsAs)
		}
	}
	return nil
}

// Power is the power at which minimum detectable effects are stated.
const Power = 0.8

// key identifies one result within a variant.
type key struct {
	example string
	epoch   int32
}

// verdict is one score row's numbers.
type verdict struct {
	status  results.ScoreStatus
	score   float64 // the score, or 1/0 from pass when the judge has no scale
	scored  bool
	pass    bool
	hasPass bool
}

// sideData is what a report needs of one side, loaded in one pass.
type sideData struct {
	side     Side
	run      *results.Manifest
	label    string
	order    []key            // result keys in stored order
	index    map[string]int64 // example id -> example index, for ordering
	status   map[key]results.Status
	latency  []float64
	stats    VariantStats
	judges   []string                   // judge names in manifest order
	types    map[string]string          // judge -> type
	verdicts map[string]map[key]verdict // judge -> key -> verdict
	graded   map[string]bool
	scales   map[string]string // judge -> declared scale ("" when none)
}

// loadSide reads one variant of one run: its results (status, latency,
// tokens, cost) and its scores (numbers only; texts are read later for the
// few examples a report shows).
//
// With errorsAsFail, every result whose status is not ok counts, for every
// judge of the side but the pairwise ones, as a valid failed verdict (score 0, pass false),
// replacing whatever score row it has.
func loadSide(s Side, m *results.Manifest, errorsAsFail bool) (*sideData, error) {
	d := &sideData{side: s, run: m, index: map[string]int64{}, status: map[key]results.Status{},
		types: map[string]string{}, verdicts: map[string]map[key]verdict{}, graded: map[string]bool{}, scales: map[string]string{}}
	found := false
	for _, v := range m.Variants {
		found = found || v.Name == s.Variant
	}
	if !found {
		names := make([]string, len(m.Variants))
		for i, v := range m.Variants {
			names[i] = v.Name
		}
		return nil, fmt.Errorf("run %s has no variant %q (variants: %s)", s.Dir, s.Variant, strings.Join(names, ", "))
	}
	for _, j := range m.Judges {
		d.judges = append(d.judges, j.Name)
		d.types[j.Name] = j.Type
		d.scales[j.Name] = j.Scale
		d.verdicts[j.Name] = map[key]verdict{}
	}
	st := &d.stats
	st.Run, st.Variant, st.Name = m.RunID, s.Variant, s.Variant
	epochs := map[int32]bool{}
	err := results.ReadResultFigures(filepath.Join(s.Dir, results.ResultsFile), func(r results.ResultFigures) error {
		if r.Variant != s.Variant {
			return nil
		}
		k := key{r.ExampleID, r.Epoch}
		d.order = append(d.order, k)
		d.index[r.ExampleID] = r.ExampleIndex
		d.status[k] = r.Status
		epochs[r.Epoch] = true
		st.addResult(&r)
		d.latency = append(d.latency, r.LatencyMS)
		return nil
	})
	if err != nil {
		return nil, err
	}
	st.finishResults(d.latency, len(epochs))
	pairJudges := map[string]bool{} // judges with pairwise rows, in any variant
	err = results.ReadScores(filepath.Join(s.Dir, results.ScoresFile), func(sc results.Score) error {
		if sc.OtherVariant != nil {
			pairJudges[sc.Judge] = true
		}
		if sc.Variant != s.Variant || sc.OtherVariant != nil {
			return nil
		}
		vm := d.verdicts[sc.Judge]
		if vm == nil {
			vm = map[key]verdict{}
			d.verdicts[sc.Judge] = vm
			d.judges = append(d.judges, sc.Judge)
			d.types[sc.Judge] = sc.JudgeType
		}
		v := verdict{status: sc.Status}
		if sc.Pass != nil {
			v.pass, v.hasPass = *sc.Pass, true
		}
		switch {
		case sc.Score != nil && !math.IsNaN(*sc.Score):
			v.score, v.scored = *sc.Score, true
			if *sc.Score != 0 && *sc.Score != 1 {
				d.graded[sc.Judge] = true
			}
		case v.hasPass:
			v.score = b2f(v.pass)
		}
		vm[key{sc.ExampleID, sc.Epoch}] = v
		return nil
	})
	if err != nil {
		return nil, err
	}
	if errorsAsFail {
		for k, status := range d.status {
			if status == results.StatusOK {
				continue
			}
			for _, j := range d.judges {
				if !pairJudges[j] {
					d.verdicts[j][k] = verdict{status: results.ScoreOK, scored: true, hasPass: true}
				}
			}
		}
	}
	for _, j := range d.judges {
		st.Judges = append(st.Judges, judgeStats(j, d.types[j], d.verdicts[j], d.graded[j], st.Epochs))
	}
	for _, mt := range m.Metrics {
		if mt.Variant == s.Variant {
			st.Metrics = append(st.Metrics, mt)
		}
	}
	return d, nil
}

// addResult counts one result row in the variant's figures.
func (st *VariantStats) addResult(r *results.ResultFigures) {
	st.Results++
	if r.Status == results.StatusOK {
		st.OK++
	} else {
		st.Errors++
	}
	st.PromptTokens += r.PromptTokens
	st.CompletionTokens += r.CompletionTokens
	if r.CostUSD != nil {
		st.CostUSD += *r.CostUSD
	} else {
		st.Unpriced++
	}
	if r.Cached {
		st.FromCache++
	}
}

// finishResults sets the figures that need every result row counted: the
// error rate, the epochs and the latency quantiles.
func (st *VariantStats) finishResults(latency []float64, epochs int) {
	st.Epochs = epochs
	if st.Results > 0 {
		st.ErrorRate = float64(st.Errors) / float64(st.Results)
	}
	st.LatencyP50 = stats.Quantile(latency, 0.5)
	st.LatencyP95 = stats.Quantile(latency, 0.95)
	st.LatencyP99 = stats.Quantile(latency, 0.99)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func ptr(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

func iptr(iv stats.Interval) *stats.Interval {
	if math.IsNaN(iv.Lo) || math.IsNaN(iv.Hi) {
		return nil
	}
	return &iv
}

// judgeStats computes one judge's per-variant figures.
func judgeStats(name, typ string, vm map[key]verdict, graded bool, epochs int) JudgeStats {
	js := JudgeStats{Judge: name, Type: typ, Graded: graded}
	var scores []float64
	clusters := map[string][]float64{}
	var ids []string
	for k, v := range vm {
		switch v.status {
		case results.ScoreOK:
			js.Valid++
			if v.hasPass && v.pass {
				js.Passed++
			} else {
				js.Failed++
			}
			if v.scored || v.hasPass {
				js.Scored++
				scores = append(scores, v.score)
				if _, ok := clusters[k.example]; !ok {
					ids = append(ids, k.example)
				}
				clusters[k.example] = append(clusters[k.example], v.score)
			}
		case results.ScoreJudgeError:
			js.JudgeErrors++
		default:
			js.Skipped++
		}
	}
	if js.Valid > 0 {
		js.PassRate = ptr(float64(js.Passed) / float64(js.Valid))
		js.PassRateCI = iptr(stats.Wilson(js.Passed, js.Valid, 0.95))
	}
	if len(scores) > 0 {
		sort.Float64s(scores) // map order must not change floating-point sums
		mean, ci := meanInterval(scores)
		js.Mean, js.MeanCI = ptr(mean), iptr(ci)
	}
	if epochs > 1 && len(clusters) > 1 {
		sort.Strings(ids)
		cl := make([][]float64, len(ids))
		for i, id := range ids {
			cl[i] = clusters[id]
			sort.Float64s(cl[i])
		}
		_, se, ci := stats.ClusteredMean(cl, 0.95)
		js.ClusteredSE, js.ClusteredCI = ptr(se), iptr(clampUnit(ci, scores))
	}
	return js
}
