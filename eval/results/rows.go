package results

import "time"

// File names inside a run directory.
const (
	ManifestFile = "manifest.json"
	ResultsFile  = "results.parquet"
	ScoresFile   = "scores.parquet"
	TracesFile   = "traces.parquet"
)

// Status is the outcome of one result (Result.Status), stored as the
// status column of results.parquet.
type Status string

// Result statuses.
const (
	// StatusOK: the chain produced an output.
	StatusOK Status = "ok"
	// StatusError: the chain or a model call failed; Error says why.
	StatusError Status = "error"
)

// ScoreStatus is the outcome of one judgment (Score.Status), stored as the
// status column of scores.parquet.
type ScoreStatus string

// Score statuses.
const (
	// ScoreOK: the judge decided; Pass and Score hold its verdict.
	ScoreOK ScoreStatus = "ok"
	// ScoreJudgeError: the judge could not decide; Error says why.
	ScoreJudgeError ScoreStatus = "judge_error"
	// ScoreSkipped: the result has no output to judge (its chain failed).
	ScoreSkipped ScoreStatus = "skipped"
)

// Result is one row of results.parquet: one variant × example × epoch.
type Result struct {
	RunID            string    `parquet:"run_id,dict"`
	Variant          string    `parquet:"variant,dict"`
	ExampleID        string    `parquet:"example_id"`
	ExampleIndex     int64     `parquet:"example_index"`
	Epoch            int32     `parquet:"epoch"`
	Status           Status    `parquet:"status,dict"`
	Input            string    `parquet:"input,json"` // the example's fields as a JSON object
	Output           string    `parquet:"output"`     // the chain's final output
	Expected         *string   `parquet:"expected,optional"`
	Error            *string   `parquet:"error,optional"`
	FailedStep       *string   `parquet:"failed_step,optional"`
	Steps            string    `parquet:"steps,json"` // JSON object: step name -> output
	LatencyMS        float64   `parquet:"latency_ms"`
	PromptTokens     int64     `parquet:"prompt_tokens"`
	CompletionTokens int64     `parquet:"completion_tokens"`
	CostUSD          *float64  `parquet:"cost_usd,optional"`
	TraceID          string    `parquet:"trace_id"`
	StartedAt        time.Time `parquet:"started_at,timestamp(microsecond)"`
	// Details holds facts about the row as a JSON object, or is null when
	// there are none: "invalid_utf8" lists the columns whose invalid UTF-8
	// bytes were replaced by U+FFFD when the row was written.
	Details *string `parquet:"details,optional,json"`
	// CacheHits counts the chain's model calls answered from the cache
	// (or shared with an identical call in flight). Their latency, tokens
	// and cost are those of the call that was made, stored with the reply,
	// and are counted in LatencyMS, the tokens and CostUSD.
	CacheHits int64 `parquet:"cache_hits"`
	// Cached is true when the chain made model calls and the cache
	// answered every one: no request was made for this result.
	Cached bool `parquet:"cached"`
	// CachedCostUSD is the part of CostUSD that the cache answered: what
	// those calls cost when they were made, not spent again.
	CachedCostUSD float64 `parquet:"cached_cost_usd"`
	// The variant's prompt as the run resolved it: its registry name,
	// version and the label it was named by (null for an inline prompt or
	// a prompt file, and when the variant was named by version), and its
	// content hash (null when the variant has no prompt, as in gavel
	// score). Null in files written before these columns.
	PromptName    *string `parquet:"prompt_name,optional,dict"`
	PromptVersion *string `parquet:"prompt_version,optional,dict"`
	PromptLabel   *string `parquet:"prompt_label,optional,dict"`
	PromptHash    *string `parquet:"prompt_hash,optional,dict"`
	// TTFTMS is the chain's time to first token, in milliseconds: from
	// the start of the chain to the first token of its first streamed
	// model call (an llm step with params stream: true), counted like
	// LatencyMS. Null when no model call was streamed, when that call was
	// answered from the cache (a cached reply arrives whole), or when it
	// failed before its first token; null in files written before this
	// column.
	TTFTMS *float64 `parquet:"ttft_ms,optional"`
	// ToolCalls is a JSON array of the tool calls the chain's model made,
	// in order (an agent's over all its turns): each {id, name, arguments}
	// with the arguments as the model wrote them (text, which may not be
	// JSON), "error" saying why they are not valid JSON or not valid
	// against the tool's schema, and "step" and "turn" naming the llm or
	// agent step and its model turn. Null when no tool was called, and in
	// files written before this column.
	ToolCalls *string `parquet:"tool_calls,optional,json"`
}

// Score is one row of scores.parquet: one judge's verdict on one result.
type Score struct {
	RunID     string `parquet:"run_id,dict"`
	Variant   string `parquet:"variant,dict"`
	ExampleID string `parquet:"example_id"`
	// ExampleIndex is the example's position in the dataset selection.
	ExampleIndex int64       `parquet:"example_index"`
	Epoch        int32       `parquet:"epoch"`
	Judge        string      `parquet:"judge,dict"`
	JudgeType    string      `parquet:"judge_type,dict"`
	JudgeHash    string      `parquet:"judge_hash,dict"`
	Status       ScoreStatus `parquet:"status,dict"`
	Score        *float64    `parquet:"score,optional"`
	Pass         *bool       `parquet:"pass,optional"`
	Label        *string     `parquet:"label,optional"`
	Reason       *string     `parquet:"reason,optional"`
	Error        *string     `parquet:"error,optional"`
	LatencyMS    float64     `parquet:"latency_ms"`
	TraceID      string      `parquet:"trace_id"`
	SpanID       string      `parquet:"span_id"`
	// Details holds judge-specific facts as a JSON object (repeats, a
	// panel's members, token probabilities, the raw reply, ...).
	Details *string `parquet:"details,optional,json"`
	// OtherVariant is set on pairwise judgments: the variant this row's
	// variant was compared with. Label is then win, loss or tie from this
	// row's variant's side.
	OtherVariant *string `parquet:"other_variant,optional"`
}

// Str returns a pointer to s, or nil when s is empty: the optional-string
// convention of the stored columns.
func Str(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Deref returns *s, or "" for nil.
func Deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
