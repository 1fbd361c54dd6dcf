package otlp_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/gavel-eval/gavel/otlp"
)

// BenchmarkReceive posts requests of 10,000 llm spans (protobuf) to the
// receiver over HTTP until a million spans are stored, and reports spans
// per second and the highest live heap (sampled after a collection every
// ten requests).
func BenchmarkReceive(b *testing.B) {
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty()
	for i := range 10_000 {
		sp := ss.Spans().AppendEmpty()
		sp.SetTraceID(pcommon.TraceID([16]byte{byte(i), byte(i >> 8), 1}))
		sp.SetSpanID(pcommon.SpanID([8]byte{byte(i), byte(i >> 8), 2}))
		sp.SetName("chat gpt-4o-mini")
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(t0))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(t0.Add(time.Second)))
		a := sp.Attributes()
		a.PutStr("gen_ai.operation.name", "chat")
		a.PutStr("gen_ai.request.model", "gpt-4o-mini")
		a.PutInt("gen_ai.usage.input_tokens", 120)
		a.PutInt("gen_ai.usage.output_tokens", 40)
		a.PutStr("input.value", `[{"role":"user","content":"What is the capital of France? Answer in one word."}]`)
		a.PutStr("output.value", "Paris")
	}
	body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		b.Fatal(err)
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var peak uint64
	for b.Loop() {
		sink, err := otlp.NewSink(b.TempDir(), otlp.SinkOptions{})
		if err != nil {
			b.Fatal(err)
		}
		srv := httptest.NewServer(otlp.Handler(sink, otlp.HandlerOptions{}))
		for i := range 100 {
			resp, err := http.Post(srv.URL+otlp.TracesPath, otlp.ContentProtobuf, bytes.NewReader(body))
			if err != nil || resp.StatusCode != 200 {
				b.Fatalf("post: %v %v", resp, err)
			}
			resp.Body.Close()
			if i%10 == 9 {
				runtime.GC()
				metrics.Read(sample)
				peak = max(peak, sample[0].Value.Uint64())
			}
		}
		srv.Close()
		if err := sink.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(1_000_000*b.N)/b.Elapsed().Seconds(), "spans/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-live-MiB")
	b.ReportMetric(float64(len(body))/(1<<20), "MiB/request")
}
