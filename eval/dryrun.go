package eval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/gavel-eval/gavel/datasets"
	"github.com/gavel-eval/gavel/llm"
)

// DryRunEstimate is what a run would call and cost, computed without
// calling any model.
type DryRunEstimate struct {
	Examples int
	Epochs   int
	Variants []CallEstimate
	Judges   []CallEstimate
	// Notes say what the estimate could not know.
	Notes []string
}

// CallEstimate counts the model calls of one variant's chain or of one
// judge, with their estimated tokens and cost.
type CallEstimate struct {
	Name             string
	Model            string
	Calls            int64
	CacheHits        int64
	PromptTokens     int64
	CompletionTokens int64
	// CostUSD is nil when a model has no known price.
	CostUSD *float64
}

// assumedCompletion is the completion length assumed for a call without
// max_tokens.
const assumedCompletion = 256

// judgePromptOverhead is the assumed size, in tokens, of an LLM judge's
// prompt template around the output and the expected answer.
const judgePromptOverhead = 400

// DryRun renders every prompt of every llm step for every example and
// variant (earlier steps' outputs, unknown before the run, are empty),
// counts their tokens, and prices the calls the run would make, chain and
// judges, looking each first step's request up in cache when one is given.
// It calls no model.
//
// The prompt tokens of a model whose tokenizer is known (openai/...,
// llm.CountPromptTokens) are counted with that tokenizer; other prompts
// are estimated at about four bytes a token plus 4 a message
// (llm.EstimateUsage). A completion is assumed to be the step's
// max_tokens, or 256 tokens without it, and an LLM judge's call 656
// prompt and 100 completion tokens. The notes say which models were
// counted with their tokenizer.
func DryRun(ctx context.Context, spec *Spec, opts Options, cache llm.Cache) (*DryRunEstimate, error) {
	// No model is called: API keys are not needed, and nothing is sent.
	opts.Model = noCalls{}
	r, err := newRunner(spec, opts, ModeRun)
	if err != nil {
		return nil, err
	}
	prices := llm.DefaultPrices()
	for k, v := range spec.Prices {
		prices[k] = v
	}
	est := &DryRunEstimate{Epochs: r.repeat}
	vest := make([]CallEstimate, len(r.variants))
	for i, vp := range r.variants {
		vest[i] = CallEstimate{Name: vp.name, Model: vp.manifest.Model}
	}
	rd, err := datasets.Open(r.dsOpts)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	unpriced := map[string]bool{}
	counted := map[string]bool{}
	dependent := false
	addCost := func(c *CallEstimate, model string, u llm.Usage, calls int64) {
		u.PromptTokens *= int(calls)
		u.CompletionTokens *= int(calls)
		c.PromptTokens += int64(u.PromptTokens)
		c.CompletionTokens += int64(u.CompletionTokens)
		cost, ok := prices.Cost(model, u)
		if !ok && !isOffline(model) {
			unpriced[model] = true
			return
		}
		if c.CostUSD == nil {
			c.CostUSD = new(float64)
		}
		*c.CostUSD += cost
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ex, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if !r.selected(ex.ID) {
			continue
		}
		est.Examples++
		for i, vp := range r.variants {
			st := &chainState{example: ex.Fields, variant: vp, steps: map[string]string{}}
			for k, s := range vp.steps {
				if ls, ok := s.(*llmStep); ok {
					msgs, err := ls.prompt.render(st.data(), false)
					if err != nil {
						return nil, fmt.Errorf("dataset %s line %d (example %s), variant %s, step %s: %w", r.dsOpts.Path, ex.Line, ex.ID, vp.name, s.name(), err)
					}
					completion := assumedCompletion
					if ls.params.MaxTokens != nil {
						completion = *ls.params.MaxTokens
					}
					u := llm.EstimateUsage(msgs, "")
					if exact, ok := llm.CountPromptTokens(ls.modelID, msgs); ok {
						u.PromptTokens = exact
						counted[ls.modelID] = true
					}
					u.CompletionTokens = completion
					calls := int64(r.repeat)
					vest[i].Calls += calls
					if k > 0 {
						dependent = true
					}
					if cache != nil && k == 0 {
						for e := 0; e < r.repeat; e++ {
							req := llm.Request{Model: ls.modelID, Messages: msgs, Params: ls.params, Epoch: e}
							if _, hit, _ := cache.Get(ctx, llm.CacheKey(req)); hit {
								vest[i].CacheHits++
								calls--
							}
						}
					}
					addCost(&vest[i], ls.modelID, u, calls)
				}
				st.setStep(s.name(), "")
			}
		}
	}
	est.Variants = vest
	results := int64(est.Examples * len(r.variants) * r.repeat)
	for _, j := range r.judges {
		if !j.llm {
			continue
		}
		model, _ := j.manifest.Config["model"].(string)
		c := CallEstimate{Name: j.name, Model: model}
		perResult := int64(1)
		switch j.typ {
		case "panel":
			if members, ok := j.manifest.Config["judges"].([]any); ok {
				perResult = int64(len(members))
			}
			est.Notes = append(est.Notes, fmt.Sprintf("judge %s: a panel's members may use other models; all are priced as %s", j.name, model))
		case "g_eval":
			if n, ok := j.manifest.Config["samples"].(int); ok && n > 0 {
				perResult = int64(n)
			}
			est.Notes = append(est.Notes, fmt.Sprintf("judge %s: g_eval makes one call per output when the server returns logprobs, else one per sample; counted as %d", j.name, perResult))
		}
		if k, ok := j.manifest.Config["repeats"].(int); ok && k > 1 {
			perResult *= int64(k)
		}
		calls := results * perResult
		if j.pair != nil {
			pairs := int64(len(r.variants) * (len(r.variants) - 1) / 2)
			calls = 2 * pairs * int64(est.Examples*r.repeat)
		}
		c.Calls = calls
		u := llm.Usage{PromptTokens: judgePromptOverhead + assumedCompletion, CompletionTokens: 100}
		addCost(&c, model, u, calls)
		est.Judges = append(est.Judges, c)
	}
	if dependent {
		est.Notes = append(est.Notes, "steps after the first use earlier outputs, unknown before the run: their prompts are counted without them, and they are never counted as cache hits")
	}
	for _, m := range sortedKeys(counted) {
		est.Notes = append(est.Notes, fmt.Sprintf("prompt tokens of %s are counted with its tokenizer", m))
	}
	est.Notes = append(est.Notes, fmt.Sprintf("other prompt tokens are estimated (about 4 bytes a token, plus 4 a message); a completion is assumed to be max_tokens, or %d tokens without it; an LLM judge's call is assumed to be %d prompt and 100 completion tokens", assumedCompletion, judgePromptOverhead+assumedCompletion))
	for _, m := range sortedKeys(unpriced) {
		est.Notes = append(est.Notes, fmt.Sprintf("model %s has no known price: its cost is not counted (add it under prices: in the spec)", m))
	}
	return est, nil
}

func isOffline(model string) bool {
	return len(model) > 8 && model[:8] == "offline/"
}

// noCalls is the model of a dry run: it is never called.
type noCalls struct{}

func (noCalls) Chat(context.Context, llm.Request) (llm.Response, error) {
	return llm.Response{}, errors.New("dry run: no model is called")
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
