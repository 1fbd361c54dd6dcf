package eval

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// LockFile is the name, inside a run directory, of the file a gavel
// process holds locked while it writes the run (a run, a resume or a
// scoring). It holds the writer's pid and host; it is removed when the
// writer finishes and, left behind by a killed process, blocks nothing.
const LockFile = ".gavel.lock"

// ErrRunLocked is matched (errors.Is) by every *LockedError.
var ErrRunLocked = errors.New("run directory is being written by another gavel")

// LockedError is returned when another gavel process holds the run
// directory: only one process at a time writes a run.
type LockedError struct {
	// Dir is the run directory.
	Dir string
	// PID and Host identify the process writing it (PID 0 when it could
	// not be read).
	PID  int
	Host string
}

// Error says which process holds the run.
func (e *LockedError) Error() string {
	return fmt.Sprintf("run %s is being written by another gavel (pid %d)", e.Dir, e.PID)
}

// Is reports whether target is ErrRunLocked.
func (e *LockedError) Is(target error) bool { return target == ErrRunLocked }

// runLock is a held lock on a run directory.
type runLock struct {
	path string
	f    *os.File
}

// holderLine is what a lock file says about its holder.
func holderLine() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "unknown"
	}
	return fmt.Sprintf("%d %s\n", os.Getpid(), host)
}

// parseHolder reads a lock file's "pid host" line; ok is false until the
// whole line is written.
func parseHolder(b []byte) (pid int, host string, ok bool) {
	s := string(b)
	if !strings.HasSuffix(s, "\n") {
		return 0, "", false
	}
	f := strings.Fields(s)
	if len(f) != 2 {
		return 0, "", false
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil || pid <= 0 {
		return 0, "", false
	}
	return pid, f[1], true
}

// readHolder reads who holds the lock at path. The holder writes its line
// just after taking the lock, so an empty file is read again for a moment.
func readHolder(path string) (int, string) {
	for i := 0; i < 100; i++ {
		b, err := os.ReadFile(path)
		if err == nil {
			if pid, host, ok := parseHolder(b); ok {
				return pid, host
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return 0, ""
}

// lockPath is the lock file of run directory dir.
func lockPath(dir string) string { return filepath.Join(dir, LockFile) }
