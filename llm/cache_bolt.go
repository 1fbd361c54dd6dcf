package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DefaultLockTimeout is how long a BoltCache operation waits, by default,
// for other processes to release the cache file.
const DefaultLockTimeout = time.Minute

// Errors of the caches.
var (
	// ErrCacheReadOnly is returned by Put on a cache opened read-only (a
	// BoltCache with BoltOptions.ReadOnly, a cassette's MemoryCache).
	ErrCacheReadOnly = errors.New("the cache is read-only")
	// ErrCacheClosed is returned by the operations of a closed BoltCache.
	ErrCacheClosed = errors.New("the cache is closed")
	// ErrCacheLocked is returned (wrapped) when another process kept the
	// cache file locked for longer than BoltOptions.LockTimeout.
	ErrCacheLocked = errors.New("the cache file is locked by another process")
	// ErrCacheDamaged is returned (wrapped in a *CacheDamagedError) by
	// every operation on a cache file that bbolt cannot read: truncated,
	// overwritten, or not a bbolt file at all.
	ErrCacheDamaged = errors.New("the cache file is damaged")
	// ErrCacheEntryDamaged is returned (wrapped) by Get for an entry whose
	// checksum does not match its content, or that cannot be decoded.
	ErrCacheEntryDamaged = errors.New("damaged (its checksum does not match)")
	// ErrCacheEntryUnverified is returned (wrapped) by Get for an entry
	// stored by an older gavel, without a checksum.
	ErrCacheEntryUnverified = errors.New("stored by an older gavel without a checksum")
)

// BoltOptions configures OpenBoltCache.
type BoltOptions struct {
	// ReadOnly opens an existing cache for reading only: the file is never
	// written (it may sit on a read-only file system) and Put fails with
	// ErrCacheReadOnly. A missing file is then an error.
	ReadOnly bool
	// LockTimeout bounds how long one transaction waits for other
	// processes to release the file (an operation queued behind a waiting
	// transaction may wait for two); zero means DefaultLockTimeout.
	LockTimeout time.Duration
	// MaxBatch bounds how many operations share one transaction (and one
	// hold of the file's lock); zero means 256.
	MaxBatch int
}

// BoltStats counts what a BoltCache did since it was opened, in this
// process.
type BoltStats struct {
	// Hits and Misses count Get calls that found, or did not find, their
	// key.
	Hits, Misses int64
	// Puts counts entries stored by Put, PutEntry and ImportCassette,
	// including those already stored identically (which are not
	// rewritten).
	Puts int64
	// Errors counts operations that failed.
	Errors int64
	// Transactions counts the times the file was opened, locked, used for
	// one transaction and closed; each serves a batch of operations.
	Transactions int64
	// LockWaits counts the transactions that found the file locked (by
	// another process, or another BoltCache on the same file) and had to
	// wait; LockWaitTime is the time they waited in all.
	LockWaits    int64
	LockWaitTime time.Duration
}

// BoltCache is a Cache in one bbolt file, shared by every run on the
// machine: replies are stored by their content address (CacheKey), as JSON
// of the Response with the model that produced it, the time it was stored
// and the format version (CacheFormat). API keys are never part of a
// request's content, so they never reach the file.
//
// # Sharing the file between processes
//
// bbolt locks its file while a handle is open: exclusively for a writer,
// shared for a read-only handle. A cache that kept the file open for a whole
// run would shut every other gavel process out of it for that long, so a
// BoltCache never keeps it open. One goroutine owns the file: operations
// queue up, and it takes them in batches (all that are waiting, up to
// BoltOptions.MaxBatch), opens the file, runs the batch in one transaction
// and closes it again, releasing the lock. A batch of reads opens the file
// read-only and takes the shared lock, so the readers of several processes
// proceed together; a batch with a write takes the exclusive lock, runs its
// reads and writes in one read-write transaction and commits (with fsync)
// before anyone else can see the file. A read transaction also takes the
// reads that arrive while it is open, for up to a millisecond. The lock is
// held for the few milliseconds of one transaction, never while a model is
// called. (bbolt's locks are advisory flock(2) locks, LockFileEx on
// Windows: keep the file on a local file system, not NFS.)
//
// When the file is locked, the batch retries every few milliseconds (with
// jitter, backing off to 16ms) until it gets the lock or
// BoltOptions.LockTimeout passes, when its operations fail with
// ErrCacheLocked. So that one busy process cannot starve another, a
// BoltCache that has more work queued right after a transaction waits as
// long as that transaction held the lock (at most 20ms) before it opens the
// file again: the lock is free at least half the time, and the operations
// that arrive meanwhile join the next batch. Two runs sharing a cache both
// make progress, and neither can corrupt it: at any moment the file is
// written by at most one transaction, and bbolt's commits are atomic.
//
// Within one process, share one BoltCache (it is safe for concurrent use);
// two BoltCaches on the same file also work, each behaving like a process
// of its own.
//
// A Put whose key is already stored replaces the entry (the last writer
// wins) unless the stored reply and model are the same, when the entry is
// left as it is.
type BoltCache struct {
	path string
	opts BoltOptions

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []*boltOp
	closed  bool
	stopped chan struct{}

	closeOnce sync.Once

	// damaged holds the *CacheDamagedError of a file found damaged.
	damaged atomic.Pointer[CacheDamagedError]

	hits, misses, puts, errs atomic.Int64
	transactions, lockWaits  atomic.Int64
	lockWaitNanos            atomic.Int64
}

var (
	_ Cache       = (*BoltCache)(nil)
	_ EntryPutter = (*BoltCache)(nil)
)

const (
	defaultMaxBatch = 256
	// maxCourtesyPause caps the pause between two back-to-back
	// transactions.
	maxCourtesyPause = 20 * time.Millisecond
	// maxLockPoll caps the interval between two attempts at the lock.
	maxLockPoll = 16 * time.Millisecond
	// maxReadHold is how long a read transaction goes on taking the
	// reads that keep arriving.
	maxReadHold = time.Millisecond
)

// OpenBoltCache opens the cache at path, creating the file (and its
// directory) unless opts.ReadOnly; see BoltCache for how several processes
// share it. It checks that the file is a gavel cache this version can read.
// Close it when done.
func OpenBoltCache(path string, opts BoltOptions) (*BoltCache, error) {
	if path == "" {
		return nil, errors.New("cache: no path")
	}
	if opts.LockTimeout < 0 || opts.MaxBatch < 0 {
		return nil, fmt.Errorf("cache %s: negative lock timeout or batch size", path)
	}
	if opts.LockTimeout == 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	if opts.MaxBatch == 0 {
		opts.MaxBatch = defaultMaxBatch
	}
	if opts.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			if pe, ok := errors.AsType[*fs.PathError](err); ok {
				err = pe.Err
			}
			return nil, fmt.Errorf("cache %s: %w", path, err)
		}
	} else if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	c := &BoltCache{path: path, opts: opts, stopped: make(chan struct{})}
	c.cond = sync.NewCond(&c.mu)
	go c.run()
	// The first transaction checks the format (a writer's also creates
	// the buckets of a new file).
	if err := c.do(context.Background(), !opts.ReadOnly, checkBoltFormat); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

// Damaged returns the *CacheDamagedError of a file found damaged (every
// operation then fails with it), or nil.
func (c *BoltCache) Damaged() error {
	if d := c.damaged.Load(); d != nil {
		return d
	}
	return nil
}

// Path returns the cache file's path.
func (c *BoltCache) Path() string { return c.path }

// Get returns the reply stored under key.
func (c *BoltCache) Get(ctx context.Context, key string) (Response, bool, error) {
	var (
		resp  Response
		found bool
	)
	err := c.do(ctx, false, func(tx *bolt.Tx) error {
		b := bucketOf(tx, boltEntries)
		if b == nil {
			return nil
		}
		raw := b.Get([]byte(key))
		if raw == nil {
			return nil
		}
		v, err := decodeBoltValue(raw)
		if err != nil {
			return fmt.Errorf("entry %s: %w", key, err)
		}
		if v.Format < CacheEntryFormat {
			return fmt.Errorf("entry %s: %w", key, ErrCacheEntryUnverified)
		}
		if err := json.Unmarshal(v.Response, &resp); err != nil {
			return fmt.Errorf("entry %s: %w: %v", key, ErrCacheEntryDamaged, err)
		}
		found = true
		return nil
	})
	switch {
	case err != nil:
		return Response{}, false, err
	case found:
		c.hits.Add(1)
	default:
		c.misses.Add(1)
	}
	return resp, found, nil
}

// Put stores resp under key, with no model; PutEntry records the model too.
func (c *BoltCache) Put(ctx context.Context, key string, resp Response) error {
	return c.PutEntry(ctx, CacheEntry{Key: key, Response: resp})
}

// PutEntry stores e.Response under e.Key with e.Model and e.Created (now
// when zero). It returns once the entry is committed to the file.
func (c *BoltCache) PutEntry(ctx context.Context, e CacheEntry) error {
	if c.opts.ReadOnly {
		return fmt.Errorf("cache %s: %w", c.path, ErrCacheReadOnly)
	}
	v, err := encodeBoltValue(e)
	if err != nil {
		return fmt.Errorf("cache %s: entry %s: %w", c.path, e.Key, err)
	}
	err = c.do(ctx, true, func(tx *bolt.Tx) error {
		return putBoltValue(tx, e.Key, v)
	})
	if err == nil {
		c.puts.Add(1)
	}
	return err
}

// Len returns the number of entries in the file.
func (c *BoltCache) Len(ctx context.Context) (int, error) {
	var n int
	err := c.do(ctx, false, func(tx *bolt.Tx) error {
		if b := bucketOf(tx, boltEntries); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	return n, err
}

// Stats returns what the cache did so far in this process.
func (c *BoltCache) Stats() BoltStats {
	return BoltStats{
		Hits:         c.hits.Load(),
		Misses:       c.misses.Load(),
		Puts:         c.puts.Load(),
		Errors:       c.errs.Load(),
		Transactions: c.transactions.Load(),
		LockWaits:    c.lockWaits.Load(),
		LockWaitTime: time.Duration(c.lockWaitNanos.Load()),
	}
}

// Close waits for the operations already queued, then stops the cache:
// later operations fail with ErrCacheClosed. The file is not open between
// operations, so there is nothing else to release. Close is idempotent.
func (c *BoltCache) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.cond.Broadcast()
		c.mu.Unlock()
		<-c.stopped
	})
	return nil
}
