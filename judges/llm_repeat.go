package judges

import (
	"context"
	"fmt"
	"math"
)

// repeatKey is the context key of the repeat index.
type repeatKey struct{}

// RepeatIndex returns the index of the repeat that ctx belongs to inside
// Repeat (0 for the first, and outside Repeat). LLM judges add it to their
// seed, so that each repeat is a distinct request that a cache of model
// calls does not answer with the first repeat's reply; a judge of the
// user's own can use it the same way.
func RepeatIndex(ctx context.Context) int {
	i, _ := ctx.Value(repeatKey{}).(int)
	return i
}

// Aggregations of Repeat.
const (
	AggregateMajority = "majority"
	AggregateMean     = "mean"
)

// Repeat returns a judge that runs j k times (k >= 1) on each output and
// stores the agreed verdict. The repeats run one after the other, repeat i
// with RepeatIndex(ctx) = i (nested in another Repeat, the outer index
// times k plus i), so LLM judges send seed+i.
//
// The score is the mean of the repeats' scores (when any has one); the
// pass is, with aggregate "majority", a strict majority of passing
// repeats (a tie fails), and with "mean", mean score >= 0.5 (the majority
// when no repeat has a score); the label is the most frequent one (the
// first seen among equals); the reason is that of the first repeat that
// agrees with the pass, after a count. Details hold:
//
//	repeats  k
//	passes   how many repeats passed
//	scores   the repeats' scores, in order (those that have one)
//	spread   max - min of the scores
//	stdev    the scores' sample standard deviation (n - 1; 0 for one score)
//	flipped  true when the repeats did not all agree on pass
//	errors   how many repeats failed, and error the first failure (when any)
//
// When some repeats fail and some succeed, the successes are aggregated
// (k in Details stays the number asked for; passes and scores count the
// successes). When all fail, the judge fails with the first error.
//
// An invalid k or aggregate gives a judge that fails every call with an
// error saying so.
func Repeat(j Judge, k int, aggregate string) Judge {
	if aggregate == "" {
		aggregate = AggregateMajority
	}
	switch {
	case j == nil:
		return Func(func(context.Context, Input) (Verdict, error) {
			return Verdict{}, fmt.Errorf("repeat: no judge")
		})
	case k < 1:
		return Func(func(context.Context, Input) (Verdict, error) {
			return Verdict{}, fmt.Errorf("repeat: k = %d, want at least 1", k)
		})
	case aggregate != AggregateMajority && aggregate != AggregateMean:
		return Func(func(context.Context, Input) (Verdict, error) {
			return Verdict{}, fmt.Errorf("repeat: unknown aggregate %q (majority or mean)", aggregate)
		})
	}
	return &repeated{j: j, k: k, aggregate: aggregate}
}

type repeated struct {
	j         Judge
	k         int
	aggregate string
}

// CheckTemplates renders the repeated judge's templates, once (see
// TemplateChecker).
func (r *repeated) CheckTemplates(in Input) error {
	if c, ok := r.j.(TemplateChecker); ok {
		return c.CheckTemplates(in)
	}
	return nil
}

// Judge runs the repeats.
func (r *repeated) Judge(ctx context.Context, in Input) (Verdict, error) {
	outer := RepeatIndex(ctx)
	var vs []Verdict
	var errs []error
	for i := 0; i < r.k; i++ {
		if err := ctx.Err(); err != nil {
			return Verdict{}, err
		}
		v, err := r.j.Judge(context.WithValue(ctx, repeatKey{}, outer*r.k+i), in)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		vs = append(vs, v)
	}
	if len(vs) == 0 {
		return Verdict{}, fmt.Errorf("all %d repeats failed: %w", r.k, errs[0])
	}
	agg := aggregateVerdicts(vs, r.aggregate, 0.5)
	det := map[string]any{
		"repeats": r.k,
		"passes":  agg.passes,
		"scores":  agg.scores,
		"spread":  agg.spread,
		"stdev":   agg.stdev,
		"flipped": agg.passes != 0 && agg.passes != len(vs),
	}
	if len(errs) > 0 {
		det["errors"] = len(errs)
		det["error"] = errs[0].Error()
	}
	reason := fmt.Sprintf("%d of %d repeats passed", agg.passes, len(vs))
	if len(errs) > 0 {
		reason += fmt.Sprintf(" (%d failed)", len(errs))
	}
	if agg.reason != "" {
		reason += ": " + agg.reason
	}
	return Verdict{Score: agg.score, Pass: agg.pass, Label: agg.label, Reason: reason, Details: det}, nil
}

// aggregated is the combination of several verdicts on one output.
type aggregated struct {
	pass          bool
	score         *float64
	label, reason string
	passes        int
	scores        []float64
	spread, stdev float64
}

// aggregateVerdicts combines vs (at least one): pass by a strict majority
// ("majority") or by mean score >= threshold ("mean"; the majority when no
// verdict has a score), score the mean of the scores.
func aggregateVerdicts(vs []Verdict, how string, threshold float64) aggregated {
	var a aggregated
	a.scores = []float64{}
	labels := map[string]int{}
	var order []string
	for _, v := range vs {
		if v.Pass {
			a.passes++
		}
		if v.Score != nil {
			a.scores = append(a.scores, *v.Score)
		}
		if v.Label != "" {
			if labels[v.Label] == 0 {
				order = append(order, v.Label)
			}
			labels[v.Label]++
		}
	}
	a.pass = 2*a.passes > len(vs)
	if len(a.scores) > 0 {
		lo, hi, sum := math.Inf(1), math.Inf(-1), 0.0
		for _, s := range a.scores {
			lo, hi, sum = min(lo, s), max(hi, s), sum+s
		}
		mean := sum / float64(len(a.scores))
		a.score = &mean
		a.spread = hi - lo
		if n := len(a.scores); n > 1 {
			var ss float64
			for _, s := range a.scores {
				ss += (s - mean) * (s - mean)
			}
			a.stdev = math.Sqrt(ss / float64(n-1))
		}
		if how == AggregateMean {
			a.pass = mean >= threshold
		}
	}
	best := 0
	for _, l := range order {
		if labels[l] > best {
			a.label, best = l, labels[l]
		}
	}
	for _, v := range vs {
		if v.Pass == a.pass {
			a.reason = v.Reason
			break
		}
	}
	return a
}
