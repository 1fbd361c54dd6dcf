package llm

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"runtime/debug"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// boltOp is one queued operation. fn runs in a transaction, read-only
// unless write is set; tx is nil when a read finds no file at all.
type boltOp struct {
	ctx   context.Context
	write bool
	fn    func(tx *bolt.Tx) error
	done  chan error // buffered: the worker never blocks on it
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
