package observe_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/observe"
	"github.com/gavel-eval/gavel/otlp"
	"github.com/gavel-eval/gavel/traces"
)

type doc struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// app is an instrumented application: a chain that retrieves (typed
// output), calls a model that fails once, and answers.
func app(ctx context.Context, question string) (string, error) {
	return observe.Do(ctx, "answer", observe.Chain, func(ctx context.Context) (string, error) {
		docs, err := observe.Do(ctx, "retrieve", observe.Retriever, func(ctx context.Context) ([]doc, error) {
			return []doc{{"d1", "Paris is the capital of France."}}, nil
		}, observe.Input(question))
		if err != nil {
			return "", err
		}
		_, err = observe.Do(ctx, "chat gpt-4o-mini", observe.LLM, func(ctx context.Context) (string, error) {
			return "", errors.New("429 rate limited")
		}, observe.Attr("gen_ai.request.model", "gpt-4o-mini"), observe.Attr("gen_ai.usage.input_tokens", 17))
		if err == nil {
			return "", errors.New("the model call should fail")
		}
		return "Paris (" + docs[0].ID + ")", nil
	}, observe.Input(map[string]string{"question": question}))
}

// spansOf reads spans back by name.
func spansOf(t *testing.T, files ...string) map[string]traces.Record {
	t.Helper()
	out := map[string]traces.Record{}
	for _, f := range files {
		if err := traces.ReadFile(f, func(r traces.Record) error {
			out[r.Name] = r
			return nil
		}); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	return out
}

// One application run, traced to a local directory and to gavel collect
// over OTLP/HTTP at once, gives the same tree in both.
func TestDoTracesToADirectoryAndOverOTLP(t *testing.T) {
	sinkDir := t.TempDir()
	sink, err := otlp.NewSink(sinkDir, otlp.SinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(otlp.Handler(sink, otlp.HandlerOptions{RunID: "collected"}))
	defer srv.Close()
	dir := filepath.Join(t.TempDir(), "run")
	tr, err := observe.Start(t.Context(), observe.Config{Service: "qa-app", Dir: dir, RunID: "local", OTLPEndpoint: srv.URL + otlp.TracesPath})
	if err != nil {
		t.Fatal(err)
	}
	ctx := observe.WithSession(observe.WithUser(tr.Context(t.Context()), "u-1"), "s-9")
	got, err := app(ctx, "capital of France?")
	if err != nil || got != "Paris (d1)" {
		t.Fatalf("app: %q %v", got, err)
	}
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	for name, spans := range map[string]map[string]traces.Record{
		"directory": spansOf(t, filepath.Join(dir, observe.TracesFile)),
		"OTLP":      spansOf(t, sink.Files()...),
	} {
		if len(spans) != 3 {
			t.Fatalf("%s: %d spans", name, len(spans))
		}
		root, ret, llm := spans["answer"], spans["retrieve"], spans["chat gpt-4o-mini"]
		if root.Kind != traces.KindChain || ret.Kind != traces.KindRetriever || llm.Kind != traces.KindLLM {
			t.Errorf("%s: kinds %s %s %s", name, root.Kind, ret.Kind, llm.Kind)
		}
		if root.ParentID != "" || ret.ParentID != root.SpanID || llm.ParentID != root.SpanID || ret.TraceID != root.TraceID {
			t.Errorf("%s: tree %+v", name, []traces.Span{root.Span, ret.Span, llm.Span})
		}
		if root.Input != `{"question":"capital of France?"}` || root.Output != "Paris (d1)" || ret.Input != "capital of France?" ||
			ret.Output != `[{"id":"d1","text":"Paris is the capital of France."}]` {
			t.Errorf("%s: inputs and outputs %q %q %q %q", name, root.Input, root.Output, ret.Input, ret.Output)
		}
		if llm.Status != traces.StatusError || llm.Error != "429 rate limited" || llm.Attributes["prompt_tokens"] != float64(17) || llm.Attributes["model"] != "gpt-4o-mini" {
			t.Errorf("%s: llm %+v", name, llm.Span)
		}
		if root.Variant != "qa-app" || root.ExampleID != "s-9" || root.Attributes["user_id"] != "u-1" {
			t.Errorf("%s: variant %q example %q user %v", name, root.Variant, root.ExampleID, root.Attributes["user_id"])
		}
	}
	if spans := spansOf(t, filepath.Join(dir, observe.TracesFile)); spans["answer"].RunID != "local" {
		t.Errorf("run id %q", spans["answer"].RunID)
	}
}

// Without a provider, Do only runs the function.
func TestDoWithoutAProvider(t *testing.T) {
	n, err := observe.Do(t.Context(), "x", observe.Tool, func(context.Context) (int, error) { return 42, nil })
	if n != 42 || err != nil {
		t.Fatalf("%d %v", n, err)
	}
	if err := observe.Run(t.Context(), "y", observe.Tool, func(context.Context) error { return errors.New("e") }); err == nil || err.Error() != "e" {
		t.Fatalf("Run: %v", err)
	}
}

// A panic is recorded on the span and goes on; the directory of a
// finished trace is not written over.
func TestDoPanicsAndExistingDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	tr, err := observe.Start(t.Context(), observe.Config{Service: "s", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if p := recover(); p == nil {
				t.Error("the panic was swallowed")
			}
		}()
		observe.Do(tr.Context(t.Context()), "boom", observe.Tool, func(context.Context) (int, error) { panic("bad input") })
	}()
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	sp := spansOf(t, filepath.Join(dir, observe.TracesFile))["boom"]
	if sp.Status != traces.StatusError || !strings.Contains(sp.Error, "panic: bad input") {
		t.Errorf("panicking span %+v", sp.Span)
	}
	if _, err := observe.Start(t.Context(), observe.Config{Service: "s", Dir: dir}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("a second trace into the same directory: %v", err)
	}
}
