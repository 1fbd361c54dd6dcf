package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/traces"
)

// countingServer speaks the OpenAI chat completions and embeddings wire
// format, answers after delay and counts the requests of each kind.
type countingServer struct {
	*httptest.Server
	chats, embeds atomic.Int64
}

func newCountingServer(t *testing.T, delay time.Duration) *countingServer {
	t.Helper()
	s := &countingServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Model    string
			Messages []struct{ Role, Content string }
			Input    []string
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/chat/completions":
			s.chats.Add(1)
			content := "echo: " + req.Messages[len(req.Messages)-1].Content
			_ = json.NewEncoder(w).Encode(map[string]any{
				"id": "c", "object": "chat.completion", "created": 1, "model": req.Model,
				"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": content}}},
				"usage":   map[string]any{"prompt_tokens": 8, "completion_tokens": 5, "total_tokens": 13},
			})
		case "/v1/embeddings":
			s.embeds.Add(1)
			data := make([]any, len(req.Input))
			for i, in := range req.Input {
				data[i] = map[string]any{"object": "embedding", "index": i, "embedding": []float64{float64(len(in)), 0.5, -1}}
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": req.Model,
				"usage": map[string]any{"prompt_tokens": 4 * len(req.Input), "total_tokens": 4 * len(req.Input)}})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *countingServer) router(t *testing.T, c llm.Cache, mode llm.CacheMode) *llm.Router {
	t.Helper()
	r, err := llm.NewRouter(llm.Config{Local: local(),
		Providers: []llm.ProviderConfig{{Name: "local", Type: "openai", BaseURL: s.URL + "/v1"}},
		Prices:    llm.PriceTable{"local/tiny": {InputPerMTok: 1, OutputPerMTok: 2}, "local/embed": {InputPerMTok: 0.5}},
		Getenv:    func(string) string { return "" },
		Retry:     llm.RetryPolicy{MaxAttempts: 1},
		Cache:     c,
		CacheMode: mode,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Concurrent identical calls that miss the cache make one request; the
// others share its reply as hits.
func TestCacheConcurrentMissesMakeOneCall(t *testing.T) {
	s := newCountingServer(t, 50*time.Millisecond)
	r := s.router(t, llm.NewMemoryCache(), llm.CacheReadWrite)
	const n = 16
	var (
		wg      sync.WaitGroup
		replies [n]llm.Response
		errs    [n]error
		spans   [n][]traces.Span
	)
	for i := range n {
		wg.Go(func() {
			rec := traces.NewRecorder("t", nil)
			replies[i], errs[i] = r.Chat(traces.WithRecorder(context.Background(), rec), tinyReq("same question"))
			spans[i] = rec.Spans()
		})
	}
	wg.Wait()
	if got := s.chats.Load(); got != 1 {
		t.Errorf("%d concurrent identical calls made %d requests, want 1", n, got)
	}
	made := 0
	for i := range n {
		if errs[i] != nil || replies[i].Content != "echo: same question" {
			t.Fatalf("call %d: %q, %v", i, replies[i].Content, errs[i])
		}
		if !replies[i].Cached {
			made++
		}
		if replies[i].CostUSD == nil || math.Abs(*replies[i].CostUSD-18e-6) > 1e-15 || replies[i].Usage.CompletionTokens != 5 {
			t.Errorf("call %d: cost %v usage %+v, want the call's", i, replies[i].CostUSD, replies[i].Usage)
		}
		if want := map[bool]string{true: "hit", false: "miss"}[replies[i].Cached]; spans[i][0].Attributes["cache"] != want {
			t.Errorf("call %d: span cache %v, want %s", i, spans[i][0].Attributes["cache"], want)
		}
	}
	if made != 1 {
		t.Errorf("%d replies are not marked as shared or cached, want 1", made)
	}
	if hits, misses := r.CacheStats(); hits != n-1 || misses != 1 {
		t.Errorf("CacheStats = %d, %d; want %d, 1", hits, misses, n-1)
	}
	// A waiter whose context ends gives up at once.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := r.Chat(context.Background(), tinyReq("slow one")); done <- err }()
	time.Sleep(10 * time.Millisecond)
	go func() { time.Sleep(5 * time.Millisecond); cancel() }()
	if _, err := r.Chat(ctx, tinyReq("slow one")); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled waiter: %v", err)
	}
	if err := <-done; err != nil {
		t.Errorf("the leading call: %v", err)
	}
}

// A cache hit reports the latency, tokens and cost of the call that was
// made, not the cache's.
func TestCacheHitReportsTheOriginalFigures(t *testing.T) {
	const delay = 50 * time.Millisecond
	s := newCountingServer(t, delay)
	path := filepath.Join(t.TempDir(), "cache.db")
	c := openTestBolt(t, path, llm.BoltOptions{})
	r := s.router(t, c, llm.CacheReadWrite)
	first, err := r.Chat(context.Background(), tinyReq("q"))
	if err != nil {
		t.Fatal(err)
	}
	if first.Cached || first.LatencyMS < float64(delay.Milliseconds()) {
		t.Fatalf("first call: cached %v, latency %v ms (the server takes %v)", first.Cached, first.LatencyMS, delay)
	}
	// A new router on the same file: a later run.
	r2 := s.router(t, c, llm.CacheReadWrite)
	rec := traces.NewRecorder("t", nil)
	start := time.Now()
	second, err := r2.Chat(traces.WithRecorder(context.Background(), rec), tinyReq("q"))
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if s.chats.Load() != 1 || !second.Cached {
		t.Fatalf("second call: %d requests, cached %v", s.chats.Load(), second.Cached)
	}
	if took >= delay || second.LatencyMS != first.LatencyMS {
		t.Errorf("hit took %v and reports %v ms; want the original %v ms", took, second.LatencyMS, first.LatencyMS)
	}
	if second.Usage != first.Usage || second.CostUSD == nil || *second.CostUSD != *first.CostUSD {
		t.Errorf("hit usage %+v cost %v; want %+v %v", second.Usage, second.CostUSD, first.Usage, *first.CostUSD)
	}
	a := rec.Spans()[0].Attributes
	if a["cache"] != "hit" || a["original_latency_ms"] != first.LatencyMS || a["cost_usd"] != *first.CostUSD {
		t.Errorf("hit span attributes %v", a)
	}

	// A model with no price: n/a (nil) on the miss and on the hit.
	for i, want := range []bool{false, true} {
		resp, err := r2.Chat(context.Background(), llm.Request{Model: "local/unpriced", Messages: []llm.Message{{Role: "user", Content: "q"}}})
		if err != nil || resp.Cached != want || resp.CostUSD != nil {
			t.Errorf("unpriced call %d: cached %v cost %v, %v; want cached %v, no cost", i, resp.Cached, resp.CostUSD, err, want)
		}
	}
}

// Embeddings are cached like chat calls: the same inputs make one request,
// and a replay answers them with none.
func TestEmbedCached(t *testing.T) {
	s := newCountingServer(t, 0)
	c := llm.NewMemoryCache()
	r := s.router(t, c, llm.CacheReadWrite)
	req := llm.EmbedRequest{Model: "local/embed", Input: []string{"a", "bb"}}
	first, err := r.Embed(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	rec := traces.NewRecorder("t", nil)
	second, err := r.Embed(traces.WithRecorder(context.Background(), rec), req)
	if err != nil {
		t.Fatal(err)
	}
	if s.embeds.Load() != 1 || first.Cached || !second.Cached {
		t.Fatalf("%d requests; cached %v then %v", s.embeds.Load(), first.Cached, second.Cached)
	}
	if !jsonEqual(first.Vectors, second.Vectors) || !jsonEqual(second.Vectors, [][]float64{{1, 0.5, -1}, {2, 0.5, -1}}) {
		t.Errorf("vectors %v then %v", first.Vectors, second.Vectors)
	}
	if second.Usage != first.Usage || second.CostUSD == nil || *second.CostUSD != *first.CostUSD {
		t.Errorf("hit usage %+v cost %v; want %+v %v", second.Usage, second.CostUSD, first.Usage, *first.CostUSD)
	}
	if a := rec.Spans()[0].Attributes; a["cache"] != "hit" {
		t.Errorf("span cache %v", a["cache"])
	}
	// Other inputs are another call.
	if _, err := r.Embed(context.Background(), llm.EmbedRequest{Model: "local/embed", Input: []string{"bb", "a"}}); err != nil || s.embeds.Load() != 2 {
		t.Errorf("other order: %v, %d requests", err, s.embeds.Load())
	}
	// Replay answers from the cache, with no request.
	rp := s.router(t, c, llm.CacheReplay)
	if got, err := rp.Embed(context.Background(), req); err != nil || !jsonEqual(got.Vectors, first.Vectors) || s.embeds.Load() != 2 {
		t.Errorf("replay: %v, %v, %d requests", got.Vectors, err, s.embeds.Load())
	}
	// Chat and embeddings keys never collide.
	if strings.HasPrefix(llm.EmbedCacheKey(req), "chat:") {
		t.Error("an embeddings key looks like a chat key")
	}
}

// A stored reply that fails its checksum is a fresh call in read-write
// mode (which replaces it) and an error naming the call in replay mode.
func TestCacheDamagedEntryThroughRouter(t *testing.T) {
	s := newCountingServer(t, 0)
	path := filepath.Join(t.TempDir(), "cache.db")
	c := openTestBolt(t, path, llm.BoltOptions{})
	req := tinyReq("what is 6*7")
	if _, err := s.router(t, c, llm.CacheReadWrite).Chat(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	corruptEntry(t, path, llm.CacheKey(req), "echo: what is 6*7", "echo: what is 6*9")

	ro := openTestBolt(t, path, llm.BoltOptions{ReadOnly: true})
	_, err := s.router(t, ro, llm.CacheReplay).Chat(context.Background(), req)
	if !errors.Is(err, llm.ErrCacheEntryDamaged) || !strings.Contains(err.Error(), llm.CacheKey(req)) || !strings.Contains(err.Error(), `model "local/tiny"`) {
		t.Errorf("replay of a damaged entry: %v; want an error naming the call", err)
	}
	if s.chats.Load() != 1 {
		t.Errorf("replay made a request")
	}
	_ = ro.Close()

	rw := openTestBolt(t, path, llm.BoltOptions{})
	resp, err := s.router(t, rw, llm.CacheReadWrite).Chat(context.Background(), req)
	if err != nil || resp.Cached || resp.Content != "echo: what is 6*7" || s.chats.Load() != 2 {
		t.Errorf("read-write over a damaged entry: %q cached %v, %v, %d requests", resp.Content, resp.Cached, err, s.chats.Load())
	}
	resp, err = s.router(t, rw, llm.CacheReplay).Chat(context.Background(), req)
	if err != nil || !resp.Cached || resp.Content != "echo: what is 6*7" {
		t.Errorf("replay after the entry was replaced: %q, %v", resp.Content, err)
	}
}
