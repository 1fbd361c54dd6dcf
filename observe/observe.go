// Package observe traces an application's own code for gavel: Do wraps a
// function as a span (a retrieval, a tool call, a model call, the chain
// around them), nested by context, with its kind, typed input and output,
// error, attributes and the user and session it served. Spans are
// OpenTelemetry spans, made with the OpenTelemetry Go SDK, so they go
// wherever a TracerProvider sends them: to a local run directory as
// traces.parquet (the schema gavel run writes, see DirExporter), to any
// OTLP collector (gavel collect included), or both (see Start). Without a
// provider the calls only run the function.
package observe

import (
	"context"
	"encoding/json"
	"fmt"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Kind is what a span does; it is recorded as OpenInference's
// openinference.span.kind, which gavel (and Phoenix, Langfuse, ...) read.
type Kind string

// Span kinds.
const (
	Chain     Kind = "CHAIN"
	LLM       Kind = "LLM"
	Retriever Kind = "RETRIEVER"
	Tool      Kind = "TOOL"
	Embedding Kind = "EMBEDDING"
	Agent     Kind = "AGENT"
	Reranker  Kind = "RERANKER"
	Guardrail Kind = "GUARDRAIL"
)

// ScopeName is the instrumentation scope of observe's spans.
const ScopeName = "github.com/gavel-eval/gavel/observe"

// maxText is the longest input or output recorded on a span, in bytes.
const maxText = 64 << 10

// Option sets something on the span Do starts.
type Option func(*settings)

type settings struct {
	input    any
	hasInput bool
	attrs    []attribute.KeyValue
}

// Input records v (text as is, anything else as JSON) as the span's input.
func Input(v any) Option {
	return func(s *settings) { s.input, s.hasInput = v, true }
}

// Attr records an attribute on the span: a string, bool, int, int64,
// float64 or []string as itself, anything else as JSON.
func Attr(key string, v any) Option {
	return func(s *settings) { s.attrs = append(s.attrs, attr(key, v)) }
}

type ctxKey int

const (
	userKey ctxKey = iota
	sessionKey
	providerKey
)

// WithUser returns ctx whose spans record the user id (user.id).
func WithUser(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, userKey, id)
}

// WithSession returns ctx whose spans record the session id (session.id),
// which gavel stores as the span's example_id.
func WithSession(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, sessionKey, id)
}

// WithTracerProvider returns ctx whose spans Do makes with tp (default:
// the provider of the span in ctx, else OpenTelemetry's global one).
func WithTracerProvider(ctx context.Context, tp trace.TracerProvider) context.Context {
	return context.WithValue(ctx, providerKey, tp)
}

func tracerOf(ctx context.Context) trace.Tracer {
	if tp, ok := ctx.Value(providerKey).(trace.TracerProvider); ok {
		return tp.Tracer(ScopeName)
	}
	if sp := trace.SpanFromContext(ctx); sp.SpanContext().IsValid() {
		return sp.TracerProvider().Tracer(ScopeName)
	}
	return otel.GetTracerProvider().Tracer(ScopeName)
}

// Do runs fn as a span named name of the given kind, child of the span in
// ctx, and returns what fn returns. The span records the input (Input),
// fn's output (text as is, anything else as JSON), fn's error (status
// ERROR with its message, and an exception event), the attributes, and
// the user and session of ctx. A panic in fn is recorded as an error and
// goes on.
func Do[T any](ctx context.Context, name string, kind Kind, fn func(context.Context) (T, error), opts ...Option) (out T, err error) {
	var s settings
	for _, o := range opts {
		o(&s)
	}
	attrs := append([]attribute.KeyValue{attribute.String("openinference.span.kind", string(kind))}, s.attrs...)
	if u, ok := ctx.Value(userKey).(string); ok && u != "" {
		attrs = append(attrs, attribute.String("user.id", u))
	}
	if sess, ok := ctx.Value(sessionKey).(string); ok && sess != "" {
		attrs = append(attrs, attribute.String("session.id", sess))
	}
	if s.hasInput {
		attrs = append(attrs, attribute.String("input.value", text(s.input)))
	}
	ctx, span := tracerOf(ctx).Start(ctx, name, trace.WithAttributes(attrs...))
	defer func() {
		if p := recover(); p != nil {
			span.RecordError(fmt.Errorf("panic: %v", p))
			span.SetStatus(codes.Error, fmt.Sprintf("panic: %v", p))
			span.End()
			panic(p)
		}
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		} else {
			if o := text(out); o != "" {
				span.SetAttributes(attribute.String("output.value", o))
			}
		}
		span.End()
	}()
	return fn(ctx)
}

// Run is Do for a function with no result.
func Run(ctx context.Context, name string, kind Kind, fn func(context.Context) error, opts ...Option) error {
	_, err := Do(ctx, name, kind, func(ctx context.Context) (struct{}, error) { return struct{}{}, fn(ctx) }, opts...)
	return err
}

// text is v as a span's text: a string as is, anything else as JSON,
// cut at maxText bytes.
func text(v any) string {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case []byte:
		s = string(x)
	case fmt.Stringer:
		s = x.String()
	case struct{}:
		return ""
	default:
		b, err := json.Marshal(v)
		if err != nil {
			s = fmt.Sprint(v)
		} else {
			s = string(b)
		}
	}
	if len(s) > maxText {
		s = s[:maxText]
	}
	return s
}

func attr(key string, v any) attribute.KeyValue {
	switch x := v.(type) {
	case string:
		return attribute.String(key, x)
	case bool:
		return attribute.Bool(key, x)
	case int:
		return attribute.Int(key, x)
	case int64:
		return attribute.Int64(key, x)
	case float64:
		return attribute.Float64(key, x)
	case []string:
		return attribute.StringSlice(key, x)
	}
	return attribute.String(key, text(v))
}
