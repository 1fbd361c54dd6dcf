package cli

import (
	"context"
	"fmt"
	"io"
	"math"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/gavel-eval/gavel/report"
	"github.com/gavel-eval/gavel/report/stats"
)

// flagCase is one command line of a command built with a capturing run
// function: want is the options the run function gets, or wantErr the
// usage error returned before it is reached.
type flagCase struct {
	name    string
	args    []string
	want    any
	wantErr string
}

// capture is a run function that stores the options it gets in *got,
// running nothing.
func capture[O any](got *any) func(context.Context, *Env, *O) error {
	return func(ctx context.Context, env *Env, o *O) error {
		if ctx == nil || env == nil {
			return fmt.Errorf("run function called with context %v and env %v", ctx, env)
		}
		*got = o
		return nil
	}
}

// Defaults of the flag groups several commands share.
func defaultStats() statFlags {
	return statFlags{pAdjust: "holm", zeroMethod: "wilcox", alternative: "two-sided", test: string(report.TestAuto), errorsAs: string(report.ErrorsSkip)}
}

func defaultCheck() checkFlags {
	return checkFlags{stats: defaultStats(), mde: report.MDEPairedT}
}

func defaultOutput() outputFlags {
	return outputFlags{top: 5, mde: report.MDEPairedT}
}

func defaultRun() runOptions {
	return runOptions{grace: 30 * time.Second, check: defaultCheck(), cache: cacheFlags{mode: "rw"}}
}

func defaultPlan() planOptions {
	return planOptions{discordance: math.NaN(), repeats: 1, rho: stats.DefaultRepeatCorrelation, alpha: 0.05, power: 0.8,
		test: report.PlanMcNemar, format: "text"}
}

func defaultScore() scoreOptions {
	return scoreOptions{check: defaultCheck(), traces: traceSelection{sample: 1}}
}

// TestFlagsFillOptions: each command turns its flags and arguments into
// its options (or a usage error, before its run function), so that what
// the command line says is tested without running anything.
func TestFlagsFillOptions(t *testing.T) {
	tests := []struct {
		cmd   string
		build func(env *Env, got *any) *cobra.Command
		cases []flagCase
	}{
		{"run", func(env *Env, got *any) *cobra.Command { return newRunCmd(env, capture[runOptions](got)) }, []flagCase{
			{name: "defaults", args: []string{"gavel.yaml"}, want: func() *runOptions {
				o := defaultRun()
				o.spec = "gavel.yaml"
				return &o
			}()},
			{name: "run flags", args: []string{"g.yaml", "-o", "out", "--run-id", "id1", "-c", "4", "--limit", "3", "--repeat", "2",
				"--variant", "a", "--variant", "b", "--max-cost", "1.5", "--max-tokens", "100", "--grace", "5s", "--dry-run",
				"--cache", "replay", "--cache-path", "c.db", "--cassette", "k.jsonl"}, want: func() *runOptions {
				o := defaultRun()
				o.spec, o.out, o.runID, o.concurrency, o.limit, o.repeat = "g.yaml", "out", "id1", 4, 3, 2
				o.variants = []string{"a", "b"}
				o.maxCost, o.maxTokens, o.grace, o.dryRun = 1.5, 100, 5*time.Second, true
				o.cache = cacheFlags{mode: "replay", path: "c.db", cassette: "k.jsonl"}
				return &o
			}()},
			{name: "gate, format and statistics flags", args: []string{"g.yaml", "--baseline", "runs/base", "--format", "json=r.json", "--format", "junit",
				"--min-pass-rate", "j=0.8", "--min-mean", "j=0.5", "--max-drop", "0.1", "--max-error-rate", "0.2", "--gate-max-cost", "2",
				"--max-p95-latency-ms", "900", "--no-spec-gates", "--mde-method", "normal",
				"--p-adjust", "bh", "--zero-method", "pratt", "--alternative", "less", "--test", "t", "--errors-as", "fail"}, want: func() *runOptions {
				o := defaultRun()
				o.spec = "g.yaml"
				o.check = checkFlags{
					formats: []string{"json=r.json", "junit"},
					gates: gateFlags{minPassRate: []string{"j=0.8"}, minMean: []string{"j=0.5"}, maxDrop: []string{"0.1"},
						maxErrRate: "0.2", maxCost: "2", maxP95: "900", noSpecGates: true},
					stats:    statFlags{pAdjust: "bh", zeroMethod: "pratt", alternative: "less", test: string(report.TestT), errorsAs: string(report.ErrorsFail)},
					baseline: "runs/base",
					mde:      report.MDENormal,
				}
				return &o
			}()},
			{name: "resume", args: []string{"--resume", "runs/x", "--retry-errors"}, want: func() *runOptions {
				o := defaultRun()
				o.resume, o.retryErrors = "runs/x", true
				return &o
			}()},
			{name: "no spec", args: nil, wantErr: "run takes one spec file, got 0 arguments"},
			{name: "two specs", args: []string{"a.yaml", "b.yaml"}, wantErr: "run takes one spec file, got 2 arguments"},
			{name: "resume with a spec", args: []string{"--resume", "runs/x", "g.yaml"}, wantErr: "--resume takes the run directory, and the run's own spec: give no spec file"},
			{name: "retry errors without resume", args: []string{"g.yaml", "--retry-errors"}, wantErr: "--retry-errors goes with --resume RUN_DIR"},
			{name: "negative budget", args: []string{"g.yaml", "--max-tokens", "-1"}, wantErr: "--max-cost and --max-tokens must not be negative"},
			{name: "negative limit", args: []string{"g.yaml", "--limit", "-1"}, wantErr: "--concurrency, --limit and --repeat must not be negative"},
			{name: "bad format", args: []string{"g.yaml", "--format", "bogus"},
				wantErr: `invalid argument "bogus" for "--format" flag: unknown report format "bogus": want one of text, markdown, json, junit, html`},
		}},
		{"score", func(env *Env, got *any) *cobra.Command { return newScoreCmd(env, capture[scoreOptions](got)) }, []flagCase{
			{name: "input", args: []string{"--spec", "s.yaml", "--input", "o.jsonl"}, want: func() *scoreOptions {
				o := defaultScore()
				o.spec, o.input = "s.yaml", "o.jsonl"
				return &o
			}()},
			{name: "regrade", args: []string{"--run", "runs/r", "--judge", "a", "--judge", "b", "-o", "out", "--run-id", "id1", "-c", "2", "--strict"},
				want: func() *scoreOptions {
					o := defaultScore()
					o.run, o.judges, o.out, o.runID, o.concurrency, o.strict = "runs/r", []string{"a", "b"}, "out", "id1", 2, true
					return &o
				}()},
			{name: "gates and formats", args: []string{"--spec", "s.yaml", "--input", "o.csv", "--limit", "5", "--min-pass-rate", "a=0.9",
				"--format", "junit=j.xml", "--baseline", "runs/b", "--gate-max-cost", "1"}, want: func() *scoreOptions {
				o := defaultScore()
				o.spec, o.input, o.limit = "s.yaml", "o.csv", 5
				o.check.gates = gateFlags{minPassRate: []string{"a=0.9"}, maxCost: "1"}
				o.check.formats, o.check.baseline = []string{"junit=j.xml"}, "runs/b"
				return &o
			}()},
			{name: "nothing to score", args: nil, wantErr: "give either --input FILE (with --spec), --run RUN_DIR or --traces DIR"},
			{name: "input and run", args: []string{"--input", "o.jsonl", "--run", "runs/r"}, wantErr: "give either --input FILE (with --spec), --run RUN_DIR or --traces DIR"},
			{name: "traces", args: []string{"--traces", "spans", "--spec", "s.yaml", "--span-kind", "llm", "--sample-rate", "0.25"}, want: func() *scoreOptions {
				o := defaultScore()
				o.spec, o.traces = "s.yaml", traceSelection{dir: "spans", kind: "llm", sample: 0.25}
				return &o
			}()},
			{name: "traces and input", args: []string{"--traces", "spans", "--input", "o.jsonl", "--spec", "s.yaml"}, wantErr: "--traces scores collected spans: give it instead of --input or --run"},
			{name: "traces without spec", args: []string{"--traces", "spans"}, wantErr: "--traces needs --spec: the spec says which judges to run"},
			{name: "bad sample rate", args: []string{"--traces", "spans", "--spec", "s.yaml", "--sample-rate", "0"}, wantErr: "--sample-rate must be in (0, 1]"},
			{name: "input without spec", args: []string{"--input", "o.jsonl"},
				wantErr: "--input needs --spec: the spec says which fields hold the outputs and which judges to run"},
			{name: "negative concurrency", args: []string{"--run", "runs/r", "-c", "-1"}, wantErr: "--concurrency and --limit must not be negative"},
			{name: "an argument", args: []string{"--run", "runs/r", "extra"}, wantErr: `unknown command "extra" for "score"`},
		}},
		{"judges", func(env *Env, got *any) *cobra.Command { return newJudgesCmd(env, capture[judgesOptions](got)) }, []flagCase{
			{name: "every type", args: nil, want: &judgesOptions{}},
			{name: "one type", args: []string{"equals"}, want: &judgesOptions{typ: "equals", typeSet: true}},
			{name: "an empty type", args: []string{""}, want: &judgesOptions{typeSet: true}},
			{name: "two types", args: []string{"equals", "regex"}, wantErr: "accepts at most 1 arg(s), received 2"},
		}},
		{"report", func(env *Env, got *any) *cobra.Command { return newReportCmd(env, capture[reportOptions](got)) }, []flagCase{
			{name: "defaults", args: []string{"runs/x"}, want: &reportOptions{run: "runs/x", output: defaultOutput(), stats: defaultStats()}},
			{name: "formats", args: []string{"runs/x", "--format", "markdown=s.md", "--format", "junit=j.xml", "--top", "3", "--mde-method", "normal"},
				want: &reportOptions{run: "runs/x", output: outputFlags{formats: []string{"markdown=s.md", "junit=j.xml"}, top: 3, mde: report.MDENormal}, stats: defaultStats()}},
			{name: "one format to a file", args: []string{"runs/x", "--format", "json", "-o", "r.json"},
				want: &reportOptions{run: "runs/x", output: outputFlags{formats: []string{"json"}, out: "r.json", top: 5, mde: report.MDEPairedT}, stats: defaultStats()}},
			{name: "gates and statistics", args: []string{"runs/x", "--max-cost", "1", "--min-pass-rate", "a=0.5", "--max-drop", "a=0.02", "--no-spec-gates",
				"--p-adjust", "none", "--errors-as", "fail"}, want: func() *reportOptions {
				o := &reportOptions{run: "runs/x", output: defaultOutput(), stats: defaultStats()}
				o.gates = gateFlags{minPassRate: []string{"a=0.5"}, maxDrop: []string{"a=0.02"}, maxCost: "1", noSpecGates: true}
				o.stats.pAdjust, o.stats.errorsAs = "none", string(report.ErrorsFail)
				return o
			}()},
			{name: "no run", args: nil, wantErr: "accepts 1 arg(s), received 0"},
			{name: "bad MDE method", args: []string{"runs/x", "--mde-method", "z"}, wantErr: `invalid argument "z" for "--mde-method" flag: "z": the MDE method is t or normal`},
		}},
		{"compare", func(env *Env, got *any) *cobra.Command { return newCompareCmd(env, capture[compareOptions](got)) }, []flagCase{
			{name: "one run", args: []string{"runs/ab"}, want: &compareOptions{runs: []string{"runs/ab"}, output: defaultOutput(), stats: defaultStats()}},
			{name: "two variants", args: []string{"runs/ab", "--a", "base", "--b", "cand", "--test", "sign", "--alternative", "greater"},
				want: func() *compareOptions {
					o := &compareOptions{runs: []string{"runs/ab"}, a: "base", b: "cand", output: defaultOutput(), stats: defaultStats()}
					o.stats.test, o.stats.alternative = string(report.TestSign), "greater"
					return o
				}()},
			{name: "two runs", args: []string{"runs/main", "runs/pr", "--variant", "v", "--max-drop", "c=0.02", "--format", "markdown=pr.md"},
				want: &compareOptions{runs: []string{"runs/main", "runs/pr"}, variants: []string{"v"}, gates: gateFlags{maxDrop: []string{"c=0.02"}},
					output: outputFlags{formats: []string{"markdown=pr.md"}, top: 5, mde: report.MDEPairedT}, stats: defaultStats()}},
			// --a with two runs is refused by runCompare, after the gates
			// are read (a run that cannot be read is reported first).
			{name: "two runs and --a", args: []string{"runs/main", "runs/pr", "--a", "x"},
				want: &compareOptions{runs: []string{"runs/main", "runs/pr"}, a: "x", output: defaultOutput(), stats: defaultStats()}},
			{name: "no run", args: nil, wantErr: "accepts between 1 and 2 arg(s), received 0"},
			{name: "three runs", args: []string{"a", "b", "c"}, wantErr: "accepts between 1 and 2 arg(s), received 3"},
		}},
		{"view", func(env *Env, got *any) *cobra.Command { return newViewCmd(env, capture[viewOptions](got)) }, []flagCase{
			{name: "defaults", args: nil, want: &viewOptions{port: defaultViewPort}},
			{name: "directories and address", args: []string{"runs/a", "runs/b", "--addr", "0.0.0.0:8080", "--allow-host", "evals.lan", "--allow-host", "h:1", "--max-text", "100"},
				want: &viewOptions{dirs: []string{"runs/a", "runs/b"}, port: defaultViewPort, addr: "0.0.0.0:8080", allowHosts: []string{"evals.lan", "h:1"}, maxText: 100}},
			{name: "port", args: []string{"--port", "9000"}, want: &viewOptions{port: 9000, portSet: true}},
			// Given, the default port is not replaced by a free one.
			{name: "default port given", args: []string{"--port", "7840"}, want: &viewOptions{port: defaultViewPort, portSet: true}},
			{name: "bad port", args: []string{"--port", "x"}, wantErr: `invalid argument "x" for "--port" flag: strconv.ParseInt: parsing "x": invalid syntax`},
		}},
		{"traces", func(env *Env, got *any) *cobra.Command { return newTracesCmd(env, capture[tracesOptions](got)) }, []flagCase{
			{name: "defaults", args: []string{"runs/x"}, want: &tracesOptions{run: "runs/x", limit: 20, width: 120, per: "hour", format: "text"}},
			{name: "example", args: []string{"runs/x", "--example", "q07"}, want: &tracesOptions{run: "runs/x", example: "q07", limit: 20, width: 120, per: "hour", format: "text"}},
			{name: "epoch 0 given", args: []string{"runs/x", "--epoch", "0"}, want: &tracesOptions{run: "runs/x", epochSet: true, limit: 20, width: 120, per: "hour", format: "text"}},
			{name: "default limit given", args: []string{"runs/x", "--example", "q07", "--limit", "20"},
				want: &tracesOptions{run: "runs/x", example: "q07", limit: 20, limitSet: true, width: 120, per: "hour", format: "text"}},
			{name: "filters and layout", args: []string{"runs/x", "--variant", "a", "--variant", "b", "--errors", "--full", "--width", "0", "--limit", "0", "--epoch", "2"},
				want: &tracesOptions{run: "runs/x", variants: []string{"a", "b"}, errorsOnly: true, full: true, epoch: 2, epochSet: true, limit: 0, limitSet: true, per: "hour", format: "text"}},
			{name: "negative limit", args: []string{"runs/x", "--limit", "-1"}, wantErr: "--limit and --width must not be negative"},
			{name: "negative width", args: []string{"runs/x", "--width", "-2"}, wantErr: "--limit and --width must not be negative"},
			{name: "negative epoch", args: []string{"runs/x", "--epoch", "-1"}, wantErr: "--epoch must not be negative"},
			{name: "traffic", args: []string{"traffic/", "--user", "u", "--session", "s", "--service", "svc", "--model", "m", "--dashboard", "--per", "day", "--by", "model", "--scores", "r1", "--scores", "r2", "--prices-file", "p.json", "--format", "json", "--html", "t.html", "--join", "d"},
				want: &tracesOptions{run: "traffic/", limit: 20, width: 120, user: "u", session: "s", service: "svc", model: "m", dashboard: true, per: "day", by: "model",
					scores: []string{"r1", "r2"}, pricesFile: "p.json", format: "json", html: "t.html", join: []string{"d"}}},
			{name: "bad period", args: []string{"traffic/", "--per", "week"}, wantErr: `--per: period "week": want hour or day`},
			{name: "no run", args: nil, wantErr: "accepts 1 arg(s), received 0"},
		}},
		{"cache export", func(env *Env, got *any) *cobra.Command {
			return cacheGroup(newCacheExportCmd(env, capture[cacheExportOptions](got)))
		}, []flagCase{
			{name: "default cache", args: []string{"export", "c.jsonl"}, want: &cacheExportOptions{file: "c.jsonl"}},
			{name: "cache path after", args: []string{"export", "c.jsonl", "--cache-path", "p.db"}, want: &cacheExportOptions{cachePath: "p.db", file: "c.jsonl"}},
			{name: "cache path before", args: []string{"--cache-path", "p.db", "export", "c.jsonl"}, want: &cacheExportOptions{cachePath: "p.db", file: "c.jsonl"}},
			{name: "no file", args: []string{"export"}, wantErr: "accepts 1 arg(s), received 0"},
		}},
		{"cache import", func(env *Env, got *any) *cobra.Command {
			return cacheGroup(newCacheImportCmd(env, capture[cacheImportOptions](got)))
		}, []flagCase{
			{name: "default cache", args: []string{"import", "c.jsonl"}, want: &cacheImportOptions{file: "c.jsonl"}},
			{name: "cache path", args: []string{"import", "--cache-path", "p.db", "c.jsonl"}, want: &cacheImportOptions{cachePath: "p.db", file: "c.jsonl"}},
			{name: "two files", args: []string{"import", "a", "b"}, wantErr: "accepts 1 arg(s), received 2"},
		}},
		{"cache stats", func(env *Env, got *any) *cobra.Command {
			return cacheGroup(newCacheStatsCmd(env, capture[cacheStatsOptions](got)))
		}, []flagCase{
			{name: "default cache", args: []string{"stats"}, want: &cacheStatsOptions{}},
			{name: "cache path", args: []string{"stats", "--cache-path", "p.db"}, want: &cacheStatsOptions{cachePath: "p.db"}},
			{name: "an argument", args: []string{"stats", "x"}, wantErr: `unknown command "x" for "cache stats"`},
		}},
		{"stats p-adjust", func(env *Env, got *any) *cobra.Command { return newPAdjustCmd(env, capture[pAdjustOptions](got)) }, []flagCase{
			{name: "defaults", args: []string{"0.01", "0.04"}, want: &pAdjustOptions{ps: []float64{0.01, 0.04}, method: "holm", format: "text"}},
			{name: "method, format and NA", args: []string{"--method", "bh", "--format", "json", "0.01", "NA", "nan", "1"},
				want: &pAdjustOptions{ps: []float64{0.01, math.NaN(), math.NaN(), 1}, method: "bh", format: "json"}},
			{name: "no p-value", args: nil, wantErr: "requires at least 1 arg(s), only received 0"},
			{name: "not a number", args: []string{"0.5", "x"}, wantErr: `p-adjust: argument 2 "x": not a number`},
			{name: "outside [0, 1]", args: []string{"1.5"}, wantErr: `p-adjust: argument 1 "1.5": outside [0, 1]`},
			{name: "bad method", args: []string{"--method", "x", "0.1"},
				wantErr: `invalid argument "x" for "--method" flag: "x": want one of holm, hochberg, bh, by, bonferroni, none`},
		}},
		{"plan", func(env *Env, got *any) *cobra.Command { return newPlanCmd(env, capture[planOptions](got)) }, []flagCase{
			{name: "baseline and effect", args: []string{"--baseline-rate", "0.7", "--effect", "0.03"}, want: func() *planOptions {
				o := defaultPlan()
				o.baseline, o.effect = 0.7, 0.03
				return &o
			}()},
			{name: "t-test by delta", args: []string{"--delta", "0.1", "--test", "t", "--sd", "0.3", "--one-sided"}, want: func() *planOptions {
				o := defaultPlan()
				o.effect, o.test, o.sd, o.oneSided = 0.1, "t", 0.3, true
				return &o
			}()},
			{name: "from a run", args: []string{"--from", "runs/a", "--judge", "correct", "--n", "400", "--format", "json"}, want: func() *planOptions {
				o := defaultPlan()
				o.from, o.judge, o.n, o.format = "runs/a", "correct", 400, "json"
				return &o
			}()},
			{name: "given rates", args: []string{"--discordance", "0.1", "--rho", "0.5", "--repeats", "3"}, want: func() *planOptions {
				o := defaultPlan()
				o.discordance, o.rho, o.repeats, o.discordanceSet, o.rhoSet = 0.1, 0.5, 3, true, true
				return &o
			}()},
			{name: "delta and effect", args: []string{"--delta", "0.1", "--effect", "0.1"}, wantErr: "--delta and --effect are the same; give one"},
			{name: "an argument", args: []string{"extra"}, wantErr: `unknown command "extra" for "plan"`},
		}},
		{"calibrate", func(env *Env, got *any) *cobra.Command { return newCalibrateCmd(env, capture[calibrateOptions](got)) }, []flagCase{
			{name: "defaults", args: []string{"runs/a", "--labels", "h.csv", "--judge", "j"},
				want: &calibrateOptions{run: "runs/a", labels: "h.csv", judge: "j", format: "text", weights: "quadratic"}},
			{name: "every flag", args: []string{"runs/a", "--labels", "h.csv", "--judge", "j", "--compare", "score", "--scale", "1:5", "--weights", "linear",
				"--raters", "a,b", "--alpha-metric", "ordinal", "--labels-only", "1,2", "--variant", "v", "--format", "json"},
				want: &calibrateOptions{run: "runs/a", labels: "h.csv", judge: "j", compare: "score", scale: "1:5", weights: "linear",
					raters: "a,b", metric: "ordinal", only: "1,2", variant: "v", format: "json"}},
			{name: "no labels", args: []string{"runs/a", "--judge", "j"}, wantErr: "--labels and --judge are required"},
			{name: "no run", args: []string{"--labels", "h.csv", "--judge", "j"}, wantErr: "calibrate takes one run directory, got 0 arguments"},
		}},
		{"version", func(env *Env, got *any) *cobra.Command { return newVersionCmd(env, capture[versionOptions](got)) }, []flagCase{
			{name: "no arguments", args: nil, want: &versionOptions{}},
			{name: "an argument", args: []string{"x"}, wantErr: `unknown command "x" for "version"`},
		}},
	}
	for _, tt := range tests {
		for _, tc := range tt.cases {
			t.Run(tt.cmd+"/"+tc.name, func(t *testing.T) {
				env, stdout, stderr := testEnv()
				var got any
				cmd := tt.build(env, &got)
				cmd.SilenceUsage, cmd.SilenceErrors = true, true
				cmd.SetOut(io.Discard)
				cmd.SetErr(io.Discard)
				cmd.SetArgs(tc.args)
				err := cmd.ExecuteContext(context.Background())
				if tc.wantErr != "" {
					if err == nil || err.Error() != tc.wantErr {
						t.Fatalf("error %v, want %q", err, tc.wantErr)
					}
					if code := exitCode(err); code != ExitError {
						t.Errorf("exit code %d, want %d", code, ExitError)
					}
					if got != nil {
						t.Errorf("the run function was called with %+v", got)
					}
					return
				}
				if err != nil {
					t.Fatalf("error %v", err)
				}
				// %#v, unlike reflect.DeepEqual, finds NaN equal to NaN;
				// options hold no pointers whose addresses it would print.
				if g, w := fmt.Sprintf("%#v", got), fmt.Sprintf("%#v", tc.want); g != w {
					t.Errorf("options\n got %s\nwant %s", g, w)
				}
				if stdout.Len() > 0 || stderr.Len() > 0 {
					t.Errorf("output before the run function: stdout %q, stderr %q", stdout, stderr)
				}
			})
		}
	}
}
