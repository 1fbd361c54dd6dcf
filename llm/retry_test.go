package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/llm/llmtest"
	"github.com/gavel-eval/gavel/traces"
)

// fakeClock is the clock of the retry and rate-limit waits in tests: Sleep
// returns at once, moving the clock forward.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	return nil
}

// total is the time slept so far.
func (c *fakeClock) total() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var sum time.Duration
	for _, d := range c.slept {
		sum += d
	}
	return sum
}

// routerFor returns a Router with provider "local" at baseURL whose key is
// testKey, "local/tiny" priced at $1 / $2 per million tokens, short
// retry waits, a 2s per-attempt timeout and clk's waits (nil: the real
// clock). edit, if not nil, changes the configuration first.
func routerFor(t *testing.T, baseURL string, clk *fakeClock, edit func(*llm.Config)) *llm.Router {
	t.Helper()
	cfg := llm.Config{Local: local(),
		Providers: []llm.ProviderConfig{{Name: "local", Type: "openai", BaseURL: baseURL, APIKeyEnv: "LOCAL_KEY"}},
		Prices:    llm.PriceTable{"local/tiny": {InputPerMTok: 1, OutputPerMTok: 2}},
		Timeout:   2 * time.Second,
		Getenv:    env(map[string]string{"LOCAL_KEY": testKey}),
		Retry:     llm.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, Seed: 1},
	}
	if edit != nil {
		edit(&cfg)
	}
	r, err := llm.NewRouter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if clk != nil {
		llm.SetClock(r, clk.Now, clk.Sleep)
	}
	return r
}

// chatTraced makes one chat call and returns its reply, error and span.
func chatTraced(t *testing.T, ctx context.Context, r *llm.Router, req llm.Request) (llm.Response, traces.Span, error) {
	t.Helper()
	rec := traces.NewRecorder("trace", nil)
	resp, err := r.Chat(traces.WithRecorder(ctx, rec), req)
	spans := rec.Spans()
	if len(spans) != 1 {
		t.Fatalf("recorded %d spans, want 1", len(spans))
	}
	return resp, spans[0], err
}

// attemptsOf returns the span's "attempts" attribute.
func attemptsOf(t *testing.T, s traces.Span) []llm.Attempt {
	t.Helper()
	a, ok := s.Attributes["attempts"].([]llm.Attempt)
	if !ok {
		t.Fatalf("attempts attribute = %#v (%T)", s.Attributes["attempts"], s.Attributes["attempts"])
	}
	return a
}

func statuses(as []llm.Attempt) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Status
	}
	return out
}

func tinyReq(content string) llm.Request {
	return llm.Request{Model: "local/tiny", Messages: []llm.Message{{Role: "user", Content: content}}}
}

// Each fault is retried, and the call then succeeds; every attempt is in
// the span.
func TestRetryEachFaultThenSucceed(t *testing.T) {
	wantStatus := map[llmtest.Fault]string{
		llmtest.Fault500:       "500",
		llmtest.Fault429:       "429",
		llmtest.FaultMalformed: "malformed",
		llmtest.FaultTruncated: "malformed",
		llmtest.FaultHang:      "timeout",
		llmtest.FaultReset:     "network",
	}
	for _, fault := range llmtest.AllFaults {
		t.Run(string(fault), func(t *testing.T) {
			t.Parallel()
			s := llmtest.NewFaultServer(t, llmtest.FaultOptions{Script: []llmtest.Fault{fault, fault}})
			clk := newFakeClock()
			r := routerFor(t, s.URL(), clk, func(c *llm.Config) { c.Timeout = 300 * time.Millisecond })
			resp, span, err := chatTraced(t, context.Background(), r, tinyReq("What is 9 * 2?"))
			if err != nil {
				t.Fatalf("Chat: %v", err)
			}
			if resp.Content != "echo: What is 9 * 2?" || resp.Usage.PromptTokens != 8 || resp.Usage.CompletionTokens != 5 {
				t.Errorf("reply %q usage %+v", resp.Content, resp.Usage)
			}
			if n := s.Requests(); n != 3 {
				t.Errorf("server got %d requests, want 3", n)
			}
			as := attemptsOf(t, span)
			want := []string{wantStatus[fault], wantStatus[fault], "ok"}
			if fmt.Sprint(statuses(as)) != fmt.Sprint(want) {
				t.Errorf("attempt statuses = %v, want %v", statuses(as), want)
			}
			for i, a := range as {
				if a.N != i+1 || (i < 2 && a.Error == "") || (i == 2 && (a.Error != "" || a.WaitMS != 0)) {
					t.Errorf("attempt %d = %+v", i, a)
				}
			}
			wantErr := map[llmtest.Fault]string{
				llmtest.Fault500:       "HTTP 500 server_error",
				llmtest.Fault429:       "HTTP 429 requests: Rate limit reached",
				llmtest.FaultMalformed: "not valid JSON",
				llmtest.FaultTruncated: "cut short",
				llmtest.FaultHang:      "deadline",
				llmtest.FaultReset:     "network",
			}[fault]
			if !strings.Contains(as[0].Error, wantErr) {
				t.Errorf("attempt error %q, want it to mention %q", as[0].Error, wantErr)
			}
			if span.Attributes["retries"] != 2 || span.Status != traces.StatusOK {
				t.Errorf("retries = %v, status %q", span.Attributes["retries"], span.Status)
			}
			if st := r.ProviderStats("local"); st.Requests != 3 || st.Retries != 2 || st.Failures != 0 {
				t.Errorf("stats = %+v", st)
			}
			assertNoKey(t, span)
		})
	}
}

// Permanent errors are not retried: exactly one request.
func TestPermanentErrorsNotRetried(t *testing.T) {
	body := func(typ, code, msg string) string {
		return fmt.Sprintf(`{"error":{"message":%q,"type":%q,"param":null,"code":%q}}`, msg, typ, code)
	}
	cases := []struct {
		name   string
		status int
		body   string
	}{
		{"bad request", 400, body("invalid_request_error", "invalid_value", "Invalid value for 'temperature'.")},
		{"context length", 400, body("invalid_request_error", "context_length_exceeded", "This model's maximum context length is 128000 tokens.")},
		{"bad key", 401, body("invalid_request_error", "invalid_api_key", "Incorrect API key provided: "+testKey+".")},
		{"forbidden", 403, body("invalid_request_error", "unsupported_country_region_territory", "Country, region, or territory not supported")},
		{"not found", 404, body("invalid_request_error", "model_not_found", "The model 'tiny' does not exist")},
		{"no quota", 429, body("insufficient_quota", "insufficient_quota", "You exceeded your current quota.")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeServer(t, respond(tc.status, tc.body))
			clk := newFakeClock()
			r := routerFor(t, f.URL+"/v1", clk, nil)
			_, span, err := chatTraced(t, context.Background(), r, tinyReq("hi"))
			var apiErr *llm.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tc.status || llm.IsRetryable(err) {
				t.Fatalf("err = %v, want a permanent HTTP %d", err, tc.status)
			}
			var re *llm.RetryError
			if errors.As(err, &re) {
				t.Errorf("a permanent error is a RetryError: %v", err)
			}
			if n := len(f.requests()); n != 1 {
				t.Errorf("server got %d requests, want 1", n)
			}
			if as := attemptsOf(t, span); len(as) != 1 || as[0].Status != fmt.Sprint(tc.status) || as[0].WaitMS != 0 {
				t.Errorf("attempts = %+v", as)
			}
			if span.Attributes["retries"] != 0 || clk.total() != 0 {
				t.Errorf("retries = %v, slept %v", span.Attributes["retries"], clk.total())
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("error has the key: %v", err)
			}
			assertNoKey(t, span)
		})
	}
}

// The wait after a 429 is at least the server's Retry-After, and the
// provider's pause does not add a second wait for the same request.
func TestRetryAfterHonoured(t *testing.T) {
	s := llmtest.NewFaultServer(t, llmtest.FaultOptions{Script: []llmtest.Fault{llmtest.Fault429}, RetryAfter: 2 * time.Second})
	clk := newFakeClock()
	r := routerFor(t, s.URL(), clk, nil)
	start := time.Now()
	_, span, err := chatTraced(t, context.Background(), r, tinyReq("hi"))
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("took %v of real time: the wait was not on the injected clock", took)
	}
	as := attemptsOf(t, span)
	if len(as) != 2 || as[0].Status != "429" || as[0].RetryAfterMS != 2000 || as[0].WaitMS < 2000 {
		t.Fatalf("attempts = %+v, want a 429 asking for 2000ms, waited at least that", as)
	}
	if got := clk.total(); got < 2*time.Second || got > 2*time.Second+10*time.Millisecond {
		t.Errorf("slept %v in all, want the 2s Retry-After once", got)
	}
	if st := r.ProviderStats("local"); st.Throttled != 1 || st.PausedUntil.IsZero() {
		t.Errorf("stats = %+v", st)
	}
}

// retry-after-ms (OpenAI's millisecond header) wins over Retry-After.
func TestRetryAfterMilliseconds(t *testing.T) {
	s := llmtest.NewFaultServer(t, llmtest.FaultOptions{Script: []llmtest.Fault{llmtest.Fault429}, RetryAfter: 1500 * time.Millisecond, RetryAfterMS: true})
	clk := newFakeClock()
	r := routerFor(t, s.URL(), clk, nil)
	_, span, err := chatTraced(t, context.Background(), r, tinyReq("hi"))
	if err != nil {
		t.Fatal(err)
	}
	if as := attemptsOf(t, span); as[0].RetryAfterMS != 1500 || as[0].WaitMS < 1500 || as[0].WaitMS >= 2000 {
		t.Errorf("attempts = %+v, want a 1500ms wait (not the rounded-up 2s)", as)
	}
}

// When the attempts run out the error says how many there were, wraps
// the last one, and the span shows them all.
func TestMaxAttemptsExhausted(t *testing.T) {
	s := llmtest.NewFaultServer(t, llmtest.FaultOptions{Probability: map[llmtest.Fault]float64{llmtest.Fault500: 1}})
	clk := newFakeClock()
	r := routerFor(t, s.URL(), clk, func(c *llm.Config) { c.Retry.MaxAttempts = 3 })
	_, span, err := chatTraced(t, context.Background(), r, tinyReq("hi"))
	var re *llm.RetryError
	if !errors.As(err, &re) || re.Attempts != 3 {
		t.Fatalf("err = %v, want a RetryError after 3 attempts", err)
	}
	var apiErr *llm.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 500 {
		t.Errorf("err = %v does not wrap the last HTTP 500", err)
	}
	for _, w := range []string{`model "local/tiny"`, "gave up after 3 attempts", "HTTP 500"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	if n := s.Requests(); n != 3 {
		t.Errorf("server got %d requests, want 3", n)
	}
	as := attemptsOf(t, span)
	if fmt.Sprint(statuses(as)) != "[500 500 500]" || as[2].WaitMS != 0 || span.Attributes["retries"] != 2 {
		t.Errorf("attempts = %+v retries %v", as, span.Attributes["retries"])
	}
	if span.Status != traces.StatusError || !strings.Contains(span.Error, "gave up after 3 attempts") {
		t.Errorf("span %q %q", span.Status, span.Error)
	}
	// Waits: full jitter under ceilings of 1ms and 2ms.
	if got := clk.total(); got > 3*time.Millisecond {
		t.Errorf("slept %v, want at most 1ms + 2ms", got)
	}
	if st := r.ProviderStats("local"); st.Failures != 1 || st.Retries != 2 || st.Requests != 3 {
		t.Errorf("stats = %+v", st)
	}
}

// A retry whose wait would pass MaxElapsed is not made.
func TestMaxElapsed(t *testing.T) {
	s := llmtest.NewFaultServer(t, llmtest.FaultOptions{Script: []llmtest.Fault{llmtest.Fault429}, RetryAfter: 5 * time.Second})
	clk := newFakeClock()
	r := routerFor(t, s.URL(), clk, func(c *llm.Config) { c.Retry.MaxElapsed = 3 * time.Second })
	_, span, err := chatTraced(t, context.Background(), r, tinyReq("hi"))
	var re *llm.RetryError
	if !errors.As(err, &re) || re.Attempts != 1 || !strings.Contains(err.Error(), "retry time limit of 3s") {
		t.Fatalf("err = %v, want a RetryError after 1 attempt naming the time limit", err)
	}
	if s.Requests() != 1 || clk.total() != 0 || len(attemptsOf(t, span)) != 1 {
		t.Errorf("requests %d, slept %v, attempts %+v", s.Requests(), clk.total(), attemptsOf(t, span))
	}
}

// Cancelling the caller's context ends a backoff at once (real clock).
func TestCancelStopsBackoff(t *testing.T) {
	s := llmtest.NewFaultServer(t, llmtest.FaultOptions{Script: []llmtest.Fault{llmtest.Fault429}, RetryAfter: 30 * time.Second})
	r := routerFor(t, s.URL(), nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, span, err := chatTraced(t, ctx, r, tinyReq("hi"))
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Chat took %v after the context was cancelled at 100ms", took)
	}
	if !errors.Is(err, context.Canceled) || llm.IsRetryable(err) {
		t.Errorf("err = %v (retryable %v), want a non-retryable cancellation", err, llm.IsRetryable(err))
	}
	if !strings.Contains(err.Error(), "after 1 attempts") || !strings.Contains(err.Error(), "HTTP 429") {
		t.Errorf("err = %v, want it to tell the attempts and the last error", err)
	}
	if n := s.Requests(); n != 1 {
		t.Errorf("server got %d requests, want 1", n)
	}
	if as := attemptsOf(t, span); len(as) != 1 || as[0].WaitMS < 30000 {
		t.Errorf("attempts = %+v", as)
	}
}

// A deadline on the caller's context is not a per-attempt timeout: the
// call is not retried past it.
func TestCallerDeadlineNotRetried(t *testing.T) {
	s := llmtest.NewFaultServer(t, llmtest.FaultOptions{Probability: map[llmtest.Fault]float64{llmtest.FaultHang: 1}})
	r := routerFor(t, s.URL(), nil, func(c *llm.Config) { c.Timeout = time.Minute })
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	_, span, err := chatTraced(t, ctx, r, tinyReq("hi"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the deadline", err)
	}
	if n := s.Requests(); n != 1 {
		t.Errorf("server got %d requests, want 1", n)
	}
	if as := attemptsOf(t, span); len(as) != 1 || as[0].Status != "canceled" {
		t.Errorf("attempts = %+v", as)
	}
}

// The API key appears in no span and no error, whatever fails.
func TestNoKeyInRetriedErrors(t *testing.T) {
	var mu sync.Mutex
	n := 0
	f := newFakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		i := n
		mu.Unlock()
		switch i {
		case 1:
			respond(500, `{"error":{"message":"upstream rejected key `+testKey+`","type":"server_error","param":null,"code":null}}`)(w, r)
		case 2:
			respond(502, `<html>bad gateway for `+testKey+`</html>`)(w, r)
		case 3:
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"id": "` + testKey))
		default:
			respond(401, `{"error":{"message":"Incorrect API key provided: `+testKey+`.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`)(w, r)
		}
	})
	clk := newFakeClock()
	r := routerFor(t, f.URL+"/v1", clk, nil)
	_, span, err := chatTraced(t, context.Background(), r, tinyReq("hi"))
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), testKey) {
		t.Errorf("error has the key: %v", err)
	}
	if got := fmt.Sprint(statuses(attemptsOf(t, span))); got != "[500 502 malformed 401]" {
		t.Errorf("attempts = %s", got)
	}
	assertNoKey(t, span)
	raw, _ := json.Marshal(span.Attributes)
	if strings.Contains(string(raw), testKey) {
		t.Errorf("attributes have the key: %s", raw)
	}
}

// Embeddings calls are retried too.
func TestEmbedRetried(t *testing.T) {
	var mu sync.Mutex
	n := 0
	f := newFakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		i := n
		mu.Unlock()
		if i == 1 {
			respond(503, `{"error":{"message":"overloaded","type":"server_error","param":null,"code":null}}`)(w, r)
			return
		}
		respond(200, `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,0.25]}],"model":"e","usage":{"prompt_tokens":3,"total_tokens":3}}`)(w, r)
	})
	r := routerFor(t, f.URL+"/v1", newFakeClock(), nil)
	rec := traces.NewRecorder("t", nil)
	resp, err := r.Embed(traces.WithRecorder(context.Background(), rec), llm.EmbedRequest{Model: "local/e", Input: []string{"abc"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Vectors) != 1 || len(f.requests()) != 2 {
		t.Errorf("vectors %v, %d requests", resp.Vectors, len(f.requests()))
	}
	if got := fmt.Sprint(statuses(attemptsOf(t, rec.Spans()[0]))); got != "[503 ok]" {
		t.Errorf("attempts = %s", got)
	}
}

func TestRetryPolicyValidation(t *testing.T) {
	_, err := llm.NewRouter(llm.Config{Local: local(), Getenv: env(nil), Retry: llm.RetryPolicy{BaseDelay: -1}})
	if err == nil || !strings.Contains(err.Error(), "retry") {
		t.Errorf("err = %v", err)
	}
}

// With a fixed seed, a call's waits are the same in every run, whatever
// else runs beside it.
func TestJitterDeterministic(t *testing.T) {
	s := llmtest.NewFaultServer(t, llmtest.FaultOptions{Probability: map[llmtest.Fault]float64{llmtest.Fault500: 1}})
	waits := func(other int, content string) []float64 {
		r := routerFor(t, s.URL(), newFakeClock(), func(c *llm.Config) {
			c.Retry = llm.RetryPolicy{MaxAttempts: 4, BaseDelay: time.Second, MaxDelay: 10 * time.Second, Seed: 9}
		})
		for i := range other { // calls before this one draw nothing from its source
			r.Chat(context.Background(), tinyReq(fmt.Sprint("other ", i)))
		}
		_, span, _ := chatTraced(t, context.Background(), r, tinyReq(content))
		var out []float64
		for _, a := range attemptsOf(t, span) {
			out = append(out, a.WaitMS)
		}
		return out
	}
	a, b := waits(0, "same"), waits(3, "same")
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("waits %v then %v for the same call and seed", a, b)
	}
	if c := waits(0, "different"); fmt.Sprint(a) == fmt.Sprint(c) {
		t.Errorf("two calls drew the same waits %v", a)
	}
	if len(a) != 4 || a[0] > 1000 || a[1] > 2000 || a[2] > 4000 || a[3] != 0 {
		t.Errorf("waits %v, want within the ceilings 1s, 2s, 4s and none after the last", a)
	}
}
