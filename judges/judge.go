// Package judges scores the output of a chain. A Judge turns one output (and
// the facts around it: the expected answer, the example, latency, tokens,
// cost) into a Verdict: a score normalised to 0..1 where the judge has a
// scale, a pass/fail, an optional label and a human-readable reason.
//
// Judges are built from the spec through a Catalog, which maps a judge type
// ("equals", "numeric_match", ...) to a Factory.
package judges

import (
	"context"
	"fmt"
	"sort"

	"github.com/gavel-eval/gavel/llm"
)

// Input is what a judge sees of one result.
type Input struct {
	// Output is the chain's final output.
	Output string
	// Expected is the judge's rendered `expected` template ("" when the
	// judge has none).
	Expected string
	// Example holds the example's fields.
	Example map[string]any
	// Variant is the variant's name.
	Variant string
	// LatencyMS, PromptTokens, CompletionTokens and CostUSD are the run
	// facts of the chain for this example.
	LatencyMS        float64
	PromptTokens     int
	CompletionTokens int
	CostUSD          *float64
	// TTFTMS is the chain's time to first token in milliseconds, nil when
	// it has none (no streamed model call, or its reply came from the
	// cache).
	TTFTMS *float64
	// ToolCalls are the tool calls the chain's model made, in order (an
	// agent's over all its turns); Tools the tools it was offered.
	ToolCalls []llm.ToolCall
	Tools     []llm.Tool
	// Trajectory is the tool calls as text, one line a call with its
	// result, for LLM judges' templates ({{.trajectory}}).
	Trajectory string
	// Turns are the assistant's replies of a conversation the chain held,
	// oldest first (a simulated conversation); Output is the last. Nil
	// for a single reply.
	Turns []string
}

// Verdict is a judge's decision on one output.
type Verdict struct {
	// Details holds judge-specific facts stored with the score as JSON:
	// the raw judge reply, per-sample verdicts of repeated judges, a
	// panel's agreement, token probabilities, ...
	Details map[string]any
	// Score is normalised to 0..1 where the judge has a scale; nil otherwise.
	Score *float64
	// Pass is the pass/fail decision.
	Pass bool
	// Label is an optional category (for example a choice letter).
	Label string
	// Reason explains the verdict to a person.
	Reason string
}

// Judge scores one output. An error means the judge could not decide (for
// example an unparseable reply from a judge model); it is recorded as a
// judge error, never as a failing score.
type Judge interface {
	Judge(ctx context.Context, in Input) (Verdict, error)
}

// TemplateChecker is implemented by judges with templates of their own
// over the example (an LLM judge's prompt, rubric, criteria, input):
// CheckTemplates renders them for in as Judge would, without calling any
// model, and returns the first error, such as a null or missing field. A
// runner calls it for every example before the run, with a placeholder
// output, so that such an error stops the run before any call.
type TemplateChecker interface {
	CheckTemplates(in Input) error
}

// Func adapts a Go function to the Judge interface, for judges registered
// through the library.
type Func func(ctx context.Context, in Input) (Verdict, error)

// Judge calls f.
func (f Func) Judge(ctx context.Context, in Input) (Verdict, error) { return f(ctx, in) }

var _ Judge = Func(nil)

// Factory builds judges of one type from their configuration.
type Factory struct {
	// Type is the name used in the spec's `type` field.
	Type string
	// Description is a one-line summary for `gavel judges`.
	Description string
	// NewConfig returns a pointer to a zero configuration struct whose yaml
	// tags name the type-specific spec fields. The spec decoder fills it
	// strictly, rejecting unknown fields.
	NewConfig func() any
	// Build validates a filled configuration and returns the judge.
	Build func(cfg any, env Env) (Judge, error)
	// Kind groups judge types in listings (KindString, ..., KindLLM);
	// KindLLM judges call a judge model.
	Kind Kind
	// Scale is the level of measurement of the type's scores
	// (ScaleUnknown: inferred from the scores); a judge that is a Scaler
	// overrides it.
	Scale Scale
}

// Env is what judges may use from the outside world. Heuristic judges
// ignore it.
type Env struct {
	// Model answers judge models' chat calls (traced, priced, retried and
	// cached like the chain's calls).
	Model llm.Model
	// Embedder computes embeddings for meaning-based judges.
	Embedder llm.Embedder
	// Dir is the spec's directory, against which relative paths (an exec
	// judge's program, a schema file) are resolved.
	Dir string
	// Getenv reads environment variables.
	Getenv func(string) string
}

// PairInput is what a pairwise judge sees: one example's outputs under two
// variants.
type PairInput struct {
	Example  map[string]any
	Expected string
	// A and B are the variants' names; OutputA and OutputB their outputs.
	A, B             string
	OutputA, OutputB string
}

// Winner is the side a pairwise judge found better.
type Winner string

// The winners of a pairwise verdict.
const (
	WinnerA   Winner = "A"
	WinnerB   Winner = "B"
	WinnerTie Winner = "tie"
)

// PairVerdict is a pairwise judge's decision: which output is better.
type PairVerdict struct {
	// Winner is WinnerA, WinnerB or WinnerTie.
	Winner Winner
	// Consistent is false when the judge's verdicts disagreed between the
	// two presentation orders (the pair is then a tie).
	Consistent bool
	Reason     string
	Details    map[string]any
}

// PairJudge compares two variants' outputs for the same example. A judge
// type whose Build returns a PairJudge is run once per example and pair of
// variants instead of once per output.
type PairJudge interface {
	JudgePair(ctx context.Context, in PairInput) (PairVerdict, error)
}

// CorpusScorer is implemented by judges that also have a corpus-level
// metric (corpus BLEU, for example), which is not the mean of per-output
// scores. The runner feeds every judged output of a variant to one
// accumulator and stores the final value at run level.
type CorpusScorer interface {
	NewCorpus() CorpusAccumulator
}

// CorpusAccumulator accumulates one variant's outputs for a corpus metric.
// Add is called from one goroutine at a time, in example order.
type CorpusAccumulator interface {
	Add(in Input)
	// Score returns the corpus metric (0..1 where it has a scale) and a
	// description of how it was computed.
	Score() (float64, string)
}

// Catalog maps judge types to their factories.
type Catalog map[string]Factory

// Register adds f to the catalog, replacing any factory of the same type.
func (c Catalog) Register(f Factory) { c[f.Type] = f }

// Types returns the registered type names in sorted order.
func (c Catalog) Types() []string {
	out := make([]string, 0, len(c))
	for t := range c {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Lookup returns the factory for typ, or an error listing the known types.
func (c Catalog) Lookup(typ string) (Factory, error) {
	f, ok := c[typ]
	if !ok {
		return Factory{}, fmt.Errorf("unknown judge type %q (known: %v)", typ, c.Types())
	}
	return f, nil
}

// Float returns a pointer to v, for Verdict.Score.
func Float(v float64) *float64 { return &v }
