package eval_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gavel-eval/gavel/eval"
	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/traces"
)

// stepExamples are the examples of the chain-step tests.
var stepExamples = []map[string]any{
	{"id": "e1", "name": "Ada", "text": "a=1 b=22 a=333", "doc": `{"answer": {"value": 42}, "items": [{"text": "x"}, {"text": "y"}], "obj": {"k": 1}}`},
	{"id": "e2", "name": "Grace", "text": "nothing to see", "doc": "not json at all"},
}

// stepSpec is a one-variant spec around chain (YAML list items) and judges.
func stepSpec(chain, judges string) string {
	s := `name: steps
dataset: {path: data.jsonl, id: "{{.id}}"}
variants:
  - {name: v1, model: offline/echo, prompt: "{{.example.name}}", vars: {greeting: hello}}
chain:
` + chain
	if judges != "" {
		s += "judges:\n" + judges
	}
	return s
}

// stepCase is one chain run and what each example's result must be.
type stepCase struct {
	name  string
	chain string
	// out is the expected output per example id; errs the expected error
	// substrings per id (the result is then an error row) and failed the
	// failed step.
	out    map[string]string
	errs   map[string][]string
	failed string
	runErr string // Run itself must fail with this substring
}

func runStepCase(t *testing.T, tc stepCase, load eval.LoadOptions, opts eval.Options) storedRun {
	t.Helper()
	sr := newSpecRun(t, stepSpec(tc.chain, ""), map[string]string{"data.jsonl": jsonl(t, stepExamples)})
	sr.load = load
	out, err := sr.run(t.Context(), opts)
	if tc.runErr != "" {
		if err == nil || !strings.Contains(err.Error(), tc.runErr) {
			t.Fatalf("Run error = %v, want one containing %q", err, tc.runErr)
		}
		return storedRun{}
	}
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	run := readStoredRun(t, out.Dir)
	rows := run.resultMap(t)
	if len(rows) != len(stepExamples) {
		t.Errorf("%d result rows, want %d", len(rows), len(stepExamples))
	}
	for id, want := range tc.out {
		r := rows[resultKey{"v1", id, 0}]
		if r.Status != results.StatusOK || r.Output != want {
			t.Errorf("%s: status %q output %q error %q, want ok with output %q", id, r.Status, r.Output, results.Deref(r.Error), want)
		}
	}
	for id, subs := range tc.errs {
		r := rows[resultKey{"v1", id, 0}]
		msg := results.Deref(r.Error)
		if r.Status != results.StatusError {
			t.Errorf("%s: status %q output %q, want error", id, r.Status, r.Output)
		}
		for _, s := range subs {
			if !strings.Contains(msg, s) {
				t.Errorf("%s: error %q does not contain %q", id, msg, s)
			}
		}
		if got := results.Deref(r.FailedStep); got != tc.failed {
			t.Errorf("%s: failed_step %q, want %q", id, got, tc.failed)
		}
		// The failed step's span has status error and the error text.
		var found bool
		for _, s := range run.spansOf(r.TraceID) {
			if s.Name == tc.failed && s.Kind != traces.KindChain {
				found = true
				if s.Status != traces.StatusError || s.Error == "" || !strings.Contains(msg, s.Error) {
					t.Errorf("%s: span %s status %q error %q, want error whose text is in %q", id, s.Name, s.Status, s.Error, msg)
				}
			}
		}
		if !found {
			t.Errorf("%s: no span for failed step %q", id, tc.failed)
		}
	}
	return run
}

func TestTemplateStep(t *testing.T) {
	t.Parallel()
	tc := stepCase{
		chain: `  - {name: greet, kind: template, template: "{{.variant.vars.greeting}} {{.example.name}} from {{.variant.name}}"}
  - {name: again, kind: template, template: "[{{.steps.greet.output}}|{{.input}}]"}
`,
		out: map[string]string{"e1": "[hello Ada from v1|hello Ada from v1]", "e2": "[hello Grace from v1|hello Grace from v1]"},
	}
	run := runStepCase(t, tc, eval.LoadOptions{}, eval.Options{})
	for _, r := range run.results {
		var steps map[string]string
		if err := json.Unmarshal([]byte(r.Steps), &steps); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(steps["greet"], "hello ") || steps["again"] != r.Output {
			t.Errorf("%s: steps column %q", r.ExampleID, r.Steps)
		}
		for _, s := range run.spansOf(r.TraceID) {
			if s.Name == "greet" && (s.Kind != traces.KindTemplate || !strings.Contains(s.Input, "{{.variant.vars.greeting}}") || s.Output != steps["greet"]) {
				t.Errorf("%s: template span kind %q input %q output %q", r.ExampleID, s.Kind, s.Input, s.Output)
			}
		}
	}
}

func TestExtractStep(t *testing.T) {
	t.Parallel()
	pre := "  - {name: pre, kind: template, template: \"{{.example.text}}\"}\n"
	doc := "  - {name: pre, kind: template, template: \"{{.example.doc}}\"}\n"
	cases := []stepCase{
		{name: "regex last match group 1", chain: pre + `  - {name: x, kind: extract, regex: "a=(\\d+)"}` + "\n",
			out: map[string]string{"e1": "333", "e2": ""}},
		{name: "regex first", chain: pre + `  - {name: x, kind: extract, regex: "a=(\\d+)", first: true}` + "\n",
			out: map[string]string{"e1": "1"}},
		{name: "regex group 0", chain: pre + `  - {name: x, kind: extract, regex: "a=(\\d+)", group: 0}` + "\n",
			out: map[string]string{"e1": "a=333"}},
		{name: "regex without group", chain: pre + `  - {name: x, kind: extract, regex: "\\d+"}` + "\n",
			out: map[string]string{"e1": "333"}},
		{name: "regex from template", chain: `  - {name: x, kind: extract, from: "{{.example.name}}-{{.example.id}}", regex: "-(e\\d)"}` + "\n",
			out: map[string]string{"e1": "e1", "e2": "e2"}},
		{name: "no match is empty", chain: pre + `  - {name: x, kind: extract, regex: "zzz(\\d)"}` + "\n",
			out: map[string]string{"e1": "", "e2": ""}},
		{name: "required no match is an error", chain: pre + `  - {name: x, kind: extract, regex: "a=(\\d+)", required: true}` + "\n",
			out: map[string]string{"e1": "333"}, errs: map[string][]string{"e2": {"step x", "no match"}}, failed: "x"},
		{name: "group out of range", chain: pre + `  - {name: x, kind: extract, regex: "a=(\\d+)", group: 2}` + "\n",
			runErr: "group: 2 out of range"},
		{name: "json_path", chain: doc + `  - {name: x, kind: extract, json_path: "$.answer.value"}` + "\n",
			out: map[string]string{"e1": "42", "e2": ""}},
		{name: "json_path without dollar", chain: doc + `  - {name: x, kind: extract, json_path: "items[1].text"}` + "\n",
			out: map[string]string{"e1": "y"}},
		{name: "json_path object is JSON", chain: doc + `  - {name: x, kind: extract, json_path: "$.obj"}` + "\n",
			out: map[string]string{"e1": `{"k":1}`}},
		{name: "json_path missing", chain: doc + `  - {name: x, kind: extract, json_path: "$.nope"}` + "\n",
			out: map[string]string{"e1": ""}},
		{name: "json_path required not JSON", chain: doc + `  - {name: x, kind: extract, json_path: "$.answer.value", required: true}` + "\n",
			out: map[string]string{"e1": "42"}, errs: map[string][]string{"e2": {"step x", "not JSON"}}, failed: "x"},
		{name: "bad json_path", chain: doc + `  - {name: x, kind: extract, json_path: "$.[[["}` + "\n",
			runErr: "invalid JSONPath"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			run := runStepCase(t, tc, eval.LoadOptions{}, eval.Options{})
			for _, r := range run.results {
				for _, s := range run.spansOf(r.TraceID) {
					if s.Name == "x" && s.Kind != traces.KindParser {
						t.Errorf("extract span kind %q, want parser", s.Kind)
					}
				}
			}
		})
	}
}

// appServer is the user's application called by http steps.
type appServer struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies []map[string]any
}

const appSecret = "hdr-secret-9d8e7f6a5b"

func newAppServer(t *testing.T) *appServer {
	a := &appServer{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil {
			http.Error(w, "bad json: "+err.Error(), http.StatusBadRequest)
			return
		}
		a.mu.Lock()
		a.bodies = append(a.bodies, body)
		a.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/default":
			ex, _ := body["example"].(map[string]any)
			_ = json.NewEncoder(w).Encode(map[string]any{"reply": map[string]any{"text": fmt.Sprintf("hi %v", ex["name"])}})
		case "/custom":
			_ = json.NewEncoder(w).Encode(map[string]any{"answer": fmt.Sprintf("Q:%v/%v", body["q"], body["prev"])})
		case "/fail":
			if body["q"] == "Grace" {
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = io.WriteString(w, `{"error": "internal oops"}`)
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"answer": "fine"})
		case "/echo-fail":
			// A careless app that quotes the credential in its error.
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error": "bad key: `+r.Header.Get("X-App-Key")+`"}`)
			return
		case "/auth":
			if r.Header.Get("X-App-Key") != "Bearer "+appSecret {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = io.WriteString(w, `{"error": "bad key"}`)
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"answer": "authorized"})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func TestHTTPStep(t *testing.T) {
	t.Parallel()
	app := newAppServer(t)
	getenv := func(k string) string {
		if k == "APP_SECRET" {
			return appSecret
		}
		return ""
	}
	pre := "  - {name: pre, kind: template, template: \"PRE-{{.example.id}}\"}\n"
	u := app.srv.URL

	t.Run("default body", func(t *testing.T) {
		t.Parallel()
		run := runStepCase(t, stepCase{
			chain: pre + "  - {name: app, kind: http, url: \"" + u + "/default\", output: \"$.reply.text\"}\n",
			out:   map[string]string{"e1": "hi Ada", "e2": "hi Grace"},
		}, eval.LoadOptions{}, eval.Options{})
		app.mu.Lock()
		var mine []map[string]any
		for _, b := range app.bodies {
			if ex, ok := b["example"].(map[string]any); ok && b["variant"] == "v1" && ex["id"] == "e1" && b["input"] == "PRE-e1" {
				mine = append(mine, b)
			}
		}
		app.mu.Unlock()
		if len(mine) == 0 {
			t.Fatalf("the app never got a default body for e1")
		}
		b := mine[0]
		if ex := b["example"].(map[string]any); ex["name"] != "Ada" || ex["text"] != stepExamples[0]["text"] {
			t.Errorf("default body example %v", ex)
		}
		if steps, _ := b["steps"].(map[string]any); steps["pre"] != "PRE-e1" {
			t.Errorf("default body steps %v", b["steps"])
		}
		if vars, _ := b["vars"].(map[string]any); vars["greeting"] != "hello" {
			t.Errorf("default body vars %v", b["vars"])
		}
		for _, r := range run.results {
			for _, s := range run.spansOf(r.TraceID) {
				if s.Name == "app" && (s.Kind != traces.KindTool || !strings.Contains(s.Input, `"PRE-`+r.ExampleID+`"`)) {
					t.Errorf("http span kind %q input %q", s.Kind, s.Input)
				}
			}
		}
	})
	t.Run("custom body and whole reply", func(t *testing.T) {
		t.Parallel()
		runStepCase(t, stepCase{
			chain: pre + "  - {name: app, kind: http, url: \"" + u + "/custom\", body: '{\"q\": {{json .example.name}}, \"prev\": {{json .input}}}'}\n",
			out:   map[string]string{"e1": `{"answer":"Q:Ada/PRE-e1"}` + "\n", "e2": `{"answer":"Q:Grace/PRE-e2"}` + "\n"},
		}, eval.LoadOptions{}, eval.Options{})
	})
	t.Run("HTTP 500 is an error row", func(t *testing.T) {
		t.Parallel()
		runStepCase(t, stepCase{
			chain:  "  - {name: app, kind: http, url: \"" + u + "/fail\", body: '{\"q\": {{json .example.name}}}', output: answer}\n",
			out:    map[string]string{"e1": "fine"},
			errs:   map[string][]string{"e2": {"step app", "HTTP 500", "internal oops"}},
			failed: "app",
		}, eval.LoadOptions{}, eval.Options{})
	})
	t.Run("reply without the output path", func(t *testing.T) {
		t.Parallel()
		runStepCase(t, stepCase{
			chain:  "  - {name: app, kind: http, url: \"" + u + "/default\", output: \"$.reply.missing\"}\n",
			errs:   map[string][]string{"e1": {"nothing at"}, "e2": {"nothing at"}},
			failed: "app",
		}, eval.LoadOptions{}, eval.Options{})
	})
	t.Run("headers expanded and never stored", func(t *testing.T) {
		t.Parallel()
		tc := stepCase{
			chain: "  - {name: app, kind: http, url: \"" + u + "/auth\", output: answer, headers: {X-App-Key: \"Bearer ${APP_SECRET}\"}}\n",
			out:   map[string]string{"e1": "authorized", "e2": "authorized"},
		}
		sr := newSpecRun(t, stepSpec(tc.chain, ""), map[string]string{"data.jsonl": jsonl(t, stepExamples)})
		out, err := sr.run(t.Context(), eval.Options{Getenv: getenv})
		if err != nil {
			t.Fatal(err)
		}
		run := readStoredRun(t, out.Dir)
		for _, r := range run.results {
			if r.Output != "authorized" {
				t.Errorf("%s: output %q error %q: the header did not reach the app", r.ExampleID, r.Output, results.Deref(r.Error))
			}
		}
		assertSecretAbsent(t, out.Dir, appSecret)
		// The manifest records the header's name.
		if cfg := run.manifest.Variants[0].Steps[0].Config; !strings.Contains(fmt.Sprint(cfg["headers"]), "X-App-Key") {
			t.Errorf("manifest step config %v does not name the header", cfg)
		}
	})
	t.Run("secret echoed in an error is not stored", func(t *testing.T) {
		t.Parallel()
		tc := stepCase{
			chain:  "  - {name: app, kind: http, url: \"" + u + "/echo-fail\", headers: {X-App-Key: \"Bearer ${APP_SECRET}\"}}\n",
			errs:   map[string][]string{"e1": {"HTTP 401", "bad key: Bearer [redacted]"}},
			failed: "app",
		}
		sr := newSpecRun(t, stepSpec(tc.chain, ""), map[string]string{"data.jsonl": jsonl(t, stepExamples)})
		out, err := sr.run(t.Context(), eval.Options{Getenv: getenv})
		if err != nil {
			t.Fatal(err)
		}
		run := readStoredRun(t, out.Dir)
		for _, r := range run.results {
			if msg := results.Deref(r.Error); r.Status != results.StatusError || !strings.Contains(msg, "bad key: Bearer [redacted]") {
				t.Errorf("%s: status %q error %q, want the app's error with the secret redacted", r.ExampleID, r.Status, msg)
			}
		}
		assertSecretAbsent(t, out.Dir, appSecret)
	})
}

// buildExecHelper builds testdata/exechelper into a temporary directory.
func buildExecHelper(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "exechelper")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "./testdata/exechelper")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the exec helper: %v\n%s", err, out)
	}
	return bin
}

func TestExecStep(t *testing.T) {
	t.Parallel()
	bin := buildExecHelper(t)
	getenv := func(k string) string {
		if k == "EXEC_VAL" {
			return "from-env"
		}
		return ""
	}
	step := func(mode, extra string) string {
		return fmt.Sprintf("  - {name: prog, kind: exec, command: [%q, %s]%s}\n", bin, mode, extra)
	}
	cases := []stepCase{
		{name: "default input and output", chain: step("echo", ""),
			out: map[string]string{"e1": "ADA", "e2": "GRACE"}},
		{name: "default input carries the example", chain: step("echo", `, output: "$.stdin.example.text"`),
			out: map[string]string{"e1": "a=1 b=22 a=333"}},
		{name: "custom input and output path", chain: step("echo", `, input: '{"name": {{json .example.name}}}', output: "detail.n"`),
			out: map[string]string{"e1": "3", "e2": "5"}},
		// The program sees the value; what it echoes of it is not stored.
		{name: "env expanded", chain: step("echo", `, env: {HELPER_VAR: "x-${EXEC_VAL}"}, output: "$.env"`),
			out: map[string]string{"e1": "x-[redacted]"}},
		{name: "non-zero exit", chain: step("fail", ""),
			errs: map[string][]string{"e1": {"step prog", "exit status 3", "exechelper: cannot handle Ada"}}, failed: "prog"},
		{name: "timeout", chain: step("sleep", ", timeout: 300ms"),
			errs: map[string][]string{"e1": {"step prog", "timed out"}, "e2": {"timed out"}}, failed: "prog"},
		{name: "stdout not JSON", chain: step("raw", ""),
			errs: map[string][]string{"e1": {"stdout is not JSON"}}, failed: "prog"},
		{name: "missing program", chain: "  - {name: prog, kind: exec, command: [\"" + bin + "-nope\"]}\n",
			runErr: "chain[0] (prog) for variant v1: command[0]: "},
	}
	t.Run("secret echoed on stderr is not stored", func(t *testing.T) {
		t.Parallel()
		secretEnv := func(k string) string {
			if k == "EXEC_SECRET" {
				return "exec-secret-31415926"
			}
			return ""
		}
		tc := stepCase{chain: step("leak", `, env: {HELPER_VAR: "${EXEC_SECRET}"}`),
			errs: map[string][]string{"e1": {"exit status 4", "token [redacted] rejected"}}, failed: "prog"}
		sr := newSpecRun(t, stepSpec(tc.chain, ""), map[string]string{"data.jsonl": jsonl(t, stepExamples)})
		out, err := sr.run(t.Context(), eval.Options{Getenv: secretEnv})
		if err != nil {
			t.Fatal(err)
		}
		run := readStoredRun(t, out.Dir)
		for _, r := range run.results {
			if msg := results.Deref(r.Error); !strings.Contains(msg, "token [redacted] rejected") {
				t.Errorf("%s: error %q, want the program's stderr with the secret redacted", r.ExampleID, msg)
			}
		}
		assertSecretAbsent(t, out.Dir, "exec-secret-31415926")
	})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			run := runStepCase(t, tc, eval.LoadOptions{}, eval.Options{Getenv: getenv})
			for _, s := range run.spans {
				if s.Name == "prog" && s.Kind != traces.KindTool {
					t.Errorf("exec span kind %q, want tool", s.Kind)
				}
			}
		})
	}
}

func TestCustomStep(t *testing.T) {
	t.Parallel()
	type seen struct {
		example string
		variant string
		vars    map[string]any
		pre     string
	}
	var mu sync.Mutex
	calls := map[string]seen{}
	shout := func(ctx context.Context, in eval.StepInput) (string, error) {
		_, span := traces.Start(ctx, "inner", traces.KindRetriever)
		span.SetInput(in.Input)
		span.End(nil)
		mu.Lock()
		calls[in.Example["id"].(string)] = seen{in.Example["name"].(string), in.Variant, in.Vars, in.Steps["pre"]}
		mu.Unlock()
		suffix, _ := in.With["suffix"].(string)
		return strings.ToUpper(in.Input) + suffix, nil
	}
	failing := func(ctx context.Context, in eval.StepInput) (string, error) {
		if in.Example["id"] == "e2" {
			return "", errors.New("custom failure")
		}
		return "ok", nil
	}
	panicking := func(ctx context.Context, in eval.StepInput) (string, error) {
		var m map[string]int
		return fmt.Sprint(m["x"] / len(m)), nil // integer division by zero
	}
	steps := map[string]eval.StepFunc{"shout": shout, "failing": failing, "panicking": panicking}
	load := eval.LoadOptions{Steps: steps}
	pre := "  - {name: pre, kind: template, template: \"{{.example.name}}\"}\n"

	t.Run("output, input and child span", func(t *testing.T) {
		run := runStepCase(t, stepCase{
			chain: pre + "  - {name: loud, kind: shout, with: {suffix: \"!\"}}\n",
			out:   map[string]string{"e1": "ADA!", "e2": "GRACE!"},
		}, load, eval.Options{Steps: steps})
		mu.Lock()
		got := calls["e1"]
		mu.Unlock()
		if got.example != "Ada" || got.variant != "v1" || got.vars["greeting"] != "hello" || got.pre != "Ada" {
			t.Errorf("StepInput seen: %+v", got)
		}
		for _, r := range run.results {
			sp := run.spansOf(r.TraceID)
			byName := map[string]traces.Record{}
			for _, s := range sp {
				byName[s.Name] = s
			}
			root, loud, inner := byName["steps"], byName["loud"], byName["inner"]
			if loud.Kind != traces.KindTool || loud.ParentID != root.SpanID || root.SpanID == "" {
				t.Errorf("%s: custom span kind %q parent %q, want tool under root %q", r.ExampleID, loud.Kind, loud.ParentID, root.SpanID)
			}
			if inner.Kind != traces.KindRetriever || inner.ParentID != loud.SpanID || inner.SpanID == "" {
				t.Errorf("%s: inner span kind %q parent %q, want retriever under %q", r.ExampleID, inner.Kind, inner.ParentID, loud.SpanID)
			}
		}
	})
	t.Run("error", func(t *testing.T) {
		runStepCase(t, stepCase{
			chain:  "  - {name: f, kind: failing}\n",
			out:    map[string]string{"e1": "ok"},
			errs:   map[string][]string{"e2": {"step f: custom failure"}},
			failed: "f",
		}, load, eval.Options{Steps: steps})
	})
	t.Run("panic", func(t *testing.T) {
		runStepCase(t, stepCase{
			chain:  "  - {name: p, kind: panicking}\n",
			errs:   map[string][]string{"e1": {"step p: panic:", "integer divide by zero"}},
			failed: "p",
		}, load, eval.Options{Steps: steps})
	})
	t.Run("not registered at run time", func(t *testing.T) {
		runStepCase(t, stepCase{
			chain:  "  - {name: loud, kind: shout}\n",
			runErr: `no Go function registered for step kind "shout"`,
		}, load, eval.Options{})
	})
}

// TestChainSpans checks the shape of a trace: one chain root per result,
// one child per step in chain order with its kind, judge spans, and a
// failed step's span.
func TestChainSpans(t *testing.T) {
	t.Parallel()
	app := newAppServer(t)
	bin := buildExecHelper(t)
	steps := map[string]eval.StepFunc{"upper": func(_ context.Context, in eval.StepInput) (string, error) {
		return strings.ToUpper(in.Input), nil
	}}
	chain := `  - {name: t, kind: template, template: "compute {{.example.a}} + {{.example.b}}"}
  - {name: m, kind: llm, prompt: "{{.input}}", model: offline/calc}
  - {name: x, kind: extract, regex: "####\\s*(\\S+)"}
  - {name: h, kind: http, url: "` + app.srv.URL + `/fail", body: '{"q": {{json .example.name}}, "n": {{json .input}}}', output: answer}
  - {name: e, kind: exec, command: ["` + bin + `", echo], input: '{"name": {{json .input}}}'}
  - {name: c, kind: upper}
`
	judges := `  - {name: shouts, type: equals, value: "FINE"}
  - {name: numeric, type: regex, pattern: "^[A-Z]+$"}
`
	exs := []map[string]any{
		{"id": "ok1", "name": "Ada", "a": 2, "b": 3},
		{"id": "bad", "name": "Grace", "a": 1, "b": 1}, // the app fails for Grace
		{"id": "ok2", "name": "Alan", "a": 5, "b": 8},
	}
	sr := newSpecRun(t, stepSpec(chain, judges), map[string]string{"data.jsonl": jsonl(t, exs)})
	sr.load = eval.LoadOptions{Steps: steps}
	out, err := sr.run(t.Context(), eval.Options{Steps: steps})
	if err != nil {
		t.Fatal(err)
	}
	run := readStoredRun(t, out.Dir)
	stepNames := []string{"t", "m", "x", "h", "e", "c"}
	stepKinds := []traces.Kind{traces.KindTemplate, traces.KindLLM, traces.KindParser, traces.KindTool, traces.KindTool, traces.KindTool}
	if len(run.results) != len(exs) {
		t.Fatalf("%d results, want %d", len(run.results), len(exs))
	}
	for _, r := range run.results {
		sp := run.spansOf(r.TraceID)
		var roots []traces.Record
		for _, s := range sp {
			if s.Kind == traces.KindChain {
				roots = append(roots, s)
			}
		}
		if len(roots) != 1 || roots[0].ParentID != "" || roots[0].Name != "steps" {
			t.Fatalf("%s: chain root spans %+v, want one named after the spec", r.ExampleID, roots)
		}
		root := roots[0]
		var children []traces.Record
		var judgeSpans []traces.Record
		for _, s := range sp {
			switch {
			case s.ParentID == root.SpanID:
				children = append(children, s)
			case s.Kind == traces.KindJudge:
				judgeSpans = append(judgeSpans, s)
			case s.SpanID != root.SpanID:
				t.Errorf("%s: span %s (%s) is neither under the root nor a judge (parent %q)", r.ExampleID, s.Name, s.Kind, s.ParentID)
			}
			if s.RunID != r.RunID || s.Variant != r.Variant || s.ExampleID != r.ExampleID || s.Epoch != int(r.Epoch) {
				t.Errorf("%s: span %s has coordinates %s/%s/%s/%d", r.ExampleID, s.Name, s.RunID, s.Variant, s.ExampleID, s.Epoch)
			}
			if s.End.Before(s.Start) {
				t.Errorf("%s: span %s ends before it starts", r.ExampleID, s.Name)
			}
		}
		n := len(stepNames)
		if r.ExampleID == "bad" {
			n = 4 // up to the failing http step
		}
		var names []string
		var kinds []traces.Kind
		for _, c := range children {
			names = append(names, c.Name)
			kinds = append(kinds, c.Kind)
		}
		if !slices.Equal(names, stepNames[:n]) || !slices.Equal(kinds, stepKinds[:n]) {
			t.Errorf("%s: children %v %v, want %v %v", r.ExampleID, names, kinds, stepNames[:n], stepKinds[:n])
		}
		if r.ExampleID == "bad" {
			if r.Status != results.StatusError || results.Deref(r.FailedStep) != "h" {
				t.Errorf("bad: status %q failed step %q", r.Status, results.Deref(r.FailedStep))
			}
			if last := children[len(children)-1]; last.Status != traces.StatusError || !strings.Contains(last.Error, "HTTP 500") {
				t.Errorf("bad: failed span %s status %q error %q", last.Name, last.Status, last.Error)
			}
			if root.Status != traces.StatusError || !strings.Contains(root.Error, "HTTP 500") {
				t.Errorf("bad: root status %q error %q", root.Status, root.Error)
			}
			if len(judgeSpans) != 0 {
				t.Errorf("bad: %d judge spans for a failed chain", len(judgeSpans))
			}
			continue
		}
		for _, c := range children {
			if c.Status != traces.StatusOK || c.Error != "" {
				t.Errorf("%s: span %s status %q error %q", r.ExampleID, c.Name, c.Status, c.Error)
			}
		}
		if r.Output != "FINE" || root.Output != "FINE" {
			t.Errorf("%s: output %q root output %q, want FINE", r.ExampleID, r.Output, root.Output)
		}
		// The llm step's span has the model's input and output.
		if m := children[1]; !strings.Contains(m.Input, "compute") || !strings.Contains(m.Output, "####") || m.Attributes["model"] != "offline/calc" {
			t.Errorf("%s: llm span input %q output %q attrs %v", r.ExampleID, m.Input, m.Output, m.Attributes)
		}
		var jnames []string
		for _, j := range judgeSpans {
			jnames = append(jnames, j.Name)
		}
		if !slices.Equal(jnames, []string{"shouts", "numeric"}) {
			t.Errorf("%s: judge spans %v", r.ExampleID, jnames)
		}
		scores := run.scoresOf(r.Variant, r.ExampleID, r.Epoch)
		for _, j := range judgeSpans {
			if s := scores[j.Name]; s.SpanID != j.SpanID || s.Pass == nil || !*s.Pass {
				t.Errorf("%s: score %s span %q pass %v, want span %q and a pass", r.ExampleID, j.Name, s.SpanID, s.Pass, j.SpanID)
			}
		}
	}
}
