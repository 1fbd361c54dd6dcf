package llm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// CacheFormat is the version of the layout of a BoltCache file (its
// buckets and meta data; the responses in a cassette have the same form).
// A cache written by a newer gavel, with a higher format, is refused rather
// than misread.
const CacheFormat = 1

// CacheEntryFormat is the version of the entries gavel stores in a
// BoltCache. Since version 2 every entry carries the SHA-256 of its model
// and reply, checked on every read. An entry of version 1 (stored by an
// older gavel, with no checksum) cannot be verified: Get reports it as
// ErrCacheEntryUnverified, so that a read-write run calls the model again
// and replaces it, and a replay refuses it; ExportCassette still exports
// it.
const CacheEntryFormat = 2

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

// CacheDamagedError says that the cache file at Path is damaged; it wraps
// ErrCacheDamaged. Once a BoltCache has met one, every later operation
// fails with it without touching the file again.
type CacheDamagedError struct {
	// Path is the cache file's path.
	Path string
	// Cause is what bbolt reported (an error, or the text of its panic).
	Cause string
}

func (e *CacheDamagedError) Error() string {
	return fmt.Sprintf("cache %s is damaged (%s)", e.Path, e.Cause)
}

// Unwrap returns ErrCacheDamaged.
func (e *CacheDamagedError) Unwrap() error { return ErrCacheDamaged }

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

// Bucket and meta key names in the file.
var (
	boltEntries   = []byte("entries")
	boltMeta      = []byte("meta")
	boltFormatKey = []byte("format")
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

// boltOp is one queued operation. fn runs in a transaction, read-only
// unless write is set; tx is nil when a read finds no file at all.
type boltOp struct {
	ctx   context.Context
	write bool
	fn    func(tx *bolt.Tx) error
	done  chan error // buffered: the worker never blocks on it
}

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

// do queues fn and waits for it to run, or for ctx to be done.
func (c *BoltCache) do(ctx context.Context, write bool, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d := c.damaged.Load(); d != nil {
		c.errs.Add(1)
		return d
	}
	op := &boltOp{ctx: ctx, write: write, fn: fn, done: make(chan error, 1)}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return fmt.Errorf("cache %s: %w", c.path, ErrCacheClosed)
	}
	c.queue = append(c.queue, op)
	c.cond.Signal()
	c.mu.Unlock()
	select {
	case err := <-op.done:
		if err != nil {
			c.errs.Add(1)
		}
		return err
	case <-ctx.Done():
		// The operation may still run; a Put then stores its entry.
		return ctx.Err()
	}
}

// run is the goroutine that owns the file.
func (c *BoltCache) run() {
	defer close(c.stopped)
	// bbolt reads the file through a memory map: on a truncated file a
	// read past its end faults (SIGBUS), which would kill the process.
	// This goroutine makes every access to the file, so it turns such
	// faults into panics, which runBatch recovers as a damaged file.
	debug.SetPanicOnFault(true)
	for {
		batch := c.next()
		if batch == nil {
			return
		}
		held := c.runBatch(batch)
		c.mu.Lock()
		more := len(c.queue) > 0
		c.mu.Unlock()
		if more && held > 0 {
			// Leave the lock free for as long as we held it, so
			// that another process waiting for it gets its turn.
			time.Sleep(min(held, maxCourtesyPause))
		}
	}
}

// next waits for operations and takes up to MaxBatch of them; nil means the
// cache is closed and nothing is left to do.
func (c *BoltCache) next() []*boltOp {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.queue) == 0 && !c.closed {
		c.cond.Wait()
	}
	if len(c.queue) == 0 {
		return nil
	}
	return c.take(min(len(c.queue), c.opts.MaxBatch))
}

// runBatch runs a batch in one transaction and reports each operation's
// result. It returns how long it held the file's lock.
func (c *BoltCache) runBatch(batch []*boltOp) time.Duration {
	live := liveOps(batch)
	if len(live) == 0 {
		return 0
	}
	if d := c.damaged.Load(); d != nil {
		for _, op := range live {
			op.done <- d
		}
		return 0
	}
	write := slices.ContainsFunc(live, func(op *boltOp) bool { return op.write })

	db, start, err := c.open(write, live)
	if err != nil {
		if !write && errors.Is(err, fs.ErrNotExist) {
			// The file was removed (or is being created): every
			// read misses.
			for _, op := range live {
				op.done <- c.opErr(c.runOp(op, nil))
			}
			return 0
		}
		for _, op := range live {
			op.done <- err
		}
		return 0
	}
	c.transactions.Add(1)
	if !write {
		// A read's result is final as soon as it ran. While the
		// shared lock is held anyway, the reads queued meanwhile
		// (by the goroutines just answered, say) run in the same
		// transaction, for up to maxReadHold.
		pending := live // taken, not yet answered
		err := c.guard(func() error {
			return db.View(func(tx *bolt.Tx) error {
				for {
					pending = live
					for i, op := range live {
						err := c.runOp(op, tx)
						if errors.Is(err, ErrCacheDamaged) {
							pending = live[i:]
							return err
						}
						op.done <- c.opErr(err)
					}
					pending = nil
					if time.Since(start) >= maxReadHold {
						return nil
					}
					runtime.Gosched()
					if live = c.nextReads(); len(live) == 0 {
						return nil
					}
				}
			})
		})
		c.closeDB(db, err)
		for _, op := range pending {
			op.done <- c.opErr(err)
		}
		return time.Since(start)
	}

	errs := make([]error, len(live))
	err = c.guard(func() error {
		return db.Update(func(tx *bolt.Tx) error {
			if err := initBoltFile(tx); err != nil {
				return err
			}
			for i, op := range live {
				errs[i] = c.runOp(op, tx)
				if errors.Is(errs[i], ErrCacheDamaged) {
					return errs[i]
				}
			}
			return nil
		})
	})
	if cerr := c.closeDB(db, err); err == nil {
		err = cerr
	}
	held := time.Since(start)
	for i, op := range live {
		switch {
		case errors.Is(err, ErrCacheDamaged):
			op.done <- err
		case err != nil:
			// Nothing of the transaction was committed.
			op.done <- fmt.Errorf("cache %s: %w", c.path, err)
		default:
			op.done <- c.opErr(errs[i])
		}
	}
	return held
}

// closeDB closes db after a transaction that ended with err. After bbolt
// panicked in a transaction its locks may be left held, and Close could
// then wait forever: it is given a second, and the handle is left behind
// if it takes longer (the file is damaged, and no longer used).
func (c *BoltCache) closeDB(db *bolt.DB, err error) error {
	if !errors.Is(err, ErrCacheDamaged) {
		return db.Close()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { _ = recover() }()
		_ = db.Close()
	}()
	select {
	case <-done:
	case <-time.After(time.Second):
	}
	return nil
}

// guard runs fn, turning a panic of bbolt's (it panics on the pages of a
// damaged file, and faults on a truncated one) into the file's
// *CacheDamagedError, which it also returns for every later operation.
func (c *BoltCache) guard(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = c.markDamaged(fmt.Sprint(p))
		}
	}()
	return fn()
}

// markDamaged records that the file is damaged and returns the error.
func (c *BoltCache) markDamaged(cause string) error {
	d := &CacheDamagedError{Path: c.path, Cause: cause}
	if c.damaged.CompareAndSwap(nil, d) {
		return d
	}
	return c.damaged.Load()
}

// liveOps answers the operations whose context is done and returns the
// others.
func liveOps(ops []*boltOp) []*boltOp {
	live := ops[:0:0]
	for _, op := range ops {
		if err := op.ctx.Err(); err != nil {
			op.done <- err
			continue
		}
		live = append(live, op)
	}
	return live
}

// nextReads takes the reads at the head of the queue (up to MaxBatch,
// stopping at the first write, which must wait for its own transaction).
func (c *BoltCache) nextReads() []*boltOp {
	c.mu.Lock()
	n := 0
	for n < len(c.queue) && n < c.opts.MaxBatch && !c.queue[n].write {
		n++
	}
	reads := c.take(n)
	c.mu.Unlock()
	return liveOps(reads)
}

// take removes the first n operations from the queue; c.mu is held.
func (c *BoltCache) take(n int) []*boltOp {
	if n == 0 {
		return nil
	}
	ops := make([]*boltOp, n)
	copy(ops, c.queue)
	rest := copy(c.queue, c.queue[n:])
	clear(c.queue[rest:])
	c.queue = c.queue[:rest]
	return ops
}

func (c *BoltCache) opErr(err error) error {
	if err != nil && !errors.Is(err, ErrCacheDamaged) {
		return fmt.Errorf("cache %s: %w", c.path, err)
	}
	return err
}

// runOp runs one operation, turning a panic into its error: a panic of
// bbolt's (reading a damaged page) is a *CacheDamagedError, any other (of
// a writer given to ExportCassette, say) is the operation's own error.
func (c *BoltCache) runOp(op *boltOp, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			if _, fault := p.(interface{ Addr() uintptr }); fault || panickedInBolt() {
				err = c.markDamaged(fmt.Sprint(p))
				return
			}
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return op.fn(tx)
}

// panickedInBolt reports, from a deferred function recovering a panic,
// whether the function that panicked is bbolt's.
func panickedInBolt() bool {
	var pcs [32]uintptr
	n := runtime.Callers(3, pcs[:])
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, "runtime.") {
			return strings.HasPrefix(f.Function, "go.etcd.io/bbolt")
		}
		if !more {
			return false
		}
	}
}

// open opens and locks the file, retrying while another handle holds the
// lock, until LockTimeout passes or every operation's context is done.
func (c *BoltCache) open(write bool, ops []*boltOp) (db *bolt.DB, locked time.Time, err error) {
	start := time.Now()
	poll := time.Millisecond
	waited := false
	defer func() {
		if waited {
			c.lockWaits.Add(1)
			c.lockWaitNanos.Add(int64(time.Since(start)))
		}
	}()
	for {
		// A Timeout shorter than bbolt's own 50ms poll makes one
		// attempt: we poll faster, with jitter, and can give up.
		attempt := time.Now()
		db, err := c.openOnce(write)
		if err == nil {
			return db, attempt, nil
		}
		if !errors.Is(err, bolterrors.ErrTimeout) {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, time.Time{}, err
			}
			if fi, serr := os.Stat(c.path); !write && serr == nil && fi.Size() == 0 {
				// Another process has just created the file and
				// not yet written its first page (bbolt then
				// fails a read-only open): it holds nothing yet.
				return nil, time.Time{}, fs.ErrNotExist
			}
			if errors.Is(err, ErrCacheDamaged) {
				return nil, time.Time{}, err
			}
			if pe, ok := errors.AsType[*fs.PathError](err); ok && errors.Is(err, fs.ErrPermission) {
				return nil, time.Time{}, fmt.Errorf("cache %s: %w", c.path, pe.Err)
			}
			// bbolt found no valid meta page, a bad checksum, a
			// version it does not know, a file too short: what is
			// there is not a readable bbolt file.
			return nil, time.Time{}, c.markDamaged(err.Error())
		}
		waited = true
		if time.Since(start) >= c.opts.LockTimeout {
			return nil, time.Time{}, fmt.Errorf("cache %s: %w (waited %v)", c.path, ErrCacheLocked, c.opts.LockTimeout)
		}
		if allDone(ops) {
			return nil, time.Time{}, context.Canceled
		}
		time.Sleep(poll/2 + rand.N(poll))
		poll = min(2*poll, maxLockPoll)
	}
}

// openOnce makes one attempt at opening and locking the file. bbolt panics
// in Open on some damaged files (a page that is not the freelist it should
// be, say), leaving the file open and locked: the panic is recovered as a
// *CacheDamagedError and the file closed, releasing the lock.
func (c *BoltCache) openOnce(write bool) (db *bolt.DB, err error) {
	var file *os.File
	defer func() {
		if p := recover(); p != nil {
			if file != nil {
				unlockFile(file)
				_ = file.Close()
			}
			db, err = nil, c.markDamaged(fmt.Sprint(p))
		}
	}()
	return bolt.Open(c.path, 0o600, &bolt.Options{
		Timeout:  time.Nanosecond,
		ReadOnly: !write,
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag, perm)
			file = f
			return f, err
		},
	})
}

func allDone(ops []*boltOp) bool {
	for _, op := range ops {
		if op.ctx.Err() == nil {
			return false
		}
	}
	return true
}

// bucketOf returns the named bucket, or nil when tx is nil or has none.
func bucketOf(tx *bolt.Tx, name []byte) *bolt.Bucket {
	if tx == nil {
		return nil
	}
	return tx.Bucket(name)
}

// initBoltFile checks the format of the file and creates what a new (or
// emptied) file lacks. It runs at the start of every write transaction.
func initBoltFile(tx *bolt.Tx) error {
	if err := checkBoltFormat(tx); err != nil {
		return err
	}
	if tx.Bucket(boltMeta) == nil {
		meta, err := tx.CreateBucket(boltMeta)
		if err != nil {
			return err
		}
		if err := meta.Put(boltFormatKey, []byte(strconv.Itoa(CacheFormat))); err != nil {
			return err
		}
	}
	_, err := tx.CreateBucketIfNotExists(boltEntries)
	return err
}

// checkBoltFormat checks that the file is a gavel cache (or an empty bbolt
// file) in a format this version reads. A nil tx (no file) passes.
func checkBoltFormat(tx *bolt.Tx) error {
	if tx == nil {
		return nil
	}
	meta := tx.Bucket(boltMeta)
	if meta == nil {
		foreign := false
		_ = tx.ForEach(func([]byte, *bolt.Bucket) error {
			foreign = true
			return nil
		})
		if foreign {
			return errors.New("not a gavel cache (a bbolt file with other buckets)")
		}
		return nil
	}
	raw := meta.Get(boltFormatKey)
	f, err := strconv.Atoi(string(raw))
	if err != nil || f < 1 {
		return fmt.Errorf("not a gavel cache (format %q)", raw)
	}
	if f > CacheFormat {
		return fmt.Errorf("cache format %d is newer than this gavel's (%d): upgrade gavel", f, CacheFormat)
	}
	return nil
}

// boltValue is the stored form of an entry; the key is the bbolt key.
// SHA256 is the checksum of Model and Response (see entrySum); entries of
// format 1 have none.
type boltValue struct {
	Format   int             `json:"format"`
	Model    string          `json:"model,omitempty"`
	Created  time.Time       `json:"created"`
	Response json.RawMessage `json:"response"`
	SHA256   string          `json:"sha256,omitempty"`
}

// entrySum is the checksum stored with an entry: the hex SHA-256 of its
// model, a NUL byte and its reply's canonical JSON.
func entrySum(model string, resp []byte) string {
	h := sha256.New()
	h.Write([]byte(model))
	h.Write([]byte{0})
	h.Write(resp)
	return hex.EncodeToString(h.Sum(nil))
}

func encodeBoltValue(e CacheEntry) ([]byte, error) {
	if err := checkCacheKey(e.Key); err != nil {
		return nil, err
	}
	resp, err := encodeResponse(e.Response)
	if err != nil {
		return nil, err
	}
	created := e.Created
	if created.IsZero() {
		created = time.Now()
	}
	// Without HTML escaping the stored reply is byte for byte the one
	// the checksum covers.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err = enc.Encode(boltValue{
		Format:   CacheEntryFormat,
		Model:    e.Model,
		Created:  created.UTC().Round(time.Millisecond),
		Response: resp,
		SHA256:   entrySum(e.Model, resp),
	})
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), err
}

// decodeBoltValue decodes a stored entry and verifies its checksum: an
// entry that cannot be read, or whose checksum does not match, is an error
// wrapping ErrCacheEntryDamaged. An entry of format 1 has no checksum to
// verify and is returned as it is (with its Format).
func decodeBoltValue(raw []byte) (boltValue, error) {
	var v boltValue
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, fmt.Errorf("%w: unreadable entry: %v", ErrCacheEntryDamaged, err)
	}
	if v.Format < 1 || v.Format > CacheEntryFormat {
		return v, fmt.Errorf("entry format %d not supported (this gavel reads 1 to %d)", v.Format, CacheEntryFormat)
	}
	if v.Format >= 2 && v.SHA256 != entrySum(v.Model, v.Response) {
		return v, ErrCacheEntryDamaged
	}
	return v, nil
}

// putBoltValue stores v under key unless the same model and reply are
// stored there already, verified by their checksum.
func putBoltValue(tx *bolt.Tx, key string, v []byte) error {
	b := tx.Bucket(boltEntries)
	if old := b.Get([]byte(key)); old != nil && sameBoltValue(old, v) {
		return nil
	}
	return b.Put([]byte(key), v)
}

// sameBoltValue reports whether two stored values hold the same model and
// reply (whatever their creation times), both in the current format with a
// valid checksum: a damaged or older entry is always replaced.
func sameBoltValue(a, b []byte) bool {
	va, err := decodeBoltValue(a)
	if err != nil || va.Format != CacheEntryFormat {
		return false
	}
	vb, err := decodeBoltValue(b)
	if err != nil || vb.Format != CacheEntryFormat {
		return false
	}
	return va.Model == vb.Model && bytes.Equal(va.Response, vb.Response)
}
