package report

import (
	"math"

	"github.com/gavel-eval/gavel/report/stats"
)

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
