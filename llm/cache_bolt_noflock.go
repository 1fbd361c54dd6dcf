//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package llm

import "os"

// unlockFile does nothing where bbolt's lock is released by closing the
// file.
func unlockFile(*os.File) {}
