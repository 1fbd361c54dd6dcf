package eval

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/gavel-eval/gavel/datasets"
	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/judges"
	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/llm/offline"
	"github.com/gavel-eval/gavel/prompts"
	"github.com/gavel-eval/gavel/traces"
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

// job is one (variant, example, epoch) triple.
type job struct {
	// preset, when set, is the stored result of a re-graded run: the chain
	// is not run again.
	preset  *results.Result
	seq     int
	variant *variantPlan
	example datasets.Example
	epoch   int
}

// corpusInput is one judged output fed to a corpus-level metric.
type corpusInput struct {
	judge string
	in    judges.Input
}

// outcome is what running a job produced.
type outcome struct {
	corpus  []corpusInput
	seq     int
	variant int
	result  results.Result
	scores  []results.Score
	spans   []traces.Span
	dropped bool // cancelled by the run's context; not written
}

// runner holds the state of one run.
type runner struct {
	spec     *Spec
	opts     Options
	runID    string
	now      func() time.Time
	variants []*variantPlan
	judges   []*judgePlan
	dsOpts   datasets.Options
	repeat   int
	expected *prompts.Template // dataset.expected

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

	env := planEnv{getenv: opts.Getenv, client: opts.HTTPClient, custom: opts.Steps}
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
		Retry: spec.Retry, Limits: spec.Limits, Cache: opts.Cache, CacheMode: opts.CacheMode, Secrets: specSecrets(spec, opts.Getenv)}
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

// validate reads the whole dataset once before any model call: malformed
// rows, duplicate ids and templates referring to missing fields are found
// now, for every example, rather than after money was spent.
func (r *runner) validate(ctx context.Context) (datasets.Info, error) {
	if r.regrade != nil {
		return r.validateRegrade(ctx)
	}
	fp, err := datasets.Fingerprint(r.dsOpts.Path)
	if err != nil {
		return datasets.Info{}, fmt.Errorf("dataset %s: %w", r.dsOpts.Path, err)
	}
	rd, err := datasets.Open(r.dsOpts)
	if err != nil {
		return datasets.Info{}, err
	}
	defer rd.Close()
	info := datasets.Info{Fingerprint: fp, Format: rd.Format()}
	for {
		if err := ctx.Err(); err != nil {
			return info, err
		}
		ex, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return info, err
		}
		info.Count++
		for _, vp := range r.variants {
			if err := r.dryRender(vp, ex); err != nil {
				return info, fmt.Errorf("dataset %s line %d (example %s), variant %s: %w", r.dsOpts.Path, ex.Line, ex.ID, vp.name, err)
			}
		}
	}
	if info.Count == 0 {
		return info, fmt.Errorf("dataset %s: no examples", r.dsOpts.Path)
	}
	return info, nil
}

// dryRender renders every template of the chain and judges for one example,
// with earlier steps' outputs stubbed, to catch missing fields.
func (r *runner) dryRender(vp *variantPlan, ex datasets.Example) error {
	st := &chainState{example: ex.Fields, variant: vp, steps: map[string]string{}}
	for _, s := range vp.steps {
		data := st.data()
		var err error
		switch s := s.(type) {
		case *llmStep:
			for _, t := range s.tmpls {
				if _, err = t.Render(data); err != nil {
					break
				}
			}
		case *templateStep:
			_, err = s.t.Render(data)
		case *extractStep:
			if s.from != nil {
				_, err = s.from.Render(data)
			}
		case *httpStep:
			if s.body != nil {
				_, err = s.body.Render(data)
			}
		case *execStep:
			if s.input != nil {
				_, err = s.input.Render(data)
			}
		}
		if err != nil {
			return fmt.Errorf("step %s: %w", s.name(), err)
		}
		st.steps[s.name()] = ""
		st.last = ""
	}
	data := st.data()
	for key, t := range vp.facts {
		if _, err := t.Render(data); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	data["output"] = ""
	if r.expected != nil {
		if _, err := r.expected.Render(data); err != nil {
			return fmt.Errorf("dataset.expected: %w", err)
		}
	}
	for _, j := range r.judges {
		if err := checkJudgeTemplates(j, data, ex.Fields, vp.name, ""); err != nil {
			return err
		}
	}
	return nil
}

// checkJudgeTemplates renders a judge's templates for one example before
// the run: its expected over data, then its own (an LLM judge's prompt,
// rubric, criteria, input; see judges.TemplateChecker) with output as the
// output, which before a run is a placeholder (""), so that the example's
// and variant's fields they use are checked. The error names the judge.
func checkJudgeTemplates(j *judgePlan, data, example map[string]any, variant, output string) error {
	in := judges.Input{Output: output, Example: example, Variant: variant}
	if j.expected != nil {
		e, err := j.expected.Render(data)
		if err != nil {
			return fmt.Errorf("judge %s: %w", j.name, err)
		}
		in.Expected = e
	}
	if c, ok := j.judge.(judges.TemplateChecker); ok {
		if err := c.CheckTemplates(in); err != nil {
			return fmt.Errorf("judge %s: %w", j.name, err)
		}
	}
	return nil
}

// validateRegrade checks a stored run before re-grading it: every row's
// input decodes and every judge template renders.
func (r *runner) validateRegrade(ctx context.Context) (datasets.Info, error) {
	path := filepath.Join(r.regrade.dir, results.ResultsFile)
	fp, err := datasets.Fingerprint(path)
	if err != nil {
		return datasets.Info{}, err
	}
	info := datasets.Info{Format: datasets.FormatParquet, Fingerprint: fp}
	var renderErr error
	err = r.regradeJobs(func(j job) bool {
		if ctx.Err() != nil {
			renderErr = ctx.Err()
			return false
		}
		info.Count++
		_, st := r.presetResult(j, "")
		data := st.data()
		data["output"] = j.preset.Output
		for _, jp := range r.judges {
			if err := checkJudgeTemplates(jp, data, j.example.Fields, j.variant.name, j.preset.Output); err != nil {
				renderErr = fmt.Errorf("run %s: %s example %s: %w", r.regrade.dir, j.variant.name, j.example.ID, err)
				return false
			}
		}
		return true
	})
	if err == nil {
		err = renderErr
	}
	if err == nil && info.Count == 0 {
		err = fmt.Errorf("run %s has no results to re-grade", r.regrade.dir)
	}
	return info, err
}

// partPath is the per-variant merged part of one table.
func partPath(dir, table string, variant int) string {
	return filepath.Join(dir, ".parts", fmt.Sprintf("%s-%04d.parquet", table, variant))
}

func (r *runner) manifest(info datasets.Info, dir string) *results.Manifest {
	m := &results.Manifest{
		FormatVersion: results.FormatVersion,
		RunID:         r.runID,
		Name:          r.spec.Name,
		Status:        results.RunRunning,
		SpecPath:      r.spec.Path,
		SpecDir:       r.spec.Dir,
		SpecHash:      r.spec.Hash,
		Spec:          redactSpecSource(r.spec.Source),
		Dataset: results.Dataset{
			Path: r.dsOpts.Path, Format: info.Format, Fingerprint: info.Fingerprint, IDTemplate: r.dsOpts.ID,
			Examples: info.Count, Limit: r.dsOpts.Limit, Sample: r.dsOpts.Sample, Seed: r.dsOpts.Seed,
		},
		Repeat:      r.repeat,
		Concurrency: r.opts.Concurrency,
		Tool:        r.opts.Tool,
		Git:         gitInfo(r.spec.Dir),
		StartedAt:   r.now().UTC(),
		Mode:        string(r.mode),
	}
	if r.regrade != nil {
		m.RegradedFrom = r.regrade.manifest.RunID
		m.RegradedDir = r.regrade.dir
	}
	if m.Tool.Name == "" {
		m.Tool = toolInfo()
	}
	for _, s := range r.spec.Chain {
		m.Chain = append(m.Chain, results.Step{Name: s.Name, Kind: s.Kind})
	}
	for _, v := range r.variants {
		m.Variants = append(m.Variants, v.manifest)
	}
	m.Judges = []results.Judge{}
	for _, j := range r.judges {
		m.Judges = append(m.Judges, j.manifest)
	}
	return m
}

func toolInfo() results.Tool {
	t := results.Tool{Name: "gavel", Version: "(devel)"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		t.Go = bi.GoVersion
		if bi.Main.Version != "" {
			t.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				t.Commit = s.Value
			}
		}
	}
	return t
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

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// createDir creates the directory of a new run and returns it: Options.Out,
// else runs/<run-id>. A generated run id names a directory no other run
// has: it is created exclusively, and a taken id is replaced by a new one.
func (r *runner) createDir() (string, error) {
	if dir := r.opts.Out; dir != "" || r.opts.RunID != "" {
		if dir == "" {
			dir = filepath.Join("runs", r.runID)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("creating run directory: %w", err)
		}
		return dir, nil
	}
	if err := os.MkdirAll("runs", 0o755); err != nil {
		return "", fmt.Errorf("creating run directory: %w", err)
	}
	for attempt := 0; ; attempt++ {
		dir := filepath.Join("runs", r.runID)
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, os.ErrExist) || attempt >= 100 {
			return "", fmt.Errorf("creating run directory: %w", err)
		}
		r.runID = NewRunID(r.now())
	}
}

// prepareDir creates dir's parts directory; the caller holds the run's
// lock. An existing run directory with a manifest is refused rather than
// overwritten.
func prepareDir(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, results.ManifestFile)); err == nil {
		return fmt.Errorf("run directory %s already holds a run; choose another --out or remove it", dir)
	}
	if err := os.MkdirAll(filepath.Join(dir, ".parts"), 0o755); err != nil {
		return fmt.Errorf("creating run directory: %w", err)
	}
	return nil
}

// compact concatenates each table's per-variant parts, in variant order,
// into the run's final Parquet files and removes the parts.
func (r *runner) compact(dir string, complete bool) error {
	for _, t := range []struct{ table, file string }{
		{"results", results.ResultsFile}, {"scores", results.ScoresFile}, {"traces", results.TracesFile},
	} {
		parts := make([]string, len(r.variants))
		for i := range r.variants {
			parts[i] = partPath(dir, t.table, i)
		}
		if pairs := filepath.Join(dir, ".parts", t.table+"-pairs.parquet"); fileExists(pairs) {
			parts = append(parts, pairs)
		}
		if err := results.Concat(filepath.Join(dir, t.file), parts); err != nil {
			return err
		}
	}
	if !complete {
		// An unfinished run keeps its chunks and journal for --resume; the
		// final files written now are readable meanwhile.
		return nil
	}
	return os.RemoveAll(filepath.Join(dir, ".parts"))
}

// execute runs all jobs with bounded concurrency and writes their outcomes
// in deterministic order (variant, example order, epoch) whatever order
// they finish in. It returns how many jobs were dropped by cancellation.
func (r *runner) execute(ctx context.Context, ps *partStore, m *results.Manifest) (int, error) {
	conc := r.opts.Concurrency
	// window bounds how far dispatch may run ahead of the oldest unwritten
	// job, so out-of-order outcomes held in memory stay bounded.
	window := 4*conc + 16
	tokens := make(chan struct{}, window)
	done := make(chan outcome, conc)

	// The writer goroutine owns the part store and the manifest totals. It
	// closes budget when a cost or token budget is reached.
	var dropped int
	budget := make(chan struct{})
	var budgetErr error
	writeErr := make(chan error, 1)
	go func() {
		pending := map[int]outcome{}
		next := 0
		var werr error
		for o := range done {
			pending[o.seq] = o
			for {
				p, ok := pending[next]
				if !ok {
					break
				}
				delete(pending, next)
				next++
				<-tokens
				if werr != nil {
					continue
				}
				if p.dropped {
					dropped++
					continue
				}
				werr = r.store(ps, &p, m)
				if werr == nil && budgetErr == nil {
					if budgetErr = r.overBudget(m); budgetErr != nil {
						close(budget)
					}
				}
			}
		}
		writeErr <- werr
	}()

	g := errgroup.Group{}
	g.SetLimit(conc)
	seq := 0
	drained := false
	stopped := func() bool {
		select {
		case <-ctx.Done():
			return true
		case <-budget:
			return true
		case <-r.opts.Drain:
			drained = true
			return true
		default:
			return false
		}
	}
	dispatchErr := r.jobs(func(j job) bool {
		if r.resume != nil && r.resume.done[resumeKey{j.variant.index, int64(j.example.Index), int32(j.epoch)}] {
			return true // stored by an earlier attempt
		}
		select {
		case tokens <- struct{}{}:
		case <-ctx.Done():
			return false
		case <-budget:
			return false
		case <-r.opts.Drain:
			drained = true
			return false
		}
		if stopped() {
			<-tokens
			return false
		}
		j.seq = seq
		seq++
		g.Go(func() error {
			done <- r.runJob(ctx, j)
			return nil
		})
		return true
	})
	_ = g.Wait()
	close(done)
	werr := <-writeErr
	if dispatchErr != nil {
		return dropped, dispatchErr
	}
	if werr != nil {
		return dropped, werr
	}
	if budgetErr != nil {
		return dropped, budgetErr
	}
	if drained {
		return dropped, context.Canceled
	}
	return dropped, ctx.Err()
}

// jobs calls yield with each job of the run in dispatch order, until
// yield returns false. A run's jobs are example-major: for each example,
// every variant and epoch, so that variants see the same conditions at the
// same time.
func (r *runner) jobs(yield func(job) bool) error {
	if r.regrade != nil {
		return r.regradeJobs(yield)
	}
	rd, err := datasets.Open(r.dsOpts)
	if err != nil {
		return err
	}
	defer rd.Close()
	for {
		ex, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, vp := range r.variants {
			for epoch := 0; epoch < r.repeat; epoch++ {
				if !yield(job{variant: vp, example: ex, epoch: epoch}) {
					return nil
				}
			}
		}
	}
}

// store hands one outcome to the part store and updates the running
// totals (the final totals are recounted from the files).
func (r *runner) store(ps *partStore, o *outcome, m *results.Manifest) error {
	if err := ps.add(o); err != nil {
		return err
	}
	t := &m.Totals
	t.Results++
	if o.result.Status == results.StatusError {
		t.Errors++
	}
	t.Scores += int64(len(o.scores))
	for _, s := range o.scores {
		if s.Status == results.ScoreJudgeError {
			t.JudgeErrors++
		}
	}
	t.Spans += int64(len(o.spans))
	for _, c := range o.corpus {
		r.corpusAdd(o.result.Variant, c)
	}
	t.PromptTokens += o.result.PromptTokens
	t.CompletionTokens += o.result.CompletionTokens
	if o.result.CostUSD != nil {
		t.CostUSD += *o.result.CostUSD
	}
	t.CachedCostUSD += o.result.CachedCostUSD
	if r.opts.Progress != nil {
		r.opts.Progress.Result(&o.result)
	}
	return nil
}

// corpusAdd feeds one judged output to its variant's corpus accumulator.
func (r *runner) corpusAdd(variant string, c corpusInput) {
	key := [2]string{variant, c.judge}
	acc := r.corpora[key]
	if acc == nil {
		for _, jp := range r.judges {
			if jp.name == c.judge {
				acc = jp.judge.(judges.CorpusScorer).NewCorpus()
			}
		}
		if r.corpora == nil {
			r.corpora = map[[2]string]judges.CorpusAccumulator{}
		}
		r.corpora[key] = acc
	}
	acc.Add(c.in)
}

// corpusMetrics returns the corpus-level metrics, by variant then judge.
func (r *runner) corpusMetrics() []results.CorpusMetric {
	var out []results.CorpusMetric
	for _, v := range r.variants {
		for _, jp := range r.judges {
			if acc := r.corpora[[2]string{v.name, jp.name}]; acc != nil {
				val, desc := acc.Score()
				out = append(out, results.CorpusMetric{Variant: v.name, Judge: jp.name, Type: jp.typ, Value: val, Description: desc})
			}
		}
	}
	return out
}

// runJob runs the chain and the judges for one job. It never returns an
// error: failures are recorded in the outcome.
func (r *runner) runJob(ctx context.Context, j job) (o outcome) {
	o = outcome{seq: j.seq, variant: j.variant.index}
	traceID := traces.TraceID(r.runID, j.variant.name, j.example.ID, fmt.Sprint(j.epoch))
	rec := traces.NewRecorder(traceID, r.now)
	if r.traced {
		ctx = traces.WithRecorder(ctx, rec)
	}

	var res results.Result
	var st *chainState
	if j.preset != nil {
		res, st = r.presetResult(j, traceID)
	} else {
		var cancelled bool
		res, st, cancelled = r.runChain(ctx, j, traceID)
		if cancelled {
			// The run was cancelled under this example: it was not run, and
			// is reported as missing rather than as a failure.
			o.dropped = true
			return o
		}
	}

	data := st.data()
	data["output"] = res.Output
	expectedSet := res.Expected != nil
	if r.expected != nil && !expectedSet {
		if e, err := r.expected.Render(data); err == nil {
			res.Expected, expectedSet = &e, true
		}
	}
	for _, jp := range r.judges {
		if jp.pair != nil {
			continue // pairwise judges run after all variants (pairs.go)
		}
		score, expected, in := r.runJudge(ctx, jp, &res, data)
		if !expectedSet && expected != nil {
			res.Expected, expectedSet = expected, true
		}
		o.scores = append(o.scores, score)
		if jp.corpus && score.Status == results.ScoreOK {
			o.corpus = append(o.corpus, corpusInput{judge: jp.name, in: in})
		}
	}
	o.result = res
	o.spans = rec.Spans()
	if !r.traced || (r.mode != ModeRun && !hasKind(o.spans, traces.KindLLM)) {
		// Scoring stored outputs: traces are kept for judges that called a
		// model; heuristic judgments are fully described by their rows.
		o.spans = nil
		o.result.TraceID = ""
		for i := range o.scores {
			o.scores[i].TraceID, o.scores[i].SpanID = "", ""
		}
	}
	return o
}

func hasKind(spans []traces.Span, k traces.Kind) bool {
	for _, s := range spans {
		if s.Kind == k {
			return true
		}
	}
	return false
}

// runChain runs the variant's chain for one job.
func (r *runner) runChain(ctx context.Context, j job, traceID string) (results.Result, *chainState, bool) {
	input, _ := json.Marshal(j.example.Fields)
	res := results.Result{
		RunID: r.runID, Variant: j.variant.name, ExampleID: j.example.ID, ExampleIndex: int64(j.example.Index),
		Epoch: int32(j.epoch), Input: string(input), TraceID: traceID, StartedAt: r.now().UTC(),
	}
	st := &chainState{example: j.example.Fields, variant: j.variant, steps: map[string]string{}, now: r.now}
	chainName := r.spec.Name
	if chainName == "" {
		chainName = "chain"
	}
	cctx, root := traces.Start(ctx, chainName, traces.KindChain)
	if r.spec.ExampleTimeout > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeoutCause(cctx, r.spec.ExampleTimeout,
			fmt.Errorf("example timeout: the chain took longer than %s", r.spec.ExampleTimeout))
		defer cancel()
	}
	root.SetInput(res.Input)
	root.SetAttr("variant", j.variant.name)
	root.SetAttr("example_id", j.example.ID)
	root.SetAttr("epoch", j.epoch)
	start := r.now()
	var chainErr error
	for _, s := range j.variant.steps {
		out, err := r.runStep(cctx, s, st)
		if err == nil && cctx.Err() != nil {
			err = context.Cause(cctx)
		}
		if err != nil {
			if cause := context.Cause(cctx); cause != nil && ctx.Err() == nil && !errors.Is(err, cause) {
				err = fmt.Errorf("%w (%v)", err, cause)
			}
			chainErr = fmt.Errorf("step %s: %w", s.name(), err)
			res.FailedStep = results.Str(s.name())
			break
		}
		st.steps[s.name()] = out
		st.last = out
	}
	// Model calls count at the model's latency: a call the cache
	// answered at its original call's, and the cache's own time is left
	// out, so that runs from the cache and live runs compare.
	res.LatencyMS = max(0, float64(r.now().Sub(start).Microseconds())/1000+st.modelMS)
	res.CacheHits = int64(st.cacheHits)
	res.Cached = st.calls > 0 && st.cacheHits == st.calls
	res.CachedCostUSD = st.cachedCost
	if st.cacheHits > 0 {
		root.SetAttr("cache_hits", st.cacheHits)
		if res.Cached {
			root.SetAttr("cache", "hit")
		}
	}
	root.SetOutput(st.last)
	root.SetAttr("prompt_tokens", st.usage.PromptTokens)
	root.SetAttr("completion_tokens", st.usage.CompletionTokens)
	if st.priced {
		root.SetAttr("cost_usd", st.cost)
	}
	root.End(chainErr)
	if chainErr != nil && ctx.Err() != nil {
		return res, st, true
	}

	res.PromptTokens = int64(st.usage.PromptTokens)
	res.CompletionTokens = int64(st.usage.CompletionTokens)
	if st.priced {
		res.CostUSD = &st.cost
	}
	if err := r.applyFacts(j, st, &res); err != nil && chainErr == nil {
		chainErr = err
	}
	res.Steps = "{}"
	if r.mode == ModeRun {
		// Scored files have one pseudo-step, the output itself: storing it
		// twice would double the file.
		steps, _ := json.Marshal(st.steps)
		res.Steps = string(steps)
	}
	if chainErr != nil {
		res.Status = results.StatusError
		res.Error = results.Str(chainErr.Error())
	} else {
		res.Status = results.StatusOK
		res.Output = st.last
	}
	return res, st, false
}

// presetResult is the result of a job whose output is already stored (a
// re-graded run): it is copied, not recomputed.
func (r *runner) presetResult(j job, traceID string) (results.Result, *chainState) {
	res := *j.preset
	res.RunID = r.runID
	res.TraceID = traceID
	st := &chainState{example: j.example.Fields, variant: j.variant, steps: map[string]string{}}
	if res.Steps != "" {
		_ = json.Unmarshal([]byte(res.Steps), &st.steps)
	}
	st.last = res.Output
	return res, st
}

// runStep runs one step inside its span, recovering from panics in user
// code. llm steps are recorded by the model router, which names the span
// after the step.
func (r *runner) runStep(ctx context.Context, s step, st *chainState) (out string, err error) {
	if s.kind() == traces.KindLLM {
		defer recoverStep(&err)
		return s.run(ctx, st, nil)
	}
	sctx, span := traces.Start(ctx, s.name(), s.kind())
	defer func() {
		span.SetOutput(out)
		span.End(err)
	}()
	// Deferred after the span's End so that it runs first: a panic ends
	// the span as failed.
	defer recoverStep(&err)
	return s.run(sctx, st, span)
}

// recoverStep turns a panic in a step into the step's error. It must be
// deferred directly.
func recoverStep(err *error) {
	if p := recover(); p != nil {
		*err = fmt.Errorf("panic: %v", p)
	}
}

// runJudge runs one judge on a result and returns its score row and the
// rendered expected value (nil when the judge has none).
func (r *runner) runJudge(ctx context.Context, jp *judgePlan, res *results.Result, data map[string]any) (results.Score, *string, judges.Input) {
	sc := results.Score{
		RunID: r.runID, Variant: res.Variant, ExampleID: res.ExampleID, ExampleIndex: res.ExampleIndex, Epoch: res.Epoch,
		Judge: jp.name, JudgeType: jp.typ, JudgeHash: jp.hash, TraceID: res.TraceID,
	}
	var expected *string
	if jp.expected != nil {
		if e, err := jp.expected.Render(data); err == nil {
			expected = &e
		}
	}
	if res.Status != results.StatusOK {
		sc.Status = results.ScoreSkipped
		sc.Error = results.Str("not judged: the chain failed")
		return sc, expected, judges.Input{}
	}
	// Judge spans are top-level spans of the trace, after the chain's root.
	jctx, span := traces.Start(ctx, jp.name, traces.KindJudge)
	sc.SpanID = span.SpanID()
	span.SetAttr("judge_type", jp.typ)
	span.SetInput(res.Output)
	start := r.now()
	in := judges.Input{
		Output: res.Output, Example: data["example"].(map[string]any), Variant: res.Variant,
		LatencyMS: res.LatencyMS, PromptTokens: int(res.PromptTokens), CompletionTokens: int(res.CompletionTokens),
		CostUSD: res.CostUSD,
	}
	var err error
	if jp.expected != nil {
		if expected == nil {
			_, err = jp.expected.Render(data)
			err = fmt.Errorf("expected: %w", err)
		} else {
			in.Expected = *expected
			span.SetAttr("expected", in.Expected)
		}
	}
	var v judges.Verdict
	if err == nil {
		v, err = safeJudge(jctx, jp.judge, in)
	}
	sc.LatencyMS = float64(r.now().Sub(start).Microseconds()) / 1000
	if err != nil {
		sc.Status = results.ScoreJudgeError
		sc.Error = results.Str(err.Error())
		span.End(err)
		return sc, expected, in
	}
	sc.Status = results.ScoreOK
	sc.Score = v.Score
	pass := v.Pass
	sc.Pass = &pass
	sc.Label = results.Str(v.Label)
	sc.Reason = results.Str(v.Reason)
	if v.Score != nil {
		span.SetAttr("score", *v.Score)
	}
	span.SetAttr("pass", v.Pass)
	if len(v.Details) > 0 {
		if b, err := json.Marshal(v.Details); err == nil {
			sc.Details = results.Str(string(b))
		} else {
			sc.Details = results.Str(fmt.Sprintf("%q", fmt.Sprint(v.Details)))
		}
		span.SetAttr("details", v.Details)
	}
	span.SetOutput(v.Reason)
	span.End(nil)
	return sc, expected, in
}

func safeJudge(ctx context.Context, j judges.Judge, in judges.Input) (v judges.Verdict, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("judge panicked: %v", p)
		}
	}()
	return j.Judge(ctx, in)
}
