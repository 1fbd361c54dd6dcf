package llm_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/llm/llmtest"
	"github.com/gavel-eval/gavel/traces"
)

// mapCache is an in-memory llm.Cache that counts its use.
type mapCache struct {
	mu         sync.Mutex
	m          map[string]llm.Response
	gets, puts int
	getErr     error
	putErr     error
}

func newMapCache() *mapCache { return &mapCache{m: map[string]llm.Response{}} }

func (c *mapCache) Get(_ context.Context, key string) (llm.Response, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gets++
	if c.getErr != nil {
		return llm.Response{}, false, c.getErr
	}
	r, ok := c.m[key]
	return r, ok, nil
}

func (c *mapCache) Put(_ context.Context, key string, resp llm.Response) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.puts++
	if c.putErr != nil {
		return c.putErr
	}
	c.m[key] = resp
	return nil
}

func (c *mapCache) counts() (gets, puts, entries int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gets, c.puts, len(c.m)
}

func withCache(c llm.Cache, mode llm.CacheMode, more ...func(*llm.Config)) func(*llm.Config) {
	return func(cfg *llm.Config) {
		cfg.Cache = c
		cfg.CacheMode = mode
		for _, f := range more {
			f(cfg)
		}
	}
}

// In read-write mode a miss calls and stores; the same request then hits:
// no request, no rate-limit token, the original call's tokens and cost
// reported, the saved cost recorded.
func TestCacheHitMakesNoRequest(t *testing.T) {
	s := llmtest.NewFaultServer(t, llmtest.FaultOptions{})
	c := newMapCache()
	clk := newFakeClock()
	r := routerFor(t, s.URL(), clk, withCache(c, llm.CacheReadWrite, limits(map[string]llm.Limit{"local": {RPM: 1}})))
	req := tinyReq("What is 9 * 2?")
	first, span, err := chatTraced(t, context.Background(), r, req)
	if err != nil {
		t.Fatal(err)
	}
	if span.Attributes["cache"] != "miss" || s.Requests() != 1 {
		t.Fatalf("first call: cache %v, %d requests", span.Attributes["cache"], s.Requests())
	}
	// 8 prompt and 5 completion tokens at $1 and $2 per million.
	wantCost := (8*1 + 5*2) / 1e6
	if first.CostUSD == nil || math.Abs(*first.CostUSD-wantCost) > 1e-15 {
		t.Fatalf("first cost %v", first.CostUSD)
	}
	if _, puts, n := c.counts(); puts != 1 || n != 1 {
		t.Fatalf("puts %d entries %d", puts, n)
	}

	req.Name = "another step" // the span name is not part of the key
	second, span, err := chatTraced(t, context.Background(), r, req)
	if err != nil {
		t.Fatal(err)
	}
	if s.Requests() != 1 {
		t.Errorf("a cache hit made a request (%d in all)", s.Requests())
	}
	if clk.total() != 0 {
		t.Errorf("a cache hit waited %v for the 1 RPM limit", clk.total())
	}
	if st := r.ProviderStats("local"); st.Requests != 1 {
		t.Errorf("limiter counted %d requests", st.Requests)
	}
	a := span.Attributes
	if a["cache"] != "hit" || second.Content != first.Content || second.Usage != first.Usage {
		t.Errorf("hit: cache %v content %q usage %+v", a["cache"], second.Content, second.Usage)
	}
	// A hit reports what the call cost when it was made, and says it is
	// a hit.
	if second.CostUSD == nil || math.Abs(*second.CostUSD-wantCost) > 1e-15 || a["cost_usd"] != *first.CostUSD || !second.Cached || first.Cached {
		t.Errorf("hit cost %v, span cost %v, cached %v (first %v); want %v, a hit", second.CostUSD, a["cost_usd"], second.Cached, first.Cached, wantCost)
	}
	if saved, _ := a["cost_usd_saved"].(float64); math.Abs(saved-wantCost) > 1e-15 {
		t.Errorf("cost_usd_saved = %v, want %v", a["cost_usd_saved"], wantCost)
	}
	if a["prompt_tokens"] != 8 || a["completion_tokens"] != 5 || span.Output != first.Content {
		t.Errorf("hit span: %v, output %q", a, span.Output)
	}
	if _, ok := a["attempts"]; ok {
		t.Errorf("a hit has attempts: %v", a["attempts"])
	}
	if hits, misses := r.CacheStats(); hits != 1 || misses != 1 {
		t.Errorf("CacheStats = %d, %d; want 1, 1", hits, misses)
	}
	assertNoKey(t, span)
}

// Replay answers from the cache and fails a miss with ErrNotCached,
// naming the model, with no request.
func TestCacheReplay(t *testing.T) {
	s := llmtest.NewFaultServer(t, llmtest.FaultOptions{})
	c := newMapCache()
	rec := routerFor(t, s.URL(), nil, withCache(c, llm.CacheReadWrite))
	if _, err := rec.Chat(context.Background(), tinyReq("recorded")); err != nil {
		t.Fatal(err)
	}
	r := routerFor(t, s.URL(), nil, withCache(c, llm.CacheReplay))
	before := s.Requests()
	resp, err := r.Chat(context.Background(), tinyReq("recorded"))
	if err != nil || resp.Content != "echo: recorded" {
		t.Errorf("replayed hit: %q, %v", resp.Content, err)
	}
	_, span, err := chatTraced(t, context.Background(), r, tinyReq("never recorded"))
	if !errors.Is(err, llm.ErrNotCached) {
		t.Fatalf("err = %v, want ErrNotCached", err)
	}
	for _, w := range []string{`model "local/tiny"`, "not in the cache", "--cache rw"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	if s.Requests() != before {
		t.Errorf("replay made %d requests", s.Requests()-before)
	}
	if span.Status != traces.StatusError || span.Attributes["cache"] != "miss" {
		t.Errorf("span %q cache %v", span.Status, span.Attributes["cache"])
	}
	if hits, misses := r.CacheStats(); hits != 1 || misses != 1 {
		t.Errorf("CacheStats = %d, %d", hits, misses)
	}
	// A cache that cannot be read fails a replayed call too.
	c.getErr = errors.New("disk on fire")
	if _, err := r.Chat(context.Background(), tinyReq("recorded")); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("unreadable cache in replay: %v", err)
	}
	if s.Requests() != before {
		t.Errorf("replay made a request")
	}
}

// Replay needs no API key and no network.
func TestCacheReplayNeedsNoKey(t *testing.T) {
	c := newMapCache()
	req := llm.Request{Model: "openai/gpt-4o-mini", Messages: userMsg}
	c.m[llm.CacheKey(req)] = llm.Response{Content: "#### 18", Usage: llm.Usage{PromptTokens: 1000, CompletionTokens: 500}}
	r, err := llm.NewRouter(llm.Config{Local: local(),
		Getenv:     env(nil), // no OPENAI_API_KEY
		Cache:      c,
		CacheMode:  llm.CacheReplay,
		HTTPClient: &http.Client{Transport: failTransport{t}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Check("openai/gpt-4o-mini"); err != nil {
		t.Errorf("Check in replay mode: %v", err)
	}
	if err := r.Check("offline/nope"); err == nil {
		t.Errorf("Check in replay mode accepts an unknown offline model")
	}
	_, span, err := chatTraced(t, context.Background(), r, req)
	if err != nil {
		t.Fatalf("replayed call: %v", err)
	}
	// 1000 * 0.15 + 500 * 0.60 = 450 micro-dollars saved.
	if saved, _ := span.Attributes["cost_usd_saved"].(float64); math.Abs(saved-0.00045) > 1e-12 {
		t.Errorf("cost_usd_saved = %v", span.Attributes["cost_usd_saved"])
	}
	req.Messages = []llm.Message{{Role: "user", Content: "unrecorded"}}
	if _, err := r.Chat(context.Background(), req); !errors.Is(err, llm.ErrNotCached) {
		t.Errorf("err = %v, want ErrNotCached (not a missing key)", err)
	}
}

// Read-only mode reads but never stores; off neither reads nor stores;
// errors are never stored.
func TestCacheModes(t *testing.T) {
	s := llmtest.NewFaultServer(t, llmtest.FaultOptions{Script: []llmtest.Fault{llmtest.Fault500}})
	c := newMapCache()

	rw := routerFor(t, s.URL(), nil, withCache(c, "", func(cfg *llm.Config) { cfg.Retry.MaxAttempts = 1 }))
	if rw.CacheMode() != llm.CacheReadWrite {
		t.Errorf("default mode with a cache = %q", rw.CacheMode())
	}
	if _, err := rw.Chat(context.Background(), tinyReq("a")); err == nil {
		t.Fatal("the scripted 500 did not fail")
	}
	if _, puts, _ := c.counts(); puts != 0 {
		t.Errorf("an error was stored")
	}

	ro := routerFor(t, s.URL(), nil, withCache(c, llm.CacheReadOnly))
	if _, err := ro.Chat(context.Background(), tinyReq("b")); err != nil {
		t.Fatal(err)
	}
	if _, puts, _ := c.counts(); puts != 0 {
		t.Errorf("read-only mode stored")
	}

	gets, _, _ := c.counts()
	off := routerFor(t, s.URL(), nil, withCache(c, llm.CacheOff))
	_, span, err := chatTraced(t, context.Background(), off, tinyReq("c"))
	if err != nil {
		t.Fatal(err)
	}
	if g, p, _ := c.counts(); g != gets || p != 0 || span.Attributes["cache"] != "off" {
		t.Errorf("off mode used the cache: gets %d->%d puts %d, span %v", gets, g, p, span.Attributes["cache"])
	}
	if h, m := off.CacheStats(); h != 0 || m != 0 {
		t.Errorf("off mode counted %d/%d", h, m)
	}
	none := routerFor(t, s.URL(), nil, nil)
	if none.CacheMode() != llm.CacheOff {
		t.Errorf("mode without a cache = %q", none.CacheMode())
	}
}

// A cache that fails is recorded on the span but does not fail a call
// outside replay mode.
func TestCacheErrorsDoNotFailCalls(t *testing.T) {
	s := llmtest.NewFaultServer(t, llmtest.FaultOptions{})
	c := newMapCache()
	c.getErr = errors.New("cannot read")
	c.putErr = errors.New("cannot write")
	r := routerFor(t, s.URL(), nil, withCache(c, llm.CacheReadWrite))
	_, span, err := chatTraced(t, context.Background(), r, tinyReq("a"))
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := span.Attributes["cache_error"].(string); !strings.Contains(e, "cannot write") || span.Attributes["cache"] != "miss" {
		t.Errorf("span attributes %v", span.Attributes)
	}
}

// Offline models bypass the cache: they work in replay mode with an empty
// cache, and store nothing.
func TestCacheOfflineBypass(t *testing.T) {
	c := newMapCache()
	r, err := llm.NewRouter(llm.Config{Local: local(), Getenv: env(nil), Cache: c, CacheMode: llm.CacheReplay})
	if err != nil {
		t.Fatal(err)
	}
	rec := traces.NewRecorder("t", nil)
	ctx := traces.WithRecorder(context.Background(), rec)
	if _, err := r.Chat(ctx, llm.Request{Model: "offline/echo", Messages: []llm.Message{{Role: "user", Content: "x"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Embed(ctx, llm.EmbedRequest{Model: "offline/embed", Input: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	if g, p, _ := c.counts(); g != 0 || p != 0 || rec.Spans()[0].Attributes["cache"] != "off" {
		t.Errorf("offline used the cache: %d gets %d puts, %v", g, p, rec.Spans()[0].Attributes)
	}
}

// Replay mode refuses network embeddings that are not in the cache.
func TestEmbedReplayRefused(t *testing.T) {
	s := llmtest.NewFaultServer(t, llmtest.FaultOptions{})
	r := routerFor(t, s.URL(), nil, withCache(newMapCache(), llm.CacheReplay))
	_, err := r.Embed(context.Background(), llm.EmbedRequest{Model: "local/e", Input: []string{"x"}})
	if !errors.Is(err, llm.ErrNotCached) || s.Requests() != 0 {
		t.Errorf("err = %v, %d requests", err, s.Requests())
	}
}

func TestCacheConfigErrors(t *testing.T) {
	if _, err := llm.NewRouter(llm.Config{Local: local(), Getenv: env(nil), CacheMode: llm.CacheReplay}); err == nil || !strings.Contains(err.Error(), "needs a cache") {
		t.Errorf("replay without a cache: %v", err)
	}
	if _, err := llm.NewRouter(llm.Config{Local: local(), Getenv: env(nil), Cache: newMapCache(), CacheMode: "sometimes"}); err == nil || !strings.Contains(err.Error(), "unknown cache mode") {
		t.Errorf("bad mode: %v", err)
	}
}
