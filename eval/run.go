package eval

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gavel-eval/gavel/datasets"
	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/judges"
	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/llm/offline"
	"github.com/gavel-eval/gavel/prompts"
)

// DefaultConcurrency is the number of examples run at once when neither
// the spec nor the caller says.
const DefaultConcurrency = 8

// Options configure one run. The zero value is usable except for Getenv,
// which the caller provides (the library never reads the process
// environment itself).
type Options struct {
	// Out is the run directory. Empty means runs/<run-id> under the
	// current directory.
	Out string
	// RunID overrides the generated, time-sortable run id.
	RunID string
	// Concurrency bounds the examples in flight; 0 means the spec's
	// `concurrency`, else DefaultConcurrency.
	Concurrency int
	// Limit, when > 0, overrides the spec's dataset.limit.
	Limit int
	// Repeat, when > 0, overrides the spec's `repeat`: epochs per example.
	Repeat int
	// Variants, when set, runs only these variants (by name).
	Variants []string
	// Getenv reads environment variables (API keys, base URLs).
	Getenv func(string) string
	// HTTPClient is used for model providers and http steps; nil means a
	// default client.
	HTTPClient *http.Client
	// Model, when set, answers every model call instead of the providers
	// named in the spec (for tests and embedding).
	Model llm.Model
	// Steps implements custom step kinds in Go (see StepFunc). It must
	// match the LoadOptions.Steps the spec was loaded with.
	Steps map[string]StepFunc
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Progress, when set, is told about the run's progress.
	Progress Progress
	// Shard, when set, runs only the examples of that shard (Index 1 to
	// Count; see datasets.ShardOf): every variant and epoch of them. The
	// manifest records it; gavel merge joins the shards' runs.
	Shard *results.Shard
	// Select, when set, runs only the examples whose id it accepts (a Go
	// test's -run pattern, say); the others are validated and skipped.
	Select func(exampleID string) bool
	// Tool identifies the calling program in the manifest.
	Tool results.Tool
	// Cache and CacheMode are the model-call cache (see llm.CacheMode);
	// nil Cache means no cache.
	Cache     llm.Cache
	CacheMode llm.CacheMode
	// Drain, when closed, stops the run gracefully: no new examples start,
	// examples in flight finish (cancel ctx to cut them short), everything
	// is written and the run is marked interrupted, ready to resume.
	Drain <-chan struct{}
	// MaxCostUSD and MaxTokens, when > 0, stop the run the same way once
	// the results written have cost or used that much.
	MaxCostUSD float64
	MaxTokens  int64
}

// Progress receives progress events from a run. Calls are made from one
// goroutine at a time.
type Progress interface {
	// Start is called once with the number of results the run will run:
	// on resume, those it does not keep from before.
	Start(total int)
	// Result is called as each result is stored.
	Result(r *results.Result)
	// Finish is called once at the end.
	Finish()
}

// KeptProgress is a Progress that is also told, before Start, how many
// results a resumed run keeps from before.
type KeptProgress interface {
	Progress
	Kept(n int)
}

// Outcome is what a run leaves behind.
type Outcome struct {
	// Dir is the run directory.
	Dir string
	// Manifest is the final manifest.
	Manifest *results.Manifest
}

// ErrInterrupted is returned (wrapped) when the run's context was
// cancelled before every result was written.
var ErrInterrupted = errors.New("run interrupted")

// NewRunID returns a time-sortable run id such as
// "20261122T023540Z-3f9a".
func NewRunID(now time.Time) string {
	var b [2]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// runner holds the state of one run.
type runner struct {
	spec *Spec
	opts Options
	// tracesDir is the directory of collected spans being scored
	// (gavel score --traces), recorded in the manifest.
	tracesDir string
	runID     string
	now       func() time.Time
	variants  []*variantPlan
	judges    []*judgePlan
	dsOpts    datasets.Options
	repeat    int
	shard     *results.Shard
	expected  *prompts.Template // dataset.expected

	mode      Mode
	router    *llm.Router // nil when Options.Model replaces it
	ownClient bool
	// resume is set when finishing an interrupted run.
	resume *resumeState
	// traced is false when scoring stored outputs with heuristic judges
	// only: nothing would be kept of their traces, so none are recorded.
	traced bool
	// corpora accumulate corpus-level metrics per variant and judge; only
	// the writer goroutine touches them.
	corpora map[[2]string]judges.CorpusAccumulator
	regrade *regradeSource // set when re-grading a stored run
	// validated is the dataset's fingerprint when the validation pass read
	// it (and found its ids unique): the run pass reads the file without
	// keeping its ids, and checks the file is still the same at its end.
	validated string
}

// Run executes spec: every selected example through the chain for every
// variant and epoch, every output through every judge, into a run directory
// of Parquet files and a manifest. Failed examples become result rows with
// their error. If ctx is cancelled, Run stops starting work, lets running
// examples finish or fail, writes what it has, marks the manifest
// interrupted and returns an error wrapping ErrInterrupted.
func Run(ctx context.Context, spec *Spec, opts Options) (*Outcome, error) {
	if len(spec.Variants) == 0 {
		return nil, &FieldError{File: spec.Path, Path: "variants", Msg: "missing: gavel run needs variants (a spec with only a score section is for gavel score)"}
	}
	if spec.Dataset.Path == "" {
		return nil, &FieldError{File: spec.Path, Path: "dataset.path", Msg: "missing: gavel run needs a dataset"}
	}
	r, err := newRunner(spec, opts, ModeRun)
	if err != nil {
		return nil, err
	}
	return r.start(ctx)
}

// start validates the whole input, then runs.
func (r *runner) start(ctx context.Context) (*Outcome, error) {
	r.traced = r.mode == ModeRun
	for _, j := range r.judges {
		r.traced = r.traced || j.llm
	}
	if r.ownClient {
		// The run's own client: release its connections when it ends.
		defer r.opts.HTTPClient.CloseIdleConnections()
	}
	info, err := r.validate(ctx)
	if err != nil {
		return nil, err
	}
	return r.run(ctx, info)
}

func numCPU() int { return runtime.GOMAXPROCS(0) }

func newRunner(spec *Spec, opts Options, mode Mode) (*runner, error) {
	if opts.Getenv == nil {
		opts.Getenv = func(string) string { return "" }
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = spec.Concurrency
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	ownClient := opts.HTTPClient == nil
	if ownClient {
		opts.HTTPClient = defaultHTTPClient(opts.Concurrency)
	}
	r := &runner{spec: spec, opts: opts, now: opts.Now, mode: mode, ownClient: ownClient}
	r.runID = opts.RunID
	if r.runID == "" {
		r.runID = NewRunID(opts.Now())
	}
	r.repeat = opts.Repeat
	if r.repeat <= 0 {
		r.repeat = spec.Repeat
	}
	if r.repeat <= 0 {
		r.repeat = 1
	}
	if opts.Shard == nil && spec.Shard != "" {
		sh, err := ParseShard(spec.Shard)
		if err != nil {
			return nil, &FieldError{File: spec.Path, Path: "shard", Msg: err.Error()}
		}
		opts.Shard = sh
	}
	if sh := opts.Shard; sh != nil {
		if sh.Count < 1 || sh.Index < 1 || sh.Index > sh.Count {
			return nil, fmt.Errorf("shard %d/%d: want I/N with 1 <= I <= N", sh.Index, sh.Count)
		}
		if mode != ModeRun && mode != ModeScore {
			return nil, fmt.Errorf("shard %d/%d: only a run or a scoring run is sharded", sh.Index, sh.Count)
		}
		c := *sh
		r.shard = &c
	}
	r.dsOpts = datasets.Options{
		Path:   resolvePath(spec.Dir, spec.Dataset.Path),
		Format: spec.Dataset.Format,
		ID:     spec.Dataset.ID,
		Limit:  spec.Dataset.Limit,
		Sample: spec.Dataset.Sample,
		Seed:   spec.Dataset.Seed,

		StrictUTF8: spec.Dataset.StrictUTF8,
	}
	if opts.Limit > 0 {
		r.dsOpts.Limit = opts.Limit
	}

	env := planEnv{getenv: opts.Getenv, client: opts.HTTPClient, custom: opts.Steps, tools: spec.toolFuncs}
	if opts.Model != nil {
		env.model = opts.Model
		env.check = func(model string) error {
			if model == "" {
				return errors.New("no model")
			}
			return nil
		}
	} else {
		router, err := llm.NewRouter(routerConfig(spec, opts))
		if err != nil {
			return nil, err
		}
		env.model, env.check = router, router.Check
		r.router = router
	}

	selected := map[string]bool{}
	for _, name := range opts.Variants {
		selected[name] = true
	}
	for _, name := range opts.Variants {
		if !slices.ContainsFunc(spec.Variants, func(v VariantSpec) bool { return v.Name == name }) {
			names := make([]string, len(spec.Variants))
			for i, v := range spec.Variants {
				names[i] = v.Name
			}
			return nil, fmt.Errorf("no variant named %q in %s (variants: %s)", name, spec.Path, strings.Join(names, ", "))
		}
	}
	for i, v := range spec.Variants {
		if len(selected) > 0 && !selected[v.Name] {
			continue
		}
		vp, err := compileVariant(spec, i, env)
		if err != nil {
			return nil, fmt.Errorf("spec %s: %w", spec.Path, err)
		}
		vp.index = len(r.variants)
		r.variants = append(r.variants, vp)
	}
	var err error
	jenv := judges.Env{Model: env.model, Dir: spec.Dir, Getenv: opts.Getenv}
	if e, ok := env.model.(llm.Embedder); ok {
		jenv.Embedder = e
	}
	if r.judges, err = compileJudges(spec, jenv); err != nil {
		return nil, err
	}
	if r.expected, err = parseTemplate("dataset expected", spec.Dataset.Expected); err != nil {
		return nil, &FieldError{File: spec.Path, Path: "dataset.expected", Msg: err.Error()}
	}
	return r, nil
}

// defaultHTTPClient returns the client of a run that was given none: one
// whose transport keeps as many idle connections per host as the run has
// examples in flight. http.DefaultTransport keeps 2, so at higher
// concurrency most calls would open a new connection and leave the old
// one in TIME_WAIT, which at scale exhausts local ports.
func defaultHTTPClient(conc int) *http.Client {
	dt, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return &http.Client{}
	}
	tr := dt.Clone()
	if conc > tr.MaxIdleConnsPerHost {
		tr.MaxIdleConnsPerHost = conc
	}
	if tr.MaxIdleConns > 0 && conc > tr.MaxIdleConns {
		tr.MaxIdleConns = conc
	}
	return &http.Client{Transport: tr}
}

func routerConfig(spec *Spec, opts Options) llm.Config {
	cfg := llm.Config{Local: map[string]llm.Provider{offline.Type: offline.Provider{}}, Prices: spec.Prices, Timeout: spec.Timeout, Getenv: opts.Getenv, HTTPClient: opts.HTTPClient,
		Retry: spec.Retry, Limits: shardLimits(spec.Limits, opts.Shard), Cache: opts.Cache, CacheMode: opts.CacheMode, Secrets: specSecrets(spec, opts.Getenv)}
	if cfg.Retry.Seed == 0 {
		// A fixed jitter seed: the waits recorded in traces are the same
		// from run to run.
		cfg.Retry.Seed = 1
	}
	names := make([]string, 0, len(spec.Providers))
	for name := range spec.Providers {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		p := spec.Providers[name]
		cfg.Providers = append(cfg.Providers, llm.ProviderConfig{Name: name, Type: "openai", BaseURL: p.BaseURL, APIKeyEnv: p.APIKeyEnv})
	}
	return cfg
}

func (r *runner) run(ctx context.Context, info datasets.Info) (out *Outcome, err error) {
	dir := r.opts.Out
	if r.resume == nil {
		// A new run: create its directory, take the run's lock before
		// anything in it is read or written, and hold it until the final
		// manifest is written (deferred first, so released last). A resume
		// holds the lock already (see Resume).
		if dir, err = r.createDir(); err != nil {
			return nil, err
		}
		lk, err := lockRun(dir)
		if err != nil {
			return nil, err
		}
		defer lk.release()
		if err := prepareDir(dir); err != nil {
			return nil, err
		}
	}
	m := r.manifest(info, dir)
	if rs := r.resume; rs != nil {
		if rs.manifest.Dataset.Fingerprint != info.Fingerprint {
			return nil, fmt.Errorf("run %s: the dataset %s changed since the run started (fingerprint %s, now %s): resuming would mix two datasets",
				dir, m.Dataset.Path, rs.manifest.Dataset.Fingerprint, info.Fingerprint)
		}
		m.StartedAt = rs.manifest.StartedAt
		m.Resumes = rs.manifest.Resumes + 1
	}
	if err := results.WriteManifest(dir, m); err != nil {
		return nil, fmt.Errorf("run directory %s: %w", dir, err)
	}
	out = &Outcome{Dir: dir, Manifest: m}
	started := r.now()
	defer func() {
		m.EndedAt = r.now().UTC()
		m.Totals.DurationMS = float64(m.EndedAt.Sub(started).Microseconds()) / 1000
		switch {
		case err == nil:
			m.Status = results.RunCompleted
		case errors.Is(err, ErrInterrupted):
			m.Status = results.RunInterrupted
			m.Error = err.Error()
		default:
			m.Status = results.RunFailed
			m.Error = err.Error()
		}
		if werr := results.WriteManifest(dir, m); werr != nil && err == nil {
			err = werr
		}
	}()

	js := &journalState{supersede: map[supersedeKey]int{}}
	if r.resume != nil {
		js = r.resume.journal
	}
	ps, err := openPartStore(dir, r.runID, len(r.variants), js.nextSeq, r.now)
	if err != nil {
		return out, fmt.Errorf("run directory %s: %w", dir, err)
	}
	if r.resume != nil {
		for _, line := range r.resume.supersede {
			if err := ps.commit(line); err != nil {
				ps.close()
				return out, fmt.Errorf("run directory %s: %w", dir, err)
			}
		}
	}

	total := info.Count * len(r.variants) * r.repeat
	if r.regrade != nil {
		total = info.Count
	}
	if r.opts.Progress != nil {
		// On resume the progress counts what is still to run; the read-back
		// check below still wants the run's whole total.
		toRun := total
		if r.resume != nil {
			toRun -= r.resume.kept
			if kp, ok := r.opts.Progress.(KeptProgress); ok {
				kp.Kept(r.resume.kept)
			}
		}
		r.opts.Progress.Start(toRun)
		defer r.opts.Progress.Finish()
	}
	dropped, execErr := r.execute(ctx, ps, m)
	if cerr := ps.close(); cerr != nil && execErr == nil {
		execErr = cerr
	}
	if execErr != nil && !errors.Is(execErr, context.Canceled) && !errors.Is(execErr, errBudget) {
		return out, execErr
	}
	if js, err = readJournal(dir); err != nil {
		return out, err
	}
	if err := mergeParts(dir, len(r.variants), js); err != nil {
		return out, fmt.Errorf("writing run %s: %w", dir, err)
	}
	complete := execErr == nil && dropped == 0
	if complete {
		if err := r.runPairs(ctx, dir, m); err != nil {
			execErr = err
			complete = false
			if !errors.Is(err, context.Canceled) {
				return out, err
			}
		}
	}
	if err := r.compact(dir, complete); err != nil {
		return out, fmt.Errorf("writing run %s: %w", dir, err)
	}
	// The final files' renames are made durable before any manifest can
	// say completed.
	if err := syncDir(dir); err != nil {
		return out, fmt.Errorf("writing run %s: %w", dir, err)
	}
	distinct, err := r.recount(dir, m)
	if err != nil {
		return out, fmt.Errorf("reading run %s back: %w", dir, err)
	}
	if complete && (m.Totals.Results != int64(total) || distinct != int64(total)) {
		// Each (variant, example, epoch) once: anything else means the
		// run's files are not what this run wrote.
		return out, fmt.Errorf("run %s holds %d results (%d distinct) where %d were expected: not marking it completed",
			dir, m.Totals.Results, distinct, total)
	}
	if r.router != nil {
		m.Totals.CacheHits, m.Totals.CacheMisses = r.router.CacheStats()
	}
	if r.resume != nil {
		if err := r.recomputeCorpus(dir); err != nil {
			return out, err
		}
	}
	m.Metrics = r.corpusMetrics()
	if !complete {
		missing := int64(total) - m.Totals.Results
		why := "interrupted"
		if errors.Is(execErr, errBudget) {
			why = execErr.Error()
		}
		return out, fmt.Errorf("%w (%s): %d of %d results written, %d not run; finish it with: gavel run --resume %s",
			ErrInterrupted, why, m.Totals.Results, total, missing, dir)
	}
	return out, nil
}

// shardLimits gives a shard its share of the spec's rate limits: they are
// totals for the whole run, so each of N shards takes 1/N of the
// requests and tokens per minute and of the calls in flight (at least
// one), unless the shard's LimitsWhole keeps them whole.
func shardLimits(limits map[string]llm.Limit, sh *results.Shard) map[string]llm.Limit {
	if sh == nil || sh.Count <= 1 || sh.LimitsWhole || len(limits) == 0 {
		return limits
	}
	out := make(map[string]llm.Limit, len(limits))
	n := float64(sh.Count)
	for k, l := range limits {
		l.RPM /= n
		l.TPM /= n
		if l.Concurrency > 0 {
			l.Concurrency = max(1, l.Concurrency/sh.Count)
		}
		out[k] = l
	}
	return out
}

// ParseShard reads "I/N", shard I (1 to N) of N.
func ParseShard(s string) (*results.Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil {
		return nil, fmt.Errorf("%q: want I/N (1/4 is the first of 4 shards)", s)
	}
	if n < 1 || i < 1 || i > n {
		return nil, fmt.Errorf("shard %d/%d: want I/N with 1 <= I <= N", i, n)
	}
	return &results.Shard{Index: i, Count: n}, nil
}
