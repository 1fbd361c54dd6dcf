package llm_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gavel-eval/gavel/llm"
)

// writeTestCache writes a cache file of n entries through a BoltCache and
// returns its path.
func writeTestCache(t *testing.T, dir string, n int) string {
	t.Helper()
	path := filepath.Join(dir, "cache.db")
	c := openTestBolt(t, path, llm.BoltOptions{})
	for i := 0; i < n; i++ {
		if err := llm.PutWithModel(context.Background(), c, cacheTestKey(i), "openai/gpt-4o-mini", cacheTestReply(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// useDamaged opens a damaged cache file in both modes and reads every
// entry and exports it: nothing may panic, every reply read must be the
// one stored, and a failure to open must be a *CacheDamagedError naming
// the file once. It returns whether any operation reported the damage.
func useDamaged(t *testing.T, path string, n int) (damaged bool) {
	t.Helper()
	ctx := context.Background()
	for _, ro := range []bool{false, true} {
		c, err := llm.OpenBoltCache(path, llm.BoltOptions{ReadOnly: ro, LockTimeout: 2 * time.Second})
		if err != nil {
			var de *llm.CacheDamagedError
			if !errors.As(err, &de) || !errors.Is(err, llm.ErrCacheDamaged) {
				t.Errorf("open (read-only %v): %v, want a *CacheDamagedError", ro, err)
			}
			if got := strings.Count(err.Error(), path); got != 1 {
				t.Errorf("open (read-only %v): %q names the file %d times", ro, err, got)
			}
			t.Logf("open (read-only %v): %v", ro, err)
			damaged = true
			continue
		}
		for i := 0; i < n; i++ {
			resp, ok, err := c.Get(ctx, cacheTestKey(i))
			switch {
			case errors.Is(err, llm.ErrCacheDamaged):
				if !damaged {
					t.Logf("get (read-only %v): %v", ro, err)
				}
				damaged = true
			case err != nil:
				if !errors.Is(err, llm.ErrCacheEntryDamaged) && !strings.Contains(err.Error(), "entry") {
					t.Errorf("get %d: %v", i, err)
				}
			case ok:
				sameReply(t, "reply read from a damaged file", resp, cacheTestReply(i))
			}
		}
		if _, err := c.Len(ctx); errors.Is(err, llm.ErrCacheDamaged) {
			damaged = true
		}
		if err := llm.ExportCassette(c, &bytes.Buffer{}, nil); errors.Is(err, llm.ErrCacheDamaged) {
			damaged = true
		}
		if !ro {
			if err := c.Put(ctx, cacheTestKey(n+1), cacheTestReply(1)); errors.Is(err, llm.ErrCacheDamaged) {
				damaged = true
			}
		}
		// Once found damaged, the cache says so at once.
		if damaged {
			if _, _, err := c.Get(ctx, cacheTestKey(0)); !errors.Is(err, llm.ErrCacheDamaged) {
				t.Errorf("after the damage was found, get: %v", err)
			}
		}
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	}
	return damaged
}

// TestBoltCacheDamagedFile truncates and overwrites parts of a real cache
// file: opening it, reading it and exporting it never panic, never give a
// reply other than the one stored, and damage that reaches the pages in
// use is reported as a *CacheDamagedError (the file's path, once).
func TestBoltCacheDamagedFile(t *testing.T) {
	t.Parallel()
	const n = 300
	orig, err := os.ReadFile(writeTestCache(t, t.TempDir(), n))
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	if len(orig) < 8*page {
		t.Fatalf("the cache file has only %d bytes", len(orig))
	}
	// Cases that must be reported as damage (every page the meta pages
	// point to is gone or unreadable) map to true; the others (bytes
	// overwritten here and there, which may be in free pages) must only
	// never panic nor lie.
	type damage struct {
		content    []byte
		mustReport bool
	}
	cases := map[string]damage{}
	cases["truncated to half"] = damage{bytes.Clone(orig[:len(orig)/2]), false}
	for _, size := range []int{3 * page, page + 10, 100} {
		cases["truncated to "+strconv.Itoa(size)] = damage{bytes.Clone(orig[:size]), true}
	}
	for _, off := range []int{0 + 16, page + 16, 2*page + 8, 3*page + 8, 4*page + 10, 5*page + 9, 6*page + 1000, len(orig)/2 + 7, len(orig) - page + 12} {
		b := bytes.Clone(orig)
		for i := off; i < off+8 && i < len(b); i++ {
			b[i] ^= 0xa5
		}
		cases["overwritten at "+strconv.Itoa(off)] = damage{b, false}
	}
	// The type of the root bucket's page, which every transaction reads.
	b := bytes.Clone(orig)
	root := rootPageOf(t, b)
	b[root*page+8] ^= 0xa5
	cases["root page type overwritten"] = damage{b, true}
	dir := t.TempDir()
	for name, d := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".db")
			if err := os.WriteFile(path, d.content, 0o600); err != nil {
				t.Fatal(err)
			}
			if !useDamaged(t, path, n) && d.mustReport {
				t.Error("the damage was not reported")
			}
		})
	}
}

// rootPageOf returns the page of the root bucket of a bbolt file (4096-byte
// pages), from its meta page with the higher transaction id: after the
// page header (16 bytes), magic, version, page size and flags (4 bytes
// each), the root bucket's page (8) and sequence (8), the freelist's page
// (8), the high water mark (8) and the transaction id (8).
func rootPageOf(t *testing.T, file []byte) int {
	t.Helper()
	best, root := uint64(0), 0
	for _, meta := range []int{0, 4096} {
		m := file[meta+16:]
		if binary.LittleEndian.Uint32(m) != 0xED0CDAED {
			t.Fatalf("no bbolt meta page at %d", meta)
		}
		if txid := binary.LittleEndian.Uint64(m[48:]); txid >= best {
			best, root = txid, int(binary.LittleEndian.Uint64(m[16:]))
		}
	}
	if root < 2 || (root+1)*4096 > len(file) {
		t.Fatalf("root bucket at page %d of a %d-byte file", root, len(file))
	}
	return root
}

// TestBoltCacheDamagedEntry flips a byte inside a stored reply (opening
// the file with bbolt directly): Get reports the entry as damaged rather
// than return another reply, and a Put of the call replaces it.
func TestBoltCacheDamagedEntry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := writeTestCache(t, t.TempDir(), 3)
	corruptEntry(t, path, cacheTestKey(1), "answer 1", "answer 7")

	c := openTestBolt(t, path, llm.BoltOptions{})
	if resp, ok, err := c.Get(ctx, cacheTestKey(1)); !errors.Is(err, llm.ErrCacheEntryDamaged) || ok {
		t.Fatalf("get of the damaged entry = %q, %v, %v; want an error wrapping ErrCacheEntryDamaged", resp.Content, ok, err)
	} else if !strings.Contains(err.Error(), cacheTestKey(1)) || strings.Count(err.Error(), path) != 1 {
		t.Errorf("error %q does not name the entry and the file once", err)
	}
	if _, ok, err := c.Get(ctx, cacheTestKey(2)); !ok || err != nil {
		t.Errorf("another entry: %v, %v", ok, err)
	}
	if err := llm.ExportCassette(c, &bytes.Buffer{}, nil); !errors.Is(err, llm.ErrCacheEntryDamaged) {
		t.Errorf("export with a damaged entry: %v", err)
	}
	if err := llm.PutWithModel(ctx, c, cacheTestKey(1), "openai/gpt-4o-mini", cacheTestReply(1)); err != nil {
		t.Fatal(err)
	}
	resp, ok, err := c.Get(ctx, cacheTestKey(1))
	if !ok || err != nil {
		t.Fatalf("after the Put: %v, %v", ok, err)
	}
	sameReply(t, "replaced entry", resp, cacheTestReply(1))
}

// corruptEntry replaces old by new (of the same length) in the stored value
// of key.
func corruptEntry(t *testing.T, path, key, old, new string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("entries"))
		v := b.Get([]byte(key))
		if !bytes.Contains(v, []byte(old)) {
			t.Fatalf("stored value %s lacks %q", v, old)
		}
		return b.Put([]byte(key), bytes.Replace(v, []byte(old), []byte(new), 1))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBoltCacheLegacyEntry: an entry of format 1 (no checksum) is reported
// as unverified by Get, exported as it is, and replaced by a Put of the
// same reply.
func TestBoltCacheLegacyEntry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := writeTestCache(t, t.TempDir(), 1)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := json.Marshal(cacheTestReply(0))
	legacy, _ := json.Marshal(map[string]any{"format": 1, "model": "openai/gpt-4o-mini", "created": time.Now(), "response": json.RawMessage(resp)})
	if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("entries")).Put([]byte(cacheTestKey(0)), legacy) }); err != nil {
		t.Fatal(err)
	}
	db.Close()

	c := openTestBolt(t, path, llm.BoltOptions{})
	if _, ok, err := c.Get(ctx, cacheTestKey(0)); ok || !errors.Is(err, llm.ErrCacheEntryUnverified) {
		t.Fatalf("get of a legacy entry: %v, %v", ok, err)
	}
	var buf bytes.Buffer
	if err := llm.ExportCassette(c, &buf, nil); err != nil || !strings.Contains(buf.String(), "answer 0") {
		t.Errorf("export of a legacy entry: %v\n%s", err, buf.String())
	}
	if err := llm.PutWithModel(ctx, c, cacheTestKey(0), "openai/gpt-4o-mini", cacheTestReply(0)); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := c.Get(ctx, cacheTestKey(0)); !ok || err != nil {
		t.Fatalf("after the Put: %v, %v", ok, err)
	} else {
		sameReply(t, "replaced legacy entry", got, cacheTestReply(0))
	}
}
