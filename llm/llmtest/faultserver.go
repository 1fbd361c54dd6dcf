// Package llmtest holds test helpers for code that calls language models
// through package llm: an OpenAI-compatible server that injects faults.
// It answers plain and streamed chat completions: a request with
// "stream": true gets server-sent events as OpenAI sends them — "data:
// {json}" chunks whose choices carry deltas (the role, then the reply a
// word at a time, then the finish reason), a final chunk with the usage
// when "stream_options": {"include_usage": true} asks for it, then "data:
// [DONE]".
//
// The server binds 127.0.0.1 only (it is an httptest.Server) and needs no
// network access and no API key; it accepts any Authorization header.
package llmtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Fault is what the server does wrong with one request.
type Fault string

// Faults.
const (
	// OK answers normally (after the configured latency).
	OK Fault = "ok"
	// Fault500 answers HTTP 500 with an OpenAI server_error body.
	Fault500 Fault = "500"
	// Fault429 answers HTTP 429 with an OpenAI rate_limit_exceeded body
	// and, when FaultOptions.RetryAfter is set, Retry-After.
	Fault429 Fault = "429"
	// FaultMalformed answers 200 with a body that is not valid JSON (the
	// start of a chat completion followed by HTML, with a matching
	// Content-Length); a stream with an event that is not JSON after its
	// first content chunk.
	FaultMalformed Fault = "malformed"
	// FaultTruncated answers 200 declaring a Content-Length longer than
	// the body it writes, then closes the connection; a stream ends after
	// its first content chunk, without its last event.
	FaultTruncated Fault = "truncated"
	// FaultHang answers nothing until the client gives up (the request's
	// context ends), the server closes, or FaultOptions.MaxHang passes.
	FaultHang Fault = "hang"
	// FaultReset reads the request and closes the connection without a
	// response (a TCP reset where the platform allows it).
	FaultReset Fault = "reset"
	// FaultStreamCut answers a streamed request with its first chunks
	// (the role and the first word of the reply) and then breaks the
	// connection, without the stream's end; a request that is not
	// streamed gets a truncated body, as with FaultTruncated.
	FaultStreamCut Fault = "stream_cut"
)

// AllFaults lists every fault but OK, in a fixed order, and but
// FaultStreamCut, which only streams have (a request that is not
// streamed gets FaultTruncated): the faults that Probability draws from.
var AllFaults = []Fault{Fault500, Fault429, FaultMalformed, FaultTruncated, FaultHang, FaultReset}

// FaultOptions configure a FaultServer. The zero value answers every
// request correctly, at once.
type FaultOptions struct {
	// Seed seeds the random source of the fault draws and the latency
	// jitter (PCG); the same seed gives the same sequence of draws (which
	// request gets which draw depends on arrival order when requests are
	// concurrent).
	Seed uint64
	// Probability gives each fault's probability per request (at most 1
	// in total). Faults are drawn once per request: one uniform number,
	// compared against the faults' cumulative probabilities in the order
	// of AllFaults (FaultStreamCut is only scripted).
	Probability map[Fault]float64
	// Script fixes the fault of the first len(Script) requests, numbered
	// from 0 in arrival order ("" or OK: no fault); later requests draw
	// from Probability.
	Script []Fault
	// Latency delays every answer (faults included, hangs excepted),
	// plus a uniform random extra in [0, Jitter).
	Latency, Jitter time.Duration
	// RetryAfter, when positive, is sent with every 429 as Retry-After in
	// whole seconds (rounded up) and, when RetryAfterMS is set, also as
	// OpenAI's retry-after-ms.
	RetryAfter   time.Duration
	RetryAfterMS bool
	// MaxHang bounds a hang (default 30s).
	MaxHang time.Duration
	// FirstTokenDelay holds back the first content chunk of a streamed
	// answer (after its role chunk, which is sent at once): a slow first
	// token.
	FirstTokenDelay time.Duration
	// NoStreamUsage makes streamed answers leave out the usage chunk even
	// when the request asks for it, as some servers do.
	NoStreamUsage bool
	// Reply computes the content of a correct answer; nil means
	// DefaultReply.
	Reply func(ChatRequest) string
	// ToolCalls, when set and returning calls, makes a correct answer
	// ask for those tool calls instead of a content (finish_reason
	// "tool_calls"), in OpenAI's wire form: several calls are parallel
	// calls, and Arguments are sent as they are, malformed or not. A
	// streamed answer sends each call's id and name in one chunk and its
	// arguments a piece at a time in the next ones.
	ToolCalls func(ChatRequest) []ToolCall
}

// ToolCall is a tool call the server answers with.
type ToolCall struct {
	ID, Name, Arguments string
}

func (c ToolCall) wire(index int, withIndex bool) map[string]any {
	m := map[string]any{"id": c.ID, "type": "function", "function": map[string]any{"name": c.Name, "arguments": c.Arguments}}
	if withIndex {
		m["index"] = index
	}
	return m
}

// ChatRequest is a chat completions request as the server decoded it.
type ChatRequest struct {
	Model    string    `json:"model"`
	Messages []Message `json:"messages"`
	// Stream is true for a streamed request; IncludeUsage when it asks
	// for the usage chunk (stream_options.include_usage).
	Stream        bool `json:"stream"`
	StreamOptions struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	// Raw is the whole body, decoded.
	Raw map[string]any `json:"-"`
}

// Message is one chat message of a request.
type Message struct {
	Role string `json:"role"`
	// Content is the text of the message: its content string, or the text
	// of its text parts joined with newlines.
	Content string `json:"-"`
	// Parts are the parts of an array content, as sent.
	Parts []map[string]any `json:"-"`
	// ToolCalls are an assistant message's tool calls, ToolCallID a tool
	// message's call.
	ToolCalls  []ToolCall `json:"-"`
	ToolCallID string     `json:"tool_call_id"`
}

// UnmarshalJSON reads a message whose content is a string, an array of
// parts or null, with its tool calls.
func (m *Message) UnmarshalJSON(b []byte) error {
	var raw struct {
		Role       string          `json:"role"`
		Content    json.RawMessage `json:"content"`
		ToolCallID string          `json:"tool_call_id"`
		ToolCalls  []struct {
			ID       string `json:"id"`
			Function struct {
				Name      string `json:"name"`
				Arguments string `json:"arguments"`
			} `json:"function"`
		} `json:"tool_calls"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*m = Message{Role: raw.Role, ToolCallID: raw.ToolCallID}
	for _, c := range raw.ToolCalls {
		m.ToolCalls = append(m.ToolCalls, ToolCall{ID: c.ID, Name: c.Function.Name, Arguments: c.Function.Arguments})
	}
	switch c := bytes.TrimSpace(raw.Content); {
	case len(c) == 0 || string(c) == "null":
	case c[0] == '[':
		if err := json.Unmarshal(c, &m.Parts); err != nil {
			return fmt.Errorf("content: %w", err)
		}
		var texts []string
		for _, p := range m.Parts {
			if t, ok := p["text"].(string); ok && p["type"] == "text" {
				texts = append(texts, t)
			}
		}
		m.Content = strings.Join(texts, "\n")
	default:
		if err := json.Unmarshal(c, &m.Content); err != nil {
			return fmt.Errorf("content: %w", err)
		}
	}
	return nil
}

// choices is how many choices the request asks for (n, at least 1).
func (r ChatRequest) choices() int {
	if v, ok := r.Raw["n"].(float64); ok && v > 1 {
		return int(v)
	}
	return 1
}

// LastUser returns the content of the last user message, or "".
func (r ChatRequest) LastUser() string {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Role == "user" {
			return r.Messages[i].Content
		}
	}
	return ""
}

// DefaultReply answers "echo: " and the last user message.
func DefaultReply(r ChatRequest) string { return "echo: " + r.LastUser() }

// Usage returns the token usage the server reports for a request and its
// reply: per message ceil(len(content)/4)+4 prompt tokens, and
// ceil(len(reply)/4) completion tokens (the same rule as llm.EstimateUsage).
func Usage(r ChatRequest, reply string) (prompt, completion int) {
	for _, m := range r.Messages {
		prompt += (len(m.Content)+3)/4 + 4
	}
	return prompt, (len(reply) + 3) / 4
}

// FaultServer is an OpenAI-compatible chat completions server
// (POST /v1/chat/completions) on 127.0.0.1 that injects faults. It is
// safe for concurrent use and closes when its test ends.
type FaultServer struct {
	srv  *httptest.Server
	opts FaultOptions
	stop chan struct{} // closed when the server closes: hangs end

	mu     sync.Mutex
	rng    *rand.Rand
	next   int // the number of the next request
	faults map[Fault]int64

	requests, inflight, maxInflight atomic.Int64
	closeOnce                       sync.Once
}

// NewFaultServer starts a FaultServer that closes when t ends.
func NewFaultServer(t testing.TB, opts FaultOptions) *FaultServer {
	t.Helper()
	total := 0.0
	for f, p := range opts.Probability {
		if f == OK {
			continue
		}
		if p < 0 || p > 1 {
			t.Fatalf("llmtest: probability of %s is %v", f, p)
		}
		total += p
	}
	if total > 1+1e-9 {
		t.Fatalf("llmtest: fault probabilities add up to %v > 1", total)
	}
	if opts.MaxHang <= 0 {
		opts.MaxHang = 30 * time.Second
	}
	if opts.Reply == nil {
		opts.Reply = DefaultReply
	}
	s := &FaultServer{
		opts:   opts,
		stop:   make(chan struct{}),
		rng:    rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x5bd1e995)),
		faults: map[Fault]int64{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// URL returns the server's API root, "http://127.0.0.1:PORT/v1".
func (s *FaultServer) URL() string { return s.srv.URL + "/v1" }

// Close ends any hang and shuts the server down. It is called when the
// test ends; calling it again does nothing.
func (s *FaultServer) Close() {
	s.closeOnce.Do(func() {
		close(s.stop)
		s.srv.CloseClientConnections()
		s.srv.Close()
	})
}

// Requests returns the number of requests received.
func (s *FaultServer) Requests() int64 { return s.requests.Load() }

// MaxInFlight returns the most requests the server was handling at once.
func (s *FaultServer) MaxInFlight() int64 { return s.maxInflight.Load() }

// Faults returns how many requests got each fault (OK included).
func (s *FaultServer) Faults() map[Fault]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[Fault]int64, len(s.faults))
	for f, n := range s.faults {
		out[f] = n
	}
	return out
}

// draw picks the fault and the latency of the next request.
func (s *FaultServer) draw() (Fault, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.next
	s.next++
	u := s.rng.Float64()
	lat := s.opts.Latency
	if s.opts.Jitter > 0 {
		lat += time.Duration(s.rng.Int64N(int64(s.opts.Jitter)))
	}
	f := OK
	if i < len(s.opts.Script) {
		if sf := s.opts.Script[i]; sf != "" {
			f = sf
		}
	} else {
		acc := 0.0
		for _, k := range AllFaults {
			acc += s.opts.Probability[k]
			if u < acc {
				f = k
				break
			}
		}
	}
	s.faults[f]++
	return f, lat
}

func (s *FaultServer) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	n := s.inflight.Add(1)
	defer s.inflight.Add(-1)
	for {
		m := s.maxInflight.Load()
		if n <= m || s.maxInflight.CompareAndSwap(m, n) {
			break
		}
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		writeError(w, http.StatusNotFound, "invalid_request_error", "not_found", "no such endpoint: "+r.Method+" "+r.URL.Path)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		return // the client went away
	}
	var req ChatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "the body is not a JSON object: "+err.Error())
		return
	}
	_ = json.Unmarshal(body, &req.Raw)

	fault, lat := s.draw()
	if fault == FaultHang {
		t := time.NewTimer(s.opts.MaxHang)
		defer t.Stop()
		select {
		case <-r.Context().Done():
		case <-s.stop:
		case <-t.C:
		}
		return
	}
	if lat > 0 {
		t := time.NewTimer(lat)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-s.stop:
			t.Stop()
			return
		case <-t.C:
		}
	}

	switch fault {
	case Fault500:
		writeError(w, http.StatusInternalServerError, "server_error", "", "The server had an error while processing your request. Sorry about that!")
	case Fault429:
		if ra := s.opts.RetryAfter; ra > 0 {
			w.Header().Set("Retry-After", strconv.FormatInt(int64((ra+time.Second-1)/time.Second), 10))
			if s.opts.RetryAfterMS {
				w.Header().Set("Retry-After-Ms", strconv.FormatInt(ra.Milliseconds(), 10))
			}
		}
		writeError(w, http.StatusTooManyRequests, "requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again later.")
	case FaultReset:
		s.reset(w)
	default:
		reply := s.opts.Reply(req)
		var calls []ToolCall
		if s.opts.ToolCalls != nil {
			calls = s.opts.ToolCalls(req)
		}
		if len(calls) > 0 {
			reply = ""
		}
		if req.Stream {
			s.stream(w, r, req, reply, calls, fault)
			return
		}
		out := completion(req, reply, calls)
		switch fault {
		case FaultMalformed:
			cut := bytes.Index(out, []byte(`"choices":`)) + len(`"choices":`)
			out = append(out[:cut:cut], "<html>upstream hiccup</html>"...)
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", strconv.Itoa(len(out)))
			w.WriteHeader(http.StatusOK)
			w.Write(out)
		case FaultTruncated, FaultStreamCut:
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", strconv.Itoa(len(out)+64))
			w.WriteHeader(http.StatusOK)
			w.Write(out[:len(out)*2/3])
			// Returning with fewer bytes than declared makes the server
			// close the connection: the client reads a short body.
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			w.Write(out)
		}
	}
}

// stream answers a streamed request with server-sent events (see the
// package documentation), after FirstTokenDelay for the first content
// chunk. FaultStreamCut breaks the connection after that chunk, and
// FaultTruncated ends the body there, cleanly but without the stream's
// end; FaultMalformed sends an event that is not JSON in place of the
// second content chunk (a reply of one word is sent whole).
func (s *FaultServer) stream(w http.ResponseWriter, r *http.Request, req ChatRequest, reply string, calls []ToolCall, fault Fault) {
	pt, ct := Usage(req, reply+callsText(calls))
	n := req.choices()
	id := fmt.Sprintf("chatcmpl-llmtest-%d", idSeq.Add(1))
	flusher, _ := w.(http.Flusher)
	send := func(choices []map[string]any, usage any) {
		chunk := map[string]any{
			"id": id, "object": "chat.completion.chunk", "created": 1741569952, "model": req.Model,
			"system_fingerprint": "fp_llmtest", "choices": choices,
		}
		if req.StreamOptions.IncludeUsage {
			chunk["usage"] = usage // null but in the last chunk, as OpenAI sends it
		}
		b, err := json.Marshal(chunk)
		if err != nil {
			panic(err) // only strings and numbers
		}
		fmt.Fprintf(w, "data: %s\n\n", b)
		if flusher != nil {
			flusher.Flush()
		}
	}
	delta := func(d map[string]any, finish any) []map[string]any {
		out := make([]map[string]any, n)
		for i := range out {
			out[i] = map[string]any{"index": i, "delta": d, "logprobs": nil, "finish_reason": finish}
		}
		return out
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	send(delta(map[string]any{"role": "assistant", "content": "", "refusal": nil}, nil), nil)
	if d := s.opts.FirstTokenDelay; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-s.stop:
			t.Stop()
			return
		case <-t.C:
		}
	}
	if len(calls) > 0 {
		for k, c := range calls {
			head := c.wire(k, true)
			head["function"] = map[string]any{"name": c.Name, "arguments": ""}
			send(delta(map[string]any{"tool_calls": []any{head}}, nil), nil)
			if k == 0 && fault == FaultStreamCut {
				panic(http.ErrAbortHandler)
			}
			for _, piece := range Pieces(c.Arguments) {
				send(delta(map[string]any{"tool_calls": []any{map[string]any{"index": k, "function": map[string]any{"arguments": piece}}}}, nil), nil)
			}
		}
		send(delta(map[string]any{}, "tool_calls"), nil)
		if req.StreamOptions.IncludeUsage && !s.opts.NoStreamUsage {
			send([]map[string]any{}, map[string]any{"prompt_tokens": pt, "completion_tokens": ct * n, "total_tokens": pt + ct*n})
		}
		fmt.Fprint(w, "data: [DONE]\n\n")
		return
	}
	for i, piece := range Pieces(reply) {
		if i == 1 && fault == FaultMalformed {
			fmt.Fprint(w, "data: {\"choices\": <html>upstream hiccup</html>\n\n")
			return
		}
		send(delta(map[string]any{"content": piece}, nil), nil)
		if i == 0 {
			switch fault {
			case FaultStreamCut:
				// The connection breaks: no chunk's end, no [DONE].
				panic(http.ErrAbortHandler)
			case FaultTruncated:
				return
			}
		}
	}
	send(delta(map[string]any{}, "stop"), nil)
	if req.StreamOptions.IncludeUsage && !s.opts.NoStreamUsage {
		send([]map[string]any{}, map[string]any{"prompt_tokens": pt, "completion_tokens": ct * n, "total_tokens": pt + ct*n})
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
}

// callsText is the text of tool calls for the usage count.
func callsText(calls []ToolCall) string {
	var b strings.Builder
	for _, c := range calls {
		b.WriteString(c.Name + " " + c.Arguments)
	}
	return b.String()
}

// Pieces splits a reply into the contents of its stream's chunks: a word
// at a time, each with the spaces before it ("echo: hi there" → "echo:",
// " hi", " there"). An empty reply has no pieces.
func Pieces(reply string) []string {
	var out []string
	start := 0
	for i := 1; i < len(reply); i++ {
		if reply[i] == ' ' && reply[i-1] != ' ' {
			out = append(out, reply[start:i])
			start = i
		}
	}
	if start < len(reply) {
		out = append(out, reply[start:])
	}
	return out
}

// reset closes the connection under the request without answering.
func (s *FaultServer) reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("llmtest: the response writer cannot be hijacked")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) // close with RST rather than FIN
	}
	conn.Close()
}

var idSeq atomic.Int64

// completion encodes a chat completion answering req with reply, in
// OpenAI's wire format.
func completion(req ChatRequest, reply string, calls []ToolCall) []byte {
	pt, ct := Usage(req, reply+callsText(calls))
	n := req.choices()
	choices := make([]map[string]any, n)
	for i := range choices {
		msg := map[string]any{"role": "assistant", "content": reply, "refusal": nil}
		finish := "stop"
		if len(calls) > 0 {
			wire := make([]any, len(calls))
			for k, c := range calls {
				wire[k] = c.wire(k, false)
			}
			msg["content"], msg["tool_calls"], finish = nil, wire, "tool_calls"
		}
		choices[i] = map[string]any{
			"index":         i,
			"message":       msg,
			"logprobs":      nil,
			"finish_reason": finish,
		}
	}
	out, err := json.Marshal(map[string]any{
		"id":                 fmt.Sprintf("chatcmpl-llmtest-%d", idSeq.Add(1)),
		"object":             "chat.completion",
		"created":            1741569952,
		"model":              req.Model,
		"choices":            choices,
		"usage":              map[string]any{"prompt_tokens": pt, "completion_tokens": ct * n, "total_tokens": pt + ct*n},
		"system_fingerprint": "fp_llmtest",
	})
	if err != nil {
		panic(err) // only strings and numbers
	}
	return out
}

// writeError writes an OpenAI error body.
func writeError(w http.ResponseWriter, status int, typ, code, msg string) {
	var c any
	if code != "" {
		c = code
	}
	body, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": c}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

// String describes the options, for test logs.
func (o FaultOptions) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed=%d latency=%v+%v", o.Seed, o.Latency, o.Jitter)
	for _, f := range AllFaults {
		if p := o.Probability[f]; p > 0 {
			fmt.Fprintf(&b, " %s=%.2f", f, p)
		}
	}
	if len(o.Script) > 0 {
		fmt.Fprintf(&b, " script=%v", o.Script)
	}
	return b.String()
}
