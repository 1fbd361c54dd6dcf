package otlp

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/gavel-eval/gavel/traces"
)

// ScoreEvent is a judge's verdict on a trace, exported as a span event
// named gavel.score on the trace's root span.
type ScoreEvent struct {
	TraceID, Judge, JudgeType string
	Score                     *float64
	Pass                      *bool
	Label, Reason, Status     string
}

// gavelKinds maps gavel's span kinds to OpenInference's, for export.
var gavelKinds = map[traces.Kind]string{
	traces.KindLLM: "LLM", traces.KindChain: "CHAIN", traces.KindRetriever: "RETRIEVER", traces.KindTool: "TOOL",
	traces.KindEmbedding: "EMBEDDING", traces.KindAgent: "AGENT", traces.KindJudge: "EVALUATOR",
	traces.KindTemplate: "PROMPT", traces.KindParser: "CHAIN",
}

// ToTraces converts gavel span records to OTLP, one resource per run and
// variant (service.name "gavel", gavel.run_id, gavel.variant), with the
// GenAI and OpenInference attributes other tools read (span kind, input,
// output, model, token counts) beside gavel's own, gavel.kind keeping the
// kind exactly, and scores as gavel.score events on their trace's root
// span. It fails on ids that are not hex of the right length.
func ToTraces(recs []traces.Record, scores map[string][]ScoreEvent) (ptrace.Traces, error) {
	td := ptrace.NewTraces()
	type key struct{ run, variant string }
	scopes := map[key]ptrace.SpanSlice{}
	for _, r := range recs {
		k := key{r.RunID, r.Variant}
		spans, ok := scopes[k]
		if !ok {
			rs := td.ResourceSpans().AppendEmpty()
			ra := rs.Resource().Attributes()
			ra.PutStr("service.name", "gavel")
			ra.PutStr("gavel.run_id", r.RunID)
			ra.PutStr("gavel.variant", r.Variant)
			ss := rs.ScopeSpans().AppendEmpty()
			ss.Scope().SetName("gavel")
			spans = ss.Spans()
			scopes[k] = spans
		}
		sp := spans.AppendEmpty()
		tid, err := traceIDOf(r.TraceID)
		if err != nil {
			return td, fmt.Errorf("span %s: trace id: %w", r.SpanID, err)
		}
		sid, err := spanIDOf(r.SpanID)
		if err != nil {
			return td, fmt.Errorf("span %s: span id: %w", r.SpanID, err)
		}
		sp.SetTraceID(tid)
		sp.SetSpanID(sid)
		if r.ParentID != "" {
			pid, err := spanIDOf(r.ParentID)
			if err != nil {
				return td, fmt.Errorf("span %s: parent id: %w", r.SpanID, err)
			}
			sp.SetParentSpanID(pid)
		}
		sp.SetName(r.Name)
		sp.SetKind(ptrace.SpanKindInternal)
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(r.Start))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(r.End))
		a := sp.Attributes()
		for k, v := range r.Attributes {
			putAttr(a, k, v)
		}
		a.PutStr("gavel.kind", string(r.Kind))
		if oi, ok := gavelKinds[r.Kind]; ok {
			a.PutStr("openinference.span.kind", oi)
		}
		if r.ExampleID != "" {
			a.PutStr("gavel.example_id", r.ExampleID)
		}
		a.PutInt("gavel.epoch", int64(r.Epoch))
		if r.Input != "" {
			a.PutStr("input.value", r.Input)
		}
		if r.Output != "" {
			a.PutStr("output.value", r.Output)
		}
		if r.Kind == traces.KindLLM {
			a.PutStr("gen_ai.operation.name", "chat")
			if m, ok := r.Attributes["model"].(string); ok {
				a.PutStr("gen_ai.request.model", m)
			}
			if n, ok := number(r.Attributes["prompt_tokens"]); ok {
				a.PutInt("gen_ai.usage.input_tokens", n)
			}
			if n, ok := number(r.Attributes["completion_tokens"]); ok {
				a.PutInt("gen_ai.usage.output_tokens", n)
			}
		}
		if r.Status == traces.StatusError {
			sp.Status().SetCode(ptrace.StatusCodeError)
			sp.Status().SetMessage(r.Error)
		} else {
			sp.Status().SetCode(ptrace.StatusCodeOk)
		}
		if r.ParentID == "" && r.Kind != traces.KindJudge {
			for _, s := range scores[r.TraceID] {
				ev := sp.Events().AppendEmpty()
				ev.SetName("gavel.score")
				ev.SetTimestamp(pcommon.NewTimestampFromTime(r.End))
				ea := ev.Attributes()
				ea.PutStr("gavel.judge", s.Judge)
				ea.PutStr("gavel.judge_type", s.JudgeType)
				ea.PutStr("gavel.score_status", s.Status)
				if s.Score != nil {
					ea.PutDouble("gavel.score", *s.Score)
				}
				if s.Pass != nil {
					ea.PutBool("gavel.pass", *s.Pass)
				}
				if s.Label != "" {
					ea.PutStr("gavel.label", s.Label)
				}
				if s.Reason != "" {
					ea.PutStr("gavel.reason", s.Reason)
				}
			}
		}
	}
	return td, nil
}

func traceIDOf(s string) (pcommon.TraceID, error) {
	var id pcommon.TraceID
	err := decodeHex(id[:], s)
	return id, err
}

func spanIDOf(s string) (pcommon.SpanID, error) {
	var id pcommon.SpanID
	err := decodeHex(id[:], s)
	return id, err
}

// decodeHex fills dst from the hex string s, which must be exactly as long.
func decodeHex(dst []byte, s string) error {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(dst) {
		return fmt.Errorf("%q is not %d hex bytes", s, len(dst))
	}
	copy(dst, b)
	return nil
}

func number(v any) (int64, bool) {
	switch x := v.(type) {
	case float64:
		return int64(x), true
	case int64:
		return x, true
	case int:
		return int64(x), true
	}
	return 0, false
}

// putAttr sets a JSON-like value as an attribute.
func putAttr(m pcommon.Map, k string, v any) {
	switch x := v.(type) {
	case string:
		m.PutStr(k, x)
	case bool:
		m.PutBool(k, x)
	case float64:
		if x == float64(int64(x)) && x < 1<<53 && x > -(1<<53) {
			m.PutInt(k, int64(x))
		} else {
			m.PutDouble(k, x)
		}
	case int64:
		m.PutInt(k, x)
	case nil:
	default:
		_ = m.PutEmpty(k).FromRaw(x)
	}
}

// TracesURL returns the OTLP/HTTP traces URL of endpoint: a URL with a
// path is used as it is; a bare host (http://host:4318) gets /v1/traces,
// as OTEL_EXPORTER_OTLP_ENDPOINT is read.
func TracesURL(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("OTLP endpoint %q: want an http:// or https:// URL", endpoint)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = TracesPath
	}
	return u.String(), nil
}

// Post sends td to an OTLP/HTTP traces URL as protobuf and fails unless
// it is accepted (2xx), with the receiver's reason.
func Post(ctx context.Context, client *http.Client, tracesURL string, td ptrace.Traces) error {
	body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tracesURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", ContentProtobuf)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("OTLP export to %s: %w", tracesURL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("OTLP export to %s: %s: %s", tracesURL, resp.Status, strings.TrimSpace(string(b)))
	}
	return nil
}
