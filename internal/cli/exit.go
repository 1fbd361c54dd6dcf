package cli

import (
	"errors"
	"fmt"

	"github.com/gavel-eval/gavel/eval"
)

// Exit codes. Scripts rely on them: 0 everything held, 1 a quality gate
// failed (the answer is "no", not a crash), 2 a usage, input or runtime
// error, 130 interrupted.
const (
	ExitOK          = 0
	ExitGateFailed  = 1
	ExitError       = 2
	ExitInterrupted = 130
)

// exitError attaches an exit code to an error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withExitCode wraps err with code, unless it already carries one.
func withExitCode(err error, code int) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	return &exitError{code: code, err: err}
}

// exitCode returns the exit code err carries (ExitError when none).
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return ExitError
}

// lockedError returns the *eval.LockedError err holds (another gavel is
// writing the run directory; nothing was touched), as an ExitError whose
// message is exactly the lock's; else nil.
func lockedError(err error) error {
	var le *eval.LockedError
	if errors.As(err, &le) {
		return &exitError{code: ExitError, err: le}
	}
	return nil
}

// silentError is an error whose message was already printed.
type silentError struct{ code int }

func (e silentError) Error() string { return fmt.Sprintf("exit status %d", e.code) }
