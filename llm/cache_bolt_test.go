package llm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gavel-eval/gavel/llm"
)

// cacheTestReply is a reply with every kind of field set, distinct for i.
func cacheTestReply(i int) llm.Response {
	cost := 0.001 * float64(i)
	return llm.Response{
		Content:      fmt.Sprintf("answer %d <b>&</b> ünïcode", i),
		FinishReason: "stop",
		Usage:        llm.Usage{PromptTokens: 10 + i, CompletionTokens: i},
		CostUSD:      &cost,
		Choices:      []string{fmt.Sprintf("answer %d <b>&</b> ünïcode", i), "other"},
		Logprobs: []llm.TokenLogprob{{
			Token: "answer", Logprob: -0.25,
			Top: []llm.TopLogprob{{Token: "answer", Logprob: -0.25}, {Token: "reply", Logprob: -1.5}},
		}},
	}
}

// cacheTestKey is the key of a request distinct for i.
func cacheTestKey(i int) string {
	return llm.CacheKey(llm.Request{
		Model:    "offline/echo",
		Messages: []llm.Message{{Role: "user", Content: fmt.Sprintf("question %d", i)}},
	})
}

// sameReply fails the test unless got and want are the same reply.
func sameReply(t *testing.T, what string, got, want llm.Response) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		t.Errorf("%s = %s\nwant %s", what, g, w)
	}
}

func openTestBolt(t *testing.T, path string, opts llm.BoltOptions) *llm.BoltCache {
	t.Helper()
	c, err := llm.OpenBoltCache(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// checkBoltFile runs bbolt's consistency check on a closed cache file.
func checkBoltFile(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	if err != nil {
		t.Errorf("bbolt check: %v", err)
	}
}

func TestBoltCacheRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "dir", "cache.db")
	c := openTestBolt(t, path, llm.BoltOptions{})

	if _, ok, err := c.Get(ctx, cacheTestKey(0)); ok || err != nil {
		t.Fatalf("Get on an empty cache = %v, %v", ok, err)
	}
	for i := range 5 {
		if err := c.Put(ctx, cacheTestKey(i), cacheTestReply(i)); err != nil {
			t.Fatal(err)
		}
	}
	// Storing the same reply again changes nothing; a new reply replaces.
	if err := c.Put(ctx, cacheTestKey(1), cacheTestReply(1)); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(ctx, cacheTestKey(4), cacheTestReply(40)); err != nil {
		t.Fatal(err)
	}
	check := func(c *llm.BoltCache) {
		t.Helper()
		for i := range 5 {
			got, ok, err := c.Get(ctx, cacheTestKey(i))
			if err != nil || !ok {
				t.Fatalf("Get(%d) = %v, %v", i, ok, err)
			}
			want := cacheTestReply(i)
			if i == 4 {
				want = cacheTestReply(40)
			}
			sameReply(t, fmt.Sprintf("Get(%d)", i), got, want)
		}
		if _, ok, err := c.Get(ctx, cacheTestKey(99)); ok || err != nil {
			t.Errorf("Get(99) = %v, %v, want a miss", ok, err)
		}
		if n, err := c.Len(ctx); n != 5 || err != nil {
			t.Errorf("Len = %d, %v, want 5", n, err)
		}
	}
	check(c)
	st := c.Stats()
	if st.Hits != 5 || st.Misses != 2 || st.Puts != 7 || st.Errors != 0 || st.Transactions == 0 {
		t.Errorf("Stats = %+v", st)
	}
	// A reply read back is a copy.
	got, _, _ := c.Get(ctx, cacheTestKey(2))
	got.Choices[0] = "changed"
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, _, err := c.Get(ctx, cacheTestKey(0)); !errors.Is(err, llm.ErrCacheClosed) {
		t.Errorf("Get after Close: %v, want ErrCacheClosed", err)
	}
	if err := c.Put(ctx, cacheTestKey(0), cacheTestReply(0)); !errors.Is(err, llm.ErrCacheClosed) {
		t.Errorf("Put after Close: %v, want ErrCacheClosed", err)
	}

	// Everything is in the file, for the next run (or a read-only one).
	check(openTestBolt(t, path, llm.BoltOptions{}))
	check(openTestBolt(t, path, llm.BoltOptions{ReadOnly: true}))
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("cache file mode: %v, %v, want 0600", fi.Mode(), err)
	}
}

func TestBoltCacheStoresMetadata(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cache.db")
	c := openTestBolt(t, path, llm.BoltOptions{})
	before := time.Now().Add(-time.Second)
	if err := llm.PutWithModel(ctx, c, cacheTestKey(1), "openai/gpt-4o-mini", cacheTestReply(1)); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	checkBoltFile(t, path)

	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var raw []byte
	_ = db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket([]byte("entries")); b != nil {
			raw = bytes.Clone(b.Get([]byte(cacheTestKey(1))))
		}
		if b := tx.Bucket([]byte("meta")); b == nil || string(b.Get([]byte("format"))) != "1" {
			t.Errorf("no format 1 in the meta bucket")
		}
		return nil
	})
	var v struct {
		Format   int
		Model    string
		Created  time.Time
		Response llm.Response
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("stored value %s: %v", raw, err)
	}
	if v.Format != llm.CacheEntryFormat || v.Model != "openai/gpt-4o-mini" || v.Created.Before(before) || v.Created.After(time.Now()) {
		t.Errorf("stored value = %s", raw)
	}
	sameReply(t, "stored response", v.Response, cacheTestReply(1))
}

func TestBoltCacheConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := openTestBolt(t, filepath.Join(t.TempDir(), "cache.db"), llm.BoltOptions{MaxBatch: 16})
	const goroutines, perG = 16, 20
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range perG {
				own := 1000*(g+1) + i
				// Every goroutine writes key 0..perG with the same
				// replies, and keys of its own.
				for _, k := range []int{i, own} {
					if err := c.Put(ctx, cacheTestKey(k), cacheTestReply(k)); err != nil {
						t.Error(err)
						return
					}
					got, ok, err := c.Get(ctx, cacheTestKey(k))
					if err != nil || !ok {
						t.Errorf("Get(%d) after Put = %v, %v", k, ok, err)
						return
					}
					sameReply(t, fmt.Sprintf("Get(%d)", k), got, cacheTestReply(k))
				}
			}
		})
	}
	wg.Wait()
	if n, err := c.Len(ctx); n != perG+goroutines*perG || err != nil {
		t.Errorf("Len = %d, %v, want %d", n, err, perG+goroutines*perG)
	}
	st := c.Stats()
	if want := int64(2 * goroutines * perG); st.Hits != want || st.Puts != want {
		t.Errorf("Stats = %+v, want %d hits and puts", st, want)
	}
	// Batching: far fewer transactions than operations.
	if st.Transactions >= int64(4*goroutines*perG) {
		t.Errorf("%d transactions for %d operations: no batching", st.Transactions, 4*goroutines*perG)
	}
}

// Two BoltCaches on one file in one process lock it against each other
// just as two processes do.
func TestBoltCacheTwoHandlesOneFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cache.db")
	a := openTestBolt(t, path, llm.BoltOptions{})
	b := openTestBolt(t, path, llm.BoltOptions{})
	var wg sync.WaitGroup
	for w, c := range []*llm.BoltCache{a, b, a, b} {
		wg.Go(func() {
			for i := range 30 {
				k := i*4 + w
				if err := c.Put(ctx, cacheTestKey(k), cacheTestReply(k)); err != nil {
					t.Error(err)
					return
				}
				// The other handle's writes become visible.
				if _, _, err := c.Get(ctx, cacheTestKey(i*4+(w+1)%4)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for i := range 120 {
		for _, c := range []*llm.BoltCache{a, b} {
			got, ok, err := c.Get(ctx, cacheTestKey(i))
			if err != nil || !ok {
				t.Fatalf("Get(%d) = %v, %v", i, ok, err)
			}
			sameReply(t, "reply", got, cacheTestReply(i))
		}
	}
}

func TestBoltCacheWaitsForTheLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cache.db")
	c := openTestBolt(t, path, llm.BoltOptions{LockTimeout: 300 * time.Millisecond})
	if err := c.Put(ctx, cacheTestKey(1), cacheTestReply(1)); err != nil {
		t.Fatal(err)
	}

	// Another writer holds the file: both reads and writes wait, then
	// fail with ErrCacheLocked.
	other, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, _, err := c.Get(ctx, cacheTestKey(1)); !errors.Is(err, llm.ErrCacheLocked) {
		t.Errorf("Get while locked: %v, want ErrCacheLocked", err)
	}
	if d := time.Since(start); d < 300*time.Millisecond || d > 5*time.Second {
		t.Errorf("Get gave up after %v, want about the lock timeout", d)
	}
	if err := c.Put(ctx, cacheTestKey(2), cacheTestReply(2)); !errors.Is(err, llm.ErrCacheLocked) {
		t.Errorf("Put while locked: %v, want ErrCacheLocked", err)
	}
	// A context that ends first ends the wait.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, _, err := c.Get(short, cacheTestKey(1)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get with a short context: %v, want DeadlineExceeded", err)
	}
	// Released in time, the lock is taken and the operation succeeds.
	time.AfterFunc(100*time.Millisecond, func() { _ = other.Close() })
	if err := c.Put(ctx, cacheTestKey(2), cacheTestReply(2)); err != nil {
		t.Errorf("Put after the lock was released: %v", err)
	}
	if st := c.Stats(); st.LockWaits < 3 || st.LockWaitTime < 600*time.Millisecond {
		t.Errorf("Stats = %+v, want at least 3 lock waits", st)
	}

	// A reader elsewhere shares the lock with our reads but holds off
	// our writes.
	reader, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	if _, ok, err := c.Get(ctx, cacheTestKey(2)); !ok || err != nil {
		t.Errorf("Get beside a reader = %v, %v", ok, err)
	}
	if err := c.Put(ctx, cacheTestKey(3), cacheTestReply(3)); !errors.Is(err, llm.ErrCacheLocked) {
		t.Errorf("Put beside a reader: %v, want ErrCacheLocked", err)
	}
}

func TestBoltCacheReadOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := llm.OpenBoltCache(filepath.Join(dir, "missing.db"), llm.BoltOptions{ReadOnly: true}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("read-only open of a missing file: %v, want ErrNotExist", err)
	}
	path := filepath.Join(dir, "cache.db")
	w := openTestBolt(t, path, llm.BoltOptions{})
	if err := w.Put(ctx, cacheTestKey(1), cacheTestReply(1)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	c := openTestBolt(t, path, llm.BoltOptions{ReadOnly: true})
	if err := c.Put(ctx, cacheTestKey(2), cacheTestReply(2)); !errors.Is(err, llm.ErrCacheReadOnly) {
		t.Errorf("Put on a read-only cache: %v, want ErrCacheReadOnly", err)
	}
	if _, err := llm.ImportCassette(c, strings.NewReader(`{"gavel_cassette":1}`)); !errors.Is(err, llm.ErrCacheReadOnly) {
		t.Errorf("ImportCassette into a read-only cache: %v, want ErrCacheReadOnly", err)
	}
	if _, ok, err := c.Get(ctx, cacheTestKey(1)); !ok || err != nil {
		t.Errorf("Get = %v, %v", ok, err)
	}
	_ = c.Close()
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("a read-only cache changed the file")
	}
}

func TestBoltCacheRefusesOtherFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()

	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte("not bbolt "), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := llm.OpenBoltCache(garbage, llm.BoltOptions{}); err == nil || !strings.Contains(err.Error(), garbage) {
		t.Errorf("opening a garbage file: %v", err)
	}

	mkdb := func(name string, fill func(tx *bolt.Tx) error) string {
		path := filepath.Join(dir, name)
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Update(fill); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		return path
	}
	foreign := mkdb("foreign.db", func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("something"))
		return err
	})
	newer := mkdb("newer.db", func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("meta"))
		if err != nil {
			return err
		}
		return b.Put([]byte("format"), []byte("2"))
	})
	for _, tc := range []struct {
		path, want string
	}{{foreign, "not a gavel cache"}, {newer, "newer"}} {
		for _, ro := range []bool{false, true} {
			if _, err := llm.OpenBoltCache(tc.path, llm.BoltOptions{ReadOnly: ro}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("opening %s (read-only %v): %v, want %q", filepath.Base(tc.path), ro, err, tc.want)
			}
		}
	}
	if _, err := llm.OpenBoltCache("", llm.BoltOptions{}); err == nil {
		t.Error("opened a cache with no path")
	}
}

func TestBoltCacheBadPutsAndContexts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := openTestBolt(t, filepath.Join(t.TempDir(), "cache.db"), llm.BoltOptions{})
	for _, key := range []string{"", strings.Repeat("k", 2000), "a\nb", "\xff"} {
		if err := c.Put(ctx, key, cacheTestReply(1)); err == nil {
			t.Errorf("Put(%q) succeeded", key)
		}
	}
	nan := llm.Response{Logprobs: []llm.TokenLogprob{{Token: "x", Logprob: nanValue()}}}
	if err := c.Put(ctx, cacheTestKey(1), nan); err == nil {
		t.Error("Put of a reply with NaN succeeded")
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := c.Get(done, cacheTestKey(1)); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with a done context: %v", err)
	}
	if err := c.Put(done, cacheTestKey(1), cacheTestReply(1)); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a done context: %v", err)
	}
	if n, _ := c.Len(ctx); n != 0 {
		t.Errorf("Len = %d, want 0", n)
	}
}

func nanValue() float64 {
	zero := 0.0
	return zero / zero
}

// The file may be removed under a running cache (to clear it): reads miss
// and the next write makes a new file.
func TestBoltCacheFileRemoved(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cache.db")
	c := openTestBolt(t, path, llm.BoltOptions{})
	if err := c.Put(ctx, cacheTestKey(1), cacheTestReply(1)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := c.Get(ctx, cacheTestKey(1)); ok || err != nil {
		t.Errorf("Get after removal = %v, %v, want a miss", ok, err)
	}
	if err := c.Put(ctx, cacheTestKey(2), cacheTestReply(2)); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := c.Get(ctx, cacheTestKey(2)); !ok || err != nil {
		t.Errorf("Get in the new file = %v, %v", ok, err)
	}
}

// The API key of a real (fake-server) call reaches neither the cache file
// nor a cassette: the key is not in the request, so not in CacheKey, and
// not in the Response.
func TestBoltCacheNeverStoresTheAPIKey(t *testing.T) {
	t.Parallel()
	const secret = "sk-gavel-test-5ecr3t-D0-N0T-ST0RE"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+secret {
			http.Error(w, `{"error":{"message":"bad key","type":"invalid_request_error"}}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"c1","object":"chat.completion","created":1,"model":"gpt-4o-mini",`+
			`"choices":[{"index":0,"message":{"role":"assistant","content":"the answer is 4"},"finish_reason":"stop"}],`+
			`"usage":{"prompt_tokens":9,"completion_tokens":5,"total_tokens":14}}`)
	}))
	defer srv.Close()
	env := map[string]string{"OPENAI_API_KEY": secret, "OPENAI_BASE_URL": srv.URL + "/v1"}
	r, err := llm.NewRouter(llm.Config{Local: local(), Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	req := llm.Request{Model: "openai/gpt-4o-mini", Messages: []llm.Message{{Role: "user", Content: "what is 2+2?"}}}
	ctx := context.Background()
	resp, err := r.Chat(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content != "the answer is 4" {
		t.Fatalf("reply = %q", resp.Content)
	}

	path := filepath.Join(t.TempDir(), "cache.db")
	c := openTestBolt(t, path, llm.BoltOptions{})
	key := llm.CacheKey(req)
	if err := llm.PutWithModel(ctx, c, key, req.Model, resp); err != nil {
		t.Fatal(err)
	}
	var cassette bytes.Buffer
	if err := llm.ExportCassette(c, &cassette, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte("the answer is 4")) || !bytes.Contains(cassette.Bytes(), []byte("the answer is 4")) {
		t.Fatal("the reply is not in the file's raw bytes: the check below would prove nothing")
	}
	for what, b := range map[string][]byte{"cache file": raw, "cassette": cassette.Bytes(), "key": []byte(key)} {
		for _, s := range []string{secret, "5ecr3t"} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("the %s contains the API key", what)
			}
		}
	}
}

// TestBoltCacheTwoProcesses runs two processes (testdata/cache/crossproc)
// at once on one cache file: each writes keys of its own and keys shared
// with the other, reading back and checking every reply it meets. Both
// must finish, having run at the same time, and the file must then hold
// every entry intact.
func TestBoltCacheTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a helper program")
	}
	t.Parallel()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the helper with")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "crossproc")
	build := exec.Command(gobin, "build", "-o", bin, "./testdata/cache/crossproc")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	const shared, own = 150, 150
	path := filepath.Join(dir, "cache.db")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now().Add(500 * time.Millisecond)
	type result struct {
		First, Last time.Time
		Puts, Gets  int
		SharedHits  int
		Stats       llm.BoltStats
	}
	names := []string{"A", "B"}
	results := make([]result, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			cmd := exec.CommandContext(ctx, bin, "-db", path, "-name", name,
				"-shared", fmt.Sprint(shared), "-own", fmt.Sprint(own), "-workers", "8",
				"-start", fmt.Sprint(start.UnixNano()))
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Errorf("process %s: %v\n%s", name, err, stderr.Bytes())
				return
			}
			if err := json.Unmarshal(out, &results[i]); err != nil {
				t.Errorf("process %s printed %q: %v", name, out, err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	a, b := results[0], results[1]
	t.Logf("A: %+v", a)
	t.Logf("B: %+v", b)
	if !(a.First.Before(b.Last) && b.First.Before(a.Last)) {
		t.Errorf("the processes did not run at the same time: A %v..%v, B %v..%v", a.First, a.Last, b.First, b.Last)
	}
	for _, r := range results {
		if r.Puts != shared+own || r.Stats.Errors != 0 {
			t.Errorf("a process made %d puts and %d errors, want %d and 0", r.Puts, r.Stats.Errors, shared+own)
		}
	}

	// Every entry is there, intact, and the file passes bbolt's check.
	checkBoltFile(t, path)
	c := openTestBolt(t, path, llm.BoltOptions{ReadOnly: true})
	keys := []string{}
	for i := range shared {
		keys = append(keys, fmt.Sprintf("test:shared-%04d", i))
	}
	for _, name := range names {
		for i := range own {
			keys = append(keys, fmt.Sprintf("test:%s-%04d", name, i))
		}
	}
	bg := context.Background()
	if n, err := c.Len(bg); n != len(keys) || err != nil {
		t.Errorf("Len = %d, %v, want %d", n, err, len(keys))
	}
	for _, k := range keys {
		got, ok, err := c.Get(bg, k)
		if err != nil || !ok {
			t.Errorf("Get(%s) = %v, %v", k, ok, err)
			continue
		}
		cost := float64(len(k)) / 1000
		sameReply(t, k, got, llm.Response{
			Content:      "reply to " + k,
			FinishReason: "stop",
			Usage:        llm.Usage{PromptTokens: len(k), CompletionTokens: 7},
			CostUSD:      &cost,
			Choices:      []string{"reply to " + k, "other " + k},
		})
	}
	var cassette bytes.Buffer
	if err := llm.ExportCassette(c, &cassette, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cassette.String(), `"model":"offline/echo"`) {
		t.Error("the model of the entries was not kept")
	}
}
