package report

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/report/stats"
	"github.com/gavel-eval/gavel/traces"
)

// ForRun builds the report of one run: every variant's figures and, with
// several variants, every variant compared with the first.
func ForRun(dir string, opts Options) (*Report, error) {
	m, err := results.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	var sides []Side
	var pairs [][2]int
	for i, v := range m.Variants {
		sides = append(sides, Side{Dir: dir, Variant: v.Name})
		if i > 0 {
			pairs = append(pairs, [2]int{0, i})
		}
	}
	r, err := Build(sides, pairs, opts)
	if err != nil {
		return nil, err
	}
	r.Kind = "report"
	return r, nil
}

// CompareVariants compares variant b with variant a within one run.
func CompareVariants(dir, a, b string, opts Options) (*Report, error) {
	return Build([]Side{{dir, a}, {dir, b}}, [][2]int{{0, 1}}, opts)
}

// CompareRuns compares each variant of the new run with the variant of the
// same name in the base run (main's stored run against a pull request's,
// say). variants, when set, limits the comparison to those names.
// Variants present in only one run are reported as warnings.
func CompareRuns(baseDir, newDir string, variants []string, opts Options) (*Report, error) {
	bm, err := results.ReadManifest(baseDir)
	if err != nil {
		return nil, err
	}
	nm, err := results.ReadManifest(newDir)
	if err != nil {
		return nil, err
	}
	inBase := map[string]bool{}
	for _, v := range bm.Variants {
		inBase[v.Name] = true
	}
	want := map[string]bool{}
	for _, v := range variants {
		want[v] = true
	}
	var sides []Side
	var pairs [][2]int
	var warnings []string
	for _, v := range nm.Variants {
		if len(want) > 0 && !want[v.Name] {
			continue
		}
		if !inBase[v.Name] {
			warnings = append(warnings, fmt.Sprintf("variant %s is not in the base run %s: not compared", v.Name, bm.RunID))
			continue
		}
		sides = append(sides, Side{baseDir, v.Name}, Side{newDir, v.Name})
		pairs = append(pairs, [2]int{len(sides) - 2, len(sides) - 1})
	}
	for _, v := range bm.Variants {
		found := false
		for _, n := range nm.Variants {
			found = found || n.Name == v.Name
		}
		if !found && (len(want) == 0 || want[v.Name]) {
			warnings = append(warnings, fmt.Sprintf("variant %s of the base run is not in the new run %s", v.Name, nm.RunID))
		}
	}
	for v := range want {
		if !inBase[v] {
			warnings = append(warnings, fmt.Sprintf("variant %s was asked for but is not in both runs", v))
		}
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("runs %s and %s have no variant in common to compare", bm.RunID, nm.RunID)
	}
	r, err := Build(sides, pairs, opts)
	if err != nil {
		return nil, err
	}
	sort.Strings(warnings)
	r.Warnings = append(r.Warnings, warnings...)
	return r, nil
}

// Build computes the report of sides (baseline first) with the paired
// comparisons pairs (indexes into sides: B against A).
func Build(sides []Side, pairs [][2]int, opts Options) (*Report, error) {
	opts.defaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	opts.PAdjust = strings.ToLower(opts.PAdjust)
	r := &Report{FormatVersion: FormatVersion, Kind: "compare", Alpha: opts.Alpha,
		PAdjust: opts.PAdjust, ZeroMethod: opts.ZeroMethod,
		Runs: []RunRef{}, Variants: []VariantStats{}, Comparisons: []Comparison{}, Pairwise: []PairSummary{},
		Ranking: []Rank{}, Gates: []GateResult{}, Warnings: []string{}}
	manifests := map[string]*results.Manifest{}
	usage := map[string]map[string]judgeUsage{} // dir -> variant -> judges' model calls
	var data []*sideData
	for _, s := range sides {
		m := manifests[s.Dir]
		if m == nil {
			var err error
			if m, err = results.ReadManifest(s.Dir); err != nil {
				return nil, err
			}
			manifests[s.Dir] = m
			ref := RunRef{RunID: m.RunID, Dir: s.Dir, Name: m.Name, Status: m.Status, Mode: m.Mode,
				StartedAt: m.StartedAt.UTC().Format("2006-01-02T15:04:05Z")}
			if m.Git != nil {
				ref.GitCommit = m.Git.Commit
			}
			r.Runs = append(r.Runs, ref)
			if m.Status != results.RunCompleted {
				r.Warnings = append(r.Warnings, fmt.Sprintf("run %s is %s, not completed: its figures cover only what it stored", m.RunID, m.Status))
			}
		}
		d, err := loadSide(s, m, opts.ErrorsAs == ErrorsFail)
		if err != nil {
			return nil, err
		}
		if _, ok := usage[s.Dir]; !ok {
			if usage[s.Dir], err = readJudgeUsage(filepath.Join(s.Dir, results.TracesFile)); err != nil {
				return nil, err
			}
		}
		u := usage[s.Dir][s.Variant]
		d.stats.JudgePromptTokens, d.stats.JudgeCompletionTokens = u.promptTokens, u.completionTokens
		d.stats.JudgeCostUSD, d.stats.JudgeCalls, d.stats.JudgeUnpriced = u.costUSD, u.calls, u.unpriced
		data = append(data, d)
	}
	labelSides(data)
	for _, d := range data {
		d.stats.Name = d.label
		r.Variants = append(r.Variants, d.stats)
	}
	for _, p := range pairs {
		c, err := compare(data[p[0]], data[p[1]], opts)
		if err != nil {
			return nil, err
		}
		r.Comparisons = append(r.Comparisons, c)
	}
	if err := r.adjustPValues(opts); err != nil {
		return nil, err
	}
	if err := r.addPairwise(data); err != nil {
		return nil, err
	}
	for _, d := range data {
		for _, js := range d.stats.Judges {
			if js.JudgeErrors > 0 {
				r.Warnings = append(r.Warnings, fmt.Sprintf("%s: %d judge errors on %s are left out of its figures", d.label, js.JudgeErrors, js.Judge))
			}
		}
		if d.stats.Errors > 0 {
			if opts.ErrorsAs == ErrorsFail {
				r.Warnings = append(r.Warnings, fmt.Sprintf("%s: %d of %d results failed (chain or model errors) and count as failed verdicts", d.label, d.stats.Errors, d.stats.Results))
			} else {
				r.Warnings = append(r.Warnings, fmt.Sprintf("%s: %d of %d results failed (chain or model errors) and have no scores", d.label, d.stats.Errors, d.stats.Results))
			}
		}
	}
	if err := r.evaluateGates(sides, pairs, opts); err != nil {
		return nil, err
	}
	return r, nil
}

// evaluateGates checks opts.Gates on r. A gate whose Alternative or
// ErrorsAs differs from the report's is checked on the report built with
// them (its tests, p-value adjustment and pass rates), so that, say, a
// max_drop gate asking for the one-sided "less" reads that test's p.
func (r *Report) evaluateGates(sides []Side, pairs [][2]int, opts Options) error {
	type mode struct{ alt, errs string }
	var same []Gate
	other := map[mode][]Gate{}
	var modes []mode
	for _, g := range opts.Gates {
		m := mode{g.Alternative, g.ErrorsAs}
		if m.alt == "" {
			m.alt = opts.Alternative
		}
		if m.errs == "" {
			m.errs = opts.ErrorsAs
		}
		if m.alt == opts.Alternative && m.errs == opts.ErrorsAs {
			same = append(same, g)
			continue
		}
		if _, ok := other[m]; !ok {
			modes = append(modes, m)
		}
		other[m] = append(other[m], g)
	}
	if len(same) > 0 {
		r.EvaluateGates(same)
	}
	for _, m := range modes {
		o := opts
		o.Alternative, o.ErrorsAs, o.Gates = m.alt, m.errs, nil
		sub, err := Build(sides, pairs, o)
		if err != nil {
			return fmt.Errorf("gates with alternative %s, errors as %s: %w", m.alt, m.errs, err)
		}
		sub.EvaluateGates(other[m])
		r.Gates = append(r.Gates, sub.Gates...)
	}
	return nil
}

// judgeUsage sums one variant's judge model calls.
type judgeUsage struct {
	promptTokens, completionTokens int64
	costUSD                        float64
	calls, unpriced                int
}

// readJudgeUsage sums, per variant, the tokens and cost of the model calls
// judges made: the llm spans below a judge span in traces.parquet. A
// trace's spans are stored together, so the file is read one trace at a
// time and memory stays that of one trace. A run whose judges called no
// model may have no traces file: it has no judge usage.
func readJudgeUsage(path string) (map[string]judgeUsage, error) {
	out := map[string]judgeUsage{}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	var trace []traces.Record
	flush := func() {
		byID := make(map[string]*traces.Record, len(trace))
		for i := range trace {
			byID[trace[i].SpanID] = &trace[i]
		}
		for _, rec := range trace {
			if rec.Kind != traces.KindLLM || !belowJudge(rec, byID) {
				continue
			}
			u := out[rec.Variant]
			u.calls++
			u.promptTokens += attrInt(rec.Attributes, "prompt_tokens")
			u.completionTokens += attrInt(rec.Attributes, "completion_tokens")
			if c, ok := rec.Attributes["cost_usd"].(float64); ok {
				u.costUSD += c
			} else {
				u.unpriced++
			}
			out[rec.Variant] = u
		}
		trace = trace[:0]
	}
	err := traces.ReadFile(path, func(rec traces.Record) error {
		if len(trace) > 0 && trace[0].TraceID != rec.TraceID {
			flush()
		}
		trace = append(trace, rec)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("judge tokens and cost: %w", err)
	}
	flush()
	return out, nil
}

// belowJudge reports whether one of rec's ancestors is a judge span.
func belowJudge(rec traces.Record, byID map[string]*traces.Record) bool {
	for range len(byID) { // at most every span once, whatever the parent links
		p := byID[rec.ParentID]
		if rec.ParentID == "" || p == nil {
			return false
		}
		if p.Kind == traces.KindJudge {
			return true
		}
		rec = *p
	}
	return false
}

// attrInt reads a whole-number span attribute (JSON numbers decode as
// float64).
func attrInt(attrs map[string]any, key string) int64 {
	if x, ok := attrs[key].(float64); ok && finite(x) {
		return int64(x)
	}
	return 0
}

// meanInterval is the mean of scores with its 95% interval. When every
// score is 0 or 1 the mean is a pass rate, and its interval is Wilson's: a
// Student-t interval of 1 pass in 2 reaches from -5.9 to 6.9. Otherwise it
// is Student's t, cut to [0, 1] when every score lies in 0..1 (the range
// of a judge's normalised score).
func meanInterval(scores []float64) (float64, stats.Interval) {
	mean, ci := stats.MeanCI(scores, 0.95)
	passed := 0
	for _, x := range scores {
		switch x {
		case 1:
			passed++
		case 0:
		default:
			return mean, clampUnit(ci, scores)
		}
	}
	if len(scores) > 0 {
		ci = stats.Wilson(passed, len(scores), 0.95)
	}
	return mean, ci
}

// clampUnit cuts ci to [0, 1] when every score lies in 0..1, so that no
// interval of such scores is shown below 0 or above 1.
func clampUnit(ci stats.Interval, scores []float64) stats.Interval {
	for _, x := range scores {
		if !(x >= 0 && x <= 1) {
			return ci
		}
	}
	if !math.IsNaN(ci.Lo) {
		ci.Lo = math.Max(ci.Lo, 0)
	}
	if !math.IsNaN(ci.Hi) {
		ci.Hi = math.Min(ci.Hi, 1)
	}
	return ci
}

// labelSides names each side by its variant, or run:variant when two sides
// share a variant name.
func labelSides(data []*sideData) {
	count := map[string]int{}
	for _, d := range data {
		count[d.side.Variant]++
	}
	for _, d := range data {
		d.label = d.side.Variant
		if count[d.side.Variant] > 1 {
			d.label = d.run.RunID + ":" + d.side.Variant
		}
	}
}

// perExample averages a judge's valid verdicts per example over epochs.
type exampleScore struct {
	mean  float64
	pass  float64 // fraction of epochs passed
	n     int
	first int32 // the first epoch seen, for showing texts
}

func perExample(vm map[key]verdict) map[string]*exampleScore {
	out := map[string]*exampleScore{}
	keys := make([]key, 0, len(vm))
	for k := range vm {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].example != keys[j].example {
			return keys[i].example < keys[j].example
		}
		return keys[i].epoch < keys[j].epoch
	})
	for _, k := range keys {
		v := vm[k]
		if v.status != results.ScoreOK || !(v.scored || v.hasPass) {
			continue
		}
		e := out[k.example]
		if e == nil {
			e = &exampleScore{first: k.epoch}
			out[k.example] = e
		}
		e.n++
		e.mean += (v.score - e.mean) / float64(e.n)
		e.pass += (b2f(v.hasPass && v.pass) - e.pass) / float64(e.n)
	}
	return out
}

// compare computes B against A.
func compare(a, b *sideData, opts Options) (Comparison, error) {
	c := Comparison{A: a.label, B: b.label, OnlyA: []string{}, OnlyB: []string{}, Judges: []JudgeComparison{}}
	inA, inB := map[key]bool{}, map[key]bool{}
	exA, exB := map[string]bool{}, map[string]bool{}
	for _, k := range a.order {
		inA[k], exA[k.example] = true, true
	}
	for _, k := range b.order {
		inB[k], exB[k.example] = true, true
	}
	for _, k := range b.order {
		if inA[k] {
			c.Paired++
		}
	}
	for _, k := range a.order {
		if !exB[k.example] && !contains(c.OnlyA, k.example) {
			c.OnlyA = append(c.OnlyA, k.example)
		}
	}
	for _, k := range b.order {
		if !exA[k.example] && !contains(c.OnlyB, k.example) {
			c.OnlyB = append(c.OnlyB, k.example)
		}
	}
	for _, judge := range a.judges {
		vb, ok := b.verdicts[judge]
		if !ok || a.types[judge] == "" && b.types[judge] == "" {
			continue
		}
		if !ok {
			continue
		}
		c.Judges = append(c.Judges, compareJudge(a, b, judge, a.verdicts[judge], vb, opts))
	}
	if err := fillTexts(a, b, &c); err != nil {
		return c, err
	}
	return c, nil
}

// adjustPValues adjusts the p-values of every judge of every comparison
// of r as one family (opts.PAdjust; a judge without a test keeps NaN,
// which is no evidence and does not count in the family) and sets each
// judge's verdict from its adjusted p-value.
func (r *Report) adjustPValues(opts Options) error {
	var ps []float64
	for _, c := range r.Comparisons {
		for _, jc := range c.Judges {
			ps = append(ps, jc.P)
		}
	}
	adj, err := stats.PAdjust(ps, opts.PAdjust)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	k := 0
	for ci := range r.Comparisons {
		for i := range r.Comparisons[ci].Judges {
			jc := &r.Comparisons[ci].Judges[i]
			jc.PAdjusted = adj[k]
			k++
			switch {
			case jc.N < 2 || math.IsNaN(jc.PAdjusted):
				jc.Verdict = VerdictNotEnoughData
			case jc.PAdjusted < opts.Alpha && jc.Direction > 0:
				jc.Verdict = VerdictImproved
			case jc.PAdjusted < opts.Alpha && jc.Direction < 0:
				jc.Verdict = VerdictRegressed
			default:
				jc.Verdict = VerdictNoDifference
			}
		}
	}
	return nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func compareJudge(a, b *sideData, judge string, va, vb map[key]verdict, opts Options) JudgeComparison {
	jc := JudgeComparison{Judge: judge, Alternative: opts.Alternative, Statistic: math.NaN(), P: math.NaN(), PRaw: math.NaN(), PAdjusted: math.NaN(), Regressions: []ExampleChange{}, Improvements: []ExampleChange{}}
	ea, eb := perExample(va), perExample(vb)
	type pair struct {
		id     string
		idx    int64
		sa, sb *exampleScore
	}
	var pairs []pair
	for id, sa := range ea {
		if sb, ok := eb[id]; ok {
			pairs = append(pairs, pair{id, a.index[id], sa, sb})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].idx != pairs[j].idx {
			return pairs[i].idx < pairs[j].idx
		}
		return pairs[i].id < pairs[j].id
	})
	jc.N = len(pairs)
	if jc.N == 0 {
		jc.DiffCI = stats.Interval{Lo: math.NaN(), Hi: math.NaN()}
		jc.DiffCINormal = jc.DiffCI
		jc.MDE = math.NaN()
		return jc
	}
	diffs := make([]float64, len(pairs))
	var discA, discB int // pass→fail, fail→pass
	for i, p := range pairs {
		diffs[i] = p.sb.mean - p.sa.mean
		jc.MeanA += p.sa.mean
		jc.MeanB += p.sb.mean
		jc.PassRateA += p.sa.pass
		jc.PassRateB += p.sb.pass
		switch {
		case diffs[i] > 0:
			jc.Improved++
		case diffs[i] < 0:
			jc.Regressed++
		default:
			jc.Equal++
		}
		if p.sa.pass == 1 && p.sb.pass == 0 {
			discA++
		}
		if p.sa.pass == 0 && p.sb.pass == 1 {
			discB++
		}
	}
	n := float64(jc.N)
	jc.MeanA /= n
	jc.MeanB /= n
	jc.PassRateA /= n
	jc.PassRateB /= n
	jc.Diff = jc.MeanB - jc.MeanA
	jc.DiffCI = stats.PairedBootstrapCI(diffs, 0.95, opts.Bootstrap, opts.Seed)
	jc.DiffCINormal = stats.NormalCI(diffs, 0.95)
	alt := stats.Alternative(opts.Alternative)
	oneSided := alt != stats.TwoSided
	jc.Scale = judgeScale(a, b, judge)
	test := opts.Test
	if test == TestAuto {
		switch {
		case jc.Scale == scaleBinary && a.stats.Epochs <= 1 && b.stats.Epochs <= 1:
			test = "mcnemar"
		case jc.Scale == scaleOrdinal:
			test = TestSign
		default:
			test = TestWilcoxon
		}
	}
	switch test {
	case TestT:
		jc.Test, jc.Method = "paired_t", "t"
		t := stats.PairedTTest(diffs, alt, 0.95)
		jc.Statistic, jc.P = t.T, t.P
		jc.T, jc.DF = ptr(t.T), ptr(t.DF)
		if !math.IsNaN(t.CI.Lo) {
			ci := t.CI
			jc.DiffCIT = &ci
		}
		if math.IsNaN(t.P) {
			jc.Method = ""
		}
		jc.Direction = signOf(jc.Diff)
	case TestSign:
		jc.Test, jc.Method = "sign", "exact"
		s := stats.SignTest(diffs, alt)
		jc.Statistic, jc.P = float64(s.Pos), s.P
		jc.Direction = signOf(float64(s.Pos - s.Neg))
	case "mcnemar":
		jc.Test = "mcnemar_exact"
		jc.Method = "exact"
		jc.Statistic = float64(discA)
		jc.P = stats.McNemarExactAlt(discA, discB, alt)
		jc.Direction = signOf(float64(discB - discA))
		disc := float64(discA+discB) / n
		if disc == 0 {
			disc = math.NaN() // no example changed: fall back to the conservative bound
		}
		baseline := jc.PassRateA
		if alt == stats.Less {
			// A drop from p is a rise from 1 − p with the roles swapped.
			baseline = 1 - jc.PassRateA
		}
		jc.MDE = stats.McNemarMDESided(jc.N, baseline, disc, opts.Alpha, Power, oneSided)
		jc.MDEMethod = MDEMcNemar
	default:
		jc.Test = "wilcoxon_signed_rank"
		w := stats.Wilcoxon(diffs, stats.WilcoxonOptions{ZeroMethod: opts.ZeroMethod, Correction: true, Alternative: alt})
		jc.Method, jc.Statistic, jc.P = w.Method, w.V, w.P
		jc.Direction = signOf(w.V - float64(w.N*(w.N+1))/4)
		if !math.IsNaN(w.Z) {
			z := w.Z
			jc.Z = &z
			jc.Direction = signOf(w.Z)
		}
	}
	if jc.MDEMethod != MDEMcNemar {
		jc.MDE, jc.MDEMethod = stats.PairedT{Alpha: opts.Alpha, OneSided: oneSided, Strict: true}.Effect(n, Power)*sd(diffs), MDEPairedT
		if opts.MDEMethod == MDENormal {
			jc.MDE, jc.MDEMethod = stats.PairedNormalEffect(n, opts.Alpha, Power, oneSided)*sd(diffs), MDENormal
		}
	}
	jc.PRaw = jc.P
	// The examples that changed most, by the size of the change, ties by
	// dataset order.
	order := make([]int, len(pairs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return diffs[order[i]] < diffs[order[j]] })
	for _, i := range order {
		if diffs[i] >= 0 || len(jc.Regressions) >= opts.TopK {
			break
		}
		p := pairs[i]
		jc.Regressions = append(jc.Regressions, ExampleChange{ExampleID: p.id, Epoch: int(p.sb.first),
			ScoreA: p.sa.mean, ScoreB: p.sb.mean, PassA: p.sa.pass >= 0.5, PassB: p.sb.pass >= 0.5})
	}
	for k := len(order) - 1; k >= 0; k-- {
		i := order[k]
		if diffs[i] <= 0 || len(jc.Improvements) >= opts.TopK {
			break
		}
		p := pairs[i]
		jc.Improvements = append(jc.Improvements, ExampleChange{ExampleID: p.id, Epoch: int(p.sb.first),
			ScoreA: p.sa.mean, ScoreB: p.sb.mean, PassA: p.sa.pass >= 0.5, PassB: p.sb.pass >= 0.5})
	}
	return jc
}

// The judge scales of a run's manifest (judges.Scale's values).
const (
	scaleBinary     = "binary"
	scaleOrdinal    = "ordinal"
	scaleContinuous = "continuous"
)

// judgeScale is the scale of judge on sides a and b: the one a run
// declares (A's first), else binary when every score of both sides is 0
// or 1 and continuous otherwise. A declared binary judge with graded
// scores is continuous.
func judgeScale(a, b *sideData, judge string) string {
	graded := a.graded[judge] || b.graded[judge]
	scale := a.scales[judge]
	if scale == "" {
		scale = b.scales[judge]
	}
	switch {
	case scale == "" && !graded, scale == scaleBinary && !graded:
		return scaleBinary
	case scale == "" || scale == scaleBinary:
		return scaleContinuous
	}
	return scale
}

// signOf is the sign of x: 1, -1 or 0 (NaN included).
func signOf(x float64) int {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

func sd(xs []float64) float64 {
	if len(xs) < 2 {
		return math.NaN()
	}
	var m float64
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (x - m) * (x - m)
	}
	return math.Sqrt(ss / float64(len(xs)-1))
}

// fillTexts reads the inputs, outputs, reasons and trace ids of the
// examples a comparison shows, from both sides' files.
func fillTexts(a, b *sideData, c *Comparison) error {
	need := map[key]bool{}
	for _, jc := range c.Judges {
		for _, ch := range append(append([]ExampleChange{}, jc.Regressions...), jc.Improvements...) {
			need[key{ch.ExampleID, int32(ch.Epoch)}] = true
		}
	}
	if len(need) == 0 {
		return nil
	}
	type texts struct {
		input, output, expected, trace string
		reasons                        map[string]string
	}
	read := func(d *sideData) (map[key]*texts, error) {
		out := map[key]*texts{}
		err := results.ReadResults(filepath.Join(d.side.Dir, results.ResultsFile), func(r results.Result) error {
			k := key{r.ExampleID, r.Epoch}
			if r.Variant != d.side.Variant || !need[k] {
				return nil
			}
			out[k] = &texts{input: r.Input, output: r.Output, expected: results.Deref(r.Expected), trace: r.TraceID, reasons: map[string]string{}}
			if r.Status != results.StatusOK {
				out[k].output = "(error) " + results.Deref(r.Error)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		err = results.ReadScores(filepath.Join(d.side.Dir, results.ScoresFile), func(s results.Score) error {
			k := key{s.ExampleID, s.Epoch}
			if s.Variant != d.side.Variant || s.OtherVariant != nil || out[k] == nil {
				return nil
			}
			reason := results.Deref(s.Reason)
			if s.Status == results.ScoreJudgeError {
				reason = "judge error: " + results.Deref(s.Error)
			}
			out[k].reasons[s.Judge] = reason
			return nil
		})
		return out, err
	}
	ta, err := read(a)
	if err != nil {
		return err
	}
	tb, err := read(b)
	if err != nil {
		return err
	}
	fill := func(judge string, ch *ExampleChange) {
		k := key{ch.ExampleID, int32(ch.Epoch)}
		if t := tb[k]; t != nil {
			ch.Input, ch.Expected, ch.OutputB, ch.TraceB, ch.ReasonB = t.input, t.expected, t.output, t.trace, t.reasons[judge]
		}
		// Side A's texts: the same epoch, else its first.
		t := ta[k]
		if t == nil {
			for kk, tt := range ta {
				if kk.example == ch.ExampleID && (t == nil || kk.epoch < k.epoch) {
					t = tt
				}
			}
		}
		if t != nil {
			if ch.Input == "" {
				ch.Input, ch.Expected = t.input, t.expected
			}
			ch.OutputA, ch.TraceA, ch.ReasonA = t.output, t.trace, t.reasons[judge]
		}
	}
	for i := range c.Judges {
		jc := &c.Judges[i]
		for j := range jc.Regressions {
			fill(jc.Judge, &jc.Regressions[j])
		}
		for j := range jc.Improvements {
			fill(jc.Judge, &jc.Improvements[j])
		}
	}
	return nil
}

// addPairwise tallies the pairwise judges' verdicts between the report's
// variants of the same run, and ranks three or more of them with a
// Bradley–Terry model.
func (r *Report) addPairwise(data []*sideData) error {
	byRun := map[string][]*sideData{}
	var dirs []string
	for _, d := range data {
		if _, ok := byRun[d.side.Dir]; !ok {
			dirs = append(dirs, d.side.Dir)
		}
		byRun[d.side.Dir] = append(byRun[d.side.Dir], d)
	}
	for _, dir := range dirs {
		label := map[string]string{}
		for _, d := range byRun[dir] {
			label[d.side.Variant] = d.label
		}
		tallies := map[[3]string]*PairSummary{}
		err := results.ReadScores(filepath.Join(dir, results.ScoresFile), func(s results.Score) error {
			if s.OtherVariant == nil {
				return nil
			}
			la, lb := label[*s.OtherVariant], label[s.Variant]
			if la == "" || lb == "" {
				return nil
			}
			k := [3]string{s.Judge, la, lb}
			p := tallies[k]
			if p == nil {
				p = &PairSummary{Judge: s.Judge, A: la, B: lb}
				tallies[k] = p
			}
			tallyPair(p, s)
			return nil
		})
		if err != nil {
			return err
		}
		var ps []PairSummary
		for _, p := range tallies {
			ps = append(ps, *p)
		}
		sort.Slice(ps, func(i, j int) bool {
			return strings.Join([]string{ps[i].Judge, ps[i].A, ps[i].B}, "\x00") < strings.Join([]string{ps[j].Judge, ps[j].A, ps[j].B}, "\x00")
		})
		r.Pairwise = append(r.Pairwise, ps...)
		ranks, err := rankPairs(ps)
		if err != nil {
			r.Warnings = append(r.Warnings, "no Bradley–Terry ranking: "+err.Error())
		}
		r.Ranking = append(r.Ranking, ranks...)
	}
	return nil
}

// rankPairs fits a Bradley–Terry model per pairwise judge with three or
// more variants; a tie counts as half a win to each side.
func rankPairs(ps []PairSummary) ([]Rank, error) {
	byJudge := map[string][]PairSummary{}
	var judges []string
	for _, p := range ps {
		if _, ok := byJudge[p.Judge]; !ok {
			judges = append(judges, p.Judge)
		}
		byJudge[p.Judge] = append(byJudge[p.Judge], p)
	}
	var out []Rank
	var errs []error
	for _, j := range judges {
		idx := map[string]int{}
		var names []string
		for _, p := range byJudge[j] {
			for _, v := range []string{p.A, p.B} {
				if _, ok := idx[v]; !ok {
					idx[v] = len(names)
					names = append(names, v)
				}
			}
		}
		if len(names) < 3 {
			continue
		}
		wins := make([][]float64, len(names))
		for i := range wins {
			wins[i] = make([]float64, len(names))
		}
		for _, p := range byJudge[j] {
			a, b := idx[p.A], idx[p.B]
			wins[b][a] += float64(p.Wins) + float64(p.Ties)/2
			wins[a][b] += float64(p.Losses) + float64(p.Ties)/2
		}
		scores, cis, err := stats.BradleyTerry(wins)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", j, err))
			continue
		}
		var ranks []Rank
		for i, n := range names {
			ranks = append(ranks, Rank{Judge: j, Variant: n, Score: scores[i], CI: cis[i]})
		}
		sort.SliceStable(ranks, func(x, y int) bool { return ranks[x].Score > ranks[y].Score })
		out = append(out, ranks...)
	}
	return out, errors.Join(errs...)
}
