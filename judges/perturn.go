package judges

import (
	"context"
	"fmt"
	"math"
)

// Aggregations of PerTurn.
const (
	TurnMean = "mean"
	TurnMin  = "min"
	TurnAll  = "all"
)

// PerTurn returns a judge that scores every assistant turn of a
// conversation (Input.Turns, oldest first) with j and combines the
// verdicts; with one turn or none it is j on the output. aggregate is:
//
//	mean  the score is the mean of the turns' scores (pass as 1 or 0 for
//	      a turn without one); it passes when at least half the turns do
//	min   the worst turn's score; it passes when every turn does
//	all   the share of the turns that pass; it passes when every one does
//
// A turn the judge cannot decide makes the verdict a judge error naming
// the turn. Details hold each turn's score, pass and reason.
func PerTurn(j Judge, aggregate string) (Judge, error) {
	switch aggregate {
	case "":
		aggregate = TurnMean
	case TurnMean, TurnMin, TurnAll:
	default:
		return nil, fmt.Errorf("turn_aggregate %q: want mean, min or all", aggregate)
	}
	return Func(func(ctx context.Context, in Input) (Verdict, error) {
		if len(in.Turns) <= 1 {
			return j.Judge(ctx, in)
		}
		var scores []float64
		passes := 0
		turns := make([]map[string]any, 0, len(in.Turns))
		for i, out := range in.Turns {
			t := in
			t.Output = out
			v, err := j.Judge(ctx, t)
			if err != nil {
				return Verdict{}, fmt.Errorf("turn %d: %w", i+1, err)
			}
			s := 0.0
			switch {
			case v.Score != nil:
				s = *v.Score
			case v.Pass:
				s = 1
			}
			scores = append(scores, s)
			if v.Pass {
				passes++
			}
			turns = append(turns, map[string]any{"turn": i + 1, "score": s, "pass": v.Pass, "reason": v.Reason})
		}
		n := len(in.Turns)
		var out Verdict
		switch aggregate {
		case TurnMean:
			sum := 0.0
			for _, s := range scores {
				sum += s
			}
			mean := sum / float64(n)
			out = Verdict{Score: &mean, Pass: 2*passes >= n}
		case TurnMin:
			low := math.Inf(1)
			for _, s := range scores {
				low = math.Min(low, s)
			}
			out = Verdict{Score: &low, Pass: passes == n}
		case TurnAll:
			share := float64(passes) / float64(n)
			out = Verdict{Score: &share, Pass: passes == n}
		}
		out.Reason = fmt.Sprintf("%d of %d turns passed (%s %.3f)", passes, n, aggregate, *out.Score)
		for _, t := range turns {
			if !t["pass"].(bool) {
				out.Reason += fmt.Sprintf("; turn %d: %v", t["turn"], t["reason"])
				break
			}
		}
		out.Details = map[string]any{"turns": turns, "turn_aggregate": aggregate}
		return out, nil
	}), nil
}
