package llm

import (
	"context"
	"io"
	"slices"
	"sync"

	"github.com/gavel-eval/gavel/internal/redact"
)

// RecordingCache is a Cache that remembers every key it was asked for (by
// Get, Put or PutEntry) and passes the calls on to Inner; a nil Inner
// misses every Get and stores nothing. After a run, Keys lists the calls
// the run made, to export just those to a cassette (ExportCassette,
// MemoryCache.WriteCassette). Use it by pointer; it is safe for concurrent
// use.
//
// A recording keeps secrets out of what it passes on and writes: the
// values given to AddSecrets and, when it is a Router's Config.Cache,
// the Router's (the providers' API keys and Config.Secrets) are replaced
// by "[redacted]" in the replies Get returns, in those Put and PutEntry
// store, and in the cassette ExportCassette writes — even for an entry
// stored in Inner before the value was known to be a secret.
type RecordingCache struct {
	Inner Cache

	mu      sync.Mutex
	keys    map[string]struct{}
	secrets *redact.Secrets
}

var (
	_ Cache       = (*RecordingCache)(nil)
	_ EntryPutter = (*RecordingCache)(nil)
)

// Get records key and asks Inner.
func (r *RecordingCache) Get(ctx context.Context, key string) (Response, bool, error) {
	r.record(key)
	if r.Inner == nil {
		return Response{}, false, nil
	}
	resp, ok, err := r.Inner.Get(ctx, key)
	if ok {
		resp = redactResponse(r.known(), resp)
	}
	return resp, ok, err
}

// Put records key and stores resp in Inner.
func (r *RecordingCache) Put(ctx context.Context, key string, resp Response) error {
	r.record(key)
	if r.Inner == nil {
		return nil
	}
	return r.Inner.Put(ctx, key, redactResponse(r.known(), resp))
}

// PutEntry records e.Key and stores e in Inner, with its model when Inner
// keeps models.
func (r *RecordingCache) PutEntry(ctx context.Context, e CacheEntry) error {
	r.record(e.Key)
	e.Response = redactResponse(r.known(), e.Response)
	switch in := r.Inner.(type) {
	case nil:
		return nil
	case EntryPutter:
		return in.PutEntry(ctx, e)
	default:
		return in.Put(ctx, e.Key, e.Response)
	}
}

// AddSecrets adds values (API keys, tokens) that the recording must keep
// out of the replies it passes on and writes. Values shorter than 4 bytes
// are ignored.
func (r *RecordingCache) AddSecrets(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets = r.secrets.With(values...)
}

// keepOut adds the secrets of s (a Router's) to the recording's.
func (r *RecordingCache) keepOut(s *redact.Secrets) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets = r.secrets.Union(s)
}

func (r *RecordingCache) known() *redact.Secrets {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.secrets
}

// ExportCassette writes the cassette of the calls recorded so far (Keys)
// from c, as the package's ExportCassette does (keys missing from c make
// a *MissingKeysError after the others are written), with the
// recording's secrets redacted from every reply.
func (r *RecordingCache) ExportCassette(c *BoltCache, w io.Writer) error {
	return exportCassette(c, w, r.Keys(), r.known())
}

// Keys returns the keys asked for so far, sorted, each once.
func (r *RecordingCache) Keys() []string {
	r.mu.Lock()
	keys := make([]string, 0, len(r.keys))
	for k := range r.keys {
		keys = append(keys, k)
	}
	r.mu.Unlock()
	slices.Sort(keys)
	return keys
}

func (r *RecordingCache) record(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.keys == nil {
		r.keys = make(map[string]struct{})
	}
	r.keys[key] = struct{}{}
}
