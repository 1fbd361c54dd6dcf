package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/judges"
	"github.com/gavel-eval/gavel/traces"
)

// Pairwise judges compare two variants' outputs for the same example, so
// they run after every variant has its results: the per-variant part files
// are read in step (they share the example order), and for each example
// and epoch every pair of variants that both produced an output is judged.
// One score row is written per pair, on the later variant of the pair,
// with other_variant naming the earlier one and label win, loss or tie
// from the later variant's side.

// pairJob is one pairwise judgment.
type pairJob struct {
	seq    int
	judge  *judgePlan
	a, b   results.Result
	fields map[string]any
}

type pairOutcome struct {
	seq   int
	score results.Score
	spans []traces.Span
	meta  [3]string // variant, example id, epoch
	index int64     // example index
}

func (r *runner) pairJudges() []*judgePlan {
	var out []*judgePlan
	for _, j := range r.judges {
		if j.pair != nil {
			out = append(out, j)
		}
	}
	return out
}

// runPairs judges every pair of variants with the pairwise judges and
// writes their rows to the pairs part files. It returns the number of
// score rows written.
func (r *runner) runPairs(ctx context.Context, dir string, m *results.Manifest) error {
	pjs := r.pairJudges()
	if len(pjs) == 0 || len(r.variants) < 2 {
		return nil
	}
	readers := make([]*results.Reader[results.Result], len(r.variants))
	for i := range r.variants {
		rd, err := results.OpenResults(partPath(dir, "results", i))
		if err != nil {
			return err
		}
		defer rd.Close()
		readers[i] = rd
	}
	sf, err := os.Create(filepath.Join(dir, ".parts", "scores-pairs.parquet"))
	if err != nil {
		return err
	}
	defer sf.Close()
	tf, err := os.Create(filepath.Join(dir, ".parts", "traces-pairs.parquet"))
	if err != nil {
		return err
	}
	defer tf.Close()
	sw, err := results.NewScoreWriter(sf)
	if err != nil {
		return err
	}
	tw, err := traces.NewWriter(tf)
	if err != nil {
		return err
	}

	conc := r.opts.Concurrency
	tokens := make(chan struct{}, 4*conc+16)
	done := make(chan pairOutcome, conc)
	writeErr := make(chan error, 1)
	go func() {
		pending := map[int]pairOutcome{}
		next := 0
		var werr error
		for o := range done {
			pending[o.seq] = o
			for p, ok := pending[next]; ok; p, ok = pending[next] {
				delete(pending, next)
				next++
				<-tokens
				if werr == nil {
					werr = sw.Write(p.score)
				}
				if werr == nil && len(p.spans) > 0 {
					werr = tw.WriteIndexed(r.runID, p.meta[0], p.meta[1], p.index, atoi(p.meta[2]), p.spans)
				}
				if werr == nil {
					m.Totals.Scores++
					m.Totals.Spans += int64(len(p.spans))
					if p.score.Status == results.ScoreJudgeError {
						m.Totals.JudgeErrors++
					}
				}
			}
		}
		writeErr <- werr
	}()

	g := errgroup.Group{}
	g.SetLimit(conc)
	seq := 0
	dispatchErr := zipResults(readers, func(group []*results.Result) bool {
		var fields map[string]any
		for _, res := range group {
			if res != nil {
				dec := json.NewDecoder(strings.NewReader(res.Input))
				dec.UseNumber()
				_ = dec.Decode(&fields)
				break
			}
		}
		for i := 0; i < len(group); i++ {
			for k := i + 1; k < len(group); k++ {
				if group[i] == nil || group[k] == nil {
					continue
				}
				for _, pj := range pjs {
					select {
					case tokens <- struct{}{}:
					case <-ctx.Done():
						return false
					}
					j := pairJob{seq: seq, judge: pj, a: *group[i], b: *group[k], fields: fields}
					seq++
					g.Go(func() error {
						done <- r.runPair(ctx, j)
						return nil
					})
				}
			}
		}
		return true
	})
	_ = g.Wait()
	close(done)
	werr := <-writeErr
	if err := errors.Join(dispatchErr, werr, sw.Close(), tw.Close(), sf.Sync(), tf.Sync()); err != nil {
		return fmt.Errorf("pairwise judges: %w", err)
	}
	return ctx.Err()
}

func atoi(s string) int {
	n := 0
	fmt.Sscan(s, &n)
	return n
}

// zipResults reads the per-variant result files in step, calling fn with
// the results of one (example, epoch) across variants (nil where a variant
// has none).
func zipResults(readers []*results.Reader[results.Result], fn func([]*results.Result) bool) error {
	heads := make([]*results.Result, len(readers))
	advance := func(i int) error {
		row, err := readers[i].Next()
		if errors.Is(err, io.EOF) {
			heads[i] = nil
			return nil
		}
		if err != nil {
			return err
		}
		heads[i] = &row
		return nil
	}
	for i := range readers {
		if err := advance(i); err != nil {
			return err
		}
	}
	less := func(a, b *results.Result) bool {
		if a.ExampleIndex != b.ExampleIndex {
			return a.ExampleIndex < b.ExampleIndex
		}
		return a.Epoch < b.Epoch
	}
	for {
		var min *results.Result
		for _, h := range heads {
			if h != nil && (min == nil || less(h, min)) {
				min = h
			}
		}
		if min == nil {
			return nil
		}
		key := *min
		group := make([]*results.Result, len(heads))
		for i, h := range heads {
			if h != nil && h.ExampleIndex == key.ExampleIndex && h.Epoch == key.Epoch {
				group[i] = h
				if err := advance(i); err != nil {
					return err
				}
			}
		}
		if !fn(group) {
			return nil
		}
	}
}

// runPair runs one pairwise judgment of b against a.
func (r *runner) runPair(ctx context.Context, j pairJob) pairOutcome {
	a, b := j.a, j.b
	o := pairOutcome{seq: j.seq, meta: [3]string{b.Variant, b.ExampleID, fmt.Sprint(b.Epoch)}, index: b.ExampleIndex}
	traceID := traces.TraceID(r.runID, "pair", j.judge.name, a.Variant, b.Variant, b.ExampleID, fmt.Sprint(b.Epoch))
	sc := results.Score{
		RunID: r.runID, Variant: b.Variant, OtherVariant: results.Str(a.Variant), ExampleID: b.ExampleID, ExampleIndex: b.ExampleIndex, Epoch: b.Epoch,
		Judge: j.judge.name, JudgeType: j.judge.typ, JudgeHash: j.judge.hash, TraceID: traceID,
	}
	if a.Status != results.StatusOK || b.Status != results.StatusOK {
		sc.Status = results.ScoreSkipped
		sc.Error = results.Str("not judged: a chain failed")
		sc.TraceID = ""
		o.score = sc
		return o
	}
	rec := traces.NewRecorder(traceID, r.now)
	ctx = traces.WithRecorder(ctx, rec)
	jctx, span := traces.Start(ctx, j.judge.name, traces.KindJudge)
	sc.SpanID = span.SpanID()
	span.SetAttr("judge_type", j.judge.typ)
	span.SetAttr("a", a.Variant)
	span.SetAttr("b", b.Variant)
	in := judges.PairInput{Example: j.fields, A: a.Variant, B: b.Variant, OutputA: a.Output, OutputB: b.Output}
	start := r.now()
	var err error
	if j.judge.expected != nil {
		data := map[string]any{"example": j.fields, "variant": map[string]any{"name": b.Variant}, "steps": map[string]any{}, "input": "", "output": b.Output}
		in.Expected, err = j.judge.expected.Render(data)
	}
	var v judges.PairVerdict
	if err == nil {
		v, err = safePair(jctx, j.judge.pair, in)
	}
	sc.LatencyMS = float64(r.now().Sub(start).Microseconds()) / 1000
	if err != nil {
		sc.Status = results.ScoreJudgeError
		sc.Error = results.Str(err.Error())
		span.End(err)
		o.score, o.spans = sc, rec.Spans()
		return o
	}
	sc.Status = results.ScoreOK
	var label string
	var score float64
	switch v.Winner {
	case judges.WinnerB:
		label, score = "win", 1
	case judges.WinnerA:
		label, score = "loss", 0
	default:
		label, score = "tie", 0.5
	}
	pass := label == "win"
	sc.Score, sc.Pass, sc.Label, sc.Reason = &score, &pass, &label, results.Str(v.Reason)
	details := map[string]any{"consistent": v.Consistent, "winner": string(v.Winner)}
	for k, val := range v.Details {
		details[k] = val
	}
	if b, err := json.Marshal(details); err == nil {
		sc.Details = results.Str(string(b))
	}
	span.SetAttr("winner", string(v.Winner))
	span.SetAttr("consistent", v.Consistent)
	span.SetOutput(v.Reason)
	span.End(nil)
	o.score, o.spans = sc, rec.Spans()
	return o
}

func safePair(ctx context.Context, j judges.PairJudge, in judges.PairInput) (v judges.PairVerdict, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("judge panicked: %v", p)
		}
	}()
	return j.JudgePair(ctx, in)
}
