package otlp_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/gavel-eval/gavel/otlp"
	"github.com/gavel-eval/gavel/traces"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// appTraces is one trace of a LangChain-like application: a chain with an
// llm call (OpenInference), a retriever, an embedding and a tool (GenAI),
// an agent, a span with no GenAI attributes, and a failed llm call.
func appTraces() ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "support-bot")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("openinference.instrumentation.langchain")
	tid := pcommon.TraceID([16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	add := func(id byte, parent byte, name string, attrs map[string]any, ms int) ptrace.Span {
		sp := ss.Spans().AppendEmpty()
		sp.SetTraceID(tid)
		sp.SetSpanID(pcommon.SpanID([8]byte{0, 0, 0, 0, 0, 0, 0, id}))
		if parent != 0 {
			sp.SetParentSpanID(pcommon.SpanID([8]byte{0, 0, 0, 0, 0, 0, 0, parent}))
		}
		sp.SetName(name)
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(t0))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(t0.Add(time.Duration(ms) * time.Millisecond)))
		_ = sp.Attributes().FromRaw(attrs)
		return sp
	}
	add(1, 0, "RunnableSequence", map[string]any{"openinference.span.kind": "CHAIN", "input.value": `{"question":"hi"}`, "output.value": "hello", "session.id": "s-1", "user.id": "u-7"}, 900)
	add(2, 1, "ChatOpenAI", map[string]any{"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini", "llm.token_count.prompt": 12, "llm.token_count.completion": 3, "output.value": "hello"}, 400)
	add(3, 1, "retrieve", map[string]any{"openinference.span.kind": "RETRIEVER"}, 50)
	add(4, 1, "embeddings text-embedding-3-small", map[string]any{"gen_ai.operation.name": "embeddings", "gen_ai.request.model": "text-embedding-3-small"}, 20)
	add(5, 1, "execute_tool search", map[string]any{"gen_ai.operation.name": "execute_tool"}, 30)
	add(6, 1, "invoke_agent planner", map[string]any{"gen_ai.operation.name": "invoke_agent"}, 60)
	add(7, 1, "db.query", map[string]any{"db.system": "postgresql"}, 5)
	failed := add(8, 1, "chat gpt-4o", map[string]any{"gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 9, "gen_ai.usage.output_tokens": 0}, 10)
	failed.Status().SetCode(ptrace.StatusCodeError)
	ev := failed.Events().AppendEmpty()
	ev.SetName("exception")
	ev.Attributes().PutStr("exception.type", "RateLimitError")
	ev.Attributes().PutStr("exception.message", "429 Too Many Requests")
	return td
}

func TestRecordsMapGenAIAndOpenInference(t *testing.T) {
	recs, err := otlp.Records(appTraces(), "collect-1")
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]traces.Record{}
	for _, r := range recs {
		byID[r.SpanID[len(r.SpanID)-2:]] = r
	}
	for _, tc := range []struct {
		id     string
		kind   traces.Kind
		parent string
	}{
		{"01", traces.KindChain, ""}, {"02", traces.KindLLM, "0000000000000001"}, {"03", traces.KindRetriever, "0000000000000001"},
		{"04", traces.KindEmbedding, "0000000000000001"}, {"05", traces.KindTool, "0000000000000001"}, {"06", traces.KindAgent, "0000000000000001"},
		{"07", traces.KindSpan, "0000000000000001"}, {"08", traces.KindLLM, "0000000000000001"},
	} {
		r := byID[tc.id]
		if r.Kind != tc.kind || r.ParentID != tc.parent || r.TraceID != "0102030405060708090a0b0c0d0e0f10" {
			t.Errorf("span %s: kind %q parent %q trace %q; want %q %q", tc.id, r.Kind, r.ParentID, r.TraceID, tc.kind, tc.parent)
		}
		if r.Variant != "support-bot" || r.RunID != "collect-1" {
			t.Errorf("span %s: variant %q run %q", tc.id, r.Variant, r.RunID)
		}
	}
	root := byID["01"]
	if root.Input != `{"question":"hi"}` || root.Output != "hello" || root.ExampleID != "s-1" || root.Attributes["user_id"] != "u-7" {
		t.Errorf("root: %+v", root)
	}
	if d := root.End.Sub(root.Start); d != 900*time.Millisecond {
		t.Errorf("root duration %v", d)
	}
	llm := byID["02"]
	if llm.Attributes["model"] != "gpt-4o-mini" || llm.Attributes["prompt_tokens"] != int64(12) || llm.Attributes["completion_tokens"] != int64(3) {
		t.Errorf("llm attributes %v", llm.Attributes)
	}
	bad := byID["08"]
	if bad.Status != traces.StatusError || bad.Error != "RateLimitError: 429 Too Many Requests" || bad.Attributes["prompt_tokens"] != int64(9) || bad.Attributes["model"] != "gpt-4o" {
		t.Errorf("failed span: %+v", bad)
	}
	if byID["07"].Status != traces.StatusOK {
		t.Errorf("plain span status %q", byID["07"].Status)
	}
}

// post sends body to the receiver and returns the status and body.
func post(t *testing.T, url, contentType, encoding string, body []byte, hdr ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+otlp.TracesPath, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

func gz(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readSpans reads back every span of the sink's files.
func readSpans(t *testing.T, files []string) []traces.Record {
	t.Helper()
	var out []traces.Record
	for _, f := range files {
		if err := traces.ReadFile(f, func(r traces.Record) error {
			out = append(out, r)
			return nil
		}); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	return out
}

func TestHandler(t *testing.T) {
	dir := t.TempDir()
	sink, err := otlp.NewSink(dir, otlp.SinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(otlp.Handler(sink, otlp.HandlerOptions{MaxBody: 64 << 10, RunID: "c"}))
	defer srv.Close()
	req := ptraceotlp.NewExportRequestFromTraces(appTraces())
	pb, _ := req.MarshalProto()
	js, _ := req.MarshalJSON()

	// Good requests, in both encodings, plain and gzip.
	for _, tc := range []struct {
		ct, enc string
		body    []byte
	}{{otlp.ContentProtobuf, "", pb}, {otlp.ContentJSON, "", js}, {otlp.ContentProtobuf, "gzip", gz(t, pb)}, {"application/json; charset=utf-8", "gzip", gz(t, js)}} {
		code, body := post(t, srv.URL, tc.ct, tc.enc, tc.body)
		if code != http.StatusOK {
			t.Fatalf("%s %s: %d %s", tc.ct, tc.enc, code, body)
		}
		resp := ptraceotlp.NewExportResponse()
		var err error
		if strings.HasPrefix(tc.ct, otlp.ContentJSON) {
			err = resp.UnmarshalJSON([]byte(body))
		} else {
			err = resp.UnmarshalProto([]byte(body))
		}
		if err != nil {
			t.Errorf("%s %s: the response is no ExportTraceServiceResponse: %v", tc.ct, tc.enc, err)
		}
	}
	stored := sink.Spans()
	if stored != 4*8 {
		t.Fatalf("%d spans stored, want 32", stored)
	}

	// Refused requests store nothing.
	big := bytes.Repeat([]byte("x"), 1<<20)
	bomb := ptraceotlp.NewExportRequestFromTraces(func() ptrace.Traces {
		td := appTraces()
		td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().PutStr("input.value", string(big))
		return td
	}())
	bombPB, _ := bomb.MarshalProto()
	for _, tc := range []struct {
		name, ct, enc string
		body          []byte
		hdr           []string
		code          int
		reason        string
	}{
		{"malformed protobuf", otlp.ContentProtobuf, "", []byte{0xff, 0xff, 0xff, 0x01}, nil, 400, "invalid OTLP protobuf"},
		{"malformed JSON", otlp.ContentJSON, "", []byte(`{"resourceSpans": [`), nil, 400, "invalid OTLP JSON"},
		{"truncated protobuf", otlp.ContentProtobuf, "", pb[:len(pb)/2], nil, 400, "invalid OTLP protobuf"},
		{"oversized", otlp.ContentProtobuf, "", bombPB, nil, 400, "size limit"},
		{"oversized once gunzipped", otlp.ContentProtobuf, "gzip", gz(t, bombPB), nil, 400, "size limit"},
		{"bad gzip", otlp.ContentProtobuf, "gzip", []byte("not gzip"), nil, 400, "gzip"},
		{"no span id", otlp.ContentJSON, "", []byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","name":"x"}]}]}]}`), nil, 400, "no trace or span id"},
		{"text/plain", "text/plain", "", js, nil, 415, "unsupported content type"},
		{"brotli", otlp.ContentJSON, "br", js, nil, 415, "unsupported content encoding"},
		{"cross-site", otlp.ContentJSON, "", js, []string{"Sec-Fetch-Site", "cross-site"}, 403, "cross-site"},
	} {
		code, body := post(t, srv.URL, tc.ct, tc.enc, tc.body, tc.hdr...)
		if code != tc.code || !strings.Contains(body, tc.reason) {
			t.Errorf("%s: %d %q, want %d and %q", tc.name, code, body, tc.code, tc.reason)
		}
		if tc.code == 400 && tc.ct == otlp.ContentJSON {
			var st struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal([]byte(body), &st); err != nil || st.Code != 3 {
				t.Errorf("%s: the reason is no OTLP Status: %q", tc.name, body)
			}
		}
	}
	if resp, err := http.Get(srv.URL + otlp.TracesPath); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %v %v", resp, err)
	}
	if sink.Spans() != stored {
		t.Fatalf("refused requests stored %d spans", sink.Spans()-stored)
	}
	// Nothing is visible until the file is complete; then everything is.
	if m, _ := filepath.Glob(filepath.Join(dir, "*.parquet")); len(m) != 0 {
		t.Fatalf("a file is visible while it is written: %v", m)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	recs := readSpans(t, sink.Files())
	if len(recs) != 32 {
		t.Fatalf("read back %d spans", len(recs))
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestSinkRolls(t *testing.T) {
	now := t0
	dir := t.TempDir()
	sink, err := otlp.NewSink(dir, otlp.SinkOptions{MaxRows: 10, MaxAge: time.Minute, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := otlp.Records(appTraces(), "r")
	for range 3 {
		if err := sink.Write(recs); err != nil { // 8 spans a batch, never split
			t.Fatal(err)
		}
	}
	if n := len(sink.Files()); n != 1 {
		t.Fatalf("%d files after 24 spans with 10 a file (batches not split)", n)
	}
	if err := sink.Write(recs); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Minute)
	if err := sink.Tick(); err != nil {
		t.Fatal(err)
	}
	if n := len(sink.Files()); n != 2 {
		t.Fatalf("%d files after the age limit", n)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if got := len(readSpans(t, sink.Files())); got != 32 {
		t.Fatalf("%d spans read back", got)
	}
	if err := sink.Write(recs); err == nil {
		t.Fatal("write after close")
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	js, _ := ptraceotlp.NewExportRequestFromTraces(appTraces()).MarshalJSON()
	one := filepath.Join(dir, "one.json")
	lines := filepath.Join(dir, "lines.jsonl")
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(one, js, 0o644)
	os.WriteFile(lines, append(append(append(js, '\n'), js...), '\n'), 0o644)
	os.WriteFile(bad, append(append(js, '\n'), []byte("{oops\n")...), 0o644)
	if tds, err := otlp.ReadFile(one); err != nil || len(tds) != 1 || tds[0].SpanCount() != 8 {
		t.Fatalf("one request: %v", err)
	}
	if tds, err := otlp.ReadFile(lines); err != nil || len(tds) != 2 {
		t.Fatalf("JSON lines: %d, %v", len(tds), err)
	}
	if _, err := otlp.ReadFile(bad); err == nil || !strings.Contains(err.Error(), "bad.jsonl line 2") {
		t.Fatalf("bad line: %v", err)
	}
}

// The OpenTelemetry Go SDK's own OTLP/HTTP exporter, the client real
// applications use, exports a nested trace with an error to the receiver.
func TestOpenTelemetrySDKExportsToTheReceiver(t *testing.T) {
	dir := t.TempDir()
	sink, err := otlp.NewSink(dir, otlp.SinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(otlp.Handler(sink, otlp.HandlerOptions{RunID: "sdk"}))
	defer srv.Close()
	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(srv.URL+otlp.TracesPath), otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
	if err != nil {
		t.Fatal(err)
	}
	res, _ := resource.New(ctx, resource.WithAttributes(attribute.String("service.name", "go-app")))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	tr := tp.Tracer("app")
	ctx1, root := tr.Start(ctx, "answer", sdktraceAttrs("openinference.span.kind", "CHAIN"))
	_, call := tr.Start(ctx1, "chat gpt-4o-mini", sdktraceAttrs("gen_ai.operation.name", "chat", "gen_ai.request.model", "gpt-4o-mini"))
	call.SetAttributes(attribute.Int("gen_ai.usage.input_tokens", 21), attribute.Int("gen_ai.usage.output_tokens", 4))
	call.RecordError(errTimeout{})
	call.SetStatus(codes.Error, "timeout")
	call.End()
	root.End()
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatalf("export: %v", err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	recs := readSpans(t, sink.Files())
	if len(recs) != 2 {
		t.Fatalf("%d spans", len(recs))
	}
	var r0, r1 traces.Record
	for _, r := range recs {
		if r.ParentID == "" {
			r0 = r
		} else {
			r1 = r
		}
	}
	if r0.Kind != traces.KindChain || r1.Kind != traces.KindLLM || r1.ParentID != r0.SpanID || r1.TraceID != r0.TraceID {
		t.Errorf("tree: %+v / %+v", r0.Span, r1.Span)
	}
	if r1.Status != traces.StatusError || r1.Error != "timeout" || r1.Attributes["prompt_tokens"] != float64(21) || r0.Variant != "go-app" {
		t.Errorf("llm span: %+v (%T, root variant %q)", r1, r1.Attributes["prompt_tokens"], r0.Variant)
	}
}

type errTimeout struct{}

func (errTimeout) Error() string { return "deadline exceeded" }

func sdktraceAttrs(kv ...string) traceStartOption {
	var attrs []attribute.KeyValue
	for i := 0; i+1 < len(kv); i += 2 {
		attrs = append(attrs, attribute.String(kv[i], kv[i+1]))
	}
	return oteltrace.WithAttributes(attrs...)
}

type traceStartOption = oteltrace.SpanStartOption

// Scores go out as gavel.score events on their trace's root span, and
// gavel's kinds as OpenInference's and gavel.kind.
func TestToTracesCarriesScores(t *testing.T) {
	score, pass := 0.5, false
	recs := []traces.Record{
		{RunID: "r", Variant: "v", ExampleID: "e", Span: traces.Span{TraceID: "0102030405060708090a0b0c0d0e0f10", SpanID: "0000000000000001", Name: "chain", Kind: traces.KindChain, Start: t0, End: t0.Add(time.Second), Status: traces.StatusOK}},
		{RunID: "r", Variant: "v", ExampleID: "e", Span: traces.Span{TraceID: "0102030405060708090a0b0c0d0e0f10", SpanID: "0000000000000002", ParentID: "0000000000000001", Name: "solve", Kind: traces.KindLLM, Start: t0, End: t0, Status: traces.StatusError, Error: "boom",
			Attributes: map[string]any{"model": "m", "prompt_tokens": float64(7)}}},
	}
	td, err := otlp.ToTraces(recs, map[string][]otlp.ScoreEvent{"0102030405060708090a0b0c0d0e0f10": {{Judge: "correct", Score: &score, Pass: &pass, Reason: "off by one"}}})
	if err != nil {
		t.Fatal(err)
	}
	spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	root, llm := spans.At(0), spans.At(1)
	if root.Events().Len() != 1 || root.Events().At(0).Name() != "gavel.score" {
		t.Fatalf("root events: %d", root.Events().Len())
	}
	ea := root.Events().At(0).Attributes().AsRaw()
	if ea["gavel.judge"] != "correct" || ea["gavel.score"] != 0.5 || ea["gavel.pass"] != false || ea["gavel.reason"] != "off by one" {
		t.Errorf("score event %v", ea)
	}
	la := llm.Attributes().AsRaw()
	if la["openinference.span.kind"] != "LLM" || la["gavel.kind"] != "llm" || la["gen_ai.request.model"] != "m" || la["gen_ai.usage.input_tokens"] != int64(7) || llm.Status().Code() != ptrace.StatusCodeError {
		t.Errorf("llm span %v %v", la, llm.Status().Code())
	}
	if _, err := otlp.ToTraces([]traces.Record{{Span: traces.Span{TraceID: "zz", SpanID: "01"}}}, nil); err == nil {
		t.Error("bad ids accepted")
	}
	for in, want := range map[string]string{"http://h:4318": "http://h:4318/v1/traces", "http://h:4318/": "http://h:4318/v1/traces", "https://h/api/otel/v1/traces": "https://h/api/otel/v1/traces"} {
		if got, err := otlp.TracesURL(in); err != nil || got != want {
			t.Errorf("TracesURL(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := otlp.TracesURL("ftp://x"); err == nil {
		t.Error("ftp accepted")
	}
}

// Two receivers on one directory, opening files in the same second, take
// different names: neither refuses a batch, and both files are whole.
func TestTwoSinksOnOneDirectory(t *testing.T) {
	dir := t.TempDir()
	clock := func() time.Time { return t0 }
	a, err := otlp.NewSink(dir, otlp.SinkOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	b, err := otlp.NewSink(dir, otlp.SinkOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := otlp.Records(appTraces(), "r")
	if err := a.Write(recs); err != nil {
		t.Fatal(err)
	}
	if err := b.Write(recs); err != nil {
		t.Fatalf("the second receiver refused a batch: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	files := append(a.Files(), b.Files()...)
	if len(files) != 2 || files[0] == files[1] {
		t.Fatalf("files %v", files)
	}
	if n := len(readSpans(t, files)); n != 16 {
		t.Fatalf("%d spans read back, want 16", n)
	}
}
