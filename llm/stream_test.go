package llm_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/llm/llmtest"
	"github.com/gavel-eval/gavel/traces"
)

func streamed(req llm.Request) llm.Request {
	on := true
	req.Params.Stream = &on
	return req
}

// seenRequests records what the fault server decoded of each request.
type seenRequests struct {
	mu   sync.Mutex
	reqs []llmtest.ChatRequest
}

func (s *seenRequests) reply(reply func(llmtest.ChatRequest) string) func(llmtest.ChatRequest) string {
	return func(r llmtest.ChatRequest) string {
		s.mu.Lock()
		s.reqs = append(s.reqs, r)
		s.mu.Unlock()
		return reply(r)
	}
}

func (s *seenRequests) all() []llmtest.ChatRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]llmtest.ChatRequest(nil), s.reqs...)
}

// A streamed reply, assembled from its chunks, is the reply of the same
// call not streamed: content, choices, finish reason, usage (the final
// chunk's, or estimated like a reply without usage when the server sends
// none).
func TestStreamAssemblesTheSameReply(t *testing.T) {
	t.Parallel()
	three := 3
	for _, tc := range []struct {
		name    string
		reply   string
		n       *int
		noUsage bool
	}{
		{name: "words", reply: "The answer is 42.\n#### 42"},
		{name: "one word", reply: "42"},
		{name: "empty", reply: ""},
		{name: "unicode and spaces", reply: "  héllo  wörld — ✓ "},
		{name: "three choices", reply: "a b c", n: &three},
		{name: "no usage chunk", reply: "the server sends no usage", noUsage: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var seen seenRequests
			s := llmtest.NewFaultServer(t, llmtest.FaultOptions{NoStreamUsage: tc.noUsage,
				Reply: seen.reply(func(llmtest.ChatRequest) string { return tc.reply })})
			r := routerFor(t, s.URL(), nil, nil)
			req := tinyReq("What is 6 * 7?")
			req.Params.N = tc.n
			plain, err := r.Chat(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			resp, span, err := chatTraced(t, context.Background(), r, streamed(req))
			if err != nil {
				t.Fatalf("streamed: %v", err)
			}
			if resp.Content != tc.reply || resp.Content != plain.Content || fmt.Sprint(resp.Choices) != fmt.Sprint(plain.Choices) ||
				resp.FinishReason != plain.FinishReason || resp.Usage != plain.Usage {
				t.Errorf("streamed %+v\nplain    %+v", resp, plain)
			}
			if resp.Estimated != tc.noUsage || plain.Estimated {
				t.Errorf("estimated: streamed %v, plain %v", resp.Estimated, plain.Estimated)
			}
			if plain.TTFTMS != nil || resp.TTFTMS == nil || *resp.TTFTMS < 0 || *resp.TTFTMS > resp.LatencyMS {
				t.Errorf("ttft: plain %v, streamed %v (latency %v)", plain.TTFTMS, resp.TTFTMS, resp.LatencyMS)
			}
			if span.Attributes["ttft_ms"] != *resp.TTFTMS || span.Output != plain.Content && tc.n == nil {
				t.Errorf("span ttft_ms %v output %q", span.Attributes["ttft_ms"], span.Output)
			}
			if p, ok := span.Attributes["params"].(map[string]any); !ok || p["stream"] != true {
				t.Errorf("span params %v", span.Attributes["params"])
			}
			reqs := seen.all()
			if len(reqs) != 2 || reqs[0].Stream || !reqs[1].Stream || !reqs[1].StreamOptions.IncludeUsage {
				t.Errorf("requests %+v: want a plain one, then a stream asking for usage", reqs)
			}
		})
	}
}

// The time to the first token is measured (at least the server's delay),
// and the span has the throughput after it.
func TestStreamTimeToFirstToken(t *testing.T) {
	t.Parallel()
	const delay = 120 * time.Millisecond
	s := llmtest.NewFaultServer(t, llmtest.FaultOptions{FirstTokenDelay: delay,
		Reply: func(llmtest.ChatRequest) string { return strings.Repeat("word ", 40) }})
	r := routerFor(t, s.URL(), nil, nil)
	resp, span, err := chatTraced(t, context.Background(), r, streamed(tinyReq("talk")))
	if err != nil {
		t.Fatal(err)
	}
	if resp.TTFTMS == nil || *resp.TTFTMS < float64(delay.Milliseconds()) || *resp.TTFTMS > resp.LatencyMS {
		t.Fatalf("ttft %v, latency %v: want ttft >= %v", resp.TTFTMS, resp.LatencyMS, delay)
	}
	if span.Attributes["ttft_ms"] != *resp.TTFTMS {
		t.Errorf("span ttft_ms = %v, want %v", span.Attributes["ttft_ms"], *resp.TTFTMS)
	}
	if after := resp.LatencyMS - *resp.TTFTMS; after > 0 {
		want := float64(resp.Usage.CompletionTokens) / (after / 1000)
		if got, ok := span.Attributes["tokens_per_second"].(float64); !ok || math.Abs(got-want) > 1e-9*want {
			t.Errorf("tokens_per_second = %v, want %v", span.Attributes["tokens_per_second"], want)
		}
	} else if _, ok := span.Attributes["tokens_per_second"]; ok {
		t.Errorf("tokens_per_second %v with no time after the first token", span.Attributes["tokens_per_second"])
	}
}

// A stream that fails before its first token is retried like any failed
// call; one that breaks off after it is not: the call fails with what
// arrived, recorded on the span.
func TestStreamFaults(t *testing.T) {
	t.Parallel()
	const reply = "echo: What is 9 * 2?"
	for _, tc := range []struct {
		fault    llmtest.Fault
		statuses []string
		// broken: the call fails after its first token, with these words
		// in its error.
		broken string
	}{
		{fault: llmtest.Fault500, statuses: []string{"500", "ok"}},
		{fault: llmtest.Fault429, statuses: []string{"429", "ok"}},
		{fault: llmtest.FaultReset, statuses: []string{"network", "ok"}},
		{fault: llmtest.FaultHang, statuses: []string{"timeout", "ok"}},
		{fault: llmtest.FaultStreamCut, statuses: []string{"malformed"}, broken: "cut short"},
		{fault: llmtest.FaultTruncated, statuses: []string{"malformed"}, broken: "ended before its last event"},
		{fault: llmtest.FaultMalformed, statuses: []string{"malformed"}, broken: "not valid JSON"},
	} {
		t.Run(string(tc.fault), func(t *testing.T) {
			t.Parallel()
			s := llmtest.NewFaultServer(t, llmtest.FaultOptions{Script: []llmtest.Fault{tc.fault}})
			r := routerFor(t, s.URL(), nil, func(c *llm.Config) { c.Timeout = 300 * time.Millisecond })
			resp, span, err := chatTraced(t, context.Background(), r, streamed(tinyReq("What is 9 * 2?")))
			if got := fmt.Sprint(statuses(attemptsOf(t, span))); got != fmt.Sprint(tc.statuses) {
				t.Errorf("attempts %v, want %v", got, tc.statuses)
			}
			if n := s.Requests(); n != int64(len(tc.statuses)) {
				t.Errorf("%d requests, want %d", n, len(tc.statuses))
			}
			assertNoKey(t, span)
			if tc.broken == "" {
				if err != nil || resp.Content != reply || resp.TTFTMS == nil || span.Attributes["ttft_ms"] == nil {
					t.Fatalf("Chat = %+v, %v", resp, err)
				}
				return
			}
			var se *llm.StreamError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.broken) || llm.IsRetryable(err) {
				t.Fatalf("err = %v (retryable %v), want a StreamError mentioning %q", err, llm.IsRetryable(err), tc.broken)
			}
			first := llmtest.Pieces(reply)[0]
			if resp.Content != first || se.Partial.Content != first || !resp.Estimated || resp.Usage.CompletionTokens == 0 ||
				resp.TTFTMS == nil || resp.CostUSD == nil || resp.LatencyMS <= 0 {
				t.Errorf("partial reply %+v", resp)
			}
			if span.Status != traces.StatusError || span.Output != first || span.Attributes["stream_incomplete"] != true ||
				span.Attributes["ttft_ms"] != *resp.TTFTMS || span.Attributes["completion_tokens"] != resp.Usage.CompletionTokens {
				t.Errorf("span %s %q output %q attrs %v", span.Status, span.Error, span.Output, span.Attributes)
			}
		})
	}
}

// A stream its caller gives up on is recorded with what arrived and the
// context's error.
func TestStreamCancelled(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, `data: {"id":"c1","object":"chat.completion.chunk","model":"tiny","choices":[{"index":0,"delta":{"role":"assistant","content":"Half an"},"finish_reason":null}]}`+"\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	r := routerFor(t, srv.URL, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	resp, span, err := chatTraced(t, ctx, r, streamed(tinyReq("say something long")))
	var se *llm.StreamError
	if !errors.As(err, &se) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a StreamError wrapping the context's deadline", err)
	}
	if resp.Content != "Half an" || resp.TTFTMS == nil || span.Output != "Half an" || span.Status != traces.StatusError ||
		fmt.Sprint(statuses(attemptsOf(t, span))) != "[canceled]" {
		t.Errorf("reply %+v; span %s %q output %q attempts %v", resp, span.Status, span.Error, span.Output, attemptsOf(t, span))
	}
}

// The cache stores the assembled reply: the same call, streamed or not,
// is then a hit, with no time to first token.
func TestStreamCacheHit(t *testing.T) {
	t.Parallel()
	s := llmtest.NewFaultServer(t, llmtest.FaultOptions{})
	r := routerFor(t, s.URL(), nil, func(c *llm.Config) { c.Cache = llm.NewMemoryCache() })
	req := streamed(tinyReq("What is 9 * 2?"))
	first, err := r.Chat(context.Background(), req)
	if err != nil || first.Cached || first.TTFTMS == nil {
		t.Fatalf("first call %+v, %v", first, err)
	}
	plain := tinyReq("What is 9 * 2?")
	for _, again := range []llm.Request{req, plain} {
		resp, span, err := chatTraced(t, context.Background(), r, again)
		if err != nil || !resp.Cached || resp.TTFTMS != nil || resp.Content != first.Content || resp.Usage != first.Usage {
			t.Errorf("hit %+v, %v", resp, err)
		}
		if _, ok := span.Attributes["ttft_ms"]; ok || span.Attributes["cache"] != "hit" {
			t.Errorf("hit span attributes %v", span.Attributes)
		}
	}
	if n := s.Requests(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	if llm.CacheKey(req) != llm.CacheKey(plain) {
		t.Error("streaming changes the cache key")
	}
}

// The offline models take stream: true; their reply comes whole, at once:
// a time to first token of 0, like their latency.
func TestStreamOffline(t *testing.T) {
	t.Parallel()
	r := offlineRouter(t)
	req := llm.Request{Model: "offline/calc", Messages: []llm.Message{{Role: "user", Content: "What is 6 * 7?"}}}
	plain, err := r.Chat(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	resp, span, err := chatTraced(t, context.Background(), r, streamed(req))
	if err != nil || resp.Content != plain.Content || resp.Usage != plain.Usage || resp.TTFTMS == nil || *resp.TTFTMS != 0 {
		t.Fatalf("streamed %+v, %v; plain %+v", resp, err, plain)
	}
	if span.Attributes["ttft_ms"] != 0.0 {
		t.Errorf("span ttft_ms = %v", span.Attributes["ttft_ms"])
	}
	if _, ok := span.Attributes["tokens_per_second"]; ok {
		t.Error("tokens_per_second with no time after the first token")
	}
}
