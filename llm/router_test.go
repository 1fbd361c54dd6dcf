package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/traces"
)

func TestChatRecordsOneSpan(t *testing.T) {
	f := newFakeServer(t, respond(200, okReply))
	r := localRouter(t, f, 0)
	rec := traces.NewRecorder("trace-1", nil)
	ctx := traces.WithRecorder(context.Background(), rec)
	resp, err := r.Chat(ctx, llm.Request{
		Name:     "solve",
		Model:    "local/tiny",
		Messages: userMsg,
		Params:   llm.Params{Temperature: ptr(0.0), Seed: ptr(3)},
	})
	if err != nil {
		t.Fatal(err)
	}
	spans := rec.Spans()
	if len(spans) != 1 {
		t.Fatalf("recorded %d spans, want 1", len(spans))
	}
	s := spans[0]
	if s.Name != "solve" || s.Kind != traces.KindLLM || s.Status != traces.StatusOK || s.Error != "" {
		t.Errorf("span = %q %q %q %q", s.Name, s.Kind, s.Status, s.Error)
	}
	wantIn, _ := json.Marshal(userMsg)
	if s.Input != string(wantIn) {
		t.Errorf("input = %s, want %s", s.Input, wantIn)
	}
	if s.Output != resp.Content {
		t.Errorf("output = %q, want %q", s.Output, resp.Content)
	}
	a := s.Attributes
	wantAttrs := map[string]any{
		"model":             "local/tiny",
		"provider":          "local",
		"base_url":          f.URL + "/v1",
		"prompt_tokens":     1000,
		"completion_tokens": 500,
		"tokens_estimated":  false,
		"finish_reason":     "stop",
	}
	for k, want := range wantAttrs {
		if a[k] != want {
			t.Errorf("attribute %s = %v (%T), want %v", k, a[k], a[k], want)
		}
	}
	if c, ok := a["cost_usd"].(float64); !ok || math.Abs(c-0.002) > 1e-12 {
		t.Errorf("cost_usd = %v", a["cost_usd"])
	}
	if !jsonEqual(a["params"], map[string]any{"seed": 3, "temperature": 0}) {
		t.Errorf("params = %v, want seed 3 and temperature 0 only", a["params"])
	}
	assertNoKey(t, s)
}

func TestChatSpanOnFailure(t *testing.T) {
	f := newFakeServer(t, respond(401, `{"error":{"message":"Incorrect API key provided: `+testKey+`.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`))
	r := localRouter(t, f, 0)
	rec := traces.NewRecorder("trace-2", nil)
	_, err := r.Chat(traces.WithRecorder(context.Background(), rec), llm.Request{Model: "local/tiny", Messages: userMsg})
	if err == nil {
		t.Fatal("no error")
	}
	spans := rec.Spans()
	if len(spans) != 1 {
		t.Fatalf("recorded %d spans, want 1", len(spans))
	}
	s := spans[0]
	if s.Name != "local/tiny" {
		t.Errorf("span name = %q, want the model name by default", s.Name)
	}
	if s.Status != traces.StatusError || !strings.Contains(s.Error, "HTTP 401") {
		t.Errorf("status %q error %q, want a failed span with the HTTP status", s.Status, s.Error)
	}
	if _, ok := s.Attributes["cost_usd"]; ok {
		t.Errorf("failed call has a cost")
	}
	assertNoKey(t, s)
}

// assertNoKey fails if the API key appears anywhere in the span.
func assertNoKey(t *testing.T, s traces.Span) {
	t.Helper()
	attrs, err := json.Marshal(s.Attributes)
	if err != nil {
		t.Fatal(err)
	}
	for what, text := range map[string]string{"input": s.Input, "output": s.Output, "attributes": string(attrs), "error": s.Error, "name": s.Name} {
		if strings.Contains(text, testKey) {
			t.Errorf("span %s contains the API key: %s", what, text)
		}
	}
}

func TestSpanWithoutRecorder(t *testing.T) {
	r, err := llm.NewRouter(llm.Config{Local: local(), Getenv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	// No recorder: the call works and nothing panics.
	if _, err := r.Chat(context.Background(), llm.Request{Model: "offline/echo", Messages: []llm.Message{{Role: "user", Content: "x"}}}); err != nil {
		t.Fatal(err)
	}
}

func TestOfflineSpan(t *testing.T) {
	r, err := llm.NewRouter(llm.Config{Local: local(), Getenv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	rec := traces.NewRecorder("t", nil)
	_, err = r.Chat(traces.WithRecorder(context.Background(), rec), llm.Request{Model: "offline/calc", Messages: []llm.Message{{Role: "user", Content: "1 + 1"}}})
	if err != nil {
		t.Fatal(err)
	}
	s := rec.Spans()[0]
	if s.Attributes["provider"] != "offline" || s.Attributes["cost_usd"] != 0.0 || s.Attributes["tokens_estimated"] != true {
		t.Errorf("attributes = %v", s.Attributes)
	}
	if _, ok := s.Attributes["base_url"]; ok {
		t.Errorf("offline span has a base_url")
	}
	if _, ok := s.Attributes["params"]; ok {
		t.Errorf("params recorded though none was set")
	}
}

// failTransport fails the test on any HTTP request.
type failTransport struct{ t *testing.T }

func (ft failTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	ft.t.Errorf("unexpected HTTP request to %s", r.URL)
	return nil, errors.New("no requests allowed")
}

func TestCheck(t *testing.T) {
	r, err := llm.NewRouter(llm.Config{Local: local(),
		Providers: []llm.ProviderConfig{
			{Name: "local", Type: "openai", BaseURL: "http://127.0.0.1:1/v1"},
			{Name: "azure-ish", BaseURL: "https://api.openai.com/v1", APIKeyEnv: "MY_OPENAI_KEY"},
			{Name: "fake", Type: "offline"},
		},
		Getenv:     env(nil),
		HTTPClient: &http.Client{Transport: failTransport{t}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		model   string
		wantErr []string // substrings; none means no error
	}{
		{"offline/calc", nil},
		{"offline/echo", nil},
		{"fake/calc", nil},
		{"local/llama3:8b", nil}, // no key needed off api.openai.com
		{"local/org/model", nil},
		{"nope/gpt-4o", []string{`unknown provider "nope"`, "azure-ish, fake, local, offline, openai"}},
		{"openai/", []string{"empty model name"}},
		{"gpt-4o-mini", []string{`"provider/model"`}},
		{"/gpt-4o-mini", []string{`"provider/model"`}},
		{"openai/gpt-4o-mini", []string{"OPENAI_API_KEY"}},
		{"azure-ish/gpt-4o", []string{"MY_OPENAI_KEY"}},
		{"offline/gpt-4o", []string{`unknown offline model "gpt-4o"`, "calc, echo"}},
	}
	for _, tc := range cases {
		err := r.Check(tc.model)
		if len(tc.wantErr) == 0 {
			if err != nil {
				t.Errorf("Check(%q) = %v", tc.model, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("Check(%q) = nil, want an error", tc.model)
			continue
		}
		for _, w := range tc.wantErr {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Check(%q) = %q, want it to mention %q", tc.model, err, w)
			}
		}
		// Chat fails the same way, before any request.
		_, cerr := r.Chat(context.Background(), llm.Request{Model: tc.model, Messages: []llm.Message{{Role: "user", Content: "hi"}}})
		if cerr == nil {
			t.Errorf("Chat(%q) succeeded though Check fails", tc.model)
		}
	}
}

func TestCheckWithKey(t *testing.T) {
	r, err := llm.NewRouter(llm.Config{Local: local(), Getenv: env(map[string]string{"OPENAI_API_KEY": testKey})})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Check("openai/gpt-4o-mini"); err != nil {
		t.Errorf("Check with the key set: %v", err)
	}
}

func TestCustomProviderKeyOnTheWire(t *testing.T) {
	f := newFakeServer(t, respond(200, okReply))
	r, err := llm.NewRouter(llm.Config{Local: local(),
		Providers: []llm.ProviderConfig{{Name: "vllm", Type: "openai", BaseURL: f.URL + "/v1/", APIKeyEnv: "VLLM_TOKEN"}},
		Getenv:    env(map[string]string{"VLLM_TOKEN": "tok-vllm-123", "OPENAI_API_KEY": testKey}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Chat(context.Background(), llm.Request{Model: "vllm/meta-llama/Llama-3.1-8B-Instruct", Messages: userMsg}); err != nil {
		t.Fatal(err)
	}
	got := f.only(t)
	if got.auth != "Bearer tok-vllm-123" {
		t.Errorf("Authorization = %q, want the VLLM_TOKEN value", got.auth)
	}
	if got.body["model"] != "meta-llama/Llama-3.1-8B-Instruct" || got.path != "/v1/chat/completions" {
		t.Errorf("model %v path %s", got.body["model"], got.path)
	}
}

func TestCustomProviderWithoutKeySendsNone(t *testing.T) {
	f := newFakeServer(t, respond(200, okReply))
	r, err := llm.NewRouter(llm.Config{Local: local(),
		Providers: []llm.ProviderConfig{{Name: "ollama", BaseURL: f.URL + "/v1"}},
		Getenv:    env(map[string]string{"OPENAI_API_KEY": testKey}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Chat(context.Background(), llm.Request{Model: "ollama/llama3", Messages: userMsg}); err != nil {
		t.Fatal(err)
	}
	if got := f.only(t).auth; got != "" {
		t.Errorf("Authorization = %q, want none", got)
	}
}

func TestOverrideOpenAI(t *testing.T) {
	f := newFakeServer(t, respond(200, okReply))
	r, err := llm.NewRouter(llm.Config{Local: local(),
		Providers: []llm.ProviderConfig{{Name: "openai", BaseURL: f.URL + "/v1", APIKeyEnv: "PROXY_KEY"}},
		Getenv:    env(map[string]string{"PROXY_KEY": "proxy-key", "OPENAI_API_KEY": testKey}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Chat(context.Background(), llm.Request{Model: "openai/gpt-4o", Messages: userMsg}); err != nil {
		t.Fatal(err)
	}
	if got := f.only(t).auth; got != "Bearer proxy-key" {
		t.Errorf("Authorization = %q", got)
	}
}

func TestChatRejectsEmptyMessages(t *testing.T) {
	r, err := llm.NewRouter(llm.Config{Local: local(), Getenv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Chat(context.Background(), llm.Request{Model: "offline/echo"}); err == nil {
		t.Error("no error for a request without messages")
	}
}

func TestNewRouterErrors(t *testing.T) {
	cases := []struct {
		name string
		cfg  llm.Config
		want string
	}{
		{"no getenv", llm.Config{}, "Getenv"},
		{"negative timeout", llm.Config{Local: local(), Getenv: env(nil), Timeout: -1}, "timeout"},
		{"no name", llm.Config{Local: local(), Getenv: env(nil), Providers: []llm.ProviderConfig{{BaseURL: "http://x"}}}, "no name"},
		{"slash", llm.Config{Local: local(), Getenv: env(nil), Providers: []llm.ProviderConfig{{Name: "a/b", BaseURL: "http://x"}}}, `"/"`},
		{"reserved", llm.Config{Local: local(), Getenv: env(nil), Providers: []llm.ProviderConfig{{Name: "offline", Type: "offline"}}}, "reserved"},
		{"twice", llm.Config{Local: local(), Getenv: env(nil), Providers: []llm.ProviderConfig{{Name: "a", BaseURL: "http://x"}, {Name: "a", BaseURL: "http://y"}}}, "twice"},
		{"no url", llm.Config{Local: local(), Getenv: env(nil), Providers: []llm.ProviderConfig{{Name: "a", Type: "openai"}}}, "base_url is required"},
		{"bad scheme", llm.Config{Local: local(), Getenv: env(nil), Providers: []llm.ProviderConfig{{Name: "a", BaseURL: "localhost:8080"}}}, "http://"},
		{"bad type", llm.Config{Local: local(), Getenv: env(nil), Providers: []llm.ProviderConfig{{Name: "a", Type: "anthropic", BaseURL: "http://x"}}}, `unknown type "anthropic"`},
		{"offline with url", llm.Config{Local: local(), Getenv: env(nil), Providers: []llm.ProviderConfig{{Name: "a", Type: "offline", BaseURL: "http://x"}}}, "no base_url"},
	}
	for _, tc := range cases {
		_, err := llm.NewRouter(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
}

func TestBaseURLCredentialsNotTraced(t *testing.T) {
	f := newFakeServer(t, respond(200, okReply))
	u := strings.Replace(f.URL, "http://", "http://user:"+testKey+"@", 1)
	r, err := llm.NewRouter(llm.Config{Local: local(),
		Providers: []llm.ProviderConfig{{Name: "local", BaseURL: u + "/v1"}},
		Getenv:    env(nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := traces.NewRecorder("t", nil)
	if _, err := r.Chat(traces.WithRecorder(context.Background(), rec), llm.Request{Model: "local/tiny", Messages: userMsg}); err != nil {
		t.Fatal(err)
	}
	assertNoKey(t, rec.Spans()[0])
}
