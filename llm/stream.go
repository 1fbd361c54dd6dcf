package llm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// StreamError is a streamed call (Params.Stream) that failed after its
// first token: the connection broke, the server sent an error event, the
// call's deadline passed or its caller gave up while the reply was
// arriving. It is never retried — a new attempt would be another call,
// paid again, whose reply may differ from the part already seen — so it
// ends the call; a stream that fails before its first token is retried
// like any other failed attempt. The Router returns Partial with the
// error, and records it on the call's span.
type StreamError struct {
	// Partial is what arrived before the failure: its Content (and
	// Choices, Refusal, Logprobs) as far as they came, its Usage
	// estimated from them (Estimated), and, as set by the Router, its
	// LatencyMS, TTFTMS and CostUSD.
	Partial Response
	// Err is the failure: an *APIError (a cut connection is "malformed",
	// an expired deadline "timeout"), or a wrapped context error when the
	// caller gave up.
	Err error
}

func (e *StreamError) Error() string {
	return fmt.Sprintf("the stream broke off after its first token (%d bytes of reply received): %v", len(e.Partial.Content), e.Err)
}

// Unwrap returns the failure.
func (e *StreamError) Unwrap() error { return e.Err }

// errStreamUnfinished is a stream whose body ended cleanly, but before
// its last event: no "data: [DONE]" and no finish reason.
var errStreamUnfinished = errors.New("the stream ended before its last event (no finish_reason, no [DONE])")

// firstTokenKey carries, in a call's context, the function a streaming
// provider calls when the first token arrives.
type firstTokenKey struct{}

// withFirstToken returns ctx carrying fn, called at a streamed reply's
// first token.
func withFirstToken(ctx context.Context, fn func()) context.Context {
	return context.WithValue(ctx, firstTokenKey{}, fn)
}

// firstToken calls the function withFirstToken put in ctx, if any.
func firstToken(ctx context.Context) {
	if fn, ok := ctx.Value(firstTokenKey{}).(func()); ok && fn != nil {
		fn()
	}
}

// sseWatch is an HTTP doer that watches the body of the response for the
// line ending a stream of server-sent events ("data: [DONE]"), which the
// OpenAI client library reads as a plain end of stream, as it reads a
// body that just stops. One call uses its own sseWatch, from one
// goroutine.
type sseWatch struct {
	next httpDoer
	body *doneReader
}

// Do implements httpDoer.
func (w *sseWatch) Do(req *http.Request) (*http.Response, error) {
	resp, err := w.next.Do(req)
	if resp != nil && resp.Body != nil {
		w.body = &doneReader{r: resp.Body}
		resp.Body = w.body
	}
	return resp, err
}

// done reports whether the body held the [DONE] line.
func (w *sseWatch) done() bool { return w.body != nil && w.body.done }

// doneReader passes a body through, looking at the start of each line for
// "data: [DONE]". Lines are not kept: only their first bytes, enough to
// recognise that one. A JSON event cannot hold a line that starts so: its
// strings escape their line ends.
type doneReader struct {
	r    io.ReadCloser
	line []byte // the start of the current line
	long bool   // the current line is longer than any [DONE] line
	done bool
}

// maxDoneLine bounds the bytes of a line doneReader looks at.
const maxDoneLine = 32

func (d *doneReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	for _, c := range p[:n] {
		if c == '\n' {
			d.endLine()
			continue
		}
		if len(d.line) < maxDoneLine {
			d.line = append(d.line, c)
		} else {
			d.long = true
		}
	}
	if err != nil {
		d.endLine()
	}
	return n, err
}

func (d *doneReader) endLine() {
	if !d.long {
		if rest, ok := bytes.CutPrefix(bytes.TrimSpace(d.line), []byte("data:")); ok && string(bytes.TrimSpace(rest)) == "[DONE]" {
			d.done = true
		}
	}
	d.line, d.long = d.line[:0], false
}

func (d *doneReader) Close() error { return d.r.Close() }
