package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gavel-eval/gavel/datasets"
	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/prompts"
	"github.com/gavel-eval/gavel/traces"
)

// Mode says what a run did: the mode recorded in its manifest.
type Mode = results.Mode

// Modes recorded in the manifest.
const (
	// ModeRun ran a chain over a dataset (gavel run).
	ModeRun = results.ModeRun
	// ModeScore scored outputs read from a file (gavel score --input).
	ModeScore = results.ModeScore
	// ModeRegrade re-ran judges over a stored run's outputs (gavel score --run).
	ModeRegrade = results.ModeRegrade
)

// ScoreOptions configure offline scoring: either Input (a file of existing
// outputs, mapped by the spec's score section) or Run (a run directory to
// re-grade).
type ScoreOptions struct {
	Options
	// Input is a JSONL, CSV or Parquet file of outputs; it replaces the
	// spec's dataset path.
	Input string
	// Run is a stored run whose outputs are judged again.
	Run string
	// Judges, when set, runs only these judges (by name).
	Judges []string
	// Traces names the directory of collected spans that Input was
	// extracted from (gavel score --traces); the manifest records it.
	Traces string
	// Strict makes a row whose output field is missing or null an error of
	// the whole input, found before any judge runs. By default such a row
	// becomes a result with status error and the reason, like a failed
	// call in a run, and the other rows are scored.
	Strict bool
}

// Score judges existing outputs without running any chain, into a run
// directory of the same stored-run format as Run. spec may be nil when
// re-grading: the stored run's own spec is used.
func Score(ctx context.Context, spec *Spec, opts ScoreOptions) (*Outcome, error) {
	if (opts.Input == "") == (opts.Run == "") {
		return nil, errors.New("score: give exactly one of an input file or a run directory")
	}
	var r *runner
	var err error
	if opts.Run != "" {
		r, err = newRegrader(spec, opts)
	} else {
		r, err = newScorer(spec, opts)
	}
	if err != nil {
		return nil, err
	}
	return r.start(ctx)
}

// newScorer prepares scoring of an input file: every output field of the
// score section becomes a variant whose chain is that one field.
func newScorer(spec *Spec, opts ScoreOptions) (*runner, error) {
	if spec == nil {
		return nil, errors.New("score: a spec is needed to score an input file")
	}
	if spec.Score == nil {
		return nil, &FieldError{File: spec.Path, Path: "score", Msg: "missing: say which field holds the output (score: {output: FIELD}) or which fields hold several variants' outputs"}
	}
	sc := *spec
	sc.Dataset.Path = opts.Input
	if abs, err := filepath.Abs(opts.Input); err == nil {
		sc.Dataset.Path = abs
	}
	sc.Variants, sc.Chain = nil, nil
	opts.Options.Concurrency = scoreConcurrency(opts.Options.Concurrency, spec)
	r, err := newRunner(&sc, opts.Options, ModeScore)
	if err != nil {
		return nil, err
	}
	if opts.Traces != "" {
		r.tracesDir = opts.Traces
		if abs, err := filepath.Abs(opts.Traces); err == nil {
			r.tracesDir = abs
		}
	}
	vars := spec.Score.Variants
	if len(vars) == 0 {
		name := spec.Score.Name
		if name == "" {
			name = "output"
		}
		vars = []ScoreVariant{{Name: name, Output: spec.Score.Output}}
	}
	for i, v := range vars {
		vp, err := scoreVariant(spec.Score, v, i, opts.Strict)
		if err != nil {
			return nil, &FieldError{File: spec.Path, Path: fmt.Sprintf("score.variants[%d]", i), Msg: err.Error()}
		}
		r.variants = append(r.variants, vp)
	}
	if err := r.selectJudges(opts.Judges); err != nil {
		return nil, err
	}
	return r, nil
}

// scoreConcurrency picks the default concurrency of scoring: heuristic
// judges are CPU-bound, so one per core; judges that call models wait on
// the network, so the spec's or the run default.
func scoreConcurrency(requested int, spec *Spec) int {
	if requested > 0 {
		return requested
	}
	if spec.Concurrency > 0 {
		return spec.Concurrency
	}
	return max(DefaultConcurrency, 2*numCPU())
}

var identPath = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

// fieldTemplate turns a field path ("a.b") or a template into a template
// over the example. A field path renders its value; a null (or missing)
// one is an error naming it. A fact path (nullable) renders a null value
// as "<nil>", which applyFacts reads as absent.
func fieldTemplate(name, field string, nullable bool) (*prompts.Template, error) {
	if field == "" {
		return nil, nil
	}
	text := field
	if !strings.Contains(field, "{{") {
		expr := ".example." + field
		if !identPath.MatchString(field) {
			parts := strings.Split(field, ".")
			q := make([]string, len(parts))
			for i, p := range parts {
				q[i] = strconv.Quote(p)
			}
			expr = "index .example " + strings.Join(q, " ")
		}
		if nullable {
			expr = `printf "%v" (` + expr + ")"
		}
		text = "{{" + expr + "}}"
	}
	return prompts.Parse(name, text)
}

// outputStep reads a scored file's output field. Its errors (a missing or
// null field) name the field; the runner records them on the result row
// like any step error. It is not a *templateStep, so the pre-run check
// leaves a bad row to the run instead of failing the whole file.
type outputStep struct {
	templateStep
	field string
}

func (s *outputStep) run(ctx context.Context, st *chainState, span *traces.ActiveSpan) (string, error) {
	out, err := s.templateStep.run(ctx, st, span)
	if err != nil {
		return "", fmt.Errorf("output field %s: %w", s.field, err)
	}
	return out, nil
}

// scoreVariant builds the plan of one output field: a chain of one
// template step reading the field, plus the run facts. With strict, the
// step is checked on every row before scoring starts.
func scoreVariant(sc *ScoreSpec, v ScoreVariant, i int, strict bool) (*variantPlan, error) {
	t, err := fieldTemplate(v.Name+" output", v.Output, false)
	if err != nil {
		return nil, err
	}
	ts := templateStep{stepBase: stepBase{stepName: "output"}, t: t}
	var st step = &outputStep{templateStep: ts, field: strconv.Quote(v.Output)}
	if strict {
		st = &ts
	}
	vp := &variantPlan{
		index: i, name: v.Name, data: map[string]any{"name": v.Name, "model": "", "vars": map[string]any{}},
		steps:    []step{st},
		manifest: results.Variant{Name: v.Name, Steps: []results.Step{{Name: "output", Kind: "field", Config: map[string]any{"field": v.Output}}}},
		facts:    map[string]*prompts.Template{},
	}
	for key, f := range map[string][2]string{
		"latency_ms":        {v.LatencyMS, sc.LatencyMS},
		"prompt_tokens":     {v.PromptTokens, sc.PromptTokens},
		"completion_tokens": {v.CompletionTokens, sc.CompletionTokens},
		"cost_usd":          {v.CostUSD, sc.CostUSD},
		"ttft_ms":           {v.TTFTMS, sc.TTFTMS},
	} {
		field := f[0]
		if field == "" {
			field = f[1]
		}
		if field == "" {
			continue
		}
		t, err := fieldTemplate(v.Name+" "+key, field, true)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		vp.facts[key] = t
		vp.manifest.Steps[0].Config[key] = field
	}
	vp.manifest.Hash = prompts.Hash(v.Name, v.Output)
	return vp, nil
}

// applyFacts fills a result's run facts from the variant's fact templates
// (scoring a file that recorded them).
func (r *runner) applyFacts(j job, st *chainState, res *results.Result) error {
	if len(j.variant.facts) == 0 {
		return nil
	}
	data := st.data()
	num := func(key string) (float64, bool, error) {
		t := j.variant.facts[key]
		if t == nil {
			return 0, false, nil
		}
		s, err := t.Render(data)
		if err != nil {
			return 0, false, err
		}
		s = strings.TrimSpace(s)
		if s == "" || s == "<nil>" {
			return 0, false, nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, false, fmt.Errorf("%s: %q is not a number", key, s)
		}
		return f, true, nil
	}
	if v, ok, err := num("latency_ms"); err != nil {
		return err
	} else if ok {
		res.LatencyMS = v
	}
	if v, ok, err := num("prompt_tokens"); err != nil {
		return err
	} else if ok {
		res.PromptTokens = int64(v)
	}
	if v, ok, err := num("completion_tokens"); err != nil {
		return err
	} else if ok {
		res.CompletionTokens = int64(v)
	}
	if v, ok, err := num("cost_usd"); err != nil {
		return err
	} else if ok {
		res.CostUSD = &v
	}
	if v, ok, err := num("ttft_ms"); err != nil {
		return err
	} else if ok {
		res.TTFTMS = &v
	}
	return nil
}

// newRegrader prepares re-grading of a stored run.
func newRegrader(spec *Spec, opts ScoreOptions) (*runner, error) {
	m, err := results.ReadManifest(opts.Run)
	if err != nil {
		return nil, err
	}
	if m.Status == results.RunRunning {
		return nil, fmt.Errorf("run %s is still running (or was killed): finish or resume it before re-grading", opts.Run)
	}
	if spec == nil {
		spec, err = ParseSpec([]byte(m.Spec), m.SpecPath, LoadOptions{Pinned: PinsOf(m)})
		if err != nil {
			return nil, fmt.Errorf("the spec stored in run %s: %w", opts.Run, err)
		}
	}
	sc := *spec
	sc.Variants, sc.Chain = nil, nil
	sc.Dataset = DatasetSpec{Path: filepath.Join(opts.Run, results.ResultsFile)}
	opts.Options.Concurrency = scoreConcurrency(opts.Options.Concurrency, spec)
	r, err := newRunner(&sc, opts.Options, ModeRegrade)
	if err != nil {
		return nil, err
	}
	r.regrade = &regradeSource{dir: opts.Run, manifest: m, byName: map[string]*variantPlan{}}
	for i, v := range m.Variants {
		vp := &variantPlan{index: i, name: v.Name, vars: v.Vars,
			data:     map[string]any{"name": v.Name, "model": v.Model, "vars": orEmpty(v.Vars)},
			manifest: v}
		r.variants = append(r.variants, vp)
		r.regrade.byName[v.Name] = vp
	}
	if err := r.selectJudges(opts.Judges); err != nil {
		return nil, err
	}
	return r, nil
}

// regradeSource reads the jobs of a re-graded run from its results.
type regradeSource struct {
	dir      string
	manifest *results.Manifest
	byName   map[string]*variantPlan
}

// regradeJobs yields one job per stored result, in the stored order.
func (r *runner) regradeJobs(yield func(job) bool) error {
	stop := errors.New("stop")
	err := results.ReadResults(filepath.Join(r.regrade.dir, results.ResultsFile), func(res results.Result) error {
		vp := r.regrade.byName[res.Variant]
		if vp == nil {
			return fmt.Errorf("%s: variant %q is not in its manifest", r.regrade.dir, res.Variant)
		}
		var fields map[string]any
		dec := json.NewDecoder(strings.NewReader(res.Input))
		dec.UseNumber()
		if err := dec.Decode(&fields); err != nil {
			return fmt.Errorf("%s: example %s: input is not a JSON object: %w", r.regrade.dir, res.ExampleID, err)
		}
		preset := res
		ex := datasets.Example{ID: res.ExampleID, Index: int(res.ExampleIndex), Fields: fields}
		if !yield(job{variant: vp, example: ex, epoch: int(res.Epoch), preset: &preset}) {
			return stop
		}
		return nil
	})
	if errors.Is(err, stop) {
		return nil
	}
	return err
}

// selectJudges keeps only the named judges.
func (r *runner) selectJudges(names []string) error {
	if len(names) == 0 {
		return nil
	}
	var kept []*judgePlan
	for _, n := range names {
		i := slices.IndexFunc(r.judges, func(j *judgePlan) bool { return j.name == n })
		if i < 0 {
			known := make([]string, len(r.judges))
			for k, j := range r.judges {
				known[k] = j.name
			}
			return fmt.Errorf("no judge named %q (judges: %s)", n, strings.Join(known, ", "))
		}
		kept = append(kept, r.judges[i])
	}
	r.judges = kept
	return nil
}
