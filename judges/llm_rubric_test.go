package judges

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/traces"
)

var parisInput = Input{
	Output:   "Paris is the capital of France.",
	Expected: "Paris",
	Example:  map[string]any{"question": "What is the capital of France?", "id": 7},
	Variant:  "baseline",
}

func rubricJudge(t *testing.T, s *llmtServer, extra map[string]any) Judge {
	opts := map[string]any{"model": "local/judge-model", "rubric": "The answer names the capital correctly."}
	for k, v := range extra {
		opts[k] = v
	}
	return llmtBuild(t, s.env(t), "llm_rubric", opts)
}

func TestLLMRubricCleanJSON(t *testing.T) {
	s := llmtReplying(t, `{"reason": "It names Paris.", "pass": true, "score": 0.9}`)
	j := rubricJudge(t, s, nil)
	var v Verdict
	spans := llmtRecorded(func(ctx context.Context) {
		var err error
		if v, err = j.Judge(ctx, parisInput); err != nil {
			t.Fatal(err)
		}
	})
	if !v.Pass || *v.Score != 0.9 || v.Reason != "It names Paris." {
		t.Errorf("verdict = %+v", v)
	}
	if v.Details["model"] != "local/judge-model" || v.Details["attempts"] != 1 || v.Details["structured"] != true ||
		v.Details["reply"] != `{"reason": "It names Paris.", "pass": true, "score": 0.9}` {
		t.Errorf("details = %v", v.Details)
	}
	reqs := s.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.model() != "judge-model" || r.num("temperature") != 0 || r.num("seed") != 0 {
		t.Errorf("model %q temperature %v seed %v", r.model(), r.num("temperature"), r.num("seed"))
	}
	// The schema goes out with its properties in order: reason first.
	if !strings.Contains(r.raw, `"response_format":{"type":"json_schema","json_schema":{"name":"rubric_verdict",`) ||
		!strings.Contains(r.raw, `"properties":{"reason":{`) || !strings.Contains(r.raw, `"strict":true`) ||
		!strings.Contains(r.raw, `"required":["reason","pass","score"],"additionalProperties":false`) {
		t.Errorf("request = %s", r.raw)
	}
	msgs := r.messages()
	if len(msgs) != 1 || msgs[0].Role != "user" {
		t.Fatalf("messages = %v", msgs)
	}
	want := "[Input]: What is the capital of France?\n***\n[Output]: Paris is the capital of France.\n***\n[Reference]: Paris\n***\n[Rubric]: The answer names the capital correctly.\n***\n[END DATA]"
	if !strings.Contains(msgs[0].Content, want) {
		t.Errorf("prompt = %s\nwant it to contain %s", msgs[0].Content, want)
	}
	if len(spans) != 1 || spans[0].Name != "llm_rubric" || spans[0].Kind != traces.KindLLM {
		t.Errorf("spans = %+v", spans)
	}
}

func TestLLMRubricReplyShapes(t *testing.T) {
	cases := []struct {
		name, reply string
		pass        bool
		score       float64
		reason      string
	}{
		{"fenced with trailing comma", "Here is my verdict:\n```json\n{\n  \"reason\": \"Wrong city.\",\n  \"pass\": false,\n  \"score\": 0.1,\n}\n```\n", false, 0.1, "Wrong city."},
		{"prose around", `Let me check. The output says Paris. {"reason": "Correct", "pass": true, "score": 1} I hope this helps!`, true, 1, "Correct"},
		{"python literals", `{'x': 1} then {"reason": "ok", "pass": True, "score": None}`, true, 1, "ok"},
		{"verdict lines", "Reason: The answer is right\nbut terse.\n**Score:** 8/10\n**Verdict:** PASS", true, 0.8, "The answer is right\nbut terse."},
		{"pass only", "The output is fine.\n\nPASS", true, 1, "the judge model gave no reason"},
		{"score only below half", `{"reasoning": "meh", "score": "30%"}`, false, 0.3, "meh"},
		{"string verdict", `{"explanation": "good", "verdict": "PASS", "rating": 0.75}`, true, 0.75, "good"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := llmtReplying(t, tc.reply)
			v := llmtJudgeOK(t, rubricJudge(t, s, nil), parisInput)
			if v.Pass != tc.pass || !llmtNear(*v.Score, tc.score) || v.Reason != tc.reason {
				t.Errorf("verdict pass=%v score=%v reason=%q, want %v %v %q", v.Pass, *v.Score, v.Reason, tc.pass, tc.score, tc.reason)
			}
			if n := len(s.requests()); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

func TestLLMRubricThreshold(t *testing.T) {
	s := llmtReplying(t, `{"reason": "Mostly right.", "pass": true, "score": 0.6}`)
	v := llmtJudgeOK(t, rubricJudge(t, s, map[string]any{"threshold": 0.7}), parisInput)
	if v.Pass || *v.Score != 0.6 || v.Details["model_pass"] != true || v.Details["threshold"] != 0.7 {
		t.Errorf("verdict = %+v", v)
	}
}

func TestLLMRubricUnparseableIsRetriedThenAnError(t *testing.T) {
	for _, retries := range []int{0, 2, 3} {
		s := llmtReplying(t, "I like turtles.")
		opts := map[string]any{}
		if retries != 2 {
			opts["max_parse_retries"] = retries
		}
		err := llmtJudgeErr(t, rubricJudge(t, s, opts), parisInput)
		reqs := s.requests()
		if len(reqs) != 1+retries {
			t.Errorf("max_parse_retries %d: the server saw %d requests, want %d", retries, len(reqs), 1+retries)
		}
		if !llmtHasAll(err.Error(), "could not parse", `"I like turtles."`, "no verdict found") {
			t.Errorf("error = %v, want it to quote the reply", err)
		}
		if retries == 0 {
			continue
		}
		// A retry is the original prompt, the bad reply and a correction.
		first, second := reqs[0].messages(), reqs[1].messages()
		if len(second) != 3 || !reflect.DeepEqual(second[0], first[0]) || second[1].Role != "assistant" || second[1].Content != "I like turtles." ||
			second[2].Role != "user" || !llmtHasAll(second[2].Content, "could not be read", `"reason", "pass" and "score"`) {
			t.Errorf("retry messages = %+v", second)
		}
		if retries == 3 && len(reqs[3].messages()) != 3 {
			t.Errorf("the conversation grows: %d messages", len(reqs[3].messages()))
		}
	}
}

func TestLLMRubricRetrySucceeds(t *testing.T) {
	s := newLLMTServer(t, func(i int, _ llmtReq) llmtReply {
		if i == 0 {
			return llmtReply{choices: []string{`{"reason": "x", "pass": "maybe"}`}}
		}
		return llmtReply{choices: []string{`{"reason": "fixed", "pass": false, "score": 0.25}`}}
	})
	v := llmtJudgeOK(t, rubricJudge(t, s, nil), parisInput)
	if v.Pass || *v.Score != 0.25 || v.Details["attempts"] != 2 {
		t.Errorf("verdict = %+v", v)
	}
	if second := s.requests()[1].messages(); !strings.Contains(second[2].Content, `the pass value "maybe" is not true or false`) {
		t.Errorf("correction = %q", second[2].Content)
	}
}

func TestLLMRubricRefusals(t *testing.T) {
	cases := []struct {
		name string
		rep  llmtReply
		want string
	}{
		{"refusal field", llmtReply{refusal: "I'm sorry, I cannot help with that."}, `refused: "I'm sorry, I cannot help with that."`},
		{"refusal text", llmtReply{choices: []string{"I’m sorry, but I can't assist with grading this."}}, "refused"},
		{"empty", llmtReply{choices: []string{"  \n"}}, "empty reply"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newLLMTServer(t, func(int, llmtReq) llmtReply { return tc.rep })
			err := llmtJudgeErr(t, rubricJudge(t, s, nil), parisInput)
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want %q", err, tc.want)
			}
			if n := len(s.requests()); n != 1 {
				t.Errorf("%d requests: a refusal is not retried", n)
			}
		})
	}
}

func TestLLMRubricResponseFormatRejected(t *testing.T) {
	s := newLLMTServer(t, func(_ int, r llmtReq) llmtReply {
		if _, ok := r.body["response_format"]; ok {
			return llmtError(400, "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.", "response_format")
		}
		return llmtReply{choices: []string{"Reason: fine\nScore: 0.7\nVerdict: PASS"}}
	})
	j := rubricJudge(t, s, nil)
	v := llmtJudgeOK(t, j, parisInput)
	if !v.Pass || *v.Score != 0.7 || v.Details["structured"] != false {
		t.Errorf("verdict = %+v", v)
	}
	reqs := s.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2 (one retry without response_format)", len(reqs))
	}
	if _, ok := reqs[1].body["response_format"]; ok {
		t.Error("the retry still sends response_format")
	}
	if reqs[0].prompt() != reqs[1].prompt() {
		t.Error("the retry changed the prompt")
	}
	// The judge remembers: the next output goes without it at once.
	llmtJudgeOK(t, j, parisInput)
	if reqs := s.requests(); len(reqs) != 3 {
		t.Errorf("%d requests after a second output, want 3", len(reqs))
	}
}

func TestLLMRubricOtherErrorsAreNotRetried(t *testing.T) {
	s := newLLMTServer(t, func(int, llmtReq) llmtReply {
		return llmtError(400, "This model's maximum context length is 128000 tokens.", "messages")
	})
	err := llmtJudgeErr(t, rubricJudge(t, s, nil), parisInput)
	if !llmtHasAll(err.Error(), "judge model", "HTTP 400", "maximum context length") {
		t.Errorf("error = %v", err)
	}
	if n := len(s.requests()); n != 1 {
		t.Errorf("%d requests", n)
	}
}

func TestLLMRubricStructuredFalseAndParams(t *testing.T) {
	s := llmtReplying(t, "Verdict: FAIL\nScore: 0")
	j := rubricJudge(t, s, map[string]any{
		"structured": false,
		"params":     map[string]any{"temperature": 0.3, "max_tokens": 200, "seed": 9},
	})
	llmtJudgeOK(t, j, parisInput)
	r := s.requests()[0]
	if _, ok := r.body["response_format"]; ok {
		t.Error("structured: false still sends response_format")
	}
	if r.num("temperature") != 0.3 || r.num("max_tokens") != 200 || r.num("seed") != 9 {
		t.Errorf("params = %s", r.raw)
	}
	// A json_object format from the spec replaces the schema.
	s2 := llmtReplying(t, `{"pass": true}`)
	llmtJudgeOK(t, rubricJudge(t, s2, map[string]any{"params": map[string]any{"response_format": map[string]any{"type": "json_object"}}}), parisInput)
	if rf, _ := json.Marshal(s2.requests()[0].body["response_format"]); string(rf) != `{"type":"json_object"}` {
		t.Errorf("response_format = %s", rf)
	}
}

func TestLLMRubricCustomPrompt(t *testing.T) {
	s := llmtReplying(t, `{"reason": "r", "pass": true, "score": 1}`)
	j := rubricJudge(t, s, map[string]any{
		"input": "{{.example.question}} (id {{.example.id}})",
		"prompt": []any{
			map[string]any{"role": "system", "content": "You grade answers for {{.variant}}."},
			map[string]any{"role": "user", "content": "Q: {{.input}}\nA: {{.output}}\nRubric: {{.rubric}}"},
		},
	})
	llmtJudgeOK(t, j, parisInput)
	got := s.requests()[0].messages()
	want := []llm.Message{
		{Role: "system", Content: "You grade answers for baseline."},
		{Role: "user", Content: "Q: What is the capital of France? (id 7)\nA: Paris is the capital of France.\nRubric: The answer names the capital correctly."},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("messages = %+v, want %+v", got, want)
	}
	// A single string is one user message; a missing field is an error.
	s2 := llmtReplying(t, `{"pass": true}`)
	j2 := rubricJudge(t, s2, map[string]any{"prompt": "Grade {{.output}} for {{.example.nope}}"})
	if err := llmtJudgeErr(t, j2, parisInput); !strings.Contains(err.Error(), "nope") {
		t.Errorf("error = %v", err)
	}
	if n := len(s2.requests()); n != 0 {
		t.Errorf("%d requests for a prompt that does not render", n)
	}
}

func TestLLMRubricBuildErrors(t *testing.T) {
	env := Env{Model: llmtOfflineEnv(t).Model}
	cases := []struct {
		opts map[string]any
		want string
	}{
		{map[string]any{"rubric": "x"}, "model: required"},
		{map[string]any{"model": "gpt-4o", "rubric": "x"}, `want "provider/model"`},
		{map[string]any{"model": "offline/judge"}, "rubric: required"},
		{map[string]any{"model": "offline/judge", "rubric": "{{.x"}, "rubric: template"},
		{map[string]any{"model": "offline/judge", "rubric": "x", "threshold": 2}, "threshold: 2 is outside 0..1"},
		{map[string]any{"model": "offline/judge", "rubric": "x", "max_parse_retries": -1}, "max_parse_retries: -1"},
		{map[string]any{"model": "offline/judge", "rubric": "x", "prompt": ""}, "prompt: empty"},
		{map[string]any{"model": "offline/judge", "rubric": "x", "prompt": []any{map[string]any{"role": "robot", "content": "x"}}}, `prompt[0].role: unknown role "robot"`},
		{map[string]any{"model": "offline/judge", "rubric": "x", "prompt": []any{map[string]any{"role": "user", "text": "x"}}}, "prompt[0].text: unknown field (known: content, role)"},
		{map[string]any{"model": "offline/judge", "rubric": "x", "prompt": []any{map[string]any{"role": "user", "content": "{{if}}"}}}, "prompt[0]"},
		{map[string]any{"model": "offline/judge", "rubric": "x", "rubrik": "y"}, "rubrik: unknown field"},
	}
	for _, tc := range cases {
		_, err := llmtTryBuild(env, "llm_rubric", tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("build %v: error %v, want %q", tc.opts, err, tc.want)
		}
	}
	f := llmtCatalog()["llm_rubric"]
	if _, err := f.Build(&LLMRubricConfig{Model: "offline/judge", Rubric: "x"}, Env{}); err == nil || !strings.Contains(err.Error(), "Env.Model is nil") {
		t.Errorf("build without a model router: %v", err)
	}
}

// TestLLMFactories checks the LLM factories' contract with the spec
// decoder, as TestBuiltinFactories does for the heuristic ones.
func TestLLMFactories(t *testing.T) {
	env := llmtOfflineEnv(t)
	valid := map[string]any{
		"llm_rubric": &LLMRubricConfig{Model: "offline/judge", Rubric: "Is it right?"},
		"closed_qa":  &ClosedQAConfig{Model: "offline/judge", Criteria: "correctness: Is the answer correct?"},
		"factuality": &FactualityConfig{Model: "offline/judge"},
		"classify":   &ClassifyConfig{Model: "offline/judge", Criteria: "Tone?", Choices: map[string]float64{"polite": 1, "rude": 0}},
		"g_eval":     &GEvalConfig{Model: "offline/judge", Criteria: "Coherence"},
		"pairwise":   &PairwiseConfig{Model: "offline/judge"},
		"panel":      &PanelConfig{Judges: []map[string]any{{"type": "llm_rubric", "model": "offline/judge", "rubric": "x"}}},
	}
	c := llmtCatalog()
	if got := c.Types(); strings.Join(got, ",") != "classify,closed_qa,factuality,g_eval,llm_rubric,pairwise,panel" {
		t.Errorf("types = %v", got)
	}
	for typ, f := range c {
		if f.Kind != "llm" || f.Description == "" || f.Type != typ {
			t.Errorf("%s: kind %q description %q type %q", typ, f.Kind, f.Description, f.Type)
		}
		cfg := f.NewConfig()
		if f.NewConfig() == cfg {
			t.Errorf("%s: NewConfig returns the same pointer twice", typ)
		}
		if _, err := f.Build(cfg, env); err == nil {
			t.Errorf("%s: the zero configuration builds", typ)
		}
		if _, err := f.Build(struct{}{}, env); err == nil || !strings.Contains(err.Error(), typ+": configuration is struct {}") {
			t.Errorf("%s: Build of a foreign type: %v", typ, err)
		}
		j, err := f.Build(valid[typ], env)
		if err != nil || j == nil {
			t.Errorf("%s: Build(%+v) = %v", typ, valid[typ], err)
		}
		// Every LLM judge but pairwise judges single outputs offline.
		if typ != "pairwise" {
			llmtJudgeOK(t, j, Input{Output: "Paris", Expected: "Paris"})
		}
	}
}

// The offline judge model makes llm_rubric work end to end with no server.
func TestLLMRubricOffline(t *testing.T) {
	env := llmtOfflineEnv(t)
	j := llmtBuild(t, env, "llm_rubric", map[string]any{"model": "offline/judge", "rubric": "The answer is correct."})
	var v Verdict
	spans := llmtRecorded(func(ctx context.Context) {
		var err error
		v, err = j.Judge(ctx, Input{Output: "The capital of France is Paris.", Expected: "Paris is the capital of France"})
		if err != nil {
			t.Fatal(err)
		}
	})
	if !v.Pass || *v.Score != 1 || !strings.Contains(v.Reason, "stand-in") || v.Details["structured"] != true {
		t.Errorf("verdict = %+v", v)
	}
	if len(spans) != 1 || spans[0].Attributes["model"] != "offline/judge" || spans[0].Attributes["cost_usd"] != 0.0 {
		t.Errorf("spans = %+v", spans)
	}
	v = llmtJudgeOK(t, j, Input{Output: "Lyon, probably.", Expected: "Paris is the capital of France"})
	if v.Pass || *v.Score != 0 {
		t.Errorf("verdict = %+v, want a fail", v)
	}
	// Plain text too.
	j = llmtBuild(t, env, "llm_rubric", map[string]any{"model": "offline/judge", "rubric": "Correct?", "structured": false})
	if v := llmtJudgeOK(t, j, Input{Output: "It is Paris.", Expected: "Paris"}); !v.Pass || v.Details["structured"] != false {
		t.Errorf("plain-text verdict = %+v", v)
	}
}

// A server that accepts only its default temperature (as OpenAI's
// reasoning models do) gets the judge's calls without one; a temperature
// the spec sets is never dropped.
func TestLLMRubricDefaultTemperatureRejected(t *testing.T) {
	s := newLLMTServer(t, func(_ int, r llmtReq) llmtReply {
		if _, ok := r.body["temperature"]; ok {
			return llmtError(400, "Unsupported value: 'temperature' does not support 0 with this model. Only the default (1) value is supported.", "temperature")
		}
		return llmtReply{choices: []string{`{"reason": "ok", "pass": true, "score": 1}`}}
	})
	j := rubricJudge(t, s, nil)
	llmtJudgeOK(t, j, parisInput)
	llmtJudgeOK(t, j, parisInput)
	reqs := s.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	if _, ok := reqs[2].body["temperature"]; ok || reqs[2].num("seed") != 0 || reqs[2].body["response_format"] == nil {
		t.Errorf("third request = %s", reqs[2].raw)
	}
	s2 := newLLMTServer(t, func(int, llmtReq) llmtReply {
		return llmtError(400, "Unsupported value: 'temperature'.", "temperature")
	})
	err := llmtJudgeErr(t, rubricJudge(t, s2, map[string]any{"params": map[string]any{"temperature": 0.2}}), parisInput)
	if !strings.Contains(err.Error(), "temperature") || len(s2.requests()) != 1 {
		t.Errorf("error %v after %d requests", err, len(s2.requests()))
	}
	// Refused twice over: format and temperature are both dropped.
	s3 := newLLMTServer(t, func(_ int, r llmtReq) llmtReply {
		if _, ok := r.body["response_format"]; ok {
			return llmtError(400, "response_format is not supported", "response_format")
		}
		if _, ok := r.body["temperature"]; ok {
			return llmtError(400, "temperature is not supported", "temperature")
		}
		return llmtReply{choices: []string{"Verdict: PASS"}}
	})
	if v := llmtJudgeOK(t, rubricJudge(t, s3, nil), parisInput); !v.Pass || len(s3.requests()) != 3 {
		t.Errorf("verdict %+v after %d requests", v, len(s3.requests()))
	}
}
