package eval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/gavel-eval/gavel/datasets"
	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/judges"
	"github.com/gavel-eval/gavel/traces"
)

// job is one (variant, example, epoch) triple.
type job struct {
	// preset, when set, is the stored result of a re-graded run: the chain
	// is not run again.
	preset  *results.Result
	seq     int
	variant *variantPlan
	example datasets.Example
	epoch   int
	// input is the example's fields as JSON, shared by the example's jobs
	// (nil: made by the job).
	input *string
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

	// The writer owns the part store and the manifest totals; it closes
	// budget when a cost or token budget is reached.
	w := newOrderedWriter(r, ps, m, tokens)
	budget := w.budget
	written := make(chan struct{})
	go func() {
		for o := range done {
			w.accept(o)
		}
		close(written)
	}()

	// conc workers run the jobs, each taking the next when it is free:
	// the same bound as one goroutine per job under a limit, but a
	// worker's stack, once grown by a job, serves the next ones.
	work := make(chan job)
	var workers sync.WaitGroup
	for range conc {
		workers.Go(func() {
			for j := range work {
				done <- r.runJob(ctx, j)
			}
		})
	}
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
		work <- j
		return true
	})
	close(work)
	workers.Wait()
	close(done)
	<-written
	if dispatchErr != nil {
		return w.dropped, dispatchErr
	}
	if w.err != nil {
		return w.dropped, w.err
	}
	if w.budgetErr != nil {
		return w.dropped, w.budgetErr
	}
	if drained {
		return w.dropped, context.Canceled
	}
	return w.dropped, ctx.Err()
}

// orderedWriter stores outcomes in dispatch order (their seq) whatever
// order they finish in, holding the early ones until the gap before them
// fills. It owns the part store and the manifest's running totals, and is
// used from one goroutine only. Each stored or released outcome returns
// one dispatch token, which bounds how many it can hold.
type orderedWriter struct {
	r       *runner
	ps      *partStore
	m       *results.Manifest
	tokens  <-chan struct{}
	pending map[int]outcome
	next    int

	// budget is closed when the run's cost or token budget is reached.
	budget chan struct{}
	// dropped counts outcomes cancelled by the run's context.
	dropped int
	// err is the first store error; later outcomes are released unwritten.
	err error
	// budgetErr says which budget was reached.
	budgetErr error
}

func newOrderedWriter(r *runner, ps *partStore, m *results.Manifest, tokens <-chan struct{}) *orderedWriter {
	return &orderedWriter{r: r, ps: ps, m: m, tokens: tokens, pending: map[int]outcome{}, budget: make(chan struct{})}
}

// accept takes one finished outcome and writes every outcome that is now
// next in order.
func (w *orderedWriter) accept(o outcome) {
	w.pending[o.seq] = o
	for {
		p, ok := w.pending[w.next]
		if !ok {
			return
		}
		delete(w.pending, w.next)
		w.next++
		<-w.tokens
		w.write(&p)
	}
}

func (w *orderedWriter) write(o *outcome) {
	if w.err != nil {
		return
	}
	if o.dropped {
		w.dropped++
		return
	}
	if w.err = w.r.store(w.ps, o, w.m); w.err != nil {
		return
	}
	if w.budgetErr == nil {
		if w.budgetErr = w.r.overBudget(w.m); w.budgetErr != nil {
			close(w.budget)
		}
	}
}

// jobs calls yield with each job of the run in dispatch order, until
// yield returns false. A run's jobs are example-major: for each example,
// every variant and epoch, so that variants see the same conditions at the
// same time.
func (r *runner) jobs(yield func(job) bool) error {
	if r.regrade != nil {
		return r.regradeJobs(yield)
	}
	opts := r.dsOpts
	// The validation pass found the ids unique: this pass need not keep
	// them, provided the file is the one validated (checked at the end).
	opts.KnownUnique = r.validated != ""
	rd, err := datasets.Open(opts)
	if err != nil {
		return err
	}
	defer rd.Close()
	for {
		ex, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return r.checkUnchanged()
		}
		if err != nil {
			return err
		}
		if !r.selected(ex.ID) {
			continue
		}
		// The example's JSON is made once for all its variants and epochs.
		input := exampleInput(ex)
		for _, vp := range r.variants {
			for epoch := 0; epoch < r.repeat; epoch++ {
				if !yield(job{variant: vp, example: ex, epoch: epoch, input: input}) {
					return nil
				}
			}
		}
	}
}

// selected reports whether the example with id is run: accepted by
// Options.Select and in the run's shard (every example, by default).
func (r *runner) selected(id string) bool {
	if r.opts.Select != nil && !r.opts.Select(id) {
		return false
	}
	return r.shard == nil || datasets.ShardOf(id, r.shard.Count) == r.shard.Index-1
}

// checkUnchanged fails if a prompt from the registry or a file changed
// under the run, or if the dataset is not the file the validation pass
// read: its ids were checked for duplicates then, not while running.
func (r *runner) checkUnchanged() error {
	if err := r.spec.checkPromptsUnchanged(); err != nil {
		return err
	}
	if r.validated == "" {
		return nil
	}
	fp, err := datasets.Fingerprint(r.dsOpts.Path)
	if err != nil {
		return fmt.Errorf("dataset %s: %w", r.dsOpts.Path, err)
	}
	if fp != r.validated {
		return fmt.Errorf("dataset %s changed during the run (fingerprint %s when validated, %s at the end): its rows were checked before the first call; run again on a file that stays put", r.dsOpts.Path, r.validated, fp)
	}
	return nil
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

// overBudget says whether the totals so far reach the run's cost or token
// budget.
func (r *runner) overBudget(m *results.Manifest) error {
	t := m.Totals
	// What the cache answered was paid for by an earlier run.
	if spent := t.CostUSD - t.CachedCostUSD; r.opts.MaxCostUSD > 0 && spent >= r.opts.MaxCostUSD {
		return fmt.Errorf("%w: cost $%.4f of the $%.4f allowed", errBudget, spent, r.opts.MaxCostUSD)
	}
	if tokens := t.PromptTokens + t.CompletionTokens; r.opts.MaxTokens > 0 && tokens >= r.opts.MaxTokens {
		return fmt.Errorf("%w: %d tokens of the %d allowed", errBudget, tokens, r.opts.MaxTokens)
	}
	return nil
}
