//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package eval

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockRun takes the exclusive lock on run directory dir (which must
// exist), or returns a *LockedError naming the process that holds it. The
// lock is a flock on dir/.gavel.lock: the kernel releases it when the
// holder exits however it exits, so a lock file left by a killed process
// blocks nothing.
func lockRun(dir string) (*runLock, error) {
	path := lockPath(dir)
	for attempt := 0; attempt < 100; attempt++ {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("locking run %s: %w", dir, err)
		}
		if err := flock(f); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				pid, host := readHolder(path)
				return nil, &LockedError{Dir: dir, PID: pid, Host: host}
			}
			return nil, fmt.Errorf("locking run %s: %w", dir, err)
		}
		// The previous holder removes the file as it releases it: if that
		// happened after we opened it, our lock is on a file no one else
		// will open. Lock the file that is at path now.
		if same, err := isFileAt(f, path); err != nil || !same {
			f.Close()
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("locking run %s: %w", dir, err)
			}
			continue
		}
		if err := writeHolder(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("locking run %s: %w", dir, err)
		}
		return &runLock{path: path, f: f}, nil
	}
	return nil, fmt.Errorf("locking run %s: the lock file keeps being replaced", dir)
}

func flock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// isFileAt reports whether f is the file at path.
func isFileAt(f *os.File, path string) (bool, error) {
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	pi, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	return os.SameFile(fi, pi), nil
}

func writeHolder(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(holderLine()), 0)
	return err
}

// release removes the lock file and then drops the lock (in that order,
// so that a process waiting on the old file looks again; see lockRun).
func (l *runLock) release() error {
	if l == nil {
		return nil
	}
	rerr := os.Remove(l.path)
	if errors.Is(rerr, os.ErrNotExist) {
		rerr = nil
	}
	return errors.Join(rerr, l.f.Close())
}

// syncDir makes the renames done in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}
