package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/gavel-eval/gavel/datasets"
	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/internal/canonjson"
	"github.com/gavel-eval/gavel/judges"
	"github.com/gavel-eval/gavel/traces"
)

// runJob runs the chain and the judges for one job. It never returns an
// error: failures are recorded in the outcome.
func (r *runner) runJob(ctx context.Context, j job) (o outcome) {
	o = outcome{seq: j.seq, variant: j.variant.index}
	traceID := traces.TraceID(r.runID, j.variant.name, j.example.ID, strconv.Itoa(j.epoch))
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
	data["trajectory"] = st.trajectory()
	if len(st.turns) > 0 {
		data["turns"] = st.turns
	}
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

// exampleInput is the example's fields as the JSON of results.parquet's
// input column.
func exampleInput(ex datasets.Example) *string {
	b, ok := canonjson.Append(nil, ex.Fields, true) // json.Marshal's bytes
	if !ok {
		b, _ = json.Marshal(ex.Fields)
	}
	s := string(b)
	return &s
}

// runChain runs the variant's chain for one job.
func (r *runner) runChain(ctx context.Context, j job, traceID string) (results.Result, *chainState, bool) {
	input := j.input
	if input == nil {
		input = exampleInput(j.example)
	}
	res := results.Result{
		RunID: r.runID, Variant: j.variant.name, ExampleID: j.example.ID, ExampleIndex: int64(j.example.Index),
		Epoch: int32(j.epoch), Input: *input, TraceID: traceID, StartedAt: r.now().UTC(),
		PromptName: j.variant.promptName, PromptVersion: j.variant.promptVersion,
		PromptLabel: j.variant.promptLabel, PromptHash: j.variant.promptHash,
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
	st.start = start
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
		st.setStep(s.name(), out)
		st.last = out
	}
	// Model calls count at the model's latency: a call the cache
	// answered at its original call's, and the cache's own time is left
	// out, so that runs from the cache and live runs compare.
	res.LatencyMS = max(0, float64(r.now().Sub(start).Microseconds())/1000+st.modelMS)
	res.CacheHits = int64(st.cacheHits)
	res.Cached = st.calls > 0 && st.cacheHits == st.calls
	res.CachedCostUSD = st.cachedCost
	res.TTFTMS = st.ttft
	res.ToolCalls = st.toolCallsJSON()
	if st.ttft != nil {
		root.SetAttr("ttft_ms", *st.ttft)
	}
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
		CostUSD: res.CostUSD, TTFTMS: res.TTFTMS,
		ToolCalls: storedToolCalls(res.ToolCalls), Tools: r.variantTools(res.Variant),
	}
	in.Trajectory, _ = data["trajectory"].(string)
	if turns, ok := data["turns"].([]string); ok && len(turns) > 1 {
		in.Turns = turns
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
