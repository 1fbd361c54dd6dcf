package report

import (
	"math"
	"testing"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/report/stats"
)

// TestMeanIntervalStaysInRange: at small n a Student-t interval of a pass
// rate or of 0..1 scores reaches below 0 or above 1. A judge whose scores
// are all 0 or 1 gets Wilson's interval; one whose scores lie in 0..1 gets
// the t interval cut to [0, 1]; scores outside 0..1 keep the plain t
// interval.
func TestMeanIntervalStaysInRange(t *testing.T) {
	cases := []struct {
		name    string
		scores  [][]float64 // per example, per epoch
		wantCI  func(scores []float64) stats.Interval
		bounded bool
	}{
		{"1 of 2 passed", [][]float64{{1}, {0}}, func([]float64) stats.Interval { return stats.Wilson(1, 2, 0.95) }, true},
		{"9 of 10 passed", [][]float64{{1}, {1}, {1}, {1}, {1}, {1}, {1}, {1}, {1}, {0}}, func([]float64) stats.Interval { return stats.Wilson(9, 10, 0.95) }, true},
		{"graded near 1", [][]float64{{0.9}, {1}, {0.95}}, func(s []float64) stats.Interval {
			_, ci := stats.MeanCI(s, 0.95)
			return stats.Interval{Lo: ci.Lo, Hi: 1}
		}, true},
		{"outside 0..1", [][]float64{{2}, {3}, {7}}, func(s []float64) stats.Interval {
			_, ci := stats.MeanCI(s, 0.95)
			return ci
		}, false},
		{"epochs", [][]float64{{1, 1}, {0, 1}, {1, 1}}, func([]float64) stats.Interval { return stats.Wilson(5, 6, 0.95) }, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var rs []results.Result
			var ss []results.Score
			var flat []float64
			for i, ex := range c.scores {
				for e, s := range ex {
					id := "e" + itoa(i)
					rs = append(rs, results.Result{Variant: "v", ExampleID: id, ExampleIndex: int64(i), Epoch: int32(e), Status: results.StatusOK})
					ss = append(ss, results.Score{Variant: "v", ExampleID: id, ExampleIndex: int64(i), Epoch: int32(e), Judge: "j",
						Status: results.ScoreOK, Score: fp(s), Pass: bp(s >= 0.5)})
					flat = append(flat, s)
				}
			}
			r, err := ForRun(writeRun(t, []string{"v"}, []string{"j"}, rs, ss), Options{})
			if err != nil {
				t.Fatal(err)
			}
			js := r.Variants[0].Judges[0]
			if js.MeanCI == nil {
				t.Fatal("no mean interval")
			}
			want := c.wantCI(append([]float64(nil), flat...))
			if math.Abs(js.MeanCI.Lo-want.Lo) > 1e-12 || math.Abs(js.MeanCI.Hi-want.Hi) > 1e-12 {
				t.Errorf("mean_ci = %+v, want %+v", *js.MeanCI, want)
			}
			for name, ci := range map[string]*stats.Interval{"mean_ci": js.MeanCI, "pass_rate_ci": js.PassRateCI, "clustered_ci": js.ClusteredCI} {
				if ci != nil && c.bounded && (ci.Lo < 0 || ci.Hi > 1) {
					t.Errorf("%s = %+v leaves [0, 1]", name, *ci)
				}
			}
			if len(c.scores[0]) > 1 && js.ClusteredCI == nil {
				t.Error("several epochs and no clustered interval")
			}
		})
	}
}
