//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package eval

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockRun takes the exclusive lock on run directory dir (which must
// exist), or returns a *LockedError naming the process that holds it.
// Where flock is not available the lock is dir/.gavel.lock created
// exclusively; a lock file whose process (on this host) is gone is stale
// and taken over.
func lockRun(dir string) (*runLock, error) {
	path := lockPath(dir)
	host, _ := os.Hostname()
	for attempt := 0; attempt < 100; attempt++ {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			if _, err := f.WriteString(holderLine()); err != nil {
				f.Close()
				os.Remove(path)
				return nil, fmt.Errorf("locking run %s: %w", dir, err)
			}
			return &runLock{path: path, f: f}, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("locking run %s: %w", dir, err)
		}
		pid, holderHost := readHolder(path)
		if pid == 0 || holderHost != host || processAlive(pid) {
			return nil, &LockedError{Dir: dir, PID: pid, Host: holderHost}
		}
		// Stale: its process is gone.
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("locking run %s: removing the stale lock of pid %d: %w", dir, pid, err)
		}
	}
	return nil, fmt.Errorf("locking run %s: the lock file keeps being replaced", dir)
}

func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return !errors.Is(err, os.ErrProcessDone)
}

// release removes the lock file.
func (l *runLock) release() error {
	if l == nil {
		return nil
	}
	cerr := l.f.Close()
	return errors.Join(cerr, os.Remove(l.path))
}

// syncDir is a no-op where directories cannot be fsynced.
func syncDir(string) error { return nil }
