package eval_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"

	"github.com/gavel-eval/gavel/eval"
	"github.com/gavel-eval/gavel/observe"
	"github.com/gavel-eval/gavel/traces"
)

// An application behind an http step, instrumented with observe (on the
// OpenTelemetry SDK), continues the run's trace: its spans have the run's
// trace id and the step's span as their parent. An exec step's program
// gets the same context in TRACEPARENT.
func TestStepsPropagateTraceContext(t *testing.T) {
	appDir := filepath.Join(t.TempDir(), "app")
	tr, err := observe.Start(context.Background(), observe.Config{Service: "app", Dir: appDir})
	if err != nil {
		t.Fatal(err)
	}
	prop := propagation.TraceContext{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := prop.Extract(tr.Context(r.Context()), propagation.HeaderCarrier(r.Header))
		out, _ := observe.Do(ctx, "handle", observe.Chain, func(ctx context.Context) (string, error) {
			return observe.Do(ctx, "lookup", observe.Tool, func(context.Context) (string, error) { return "ok", nil })
		})
		json.NewEncoder(w).Encode(map[string]string{"output": out})
	}))
	defer srv.Close()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh for the exec step")
	}
	spec := `name: prop
dataset: {path: data.jsonl, id: "{{.id}}"}
variants:
  - {name: v1, model: offline/echo, prompt: x}
chain:
  - {name: call-app, kind: http, url: "` + srv.URL + `/"}
  - {name: run-prog, kind: exec, command: [sh, -c, 'printf "{\"output\": \"%s\"}" "$TRACEPARENT"']}
`
	sr := newSpecRun(t, spec, map[string]string{"data.jsonl": `{"id": "e1"}` + "\n" + `{"id": "e2"}` + "\n"})
	run := sr.mustRun(t.Context(), eval.Options{})
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	var app []traces.Record
	if err := traces.ReadFile(filepath.Join(appDir, observe.TracesFile), func(r traces.Record) error {
		app = append(app, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(app) != 4 {
		t.Fatalf("the app recorded %d spans, want 2 per example", len(app))
	}
	for _, res := range run.results {
		if res.Status != "ok" {
			t.Fatalf("%s: %s %v", res.ExampleID, res.Status, deref(res.Error))
		}
		var step, prog *traces.Record
		for _, s := range run.spansOf(res.TraceID) {
			switch s.Name {
			case "call-app":
				step = &s
			case "run-prog":
				prog = &s
			}
		}
		if step == nil || prog == nil {
			t.Fatalf("%s: no step spans", res.ExampleID)
		}
		if want := "00-" + res.TraceID + "-" + prog.SpanID + "-01"; res.Output != want {
			t.Errorf("%s: the program saw TRACEPARENT %q, want %q", res.ExampleID, res.Output, want)
		}
		joined := 0
		for _, a := range app {
			if a.TraceID != res.TraceID {
				continue
			}
			joined++
			if a.Name == "handle" && a.ParentID != step.SpanID {
				t.Errorf("%s: the app's span has parent %s, want the http step's span %s", res.ExampleID, a.ParentID, step.SpanID)
			}
		}
		if joined != 2 {
			t.Errorf("%s: %d app spans in the run's trace %s, want 2", res.ExampleID, joined, res.TraceID)
		}
	}
	if !strings.HasPrefix(run.results[0].Output, "00-") {
		t.Errorf("output %q", run.results[0].Output)
	}
}
