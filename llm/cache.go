package llm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// CacheMode says how a Router uses its Cache.
type CacheMode string

// Cache modes.
const (
	// CacheReadWrite answers from the cache when it can and stores every
	// new reply (the default).
	CacheReadWrite CacheMode = "rw"
	// CacheOff neither reads nor writes.
	CacheOff CacheMode = "off"
	// CacheReadOnly answers from the cache when it can and stores nothing.
	CacheReadOnly CacheMode = "ro"
	// CacheReplay answers only from the cache: a call that is not in it
	// fails with ErrNotCached, and no request leaves the process.
	CacheReplay CacheMode = "replay"
)

// ParseCacheMode parses rw, off, ro or replay.
func ParseCacheMode(s string) (CacheMode, error) {
	switch m := CacheMode(strings.ToLower(strings.TrimSpace(s))); m {
	case CacheReadWrite, CacheOff, CacheReadOnly, CacheReplay:
		return m, nil
	case "":
		return CacheReadWrite, nil
	}
	return "", fmt.Errorf("unknown cache mode %q (rw, off, ro or replay)", s)
}

// Cache stores model replies by the content address of their request. An
// implementation must be safe for concurrent use (and, for a file-backed
// cache, across processes).
type Cache interface {
	Get(ctx context.Context, key string) (Response, bool, error)
	Put(ctx context.Context, key string, resp Response) error
}

// ErrNotCached is returned (wrapped) in replay mode for a call that is not
// in the cache.
var ErrNotCached = fmt.Errorf("not in the cache (replay mode makes no model calls)")

// CacheKey is the content address of a chat request: a SHA-256 of its
// canonical form — the provider and model, the messages, the sampling
// parameters (seed included) and, when the temperature is above 0, the
// epoch — and never the API key or the endpoint's address, nor whether
// the reply is streamed (Params.Stream), which changes how it travels, not
// what it says. Two calls with the same key are the same call.
func CacheKey(req Request) string {
	params := req.Params
	params.Stream = nil
	canon := struct {
		Kind     string    `json:"kind"`
		Model    string    `json:"model"`
		Messages []Message `json:"messages"`
		Params   Params    `json:"params"`
		Tools    []Tool    `json:"tools,omitempty"`
		Epoch    *int      `json:"epoch,omitempty"`
	}{Kind: "chat", Model: req.Model, Messages: req.Messages, Params: params, Tools: req.Tools}
	if req.Params.Temperature != nil && *req.Params.Temperature > 0 {
		e := req.Epoch
		canon.Epoch = &e
	}
	b, err := json.Marshal(canon)
	if err != nil {
		// Params hold only JSON-encodable values; a schema that is not
		// is refused before any call.
		b = []byte(fmt.Sprintf("%#v", canon))
	}
	sum := sha256.Sum256(b)
	return "chat:" + hex.EncodeToString(sum[:])
}

// EmbedCacheKey is the content address of an embeddings request: a SHA-256
// of the model and the inputs, in order. A cache stores the reply as a
// Response whose Vectors hold the vectors.
func EmbedCacheKey(req EmbedRequest) string {
	canon := struct {
		Kind  string   `json:"kind"`
		Model string   `json:"model"`
		Input []string `json:"input"`
	}{Kind: "embed", Model: req.Model, Input: req.Input}
	b, _ := json.Marshal(canon) // strings only: cannot fail
	sum := sha256.Sum256(b)
	return "embed:" + hex.EncodeToString(sum[:])
}
