package report

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/report/stats"
)

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
	alt := opts.Alternative
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
