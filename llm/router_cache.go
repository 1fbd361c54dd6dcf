package llm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gavel-eval/gavel/traces"
)

// Values of the "cache" attribute of a model call's span.
const (
	cacheAttrHit  = "hit"
	cacheAttrMiss = "miss"
	cacheAttrOff  = "off"
)

// routerCache is a Router's use of its Cache.
type routerCache struct {
	cache        Cache     // nil: no cache
	mode         CacheMode // CacheOff when cache is nil
	hits, misses atomic.Int64
	flights      flightGroup
}

// newRouterCache checks and resolves Config's cache settings: an empty
// mode means CacheReadWrite with a cache and CacheOff without one; replay
// needs a cache.
func newRouterCache(c Cache, mode CacheMode) (*routerCache, error) {
	if mode == "" {
		mode = CacheReadWrite
		if c == nil {
			mode = CacheOff
		}
	}
	mode, err := ParseCacheMode(string(mode))
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	switch {
	case mode == CacheReplay && c == nil:
		return nil, fmt.Errorf("llm: cache mode %q needs a cache", mode)
	case c == nil:
		mode = CacheOff
	}
	return &routerCache{cache: c, mode: mode}, nil
}

// uses reports whether calls to p go through the cache. A local
// provider's models (Provider, such as the offline ones) do not: they make no request, cost nothing and answer
// the same way every time, so they work in replay mode without a cache
// entry.
func (rc *routerCache) uses(p provider) bool {
	if rc.mode == CacheOff {
		return false
	}
	return !isLocal(p)
}

// through answers the call of model (its full name) whose cache key is key
// from the cache, or by call. call makes the request and returns the
// priced reply; through stores it (in read-write mode). Concurrent calls
// with the same key make one request: the first looks the key up and
// calls, the others wait for its reply and share it (as cache hits). A
// call that fails does not fail those waiting: each then tries on its own.
//
// It marks span's "cache" attribute ("hit", "miss" or "off"; a shared
// reply also sets "cache_shared") and counts the hit or miss. In replay
// mode a miss, or an entry that cannot be read, is an error naming the
// call, and call is never called. hit reports that the reply came from
// the cache, or from another caller's request.
func (rc *routerCache) through(ctx context.Context, span *traces.ActiveSpan, p provider, model, key string, call func() (Response, error)) (resp Response, hit bool, err error) {
	if !rc.uses(p) {
		span.SetAttr("cache", cacheAttrOff)
		resp, err = call()
		return resp, false, err
	}
	for {
		f, leader := rc.flights.join(key)
		if leader {
			// Deferred, so that waiters are released even if the
			// call panics.
			err = errFlightAborted
			defer func() { rc.flights.finish(key, f, resp, err) }()
			resp, hit, err = rc.lookupOrCall(ctx, span, model, key, call)
			return resp, hit, err
		}
		select {
		case <-f.done:
		case <-ctx.Done():
			return Response{}, false, fmt.Errorf("model %q: %w", model, context.Cause(ctx))
		}
		if f.err == nil {
			rc.hits.Add(1)
			span.SetAttr("cache", cacheAttrHit)
			span.SetAttr("cache_shared", true)
			return f.resp.clone(), true, nil
		}
		// The call failed for the caller who made it (its context
		// ended, say): this one makes its own.
	}
}

// lookupOrCall looks key up in the cache and, on a miss outside replay
// mode, calls and stores the reply.
func (rc *routerCache) lookupOrCall(ctx context.Context, span *traces.ActiveSpan, model, key string, call func() (Response, error)) (Response, bool, error) {
	cached, ok, gerr := rc.cache.Get(ctx, key)
	if gerr != nil {
		if rc.mode == CacheReplay {
			rc.misses.Add(1)
			span.SetAttr("cache", cacheAttrMiss)
			return Response{}, false, fmt.Errorf("model %q: call %s: reading the cache: %w; record the call again with --cache rw", model, key, gerr)
		}
		// A cache that cannot be read, or an entry that fails its
		// checksum, is a miss: the call is made (and, in read-write
		// mode, its reply replaces the entry).
		span.SetAttr("cache_error", gerr.Error())
		ok = false
	}
	if ok {
		rc.hits.Add(1)
		span.SetAttr("cache", cacheAttrHit)
		return cached, true, nil
	}
	rc.misses.Add(1)
	span.SetAttr("cache", cacheAttrMiss)
	if rc.mode == CacheReplay {
		return Response{}, false, fmt.Errorf("model %q: %w; record it first with --cache rw", model, ErrNotCached)
	}
	resp, err := call()
	if err != nil {
		return Response{}, false, err
	}
	rc.store(ctx, span, key, model, resp)
	return resp, false, nil
}

// store stores a successful response to model under key in read-write
// mode (with the model, for a cache that keeps it). A
// failure to store does not fail the call (its reply is good and paid
// for): it is recorded in the span's "cache_error" attribute.
func (rc *routerCache) store(ctx context.Context, span *traces.ActiveSpan, key, model string, resp Response) {
	if key == "" || rc.mode != CacheReadWrite {
		return
	}
	// The reply is stored even if the caller gives up now.
	if err := PutWithModel(context.WithoutCancel(ctx), rc.cache, key, model, resp); err != nil {
		span.SetAttr("cache_error", err.Error())
	}
}

// errFlightAborted is the result a flight's waiters see when its leader
// never returned (it panicked): they then make their own calls.
var errFlightAborted = errors.New("the identical call in flight was aborted")

// flightGroup lets concurrent calls with the same cache key share one
// lookup and one request. Unlike golang.org/x/sync/singleflight, a waiter
// gives up when its own context ends, and a failed call is not shared.
type flightGroup struct {
	mu sync.Mutex
	m  map[string]*flight
}

// flight is one call in progress; resp and err are set before done is
// closed.
type flight struct {
	done chan struct{}
	resp Response
	err  error
}

// join returns the flight of key and whether the caller leads it (and must
// finish it).
func (g *flightGroup) join(key string) (*flight, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f, ok := g.m[key]; ok {
		return f, false
	}
	if g.m == nil {
		g.m = map[string]*flight{}
	}
	f := &flight{done: make(chan struct{})}
	g.m[key] = f
	return f, true
}

// finish publishes the leader's result and removes the flight.
func (g *flightGroup) finish(key string, f *flight, resp Response, err error) {
	f.resp, f.err = resp.clone(), err
	g.mu.Lock()
	delete(g.m, key)
	g.mu.Unlock()
	close(f.done)
}

// clone returns a copy of r that shares no memory with it.
func (r Response) clone() Response {
	if r.CostUSD != nil {
		c := *r.CostUSD
		r.CostUSD = &c
	}
	if r.TTFTMS != nil {
		t := *r.TTFTMS
		r.TTFTMS = &t
	}
	r.Choices = slices.Clone(r.Choices)
	if r.Logprobs != nil {
		lp := make([]TokenLogprob, len(r.Logprobs))
		for i, t := range r.Logprobs {
			t.Top = slices.Clone(t.Top)
			lp[i] = t
		}
		r.Logprobs = lp
	}
	if r.Vectors != nil {
		vs := make([][]float64, len(r.Vectors))
		for i, v := range r.Vectors {
			vs[i] = slices.Clone(v)
		}
		r.Vectors = vs
	}
	return r
}

// CacheStats returns how many model calls the cache answered (hits,
// counting calls that shared an identical call's request) and how many it
// could not (misses) since the Router was made. Calls that do not use the
// cache (cache mode off, local providers) count as neither.
func (r *Router) CacheStats() (hits, misses int64) {
	return r.cache.hits.Load(), r.cache.misses.Load()
}

// CacheMode returns the Router's effective cache mode: CacheOff when it
// has no cache.
func (r *Router) CacheMode() CacheMode { return r.cache.mode }
