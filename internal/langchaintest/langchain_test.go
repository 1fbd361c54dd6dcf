// Package langchaintest runs a real LangChain.js application, traced with
// OpenInference's LangChain instrumentation and the OpenTelemetry SDK
// (testapps/langchain), against a local OpenAI-compatible server, and
// checks the spans that arrive at gavel's OTLP receiver. Without node or
// the app's node_modules the test skips, saying why, unless
// GAVEL_REQUIRE_TOOLS is set (CI sets it and installs the app).
package langchaintest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/otlp"
	"github.com/gavel-eval/gavel/report/traffic"
	"github.com/gavel-eval/gavel/report/view"
	"github.com/gavel-eval/gavel/traces"
)

func app(t *testing.T) (dir, node string) {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "testapps", "langchain"))
	if err != nil {
		t.Fatal(err)
	}
	node, err = exec.LookPath("node")
	missing := ""
	switch {
	case err != nil:
		missing = "node is not installed"
	default:
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "@langchain", "core")); err != nil {
			missing = "testapps/langchain has no node_modules (run npm ci --prefix testapps/langchain)"
		}
	}
	if missing != "" {
		if os.Getenv("GAVEL_REQUIRE_TOOLS") != "" {
			t.Fatalf("GAVEL_REQUIRE_TOOLS is set but %s", missing)
		}
		t.Skipf("%s: skipping the LangChain check; CI runs it", missing)
	}
	return dir, node
}

// model is an OpenAI-compatible chat server: "Paris" with usage 12 → 1,
// and a 400 error for the question "fail".
func model(t *testing.T) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Messages []struct{ Role, Content string }
		}
		json.NewDecoder(r.Body).Decode(&req)
		w.Header().Set("Content-Type", "application/json")
		if n := len(req.Messages); n > 0 && req.Messages[n-1].Content == "fail" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":{"message":"this question is refused","type":"invalid_request_error","param":null,"code":null}}`)
			return
		}
		fmt.Fprint(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1764583200,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Paris"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":1,"total_tokens":13}}`)
	}))
}

func TestLangChainAppTracesArrive(t *testing.T) {
	dir, node := app(t)
	srv := model(t)
	defer srv.Close()
	spanDir := t.TempDir()
	sink, err := otlp.NewSink(spanDir, otlp.SinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	collector := httptest.NewServer(otlp.Handler(sink, otlp.HandlerOptions{RunID: "langchain"}))
	defer collector.Close()

	cmd := exec.Command(node, "app.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "OPENAI_BASE_URL="+srv.URL+"/v1", "OTLP_URL="+collector.URL+otlp.TracesPath, "QUESTION=Capital of France?")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("node app.mjs: %v\n%s", err, stderr.String())
		}
	case <-time.After(90 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("the app did not finish\n%s", stderr.String())
	}
	var out struct{ Answer, Failed string }
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || out.Answer != "Paris" || !strings.Contains(out.Failed, "refused") {
		t.Fatalf("app output %q (%v)\n%s", stdout.String(), err, stderr.String())
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	var spans []traces.Record
	for _, f := range sink.Files() {
		if err := traces.ReadFile(f, func(r traces.Record) error {
			spans = append(spans, r)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	byTrace := map[string][]traces.Record{}
	for _, s := range spans {
		t.Logf("span %s: kind %s, status %s, parent %q", s.Name, s.Kind, s.Status, s.ParentID)
		byTrace[s.TraceID] = append(byTrace[s.TraceID], s)
	}
	if len(byTrace) != 2 {
		var names []string
		for _, s := range spans {
			names = append(names, s.Name+"/"+string(s.Kind))
		}
		t.Fatalf("%d traces, want 2 (one per chain call): %v", len(byTrace), names)
	}
	good, bad := 0, 0
	for _, tr := range byTrace {
		ids := map[string]traces.Record{}
		var root *traces.Record
		var llm *traces.Record
		for i, s := range tr {
			ids[s.SpanID] = s
			if s.ParentID == "" {
				root = &tr[i]
			}
			if s.Kind == traces.KindLLM {
				llm = &tr[i]
			}
		}
		if root == nil || llm == nil {
			t.Fatalf("a trace without a root or an llm span: %+v", tr)
		}
		for _, s := range tr {
			if s.ParentID != "" {
				if _, ok := ids[s.ParentID]; !ok {
					t.Errorf("span %s has a parent %s outside its trace", s.Name, s.ParentID)
				}
			}
			if s.Variant != "langchain-app" {
				t.Errorf("span %s: service %q", s.Name, s.Variant)
			}
		}
		kinds := map[string]traces.Kind{}
		for _, s := range tr {
			kinds[s.Name] = s.Kind
		}
		if kinds["ChatPromptTemplate"] != traces.KindTemplate || llm.Status == traces.StatusOK && kinds["StrOutputParser"] != traces.KindParser {
			t.Errorf("kinds %v", kinds)
		}
		if root.Kind != traces.KindChain || llm.ParentID != root.SpanID {
			t.Errorf("root %s (%s), llm parent %s", root.Name, root.Kind, llm.ParentID)
		}
		switch llm.Status {
		case traces.StatusOK:
			good++
			if llm.Attributes["prompt_tokens"] != float64(12) || llm.Attributes["completion_tokens"] != float64(1) || llm.Attributes["model"] == nil {
				t.Errorf("llm span attributes %v", llm.Attributes)
			}
			if !strings.Contains(llm.Output, "Paris") || !strings.Contains(llm.Input, "Capital of France?") || root.Output == "" {
				t.Errorf("llm input %q output %q; root output %q", llm.Input, llm.Output, root.Output)
			}
		case traces.StatusError:
			bad++
			if !strings.Contains(llm.Error, "refused") || root.Status != traces.StatusError {
				t.Errorf("failed call: llm error %q, root status %s", llm.Error, root.Status)
			}
		}
	}
	if good != 1 || bad != 1 {
		t.Errorf("%d answered and %d failed chain calls, want 1 and 1", good, bad)
	}

	// The trace table and the viewer show the same traffic.
	sum, err := traffic.Read(context.Background(), sink.Files(), traffic.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Traces != 2 || sum.Errors != 1 || len(sum.Table) != 2 {
		t.Fatalf("traffic: %d traces, %d errors", sum.Traces, sum.Errors)
	}
	for _, row := range sum.Table {
		if !row.Root || row.Kind != string(traces.KindChain) || row.Service != "langchain-app" || row.Status == "ok" && row.PromptTokens != 12 {
			t.Errorf("trace table row %+v", row)
		}
	}
	srvView, err := view.New([]string{spanDir}, view.Options{})
	if err != nil {
		t.Fatal(err)
	}
	viewer := httptest.NewServer(srvView.Handler())
	defer viewer.Close()
	for id, tr := range byTrace {
		resp, err := http.Get(viewer.URL + "/api/trace?run=0&trace=" + id)
		if err != nil {
			t.Fatal(err)
		}
		var got []struct {
			ID     string `json:"id"`
			Parent string `json:"p"`
			Kind   string `json:"k"`
		}
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || len(got) != len(tr) {
			t.Fatalf("viewer trace %s: %d, %d spans (%v), want %d", id, resp.StatusCode, len(got), err, len(tr))
		}
		want := map[string]traces.Record{}
		for _, s := range tr {
			want[s.SpanID] = s
		}
		for _, g := range got {
			if w := want[g.ID]; w.ParentID != g.Parent || string(w.Kind) != g.Kind {
				t.Errorf("viewer span %s: parent %q kind %q, want %q %q", g.ID, g.Parent, g.Kind, w.ParentID, w.Kind)
			}
		}
	}
	if resp, err := http.Get(viewer.URL + "/traffic?dir=0"); err != nil || resp.StatusCode != 200 {
		t.Errorf("viewer traffic page: %v %v", resp, err)
	}
}
