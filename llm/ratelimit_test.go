package llm_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/llm/llmtest"
	"github.com/gavel-eval/gavel/traces"
)

func limits(l map[string]llm.Limit) func(*llm.Config) {
	return func(c *llm.Config) { c.Limits = l }
}

func rateWait(s traces.Span) float64 {
	w, _ := s.Attributes["rate_limit_wait_ms"].(float64)
	return w
}

// RPM 60 spaces requests one second apart (on the injected clock).
func TestRPMLimit(t *testing.T) {
	s := llmtest.NewFaultServer(t, llmtest.FaultOptions{})
	clk := newFakeClock()
	r := routerFor(t, s.URL(), clk, limits(map[string]llm.Limit{"local": {RPM: 60}}))
	for i := range 5 {
		_, span, err := chatTraced(t, context.Background(), r, tinyReq("hi"))
		if err != nil {
			t.Fatal(err)
		}
		want := 1000.0
		if i == 0 {
			want = 0
		}
		if got := rateWait(span); math.Abs(got-want) > 1 {
			t.Errorf("call %d waited %vms for the rate limit, want %v", i, got, want)
		}
	}
	if got := clk.total(); got < 4*time.Second-time.Millisecond || got > 4*time.Second+time.Millisecond {
		t.Errorf("5 calls at 60 RPM slept %v, want 4s", got)
	}
	if st := r.ProviderStats("local"); st.Requests != 5 || s.Requests() != 5 {
		t.Errorf("stats %+v, server %d requests", st, s.Requests())
	}
}

// A "provider/model" limit wins over the provider's, and has its own
// bucket.
func TestModelLimitWins(t *testing.T) {
	s := llmtest.NewFaultServer(t, llmtest.FaultOptions{})
	clk := newFakeClock()
	r := routerFor(t, s.URL(), clk, limits(map[string]llm.Limit{"local": {RPM: 60}, "local/big": {RPM: 6}}))
	call := func(model string) traces.Span {
		req := tinyReq("hi")
		req.Model = model
		_, span, err := chatTraced(t, context.Background(), r, req)
		if err != nil {
			t.Fatal(err)
		}
		return span
	}
	call("local/big")
	if w := rateWait(call("local/big")); math.Abs(w-10000) > 1 {
		t.Errorf("second local/big call waited %vms, want 10000", w)
	}
	call("local/tiny")
	if w := rateWait(call("local/tiny")); math.Abs(w-1000) > 1 {
		t.Errorf("second local/tiny call waited %vms, want 1000", w)
	}
	if big, prov := r.ProviderStats("local/big"), r.ProviderStats("local"); big.Requests != 2 || prov.Requests != 2 {
		t.Errorf("local/big %+v, local %+v", big, prov)
	}
}

// TPM takes each request's estimate before it is sent and the reported
// excess after; the waits follow.
func TestTPMLimit(t *testing.T) {
	s := llmtest.NewFaultServer(t, llmtest.FaultOptions{})
	clk := newFakeClock()
	r := routerFor(t, s.URL(), clk, limits(map[string]llm.Limit{"local": {TPM: 600}}))
	msg := strings.Repeat("x", 400)
	// Estimate: ceil(400/4)+4 = 104 prompt tokens. The server reports 104
	// prompt and ceil(406/4) = 102 completion tokens: 206 in all.
	var waits []float64
	for range 5 {
		resp, span, err := chatTraced(t, context.Background(), r, tinyReq(msg))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Usage != (llm.Usage{PromptTokens: 104, CompletionTokens: 102}) {
			t.Fatalf("usage %+v", resp.Usage)
		}
		waits = append(waits, rateWait(span))
	}
	// The bucket holds 600 and refills 10 a second. Call 4 starts when
	// 3*206 + 104 = 722 tokens have been taken: 12.2s in; call 5 at
	// 4*206 + 104 = 928: 32.8s in.
	want := []float64{0, 0, 0, 12200, 20600}
	for i := range want {
		if math.Abs(waits[i]-want[i]) > 1 {
			t.Errorf("rate-limit waits = %v ms, want %v", waits, want)
			break
		}
	}
	if st := r.ProviderStats("local"); st.Tokens != 5*206 {
		t.Errorf("tokens taken = %d, want %d", st.Tokens, 5*206)
	}
}

// A 429 halves the provider's in-flight bound (at least 1); successes
// grow it back by one after as many in a row as the bound, up to the
// configured concurrency.
func TestAIMDHalvesAndRecovers(t *testing.T) {
	script := []llmtest.Fault{llmtest.Fault429, llmtest.Fault429, llmtest.Fault429, llmtest.Fault429}
	s := llmtest.NewFaultServer(t, llmtest.FaultOptions{Script: script})
	r := routerFor(t, s.URL(), newFakeClock(), func(c *llm.Config) {
		c.Limits = map[string]llm.Limit{"local": {Concurrency: 8}}
		c.Retry.MaxAttempts = 1
	})
	if st := r.ProviderStats("local"); st.InFlightLimit != 8 {
		t.Fatalf("initial bound %d", st.InFlightLimit)
	}
	for i, want := range []int{4, 2, 1, 1} {
		_, _, err := chatTraced(t, context.Background(), r, tinyReq("hi"))
		if !llm.IsRetryable(err) {
			t.Fatalf("call %d: err = %v, want a 429", i, err)
		}
		if st := r.ProviderStats("local"); st.InFlightLimit != want || st.Throttled != int64(i+1) {
			t.Errorf("after 429 #%d: bound %d throttled %d, want %d", i+1, st.InFlightLimit, st.Throttled, want)
		}
	}
	// 1 -> 2 after 1 success, 2 -> 3 after 2 more, ..., 7 -> 8 after 7.
	successes := 0
	for bound := 1; bound < 8; bound++ {
		for range bound {
			if _, _, err := chatTraced(t, context.Background(), r, tinyReq("hi")); err != nil {
				t.Fatal(err)
			}
			successes++
		}
		if st := r.ProviderStats("local"); st.InFlightLimit != bound+1 {
			t.Fatalf("after %d successes: bound %d, want %d", successes, st.InFlightLimit, bound+1)
		}
	}
	for range 20 {
		if _, _, err := chatTraced(t, context.Background(), r, tinyReq("hi")); err != nil {
			t.Fatal(err)
		}
	}
	if st := r.ProviderStats("local"); st.InFlightLimit != 8 || st.Failures != 4 {
		t.Errorf("bound grew past the configured 8, or failures miscounted: %+v", st)
	}
}

// barrierServer answers status and body to its first n requests at once
// (each waits, at most 10s, until all n have arrived), and okReply to
// later ones.
func barrierServer(t *testing.T, n int, status int, body string) *fakeServer {
	var mu sync.Mutex
	arrived := 0
	all := make(chan struct{})
	return newFakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrived++
		i := arrived
		if arrived == n {
			close(all)
		}
		mu.Unlock()
		if i > n {
			respond(200, okReply)(w, r)
			return
		}
		select {
		case <-all:
		case <-time.After(10 * time.Second):
		}
		respond(status, body)(w, r)
	})
}

const rateLimitBody = `{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}`

// 429s to attempts that were in flight together halve the bound once.
func TestAIMDOncePerWindow(t *testing.T) {
	f := barrierServer(t, 8, 429, rateLimitBody)
	r := routerFor(t, f.URL+"/v1", newFakeClock(), func(c *llm.Config) {
		c.Limits = map[string]llm.Limit{"local": {Concurrency: 8}}
		c.Retry.MaxAttempts = 1
	})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := r.Chat(context.Background(), tinyReq("hi")); !llm.IsRetryable(err) {
				t.Errorf("err = %v", err)
			}
		})
	}
	wg.Wait()
	if st := r.ProviderStats("local"); st.InFlightLimit != 4 || st.Throttled != 8 || st.MaxInFlight != 8 {
		t.Errorf("stats %+v, want bound 4 after one halving, 8 throttled", st)
	}
}

// With no configured concurrency, a 429 bounds the provider at half the
// attempts then in flight, and the bound is lifted once it grows back.
func TestAIMDUnbounded(t *testing.T) {
	f := barrierServer(t, 4, 429, rateLimitBody)
	r := routerFor(t, f.URL+"/v1", newFakeClock(), func(c *llm.Config) { c.Retry.MaxAttempts = 1 })
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { r.Chat(context.Background(), tinyReq("hi")) })
	}
	wg.Wait()
	if st := r.ProviderStats("local"); st.InFlightLimit != 2 || st.Concurrency != 0 {
		t.Fatalf("stats %+v, want bound 2", st)
	}
	// 2 -> 3 after 2 successes; 3 -> 4, the in-flight level of the
	// 429s, after 3 more: the bound is lifted.
	for i, want := range []int{2, 3, 3, 3, 0, 0} {
		if _, err := r.Chat(context.Background(), tinyReq("hi")); err != nil {
			t.Fatal(err)
		}
		if st := r.ProviderStats("local"); st.InFlightLimit != want {
			t.Fatalf("after %d successes: bound %d, want %d", i+1, st.InFlightLimit, want)
		}
	}
}

// The configured concurrency bounds what the server sees.
func TestConcurrencyBound(t *testing.T) {
	s := llmtest.NewFaultServer(t, llmtest.FaultOptions{Latency: 20 * time.Millisecond})
	r := routerFor(t, s.URL(), nil, limits(map[string]llm.Limit{"local": {Concurrency: 3}}))
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			if _, err := r.Chat(context.Background(), tinyReq("hi")); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	st := r.ProviderStats("local")
	if s.MaxInFlight() > 3 || st.MaxInFlight > 3 || st.InFlight != 0 || st.Requests != 12 {
		t.Errorf("server max in flight %d, stats %+v; want at most 3", s.MaxInFlight(), st)
	}
}

// A Retry-After pauses the whole provider: a new call waits it out.
func TestRetryAfterPausesProvider(t *testing.T) {
	s := llmtest.NewFaultServer(t, llmtest.FaultOptions{Script: []llmtest.Fault{llmtest.Fault429}, RetryAfter: 3 * time.Second})
	clk := newFakeClock()
	r := routerFor(t, s.URL(), clk, func(c *llm.Config) { c.Retry.MaxAttempts = 1 })
	if _, _, err := chatTraced(t, context.Background(), r, tinyReq("first")); !llm.IsRetryable(err) {
		t.Fatalf("err = %v, want the 429", err)
	}
	_, span, err := chatTraced(t, context.Background(), r, tinyReq("second"))
	if err != nil {
		t.Fatal(err)
	}
	if w := rateWait(span); math.Abs(w-3000) > 1 {
		t.Errorf("the next call waited %vms, want the 3000ms pause", w)
	}
}

// A caller waiting for a slot gives up when its context ends, and takes
// no slot with it.
func TestCancelWhileWaitingForSlot(t *testing.T) {
	s := llmtest.NewFaultServer(t, llmtest.FaultOptions{Script: []llmtest.Fault{llmtest.FaultHang}})
	r := routerFor(t, s.URL(), nil, func(c *llm.Config) {
		c.Limits = map[string]llm.Limit{"local": {Concurrency: 1}}
		c.Timeout = 500 * time.Millisecond
		c.Retry.MaxAttempts = 1
	})
	first := make(chan error, 1)
	go func() {
		_, err := r.Chat(context.Background(), tinyReq("first"))
		first <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for r.ProviderStats("local").InFlight != 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := r.Chat(ctx, tinyReq("second"))
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "waiting for the rate limit") {
		t.Errorf("err = %v, want the deadline while waiting", err)
	}
	if ferr := <-first; !llm.IsRetryable(ferr) {
		t.Errorf("first call: %v, want its timeout", ferr)
	}
	if st := r.ProviderStats("local"); st.InFlight != 0 || s.Requests() != 1 {
		t.Errorf("stats %+v, %d requests", st, s.Requests())
	}
	if _, err := r.Chat(context.Background(), tinyReq("third")); err != nil {
		t.Errorf("after the wait was abandoned: %v", err)
	}
}

func TestLimitsValidation(t *testing.T) {
	cases := []struct {
		limits map[string]llm.Limit
		want   string
	}{
		{map[string]llm.Limit{"nope": {RPM: 1}}, `unknown provider "nope"`},
		{map[string]llm.Limit{"nope/x": {RPM: 1}}, `unknown provider "nope"`},
		{map[string]llm.Limit{"openai/": {RPM: 1}}, "empty model"},
		{map[string]llm.Limit{"openai": {RPM: -1}}, "not negative"},
		{map[string]llm.Limit{"openai": {Concurrency: -2}}, "not negative"},
		{map[string]llm.Limit{"openai": {TPM: math.Inf(1)}}, "finite"},
	}
	for _, tc := range cases {
		_, err := llm.NewRouter(llm.Config{Local: local(), Getenv: env(nil), Limits: tc.limits})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q", tc.limits, err, tc.want)
		}
	}
	if _, err := llm.NewRouter(llm.Config{Local: local(), Getenv: env(nil), Limits: map[string]llm.Limit{"openai/gpt-4o": {RPM: 500, TPM: 30000, Concurrency: 4}, "offline": {}}}); err != nil {
		t.Errorf("valid limits: %v", err)
	}
}
