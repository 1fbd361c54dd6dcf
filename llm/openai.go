package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	openai "github.com/sashabaranov/go-openai"

	"github.com/gavel-eval/gavel/internal/redact"
)

// openAIProvider is a provider speaking the OpenAI chat completions wire
// format: OpenAI itself, or vLLM, Ollama, llama.cpp server, LiteLLM and
// the like. This is the only file that knows go-openai.
type openAIProvider struct {
	name       string
	url        string // base URL as configured
	safeURL    string // base URL with any credentials removed
	official   bool   // the base URL is api.openai.com
	key        string // API key; never printed, traced or put in an error
	keyEnv     string // the environment variable the key came from
	httpClient *http.Client
	// secrets are the values never kept from a server's text: this
	// key, the other providers' keys and Config.Secrets (set by
	// NewRouter).
	secrets *redact.Secrets
}

func (p *openAIProvider) baseURL() string { return p.safeURL }

func (p *openAIProvider) free() bool { return false }

func (p *openAIProvider) check(string) error {
	if !p.official || p.key != "" {
		return nil
	}
	if p.keyEnv == "" {
		return fmt.Errorf("provider %q calls the OpenAI API at %s and needs an API key: set api_key_env in its declaration", p.name, p.safeURL)
	}
	return fmt.Errorf("provider %q calls the OpenAI API at %s and needs an API key: set %s", p.name, p.safeURL, p.keyEnv)
}

func (p *openAIProvider) chat(ctx context.Context, model string, req Request) (Response, error) {
	creq, patch, err := buildChatRequest(model, req)
	if err != nil {
		return Response{}, fmt.Errorf("provider %q: %w", p.name, err)
	}
	var doer openai.HTTPDoer = p.httpClient
	if !patch.empty() {
		patch.next = p.httpClient
		doer = patch
	}
	if req.Params.Streaming() {
		watch := &sseWatch{next: doer}
		capture := &respCapture{next: watch}
		return p.chatStream(ctx, p.client(capture), capture, watch, creq, req)
	}
	capture := &respCapture{next: doer}
	client := p.client(capture)

	cresp, err := client.CreateChatCompletion(ctx, creq)
	if err != nil {
		if pe := p.paramError(err); pe != nil {
			return Response{}, pe
		}
		return Response{}, p.convertError(ctx, err, capture)
	}
	if len(cresp.Choices) == 0 {
		return Response{}, fmt.Errorf("provider %q: the response has no choices", p.name)
	}
	choices := append([]openai.ChatCompletionChoice(nil), cresp.Choices...)
	sort.SliceStable(choices, func(i, j int) bool { return choices[i].Index < choices[j].Index })
	choice := choices[0]
	resp := Response{
		Content:      choice.Message.Content,
		FinishReason: string(choice.FinishReason),
		Refusal:      choice.Message.Refusal,
		Logprobs:     convertLogprobs(choice.LogProbs),
		ToolCalls:    convertToolCalls(choice.Message.ToolCalls),
	}
	completion := resp.Content + toolCallsText(resp.ToolCalls)
	if len(choices) > 1 {
		resp.Choices = make([]string, len(choices))
		for i, c := range choices {
			resp.Choices[i] = c.Message.Content
		}
		completion = strings.Join(resp.Choices, "")
	}
	resp.Usage, resp.Estimated = serverUsage(&cresp.Usage, req.Messages, completion)
	// The reply is redacted here, before anything caches, records or
	// returns it: a model that repeats a key it saw does not get it
	// stored.
	return redactResponse(p.secrets, resp), nil
}

// serverUsage is the usage the server reported (u, nil when it sent
// none), or, when it reported none or only zeros, the estimate of
// EstimateUsage for the messages and the completion, marked estimated.
func serverUsage(u *openai.Usage, messages []Message, completion string) (Usage, bool) {
	if u == nil || (u.PromptTokens == 0 && u.CompletionTokens == 0 && u.TotalTokens == 0) {
		return EstimateUsage(messages, completion), true
	}
	return Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens}, false
}

// chatStream makes a streamed chat completion call (stream: true, with
// stream_options.include_usage) and assembles the reply from its chunks:
// each choice's content, refusal and log probabilities from its deltas,
// its finish reason, and the usage of the final chunk (estimated, as for
// a call that is not streamed, when the server sends none). At the first
// chunk carrying content it calls the context's first-token function. A
// failure before that is an attempt's error like any other; after it, a
// *StreamError holding what arrived. A body that ends with neither
// "data: [DONE]" nor a finish reason for every choice was cut short.
func (p *openAIProvider) chatStream(ctx context.Context, client *openai.Client, capture *respCapture, watch *sseWatch, creq openai.ChatCompletionRequest, req Request) (Response, error) {
	creq.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
	stream, err := client.CreateChatCompletionStream(ctx, creq)
	if err != nil {
		if pe := p.paramError(err); pe != nil {
			return Response{}, pe
		}
		return Response{}, p.convertError(ctx, err, capture)
	}
	defer stream.Close()
	var asm streamAssembly
	for {
		chunk, rerr := stream.Recv()
		if errors.Is(rerr, io.EOF) {
			if watch.done() || asm.finished() {
				break
			}
			rerr = errStreamUnfinished
		}
		if rerr != nil {
			err := p.convertError(ctx, rerr, capture)
			if !asm.started {
				return Response{}, err
			}
			return Response{}, &StreamError{Partial: redactResponse(p.secrets, asm.response(req)), Err: err}
		}
		if asm.add(chunk) {
			firstToken(ctx)
		}
	}
	return redactResponse(p.secrets, asm.response(req)), nil
}

// streamAssembly collects the chunks of a streamed reply.
type streamAssembly struct {
	started bool // a chunk carried content
	choices map[int]*streamChoice
	usage   *openai.Usage
}

// streamChoice is one choice of a streamed reply, as far as it came.
type streamChoice struct {
	content, refusal strings.Builder
	finish           string
	logprobs         []TokenLogprob
	// calls are the tool calls by their index in the reply, their
	// arguments arriving in pieces.
	calls map[int]*streamCall
}

// streamCall is a tool call as far as it came.
type streamCall struct {
	id, name string
	args     strings.Builder
}

// add adds a chunk and reports whether it carried the reply's first
// content.
func (a *streamAssembly) add(chunk openai.ChatCompletionStreamResponse) bool {
	first := false
	for _, ch := range chunk.Choices {
		if a.choices == nil {
			a.choices = map[int]*streamChoice{}
		}
		c := a.choices[ch.Index]
		if c == nil {
			c = &streamChoice{}
			a.choices[ch.Index] = c
		}
		if ch.Delta.Content != "" || ch.Delta.Refusal != "" {
			if !a.started {
				a.started, first = true, true
			}
			c.content.WriteString(ch.Delta.Content)
			c.refusal.WriteString(ch.Delta.Refusal)
		}
		for k, tc := range ch.Delta.ToolCalls {
			if !a.started {
				a.started, first = true, true
			}
			idx := k
			if tc.Index != nil {
				idx = *tc.Index
			}
			if c.calls == nil {
				c.calls = map[int]*streamCall{}
			}
			call := c.calls[idx]
			if call == nil {
				call = &streamCall{}
				c.calls[idx] = call
			}
			if tc.ID != "" {
				call.id = tc.ID
			}
			if tc.Function.Name != "" {
				call.name = tc.Function.Name
			}
			call.args.WriteString(tc.Function.Arguments)
		}
		if ch.FinishReason != "" {
			c.finish = string(ch.FinishReason)
		}
		if ch.Logprobs != nil {
			c.logprobs = append(c.logprobs, convertStreamLogprobs(ch.Logprobs.Content)...)
		}
	}
	if chunk.Usage != nil {
		u := *chunk.Usage
		a.usage = &u
	}
	return first
}

// finished reports whether every choice seen has its finish reason.
func (a *streamAssembly) finished() bool {
	for _, c := range a.choices {
		if c.finish == "" {
			return false
		}
	}
	return len(a.choices) > 0
}

// response is the reply assembled so far, as a call that is not
// streamed would have returned it.
func (a *streamAssembly) response(req Request) Response {
	idx := make([]int, 0, len(a.choices))
	for i := range a.choices {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	var resp Response
	if len(idx) > 0 {
		c := a.choices[idx[0]]
		resp.Content, resp.Refusal, resp.FinishReason = c.content.String(), c.refusal.String(), c.finish
		resp.Logprobs = c.logprobs
		calls := make([]int, 0, len(c.calls))
		for k := range c.calls {
			calls = append(calls, k)
		}
		sort.Ints(calls)
		for _, k := range calls {
			sc := c.calls[k]
			resp.ToolCalls = append(resp.ToolCalls, ToolCall{ID: sc.id, Name: sc.name, Arguments: sc.args.String()})
		}
	}
	completion := resp.Content + toolCallsText(resp.ToolCalls)
	if len(idx) > 1 {
		resp.Choices = make([]string, len(idx))
		for i, k := range idx {
			resp.Choices[i] = a.choices[k].content.String()
		}
		completion = strings.Join(resp.Choices, "")
	}
	resp.Usage, resp.Estimated = serverUsage(a.usage, req.Messages, completion)
	return resp
}

// convertToolCalls maps a reply's tool calls to ours.
func convertToolCalls(calls []openai.ToolCall) []ToolCall {
	var out []ToolCall
	for _, c := range calls {
		out = append(out, ToolCall{ID: c.ID, Name: c.Function.Name, Arguments: c.Function.Arguments})
	}
	return out
}

// toolCallsText is the text of tool calls for a usage estimate: their
// names and arguments.
func toolCallsText(calls []ToolCall) string {
	var b strings.Builder
	for _, c := range calls {
		b.WriteString(c.Name)
		b.WriteByte(' ')
		b.WriteString(c.Arguments)
	}
	return b.String()
}

// convertStreamLogprobs maps the token log probabilities of a chunk to
// ours.
func convertStreamLogprobs(lp []openai.ChatCompletionTokenLogprob) []TokenLogprob {
	out := make([]TokenLogprob, len(lp))
	for i, t := range lp {
		out[i] = TokenLogprob{Token: t.Token, Logprob: t.Logprob}
		if len(t.TopLogprobs) > 0 {
			out[i].Top = make([]TopLogprob, len(t.TopLogprobs))
			for j, alt := range t.TopLogprobs {
				out[i].Top[j] = TopLogprob{Token: alt.Token, Logprob: alt.Logprob}
			}
		}
	}
	return out
}

// convertLogprobs maps go-openai's token log probabilities to ours; nil
// when the server sent none.
func convertLogprobs(lp *openai.LogProbs) []TokenLogprob {
	if lp == nil || len(lp.Content) == 0 {
		return nil
	}
	out := make([]TokenLogprob, len(lp.Content))
	for i, t := range lp.Content {
		out[i] = TokenLogprob{Token: t.Token, Logprob: t.LogProb}
		if len(t.TopLogProbs) > 0 {
			out[i].Top = make([]TopLogprob, len(t.TopLogProbs))
			for j, a := range t.TopLogProbs {
				out[i].Top[j] = TopLogprob{Token: a.Token, Logprob: a.LogProb}
			}
		}
	}
	return out
}

// embed makes one embeddings call (POST /embeddings) for model.
func (p *openAIProvider) embed(ctx context.Context, model string, req EmbedRequest) (EmbedResponse, error) {
	capture := &respCapture{next: p.httpClient}
	client := p.client(capture)
	eresp, err := client.CreateEmbeddings(ctx, openai.EmbeddingRequestStrings{
		Input: req.Input,
		Model: openai.EmbeddingModel(model),
	})
	if err != nil {
		return EmbedResponse{}, p.convertError(ctx, err, capture)
	}
	if len(eresp.Data) != len(req.Input) {
		return EmbedResponse{}, fmt.Errorf("provider %q: the response has %d embeddings for %d inputs", p.name, len(eresp.Data), len(req.Input))
	}
	resp := EmbedResponse{Vectors: make([][]float64, len(req.Input))}
	for _, d := range eresp.Data {
		if d.Index < 0 || d.Index >= len(req.Input) || resp.Vectors[d.Index] != nil {
			return EmbedResponse{}, fmt.Errorf("provider %q: the response has a bad or repeated embedding index %d", p.name, d.Index)
		}
		v := make([]float64, len(d.Embedding))
		for i, x := range d.Embedding {
			v[i] = float64(x)
		}
		resp.Vectors[d.Index] = v
	}
	if eresp.Usage.PromptTokens == 0 && eresp.Usage.TotalTokens == 0 {
		resp.Usage = EstimateEmbedUsage(req.Input)
		resp.Estimated = true
	} else {
		pt := eresp.Usage.PromptTokens
		if pt == 0 {
			pt = eresp.Usage.TotalTokens
		}
		resp.Usage = Usage{PromptTokens: pt}
	}
	return resp, nil
}

// client returns a go-openai client for the provider sending requests
// through hc.
func (p *openAIProvider) client(hc openai.HTTPDoer) *openai.Client {
	cfg := openai.DefaultConfig(p.key)
	cfg.BaseURL = p.url
	cfg.HTTPClient = hc
	return openai.NewClientWithConfig(cfg)
}

// isReasoningModel reports whether go-openai (like the OpenAI API) rejects
// max_tokens for model in favour of max_completion_tokens.
func isReasoningModel(model string) bool {
	for _, pre := range []string{"o1", "o3", "o4", "gpt-5", "gpt-6"} {
		if strings.HasPrefix(model, pre) {
			return true
		}
	}
	return false
}

// buildChatRequest maps req to go-openai's request for model (the name
// without the provider prefix). go-openai drops zero-valued sampling
// parameters (omitempty on float32 fields) and empty message contents, so
// the returned patch puts back those that req sets explicitly.
func buildChatRequest(model string, req Request) (openai.ChatCompletionRequest, *bodyPatch, error) {
	creq := openai.ChatCompletionRequest{Model: model}
	patch := &bodyPatch{fields: map[string]any{}}
	for _, m := range req.Messages {
		cm := openai.ChatCompletionMessage{Role: m.Role, Content: m.Content, ToolCallID: m.ToolCallID}
		if len(m.Parts) > 0 {
			cm.Content = ""
			for _, part := range m.Parts {
				switch part.Type {
				case PartText:
					cm.MultiContent = append(cm.MultiContent, openai.ChatMessagePart{Type: openai.ChatMessagePartTypeText, Text: part.Text})
				case PartImage:
					cm.MultiContent = append(cm.MultiContent, openai.ChatMessagePart{Type: openai.ChatMessagePartTypeImageURL,
						ImageURL: &openai.ChatMessageImageURL{URL: part.ImageURL, Detail: openai.ImageURLDetail(part.Detail)}})
				default:
					return creq, nil, fmt.Errorf("message content part of type %q: want text or image_url", part.Type)
				}
			}
		}
		for _, c := range m.ToolCalls {
			cm.ToolCalls = append(cm.ToolCalls, openai.ToolCall{ID: c.ID, Type: openai.ToolTypeFunction,
				Function: openai.FunctionCall{Name: c.Name, Arguments: c.Arguments}})
		}
		creq.Messages = append(creq.Messages, cm)
		if len(m.Parts) == 0 && m.Content == "" {
			patch.emptyContent = true
		}
	}
	for _, t := range req.Tools {
		var params any = json.RawMessage(`{"type": "object", "properties": {}}`)
		if len(t.Parameters) > 0 {
			params = t.Parameters
		}
		creq.Tools = append(creq.Tools, openai.Tool{Type: openai.ToolTypeFunction,
			Function: &openai.FunctionDefinition{Name: t.Name, Description: t.Description, Strict: t.Strict, Parameters: params}})
	}
	prm := req.Params
	float := func(name string, v *float64, dst *float32) {
		if v == nil {
			return
		}
		*dst = float32(*v)
		if *dst == 0 {
			patch.fields[name] = 0
		}
	}
	float("temperature", prm.Temperature, &creq.Temperature)
	float("top_p", prm.TopP, &creq.TopP)
	float("presence_penalty", prm.PresencePenalty, &creq.PresencePenalty)
	float("frequency_penalty", prm.FrequencyPenalty, &creq.FrequencyPenalty)
	if prm.MaxTokens != nil {
		if *prm.MaxTokens < 1 {
			return creq, nil, fmt.Errorf("max_tokens must be at least 1, got %d", *prm.MaxTokens)
		}
		if isReasoningModel(model) {
			creq.MaxCompletionTokens = *prm.MaxTokens
		} else {
			// Most OpenAI-compatible servers (vLLM, Ollama, llama.cpp)
			// understand only max_tokens.
			//lint:ignore SA1019 max_tokens is what compatible servers accept.
			creq.MaxTokens = *prm.MaxTokens
		}
	}
	if prm.Seed != nil {
		seed := *prm.Seed
		creq.Seed = &seed
	}
	if len(prm.Stop) > 0 {
		creq.Stop = append([]string(nil), prm.Stop...)
	}
	if prm.N != nil {
		if *prm.N < 1 {
			return creq, nil, fmt.Errorf("n must be at least 1, got %d", *prm.N)
		}
		creq.N = *prm.N
	}
	creq.LogProbs = prm.Logprobs
	if prm.TopLogprobs != nil {
		if !prm.Logprobs {
			return creq, nil, errors.New("top_logprobs requires logprobs: true")
		}
		if *prm.TopLogprobs < 0 {
			return creq, nil, fmt.Errorf("top_logprobs must not be negative, got %d", *prm.TopLogprobs)
		}
		creq.TopLogProbs = *prm.TopLogprobs
		if creq.TopLogProbs == 0 {
			patch.fields["top_logprobs"] = 0
		}
	}
	if prm.ToolChoice != nil {
		if len(req.Tools) == 0 {
			return creq, nil, errors.New("tool_choice is set but the request offers no tools")
		}
		creq.ToolChoice = prm.ToolChoice
	}
	if prm.ParallelToolCalls != nil {
		creq.ParallelToolCalls = *prm.ParallelToolCalls
	}
	if prm.ResponseFormat != nil {
		rf, err := buildResponseFormat(*prm.ResponseFormat)
		if err != nil {
			return creq, nil, err
		}
		creq.ResponseFormat = rf
	}
	return creq, patch, nil
}

// buildResponseFormat maps f to go-openai's response format, checking it.
func buildResponseFormat(f ResponseFormat) (*openai.ChatCompletionResponseFormat, error) {
	switch f.Type {
	case FormatJSONSchema:
		s := f.JSONSchema
		if s == nil || s.Name == "" {
			return nil, errors.New("response_format json_schema: the schema needs a name")
		}
		raw, err := schemaJSON(s.Schema)
		if err != nil {
			return nil, fmt.Errorf("response_format json_schema %q: %w", s.Name, err)
		}
		return &openai.ChatCompletionResponseFormat{
			Type: openai.ChatCompletionResponseFormatTypeJSONSchema,
			JSONSchema: &openai.ChatCompletionResponseFormatJSONSchema{
				Name: s.Name, Description: s.Description, Schema: raw, Strict: s.Strict,
			},
		}, nil
	case FormatJSONObject, FormatText:
		if f.JSONSchema != nil {
			return nil, fmt.Errorf("response_format %s takes no json_schema", f.Type)
		}
		return &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatType(f.Type)}, nil
	default:
		return nil, fmt.Errorf("response_format: unknown type %q (types: %s, %s, %s)", f.Type, FormatJSONSchema, FormatJSONObject, FormatText)
	}
}

// schemaJSON encodes a JSON Schema, which must be a JSON object.
func schemaJSON(schema any) (json.RawMessage, error) {
	if schema == nil {
		return nil, errors.New("no schema")
	}
	raw, err := json.Marshal(schema)
	if err != nil {
		return nil, fmt.Errorf("encoding the schema: %w", err)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, errors.New("the schema is not a JSON object")
	}
	return raw, nil
}

// bodyPatch is an HTTP doer that edits the JSON body of a request before
// sending it: it sets top-level fields, and gives every message without a
// "content" an empty one.
type bodyPatch struct {
	next         *http.Client
	fields       map[string]any
	emptyContent bool
}

func (b *bodyPatch) empty() bool { return len(b.fields) == 0 && !b.emptyContent }

// Do implements openai.HTTPDoer.
func (b *bodyPatch) Do(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return b.next.Do(req)
	}
	raw, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading request body: %w", err)
	}
	body, err := b.apply(raw)
	if err != nil {
		return nil, err
	}
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return b.next.Do(out)
}

func (b *bodyPatch) apply(raw []byte) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("patching request body: %w", err)
	}
	for k, v := range b.fields {
		enc, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("patching request body: %w", err)
		}
		obj[k] = enc
	}
	if b.emptyContent && obj["messages"] != nil {
		var msgs []map[string]json.RawMessage
		if err := json.Unmarshal(obj["messages"], &msgs); err != nil {
			return nil, fmt.Errorf("patching request messages: %w", err)
		}
		for _, m := range msgs {
			if _, ok := m["content"]; !ok {
				m["content"] = json.RawMessage(`""`)
			}
		}
		enc, err := json.Marshal(msgs)
		if err != nil {
			return nil, fmt.Errorf("patching request messages: %w", err)
		}
		obj["messages"] = enc
	}
	return json.Marshal(obj)
}

// paramError turns go-openai's refusals of parameters for reasoning models
// (made before sending) into a *ParamError, or returns nil.
func (p *openAIProvider) paramError(err error) *ParamError {
	var params []string
	switch {
	case errors.Is(err, openai.ErrReasoningModelLimitationsLogprobs):
		params = []string{"logprobs", "top_logprobs"}
	case errors.Is(err, openai.ErrReasoningSamplingUnsupported):
		params = []string{"temperature", "top_p", "logprobs", "top_logprobs"}
	case errors.Is(err, openai.ErrReasoningModelLimitationsOther):
		params = []string{"temperature", "top_p", "n", "presence_penalty", "frequency_penalty"}
	default:
		return nil
	}
	return &ParamError{Provider: p.name, Params: params, Message: err.Error()}
}

// convertError turns a go-openai or transport error into an *APIError
// (or, for a cancelled call, a wrapped context error), with the API key
// removed from every message. capture, which may be nil, holds the status
// and headers of the response, if one arrived: they give the error its
// RetryAfter, and tell a malformed body from a request never sent.
func (p *openAIProvider) convertError(ctx context.Context, err error, capture *respCapture) error {
	var apiErr *openai.APIError
	if errors.As(err, &apiErr) {
		e := &APIError{
			Provider:   p.name,
			StatusCode: apiErr.HTTPStatusCode,
			Type:       p.redact(apiErr.Type),
			Message:    p.redact(apiErr.Message),
			RetryAfter: capture.retryAfter(),
		}
		if apiErr.Param != nil {
			e.Param = p.redact(*apiErr.Param)
		}
		switch c := apiErr.Code.(type) {
		case string:
			e.Code = p.redact(c)
		case int:
			if c != 0 { // go-openai turns "code": null into 0
				e.Code = strconv.Itoa(c)
			}
		}
		return e
	}
	var reqErr *openai.RequestError
	if errors.As(err, &reqErr) {
		msg := p.snippet(reqErr.Body)
		if msg == "" && reqErr.Err != nil {
			msg = p.redact(reqErr.Err.Error())
		}
		return &APIError{Provider: p.name, StatusCode: reqErr.HTTPStatusCode, Message: msg, RetryAfter: capture.retryAfter()}
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return &APIError{Provider: p.name, Type: errTypeTimeout, Message: "no response before the call's deadline", err: ctxErr}
		}
		return fmt.Errorf("provider %q: %w", p.name, ctxErr)
	}
	var netErr net.Error
	var urlErr *url.Error
	if errors.As(err, &netErr) || errors.As(err, &urlErr) {
		typ := errTypeNetwork
		if netErr != nil && netErr.Timeout() {
			typ = errTypeTimeout
		}
		return &APIError{Provider: p.name, Type: typ, Message: p.redact(err.Error()), err: err}
	}
	if capture != nil && capture.status != 0 {
		// A response arrived but its body could not be read: an error
		// status whose body broke off keeps its status; a success whose
		// body is not a readable chat completion (invalid JSON, cut
		// short) is malformed, which a new attempt may cure.
		e := &APIError{Provider: p.name, StatusCode: capture.status, Message: p.redact(err.Error()), RetryAfter: capture.retryAfter(), err: err}
		if capture.status < 400 {
			e.Type = errTypeMalformed
			if errors.Is(err, io.ErrUnexpectedEOF) {
				e.Message = "the response body was cut short: " + e.Message
			} else if isDecodeError(err) {
				e.Message = "the response body is not valid JSON: " + e.Message
			}
		}
		return e
	}
	// A request go-openai refused to send.
	return fmt.Errorf("provider %q: %s", p.name, p.redact(err.Error()))
}

// redact removes from s the known secrets (every provider's API key and
// Config.Secrets), bearer tokens and URL credentials.
func (p *openAIProvider) redact(s string) string {
	return p.secrets.Text(s, -1, "")
}

// snippetLimit is how many characters of an unexpected response body an
// error message keeps.
const snippetLimit = 300

// snippet returns the start of an unexpected response body, for an error
// message: redacted first, then cut, so that a secret straddling the cut
// is not kept in part.
func (p *openAIProvider) snippet(body []byte) string {
	return p.secrets.Text(strings.TrimSpace(string(body)), snippetLimit, "...")
}
