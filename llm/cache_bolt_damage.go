package llm

import (
	"fmt"
	"runtime"
	"strings"

	bolt "go.etcd.io/bbolt"
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
