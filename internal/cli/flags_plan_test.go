package cli

import (
	"context"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/report"
	"github.com/gavel-eval/gavel/report/stats"
)

// TestPlanFlags checks what gavel plan's flags parse to, without planning.
func TestPlanFlags(t *testing.T) {
	def := planOptions{discordance: math.NaN(), repeats: 1, rho: stats.DefaultRepeatCorrelation, alpha: 0.05, power: 0.8,
		test: report.PlanMcNemar, format: "text"}
	for _, tc := range []struct {
		args []string
		want func(*planOptions)
		err  string
	}{
		{args: []string{"--baseline-rate", "0.7", "--effect", "0.03"}, want: func(o *planOptions) { o.baseline, o.effect = 0.7, 0.03 }},
		{args: []string{"--delta", "0.1", "--test", "t", "--sd", "0.3", "--one-sided"}, want: func(o *planOptions) {
			o.effect, o.test, o.sd, o.oneSided = 0.1, "t", 0.3, true
		}},
		{args: []string{"--from", "runs/a", "--judge", "correct", "--n", "400", "--format", "json"}, want: func(o *planOptions) {
			o.from, o.judge, o.n, o.format = "runs/a", "correct", 400, "json"
		}},
		{args: []string{"--discordance", "0.1", "--rho", "0.5", "--repeats", "3"}, want: func(o *planOptions) {
			o.discordance, o.rho, o.repeats, o.discordanceSet, o.rhoSet = 0.1, 0.5, 3, true, true
		}},
		{args: []string{"--delta", "0.1", "--effect", "0.1"}, err: "--delta and --effect are the same"},
		{args: []string{"extra"}, err: "unknown command"},
	} {
		env, _, _ := testEnv()
		var got *planOptions
		cmd := newPlanCmd(env, func(_ context.Context, _ *Env, o *planOptions) error { got = o; return nil })
		cmd.SetArgs(tc.args)
		cmd.SetOut(env.Stdout)
		cmd.SetErr(env.Stderr)
		err := cmd.Execute()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || got != nil {
				t.Errorf("%v: err %v (ran: %v), want an error with %q before running", tc.args, err, got != nil, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		want := def
		tc.want(&want)
		if !equalPlanOptions(*got, want) {
			t.Errorf("%v:\n got  %+v\n want %+v", tc.args, *got, want)
		}
	}
}

// equalPlanOptions compares options, NaN equal to NaN.
func equalPlanOptions(a, b planOptions) bool {
	if math.IsNaN(a.discordance) && math.IsNaN(b.discordance) {
		a.discordance, b.discordance = 0, 0
	}
	return reflect.DeepEqual(a, b)
}

// TestCalibrateFlags checks what gavel calibrate's flags parse to.
func TestCalibrateFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want calibrateOptions
		err  string
	}{
		{args: []string{"runs/a", "--labels", "h.csv", "--judge", "j"},
			want: calibrateOptions{run: "runs/a", labels: "h.csv", judge: "j", format: "text", weights: "quadratic"}},
		{args: []string{"runs/a", "--labels", "h.csv", "--judge", "j", "--compare", "score", "--scale", "1:5", "--weights", "linear",
			"--raters", "a,b", "--alpha-metric", "ordinal", "--labels-only", "1,2", "--variant", "v", "--format", "json"},
			want: calibrateOptions{run: "runs/a", labels: "h.csv", judge: "j", compare: "score", scale: "1:5", weights: "linear",
				raters: "a,b", metric: "ordinal", only: "1,2", variant: "v", format: "json"}},
		{args: []string{"runs/a", "--judge", "j"}, err: "--labels and --judge are required"},
		{args: []string{"--labels", "h.csv", "--judge", "j"}, err: "calibrate takes one run directory, got 0 arguments"},
	} {
		env, _, _ := testEnv()
		var got *calibrateOptions
		cmd := newCalibrateCmd(env, func(_ context.Context, _ *Env, o *calibrateOptions) error { got = o; return nil })
		cmd.SetArgs(tc.args)
		cmd.SetOut(env.Stdout)
		cmd.SetErr(env.Stderr)
		err := cmd.Execute()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || got != nil {
				t.Errorf("%v: err %v (ran: %v), want an error with %q before running", tc.args, err, got != nil, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		if !reflect.DeepEqual(*got, tc.want) {
			t.Errorf("%v:\n got  %+v\n want %+v", tc.args, *got, tc.want)
		}
	}
}
