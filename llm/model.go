// Package llm is gavel's door to language models: the Model interface, an
// OpenAI-compatible client (for OpenAI, vLLM, Ollama, llama.cpp server,
// LiteLLM and any other server speaking the same wire format), the Provider
// interface for models that answer in-process, a price table, and a Router
// that resolves "provider/model" names, applies per-call timeouts, records
// an llm span for every call and prices it.
//
// The offline stand-in models ("offline/echo", "offline/calc",
// "offline/judge", "offline/embed"), which let the quickstart and the tests
// run with no API key and no network, live in package llm/offline and are
// registered with a Router through Config.Local.
package llm

import (
	"context"
)

// Message is one chat message.
type Message struct {
	Role    string `json:"role" yaml:"role"`
	Content string `json:"content" yaml:"content"`
	// Parts, when set, is the message's content as parts — text and
	// images — and Content is ignored (OpenAI's array content).
	Parts []Part `json:"parts,omitempty" yaml:"-"`
	// ToolCalls are the tool calls an assistant message asked for, in a
	// conversation that carries on after them (an agent's loop).
	ToolCalls []ToolCall `json:"tool_calls,omitempty" yaml:"-"`
	// ToolCallID is, for a message of role "tool", the call whose result
	// it holds.
	ToolCallID string `json:"tool_call_id,omitempty" yaml:"-"`
}

// Part is one part of a message's content.
type Part struct {
	// Type is "text" or "image_url".
	Type string `json:"type"`
	// Text is a text part's text.
	Text string `json:"text,omitempty"`
	// ImageURL is an image part's image: an http(s) URL, or a data URL
	// (data:image/png;base64,...).
	ImageURL string `json:"image_url,omitempty"`
	// Detail is an image part's detail level ("low", "high", "auto").
	Detail string `json:"detail,omitempty"`
	// Source is the file an image part was read from, relative to the
	// spec, named on the call's span; it is not sent.
	Source string `json:"-"`
}

// Part types.
const (
	PartText  = "text"
	PartImage = "image_url"
)

// Text returns the message's text: Content, or its text parts joined.
func (m Message) Text() string {
	if len(m.Parts) == 0 {
		return m.Content
	}
	var b []byte
	for _, p := range m.Parts {
		if p.Type == PartText {
			if len(b) > 0 {
				b = append(b, '\n')
			}
			b = append(b, p.Text...)
		}
	}
	return string(b)
}

// Params are the sampling parameters of a call. Nil fields are left to the
// server's defaults and are not sent.
type Params struct {
	Temperature      *float64 `json:"temperature,omitempty" yaml:"temperature"`
	MaxTokens        *int     `json:"max_tokens,omitempty" yaml:"max_tokens"`
	TopP             *float64 `json:"top_p,omitempty" yaml:"top_p"`
	Seed             *int     `json:"seed,omitempty" yaml:"seed"`
	Stop             []string `json:"stop,omitempty" yaml:"stop"`
	PresencePenalty  *float64 `json:"presence_penalty,omitempty" yaml:"presence_penalty"`
	FrequencyPenalty *float64 `json:"frequency_penalty,omitempty" yaml:"frequency_penalty"`
	// ToolChoice says whether and which tool the model must call: "auto",
	// "none", "required", or {type: function, function: {name: NAME}}
	// (OpenAI's tool_choice). Nil leaves it to the server.
	ToolChoice any `json:"tool_choice,omitempty" yaml:"tool_choice"`
	// ParallelToolCalls lets the model ask for several tool calls in one
	// reply (nil: the server's default).
	ParallelToolCalls *bool `json:"parallel_tool_calls,omitempty" yaml:"parallel_tool_calls"`
	// ResponseFormat asks for JSON output: a JSON object conforming to a
	// JSON Schema ("json_schema", OpenAI's structured outputs) or any JSON
	// object ("json_object"). Nil leaves the format to the server.
	ResponseFormat *ResponseFormat `json:"response_format,omitempty" yaml:"response_format"`
	// Logprobs asks for the log probability of each generated token (of the
	// first choice; see Response.Logprobs).
	Logprobs bool `json:"logprobs,omitempty" yaml:"logprobs"`
	// TopLogprobs asks for that many most likely alternatives at each token
	// position (0 to 20 on the OpenAI API). It requires Logprobs.
	TopLogprobs *int `json:"top_logprobs,omitempty" yaml:"top_logprobs"`
	// N asks for that many choices (see Response.Choices). Servers that do
	// not support it answer with one.
	N *int `json:"n,omitempty" yaml:"n"`
	// Stream asks for the reply as a stream of server-sent events
	// (OpenAI's stream: true, with stream_options.include_usage), which
	// the client assembles into the same Response, and which gives the
	// call a time to first token (Response.TTFTMS). It changes how the
	// reply travels, not what it says: a streamed call and the same call
	// unstreamed share a cache entry (see CacheKey).
	Stream *bool `json:"stream,omitempty" yaml:"stream"`
}

// Streaming reports whether p asks for a streamed reply.
func (p Params) Streaming() bool { return p.Stream != nil && *p.Stream }

// Response format types.
const (
	FormatJSONSchema = "json_schema"
	FormatJSONObject = "json_object"
	FormatText       = "text"
)

// ResponseFormat is the output format a request asks for.
type ResponseFormat struct {
	// Type is "json_schema", "json_object" or "text".
	Type string `json:"type" yaml:"type"`
	// JSONSchema is the schema of a "json_schema" format.
	JSONSchema *JSONSchema `json:"json_schema,omitempty" yaml:"json_schema"`
}

// JSONSchema is a named JSON Schema for structured output.
type JSONSchema struct {
	// Name names the schema (letters, digits, '_' and '-').
	Name        string `json:"name" yaml:"name"`
	Description string `json:"description,omitempty" yaml:"description"`
	// Schema is the JSON Schema: any value encoding/json marshals to a JSON
	// object. A json.RawMessage keeps the order of the properties as
	// written, which matters: models with structured outputs generate the
	// properties in schema order (put a "reasoning" property before the
	// answer). A map[string]any, as decoded from YAML, is marshalled with
	// its keys sorted.
	Schema any `json:"schema" yaml:"schema"`
	// Strict asks the server to enforce the schema exactly (OpenAI's strict
	// mode: every property required, no additional properties).
	Strict bool `json:"strict" yaml:"strict"`
}

// Merge returns p with the parameters that over sets (non-nil fields, a
// true Logprobs) replacing p's.
func (p Params) Merge(over Params) Params {
	out := p
	if over.Temperature != nil {
		out.Temperature = over.Temperature
	}
	if over.MaxTokens != nil {
		out.MaxTokens = over.MaxTokens
	}
	if over.TopP != nil {
		out.TopP = over.TopP
	}
	if over.Seed != nil {
		out.Seed = over.Seed
	}
	if over.Stop != nil {
		out.Stop = over.Stop
	}
	if over.PresencePenalty != nil {
		out.PresencePenalty = over.PresencePenalty
	}
	if over.FrequencyPenalty != nil {
		out.FrequencyPenalty = over.FrequencyPenalty
	}
	if over.ToolChoice != nil {
		out.ToolChoice = over.ToolChoice
	}
	if over.ParallelToolCalls != nil {
		out.ParallelToolCalls = over.ParallelToolCalls
	}
	if over.ResponseFormat != nil {
		out.ResponseFormat = over.ResponseFormat
	}
	if over.Logprobs {
		out.Logprobs = true
	}
	if over.TopLogprobs != nil {
		out.TopLogprobs = over.TopLogprobs
	}
	if over.N != nil {
		out.N = over.N
	}
	if over.Stream != nil {
		out.Stream = over.Stream
	}
	return out
}

// Request is one chat completion request. Model is the full model name,
// "provider/model" (for example "openai/gpt-4o-mini" or "offline/calc").
type Request struct {
	Model    string    `json:"model"`
	Messages []Message `json:"messages"`
	Params   Params    `json:"params"`
	// Tools are the functions the model may call.
	Tools []Tool `json:"tools,omitempty"`
	// KeepImages records the images of the messages on the call's span as
	// they were sent; by default a data URL is recorded as its media
	// type, size and SHA-256 only. It is not part of the request.
	KeepImages bool `json:"-"`
	// Name names the call's llm span (for example the chain step or judge
	// making the call); empty means the model name. It is not part of the
	// request's content and is never sent to the model.
	Name string `json:"-"`
	// Epoch is the repetition of the example this call serves. Calls with
	// temperature > 0 in different epochs are different samples and are
	// cached separately; at temperature 0 (or unset) they share a cache
	// entry. It is not sent.
	Epoch int `json:"-"`
}

// Usage is the token usage of one call.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

// Response is the result of one chat completion.
type Response struct {
	Content      string `json:"content"`
	FinishReason string `json:"finish_reason,omitempty"`
	Usage        Usage  `json:"usage"`
	// Estimated is true when Usage was estimated rather than reported by
	// the server.
	Estimated bool `json:"estimated,omitempty"`
	// CostUSD is the call's cost from the price table; nil when the model
	// has no known price.
	CostUSD *float64 `json:"cost_usd,omitempty"`
	// Refusal is the model's refusal message when it declined to answer
	// (OpenAI's message.refusal, with structured outputs); Content is then
	// usually empty.
	Refusal string `json:"refusal,omitempty"`
	// ToolCalls are the tool calls the reply asks for (FinishReason
	// "tool_calls"), in order; Content is then usually empty.
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	// Choices holds the content of every choice, in order, when the
	// request asked for more than one (Params.N > 1) and the server sent
	// more than one; Content is then Choices[0]. Nil otherwise.
	Choices []string `json:"choices,omitempty"`
	// Logprobs holds, when the request asked for them (Params.Logprobs) and
	// the server sent them, one entry per generated token of the first
	// choice.
	Logprobs []TokenLogprob `json:"logprobs,omitempty"`
	// LatencyMS is how long the model took to answer, in milliseconds,
	// retries and rate-limit waits included (0 for a local provider's
	// models, such as the offline ones). A cache hit keeps the figure of the call that was made
	// (stored with its reply; 0 for an entry stored without one), as it
	// keeps that call's Usage and CostUSD.
	LatencyMS float64 `json:"latency_ms,omitempty"`
	// TTFTMS is, for a streamed call (Params.Stream), the time to its
	// first token in milliseconds: from the start of the call (as
	// LatencyMS, retries and rate-limit waits included) to the first
	// chunk carrying content; for a stream that ended without any, its
	// end. Nil for a call that was not streamed, and for a cache hit: a
	// reply from the cache arrives whole, and the cache does not store
	// the figure. A local provider's streamed call (the offline models)
	// has 0, as its latency is 0.
	TTFTMS *float64 `json:"-"`
	// Cached is true when no request was made for this reply: it came from
	// the cache, or from an identical call made at the same time. It is
	// never stored.
	Cached bool `json:"-"`
	// Vectors holds the vectors of an embeddings call when a cache stores
	// its reply (under an "embed:" key, see EmbedCacheKey); nil for a chat
	// reply.
	Vectors [][]float64 `json:"vectors,omitempty"`
}

// TokenLogprob is one generated token with its log probability and the
// most likely alternatives at its position.
type TokenLogprob struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
	// Top are the most likely tokens at this position (including, usually,
	// Token itself), most likely first as the server sent them.
	Top []TopLogprob `json:"top,omitempty"`
}

// TopLogprob is one alternative token at a position.
type TopLogprob struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
}

// Model answers chat completion requests.
type Model interface {
	Chat(ctx context.Context, req Request) (Response, error)
}

// EmbedRequest asks for the embeddings of Input under Model
// ("provider/model").
type EmbedRequest struct {
	Model string   `json:"model"`
	Input []string `json:"input"`
	// Name names the call's span; it defaults to the model name.
	Name string `json:"-"`
}

// EmbedResponse holds one vector per input, in order.
type EmbedResponse struct {
	Vectors [][]float64 `json:"vectors"`
	Usage   Usage       `json:"usage"`
	// Estimated is true when Usage was estimated rather than reported by
	// the server.
	Estimated bool     `json:"estimated,omitempty"`
	CostUSD   *float64 `json:"cost_usd,omitempty"`
	// LatencyMS and Cached are as in Response: a cache hit keeps the
	// latency, usage and cost of the call that was made.
	LatencyMS float64 `json:"latency_ms,omitempty"`
	Cached    bool    `json:"-"`
}

// Embedder computes embeddings.
type Embedder interface {
	Embed(ctx context.Context, req EmbedRequest) (EmbedResponse, error)
}
