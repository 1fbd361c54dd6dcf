package llm

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

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
