package judges

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/llm/offline"
	"github.com/gavel-eval/gavel/traces"
)

// This file holds the test double of a judge model: an OpenAI-compatible
// chat completions server on 127.0.0.1 speaking the real wire format.

// llmtReq is one request the judge server received.
type llmtReq struct {
	raw  string
	body map[string]any
}

// model returns the request's model name.
func (r llmtReq) model() string { s, _ := r.body["model"].(string); return s }

// messages returns the request's messages as (role, content) pairs.
func (r llmtReq) messages() []llm.Message {
	var out []llm.Message
	msgs, _ := r.body["messages"].([]any)
	for _, m := range msgs {
		mm, _ := m.(map[string]any)
		role, _ := mm["role"].(string)
		content, _ := mm["content"].(string)
		out = append(out, llm.Message{Role: role, Content: content})
	}
	return out
}

// prompt returns the content of the request's first message.
func (r llmtReq) prompt() string {
	msgs := r.messages()
	if len(msgs) == 0 {
		return ""
	}
	return msgs[0].Content
}

// num returns a numeric field of the request body (NaN when absent).
func (r llmtReq) num(key string) float64 {
	v, ok := r.body[key].(float64)
	if !ok {
		return math.NaN()
	}
	return v
}

// llmtReply is the server's answer to one request.
type llmtReply struct {
	status int    // 0 means 200
	body   string // a full response body; empty means built from choices
	// choices are the contents of the choices (one when empty).
	choices []string
	refusal string
	// logprobs, when set, are the first choice's token log probabilities.
	logprobs []llm.TokenLogprob
}

// llmtServer is a fake judge model server.
type llmtServer struct {
	*httptest.Server
	t      *testing.T
	mu     sync.Mutex
	reqs   []llmtReq
	answer func(i int, r llmtReq) llmtReply
}

// newJudgeServer starts a server answering request i (from 0) with answer.
func newLLMTServer(t *testing.T, answer func(i int, r llmtReq) llmtReply) *llmtServer {
	t.Helper()
	s := &llmtServer{t: t, answer: answer}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// replying starts a server answering every request with content.
func llmtReplying(t *testing.T, content string) *llmtServer {
	return newLLMTServer(t, func(int, llmtReq) llmtReply { return llmtReply{choices: []string{content}} })
}

func (s *llmtServer) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		s.t.Errorf("request body is not JSON: %v: %s", err, raw)
	}
	if r.URL.Path != "/v1/chat/completions" || r.Method != http.MethodPost {
		s.t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
	}
	req := llmtReq{raw: string(raw), body: body}
	s.mu.Lock()
	i := len(s.reqs)
	s.reqs = append(s.reqs, req)
	s.mu.Unlock()
	rep := s.answer(i, req)
	w.Header().Set("Content-Type", "application/json")
	status := rep.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	if rep.body != "" {
		io.WriteString(w, rep.body)
		return
	}
	io.WriteString(w, llmtCompletion(rep))
}

// llmtCompletion renders a chat completion response body.
func llmtCompletion(rep llmtReply) string {
	contents := rep.choices
	if len(contents) == 0 {
		contents = []string{""}
	}
	type top struct {
		Token   string  `json:"token"`
		Logprob float64 `json:"logprob"`
		Bytes   []byte  `json:"bytes"`
	}
	type tok struct {
		top
		Top []top `json:"top_logprobs"`
	}
	var choices []map[string]any
	for i, c := range contents {
		msg := map[string]any{"role": "assistant", "content": c, "refusal": nil}
		if rep.refusal != "" && i == 0 {
			msg["content"] = nil
			msg["refusal"] = rep.refusal
		}
		ch := map[string]any{"index": i, "message": msg, "logprobs": nil, "finish_reason": "stop"}
		if i == 0 && rep.logprobs != nil {
			var toks []tok
			for _, t := range rep.logprobs {
				x := tok{top: top{Token: t.Token, Logprob: t.Logprob, Bytes: []byte(t.Token)}}
				for _, a := range t.Top {
					x.Top = append(x.Top, top{Token: a.Token, Logprob: a.Logprob, Bytes: []byte(a.Token)})
				}
				toks = append(toks, x)
			}
			ch["logprobs"] = map[string]any{"content": toks, "refusal": nil}
		}
		choices = append(choices, ch)
	}
	b, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-test", "object": "chat.completion", "created": 1741569952, "model": "judge-2025",
		"choices":      choices,
		"usage":        map[string]any{"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
		"service_tier": "default", "system_fingerprint": "fp_test",
	})
	return string(b)
}

// llmtError renders an OpenAI error body.
func llmtError(status int, message, param string) llmtReply {
	p := "null"
	if param != "" {
		p = fmt.Sprintf("%q", param)
	}
	return llmtReply{status: status, body: fmt.Sprintf(`{"error":{"message":%q,"type":"invalid_request_error","param":%s,"code":null}}`, message, p)}
}

func (s *llmtServer) requests() []llmtReq {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]llmtReq(nil), s.reqs...)
}

// env returns a judge environment whose router serves provider "local"
// from s.
func (s *llmtServer) env(t *testing.T) Env {
	t.Helper()
	r, err := llm.NewRouter(llm.Config{
		Providers: []llm.ProviderConfig{{Name: "local", BaseURL: s.URL + "/v1"}},
		Getenv:    func(string) string { return "" },
		Retry:     llm.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, Seed: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	return Env{Model: r, Getenv: func(string) string { return "" }}
}

// offlineEnv returns a judge environment with only the offline models.
func llmtOfflineEnv(t *testing.T) Env {
	t.Helper()
	r, err := llm.NewRouter(llm.Config{Getenv: func(string) string { return "" },
		Local: map[string]llm.Provider{offline.Type: offline.Provider{}}})
	if err != nil {
		t.Fatal(err)
	}
	return Env{Model: r, Embedder: r}
}

// llmCatalog returns a catalog holding only the LLM judge types.
func llmtCatalog() Catalog {
	c := Catalog{}
	registerLLM(c)
	return c
}

// buildLLM builds a judge of type typ from a YAML-like option map, as a
// panel member is built (strict decoding).
func llmtBuild(t *testing.T, env Env, typ string, opts map[string]any) Judge {
	t.Helper()
	j, err := llmtTryBuild(env, typ, opts)
	if err != nil {
		t.Fatalf("building %s %v: %v", typ, opts, err)
	}
	return j
}

func llmtTryBuild(env Env, typ string, opts map[string]any) (Judge, error) {
	f, err := llmtCatalog().Lookup(typ)
	if err != nil {
		return nil, err
	}
	cfg, err := llmDecodeConfig(f, opts)
	if err != nil {
		return nil, err
	}
	return f.Build(cfg, env)
}

// llmtRecorded runs fn with a trace recorder and returns the spans.
func llmtRecorded(fn func(ctx context.Context)) []traces.Span {
	rec := traces.NewRecorder("trace", nil)
	fn(traces.WithRecorder(context.Background(), rec))
	return rec.Spans()
}

// judgeOK runs j and fails the test on an error.
func llmtJudgeOK(t *testing.T, j Judge, in Input) Verdict {
	t.Helper()
	v, err := j.Judge(context.Background(), in)
	if err != nil {
		t.Fatalf("Judge: %v", err)
	}
	if v.Score == nil || *v.Score < 0 || *v.Score > 1 || math.IsNaN(*v.Score) {
		t.Fatalf("verdict %+v has no score in 0..1", v)
	}
	if v.Reason == "" {
		t.Errorf("verdict %+v has no reason", v)
	}
	return v
}

// judgeErr runs j and returns its error, failing the test when there is
// none.
func llmtJudgeErr(t *testing.T, j Judge, in Input) error {
	t.Helper()
	v, err := j.Judge(context.Background(), in)
	if err == nil {
		t.Fatalf("Judge: no error, verdict %+v", v)
	}
	return err
}

func llmtNear(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func llmtHasAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}
