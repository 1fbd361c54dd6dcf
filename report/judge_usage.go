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
	var trace []traces.Record
	flush := func() {
		byID := make(map[string]*traces.Record, len(trace))
		for i := range trace {
			byID[trace[i].SpanID] = &trace[i]
		}
		for _, rec := range trace {
			if rec.Kind != traces.KindLLM || !belowJudge(rec, byID) {
				continue
			}
			u := out[rec.Variant]
			u.calls++
			u.promptTokens += attrInt(rec.Attributes, "prompt_tokens")
			u.completionTokens += attrInt(rec.Attributes, "completion_tokens")
			if c, ok := rec.Attributes["cost_usd"].(float64); ok {
				u.costUSD += c
			} else {
				u.unpriced++
			}
			out[rec.Variant] = u
		}
		trace = trace[:0]
	}
	err := traces.ReadFile(path, func(rec traces.Record) error {
		if len(trace) > 0 && trace[0].TraceID != rec.TraceID {
			flush()
		}
		trace = append(trace, rec)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("judge tokens and cost: %w", err)
	}
	flush()
	return out, nil
}

// belowJudge reports whether one of rec's ancestors is a judge span.
func belowJudge(rec traces.Record, byID map[string]*traces.Record) bool {
	for range len(byID) { // at most every span once, whatever the parent links
		p := byID[rec.ParentID]
		if rec.ParentID == "" || p == nil {
			return false
		}
		if p.Kind == traces.KindJudge {
			return true
		}
		rec = *p
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
