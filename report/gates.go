package report

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/report/stats"
)

// Gate is a quality gate. Absolute thresholds apply to each gated variant
// (the B side of every comparison, or every variant of a report without
// comparisons); MaxDrop applies to each comparison: it fails only when B's
// drop below A is larger than MaxDrop AND statistically significant after
// the report's p-value adjustment (Holm by default) — so a gate fails a real regression and
// not noise. A MaxDrop without a Judge applies to every pass/fail judge
// (one whose scores are all 0 or 1) that has no MaxDrop of its own.
type Gate struct {
	// Judge is the judge the score gates read; empty for run-level gates
	// (error rate, cost, latency).
	Judge           string
	MinPassRate     *float64
	MinMean         *float64
	MaxErrorRate    *float64
	MaxDrop         *float64
	MaxCost         *float64
	MaxP95LatencyMS *float64
	// Alternative and ErrorsAs, when set and different from the report's
	// Options, are the alternative and the treatment of errored results
	// under which this gate is checked: its figures come from the report
	// computed with them.
	Alternative stats.Alternative
	ErrorsAs    ErrorsAs
}

// Failed reports whether any evaluated gate failed.
func (r *Report) Failed() bool {
	for _, g := range r.Gates {
		if !g.Passed {
			return true
		}
	}
	return false
}

// gateKinds are the thresholds of a Gate, in the order EvaluateGates
// checks them.
var gateKinds = []func(*Gate) **float64{
	func(g *Gate) **float64 { return &g.MinPassRate },
	func(g *Gate) **float64 { return &g.MinMean },
	func(g *Gate) **float64 { return &g.MaxErrorRate },
	func(g *Gate) **float64 { return &g.MaxDrop },
	func(g *Gate) **float64 { return &g.MaxCost },
	func(g *Gate) **float64 { return &g.MaxP95LatencyMS },
}

// MergeGates returns the gates of lists, each threshold of a judge (or of
// the run, for gates without a judge) once: a later list's threshold
// replaces an earlier one of the same judge and kind in place (flags given
// after the spec's gates override them), and a repeated one is not
// checked twice. Gates are otherwise kept as given.
func MergeGates(lists ...[]Gate) []Gate {
	var out []Gate
	for _, list := range lists {
		for _, g := range list {
			for _, kind := range gateKinds {
				v := *kind(&g)
				if v == nil {
					continue
				}
				for i := range out {
					if out[i].Judge == g.Judge && *kind(&out[i]) != nil {
						x := *v
						*kind(&out[i]) = &x
						*kind(&g) = nil
						break
					}
				}
			}
			for _, kind := range gateKinds {
				if *kind(&g) != nil {
					out = append(out, g)
					break
				}
			}
		}
	}
	return out
}

// RunGates returns the gates to check on the stored run in dir, for
// Options.Gates: of specGates, the gates of the spec the run was made from,
// those that apply to the run — gates on no judge and gates on a judge the
// run has scores of (a run that re-graded only some of its spec's judges
// has no scores of the others) — with each list of extra (gates given on
// the command line, say) merged over them by MergeGates, so that a later
// threshold of the same judge and kind replaces an earlier one.
//
// specGates come decoded: report reads no specs. The gavel command takes
// them from the spec it ran, or from the spec stored in the run's
// manifest; pass nil to check extra alone. RunGates reads the run's
// manifest only.
func RunGates(dir string, specGates []Gate, extra ...[]Gate) ([]Gate, error) {
	m, err := results.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	var kept []Gate
	for _, g := range specGates {
		if g.Judge == "" || slices.ContainsFunc(m.Judges, func(j results.Judge) bool { return j.Name == g.Judge }) {
			kept = append(kept, g)
		}
	}
	return MergeGates(append([][]Gate{kept}, extra...)...), nil
}

// EvaluateGates checks gates against the report's figures and appends the
// results to r.Gates.
func (r *Report) EvaluateGates(gates []Gate) {
	gated := map[string]bool{}
	for _, c := range r.Comparisons {
		gated[c.B] = true
	}
	var targets []VariantStats
	for _, v := range r.Variants {
		if len(gated) == 0 || gated[v.Name] {
			targets = append(targets, v)
		}
	}
	add := func(g GateResult) { r.Gates = append(r.Gates, g) }
	for _, g := range gates {
		for _, v := range targets {
			if g.Judge != "" {
				js := findJudge(v, g.Judge)
				if js == nil {
					if g.MinPassRate != nil || g.MinMean != nil {
						add(GateResult{Gate: gateName(g.Judge, "judge"), Judge: g.Judge, Variant: v.Name, Passed: false,
							Value: math.NaN(), Detail: fmt.Sprintf("%s has no scores from judge %s", v.Name, g.Judge)})
					}
				} else {
					if g.MinPassRate != nil {
						val := deref(js.PassRate)
						ok := js.PassRate != nil && val >= *g.MinPassRate
						add(GateResult{Gate: gateName(g.Judge, fmt.Sprintf("min_pass_rate %g", *g.MinPassRate)), Judge: g.Judge, Variant: v.Name,
							Passed: ok, Value: val, Threshold: *g.MinPassRate,
							Detail: fmt.Sprintf("%s: pass rate %s (%d/%d valid)", v.Name, pctOrNA(js.PassRate), js.Passed, js.Valid)})
					}
					if g.MinMean != nil {
						val := deref(js.Mean)
						ok := js.Mean != nil && val >= *g.MinMean
						add(GateResult{Gate: gateName(g.Judge, fmt.Sprintf("min_mean %g", *g.MinMean)), Judge: g.Judge, Variant: v.Name,
							Passed: ok, Value: val, Threshold: *g.MinMean,
							Detail: fmt.Sprintf("%s: mean score %s over %d scored", v.Name, numOrNA(js.Mean), js.Scored)})
					}
				}
			}
			if g.MaxErrorRate != nil {
				rate := v.ErrorRate
				detail := fmt.Sprintf("%s: %d of %d results failed", v.Name, v.Errors, v.Results)
				if js := findJudge(v, g.Judge); g.Judge != "" && js != nil {
					// A judge's error rate counts its judge errors too.
					total := js.Valid + js.JudgeErrors + js.Skipped
					if total > 0 {
						rate = float64(js.JudgeErrors+js.Skipped) / float64(total)
					}
					detail = fmt.Sprintf("%s: %d chain errors and %d judge errors of %d", v.Name, js.Skipped, js.JudgeErrors, total)
				}
				add(GateResult{Gate: gateName(g.Judge, fmt.Sprintf("max_error_rate %g", *g.MaxErrorRate)), Judge: g.Judge, Variant: v.Name,
					Passed: rate <= *g.MaxErrorRate, Value: rate, Threshold: *g.MaxErrorRate, Detail: detail})
			}
			if g.MaxCost != nil {
				detail := fmt.Sprintf("%s: cost $%.4f", v.Name, v.CostUSD)
				if v.Unpriced > 0 {
					detail += fmt.Sprintf(" (%d results unpriced, not counted)", v.Unpriced)
				}
				add(GateResult{Gate: gateName(g.Judge, fmt.Sprintf("max_cost %g", *g.MaxCost)), Variant: v.Name,
					Passed: v.CostUSD <= *g.MaxCost, Value: v.CostUSD, Threshold: *g.MaxCost, Detail: detail})
			}
			if g.MaxP95LatencyMS != nil {
				ok := !math.IsNaN(v.LatencyP95) && v.LatencyP95 <= *g.MaxP95LatencyMS
				add(GateResult{Gate: gateName(g.Judge, fmt.Sprintf("max_p95_latency_ms %g", *g.MaxP95LatencyMS)), Variant: v.Name,
					Passed: ok, Value: v.LatencyP95, Threshold: *g.MaxP95LatencyMS,
					Detail: fmt.Sprintf("%s: p95 latency %.1f ms", v.Name, v.LatencyP95)})
			}
		}
		if g.MaxDrop == nil {
			continue
		}
		if g.Judge != "" {
			for _, c := range r.Comparisons {
				r.maxDrop(g.Judge, *g.MaxDrop, c)
			}
			continue
		}
		// Every pass/fail judge without a max_drop of its own.
		own := map[string]bool{}
		for _, o := range gates {
			if o.Judge != "" && o.MaxDrop != nil {
				own[o.Judge] = true
			}
		}
		for _, c := range r.Comparisons {
			for _, jc := range c.Judges {
				if !own[jc.Judge] && r.passFail(jc.Judge, c) {
					r.maxDrop(jc.Judge, *g.MaxDrop, c)
				}
			}
		}
	}
}

// passFail reports whether judge gave only 0 or 1 scores on both sides of
// comparison c.
func (r *Report) passFail(judge string, c Comparison) bool {
	seen := 0
	for _, v := range r.Variants {
		if v.Name != c.A && v.Name != c.B {
			continue
		}
		js := findJudge(v, judge)
		if js == nil || js.Graded {
			return false
		}
		seen++
	}
	return seen > 0
}

// maxDrop evaluates a max_drop gate of judge on comparison c.
func (r *Report) maxDrop(judge string, threshold float64, c Comparison) {
	var jc *JudgeComparison
	for i := range c.Judges {
		if c.Judges[i].Judge == judge {
			jc = &c.Judges[i]
		}
	}
	name := gateName(judge, fmt.Sprintf("max_drop %g", threshold))
	if jc == nil || jc.N == 0 {
		r.Gates = append(r.Gates, GateResult{Gate: name, Judge: judge, Variant: c.B, Passed: false, Value: math.NaN(), Threshold: threshold,
			Detail: fmt.Sprintf("%s vs %s: no paired examples judged by %s", c.B, c.A, judge)})
		return
	}
	drop := -jc.Diff
	if jc.Alternative == stats.Greater {
		// A test of "B better" has no power against a drop: the gate
		// cannot pass on its p-value.
		r.Gates = append(r.Gates, GateResult{Gate: name, Judge: judge, Variant: c.B, Passed: false, Value: drop, Threshold: threshold,
			Detail: fmt.Sprintf("%s vs %s: the test's alternative is greater (B better), which cannot detect a drop; use two-sided or less", c.B, c.A)})
		return
	}
	significant := !math.IsNaN(jc.PAdjusted) && jc.PAdjusted < r.Alpha
	ok := !(drop > threshold && significant)
	detail := fmt.Sprintf("%s vs %s: change %+.4f [%+.4f, %+.4f], p = %.4g (%s; raw %.4g, %s), n = %d",
		c.B, c.A, jc.Diff, jc.DiffCI.Lo, jc.DiffCI.Hi, jc.PAdjusted, adjustedP(r), jc.P, testLabel(*jc), jc.N)
	if !ok {
		detail = "significant drop larger than allowed: " + detail
	} else if drop > threshold {
		detail = "drop larger than allowed but not significant (could be noise): " + detail
	}
	r.Gates = append(r.Gates, GateResult{Gate: name, Judge: judge, Variant: c.B, Passed: ok, Value: drop, Threshold: threshold, Detail: detail})
}

func gateName(judge, what string) string {
	if judge == "" {
		return what
	}
	return judge + ": " + what
}

func findJudge(v VariantStats, name string) *JudgeStats {
	for i := range v.Judges {
		if v.Judges[i].Judge == name {
			return &v.Judges[i]
		}
	}
	return nil
}

func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

func pctOrNA(p *float64) string {
	if p == nil {
		return "n/a"
	}
	return strings.TrimSpace(fmt.Sprintf("%.1f%%", 100**p))
}

func numOrNA(p *float64) string {
	if p == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.4f", *p)
}
