package report

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/eval/results"
)

// syntheticRun writes a run with variants A and B over n examples of one
// pass/fail judge: A passes with probability pA; B is A with each passing
// example turned to a fail with probability down and each failing one to
// a pass with probability up. The generator is seeded, so the run is fixed.
func syntheticRun(t *testing.T, n int, pA, down, up float64, seed uint64) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	var rs []results.Result
	var ss []results.Score
	passB := make([]bool, n)
	passA := make([]bool, n)
	for i := range n {
		passA[i] = rng.Float64() < pA
		passB[i] = passA[i]
		if passA[i] && rng.Float64() < down {
			passB[i] = false
		}
		if !passA[i] && rng.Float64() < up {
			passB[i] = true
		}
	}
	for _, v := range []struct {
		name string
		pass []bool
	}{{"A", passA}, {"B", passB}} {
		for i := range n {
			id := fmt.Sprintf("e%04d", i)
			rs = append(rs, results.Result{Variant: v.name, ExampleID: id, ExampleIndex: int64(i), Status: results.StatusOK, LatencyMS: 10})
			ss = append(ss, results.Score{Variant: v.name, ExampleID: id, Judge: "correct", Status: results.ScoreOK,
				Score: fp(b2f(v.pass[i])), Pass: bp(v.pass[i])})
		}
	}
	return writeRun(t, []string{"A", "B"}, []string{"correct"}, rs, ss)
}

func TestGateFailsRealRegressionPassesNoise(t *testing.T) {
	drop := 0.05
	gates := []Gate{{Judge: "correct", MaxDrop: &drop}}
	tests := []struct {
		name      string
		n         int
		pA        float64
		down, up  float64
		wantFail  bool
		wantInMsg string
	}{
		// A true drop of about 0.9 × 0.15 = 0.135 on 400 examples.
		{"real regression", 400, 0.9, 0.15, 0, true, "significant drop larger than allowed"},
		// Pure noise: as many examples flip up as down.
		{"noise", 400, 0.5, 0.1, 0.1, false, ""},
		// A drop larger than allowed on 30 examples, too few to be sure.
		{"small sample", 30, 0.9, 0.12, 0, false, "could be noise"},
		// An improvement never fails a max_drop gate.
		{"improvement", 400, 0.5, 0, 0.3, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := syntheticRun(t, tt.n, tt.pA, tt.down, tt.up, 7)
			r, err := ForRun(dir, Options{Gates: gates})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Gates) != 1 {
				t.Fatalf("%d gate results, want 1", len(r.Gates))
			}
			g := r.Gates[0]
			jc := r.Comparisons[0].Judges[0]
			if g.Passed == tt.wantFail || r.Failed() != tt.wantFail {
				t.Errorf("gate passed=%v (%s); want failed=%v; diff %+.3f p_adj %.4g n %d", g.Passed, g.Detail, tt.wantFail, jc.Diff, jc.PAdjusted, jc.N)
			}
			if tt.wantInMsg != "" && !strings.Contains(g.Detail, tt.wantInMsg) {
				t.Errorf("detail %q lacks %q", g.Detail, tt.wantInMsg)
			}
			if tt.name == "small sample" && -jc.Diff <= drop {
				t.Fatalf("the small-sample case must drop more than %g to test noise, dropped %.3f", drop, -jc.Diff)
			}
		})
	}
}

func TestAbsoluteGates(t *testing.T) {
	dir := syntheticRun(t, 200, 0.7, 0, 0, 3)
	r, err := ForRun(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rate := *r.Variants[1].Judges[0].PassRate
	lo, hi, zero := rate-0.01, rate+0.01, 0.0
	r.EvaluateGates([]Gate{
		{Judge: "correct", MinPassRate: &lo},
		{Judge: "correct", MinPassRate: &hi},
		{MaxErrorRate: &zero},
		{MaxP95LatencyMS: &lo}, // latency is 10 ms, far above 0.7
	})
	var got []string
	for _, g := range r.Gates {
		got = append(got, fmt.Sprintf("%s/%s=%v", g.Gate, g.Variant, g.Passed))
	}
	want := []string{
		fmt.Sprintf("correct: min_pass_rate %g/B=true", lo),
		fmt.Sprintf("correct: min_pass_rate %g/B=false", hi),
		"max_error_rate 0/B=true",
		fmt.Sprintf("max_p95_latency_ms %g/B=false", lo),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("gates:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// gradedRun writes a run with variants A and B over n examples of a
// pass/fail judge (correct, B much worse than A) and a graded judge
// (close, scores of 0.5 on A and 0.2 on B).
func gradedRun(t *testing.T, n int) string {
	t.Helper()
	var rs []results.Result
	var ss []results.Score
	for _, v := range []string{"A", "B"} {
		for i := range n {
			id := fmt.Sprintf("e%04d", i)
			pass := v == "A" || i%3 == 0
			graded := 0.5
			if v == "B" {
				graded = 0.2
			}
			rs = append(rs, results.Result{Variant: v, ExampleID: id, ExampleIndex: int64(i), Status: results.StatusOK, LatencyMS: 10})
			ss = append(ss,
				results.Score{Variant: v, ExampleID: id, Judge: "correct", Status: results.ScoreOK, Score: fp(b2f(pass)), Pass: bp(pass)},
				results.Score{Variant: v, ExampleID: id, Judge: "close", Status: results.ScoreOK, Score: fp(graded), Pass: bp(graded > 0.3)})
		}
	}
	return writeRun(t, []string{"A", "B"}, []string{"correct", "close"}, rs, ss)
}

// TestBareMaxDropGatesEveryPassFailJudge: a max_drop without a judge is
// checked on every pass/fail judge, not on graded ones, and a judge's own
// max_drop takes its place.
func TestBareMaxDropGatesEveryPassFailJudge(t *testing.T) {
	dir := gradedRun(t, 100)
	bare, own := 0.02, 0.9
	for _, tt := range []struct {
		name  string
		gates []Gate
		want  []string
	}{
		{"bare", []Gate{{MaxDrop: &bare}}, []string{"correct: max_drop 0.02/B=false"}},
		{"bare and own", []Gate{{MaxDrop: &bare}, {Judge: "correct", MaxDrop: &own}}, []string{"correct: max_drop 0.9/B=true"}},
		{"graded by name", []Gate{{MaxDrop: &bare}, {Judge: "close", MaxDrop: &bare}}, []string{"correct: max_drop 0.02/B=false", "close: max_drop 0.02/B=false"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ForRun(dir, Options{Gates: tt.gates})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, g := range r.Gates {
				got = append(got, fmt.Sprintf("%s/%s=%v", g.Gate, g.Variant, g.Passed))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("gates:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestMergeGates(t *testing.T) {
	f := func(x float64) *float64 { return &x }
	spec := []Gate{{Judge: "correct", MinPassRate: f(0.8), MaxDrop: f(0.02)}, {MaxErrorRate: f(0.1)}}
	flags := []Gate{{Judge: "correct", MinPassRate: f(0.9)}, {Judge: "correct", MaxDrop: f(0.02)}, {Judge: "other", MinMean: f(0.5)}, {MaxErrorRate: f(0.1)}}
	got := MergeGates(spec, flags)
	var s []string
	for _, g := range got {
		s = append(s, fmt.Sprintf("%s pass=%v mean=%v err=%v drop=%v", g.Judge, val(g.MinPassRate), val(g.MinMean), val(g.MaxErrorRate), val(g.MaxDrop)))
	}
	want := []string{
		"correct pass=0.9 mean=- err=- drop=0.02",
		" pass=- mean=- err=0.1 drop=-",
		"other pass=- mean=0.5 err=- drop=-",
	}
	if strings.Join(s, "\n") != strings.Join(want, "\n") {
		t.Errorf("MergeGates:\n%s\nwant:\n%s", strings.Join(s, "\n"), strings.Join(want, "\n"))
	}
	if *spec[0].MinPassRate != 0.8 {
		t.Error("MergeGates changed its input")
	}
}

func val(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprint(*p)
}

// TestRunGates: of a spec's gates, those on no judge and on a judge the
// run has apply; the extra lists are merged over them, a later threshold
// of a judge and kind replacing an earlier one.
func TestRunGates(t *testing.T) {
	rs := []results.Result{{Variant: "A", ExampleID: "e1", Status: results.StatusOK, LatencyMS: 10}}
	ss := []results.Score{{Variant: "A", ExampleID: "e1", Judge: "a", Status: results.ScoreOK, Score: fp(1), Pass: bp(true)}}
	judged := writeRun(t, []string{"A"}, []string{"a"}, rs, ss)
	unjudged := writeRun(t, []string{"A"}, nil, rs, nil)
	spec := []Gate{
		{Judge: "a", MinPassRate: fp(0.5), MaxDrop: fp(0.1)},
		{Judge: "gone", MinPassRate: fp(0.9)}, // a judge the run has no scores of
		{MaxErrorRate: fp(0.1), ErrorsAs: ErrorsFail},
	}
	show := func(gs []Gate) string {
		var parts []string
		for _, g := range gs {
			s := "judge=" + g.Judge
			for _, f := range []struct {
				name string
				v    *float64
			}{{"min_pass_rate", g.MinPassRate}, {"min_mean", g.MinMean}, {"max_error_rate", g.MaxErrorRate},
				{"max_drop", g.MaxDrop}, {"max_cost", g.MaxCost}, {"max_p95_latency_ms", g.MaxP95LatencyMS}} {
				if f.v != nil {
					s += fmt.Sprintf(" %s=%g", f.name, *f.v)
				}
			}
			if g.ErrorsAs != "" {
				s += " errors_as=" + string(g.ErrorsAs)
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, "; ")
	}
	tests := []struct {
		name  string
		dir   string
		spec  []Gate
		extra [][]Gate
		want  string
	}{
		{"spec gates that apply", judged, spec, nil,
			"judge=a min_pass_rate=0.5 max_drop=0.1; judge= max_error_rate=0.1 errors_as=fail"},
		{"no judges: only gates on no judge", unjudged, spec, nil,
			"judge= max_error_rate=0.1 errors_as=fail"},
		{"extra over the spec's", judged, spec, [][]Gate{{{Judge: "a", MinPassRate: fp(0.7)}, {Judge: "gone", MinMean: fp(0.2)}}, {{MaxCost: fp(3)}}},
			"judge=a min_pass_rate=0.7 max_drop=0.1; judge= max_error_rate=0.1 errors_as=fail; judge=gone min_mean=0.2; judge= max_cost=3"},
		{"extra alone, each threshold once", judged, nil, [][]Gate{{{Judge: "a", MinPassRate: fp(0.5)}, {Judge: "a", MinPassRate: fp(0.6)}}},
			"judge=a min_pass_rate=0.6"},
		{"nothing", judged, nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RunGates(tt.dir, tt.spec, tt.extra...)
			if err != nil {
				t.Fatal(err)
			}
			if s := show(got); s != tt.want {
				t.Errorf("gates\n got %s\nwant %s", s, tt.want)
			}
		})
	}
	// The spec's gates are not changed by merging over them.
	if *spec[0].MinPassRate != 0.5 {
		t.Errorf("the spec's min_pass_rate became %g", *spec[0].MinPassRate)
	}
	if _, err := RunGates(filepath.Join(t.TempDir(), "missing"), spec); err == nil {
		t.Error("a directory with no run: no error")
	}
}
