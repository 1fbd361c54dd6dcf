package llm

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// APIError is a failed call to a model server: an error response from the
// server, or a request that got no response (a network failure or a
// timeout). It never contains the provider's API key.
type APIError struct {
	// Provider is the provider's name ("openai", "local", ...).
	Provider string
	// StatusCode is the HTTP status code, or 0 when no response arrived.
	StatusCode int
	// Type is the server's error type (for example "invalid_request_error",
	// "server_error" or "insufficient_quota"); when no response arrived,
	// "network" or "timeout"; for a response whose body could not be read
	// as a chat completion (malformed or cut short JSON), "malformed".
	Type string
	// Code is the server's error code when it sent one (for example
	// "invalid_api_key" or "rate_limit_exceeded").
	Code string
	// Param is the request parameter the server blamed, when it named one
	// (OpenAI's error.param, for example "response_format").
	Param string
	// Message is the server's error message, or a description of the
	// network failure.
	Message string
	// RetryAfter is how long the server asked the client to wait before
	// trying again (the Retry-After header in seconds or as an HTTP date,
	// OpenAI's retry-after-ms, or, for a 429 that sent neither, the
	// x-ratelimit-reset-* header of the exhausted limit); 0 when it said
	// nothing.
	RetryAfter time.Duration

	err error // the underlying transport, decoding or context error, if any
}

// Error types of an APIError with no HTTP response.
const (
	errTypeNetwork = "network"
	errTypeTimeout = "timeout"
	// errTypeMalformed is a response that arrived but whose body is not a
	// readable chat completion: invalid JSON, or a body cut short.
	errTypeMalformed = "malformed"
)

// Error implements error.
func (e *APIError) Error() string {
	what := e.Type
	if e.StatusCode > 0 {
		what = fmt.Sprintf("HTTP %d", e.StatusCode)
		if e.Type != "" {
			what += " " + e.Type
		}
	}
	if what == "" {
		what = "error"
	}
	if e.Message == "" {
		return fmt.Sprintf("provider %q: %s", e.Provider, what)
	}
	return fmt.Sprintf("provider %q: %s: %s", e.Provider, what, e.Message)
}

// Unwrap returns the underlying transport, decoding or context error (for
// example context.DeadlineExceeded for a timeout, io.ErrUnexpectedEOF for a
// truncated body), or nil for an error response.
func (e *APIError) Unwrap() error { return e.err }

// Retryable reports whether the same call may succeed if tried again later:
// true for rate limits (429, except an exhausted quota), server errors
// (5xx), request timeouts (408), network failures, timeouts and malformed
// or truncated response bodies; false for other responses such as 400
// (context length exceeded included), 401, 403 and 404.
func (e *APIError) Retryable() bool {
	switch {
	case e.Type == errTypeMalformed:
		return true
	case e.StatusCode == 0:
		return e.Type == errTypeNetwork || e.Type == errTypeTimeout
	case permanentCodes[e.Type] || permanentCodes[e.Code]:
		// OpenAI answers 429 "insufficient_quota" when the account has no
		// credit left; waiting does not help, nor does resending a prompt
		// longer than the model's context.
		return false
	case e.StatusCode == http.StatusTooManyRequests:
		return true
	case e.StatusCode == http.StatusRequestTimeout:
		return true
	default:
		return e.StatusCode >= 500
	}
}

// permanentCodes are error types and codes that no wait cures, whatever
// the HTTP status they come with.
var permanentCodes = map[string]bool{
	"insufficient_quota":      true,
	"context_length_exceeded": true,
	"invalid_api_key":         true,
}

// IsRetryable reports whether err is, or wraps, an *APIError whose
// Retryable method reports true — unless it is a *StreamError: a stream
// that broke off after its first token is not retried.
func IsRetryable(err error) bool {
	var se *StreamError
	if errors.As(err, &se) {
		return false
	}
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.Retryable()
}

// ParamError is a request refused before it was sent because the client
// knows the model does not accept some of its parameters (for example
// logprobs, or n > 1, for OpenAI's reasoning models).
type ParamError struct {
	Provider string
	// Params are the parameters the model may not accept: the refusal
	// names a group of them (for example temperature, top_p, n,
	// presence_penalty, frequency_penalty).
	Params  []string
	Message string
}

func (e *ParamError) Error() string {
	return fmt.Sprintf("provider %q: %s (parameters: %s)", e.Provider, e.Message, strings.Join(e.Params, ", "))
}

// RejectsParam reports whether err is, or wraps, a refusal of a request
// parameter: an *APIError by which the server refused it — an HTTP 400 (or
// 422, as some OpenAI-compatible servers answer) whose param, code or
// message mentions one of names (case-insensitively), for example
// "response_format" or "json_schema" for a server without structured
// outputs — or a *ParamError listing one of names. Callers may then retry
// without that parameter.
func RejectsParam(err error, names ...string) bool {
	var pe *ParamError
	if errors.As(err, &pe) {
		for _, n := range names {
			for _, p := range pe.Params {
				if n != "" && strings.EqualFold(p, n) {
					return true
				}
			}
		}
		return false
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	if apiErr.StatusCode != http.StatusBadRequest && apiErr.StatusCode != http.StatusUnprocessableEntity {
		return false
	}
	text := strings.ToLower(apiErr.Param + " " + apiErr.Code + " " + apiErr.Message)
	for _, n := range names {
		if n != "" && strings.Contains(text, strings.ToLower(n)) {
			return true
		}
	}
	return false
}
