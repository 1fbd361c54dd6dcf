package cli

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/otlp"
	"github.com/gavel-eval/gavel/traces"
)

// otlpRequest is an export of one llm span in JSON.
func otlpRequest(t *testing.T, id byte) []byte {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "app")
	sp := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sp.SetTraceID(pcommon.TraceID([16]byte{id, 1}))
	sp.SetSpanID(pcommon.SpanID([8]byte{id, 2}))
	sp.SetName("chat")
	sp.Attributes().PutStr("gen_ai.operation.name", "chat")
	sp.SetStartTimestamp(pcommon.NewTimestampFromTime(time.Unix(1_700_000_000, 0)))
	sp.SetEndTimestamp(pcommon.NewTimestampFromTime(time.Unix(1_700_000_001, 0)))
	b, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// gavel collect stores what it received and, on shutdown, completes its
// file and prints it.
func TestCollectFlushesOnShutdown(t *testing.T) {
	out := filepath.Join(t.TempDir(), "traces")
	env, stdout, stderr := testEnv()
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	done := make(chan error, 1)
	opts := &collectOptions{addr: "127.0.0.1:0", out: out, maxBody: 1 << 20, rollRows: 1000, rollEvery: time.Hour, ready: func(u string) { urls <- u }}
	go func() { done <- runCollect(ctx, env, opts) }()
	var url string
	select {
	case url = <-urls:
	case err := <-done:
		t.Fatalf("collect ended: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("collect did not start")
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("listening at %s", url)
	}
	for i := byte(1); i <= 3; i++ {
		resp, err := http.Post(url+"/v1/traces", "application/json", bytes.NewReader(otlpRequest(t, i)))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("post: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("collect: %v\n%s", err, stderr)
	}
	files := strings.Fields(stdout.String())
	if len(files) != 1 || !strings.Contains(stderr.String(), "3 spans in 1 files") {
		t.Fatalf("stdout %q stderr %q", stdout, stderr)
	}
	n := 0
	if err := traces.ReadFile(files[0], func(r traces.Record) error {
		n++
		if r.Kind != traces.KindLLM || r.Variant != "app" || !strings.HasPrefix(r.RunID, "collect-") {
			t.Errorf("span %+v", r)
		}
		return nil
	}); err != nil || n != 3 {
		t.Fatalf("read back %d spans: %v", n, err)
	}
}

func TestImport(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "export.jsonl")
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(good, append(append(otlpRequest(t, 1), '\n'), otlpRequest(t, 2)...), 0o644)
	os.WriteFile(bad, append(append(otlpRequest(t, 3), '\n'), []byte(`{"resourceSpans": 7}`)...), 0o644)
	out := filepath.Join(dir, "out")
	env, stdout, stderr := testEnv()
	if code := Main(context.Background(), []string{"import", good, "--out", out}, env); code != ExitOK {
		t.Fatalf("import: %d %s", code, stderr)
	}
	if !strings.Contains(stderr.String(), "2 spans from 1 files") || len(strings.Fields(stdout.String())) != 1 {
		t.Fatalf("stdout %q stderr %q", stdout, stderr)
	}
	out2 := filepath.Join(dir, "out2")
	env, _, stderr = testEnv()
	if code := Main(context.Background(), []string{"import", good, bad, "--out", out2}, env); code != ExitError || !strings.Contains(stderr.String(), "bad.jsonl line 2") {
		t.Fatalf("a bad file: %d %s", code, stderr)
	}
	if _, err := os.Stat(out2); !os.IsNotExist(err) {
		t.Fatalf("a failed import wrote %s: %v", out2, err)
	}
}

// A run exported with gavel export and received by gavel collect keeps
// its span tree: ids, parents, names, kinds, statuses, inputs, outputs and
// attributes, with the scores as events on the root spans.
func TestExportCollectRoundTrip(t *testing.T) {
	run := filepath.Join(t.TempDir(), "run")
	env, _, stderr := testEnv()
	if code := Main(context.Background(), []string{"run", "../../examples/arithmetic/gavel.yaml", "--out", run, "--limit", "3"}, env); code != ExitOK {
		t.Fatalf("run: %d %s", code, stderr)
	}
	var want []traces.Record
	if err := traces.ReadFile(filepath.Join(run, "traces.parquet"), func(r traces.Record) error {
		want = append(want, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "collected")
	cenv, cstdout, cstderr := testEnv()
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- runCollect(ctx, cenv, &collectOptions{addr: "127.0.0.1:0", out: out, maxBody: 16 << 20, rollRows: 1 << 20, rollEvery: time.Hour, ready: func(u string) { urls <- u }})
	}()
	url := <-urls
	eenv, _, estderr := testEnv()
	if code := Main(context.Background(), []string{"export", "--otlp", url, run}, eenv); code != ExitOK {
		t.Fatalf("export: %d %s", code, estderr)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("collect: %v %s", err, cstderr)
	}
	got := map[string]traces.Record{}
	for _, f := range strings.Fields(cstdout.String()) {
		if err := traces.ReadFile(f, func(r traces.Record) error {
			got[r.SpanID] = r
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != len(want) || len(want) == 0 {
		t.Fatalf("%d spans collected, %d exported", len(got), len(want))
	}
	events := 0
	for _, w := range want {
		g, ok := got[w.SpanID]
		if !ok {
			t.Fatalf("span %s (%s) lost", w.SpanID, w.Name)
		}
		if g.TraceID != w.TraceID || g.ParentID != w.ParentID || g.Name != w.Name || g.Kind != w.Kind || g.Status != w.Status ||
			g.Error != w.Error || g.Input != w.Input || g.Output != w.Output || !g.Start.Equal(w.Start) || !g.End.Equal(w.End) {
			t.Errorf("span %s: got %+v\nwant %+v", w.SpanID, g.Span, w.Span)
		}
		for k, v := range w.Attributes {
			if gv := g.Attributes[k]; !reflect.DeepEqual(gv, v) {
				t.Errorf("span %s attribute %s: %v (%T), want %v (%T)", w.Name, k, gv, gv, v, v)
			}
		}
		if g.Variant != "gavel" {
			t.Errorf("span %s variant %q", w.Name, g.Variant)
		}
		if w.ParentID == "" && w.Kind == traces.KindChain {
			events++
		}
	}
	if events == 0 {
		t.Fatal("no chain roots")
	}
}

// gavel score --traces judges collected traces: the root spans' outputs
// by default, the spans of a kind with --span-kind, a stable sample with
// --sample-rate; each result's example id is its trace id.
func TestScoreTraces(t *testing.T) {
	dir := t.TempDir()
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty()
	outputs := []string{"Paris", "Lyon", "It is Paris.", "Nice", "Paris!", "Rome"}
	for i, out := range outputs {
		root := ss.Spans().AppendEmpty()
		root.SetTraceID(pcommon.TraceID([16]byte{byte(i + 1)}))
		root.SetSpanID(pcommon.SpanID([8]byte{byte(i + 1), 1}))
		root.SetName("answer")
		root.Attributes().PutStr("openinference.span.kind", "CHAIN")
		root.Attributes().PutStr("output.value", out)
		root.SetStartTimestamp(pcommon.NewTimestampFromTime(time.Unix(1_700_000_000, 0)))
		root.SetEndTimestamp(pcommon.NewTimestampFromTime(time.Unix(1_700_000_002, 0)))
		llm := ss.Spans().AppendEmpty()
		llm.SetTraceID(root.TraceID())
		llm.SetSpanID(pcommon.SpanID([8]byte{byte(i + 1), 2}))
		llm.SetParentSpanID(root.SpanID())
		llm.SetName("chat")
		llm.Attributes().PutStr("gen_ai.operation.name", "chat")
		llm.Attributes().PutStr("gen_ai.output.messages", "draft: Paris")
	}
	b, _ := ptraceotlp.NewExportRequestFromTraces(td).MarshalJSON()
	file := filepath.Join(dir, "export.json")
	os.WriteFile(file, b, 0o644)
	spans := filepath.Join(dir, "spans")
	env, _, stderr := testEnv()
	if code := Main(context.Background(), []string{"import", file, "--out", spans}, env); code != ExitOK {
		t.Fatalf("import: %s", stderr)
	}
	spec := filepath.Join(dir, "online.yaml")
	os.WriteFile(spec, []byte("name: online\nscore: {output: output, latency_ms: \"{{.example.duration_ms}}\"}\njudges:\n  - {name: paris, type: contains, value: Paris}\n"), 0o644)
	score := func(extra ...string) []results.Result {
		t.Helper()
		out := filepath.Join(t.TempDir(), "run")
		env, _, stderr := testEnv()
		if code := Main(context.Background(), append([]string{"score", "--traces", spans, "--spec", spec, "--out", out}, extra...), env); code != ExitOK {
			t.Fatalf("score %v: %d %s", extra, code, stderr)
		}
		var rs []results.Result
		if err := results.ReadResults(filepath.Join(out, results.ResultsFile), func(r results.Result) error {
			rs = append(rs, r)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		var passed int
		if err := results.ReadScores(filepath.Join(out, results.ScoresFile), func(s results.Score) error {
			if s.Pass != nil && *s.Pass {
				passed++
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if extra == nil && passed != 3 {
			t.Errorf("%d roots mention Paris, want 3", passed)
		}
		if len(extra) > 0 && extra[0] == "--span-kind" && passed != len(rs) {
			t.Errorf("%d of %d llm spans passed, want all", passed, len(rs))
		}
		return rs
	}
	roots := score()
	if len(roots) != 6 || roots[0].LatencyMS != 2000 {
		t.Fatalf("%d roots, latency %v", len(roots), roots[0].LatencyMS)
	}
	for _, r := range roots {
		if len(r.ExampleID) != 32 || !strings.Contains(r.Input, r.ExampleID) {
			t.Errorf("example id %q is not the trace id in %s", r.ExampleID, r.Input)
		}
	}
	if llm := score("--span-kind", "llm"); len(llm) != 6 || !strings.Contains(llm[0].ExampleID, "/") {
		t.Fatalf("llm spans: %d, id %q", len(llm), llm[0].ExampleID)
	}
	a, b2 := score("--sample-rate", "0.5"), score("--sample-rate", "0.5")
	if len(a) == 0 || len(a) == 6 || len(a) != len(b2) {
		t.Fatalf("samples of %d and %d traces", len(a), len(b2))
	}
	for i := range a {
		if a[i].ExampleID != b2[i].ExampleID {
			t.Fatal("the sample is not stable")
		}
	}
	env, _, stderr = testEnv()
	if code := Main(context.Background(), []string{"score", "--traces", spans, "--spec", spec, "--span-name", "nope"}, env); code != ExitError || !strings.Contains(stderr.String(), "no span matches") {
		t.Fatalf("no match: %d %s", code, stderr)
	}
}

// gavel run --otlp-endpoint sends the run's traces after it; a collector
// that is down leaves the run stored with a warning.
func TestRunOTLPEndpoint(t *testing.T) {
	dir := t.TempDir()
	sink, err := otlp.NewSink(dir, otlp.SinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(otlp.Handler(sink, otlp.HandlerOptions{}))
	defer srv.Close()
	env, _, stderr := testEnv()
	if code := Main(context.Background(), []string{"run", "../../examples/arithmetic/gavel.yaml", "--out", filepath.Join(t.TempDir(), "run"), "--limit", "2", "--otlp-endpoint", srv.URL}, env); code != ExitOK {
		t.Fatalf("run: %d %s", code, stderr)
	}
	if sink.Spans() == 0 || !strings.Contains(stderr.String(), "gavel: export:") {
		t.Fatalf("%d spans received; stderr %s", sink.Spans(), stderr)
	}
	env, _, stderr = testEnv()
	if code := Main(context.Background(), []string{"run", "../../examples/arithmetic/gavel.yaml", "--out", filepath.Join(t.TempDir(), "run"), "--limit", "1", "--otlp-endpoint", "http://127.0.0.1:1"}, env); code != ExitOK || !strings.Contains(stderr.String(), "warning: the run is stored") {
		t.Fatalf("collector down: %d %s", code, stderr)
	}
}

// The first Ctrl-C or SIGTERM (env.Drain, as cmd/gavel closes it) stops
// gavel collect and completes its file, as a cancelled context does.
func TestCollectStopsOnInterrupt(t *testing.T) {
	out := filepath.Join(t.TempDir(), "traces")
	env, stdout, stderr := testEnv()
	drain := make(chan struct{})
	env.Drain = drain
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- runCollect(context.Background(), env, &collectOptions{addr: "127.0.0.1:0", out: out, maxBody: 1 << 20, rollRows: 1000, rollEvery: time.Hour, ready: func(u string) { urls <- u }})
	}()
	url := <-urls
	resp, err := http.Post(url+"/v1/traces", "application/json", bytes.NewReader(otlpRequest(t, 1)))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("post: %v %v", resp, err)
	}
	resp.Body.Close()
	close(drain)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("collect: %v\n%s", err, stderr)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("collect did not stop on an interrupt")
	}
	if files := strings.Fields(stdout.String()); len(files) != 1 {
		t.Fatalf("files %q, stderr %s", stdout, stderr)
	}
}
