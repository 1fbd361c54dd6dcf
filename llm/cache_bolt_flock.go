//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package llm

import (
	"os"
	"syscall"
)

// unlockFile releases the flock(2) bbolt took on f. Closing f alone would
// not when bbolt panicked after mapping the file: the mapping keeps the
// open file, and so its lock, alive.
func unlockFile(f *os.File) {
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}
