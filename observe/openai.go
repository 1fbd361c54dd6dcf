package observe

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"time"

	openai "github.com/sashabaranov/go-openai"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/gavel-eval/gavel/llm"
)

// OpenAI is go-openai's client with every call traced: a chat completion
// (plain or streamed) is an LLM span and an embedding request an EMBEDDING
// span, child of the span in the call's context, with the OpenTelemetry
// GenAI attributes (gen_ai.operation.name, gen_ai.provider.name,
// gen_ai.request.model and parameters, gen_ai.response.model, id and
// finish reasons, gen_ai.usage.input_tokens and output_tokens), the
// messages as gen_ai.input.messages / input.value, the reply as
// gen_ai.output.messages / output.value, the cost in USD (cost_usd, from
// Prices), and the error of a failed call.
type OpenAI struct {
	*openai.Client
	// Provider names the service in gen_ai.provider.name and in price
	// lookups (provider/model); default "openai".
	Provider string
	// Prices prices the calls (default llm.DefaultPrices(); extend it, or
	// replace it with llm.ReadPricesFile).
	Prices llm.PriceTable
}

// NewOpenAI wraps c.
func NewOpenAI(c *openai.Client) *OpenAI {
	return &OpenAI{Client: c, Provider: "openai", Prices: llm.DefaultPrices()}
}

func (c *OpenAI) provider() string {
	if c.Provider == "" {
		return "openai"
	}
	return c.Provider
}

func (c *OpenAI) start(ctx context.Context, op, model string, kind Kind) (context.Context, trace.Span) {
	attrs := []attribute.KeyValue{
		attribute.String("openinference.span.kind", string(kind)),
		attribute.String("gen_ai.operation.name", op),
		attribute.String("gen_ai.provider.name", c.provider()),
		attribute.String("gen_ai.request.model", model),
	}
	if u, ok := ctx.Value(userKey).(string); ok && u != "" {
		attrs = append(attrs, attribute.String("user.id", u))
	}
	if s, ok := ctx.Value(sessionKey).(string); ok && s != "" {
		attrs = append(attrs, attribute.String("session.id", s))
	}
	return tracerOf(ctx).Start(ctx, op+" "+model, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
}

func requestAttrs(req openai.ChatCompletionRequest) []attribute.KeyValue {
	var a []attribute.KeyValue
	if req.Temperature != 0 {
		a = append(a, attribute.Float64("gen_ai.request.temperature", float64(req.Temperature)))
	}
	if req.TopP != 0 {
		a = append(a, attribute.Float64("gen_ai.request.top_p", float64(req.TopP)))
	}
	//lint:ignore SA1019 requests still set the older max_tokens; it is recorded like its successor
	if n := max(req.MaxTokens, req.MaxCompletionTokens); n != 0 {
		a = append(a, attribute.Int("gen_ai.request.max_tokens", n))
	}
	if req.Seed != nil {
		a = append(a, attribute.Int("gen_ai.request.seed", *req.Seed))
	}
	if len(req.Stop) > 0 {
		a = append(a, attribute.StringSlice("gen_ai.request.stop_sequences", req.Stop))
	}
	msgs := make([]map[string]string, len(req.Messages))
	for i, m := range req.Messages {
		msgs[i] = map[string]string{"role": m.Role, "content": m.Content}
	}
	b, _ := json.Marshal(msgs)
	in := string(b)
	if len(in) > maxText {
		in = in[:maxText]
	}
	a = append(a, attribute.String("gen_ai.input.messages", in), attribute.String("input.value", in))
	return a
}

// finish records a reply (or its error) and ends the span.
func (c *OpenAI) finish(span trace.Span, model, id, content string, finish []string, usage *openai.Usage, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	if model != "" {
		span.SetAttributes(attribute.String("gen_ai.response.model", model))
	}
	if id != "" {
		span.SetAttributes(attribute.String("gen_ai.response.id", id))
	}
	if len(finish) > 0 {
		span.SetAttributes(attribute.StringSlice("gen_ai.response.finish_reasons", finish))
	}
	if content != "" {
		out := content
		if len(out) > maxText {
			out = out[:maxText]
		}
		b, _ := json.Marshal([]map[string]string{{"role": "assistant", "content": out}})
		span.SetAttributes(attribute.String("output.value", out), attribute.String("gen_ai.output.messages", string(b)))
	}
	if usage != nil {
		span.SetAttributes(attribute.Int("gen_ai.usage.input_tokens", usage.PromptTokens), attribute.Int("gen_ai.usage.output_tokens", usage.CompletionTokens))
		if c.Prices != nil {
			if cost, ok := c.Prices.Cost(c.provider()+"/"+model, llm.Usage{PromptTokens: usage.PromptTokens, CompletionTokens: usage.CompletionTokens}); ok {
				span.SetAttributes(attribute.Float64("cost_usd", cost))
			}
		}
	}
	span.End()
}

// CreateChatCompletion is the client's call, traced.
func (c *OpenAI) CreateChatCompletion(ctx context.Context, req openai.ChatCompletionRequest) (openai.ChatCompletionResponse, error) {
	ctx, span := c.start(ctx, "chat", req.Model, LLM)
	span.SetAttributes(requestAttrs(req)...)
	resp, err := c.Client.CreateChatCompletion(ctx, req)
	var content string
	var finish []string
	for i, ch := range resp.Choices {
		if i == 0 {
			content = ch.Message.Content
		}
		finish = append(finish, string(ch.FinishReason))
	}
	model := resp.Model
	if model == "" {
		model = req.Model
	}
	var usage *openai.Usage
	if err == nil {
		usage = &resp.Usage
	}
	c.finish(span, model, resp.ID, content, finish, usage, err)
	return resp, err
}

// CreateEmbeddings is the client's call, traced.
func (c *OpenAI) CreateEmbeddings(ctx context.Context, conv openai.EmbeddingRequestConverter) (openai.EmbeddingResponse, error) {
	base := conv.Convert()
	model := string(base.Model)
	ctx, span := c.start(ctx, "embeddings", model, Embedding)
	resp, err := c.Client.CreateEmbeddings(ctx, conv)
	if err == nil {
		span.SetAttributes(attribute.Int("gen_ai.embeddings.count", len(resp.Data)))
		if len(resp.Data) > 0 {
			span.SetAttributes(attribute.Int("gen_ai.embeddings.dimension.count", len(resp.Data[0].Embedding)))
		}
	}
	var usage *openai.Usage
	if err == nil {
		usage = &resp.Usage
	}
	m := string(resp.Model)
	if m == "" {
		m = model
	}
	c.finish(span, m, "", "", nil, usage, err)
	return resp, err
}

// ChatStream is a streamed chat completion whose span ends, with the whole
// reply, when the stream ends: at its last chunk, at an error (a cancelled
// context included), or at Close, whichever comes first. It records the
// time to the first token (gen_ai.response.time_to_first_chunk, seconds,
// and ttft_ms).
type ChatStream struct {
	*openai.ChatCompletionStream
	c     *OpenAI
	span  trace.Span
	start time.Time
	model string

	mu      sync.Mutex
	done    bool
	first   bool
	id      string
	content strings.Builder
	finish  []string
	usage   *openai.Usage
}

// CreateChatCompletionStream is the client's call, traced. Ask for
// stream_options.include_usage to have the tokens recorded.
func (c *OpenAI) CreateChatCompletionStream(ctx context.Context, req openai.ChatCompletionRequest) (*ChatStream, error) {
	ctx, span := c.start(ctx, "chat", req.Model, LLM)
	span.SetAttributes(requestAttrs(req)...)
	span.SetAttributes(attribute.Bool("gen_ai.request.stream", true))
	s := &ChatStream{c: c, span: span, start: time.Now(), model: req.Model}
	st, err := c.Client.CreateChatCompletionStream(ctx, req)
	if err != nil {
		s.end(err)
		return nil, err
	}
	s.ChatCompletionStream = st
	return s, nil
}

// Recv returns the next chunk, recording it; io.EOF ends the span.
func (s *ChatStream) Recv() (openai.ChatCompletionStreamResponse, error) {
	r, err := s.ChatCompletionStream.Recv()
	s.mu.Lock()
	if err == nil {
		if r.ID != "" {
			s.id = r.ID
		}
		if r.Model != "" {
			s.model = r.Model
		}
		for _, ch := range r.Choices {
			if ch.Index == 0 && ch.Delta.Content != "" {
				if !s.first {
					s.first = true
					ttft := time.Since(s.start)
					s.span.SetAttributes(attribute.Float64("gen_ai.response.time_to_first_chunk", ttft.Seconds()), attribute.Float64("ttft_ms", float64(ttft.Microseconds())/1000))
				}
				s.content.WriteString(ch.Delta.Content)
			}
			if ch.FinishReason != "" {
				s.finish = append(s.finish, string(ch.FinishReason))
			}
		}
		if r.Usage != nil {
			u := *r.Usage
			s.usage = &u
		}
	}
	s.mu.Unlock()
	switch {
	case errors.Is(err, io.EOF):
		s.end(nil)
	case err != nil:
		s.end(err)
	}
	return r, err
}

// Close closes the stream and ends its span if the stream had not ended
// (a reply cut short is recorded as far as it came, as an error).
func (s *ChatStream) Close() error {
	s.end(errors.New("stream closed before its end"))
	return s.ChatCompletionStream.Close()
}

func (s *ChatStream) end(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return
	}
	s.done = true
	s.c.finish(s.span, s.model, s.id, s.content.String(), s.finish, s.usage, err)
}
