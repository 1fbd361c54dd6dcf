package eval_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/gavel-eval/gavel/eval"
	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/llm/llmtest"
	"github.com/gavel-eval/gavel/traces"
)

// scriptedAgent is an OpenAI-compatible server whose model calls tools by
// a script keyed on the question: a list of turns, each a list of calls;
// after the last turn it answers with the tool results it was sent.
type scriptedAgent struct {
	srv   *llmtest.FaultServer
	mu    sync.Mutex
	seen  []llmtest.ChatRequest
	turns map[string][][]llmtest.ToolCall
}

func newScriptedAgent(t *testing.T, turns map[string][][]llmtest.ToolCall) *scriptedAgent {
	a := &scriptedAgent{turns: turns}
	a.srv = llmtest.NewFaultServer(t, llmtest.FaultOptions{
		Reply: func(r llmtest.ChatRequest) string {
			var results []string
			for _, m := range r.Messages {
				if m.Role == "tool" {
					results = append(results, m.ToolCallID+"="+m.Content)
				}
			}
			return "final: " + strings.Join(results, "; ")
		},
		ToolCalls: func(r llmtest.ChatRequest) []llmtest.ToolCall {
			a.mu.Lock()
			a.seen = append(a.seen, r)
			a.mu.Unlock()
			done := 0
			for _, m := range r.Messages {
				if m.Role == "assistant" && len(m.ToolCalls) > 0 {
					done++
				}
			}
			script := a.turns[r.LastUser()]
			if done < len(script) {
				return script[done]
			}
			return nil
		},
	})
	return a
}

func (a *scriptedAgent) requests() []llmtest.ChatRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]llmtest.ChatRequest(nil), a.seen...)
}

const agentTools = `
    tools:
      - name: get_weather
        description: Current weather of a city
        parameters:
          type: object
          properties: {city: {type: string}}
          required: [city]
          additionalProperties: false
      - {type: function, function: {name: convert, parameters: {type: object, properties: {celsius: {type: number}}}}}
`

func agentSpec(url, handlers, extra string) string {
	return `name: agent
dataset: {path: data.jsonl, id: "{{.id}}"}
providers:
  local: {base_url: "` + url + `"}
retry: {max_attempts: 1}
variants:
  - name: a
    model: local/m
    prompt: "{{.example.q}}"` + agentTools + `chain:
  - name: loop
    kind: agent
` + maxTurns(extra) + extra + `    handlers:
` + handlers + `judges:
  - {name: calls, type: tool_call_match, expected: "{{json .example.want}}"}
  - {name: path, type: trajectory, expected: "[\"get_weather\", \"get_weather\", \"convert\"]", mode: in_order}
  - {name: args, type: tool_args_schema}
`
}

func maxTurns(extra string) string {
	if strings.Contains(extra, "max_turns") {
		return ""
	}
	return "    max_turns: 3\n"
}

func call(id, name, args string) llmtest.ToolCall {
	return llmtest.ToolCall{ID: id, Name: name, Arguments: args}
}

// The loop: parallel calls, each result sent back as a tool message with
// its call id, until the model answers; each turn an llm span and each
// execution a tool span under the agent span; tokens summed; the calls in
// results with the schema's verdict; the tool-use judges scoring them;
// and a second run from the cache making no call.
func TestAgentLoop(t *testing.T) {
	agent := newScriptedAgent(t, map[string][][]llmtest.ToolCall{
		"weather": {
			{call("c1", "get_weather", `{"city": "Paris"}`), call("c2", "get_weather", `{"city": "Rome"}`)},
			{call("c3", "convert", `{"celsius": 18}`)},
		},
	})
	data := `{"id": "e1", "q": "weather", "results": {"get_weather": ["18 C", "22 C"], "convert": {"f": 64.4}}, "want": [{"name": "get_weather", "arguments": {"city": "Rome"}}, {"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "convert", "arguments": {"celsius": 18.0}}]}` + "\n"
	sr := newSpecRun(t, agentSpec(agent.srv.URL(), `      "*": {from: example.results}
`, ""), map[string]string{"data.jsonl": data})
	cache := llm.NewMemoryCache()
	run := sr.mustRun(t.Context(), eval.Options{Cache: cache})
	res := run.results[0]
	if res.Status != results.StatusOK || res.Output != "final: c1=18 C; c2=22 C; c3={\"f\":64.4}" {
		t.Fatalf("result %s %q %v", res.Status, res.Output, deref(res.Error))
	}
	reqs := agent.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d model calls, want 3", len(reqs))
	}
	// The third request carries the whole history.
	h := reqs[2].Messages
	if len(h) != 6 || h[1].Role != "assistant" || len(h[1].ToolCalls) != 2 || h[2].ToolCallID != "c1" || h[3].Content != "22 C" || h[5].ToolCallID != "c3" {
		t.Errorf("history %+v", h)
	}
	if b, _ := json.Marshal(reqs[0].Raw["tools"]); !strings.Contains(string(b), `"name":"convert"`) {
		t.Errorf("tools sent: %s", b)
	}
	var recs []map[string]any
	if res.ToolCalls == nil || json.Unmarshal([]byte(*res.ToolCalls), &recs) != nil || len(recs) != 3 {
		t.Fatalf("tool_calls column %v", res.ToolCalls)
	}
	if recs[0]["name"] != "get_weather" || recs[0]["step"] != "loop" || recs[0]["turn"] != float64(1) || recs[2]["turn"] != float64(2) || recs[0]["error"] != nil {
		t.Errorf("tool_calls %v", recs)
	}
	if res.PromptTokens <= 0 || res.CompletionTokens <= 0 {
		t.Errorf("tokens %d→%d", res.PromptTokens, res.CompletionTokens)
	}
	kinds := map[string]int{}
	var agentSpan string
	for _, s := range run.spansOf(res.TraceID) {
		kinds[string(s.Kind)]++
		if s.Kind == traces.KindAgent {
			agentSpan = s.SpanID
		}
	}
	for _, s := range run.spansOf(res.TraceID) {
		if (s.Kind == traces.KindLLM || s.Kind == traces.KindTool) && s.ParentID != agentSpan {
			t.Errorf("span %s (%s) is not under the agent span", s.Name, s.Kind)
		}
	}
	if kinds["agent"] != 1 || kinds["llm"] != 3 || kinds["tool"] != 3 {
		t.Errorf("span kinds %v", kinds)
	}
	for name, sc := range run.scoresOf("a", "e1", 0) {
		if sc.Pass == nil || !*sc.Pass {
			t.Errorf("judge %s: %v %v", name, sc.Pass, deref(sc.Reason))
		}
	}
	// Replayed from the cache: every turn is answered there.
	again := sr.mustRun(t.Context(), eval.Options{Cache: cache})
	if n := len(agent.requests()); n != 3 {
		t.Errorf("the cached run made %d more calls", n-3)
	}
	if again.results[0].Output != res.Output || !again.results[0].Cached || *again.results[0].ToolCalls != *res.ToolCalls {
		t.Errorf("cached run: %q cached %v", again.results[0].Output, again.results[0].Cached)
	}
}

// Everything that goes wrong is a result row with the error and the step
// that failed.
func TestAgentFailures(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh for the exec handler")
	}
	agent := newScriptedAgent(t, map[string][][]llmtest.ToolCall{
		"loop forever":  {{call("a", "get_weather", `{"city": "X"}`)}, {call("b", "get_weather", `{"city": "Y"}`)}, {call("c", "get_weather", `{"city": "Z"}`)}, {call("d", "get_weather", `{"city": "W"}`)}},
		"unknown tool":  {{call("a", "book_flight", `{}`)}},
		"bad arguments": {{call("a", "get_weather", `{"city": Paris`)}},
		"failing tool":  {{call("a", "convert", `{"celsius": 1}`)}},
		"wrong schema":  {{call("a", "get_weather", `{"town": "Paris"}`)}},
	})
	var rows []string
	for i, q := range []string{"loop forever", "unknown tool", "bad arguments", "failing tool", "wrong schema"} {
		rows = append(rows, fmt.Sprintf(`{"id": "e%d", "q": %q, "results": {"get_weather": "sunny"}, "want": []}`, i, q))
	}
	handlers := `      get_weather: {from: example.results}
      convert: {exec: {command: [sh, -c, "echo converter broke >&2; exit 3"]}}
`
	sr := newSpecRun(t, agentSpec(agent.srv.URL(), handlers, ""), map[string]string{"data.jsonl": strings.Join(rows, "\n") + "\n"})
	run := sr.mustRun(t.Context(), eval.Options{})
	if len(run.results) != 5 {
		t.Fatalf("%d rows, want 5", len(run.results))
	}
	want := map[string]string{
		"e0": "max_turns 3 reached: the model was still calling tools (get_weather)",
		"e1": `the model called "book_flight", which has no handler (tools: convert, get_weather)`,
		"e2": "arguments are not a JSON object",
		"e3": "converter broke",
	}
	for _, r := range run.results {
		w, ok := want[r.ExampleID]
		if !ok {
			continue
		}
		if r.Status != results.StatusError || !strings.Contains(deref(r.Error), w) || deref(r.FailedStep) != "loop" {
			t.Errorf("%s: %s %q (step %q), want an error with %q", r.ExampleID, r.Status, deref(r.Error), deref(r.FailedStep), w)
		}
		if r.ToolCalls == nil {
			t.Errorf("%s: the calls made are not recorded", r.ExampleID)
		}
	}
	// Arguments the schema refuses are recorded as such; the call runs.
	for _, r := range run.results {
		if r.ExampleID == "e2" && !strings.Contains(*r.ToolCalls, "arguments are not valid JSON") {
			t.Errorf("e2 tool_calls %s", *r.ToolCalls)
		}
		if r.ExampleID == "e4" {
			if r.Status != results.StatusOK || !strings.Contains(*r.ToolCalls, "not valid against the tool's schema") {
				t.Errorf("e4: %s %s", r.Status, *r.ToolCalls)
			}
			if sc := run.scoresOf("a", "e4", 0)["args"]; sc.Pass == nil || *sc.Pass {
				t.Errorf("tool_args_schema passed arguments the schema refuses")
			}
		}
	}

	// With on_tool_error: report, a failing tool's error goes back to the
	// model, which answers.
	sr = newSpecRun(t, agentSpec(agent.srv.URL(), handlers, "    on_tool_error: report\n"), map[string]string{"data.jsonl": rows[3] + "\n"})
	run = sr.mustRun(t.Context(), eval.Options{})
	if r := run.results[0]; r.Status != results.StatusOK || !strings.Contains(r.Output, "a=error: sh: exit status 3: converter broke") {
		t.Errorf("reported tool error: %s %q %v", r.Status, r.Output, deref(r.Error))
	}
}

// Handlers over http (the call as JSON, the run's traceparent) and in Go.
func TestAgentHandlers(t *testing.T) {
	agent := newScriptedAgent(t, map[string][][]llmtest.ToolCall{
		"go": {{call("a", "get_weather", `{"city": "Oslo"}`), call("b", "convert", `{"celsius": -3}`)}},
	})
	var got map[string]any
	var traceparent string
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		traceparent = r.Header.Get("traceparent")
		json.NewDecoder(r.Body).Decode(&got)
		json.NewEncoder(w).Encode(map[string]any{"result": "-3 C is 26.6 F"})
	}))
	defer app.Close()
	handlers := `      get_weather: {func: weather}
      convert: {http: {url: "` + app.URL + `", output: "$.result"}}
`
	sr := newSpecRun(t, agentSpec(agent.srv.URL(), handlers, ""), map[string]string{"data.jsonl": `{"id": "e1", "q": "go", "want": []}` + "\n"})
	sr.load.Tools = map[string]eval.ToolFunc{"weather": func(_ context.Context, in eval.ToolInput) (string, error) {
		var args struct{ City string }
		if err := json.Unmarshal(in.Arguments, &args); err != nil {
			return "", err
		}
		return "snow in " + args.City + " for " + in.Example["id"].(string), nil
	}}
	run := sr.mustRun(t.Context(), eval.Options{})
	r := run.results[0]
	if r.Status != results.StatusOK || r.Output != "final: a=snow in Oslo for e1; b=-3 C is 26.6 F" {
		t.Fatalf("%s %q %v", r.Status, r.Output, deref(r.Error))
	}
	if got["name"] != "convert" || got["id"] != "b" || got["arguments"].(map[string]any)["celsius"] != float64(-3) || got["example"].(map[string]any)["id"] != "e1" {
		t.Errorf("the app got %v", got)
	}
	if !strings.HasPrefix(traceparent, "00-"+r.TraceID+"-") {
		t.Errorf("traceparent %q does not continue trace %s", traceparent, r.TraceID)
	}
}

// What the spec can say is wrong is said before any call.
func TestAgentSpecErrors(t *testing.T) {
	agent := newScriptedAgent(t, nil)
	data := map[string]string{"data.jsonl": `{"id": "e1", "q": "x", "want": []}` + "\n", "bad.json": `{"name": "x"}`}
	for _, c := range []struct {
		handlers, extra, want string
	}{
		{"      get_weather: {from: example.results}\n", "", "handlers: tool convert has no handler"},
		{"      \"*\": {from: example.results}\n      book: {from: example.results}\n", "", "handlers.book: no tool of that name"},
		{"      \"*\": {from: results}\n", "", `from "results": want example.FIELD`},
		{"      \"*\": {from: example.results, func: f}\n", "", "give exactly one of from, http, exec or func"},
		{"      \"*\": {func: nope}\n", "", `func "nope": no Go function of that name`},
		{"      \"*\": {from: example.results}\n", "    max_turns: -1\n", "max_turns -1"},
		{"      \"*\": {from: example.results}\n", "    on_tool_error: ignore\n", `on_tool_error "ignore"`},
		{"      \"*\": {from: example.results}\n", "    tools: {file: bad.json}\n", "bad.json: want a list of tools"},
		{"      \"*\": {from: example.results}\n", "    tools: [{name: \"has space\"}]\n", `name "has space": want 1 to 64 letters`},
		{"      \"*\": {from: example.results}\n", "    tools: [{name: a}, {name: a}]\n", `name "a": defined twice`},
		{"      \"*\": {from: example.results}\n", "    tools: [{name: a, parameters: {type: objekt}}]\n", "tool a: parameters"},
	} {
		sr := newSpecRun(t, agentSpec(agent.srv.URL(), c.handlers, c.extra), data)
		_, err := sr.run(t.Context(), eval.Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q %q: error %v, want %q", c.handlers, c.extra, err, c.want)
		}
	}
	if n := len(agent.requests()); n != 0 {
		t.Errorf("%d model calls before the errors", n)
	}
}

// An llm step with tools makes no call: the calls its reply asks for are
// its tool_calls, for templates and the results.
func TestLLMStepToolCalls(t *testing.T) {
	agent := newScriptedAgent(t, map[string][][]llmtest.ToolCall{
		"x": {{call("c1", "get_weather", `{"city": "Paris"}`), call("c2", "convert", `{"celsius": "hot"}`)}},
	})
	spec := `name: one
dataset: {path: data.jsonl, id: "{{.id}}"}
providers:
  local: {base_url: "` + agent.srv.URL() + `"}
variants:
  - name: a
    model: local/m
    prompt: "{{.example.q}}"
    params: {tool_choice: required, parallel_tool_calls: true}` + agentTools + `chain:
  - {name: answer, kind: llm}
  - {name: show, kind: template, template: "{{json .steps.answer.tool_calls}}"}
`
	sr := newSpecRun(t, spec, map[string]string{"data.jsonl": `{"id": "e1", "q": "x"}` + "\n"})
	run := sr.mustRun(t.Context(), eval.Options{})
	r := run.results[0]
	if r.Status != results.StatusOK || r.Output != `[{"arguments":{"city":"Paris"},"id":"c1","name":"get_weather"},{"arguments":{"celsius":"hot"},"id":"c2","name":"convert"}]` {
		t.Fatalf("%s %q %v", r.Status, r.Output, deref(r.Error))
	}
	if !strings.Contains(*r.ToolCalls, `"error":"arguments are not valid against the tool's schema`) {
		t.Errorf("tool_calls %s", *r.ToolCalls)
	}
	raw := agent.requests()[0].Raw
	if raw["tool_choice"] != "required" || raw["parallel_tool_calls"] != true {
		t.Errorf("request tool_choice %v parallel_tool_calls %v", raw["tool_choice"], raw["parallel_tool_calls"])
	}
}

// LLM judges' templates see the trajectory: each call with its result.
func TestTrajectoryInJudgeTemplates(t *testing.T) {
	spec := `name: traj
dataset: {path: data.jsonl, id: "{{.id}}"}
variants:
  - name: a
    model: offline/tools
    prompt: "{{.example.q}}"` + agentTools + `chain:
  - {name: loop, kind: agent, handlers: {"*": {from: example.results}}}
judges:
  - {name: grounded, type: llm_rubric, model: offline/judge, rubric: "The answer uses these tool results: {{.trajectory}}"}
`
	data := `{"id": "e1", "q": "get_weather(city=Oslo) then convert(celsius=-3)", "results": {"get_weather": "-3 C", "convert": "26.6 F"}}` + "\n"
	sr := newSpecRun(t, spec, map[string]string{"data.jsonl": data})
	run := sr.mustRun(t.Context(), eval.Options{})
	found := false
	for _, s := range run.spansOf(run.results[0].TraceID) {
		if s.Kind == traces.KindLLM && strings.Contains(s.Input, `1. get_weather({\"city\": \"Oslo\"}) → -3 C`) && strings.Contains(s.Input, `2. convert({\"celsius\": -3}) → 26.6 F`) {
			found = true
		}
	}
	if !found {
		t.Error("no judge call saw the trajectory")
	}
}
