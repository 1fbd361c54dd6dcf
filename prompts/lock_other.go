//go:build !unix

package prompts

// lockDir is a no-op where flock is not available: a writer still refuses
// to replace a file that changed since it was loaded (see ConflictError),
// with a small window between that check and the rename.
func lockDir(string) (func(), error) { return func() {}, nil }
