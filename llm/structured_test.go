package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/traces"
)

// rawServer is an OpenAI-compatible server on 127.0.0.1 that keeps each
// request's raw body, so tests can check the order of JSON keys.
type rawServer struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	paths  []string
}

func newRawServer(t *testing.T, status int, reply string) *rawServer {
	t.Helper()
	s := &rawServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.bodies = append(s.bodies, b)
		s.paths = append(s.paths, r.URL.Path)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, reply)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *rawServer) only(t *testing.T) (string, []byte) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.bodies) != 1 {
		t.Fatalf("server got %d requests, want 1", len(s.bodies))
	}
	return s.paths[0], s.bodies[0]
}

func (s *rawServer) router(t *testing.T) *llm.Router {
	t.Helper()
	r, err := llm.NewRouter(llm.Config{Local: local(),
		Providers: []llm.ProviderConfig{{Name: "local", BaseURL: s.URL + "/v1", APIKeyEnv: "LOCAL_KEY"}},
		Prices: llm.PriceTable{
			"local/tiny":  {InputPerMTok: 1, OutputPerMTok: 2},
			"local/embed": {InputPerMTok: 0.5},
		},
		Getenv: env(map[string]string{"LOCAL_KEY": testKey}),
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// verdictSchema lists "reason" before "pass": the order must survive.
const verdictSchema = `{"type":"object","properties":{"reason":{"type":"string"},"pass":{"type":"boolean"},"score":{"type":"number","minimum":0,"maximum":1}},"required":["reason","pass","score"],"additionalProperties":false}`

func TestResponseFormatJSONSchemaOnTheWire(t *testing.T) {
	s := newRawServer(t, 200, okReply)
	_, err := s.router(t).Chat(context.Background(), llm.Request{
		Model:    "local/tiny",
		Messages: userMsg,
		Params: llm.Params{ResponseFormat: &llm.ResponseFormat{
			Type:       llm.FormatJSONSchema,
			JSONSchema: &llm.JSONSchema{Name: "verdict", Schema: json.RawMessage(verdictSchema), Strict: true},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	path, raw := s.only(t)
	if path != "/v1/chat/completions" {
		t.Errorf("path = %s", path)
	}
	var body struct {
		ResponseFormat struct {
			Type       string `json:"type"`
			JSONSchema struct {
				Name   string          `json:"name"`
				Strict bool            `json:"strict"`
				Schema json.RawMessage `json:"schema"`
			} `json:"json_schema"`
		} `json:"response_format"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatal(err)
	}
	rf := body.ResponseFormat
	if rf.Type != "json_schema" || rf.JSONSchema.Name != "verdict" || !rf.JSONSchema.Strict {
		t.Errorf("response_format = %s", raw)
	}
	if string(rf.JSONSchema.Schema) != verdictSchema {
		t.Errorf("schema on the wire = %s\nwant (same key order) %s", rf.JSONSchema.Schema, verdictSchema)
	}
	for _, absent := range []string{`"logprobs"`, `"top_logprobs"`, `"n"`} {
		if strings.Contains(string(raw), absent+":") {
			t.Errorf("%s sent but not set: %s", absent, raw)
		}
	}
}

func TestResponseFormatFromYAMLMap(t *testing.T) {
	// A schema decoded from a spec is a map; it goes out as a JSON object.
	f := newFakeServer(t, respond(200, okReply))
	r := localRouter(t, f, 0)
	_, err := r.Chat(context.Background(), llm.Request{Model: "local/tiny", Messages: userMsg, Params: llm.Params{
		ResponseFormat: &llm.ResponseFormat{Type: "json_schema", JSONSchema: &llm.JSONSchema{
			Name: "answer", Schema: map[string]any{"type": "object", "properties": map[string]any{"x": map[string]any{"type": "integer"}}},
		}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"type": "json_schema", "json_schema": map[string]any{
		"name": "answer", "strict": false,
		"schema": map[string]any{"type": "object", "properties": map[string]any{"x": map[string]any{"type": "integer"}}},
	}}
	if got := f.only(t).body["response_format"]; !jsonEqual(got, want) {
		t.Errorf("response_format = %v, want %v", got, want)
	}
}

func TestResponseFormatJSONObjectLogprobsNOnTheWire(t *testing.T) {
	f := newFakeServer(t, respond(200, okReply))
	r := localRouter(t, f, 0)
	_, err := r.Chat(context.Background(), llm.Request{Model: "local/tiny", Messages: userMsg, Params: llm.Params{
		ResponseFormat: &llm.ResponseFormat{Type: llm.FormatJSONObject},
		Logprobs:       true,
		TopLogprobs:    ptr(20),
		N:              ptr(3),
	}})
	if err != nil {
		t.Fatal(err)
	}
	b := f.only(t).body
	if !jsonEqual(b["response_format"], map[string]any{"type": "json_object"}) {
		t.Errorf("response_format = %v", b["response_format"])
	}
	if b["logprobs"] != true || b["top_logprobs"] != 20.0 || b["n"] != 3.0 {
		t.Errorf("logprobs %v top_logprobs %v n %v", b["logprobs"], b["top_logprobs"], b["n"])
	}
}

func TestTopLogprobsZeroIsSent(t *testing.T) {
	f := newFakeServer(t, respond(200, okReply))
	r := localRouter(t, f, 0)
	_, err := r.Chat(context.Background(), llm.Request{Model: "local/tiny", Messages: userMsg, Params: llm.Params{Logprobs: true, TopLogprobs: ptr(0)}})
	if err != nil {
		t.Fatal(err)
	}
	b := f.only(t).body
	if v, ok := b["top_logprobs"]; !ok || v != 0.0 || b["logprobs"] != true {
		t.Errorf("top_logprobs = %v (present %v), logprobs = %v", v, ok, b["logprobs"])
	}
}

func TestBadStructuredParams(t *testing.T) {
	cases := []struct {
		name   string
		params llm.Params
		want   string
	}{
		{"n zero", llm.Params{N: ptr(0)}, "n must be at least 1"},
		{"top without logprobs", llm.Params{TopLogprobs: ptr(5)}, "top_logprobs requires logprobs"},
		{"negative top", llm.Params{Logprobs: true, TopLogprobs: ptr(-1)}, "top_logprobs must not be negative"},
		{"unknown format", llm.Params{ResponseFormat: &llm.ResponseFormat{Type: "yaml"}}, `unknown type "yaml"`},
		{"schema without name", llm.Params{ResponseFormat: &llm.ResponseFormat{Type: "json_schema", JSONSchema: &llm.JSONSchema{Schema: map[string]any{}}}}, "needs a name"},
		{"schema missing", llm.Params{ResponseFormat: &llm.ResponseFormat{Type: "json_schema", JSONSchema: &llm.JSONSchema{Name: "x"}}}, "no schema"},
		{"schema not an object", llm.Params{ResponseFormat: &llm.ResponseFormat{Type: "json_schema", JSONSchema: &llm.JSONSchema{Name: "x", Schema: []int{1}}}}, "not a JSON object"},
		{"json_object with schema", llm.Params{ResponseFormat: &llm.ResponseFormat{Type: "json_object", JSONSchema: &llm.JSONSchema{Name: "x"}}}, "takes no json_schema"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeServer(t, respond(200, okReply))
			r := localRouter(t, f, 0)
			_, err := r.Chat(context.Background(), llm.Request{Model: "local/tiny", Messages: userMsg, Params: tc.params})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
			if n := len(f.requests()); n != 0 {
				t.Errorf("server got %d requests", n)
			}
		})
	}
}

// A reply with three choices, logprobs on the first, as the OpenAI API
// sends it (choices deliberately out of index order).
const choicesReply = `{
  "id": "chatcmpl-1", "object": "chat.completion", "created": 1741569952, "model": "tiny",
  "choices": [
    {"index": 2, "message": {"role": "assistant", "content": "3", "refusal": null}, "logprobs": null, "finish_reason": "stop"},
    {"index": 0, "message": {"role": "assistant", "content": "4", "refusal": null},
     "logprobs": {"content": [
       {"token": "4", "logprob": -0.25, "bytes": [52], "top_logprobs": [
         {"token": "4", "logprob": -0.25, "bytes": [52]},
         {"token": "3", "logprob": -1.6, "bytes": [51]}
       ]}
     ], "refusal": null},
     "finish_reason": "stop"},
    {"index": 1, "message": {"role": "assistant", "content": "5", "refusal": null}, "logprobs": null, "finish_reason": "stop"}
  ],
  "usage": {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13}
}`

func TestChoicesAndLogprobs(t *testing.T) {
	f := newFakeServer(t, respond(200, choicesReply))
	r := localRouter(t, f, 0)
	rec := traces.NewRecorder("t", nil)
	resp, err := r.Chat(traces.WithRecorder(context.Background(), rec), llm.Request{Model: "local/tiny", Messages: userMsg,
		Params: llm.Params{N: ptr(3), Logprobs: true, TopLogprobs: ptr(2)}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content != "4" || strings.Join(resp.Choices, ",") != "4,5,3" {
		t.Errorf("content %q choices %q, want 4 and [4 5 3]", resp.Content, resp.Choices)
	}
	want := []llm.TokenLogprob{{Token: "4", Logprob: -0.25, Top: []llm.TopLogprob{{Token: "4", Logprob: -0.25}, {Token: "3", Logprob: -1.6}}}}
	if !jsonEqual(resp.Logprobs, want) {
		t.Errorf("logprobs = %+v, want %+v", resp.Logprobs, want)
	}
	s := rec.Spans()[0]
	if s.Attributes["choices"] != 3 || s.Output != `["4","5","3"]` {
		t.Errorf("span choices %v output %s", s.Attributes["choices"], s.Output)
	}
	if !jsonEqual(s.Attributes["params"], map[string]any{"logprobs": true, "n": 3, "top_logprobs": 2}) {
		t.Errorf("params = %v", s.Attributes["params"])
	}
}

func TestRefusal(t *testing.T) {
	body := `{"id":"x","object":"chat.completion","created":1,"model":"tiny",
	  "choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I'm sorry, I cannot assist with that request."},"finish_reason":"stop"}],
	  "usage":{"prompt_tokens":5,"completion_tokens":9,"total_tokens":14}}`
	f := newFakeServer(t, respond(200, body))
	resp, err := localRouter(t, f, 0).Chat(context.Background(), llm.Request{Model: "local/tiny", Messages: userMsg})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content != "" || resp.Refusal != "I'm sorry, I cannot assist with that request." {
		t.Errorf("content %q refusal %q", resp.Content, resp.Refusal)
	}
}

func TestRejectsParam(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		want   bool
	}{
		{"openai schema unsupported", 400, `{"error":{"message":"Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.","type":"invalid_request_error","param":"response_format","code":null}}`, true},
		{"param only", 400, `{"error":{"message":"Unsupported value.","type":"invalid_request_error","param":"response_format.json_schema","code":"unsupported_value"}}`, true},
		{"vllm 422 plain text", 422, `response_format: json_schema is not supported by this server`, true},
		{"other 400", 400, `{"error":{"message":"Invalid value for 'temperature'.","type":"invalid_request_error","param":"temperature","code":"invalid_value"}}`, false},
		{"500 mentioning it", 500, `{"error":{"message":"response_format crashed","type":"server_error","param":null,"code":null}}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeServer(t, respond(tc.status, tc.body))
			_, err := localRouter(t, f, 0).Chat(context.Background(), llm.Request{Model: "local/tiny", Messages: userMsg})
			if err == nil {
				t.Fatal("no error")
			}
			if got := llm.RejectsParam(err, "response_format", "json_schema"); got != tc.want {
				t.Errorf("RejectsParam(%v) = %v, want %v", err, got, tc.want)
			}
		})
	}
	if llm.RejectsParam(errors.New("response_format"), "response_format") {
		t.Error("RejectsParam of a plain error = true")
	}
	var apiErr *llm.APIError
	f := newFakeServer(t, respond(400, cases[0].body))
	_, err := localRouter(t, f, 0).Chat(context.Background(), llm.Request{Model: "local/tiny", Messages: userMsg})
	if !errors.As(err, &apiErr) || apiErr.Param != "response_format" {
		t.Errorf("APIError.Param = %+v", apiErr)
	}
}

func TestParamsMerge(t *testing.T) {
	base := llm.Params{Temperature: ptr(0.0), Seed: ptr(0), MaxTokens: ptr(10)}
	rf := &llm.ResponseFormat{Type: llm.FormatJSONObject}
	got := base.Merge(llm.Params{Temperature: ptr(1.0), ResponseFormat: rf, Logprobs: true, TopLogprobs: ptr(5), N: ptr(2)})
	if *got.Temperature != 1 || *got.Seed != 0 || *got.MaxTokens != 10 || got.ResponseFormat != rf || !got.Logprobs || *got.TopLogprobs != 5 || *got.N != 2 {
		t.Errorf("Merge = %+v", got)
	}
	if *base.Temperature != 0 {
		t.Error("Merge changed its receiver")
	}
	if got := base.Merge(llm.Params{}); !jsonEqual(got, base) {
		t.Errorf("Merge of nothing = %+v, want %+v", got, base)
	}
}

const embedReply = `{
  "object": "list",
  "data": [
    {"object": "embedding", "index": 1, "embedding": [0.5, -0.25, 0.125]},
    {"object": "embedding", "index": 0, "embedding": [1.0, 0.0, -1.0]}
  ],
  "model": "embed",
  "usage": {"prompt_tokens": 8, "total_tokens": 8}
}`

func TestEmbedOnTheWire(t *testing.T) {
	s := newRawServer(t, 200, embedReply)
	rec := traces.NewRecorder("t", nil)
	resp, err := s.router(t).Embed(traces.WithRecorder(context.Background(), rec), llm.EmbedRequest{
		Model: "local/embed", Input: []string{"first text", "second text"}, Name: "similar",
	})
	if err != nil {
		t.Fatal(err)
	}
	path, raw := s.only(t)
	if path != "/v1/embeddings" {
		t.Errorf("path = %s", path)
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(body, map[string]any{"input": []string{"first text", "second text"}, "model": "embed"}) {
		t.Errorf("request = %s", raw)
	}
	want := [][]float64{{1, 0, -1}, {0.5, -0.25, 0.125}}
	if !jsonEqual(resp.Vectors, want) {
		t.Errorf("vectors = %v, want %v (in input order)", resp.Vectors, want)
	}
	if resp.Usage.PromptTokens != 8 || resp.Estimated {
		t.Errorf("usage = %+v estimated %v", resp.Usage, resp.Estimated)
	}
	if resp.CostUSD == nil || math.Abs(*resp.CostUSD-4e-6) > 1e-15 {
		t.Errorf("cost = %s, want 8 tokens at $0.5/M", costString(resp.CostUSD))
	}
	sp := rec.Spans()
	if len(sp) != 1 {
		t.Fatalf("%d spans", len(sp))
	}
	a := sp[0].Attributes
	if sp[0].Name != "similar" || sp[0].Kind != traces.KindLLM || a["model"] != "local/embed" || a["provider"] != "local" ||
		a["dimensions"] != 3 || a["inputs"] != 2 || a["prompt_tokens"] != 8 || a["operation"] != "embeddings" {
		t.Errorf("span %q %q %v", sp[0].Name, sp[0].Kind, a)
	}
	if sp[0].Input != `["first text","second text"]` || sp[0].Output != "2 vectors of 3 dimensions" {
		t.Errorf("span input %s output %s", sp[0].Input, sp[0].Output)
	}
	assertNoKey(t, sp[0])
}

func TestEmbedErrorsAreRedacted(t *testing.T) {
	s := newRawServer(t, 401, `{"error":{"message":"Incorrect API key provided: `+testKey+`.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`)
	rec := traces.NewRecorder("t", nil)
	_, err := s.router(t).Embed(traces.WithRecorder(context.Background(), rec), llm.EmbedRequest{Model: "local/embed", Input: []string{"x"}})
	var apiErr *llm.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || apiErr.Code != "invalid_api_key" {
		t.Fatalf("err = %v, want an APIError 401", err)
	}
	if strings.Contains(err.Error(), testKey) || !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("error not redacted: %v", err)
	}
	sp := rec.Spans()
	if len(sp) != 1 || sp[0].Status != traces.StatusError || sp[0].Name != "local/embed" {
		t.Fatalf("spans = %+v", sp)
	}
	assertNoKey(t, sp[0])
}

func TestEmbedBadResponses(t *testing.T) {
	cases := map[string]string{
		"too few":        `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[1]}],"model":"e","usage":{"prompt_tokens":1,"total_tokens":1}}`,
		"repeated index": `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[1]},{"object":"embedding","index":0,"embedding":[2]}],"model":"e","usage":{"prompt_tokens":1,"total_tokens":1}}`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			s := newRawServer(t, 200, body)
			_, err := s.router(t).Embed(context.Background(), llm.EmbedRequest{Model: "local/embed", Input: []string{"a", "b"}})
			if err == nil {
				t.Fatal("no error")
			}
		})
	}
	r := offlineRouter(t)
	if _, err := r.Embed(context.Background(), llm.EmbedRequest{Model: "offline/embed"}); err == nil || !strings.Contains(err.Error(), "no input") {
		t.Errorf("empty input: err = %v", err)
	}
}

func TestEmbedMissingUsageIsEstimated(t *testing.T) {
	s := newRawServer(t, 200, `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[1]}],"model":"e"}`)
	resp, err := s.router(t).Embed(context.Background(), llm.EmbedRequest{Model: "local/embed", Input: []string{"twelve bytes"}})
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Estimated || resp.Usage.PromptTokens != 3 {
		t.Errorf("usage %+v estimated %v, want 3 estimated", resp.Usage, resp.Estimated)
	}
}

func TestEmbeddingPrices(t *testing.T) {
	p := llm.DefaultPrices()
	for model, want := range map[string]float64{"openai/text-embedding-3-small": 0.02, "openai/text-embedding-3-large": 0.13} {
		got, ok := p.Lookup(model)
		if !ok || got.InputPerMTok != want || got.OutputPerMTok != 0 {
			t.Errorf("%s = %+v %v, want input %v", model, got, ok, want)
		}
	}
}

// go-openai refuses some parameters of reasoning models before sending;
// the refusal is a *ParamError that RejectsParam recognises.
func TestReasoningModelParamRefusals(t *testing.T) {
	f := newFakeServer(t, respond(200, okReply))
	r := localRouter(t, f, 0)
	_, err := r.Chat(context.Background(), llm.Request{Model: "local/o4-mini", Messages: userMsg, Params: llm.Params{Logprobs: true, TopLogprobs: ptr(5)}})
	var pe *llm.ParamError
	if !errors.As(err, &pe) || !llm.RejectsParam(err, "logprobs") || llm.RejectsParam(err, "n") {
		t.Fatalf("err = %v (%T)", err, err)
	}
	_, err = r.Chat(context.Background(), llm.Request{Model: "local/gpt-5-mini", Messages: userMsg, Params: llm.Params{N: ptr(3), Temperature: ptr(1.0)}})
	if !llm.RejectsParam(err, "n") || !strings.Contains(err.Error(), `provider "local"`) {
		t.Errorf("err = %v", err)
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("server got %d requests", n)
	}
}
