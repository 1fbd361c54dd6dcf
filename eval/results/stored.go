package results

import (
	"encoding/json"
	"time"
)

// storedResult is a Result as the Writer hands it to parquet-go: the same
// columns in the same order with the same types, so files are the same,
// but the optional JSON column Details is a json.RawMessage whose empty
// value is null. parquet-go (v0.32) mishandles an optional JSON-typed
// column held as a *string (it encodes the pointer as a JSON value) or a
// string (it counts the optional level twice); a json.RawMessage it
// writes as it is — but for one more bug (v0.32.1 too): in one call to
// its Write, a nil json.RawMessage after a non-nil one in the same column
// is written as an empty value, not a null. The Writer therefore cuts a
// batch before such a row (see jsonNulls).
type storedResult struct {
	RunID            string          `parquet:"run_id,dict"`
	Variant          string          `parquet:"variant,dict"`
	ExampleID        string          `parquet:"example_id"`
	ExampleIndex     int64           `parquet:"example_index"`
	Epoch            int32           `parquet:"epoch"`
	Status           Status          `parquet:"status,dict"`
	Input            string          `parquet:"input,json"`
	Output           string          `parquet:"output"`
	Expected         *string         `parquet:"expected,optional"`
	Error            *string         `parquet:"error,optional"`
	FailedStep       *string         `parquet:"failed_step,optional"`
	Steps            string          `parquet:"steps,json"`
	LatencyMS        float64         `parquet:"latency_ms"`
	PromptTokens     int64           `parquet:"prompt_tokens"`
	CompletionTokens int64           `parquet:"completion_tokens"`
	CostUSD          *float64        `parquet:"cost_usd,optional"`
	TraceID          string          `parquet:"trace_id"`
	StartedAt        time.Time       `parquet:"started_at,timestamp(microsecond)"`
	Details          json.RawMessage `parquet:"details,optional,json"`
	CacheHits        int64           `parquet:"cache_hits"`
	Cached           bool            `parquet:"cached"`
	CachedCostUSD    float64         `parquet:"cached_cost_usd"`
	PromptName       *string         `parquet:"prompt_name,optional,dict"`
	PromptVersion    *string         `parquet:"prompt_version,optional,dict"`
	PromptLabel      *string         `parquet:"prompt_label,optional,dict"`
	PromptHash       *string         `parquet:"prompt_hash,optional,dict"`
	TTFTMS           *float64        `parquet:"ttft_ms,optional"`
	ToolCalls        json.RawMessage `parquet:"tool_calls,optional,json"`
}

func storeResult(dst *storedResult, r *Result) {
	*dst = storedResult{
		RunID: r.RunID, Variant: r.Variant, ExampleID: r.ExampleID, ExampleIndex: r.ExampleIndex,
		Epoch: r.Epoch, Status: r.Status, Input: r.Input, Output: r.Output,
		Expected: r.Expected, Error: r.Error, FailedStep: r.FailedStep, Steps: r.Steps,
		LatencyMS: r.LatencyMS, PromptTokens: r.PromptTokens, CompletionTokens: r.CompletionTokens,
		CostUSD: r.CostUSD, TraceID: r.TraceID, StartedAt: r.StartedAt, Details: rawJSON(r.Details),
		CacheHits: r.CacheHits, Cached: r.Cached, CachedCostUSD: r.CachedCostUSD,
		PromptName: r.PromptName, PromptVersion: r.PromptVersion, PromptLabel: r.PromptLabel, PromptHash: r.PromptHash,
		TTFTMS: r.TTFTMS, ToolCalls: rawJSON(r.ToolCalls),
	}
}

// storedScore is a Score as the Writer hands it to parquet-go (see
// storedResult).
type storedScore struct {
	RunID        string          `parquet:"run_id,dict"`
	Variant      string          `parquet:"variant,dict"`
	ExampleID    string          `parquet:"example_id"`
	ExampleIndex int64           `parquet:"example_index"`
	Epoch        int32           `parquet:"epoch"`
	Judge        string          `parquet:"judge,dict"`
	JudgeType    string          `parquet:"judge_type,dict"`
	JudgeHash    string          `parquet:"judge_hash,dict"`
	Status       ScoreStatus     `parquet:"status,dict"`
	Score        *float64        `parquet:"score,optional"`
	Pass         *bool           `parquet:"pass,optional"`
	Label        *string         `parquet:"label,optional"`
	Reason       *string         `parquet:"reason,optional"`
	Error        *string         `parquet:"error,optional"`
	LatencyMS    float64         `parquet:"latency_ms"`
	TraceID      string          `parquet:"trace_id"`
	SpanID       string          `parquet:"span_id"`
	Details      json.RawMessage `parquet:"details,optional,json"`
	OtherVariant *string         `parquet:"other_variant,optional"`
}

func storeScore(dst *storedScore, s *Score) {
	*dst = storedScore{
		RunID: s.RunID, Variant: s.Variant, ExampleID: s.ExampleID, ExampleIndex: s.ExampleIndex,
		Epoch: s.Epoch, Judge: s.Judge, JudgeType: s.JudgeType, JudgeHash: s.JudgeHash,
		Status: s.Status, Score: s.Score, Pass: s.Pass, Label: s.Label, Reason: s.Reason,
		Error: s.Error, LatencyMS: s.LatencyMS, TraceID: s.TraceID, SpanID: s.SpanID,
		Details: rawJSON(s.Details), OtherVariant: s.OtherVariant,
	}
}

// rawJSON returns the JSON text s points to, or nil (null) when s is nil.
func rawJSON(s *string) json.RawMessage {
	if s == nil {
		return nil
	}
	return json.RawMessage(*s)
}

// resultJSONs is the mask of the optional JSON columns a stored result
// has a value in (see newWriter).
func resultJSONs(r *storedResult) uint8 {
	var m uint8
	if r.Details != nil {
		m |= 1
	}
	if r.ToolCalls != nil {
		m |= 2
	}
	return m
}

// scoreJSONs is resultJSONs for a stored score.
func scoreJSONs(s *storedScore) uint8 {
	if s.Details != nil {
		return 1
	}
	return 0
}
