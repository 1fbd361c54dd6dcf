package llm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"

	"github.com/gavel-eval/gavel/internal/redact"
)

// A cassette is a cache's entries in a text file meant to be committed next
// to a spec, so that a team records its model calls once, with an API key,
// and replays them in CI with none (see LoadCassetteCache and
// CacheReplay). It is JSON Lines: a header line, then one line per entry,
// sorted by key so that re-recording makes small diffs:
//
//	{"gavel_cassette":1}
//	{"key":"chat:0a1b…","model":"openai/gpt-4o-mini","response":{"content":"42","usage":{…}}}
//
// An entry holds no creation time (it would change on every recording) and,
// like the cache, never an API key: replies are redacted when the model
// client receives them, and a recording (RecordingCache.ExportCassette)
// redacts again, as it writes, every secret the run knew. Blank lines and CRLF line ends are
// accepted; any other line that is not a valid entry makes the whole file
// invalid.

// CassetteVersion is the version of the cassette format, written in its
// header line.
const CassetteVersion = 1

// maxCassetteLine bounds the length of one line of a cassette.
const maxCassetteLine = 64 << 20

// maxCacheKey bounds the length of a cache key.
const maxCacheKey = 1024

// CacheEntry is one stored reply with what is known of the call that
// produced it.
type CacheEntry struct {
	// Key is the call's content address (CacheKey).
	Key string
	// Model is the request's "provider/model", or "" when unknown.
	Model string
	// Created is when the entry was stored; zero in a cassette, and zero
	// given to PutEntry means now.
	Created time.Time
	// Response is the model's reply.
	Response Response
}

// EntryPutter is a Cache that also keeps the model of each reply (the
// Cache interface's Put does not carry it). BoltCache, MemoryCache and
// RecordingCache implement it; PutWithModel uses it when it can.
type EntryPutter interface {
	PutEntry(ctx context.Context, e CacheEntry) error
}

// PutWithModel stores resp under key in c, with the model when c keeps
// models (an EntryPutter), with c.Put otherwise.
func PutWithModel(ctx context.Context, c Cache, key, model string, resp Response) error {
	if ep, ok := c.(EntryPutter); ok {
		return ep.PutEntry(ctx, CacheEntry{Key: key, Model: model, Response: resp})
	}
	return c.Put(ctx, key, resp)
}

// checkCacheKey accepts the keys a cache can store and a cassette can
// hold: non-empty, at most 1024 bytes of UTF-8 without control
// characters.
func checkCacheKey(key string) error {
	switch {
	case key == "":
		return errors.New("empty key")
	case len(key) > maxCacheKey:
		return fmt.Errorf("key longer than %d bytes", maxCacheKey)
	case !utf8.ValidString(key):
		return errors.New("key is not valid UTF-8")
	case strings.ContainsFunc(key, unicode.IsControl):
		return fmt.Errorf("key %q holds a control character", key)
	}
	return nil
}

// encodeResponse is the canonical JSON of a reply, as stored in a cache
// and written in a cassette.
func encodeResponse(resp Response) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(resp); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// CassetteError is an invalid line of a cassette.
type CassetteError struct {
	// Path is the cassette's path, when known.
	Path string
	// Line is the line's number, from 1.
	Line int
	Err  error
}

func (e *CassetteError) Error() string {
	if e.Path != "" {
		return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err)
	}
	return fmt.Sprintf("cassette line %d: %v", e.Line, e.Err)
}

func (e *CassetteError) Unwrap() error { return e.Err }

// MissingKeysError is returned by ExportCassette when keys it was asked for
// are not in the cache. It wraps ErrNotCached.
type MissingKeysError struct {
	// Keys are the missing keys, sorted.
	Keys []string
}

func (e *MissingKeysError) Error() string {
	if len(e.Keys) == 1 {
		return fmt.Sprintf("key %s is not in the cache", e.Keys[0])
	}
	return fmt.Sprintf("%d keys are not in the cache (the first is %s)", len(e.Keys), e.Keys[0])
}

func (e *MissingKeysError) Unwrap() error { return ErrNotCached }

// ExportCassette writes the cassette of c's entries under keys (sorted,
// duplicates dropped), or of all of its entries when keys is nil, to w.
// Keys that are not in the cache are left out: when there are some, the
// others are written all the same and the error is a *MissingKeysError
// (errors.Is ErrNotCached), which a caller recording a run whose calls
// partly failed may choose to report as a warning.
//
// The export is one read transaction: other processes can read the cache
// meanwhile, but their writes wait until w has taken the whole cassette.
func ExportCassette(c *BoltCache, w io.Writer, keys []string) error {
	return exportCassette(c, w, keys, nil)
}

// exportCassette is ExportCassette with the secrets in secrets (which may
// be nil) redacted from every reply it writes.
func exportCassette(c *BoltCache, w io.Writer, keys []string, secrets *redact.Secrets) error {
	if keys != nil {
		keys = slices.Clone(keys)
		slices.Sort(keys)
		keys = slices.Compact(keys)
	}
	var missing []string
	err := c.do(context.Background(), false, func(tx *bolt.Tx) error {
		missing = missing[:0]
		cw := newCassetteWriter(w)
		cw.secrets = secrets
		b := bucketOf(tx, boltEntries)
		emit := func(k, raw []byte) error {
			v, err := decodeBoltValue(raw)
			if err != nil {
				return fmt.Errorf("entry %s: %w", k, err)
			}
			var resp Response
			if err := json.Unmarshal(v.Response, &resp); err != nil {
				return fmt.Errorf("entry %s: %w", k, err)
			}
			return cw.entry(string(k), v.Model, resp)
		}
		if keys == nil && b != nil {
			cur := b.Cursor()
			for k, raw := cur.First(); k != nil; k, raw = cur.Next() {
				if err := emit(k, raw); err != nil {
					return err
				}
			}
		}
		for _, k := range keys {
			var raw []byte
			if b != nil {
				raw = b.Get([]byte(k))
			}
			if raw == nil {
				missing = append(missing, k)
				continue
			}
			if err := emit([]byte(k), raw); err != nil {
				return err
			}
		}
		return cw.flush()
	})
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return &MissingKeysError{Keys: missing}
	}
	return nil
}

// ImportCassette reads a cassette from r and stores its entries in c, in
// one transaction: when any line is invalid, nothing is stored and the
// error (a *CassetteError) names the line. An entry already stored with
// the same model and reply is left as it is, so importing twice changes
// nothing; one stored with another reply is replaced. n is the number of
// entries in the cassette.
func ImportCassette(c *BoltCache, r io.Reader) (n int, err error) {
	entries, err := readCassette(r)
	if err != nil {
		return 0, err
	}
	if c.opts.ReadOnly {
		return 0, fmt.Errorf("cache %s: %w", c.path, ErrCacheReadOnly)
	}
	now := time.Now()
	values := make([][]byte, len(entries))
	for i, e := range entries {
		e.Created = now
		if values[i], err = encodeBoltValue(e); err != nil {
			return 0, fmt.Errorf("entry %s: %w", e.Key, err)
		}
	}
	err = c.do(context.Background(), true, func(tx *bolt.Tx) error {
		for i, e := range entries {
			if err := putBoltValue(tx, e.Key, values[i]); err != nil {
				return fmt.Errorf("entry %s: %w", e.Key, err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	c.puts.Add(int64(len(entries)))
	return len(entries), nil
}

// LoadCassetteCache reads the cassette at path into a read-only
// MemoryCache, for replaying its calls with no cache file at all (Put
// fails with ErrCacheReadOnly). An invalid line is a *CassetteError naming
// the file and the line.
func LoadCassetteCache(path string) (*MemoryCache, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cassette: %w", err)
	}
	defer f.Close()
	entries, err := readCassette(f)
	if err != nil {
		if ce, ok := errors.AsType[*CassetteError](err); ok {
			ce.Path = path
			return nil, ce
		}
		return nil, fmt.Errorf("cassette %s: %w", path, err)
	}
	m := &MemoryCache{entries: make(map[string]memoryEntry, len(entries))}
	for _, e := range entries {
		if err := m.put(e); err != nil {
			return nil, fmt.Errorf("cassette %s: entry %s: %w", path, e.Key, err)
		}
	}
	m.readOnly = true
	return m, nil
}

// readCassette parses and validates a whole cassette. A key repeated with
// the same model and reply is read once; repeated with another, it is an
// error.
func readCassette(r io.Reader) ([]CacheEntry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxCassetteLine)
	var (
		line    int
		header  bool
		entries []CacheEntry
		seen    = map[string]int{} // key → index in entries
		lineOf  = map[string]int{} // key → line
	)
	for sc.Scan() {
		line++
		text := sc.Bytes() // without its "\n" or "\r\n"
		if len(bytes.TrimSpace(text)) == 0 {
			continue
		}
		if !header {
			if err := parseCassetteHeader(text); err != nil {
				return nil, &CassetteError{Line: line, Err: err}
			}
			header = true
			continue
		}
		e, err := parseCassetteLine(text)
		if err != nil {
			return nil, &CassetteError{Line: line, Err: err}
		}
		if i, dup := seen[e.Key]; dup {
			if !sameEntry(entries[i], e) {
				return nil, &CassetteError{Line: line, Err: fmt.Errorf("key %s is already on line %d with another reply", e.Key, lineOf[e.Key])}
			}
			continue
		}
		seen[e.Key] = len(entries)
		lineOf[e.Key] = line
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &CassetteError{Line: line + 1, Err: fmt.Errorf("line longer than %d bytes", maxCassetteLine)}
		}
		return nil, fmt.Errorf("cassette: %w", err)
	}
	if !header {
		return nil, &CassetteError{Line: max(line, 1), Err: errors.New(`empty: no {"gavel_cassette":1} header line`)}
	}
	return entries, nil
}

func parseCassetteHeader(text []byte) error {
	var h struct {
		Version *int `json:"gavel_cassette"`
	}
	if err := strictUnmarshal(text, &h); err != nil || h.Version == nil {
		return errors.New(`not a gavel cassette: the first line must be {"gavel_cassette":1}`)
	}
	switch v := *h.Version; {
	case v > CassetteVersion:
		return fmt.Errorf("cassette version %d is newer than this gavel's (%d): upgrade gavel", v, CassetteVersion)
	case v < 1:
		return fmt.Errorf("invalid cassette version %d", v)
	}
	return nil
}

// cassetteLine is one entry line of a cassette.
type cassetteLine struct {
	Key      *string         `json:"key"`
	Model    string          `json:"model"`
	Response json.RawMessage `json:"response"`
}

func parseCassetteLine(text []byte) (CacheEntry, error) {
	var l cassetteLine
	if err := strictUnmarshal(text, &l); err != nil {
		return CacheEntry{}, err
	}
	if l.Key == nil {
		return CacheEntry{}, errors.New("no key")
	}
	if err := checkCacheKey(*l.Key); err != nil {
		return CacheEntry{}, err
	}
	if len(l.Response) == 0 || string(l.Response) == "null" {
		return CacheEntry{}, fmt.Errorf("key %s: no response", *l.Key)
	}
	var resp Response
	if err := strictUnmarshal(l.Response, &resp); err != nil {
		return CacheEntry{}, fmt.Errorf("key %s: response: %w", *l.Key, err)
	}
	// A reply that cannot be stored (it would not be written back the
	// same) is refused here rather than half-way through an import.
	if _, err := encodeResponse(resp); err != nil {
		return CacheEntry{}, fmt.Errorf("key %s: response: %w", *l.Key, err)
	}
	return CacheEntry{Key: *l.Key, Model: l.Model, Response: resp}, nil
}

// strictUnmarshal decodes one JSON value that must fill v exactly: no
// unknown fields, nothing after it.
func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON object")
	}
	return nil
}

// sameEntry reports whether two entries hold the same model and reply.
func sameEntry(a, b CacheEntry) bool {
	ra, err1 := encodeResponse(a.Response)
	rb, err2 := encodeResponse(b.Response)
	return err1 == nil && err2 == nil && a.Model == b.Model && bytes.Equal(ra, rb)
}

// cassetteWriter writes a cassette: the header, then entries in the order
// given (the callers give them sorted by key).
type cassetteWriter struct {
	bw     *bufio.Writer
	enc    *json.Encoder
	header bool
	// secrets are redacted from every reply written; nil for none.
	secrets *redact.Secrets
}

func newCassetteWriter(w io.Writer) *cassetteWriter {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &cassetteWriter{bw: bw, enc: enc}
}

func (cw *cassetteWriter) writeHeader() error {
	if cw.header {
		return nil
	}
	cw.header = true
	_, err := fmt.Fprintf(cw.bw, "{\"gavel_cassette\":%d}\n", CassetteVersion)
	return err
}

func (cw *cassetteWriter) entry(key, model string, resp Response) error {
	if err := cw.writeHeader(); err != nil {
		return err
	}
	raw, err := encodeResponse(redactResponse(cw.secrets, resp))
	if err != nil {
		return fmt.Errorf("entry %s: %w", key, err)
	}
	return cw.enc.Encode(cassetteLine{Key: &key, Model: model, Response: raw})
}

func (cw *cassetteWriter) flush() error {
	if err := cw.writeHeader(); err != nil {
		return err
	}
	return cw.bw.Flush()
}
