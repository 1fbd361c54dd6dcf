package report

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/gavel-eval/gavel/traces"
)

// judgeUsage sums one variant's judge model calls.
type judgeUsage struct {
	promptTokens, completionTokens int64
	costUSD                        float64
	calls, unpriced                int
}

// readJudgeUsage sums, per variant, the tokens and cost of the model calls
// judges made: the llm spans below a judge span in traces.parquet. A
// trace's spans are stored together, so the file is read one trace at a
// time and memory stays that of one trace. A run whose judges called no
// model may have no traces file: it has no judge usage.
func readJudgeUsage(path string) (map[string]judgeUsage, error) {
	out := map[string]judgeUsage{}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	var trace []traces.SpanHead
	flush := func() error {
		byID := make(map[string]*traces.SpanHead, len(trace))
		for i := range trace {
			byID[trace[i].SpanID] = &trace[i]
		}
		for i := range trace {
			h := &trace[i]
			if h.Kind != traces.KindLLM || !belowJudge(h, byID) {
				continue
			}
			attrs, err := h.Attrs()
			if err != nil {
				return err
			}
			u := out[h.Variant]
			u.calls++
			u.promptTokens += attrInt(attrs, "prompt_tokens")
			u.completionTokens += attrInt(attrs, "completion_tokens")
			if c, ok := attrs["cost_usd"].(float64); ok {
				u.costUSD += c
			} else {
				u.unpriced++
			}
			out[h.Variant] = u
		}
		trace = trace[:0]
		return nil
	}
	err := traces.ReadHeads(path, func(h traces.SpanHead) error {
		if len(trace) > 0 && trace[0].TraceID != h.TraceID {
			if err := flush(); err != nil {
				return err
			}
		}
		trace = append(trace, h)
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return nil, fmt.Errorf("judge tokens and cost: %s: %w", path, err)
	}
	return out, nil
}

// belowJudge reports whether one of h's ancestors is a judge span.
func belowJudge(h *traces.SpanHead, byID map[string]*traces.SpanHead) bool {
	for range len(byID) { // at most every span once, whatever the parent links
		p := byID[h.Parent()]
		if h.Parent() == "" || p == nil {
			return false
		}
		if p.Kind == traces.KindJudge {
			return true
		}
		h = p
	}
	return false
}

// attrInt reads a whole-number span attribute (JSON numbers decode as
// float64).
func attrInt(attrs map[string]any, key string) int64 {
	if x, ok := attrs[key].(float64); ok && finite(x) {
		return int64(x)
	}
	return 0
}
