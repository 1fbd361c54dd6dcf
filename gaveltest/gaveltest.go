// Package gaveltest runs gavel evaluations as Go tests: a spec's examples
// become subtests that fail with the judge's reason, the output, the
// expected value and the trace to open; the spec's gates become test
// failures with their numbers. It is hermetic by default: model calls are
// answered from a cassette stored next to the spec (a miss fails, naming
// the call), and GAVEL_RECORD=1 go test (or -gavel.record) records it
// against the live models.
//
//	func TestSupportBot(t *testing.T) {
//		gaveltest.Run(t, "testdata/gavel.yaml")
//	}
package gaveltest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/eval"
	"github.com/gavel-eval/gavel/eval/gates"
	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/report"
)

var record = flag.Bool("gavel.record", false, "record the cassettes of gaveltest.Run against the live models")

// Option tunes Run.
type Option func(*config)

type config struct {
	cassette string
	out      string
	load     eval.LoadOptions
	getenv   func(string) string
	short    int
	opts     eval.Options
}

// WithCassette names the cassette (default: the spec's path with the
// extension .cassette, testdata/gavel.cassette for testdata/gavel.yaml).
func WithCassette(path string) Option { return func(c *config) { c.cassette = path } }

// WithOut keeps the run in dir, for gavel view (default: a directory of
// t.TempDir()).
func WithOut(dir string) Option { return func(c *config) { c.out = dir } }

// WithLoadOptions gives the spec's Go steps, tools and judges.
func WithLoadOptions(o eval.LoadOptions) Option { return func(c *config) { c.load = o } }

// WithGetenv reads the environment (API keys) through fn (default
// os.Getenv).
func WithGetenv(fn func(string) string) Option { return func(c *config) { c.getenv = fn } }

// WithShortSample is how many examples -short runs, chosen by a seeded
// hash of their ids (default 5).
func WithShortSample(n int) Option { return func(c *config) { c.short = n } }

// WithOptions sets run options (concurrency, variants, epochs, ...); the
// cache, output, selection and clock are Run's own.
func WithOptions(o eval.Options) Option { return func(c *config) { c.opts = o } }

// Result is a finished run of Run.
type Result struct {
	// Dir is the stored run (gavel view DIR, gavel report DIR).
	Dir      string
	Manifest *results.Manifest
	// Results and Scores are its rows.
	Results []results.Result
	Scores  []results.Score
	// Gates are the spec's gates as checked.
	Gates []report.GateResult
}

// Recording reports whether Run records cassettes (GAVEL_RECORD=1 or
// -gavel.record) rather than replaying them.
func Recording() bool {
	v := os.Getenv("GAVEL_RECORD")
	return *record || v == "1" || strings.EqualFold(v, "true")
}

// Run runs the spec at path inside the test. Each example is a subtest
// (t.Run(exampleID)) that fails, for each variant and epoch, when its
// chain failed or a judge did not pass, with the judge's reason, the
// output, the expected value and the trace id; then each gate of the
// spec that fails is a failure of t with its numbers. It honours -run
// (the pattern's second part selects examples, before anything runs),
// -short (a seeded sample of the examples), and t's deadline (the run
// stops cleanly before it, keeping what it stored).
func Run(t *testing.T, path string, opts ...Option) *Result {
	t.Helper()
	c := &config{getenv: os.Getenv, short: 5}
	for _, o := range opts {
		o(c)
	}
	spec, err := eval.LoadSpec(path, c.load)
	if err != nil {
		t.Fatalf("gaveltest: %v", err)
	}
	if c.cassette == "" {
		c.cassette = strings.TrimSuffix(path, filepath.Ext(path)) + ".cassette"
	}
	ro := c.opts
	ro.Getenv = c.getenv
	ro.Now = time.Now
	ro.Steps = c.load.Steps
	ro.Out = c.out
	if ro.Out == "" {
		ro.Out = filepath.Join(t.TempDir(), "run")
	}
	ro.Select = selection(t)
	if testing.Short() && c.short > 0 && spec.Dataset.Sample == 0 {
		spec.Dataset.Sample, spec.Dataset.Seed = c.short, 1
	}
	recording := Recording()
	var mem *llm.MemoryCache
	if recording {
		mem = llm.NewMemoryCache()
		ro.Cache, ro.CacheMode = mem, llm.CacheReadWrite
	} else {
		cache := llm.NewMemoryCache()
		if _, err := os.Stat(c.cassette); err == nil {
			if cache, err = llm.LoadCassetteCache(c.cassette); err != nil {
				t.Fatalf("gaveltest: %v", err)
			}
		}
		ro.Cache, ro.CacheMode = cache, llm.CacheReplay
	}
	ctx := context.Background()
	if dl, ok := t.Deadline(); ok {
		// Stop in time to store what ran and report it.
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-time.Until(dl)/10))
		defer cancel()
	}
	out, err := eval.Run(ctx, spec, ro)
	if out == nil {
		t.Fatalf("gaveltest: %v", err)
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("gaveltest: the run ended with %v (what it stored is in %s)", err, out.Dir)
	}
	if recording {
		if err := writeCassette(mem, c.cassette); err != nil {
			t.Fatalf("gaveltest: %v", err)
		}
		t.Logf("gaveltest: recorded %d calls in %s", mem.Len(), c.cassette)
	}
	res := &Result{Dir: out.Dir}
	if res.Manifest, err = results.ReadManifest(out.Dir); err != nil {
		t.Fatalf("gaveltest: %v", err)
	}
	if err := results.ReadResults(filepath.Join(out.Dir, results.ResultsFile), func(r results.Result) error {
		res.Results = append(res.Results, r)
		return nil
	}); err != nil {
		t.Fatalf("gaveltest: %v", err)
	}
	if err := results.ReadScores(filepath.Join(out.Dir, results.ScoresFile), func(s results.Score) error {
		res.Scores = append(res.Scores, s)
		return nil
	}); err != nil {
		t.Fatalf("gaveltest: %v", err)
	}
	reportExamples(t, res, recording, c.cassette)
	checkGates(t, res, spec)
	if t.Failed() {
		t.Logf("gaveltest: the run is in %s (gavel view %s)", out.Dir, out.Dir)
	}
	return res
}

// selection turns -run's second part (the subtests' pattern) into an
// example filter, as go test matches subtest names; nil selects all.
func selection(t *testing.T) func(string) bool {
	f := flag.Lookup("test.run")
	if f == nil || f.Value.String() == "" {
		return nil
	}
	parts := strings.Split(f.Value.String(), "/")
	if len(parts) < 2 || parts[1] == "" {
		return nil
	}
	re, err := regexp.Compile(parts[1])
	if err != nil {
		return nil
	}
	return func(id string) bool { return re.MatchString(rewriteName(id)) }
}

// rewriteName is the name go test gives a subtest: spaces become
// underscores.
func rewriteName(s string) string { return strings.ReplaceAll(s, " ", "_") }

// reportExamples makes one subtest an example.
func reportExamples(t *testing.T, res *Result, recording bool, cassette string) {
	t.Helper()
	byExample := map[string][]results.Result{}
	var order []string
	for _, r := range res.Results {
		if _, ok := byExample[r.ExampleID]; !ok {
			order = append(order, r.ExampleID)
		}
		byExample[r.ExampleID] = append(byExample[r.ExampleID], r)
	}
	scores := map[string][]results.Score{}
	for _, s := range res.Scores {
		k := fmt.Sprintf("%s/%s/%d", s.Variant, s.ExampleID, s.Epoch)
		scores[k] = append(scores[k], s)
	}
	for _, id := range order {
		t.Run(id, func(t *testing.T) {
			for _, r := range byExample[id] {
				where := fmt.Sprintf("variant %s, epoch %d (trace %s)", r.Variant, r.Epoch, r.TraceID)
				if r.Status != results.StatusOK {
					msg := results.Deref(r.Error)
					if !recording && strings.Contains(msg, llm.ErrNotCached.Error()) {
						msg += fmt.Sprintf("\n\tthe call is not in the cassette %s: record it with GAVEL_RECORD=1 go test -run '%s'", cassette, t.Name())
					}
					t.Errorf("%s: step %s failed: %s", where, results.Deref(r.FailedStep), msg)
					continue
				}
				for _, s := range scores[fmt.Sprintf("%s/%s/%d", r.Variant, r.ExampleID, r.Epoch)] {
					switch {
					case s.Status == results.ScoreJudgeError:
						t.Errorf("%s: judge %s could not judge: %s", where, s.Judge, results.Deref(s.Error))
					case s.Status == results.ScoreOK && s.Pass != nil && !*s.Pass:
						t.Errorf("%s: judge %s failed: %s\n\toutput:   %s\n\texpected: %s", where, s.Judge, results.Deref(s.Reason),
							excerpt(r.Output), excerpt(results.Deref(r.Expected)))
					}
				}
			}
		})
	}
}

// checkGates fails t for each gate of the spec that fails.
func checkGates(t *testing.T, res *Result, spec *eval.Spec) {
	t.Helper()
	if len(spec.Gates) == 0 {
		return
	}
	gs, err := report.RunGates(res.Dir, gates.FromSpec(spec.Gates), nil)
	if err != nil {
		t.Errorf("gaveltest: gates: %v", err)
		return
	}
	r, err := report.ForRun(res.Dir, report.Options{Gates: gs})
	if err != nil {
		t.Errorf("gaveltest: gates: %v", err)
		return
	}
	res.Gates = r.Gates
	for _, g := range r.Gates {
		if !g.Passed {
			t.Errorf("gate %s on %s failed: %s", g.Gate, g.Variant, g.Detail)
		}
	}
}

func excerpt(s string) string {
	if len(s) > 300 {
		return fmt.Sprintf("%q…", s[:300])
	}
	return fmt.Sprintf("%q", s)
}

// writeCassette writes every entry of mem to path.
func writeCassette(mem *llm.MemoryCache, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := mem.WriteCassette(f, mem.Keys()); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}
