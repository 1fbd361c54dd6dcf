package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/llm"
)

const testKey = "sk-test-Zq9xW2vB7nM4kL1p"

// okReply is a chat completion body as the OpenAI API sends it.
const okReply = `{
  "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
  "object": "chat.completion",
  "created": 1741569952,
  "model": "tiny-2025-01-01",
  "choices": [
    {
      "index": 0,
      "message": {"role": "assistant", "content": "Computing 9 * 2.\nThe answer is 18.\n#### 18", "refusal": null, "annotations": []},
      "logprobs": null,
      "finish_reason": "stop"
    }
  ],
  "usage": {
    "prompt_tokens": 1000,
    "completion_tokens": 500,
    "total_tokens": 1500,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
  },
  "service_tier": "default",
  "system_fingerprint": "fp_fc9f1d7035"
}`

// seen is one request as the fake server received it.
type seen struct {
	method, path, auth string
	body               map[string]any
}

// fakeServer is an OpenAI-compatible chat completions server on 127.0.0.1.
type fakeServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

// newFakeServer starts a server that records every request and answers
// with reply (status and body); reply may block.
func newFakeServer(t *testing.T, reply func(w http.ResponseWriter, r *http.Request)) *fakeServer {
	t.Helper()
	f := &fakeServer{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("reading request body: %v", err)
		}
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Errorf("request body is not a JSON object: %v: %s", err, raw)
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, seen{method: r.Method, path: r.URL.Path, auth: r.Header.Get("Authorization"), body: body})
		f.mu.Unlock()
		reply(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeServer) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

func (f *fakeServer) only(t *testing.T) seen {
	t.Helper()
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("server got %d requests, want 1", len(reqs))
	}
	return reqs[0]
}

func respond(status int, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// localRouter returns a Router with a provider "local" served by f, whose
// key is testKey, and "local/tiny" priced at $1 / $2 per million tokens.
func localRouter(t *testing.T, f *fakeServer, timeout time.Duration) *llm.Router {
	t.Helper()
	r, err := llm.NewRouter(llm.Config{Local: local(),
		Providers: []llm.ProviderConfig{{Name: "local", Type: "openai", BaseURL: f.URL + "/v1", APIKeyEnv: "LOCAL_KEY"}},
		Prices:    llm.PriceTable{"local/tiny": {InputPerMTok: 1, OutputPerMTok: 2}},
		Timeout:   timeout,
		Getenv:    env(map[string]string{"LOCAL_KEY": testKey}),
		// The default retry policy, with short waits.
		Retry: llm.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func ptr[T any](v T) *T { return &v }

var userMsg = []llm.Message{
	{Role: "system", Content: "Answer with #### and a number."},
	{Role: "user", Content: "What is 9 * 2?"},
}

func TestOpenAISuccess(t *testing.T) {
	f := newFakeServer(t, respond(200, okReply))
	r := localRouter(t, f, 0)
	resp, err := r.Chat(context.Background(), llm.Request{
		Model:    "local/tiny",
		Messages: userMsg,
		Params: llm.Params{
			Temperature: ptr(0.0),
			MaxTokens:   ptr(50),
			Seed:        ptr(7),
			Stop:        []string{"\n\n", "END"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "Computing 9 * 2.\nThe answer is 18.\n#### 18"; resp.Content != want {
		t.Errorf("content = %q, want %q", resp.Content, want)
	}
	if resp.Usage != (llm.Usage{PromptTokens: 1000, CompletionTokens: 500}) || resp.Estimated {
		t.Errorf("usage = %+v estimated=%v, want 1000/500 reported", resp.Usage, resp.Estimated)
	}
	if resp.FinishReason != "stop" {
		t.Errorf("finish reason = %q", resp.FinishReason)
	}
	if resp.CostUSD == nil || math.Abs(*resp.CostUSD-0.002) > 1e-12 {
		t.Errorf("cost = %s, want 0.002", costString(resp.CostUSD))
	}

	got := f.only(t)
	if got.method != http.MethodPost || got.path != "/v1/chat/completions" {
		t.Errorf("request = %s %s, want POST /v1/chat/completions", got.method, got.path)
	}
	if got.auth != "Bearer "+testKey {
		t.Errorf("Authorization = %q", got.auth)
	}
	b := got.body
	if b["model"] != "tiny" {
		t.Errorf("model = %v, want tiny (no provider prefix)", b["model"])
	}
	wantMsgs := []any{
		map[string]any{"role": "system", "content": "Answer with #### and a number."},
		map[string]any{"role": "user", "content": "What is 9 * 2?"},
	}
	if !jsonEqual(b["messages"], wantMsgs) {
		t.Errorf("messages = %v, want %v", b["messages"], wantMsgs)
	}
	if v, ok := b["temperature"]; !ok || v != 0.0 {
		t.Errorf("temperature = %v (present %v), want an explicit 0", v, ok)
	}
	if b["max_tokens"] != 50.0 || b["seed"] != 7.0 {
		t.Errorf("max_tokens = %v, seed = %v", b["max_tokens"], b["seed"])
	}
	if !jsonEqual(b["stop"], []any{"\n\n", "END"}) {
		t.Errorf("stop = %v", b["stop"])
	}
	for _, k := range []string{"top_p", "presence_penalty", "frequency_penalty", "max_completion_tokens"} {
		if v, ok := b[k]; ok {
			t.Errorf("%s = %v was sent but not set", k, v)
		}
	}
}

func TestOpenAIParamsOnTheWire(t *testing.T) {
	f := newFakeServer(t, respond(200, okReply))
	r := localRouter(t, f, 0)
	_, err := r.Chat(context.Background(), llm.Request{
		Model: "local/tiny",
		Messages: []llm.Message{
			{Role: "user", Content: "hi"},
			{Role: "assistant", Content: ""},
			{Role: "user", Content: "go on"},
		},
		Params: llm.Params{
			Temperature:      ptr(0.7),
			TopP:             ptr(0.0),
			PresencePenalty:  ptr(0.0),
			FrequencyPenalty: ptr(0.5),
			Seed:             ptr(0),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	b := f.only(t).body
	want := map[string]float64{"temperature": 0.7, "top_p": 0, "presence_penalty": 0, "frequency_penalty": 0.5, "seed": 0}
	for k, w := range want {
		v, ok := b[k].(float64)
		if !ok || math.Abs(v-w) > 1e-6 {
			t.Errorf("%s = %v, want %v", k, b[k], w)
		}
	}
	if _, ok := b["max_tokens"]; ok {
		t.Errorf("max_tokens sent but not set")
	}
	msgs, _ := b["messages"].([]any)
	if len(msgs) != 3 {
		t.Fatalf("messages = %v", b["messages"])
	}
	if m, _ := msgs[1].(map[string]any); m == nil || m["content"] != "" {
		t.Errorf("empty assistant message = %v, want an explicit empty content", msgs[1])
	}
}

func TestOpenAIReasoningModelMaxTokens(t *testing.T) {
	f := newFakeServer(t, respond(200, okReply))
	r := localRouter(t, f, 0)
	_, err := r.Chat(context.Background(), llm.Request{Model: "local/o4-mini", Messages: userMsg, Params: llm.Params{MaxTokens: ptr(64)}})
	if err != nil {
		t.Fatal(err)
	}
	b := f.only(t).body
	if _, ok := b["max_tokens"]; ok || b["max_completion_tokens"] != 64.0 {
		t.Errorf("max_tokens = %v, max_completion_tokens = %v; want only max_completion_tokens 64", b["max_tokens"], b["max_completion_tokens"])
	}
}

func TestOpenAIBadMaxTokens(t *testing.T) {
	f := newFakeServer(t, respond(200, okReply))
	r := localRouter(t, f, 0)
	_, err := r.Chat(context.Background(), llm.Request{Model: "local/tiny", Messages: userMsg, Params: llm.Params{MaxTokens: ptr(0)}})
	if err == nil || !strings.Contains(err.Error(), "max_tokens") {
		t.Fatalf("err = %v, want a max_tokens error", err)
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("server got %d requests", n)
	}
}

func TestOpenAIErrors(t *testing.T) {
	cases := []struct {
		name       string
		status     int
		body       string
		wantType   string
		wantCode   string
		retryable  bool
		wantInText string
	}{
		{
			name: "server error", status: 500,
			body:     `{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}`,
			wantType: "server_error", retryable: true, wantInText: "HTTP 500",
		},
		{
			name: "bad key", status: 401,
			body:     `{"error":{"message":"Incorrect API key provided: ` + testKey + `. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`,
			wantType: "invalid_request_error", wantCode: "invalid_api_key", retryable: false, wantInText: "Incorrect API key",
		},
		{
			name: "bad request", status: 400,
			body:     `{"error":{"message":"Invalid value for 'temperature'.","type":"invalid_request_error","param":"temperature","code":"invalid_value"}}`,
			wantType: "invalid_request_error", wantCode: "invalid_value", retryable: false,
		},
		{
			name: "not found", status: 404,
			body:     `{"error":{"message":"The model 'tiny' does not exist","type":"invalid_request_error","param":"model","code":"model_not_found"}}`,
			wantType: "invalid_request_error", wantCode: "model_not_found", retryable: false,
		},
		{
			name: "rate limit", status: 429,
			body:     `{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}`,
			wantType: "requests", wantCode: "rate_limit_exceeded", retryable: true,
		},
		{
			name: "no quota", status: 429,
			body:     `{"error":{"message":"You exceeded your current quota.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`,
			wantType: "insufficient_quota", wantCode: "insufficient_quota", retryable: false,
		},
		{
			name: "proxy html", status: 502,
			body:      `<html><body>502 Bad Gateway</body></html>`,
			retryable: true, wantInText: "502 Bad Gateway",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeServer(t, respond(tc.status, tc.body))
			r := localRouter(t, f, 0)
			_, err := r.Chat(context.Background(), llm.Request{Model: "local/tiny", Messages: userMsg})
			var apiErr *llm.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v (%T), want an *llm.APIError", err, err)
			}
			if apiErr.StatusCode != tc.status || apiErr.Type != tc.wantType || apiErr.Code != tc.wantCode || apiErr.Provider != "local" {
				t.Errorf("APIError = %+v, want status %d type %q code %q provider local", apiErr, tc.status, tc.wantType, tc.wantCode)
			}
			if apiErr.Retryable() != tc.retryable || llm.IsRetryable(err) != tc.retryable {
				t.Errorf("Retryable = %v, IsRetryable = %v, want %v", apiErr.Retryable(), llm.IsRetryable(err), tc.retryable)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("error contains the API key: %v", err)
			}
			if !strings.Contains(err.Error(), tc.wantInText) || !strings.Contains(err.Error(), "local/tiny") {
				t.Errorf("error %q does not mention %q and the model", err, tc.wantInText)
			}
		})
	}
}

func TestOpenAITimeout(t *testing.T) {
	f := newFakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	r := localRouter(t, f, 100*time.Millisecond)
	start := time.Now()
	_, err := r.Chat(context.Background(), llm.Request{Model: "local/tiny", Messages: userMsg})
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("call took %v with a 100ms timeout", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a context deadline", err)
	}
	var apiErr *llm.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 0 || apiErr.Type != "timeout" || !apiErr.Retryable() {
		t.Errorf("err = %#v, want a retryable timeout APIError", err)
	}
}

func TestOpenAICancelledIsNotRetryable(t *testing.T) {
	f := newFakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	r := localRouter(t, f, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := r.Chat(ctx, llm.Request{Model: "local/tiny", Messages: userMsg})
	if !errors.Is(err, context.Canceled) || llm.IsRetryable(err) {
		t.Errorf("err = %v (retryable %v), want a non-retryable cancellation", err, llm.IsRetryable(err))
	}
}

func TestOpenAINetworkError(t *testing.T) {
	f := newFakeServer(t, respond(200, okReply))
	r := localRouter(t, f, 0)
	f.Close() // nothing listens any more
	_, err := r.Chat(context.Background(), llm.Request{Model: "local/tiny", Messages: userMsg})
	var apiErr *llm.APIError
	if !errors.As(err, &apiErr) || apiErr.Type != "network" || !apiErr.Retryable() {
		t.Errorf("err = %v, want a retryable network APIError", err)
	}
}

func TestOpenAIMissingUsageIsEstimated(t *testing.T) {
	body := `{"id":"x","object":"chat.completion","created":1,"model":"tiny",
	  "choices":[{"index":0,"message":{"role":"assistant","content":"eighteen!"},"finish_reason":"length"}]}`
	f := newFakeServer(t, respond(200, body))
	r := localRouter(t, f, 0)
	resp, err := r.Chat(context.Background(), llm.Request{Model: "local/tiny", Messages: userMsg})
	if err != nil {
		t.Fatal(err)
	}
	// "Answer with #### and a number." is 30 bytes, "What is 9 * 2?" 14,
	// "eighteen!" 9: ceil(30/4)+4 + ceil(14/4)+4 = 12+8 = 20 and ceil(9/4) = 3.
	want := llm.Usage{PromptTokens: 20, CompletionTokens: 3}
	if !resp.Estimated || resp.Usage != want {
		t.Errorf("usage = %+v estimated=%v, want %+v estimated", resp.Usage, resp.Estimated, want)
	}
	if resp.FinishReason != "length" {
		t.Errorf("finish reason = %q", resp.FinishReason)
	}
	if resp.CostUSD == nil || math.Abs(*resp.CostUSD-(20*1+3*2)/1e6) > 1e-15 {
		t.Errorf("cost = %s", costString(resp.CostUSD))
	}
}

func TestOpenAIEmptyChoices(t *testing.T) {
	body := `{"id":"x","object":"chat.completion","created":1,"model":"tiny","choices":[],
	  "usage":{"prompt_tokens":5,"completion_tokens":0,"total_tokens":5}}`
	f := newFakeServer(t, respond(200, body))
	r := localRouter(t, f, 0)
	_, err := r.Chat(context.Background(), llm.Request{Model: "local/tiny", Messages: userMsg})
	if err == nil || !strings.Contains(err.Error(), "no choices") {
		t.Fatalf("err = %v, want a no-choices error", err)
	}
}

func TestOpenAIMalformedBody(t *testing.T) {
	f := newFakeServer(t, respond(200, `{"choices": [`))
	r := localRouter(t, f, 0)
	_, err := r.Chat(context.Background(), llm.Request{Model: "local/tiny", Messages: userMsg})
	if err == nil {
		t.Fatal("no error for a truncated body")
	}
}

// The built-in openai provider takes its URL from OPENAI_BASE_URL and its
// key from OPENAI_API_KEY, and its models are priced by DefaultPrices.
func TestBuiltinOpenAIFromEnv(t *testing.T) {
	f := newFakeServer(t, respond(200, okReply))
	r, err := llm.NewRouter(llm.Config{Local: local(), Getenv: env(map[string]string{
		"OPENAI_BASE_URL": f.URL + "/v1",
		"OPENAI_API_KEY":  testKey,
	})})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := r.Chat(context.Background(), llm.Request{Model: "openai/gpt-4o-mini", Messages: userMsg})
	if err != nil {
		t.Fatal(err)
	}
	got := f.only(t)
	if got.auth != "Bearer "+testKey || got.body["model"] != "gpt-4o-mini" {
		t.Errorf("auth %q model %v", got.auth, got.body["model"])
	}
	// 1000 * 0.15 + 500 * 0.60 = 450 micro-dollars.
	if resp.CostUSD == nil || math.Abs(*resp.CostUSD-0.00045) > 1e-12 {
		t.Errorf("cost = %s, want 0.00045", costString(resp.CostUSD))
	}
}

// A model priced for one provider is not priced when served by another.
func TestOtherProviderIsUnpriced(t *testing.T) {
	f := newFakeServer(t, respond(200, okReply))
	r := localRouter(t, f, 0)
	resp, err := r.Chat(context.Background(), llm.Request{Model: "local/gpt-4o-mini", Messages: userMsg})
	if err != nil {
		t.Fatal(err)
	}
	if resp.CostUSD != nil {
		t.Errorf("cost = %v, want unpriced", *resp.CostUSD)
	}
}

func costString(c *float64) string {
	if c == nil {
		return "unpriced"
	}
	return strconv.FormatFloat(*c, 'g', -1, 64)
}

func jsonEqual(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}
