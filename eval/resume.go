package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/judges"
)

// errBudget is returned (wrapped) when a cost or token budget stopped the run.
var errBudget = errors.New("budget reached")

type resumeKey struct {
	variant int
	index   int64
	epoch   int32
}

// resumeState is what an interrupted run already holds.
type resumeState struct {
	manifest  *results.Manifest
	journal   *journalState
	done      map[resumeKey]bool
	supersede []string // journal lines for results to be run again
	kept      int
	rerun     int
}

// ResumeOptions configure finishing an interrupted run.
type ResumeOptions struct {
	Options
	// RetryErrors also runs again the results that ended in an error; the
	// new result replaces the old one.
	RetryErrors bool
}

// Resume finishes the run in dir: it keeps every result already stored
// (in the run's committed chunks), runs exactly the missing (variant,
// example, epoch) triples — and, with RetryErrors, the errored ones — with
// the spec stored in the run, and writes final files that hold each triple
// once, in the same order as an uninterrupted run. Resume holds the run's
// lock from before it reads the run until its final manifest is written:
// while another gavel writes dir it returns a *LockedError and touches
// nothing.
func Resume(ctx context.Context, dir string, opts ResumeOptions) (*Outcome, error) {
	lk, err := lockRun(dir)
	if err != nil {
		if _, merr := results.ReadManifest(dir); merr != nil && errors.Is(err, fs.ErrNotExist) {
			return nil, merr // no such run directory
		}
		return nil, err
	}
	defer lk.release()
	m, err := results.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	if m.Mode != "" && m.Mode != ModeRun {
		return nil, fmt.Errorf("run %s is a %s run: only gavel run runs can be resumed (score it again instead)", dir, m.Mode)
	}
	if m.Status == results.RunCompleted && !opts.RetryErrors {
		return nil, fmt.Errorf("run %s is already completed (use --retry-errors to run its errored results again)", dir)
	}
	spec, err := storedSpec(m, LoadOptions{Steps: opts.Steps})
	if err != nil {
		return nil, fmt.Errorf("the spec stored in run %s: %w", dir, err)
	}
	if m.SpecDir != "" {
		spec.Dir = m.SpecDir
	}
	o := opts.Options
	o.Out, o.RunID, o.Repeat, o.Shard = dir, m.RunID, m.Repeat, m.Shard
	o.Variants = nil
	for _, v := range m.Variants {
		o.Variants = append(o.Variants, v.Name)
	}
	spec.Dataset.Limit, spec.Dataset.Sample, spec.Dataset.Seed = m.Dataset.Limit, m.Dataset.Sample, m.Dataset.Seed
	r, err := newRunner(spec, o, ModeRun)
	if err != nil {
		return nil, err
	}
	r.dsOpts.Path = m.Dataset.Path
	if r.resume, err = loadResume(dir, m, opts.RetryErrors); err != nil {
		return nil, err
	}
	return r.start(ctx)
}

// loadResume reads which triples the run's committed chunks hold.
func loadResume(dir string, m *results.Manifest, retryErrors bool) (*resumeState, error) {
	js, err := readJournal(dir)
	if err != nil {
		return nil, err
	}
	rs := &resumeState{manifest: m, journal: js, done: map[resumeKey]bool{}}
	if m.Status == results.RunCompleted {
		// A completed run has no chunks left: its final files are the one
		// chunk to build on.
		if err := adoptFinalFiles(dir, m, js); err != nil {
			return nil, err
		}
	}
	// Chunks not in the journal were never committed: remove them.
	committed := map[string]bool{}
	for _, c := range js.chunks {
		for _, t := range []string{"results", "scores", "traces"} {
			committed[filepath.Base(chunkPath(dir, c.seq, c.variant, t))] = true
		}
	}
	entries, _ := os.ReadDir(filepath.Join(dir, ".parts"))
	for _, e := range entries {
		if n := e.Name(); strings.HasPrefix(n, "c") && !committed[n] {
			os.Remove(filepath.Join(dir, ".parts", n))
		}
	}
	for _, c := range js.chunks {
		err := results.ReadResults(chunkPath(dir, c.seq, c.variant, "results"), func(res results.Result) error {
			k := resumeKey{c.variant, res.ExampleIndex, res.Epoch}
			if res.Status == results.StatusError && retryErrors {
				rs.supersede = append(rs.supersede, fmt.Sprintf("supersede %d %d %d %d", c.variant, res.ExampleIndex, res.Epoch, js.nextSeq))
				js.supersede[supersedeKey{c.variant, results.RowKey{ExampleIndex: res.ExampleIndex, Epoch: res.Epoch}}] = js.nextSeq
				delete(rs.done, k)
				rs.rerun++
				return nil
			}
			rs.done[k] = true
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", dir, err)
		}
	}
	rs.kept = len(rs.done)
	return rs, nil
}

// adoptFinalFiles turns a completed run's final files back into committed
// chunks (one per variant), so that --retry-errors can replace rows.
func adoptFinalFiles(dir string, m *results.Manifest, js *journalState) error {
	if err := os.MkdirAll(filepath.Join(dir, ".parts"), 0o755); err != nil {
		return err
	}
	j, err := os.OpenFile(filepath.Join(dir, ".parts", journalFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer j.Close()
	for vi, v := range m.Variants {
		seq := js.nextSeq
		for _, t := range []struct{ table, file string }{{"results", results.ResultsFile}, {"scores", results.ScoresFile}, {"traces", results.TracesFile}} {
			// Pairwise rows (other_variant set) are dropped: they are
			// judged again once every variant is final.
			if err := results.FilterVariant(filepath.Join(dir, t.file), chunkPath(dir, seq, vi, t.table), v.Name); err != nil {
				return err
			}
		}
		if _, err := fmt.Fprintf(j, "chunk %d %d 0\n", seq, vi); err != nil {
			return err
		}
		js.chunks = append(js.chunks, chunkRef{seq: seq, variant: vi})
		js.nextSeq++
	}
	return j.Sync()
}

// recount fills the manifest's totals from the final files, so a resumed
// run's totals cover every session. It returns how many distinct
// (variant, example, epoch) triples the results hold.
func (r *runner) recount(dir string, m *results.Manifest) (distinct int64, err error) {
	t := results.Totals{DurationMS: m.Totals.DurationMS, CacheHits: m.Totals.CacheHits, CacheMisses: m.Totals.CacheMisses}
	// Each variant's rows are stored in (example_index, epoch) order, so a
	// row that does not come after the variant's previous one repeats a
	// key (or breaks the order): distinct counts only the rows that do,
	// in memory that does not grow with the rows.
	type key struct {
		index int64
		epoch int32
	}
	last := map[string]key{}
	err = results.ReadResultFigures(filepath.Join(dir, results.ResultsFile), func(res results.ResultFigures) error {
		k := key{res.ExampleIndex, res.Epoch}
		if prev, ok := last[res.Variant]; !ok || k.index > prev.index || (k.index == prev.index && k.epoch > prev.epoch) {
			distinct++
			last[res.Variant] = k
		}
		t.Results++
		if res.Status == results.StatusError {
			t.Errors++
		}
		t.PromptTokens += res.PromptTokens
		t.CompletionTokens += res.CompletionTokens
		if res.CostUSD != nil {
			t.CostUSD += *res.CostUSD
		}
		t.CachedCostUSD += res.CachedCostUSD
		return nil
	})
	if err != nil {
		return 0, err
	}
	t.Scores, t.JudgeErrors, err = results.CountScores(filepath.Join(dir, results.ScoresFile))
	if err != nil {
		return 0, err
	}
	if t.Spans, err = results.CountRows(filepath.Join(dir, results.TracesFile)); err != nil {
		return 0, err
	}
	m.Totals = t
	return distinct, nil
}

// recomputeCorpus rebuilds corpus-level metrics from the final results
// (a resumed run's accumulators saw only its last session).
func (r *runner) recomputeCorpus(dir string) error {
	var corpus []*judgePlan
	for _, j := range r.judges {
		if j.corpus {
			corpus = append(corpus, j)
		}
	}
	r.corpora = nil
	if len(corpus) == 0 {
		return nil
	}
	return results.ReadResults(filepath.Join(dir, results.ResultsFile), func(res results.Result) error {
		if res.Status != results.StatusOK {
			return nil
		}
		var fields map[string]any
		_ = json.Unmarshal([]byte(res.Input), &fields)
		data := map[string]any{"example": fields, "variant": map[string]any{"name": res.Variant}, "steps": map[string]any{}, "input": "", "output": res.Output}
		for _, j := range corpus {
			in := judges.Input{Output: res.Output, Example: fields, Variant: res.Variant,
				ToolCalls: storedToolCalls(res.ToolCalls), Tools: r.variantTools(res.Variant)}
			if j.expected != nil {
				e, err := j.expected.Render(data)
				if err != nil {
					continue
				}
				in.Expected = e
			}
			r.corpusAdd(res.Variant, corpusInput{judge: j.name, in: in})
		}
		return nil
	})
}
