package observe_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/gavel-eval/gavel/observe"
)

// openAIServer speaks the OpenAI wire format: chat completions (plain,
// streamed as server-sent events, or failing) and embeddings.
func openAIServer(t *testing.T) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req map[string]any
		json.NewDecoder(r.Body).Decode(&req)
		switch r.URL.Path {
		case "/v1/embeddings":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"object":"list","model":"text-embedding-3-small","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2,0.3]},{"object":"embedding","index":1,"embedding":[0.3,0.2,0.1]}],"usage":{"prompt_tokens":8,"total_tokens":8}}`)
		case "/v1/chat/completions":
			msgs, _ := req["messages"].([]any)
			last, _ := msgs[len(msgs)-1].(map[string]any)["content"].(string)
			if last == "fail" {
				w.WriteHeader(http.StatusTooManyRequests)
				fmt.Fprint(w, `{"error":{"message":"slow down","type":"rate_limit_error"}}`)
				return
			}
			if req["stream"] == true {
				w.Header().Set("Content-Type", "text/event-stream")
				fl := w.(http.Flusher)
				for i, part := range []string{"Par", "is", "."} {
					if last == "hang" && i == 1 {
						select {
						case <-r.Context().Done():
						case <-time.After(5 * time.Second):
						}
						return
					}
					fmt.Fprintf(w, "data: {\"id\":\"c-1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%q}}]}\n\n", part)
					fl.Flush()
				}
				fmt.Fprint(w, "data: {\"id\":\"c-1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n")
				fmt.Fprint(w, "data: {\"id\":\"c-1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":3,\"total_tokens\":14}}\n\n")
				fmt.Fprint(w, "data: [DONE]\n\n")
				return
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"id":"c-2","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Paris."},"finish_reason":"stop"}],"usage":{"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500}}`)
		default:
			http.NotFound(w, r)
		}
	}))
}

func attrsOf(s sdktrace.ReadOnlySpan) map[string]attribute.Value {
	m := map[string]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[string(kv.Key)] = kv.Value
	}
	return m
}

func TestTracedOpenAIClient(t *testing.T) {
	srv := openAIServer(t)
	defer srv.Close()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	cfg := openai.DefaultConfig("sk-test")
	cfg.BaseURL = srv.URL + "/v1"
	c := observe.NewOpenAI(openai.NewClientWithConfig(cfg))
	ctx := observe.WithSession(observe.WithTracerProvider(context.Background(), tp), "s-1")

	// Inside an app span, so the calls nest.
	_, err := observe.Do(ctx, "answer", observe.Chain, func(ctx context.Context) (string, error) {
		resp, err := c.CreateChatCompletion(ctx, openai.ChatCompletionRequest{Model: "gpt-4o-mini", Temperature: 0.2, MaxCompletionTokens: 50,
			Messages: []openai.ChatCompletionMessage{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "Capital of France?"}}})
		if err != nil || resp.Choices[0].Message.Content != "Paris." {
			return "", fmt.Errorf("chat: %v", err)
		}
		st, err := c.CreateChatCompletionStream(ctx, openai.ChatCompletionRequest{Model: "gpt-4o-mini", StreamOptions: &openai.StreamOptions{IncludeUsage: true},
			Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "again"}}})
		if err != nil {
			return "", err
		}
		var got strings.Builder
		for {
			r, err := st.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return "", err
			}
			for _, ch := range r.Choices {
				got.WriteString(ch.Delta.Content)
			}
		}
		st.Close()
		if got.String() != "Paris." {
			return "", fmt.Errorf("stream gave %q", got.String())
		}
		if _, err := c.CreateEmbeddings(ctx, openai.EmbeddingRequestStrings{Model: openai.SmallEmbedding3, Input: []string{"a", "b"}}); err != nil {
			return "", err
		}
		if _, err := c.CreateChatCompletion(ctx, openai.ChatCompletionRequest{Model: "gpt-4o-mini", Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "fail"}}}); err == nil {
			return "", errors.New("the failing call succeeded")
		}
		// A stream cancelled half way is recorded as far as it came.
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		st, err = c.CreateChatCompletionStream(cctx, openai.ChatCompletionRequest{Model: "gpt-4o-mini", Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "hang"}}})
		if err != nil {
			return "", err
		}
		if _, err := st.Recv(); err != nil {
			return "", err
		}
		cancel()
		for {
			if _, err := st.Recv(); err != nil {
				break
			}
		}
		st.Close()
		return "ok", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	spans := exp.GetSpans().Snapshots()
	if len(spans) != 6 {
		t.Fatalf("%d spans, want 6", len(spans))
	}
	var root sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == "answer" {
			root = s
		}
	}
	calls := []sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		if s.Name() != "answer" {
			if s.Parent().SpanID() != root.SpanContext().SpanID() {
				t.Errorf("%s is not under the app span", s.Name())
			}
			calls = append(calls, s)
		}
	}
	chat, stream, emb, failed, cut := calls[0], calls[1], calls[2], calls[3], calls[4]
	a := attrsOf(chat)
	if chat.Name() != "chat gpt-4o-mini" || a["gen_ai.operation.name"].AsString() != "chat" || a["gen_ai.usage.input_tokens"].AsInt64() != 1000 ||
		a["gen_ai.usage.output_tokens"].AsInt64() != 500 || a["output.value"].AsString() != "Paris." || a["gen_ai.request.max_tokens"].AsInt64() != 50 ||
		!strings.Contains(a["gen_ai.input.messages"].AsString(), "Capital of France?") || a["session.id"].AsString() != "s-1" {
		t.Errorf("chat span: %v", a)
	}
	// 1000 × $0.15/M + 500 × $0.60/M.
	if cost := a["cost_usd"].AsFloat64(); math.Abs(cost-0.00045) > 1e-12 {
		t.Errorf("cost %v, want 0.00045", cost)
	}
	s := attrsOf(stream)
	if s["output.value"].AsString() != "Paris." || s["gen_ai.usage.input_tokens"].AsInt64() != 11 || s["gen_ai.response.model"].AsString() != "gpt-4o-mini-2024-07-18" ||
		s["ttft_ms"].Type() != attribute.FLOAT64 || s["gen_ai.response.finish_reasons"].AsStringSlice()[0] != "stop" || stream.Status().Code == codes.Error {
		t.Errorf("stream span: %v %v", s, stream.Status())
	}
	e := attrsOf(emb)
	if e["openinference.span.kind"].AsString() != "EMBEDDING" || e["gen_ai.embeddings.count"].AsInt64() != 2 || e["gen_ai.usage.input_tokens"].AsInt64() != 8 {
		t.Errorf("embedding span: %v", e)
	}
	if failed.Status().Code != codes.Error || !strings.Contains(failed.Status().Description, "slow down") {
		t.Errorf("failed call: %v", failed.Status())
	}
	c5 := attrsOf(cut)
	if cut.Status().Code != codes.Error || c5["output.value"].AsString() != "Par" {
		t.Errorf("cancelled stream: %v %v", cut.Status(), c5)
	}
}
