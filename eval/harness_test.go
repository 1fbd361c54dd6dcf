package eval_test

// Shared helpers of the eval tests: an OpenAI-compatible test server, a
// spec/dataset writer and a reader of a stored run through the package's
// own codecs. The Arrow-based independent reader lives in
// storedrun_arrow_test.go.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/eval"
	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/traces"
)

// chatRequest is the part of an OpenAI chat completion request the test
// server reads.
type chatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	Temperature   *float64 `json:"temperature"`
	Stream        bool     `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

// lastUser returns the content of the request's last user message.
func (r chatRequest) lastUser() string {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Role == "user" {
			return r.Messages[i].Content
		}
	}
	return ""
}

// fakeReply is what the test server answers to one request.
type fakeReply struct {
	// Status is the HTTP status; 0 means 200.
	Status int
	// Content is the assistant message (for 200) or the error message.
	Content string
	// Delay holds the reply back.
	Delay time.Duration
	// PromptTokens and CompletionTokens are reported in usage.
	PromptTokens, CompletionTokens int
	// For a streamed request: FirstTokenDelay holds back the first
	// content chunk (after the role chunk, sent at once); CutAfterFirst
	// breaks the connection after it, and StallAfterFirst sends nothing
	// more until the client gives up; NoUsage leaves out the usage chunk
	// that the request asks for.
	FirstTokenDelay time.Duration
	CutAfterFirst   bool
	StallAfterFirst bool
	NoUsage         bool
}

// fakeOpenAI is an httptest server speaking the OpenAI chat completions
// wire format, plain or streamed (server-sent events: "data: {json}"
// chunks with choices[].delta, a usage chunk when
// stream_options.include_usage asks for it, then "data: [DONE]"). It
// answers with reply(request) and records what it saw.
type fakeOpenAI struct {
	t     testing.TB
	srv   *httptest.Server
	reply func(chatRequest) fakeReply

	requests    atomic.Int64
	inflight    atomic.Int64
	maxInflight atomic.Int64
	conns       atomic.Int64 // TCP connections accepted

	mu      sync.Mutex
	auth    map[string]int // Authorization header values seen
	prompts []string       // last user message of every request
	bad     []string       // protocol violations, reported by the test
}

func newFakeOpenAI(t testing.TB, reply func(chatRequest) fakeReply) *fakeOpenAI {
	t.Helper()
	f := &fakeOpenAI{t: t, reply: reply, auth: map[string]int{}}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.conns.Add(1)
		}
	}
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	return f
}

// BaseURL is the provider base URL to put in a spec.
func (f *fakeOpenAI) BaseURL() string { return f.srv.URL + "/v1" }

func (f *fakeOpenAI) violation(format string, args ...any) {
	f.mu.Lock()
	f.bad = append(f.bad, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}

// checkProtocol fails t if a request broke the wire format.
func (f *fakeOpenAI) checkProtocol(t testing.TB) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range f.bad {
		t.Errorf("server: %s", b)
	}
}

func (f *fakeOpenAI) authHeaders() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.auth))
	for k, v := range f.auth {
		out[k] = v
	}
	return out
}

func (f *fakeOpenAI) serve(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	n := f.inflight.Add(1)
	defer f.inflight.Add(-1)
	for {
		m := f.maxInflight.Load()
		if n <= m || f.maxInflight.CompareAndSwap(m, n) {
			break
		}
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		f.violation("%s %s: want POST /v1/chat/completions", r.Method, r.URL.Path)
		writeOpenAIError(w, http.StatusNotFound, "not found", "invalid_request_error")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		f.violation("Content-Type %q", ct)
	}
	var req chatRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		f.violation("bad request body: %v", err)
		writeOpenAIError(w, http.StatusBadRequest, "bad body", "invalid_request_error")
		return
	}
	if req.Model == "" || len(req.Messages) == 0 {
		f.violation("bad request: %s", body)
	}
	if req.Stream && (req.StreamOptions == nil || !req.StreamOptions.IncludeUsage) {
		f.violation("a stream that does not ask for its usage: %s", body)
	}
	f.mu.Lock()
	f.auth[r.Header.Get("Authorization")]++
	f.prompts = append(f.prompts, req.lastUser())
	f.mu.Unlock()

	rep := f.reply(req)
	if rep.Delay > 0 {
		tm := time.NewTimer(rep.Delay)
		select {
		case <-tm.C:
		case <-r.Context().Done():
			tm.Stop()
			return
		}
	}
	if rep.Status != 0 && rep.Status != http.StatusOK {
		writeOpenAIError(w, rep.Status, rep.Content, "server_error")
		return
	}
	if req.Stream {
		streamReply(w, r, req, rep)
		return
	}
	resp := map[string]any{
		"id":                 "chatcmpl-test",
		"object":             "chat.completion",
		"created":            1700000000,
		"model":              req.Model,
		"system_fingerprint": "fp_test",
		"choices": []any{map[string]any{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": rep.Content},
			"finish_reason": "stop",
			"logprobs":      nil,
		}},
		"usage": map[string]any{
			"prompt_tokens":     rep.PromptTokens,
			"completion_tokens": rep.CompletionTokens,
			"total_tokens":      rep.PromptTokens + rep.CompletionTokens,
		},
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// streamReply writes rep as OpenAI streams a chat completion: a role
// chunk, the content a word at a time, a chunk with the finish reason,
// the usage chunk and [DONE].
func streamReply(w http.ResponseWriter, r *http.Request, req chatRequest, rep fakeReply) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	send := func(choices []any, usage any) {
		b, _ := json.Marshal(map[string]any{
			"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 1700000000, "model": req.Model,
			"system_fingerprint": "fp_test", "choices": choices, "usage": usage,
		})
		fmt.Fprintf(w, "data: %s\n\n", b)
		w.(http.Flusher).Flush()
	}
	delta := func(d map[string]any, finish any) []any {
		return []any{map[string]any{"index": 0, "delta": d, "logprobs": nil, "finish_reason": finish}}
	}
	send(delta(map[string]any{"role": "assistant", "content": ""}, nil), nil)
	if rep.FirstTokenDelay > 0 {
		tm := time.NewTimer(rep.FirstTokenDelay)
		select {
		case <-tm.C:
		case <-r.Context().Done():
			tm.Stop()
			return
		}
	}
	for i, piece := range words(rep.Content) {
		send(delta(map[string]any{"content": piece}, nil), nil)
		if i == 0 && rep.CutAfterFirst {
			panic(http.ErrAbortHandler) // the connection breaks
		}
		if i == 0 && rep.StallAfterFirst {
			<-r.Context().Done()
			return
		}
	}
	send(delta(map[string]any{}, "stop"), nil)
	if !rep.NoUsage {
		send([]any{}, map[string]any{"prompt_tokens": rep.PromptTokens, "completion_tokens": rep.CompletionTokens,
			"total_tokens": rep.PromptTokens + rep.CompletionTokens})
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
}

// words splits text into stream pieces: each word with the spaces before
// it.
func words(text string) []string {
	var out []string
	start := 0
	for i := 1; i < len(text); i++ {
		if text[i] == ' ' && text[i-1] != ' ' {
			out = append(out, text[start:i])
			start = i
		}
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}

func writeOpenAIError(w http.ResponseWriter, status int, msg, typ string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": nil},
	})
}

// writeFiles writes name -> content files under dir.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// jsonl renders rows as JSON Lines.
func jsonl(t testing.TB, rows []map[string]any) string {
	t.Helper()
	var b strings.Builder
	for _, r := range rows {
		line, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// storedRun is a run directory read back through the package's codecs.
type storedRun struct {
	dir      string
	manifest *results.Manifest
	results  []results.Result
	scores   []results.Score
	spans    []traces.Record
}

func readStoredRun(t testing.TB, dir string) storedRun {
	t.Helper()
	sr := storedRun{dir: dir}
	var err error
	if sr.manifest, err = results.ReadManifest(dir); err != nil {
		t.Fatal(err)
	}
	if err := results.ReadResults(filepath.Join(dir, results.ResultsFile), func(r results.Result) error {
		sr.results = append(sr.results, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := results.ReadScores(filepath.Join(dir, results.ScoresFile), func(s results.Score) error {
		sr.scores = append(sr.scores, s)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := traces.ReadFile(filepath.Join(dir, results.TracesFile), func(r traces.Record) error {
		sr.spans = append(sr.spans, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return sr
}

// resultKey identifies a result row.
type resultKey struct {
	variant, example string
	epoch            int32
}

func (sr storedRun) resultMap(t testing.TB) map[resultKey]results.Result {
	t.Helper()
	m := map[resultKey]results.Result{}
	for _, r := range sr.results {
		k := resultKey{r.Variant, r.ExampleID, r.Epoch}
		if _, dup := m[k]; dup {
			t.Errorf("duplicate result row %+v", k)
		}
		m[k] = r
	}
	return m
}

// scoresOf returns the scores of one result by judge name.
func (sr storedRun) scoresOf(variant, example string, epoch int32) map[string]results.Score {
	m := map[string]results.Score{}
	for _, s := range sr.scores {
		if s.Variant == variant && s.ExampleID == example && s.Epoch == epoch {
			m[s.Judge] = s
		}
	}
	return m
}

// spansOf returns the spans of one trace, in file order.
func (sr storedRun) spansOf(traceID string) []traces.Record {
	var out []traces.Record
	for _, s := range sr.spans {
		if s.TraceID == traceID {
			out = append(out, s)
		}
	}
	return out
}

// specRun is a spec written to a temporary directory, ready to run.
type specRun struct {
	t    testing.TB
	dir  string
	path string
	load eval.LoadOptions
}

// newSpecRun writes spec (as gavel.yaml) and the other files to a new
// temporary directory.
func newSpecRun(t testing.TB, spec string, files map[string]string) *specRun {
	t.Helper()
	dir := t.TempDir()
	all := map[string]string{"gavel.yaml": spec}
	for k, v := range files {
		all[k] = v
	}
	writeFiles(t, dir, all)
	return &specRun{t: t, dir: dir, path: filepath.Join(dir, "gavel.yaml")}
}

// run loads the spec and runs it into a new directory with opts (Out is
// set when empty; Now defaults to time.Now).
func (s *specRun) run(ctx context.Context, opts eval.Options) (*eval.Outcome, error) {
	s.t.Helper()
	spec, err := eval.LoadSpec(s.path, s.load)
	if err != nil {
		return nil, err
	}
	if opts.Out == "" {
		opts.Out = filepath.Join(s.t.TempDir(), "run")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return eval.Run(ctx, spec, opts)
}

// mustRun is run that fails the test on error and reads the run back.
func (s *specRun) mustRun(ctx context.Context, opts eval.Options) storedRun {
	s.t.Helper()
	out, err := s.run(ctx, opts)
	if err != nil {
		s.t.Fatalf("run: %v", err)
	}
	return readStoredRun(s.t, out.Dir)
}
