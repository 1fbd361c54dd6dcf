package llm

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/gavel-eval/gavel/traces"
)

// Retry defaults, used for the zero fields of a RetryPolicy.
const (
	DefaultMaxAttempts = 5
	DefaultMaxElapsed  = 2 * time.Minute
	DefaultBaseDelay   = 500 * time.Millisecond
	DefaultMaxDelay    = 30 * time.Second
)

// RetryPolicy says how a Router retries a call that failed for a reason a
// new attempt may cure: a 429 (except an exhausted quota), a 5xx, a 408, a
// timeout, a network failure (connection refused or reset, EOF) or a
// malformed or truncated response body (see APIError.Retryable). Other
// failures (400, 401, 403, 404, a prompt too long for the context, an
// exhausted quota) are returned at once, and so are the caller's context
// ending, which also ends any wait, and a stream that broke off after its
// first token (StreamError).
//
// The wait before attempt n+1 is drawn uniformly from
// [0, min(MaxDelay, BaseDelay·2^(n-1))] ("full jitter"), or is the wait
// the server asked for (APIError.RetryAfter) when that is longer.
// Zero fields take the defaults.
type RetryPolicy struct {
	// MaxAttempts bounds the attempts of one call, the first included
	// (default 5; 1 disables retries).
	MaxAttempts int `json:"max_attempts,omitempty" yaml:"max_attempts"`
	// MaxElapsed bounds the time from the start of the first attempt to
	// the start of the last one (default 2m): a retry whose wait would
	// end past it is not made, and the call fails with the last error.
	// Each attempt is bounded by Config.Timeout on its own.
	MaxElapsed time.Duration `json:"max_elapsed,omitempty" yaml:"max_elapsed"`
	// BaseDelay is the ceiling of the first wait (default 500ms); the
	// ceiling doubles with each further attempt.
	BaseDelay time.Duration `json:"base_delay,omitempty" yaml:"base_delay"`
	// MaxDelay caps the ceiling of the drawn wait (default 30s); a longer
	// wait the server asks for is honoured, within MaxElapsed.
	MaxDelay time.Duration `json:"max_delay,omitempty" yaml:"max_delay"`
	// Seed seeds the jitter's random source (PCG), held by the Router; 0
	// means a seed from the clock.
	Seed uint64 `json:"seed,omitempty" yaml:"seed"`
}

// withDefaults returns p with its zero fields set to the defaults, or an
// error for a negative field.
func (p RetryPolicy) withDefaults() (RetryPolicy, error) {
	if p.MaxAttempts < 0 || p.MaxElapsed < 0 || p.BaseDelay < 0 || p.MaxDelay < 0 {
		return p, fmt.Errorf("llm: retry policy %+v: negative field", p)
	}
	if p.MaxAttempts == 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.MaxElapsed == 0 {
		p.MaxElapsed = DefaultMaxElapsed
	}
	if p.BaseDelay == 0 {
		p.BaseDelay = DefaultBaseDelay
	}
	if p.MaxDelay == 0 {
		p.MaxDelay = DefaultMaxDelay
	}
	return p, nil
}

// Attempt is one attempt of a call, as recorded in the "attempts"
// attribute of the call's llm span.
type Attempt struct {
	// N numbers the attempts from 1.
	N int `json:"n"`
	// Status is "ok" for a success; else the HTTP status of the error
	// response ("429", "500", ...), or, for a response that did not come
	// or could not be read, "timeout", "network" or "malformed";
	// "canceled" when the caller gave up; "error" for anything else.
	Status string `json:"status"`
	// Error is the attempt's error message (never containing the API
	// key); empty for a success.
	Error string `json:"error,omitempty"`
	// RetryAfterMS is the wait the server asked for, if any.
	RetryAfterMS float64 `json:"retry_after_ms,omitempty"`
	// WaitMS is the wait after this attempt before the next one: the
	// drawn jitter or the server's Retry-After, whichever was longer. 0
	// for the last attempt.
	WaitMS float64 `json:"wait_ms"`
}

// RetryError is a call that failed with a retryable error after the retry
// policy ran out: its attempts (MaxAttempts) or its time (MaxElapsed). It
// wraps the last attempt's error.
type RetryError struct {
	// Attempts is the number of attempts made.
	Attempts int
	// Reason says which bound was reached.
	Reason string
	// Err is the last attempt's error.
	Err error
}

func (e *RetryError) Error() string {
	what := "attempts"
	if e.Attempts == 1 {
		what = "attempt"
	}
	return fmt.Sprintf("gave up after %d %s (%s): %v", e.Attempts, what, e.Reason, e.Err)
}

// Unwrap returns the last attempt's error.
func (e *RetryError) Unwrap() error { return e.Err }

// clock is the time the retry and rate-limit waits use; tests replace it.
type clock interface {
	Now() time.Time
	// Sleep waits d, or until ctx ends, when it returns ctx.Err().
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// jitter draws the retry waits. Each wait comes from a PCG source seeded
// with the Router's seed and the call's identity (a hash of its request)
// and attempt number: the draws of one call do not depend on what other
// calls run at the same time, so with a fixed seed the waits recorded in
// the traces are the same from run to run, at any concurrency.
type jitter struct {
	seed uint64
}

func newJitter(seed uint64) *jitter {
	if seed == 0 {
		seed = uint64(time.Now().UnixNano()) | 1
	}
	return &jitter{seed: seed}
}

// draw returns a duration uniform in [0, ceil] for attempt n of the call
// identified by call.
func (j *jitter) draw(call uint64, n int, ceil time.Duration) time.Duration {
	if ceil <= 0 {
		return 0
	}
	rng := rand.New(rand.NewPCG(j.seed, call^(uint64(n)*0x9e3779b97f4a7c15)))
	return time.Duration(rng.Int64N(int64(ceil) + 1))
}

// callID hashes the parts that identify a call, for its jitter.
func callID(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// backoffCeiling is min(MaxDelay, BaseDelay·2^(n-1)) for the wait after
// attempt n (n >= 1).
func (p RetryPolicy) backoffCeiling(n int) time.Duration {
	d := p.BaseDelay
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	return min(d, p.MaxDelay)
}

// attemptFunc makes one attempt within ctx, which carries the per-attempt
// timeout, and returns the tokens the server reported for a success.
type attemptFunc func(ctx context.Context) (tokens int, err error)

// withRetries runs attempt under lim and the retry policy (see
// RetryPolicy) and records the attempts on span: "attempts" (a list of
// Attempt), "retries" (their number less one) and "rate_limit_wait_ms"
// when the limiter made the call wait. estimate is the tokens an attempt
// takes from the TPM bucket before it is sent; id identifies the call
// for its jitter (called only when a retry is due).
func (r *Router) withRetries(ctx context.Context, span *traces.ActiveSpan, lim *limiter, estimate int, id func() uint64, attempt attemptFunc) (err error) {
	pol := r.retry
	start := r.clock.Now()
	var attempts []Attempt
	var limitWait time.Duration
	defer func() {
		span.SetAttr("attempts", attempts)
		span.SetAttr("retries", max(0, len(attempts)-1))
		if limitWait > 0 {
			span.SetAttr("rate_limit_wait_ms", ms(limitWait))
		}
		if err != nil {
			lim.countFailure()
		}
	}()

	var last error
	var call uint64
	for n := 1; ; n++ {
		tk, waited, aerr := lim.acquire(ctx, r.clock, estimate)
		limitWait += waited
		if aerr != nil {
			if last == nil {
				return fmt.Errorf("waiting for the rate limit of %q: %w", lim.key, aerr)
			}
			return fmt.Errorf("%w while waiting for the rate limit of %q to retry, after %d attempts (last error: %s)", aerr, lim.key, n-1, last)
		}
		actx, cancel := context.WithTimeout(ctx, r.timeout)
		used, err := attempt(actx)
		cancel()
		lim.release(tk, r.clock, err, used)

		a := Attempt{N: n, Status: attemptStatus(ctx, err)}
		if err == nil {
			attempts = append(attempts, a)
			return nil
		}
		a.Error = err.Error()
		var apiErr *APIError
		var retryAfter time.Duration
		if errors.As(err, &apiErr) {
			retryAfter = apiErr.RetryAfter
			a.RetryAfterMS = ms(retryAfter)
		}
		last = err
		switch {
		case ctx.Err() != nil:
			// The caller gave up; the attempt's error says so.
			attempts = append(attempts, a)
			return err
		case !IsRetryable(err):
			attempts = append(attempts, a)
			return err
		case n >= pol.MaxAttempts:
			attempts = append(attempts, a)
			return &RetryError{Attempts: n, Reason: "max attempts " + strconv.Itoa(pol.MaxAttempts), Err: err}
		}
		if n == 1 {
			call = id()
		}
		wait := max(r.jitter.draw(call, n, pol.backoffCeiling(n)), retryAfter)
		if elapsed := r.clock.Now().Sub(start); elapsed+wait > pol.MaxElapsed {
			attempts = append(attempts, a)
			reason := fmt.Sprintf("the next attempt, in %v, would start past the retry time limit of %v", wait.Round(time.Millisecond), pol.MaxElapsed)
			return &RetryError{Attempts: n, Reason: reason, Err: err}
		}
		a.WaitMS = ms(wait)
		attempts = append(attempts, a)
		lim.countRetry()
		if serr := r.clock.Sleep(ctx, wait); serr != nil {
			return fmt.Errorf("%w while waiting %v to retry, after %d attempts (last error: %s)", serr, wait.Round(time.Millisecond), n, err)
		}
	}
}

// attemptStatus classifies an attempt's outcome for its Attempt record.
func attemptStatus(ctx context.Context, err error) string {
	if err == nil {
		return "ok"
	}
	if ctx.Err() != nil {
		return "canceled"
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		switch {
		case apiErr.Type == errTypeMalformed:
			return errTypeMalformed
		case apiErr.StatusCode > 0:
			return strconv.Itoa(apiErr.StatusCode)
		case apiErr.Type == errTypeTimeout, apiErr.Type == errTypeNetwork:
			return apiErr.Type
		}
	}
	return "error"
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}
