package otlp

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/gavel-eval/gavel/traces"
)

// Encodings of an OTLP/HTTP body.
const (
	ContentProtobuf = "application/x-protobuf"
	ContentJSON     = "application/json"
)

// Decode decodes an OTLP ExportTraceServiceRequest body of the given
// content type (ContentProtobuf or ContentJSON; parameters such as
// charset are ignored).
func Decode(body []byte, contentType string) (ptrace.Traces, error) {
	req := ptraceotlp.NewExportRequest()
	mt, _, _ := strings.Cut(contentType, ";")
	switch strings.ToLower(strings.TrimSpace(mt)) {
	case ContentProtobuf:
		if err := req.UnmarshalProto(body); err != nil {
			return ptrace.Traces{}, fmt.Errorf("invalid OTLP protobuf: %w", err)
		}
	case ContentJSON:
		if err := req.UnmarshalJSON(body); err != nil {
			return ptrace.Traces{}, fmt.Errorf("invalid OTLP JSON: %w", err)
		}
	default:
		return ptrace.Traces{}, fmt.Errorf("unsupported content type %q (want %s or %s)", contentType, ContentProtobuf, ContentJSON)
	}
	return req.Traces(), nil
}

// Records converts every span of td to a traces.Record. The record's
// variant is the resource's service.name, its example id the span's
// session (session.id or gen_ai.conversation.id) when it has one; runID
// names the collection. It fails on a span without a valid trace or span
// id.
func Records(td ptrace.Traces, runID string) ([]traces.Record, error) {
	var out []traces.Record
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		res := rs.Resource().Attributes().AsRaw()
		service, _ := res["service.name"].(string)
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				sp := spans.At(k)
				if sp.TraceID().IsEmpty() || sp.SpanID().IsEmpty() {
					return nil, fmt.Errorf("resource %d, scope %d, span %d (%q): no trace or span id", i, j, k, sp.Name())
				}
				s := convert(sp, res, ss.Scope().Name())
				rec := traces.Record{RunID: runID, Variant: service, Span: s}
				if sess, ok := s.Attributes["session_id"].(string); ok {
					rec.ExampleID = sess
				}
				out = append(out, rec)
			}
		}
	}
	return out, nil
}

// SpanData is a span as OpenTelemetry describes it, whatever carried it
// (an OTLP request, or an SDK's span in process): Convert maps it to
// gavel's span model.
type SpanData struct {
	TraceID, SpanID, ParentID string // hex; ParentID empty for a root
	Name                      string
	Start, End                time.Time
	Attributes                map[string]any
	Resource                  map[string]any
	Scope                     string
	// OTelKind is the span's OpenTelemetry kind (internal, client, ...).
	OTelKind string
	// Error is true when the span's status is ERROR; StatusMessage is the
	// status's description.
	Error         bool
	StatusMessage string
	Events        []Event
}

// Event is a span event: a name and its attributes.
type Event struct {
	Name       string
	Attributes map[string]any
}

// convert maps one OTLP span to a gavel span.
func convert(sp ptrace.Span, resource map[string]any, scope string) traces.Span {
	d := SpanData{
		TraceID: sp.TraceID().String(), SpanID: sp.SpanID().String(), Name: sp.Name(),
		Start: sp.StartTimestamp().AsTime(), End: sp.EndTimestamp().AsTime(),
		Attributes: sp.Attributes().AsRaw(), Resource: resource, Scope: scope,
		OTelKind: strings.ToLower(strings.TrimPrefix(sp.Kind().String(), "SPAN_KIND_")),
		Error:    sp.Status().Code() == ptrace.StatusCodeError, StatusMessage: sp.Status().Message(),
	}
	if !sp.ParentSpanID().IsEmpty() {
		d.ParentID = sp.ParentSpanID().String()
	}
	events := sp.Events()
	for i := 0; i < events.Len(); i++ {
		d.Events = append(d.Events, Event{Name: events.At(i).Name(), Attributes: events.At(i).Attributes().AsRaw()})
	}
	return Convert(d)
}

// Convert maps an OpenTelemetry span to a gavel span: its kind from
// OpenInference's or the GenAI conventions' attributes, its input and
// output, its error, and gavel's names for model, provider, tokens, user
// and session beside the attributes as they were.
func Convert(d SpanData) traces.Span {
	attrs := make(map[string]any, len(d.Attributes))
	for k, v := range d.Attributes {
		attrs[k] = v
	}
	s := traces.Span{
		TraceID: d.TraceID, SpanID: d.SpanID, ParentID: d.ParentID, Name: d.Name,
		Start: d.Start.UTC(), End: d.End.UTC(), Status: traces.StatusOK, Kind: kindOf(d.Name, attrs),
	}
	if s.End.Before(s.Start) {
		s.End = s.Start
	}
	if d.Error {
		s.Status = traces.StatusError
		s.Error = d.StatusMessage
	}
	for _, ev := range d.Events {
		switch ev.Name {
		case "exception":
			if s.Status == traces.StatusError && s.Error == "" {
				s.Error = joinNonEmpty(": ", str(ev.Attributes["exception.type"]), str(ev.Attributes["exception.message"]))
			}
		case "gen_ai.content.prompt":
			if _, ok := attrs["gen_ai.prompt"]; !ok {
				attrs["gen_ai.prompt"] = ev.Attributes["gen_ai.prompt"]
			}
		case "gen_ai.content.completion":
			if _, ok := attrs["gen_ai.completion"]; !ok {
				attrs["gen_ai.completion"] = ev.Attributes["gen_ai.completion"]
			}
		}
	}
	if s.Status == traces.StatusError && s.Error == "" {
		s.Error = "error"
	}
	s.Input = firstText(attrs, "input.value", "gen_ai.input.messages", "gen_ai.prompt")
	s.Output = firstText(attrs, "output.value", "gen_ai.output.messages", "gen_ai.completion")
	s.Attributes = normalized(attrs)
	if v, ok := d.Resource["service.name"]; ok {
		s.Attributes["service.name"] = v
	}
	if d.Scope != "" {
		s.Attributes["otel.scope.name"] = d.Scope
	}
	if d.OTelKind != "" {
		s.Attributes["otel.span.kind"] = d.OTelKind
	}
	return s
}

// openInferenceKinds maps openinference.span.kind to gavel's kinds.
var openInferenceKinds = map[string]traces.Kind{
	"LLM": traces.KindLLM, "CHAIN": traces.KindChain, "RETRIEVER": traces.KindRetriever, "RERANKER": traces.KindRetriever,
	"TOOL": traces.KindTool, "EMBEDDING": traces.KindEmbedding, "AGENT": traces.KindAgent, "EVALUATOR": traces.KindJudge,
	"GUARDRAIL": traces.KindChain, "PROMPT": traces.KindTemplate,
}

// genAIOperations maps gen_ai.operation.name to gavel's kinds.
var genAIOperations = map[string]traces.Kind{
	"chat": traces.KindLLM, "text_completion": traces.KindLLM, "generate_content": traces.KindLLM,
	"embeddings": traces.KindEmbedding, "execute_tool": traces.KindTool,
	"invoke_agent": traces.KindAgent, "create_agent": traces.KindAgent,
}

// kindOf reads a span's kind from gavel.kind (spans gavel exported),
// else OpenInference's span kind, else the GenAI operation, else the
// presence of GenAI attributes; other spans are KindSpan.
func kindOf(name string, attrs map[string]any) traces.Kind {
	if k, ok := attrs["gavel.kind"].(string); ok && k != "" {
		return traces.Kind(k) // a span gavel exported
	}
	if k, ok := openInferenceKinds[strings.ToUpper(str(attrs["openinference.span.kind"]))]; ok {
		// OpenInference has no parser kind: LangChain's output parsers
		// (StrOutputParser, JsonOutputParser, ...) come as chains.
		if k == traces.KindChain && strings.HasSuffix(name, "OutputParser") {
			return traces.KindParser
		}
		return k
	}
	if k, ok := genAIOperations[strings.ToLower(str(attrs["gen_ai.operation.name"]))]; ok {
		return k
	}
	for _, key := range []string{"gen_ai.system", "gen_ai.provider.name", "gen_ai.request.model"} {
		if _, ok := attrs[key]; ok {
			return traces.KindLLM
		}
	}
	return traces.KindSpan
}

// normalized returns the span's attributes with gavel's names for the
// facts its reports read (model, prompt_tokens, completion_tokens,
// user_id, session_id), the original keys kept.
func normalized(attrs map[string]any) map[string]any {
	out := make(map[string]any, len(attrs)+5)
	for k, v := range attrs {
		out[k] = v
	}
	set := func(key string, from ...string) {
		if _, ok := out[key]; ok {
			return
		}
		for _, f := range from {
			if v, ok := attrs[f]; ok && v != nil && v != "" {
				out[key] = v
				return
			}
		}
	}
	set("model", "gen_ai.response.model", "gen_ai.request.model", "llm.model_name")
	set("provider", "gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system")
	set("prompt_tokens", "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt")
	set("completion_tokens", "gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens", "llm.token_count.completion")
	set("user_id", "user.id", "enduser.id")
	set("session_id", "session.id", "gen_ai.conversation.id")
	return out
}

// firstText returns the first of keys that attrs holds, as text (JSON for
// a structured value).
func firstText(attrs map[string]any, keys ...string) string {
	for _, k := range keys {
		v, ok := attrs[k]
		if !ok || v == nil {
			continue
		}
		if s, ok := v.(string); ok {
			return s
		}
		b, err := json.Marshal(v)
		if err == nil {
			return string(b)
		}
	}
	return ""
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func joinNonEmpty(sep string, parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, sep)
}
