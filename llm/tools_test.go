package llm_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/llm/llmtest"
	"github.com/gavel-eval/gavel/traces"
)

// Tools travel in OpenAI's wire form: the request's tools, tool_choice and
// parallel_tool_calls, an agent's history (an assistant message with tool
// calls, tool messages with their call ids) and image parts; the reply's
// tool calls — parallel, with malformed arguments kept as written — come
// back the same, plain or streamed, and are recorded on the span.
func TestToolCallsOnTheWire(t *testing.T) {
	t.Parallel()
	seen := &seenRequests{}
	replyCalls := []llmtest.ToolCall{
		{ID: "call_1", Name: "get_weather", Arguments: `{"city": "Paris", "unit": "celsius"}`},
		{ID: "call_2", Name: "get_weather", Arguments: `{"city": "Rome", "unit":`}, // malformed
	}
	srv := llmtest.NewFaultServer(t, llmtest.FaultOptions{
		Reply: seen.reply(func(llmtest.ChatRequest) string { return "unused" }),
		ToolCalls: func(r llmtest.ChatRequest) []llmtest.ToolCall {
			if r.Messages[len(r.Messages)-1].Role == "tool" {
				return nil // answer in text after the results
			}
			return replyCalls
		},
	})
	r, err := llm.NewRouter(llm.Config{Local: local(), Getenv: env(nil),
		Providers: []llm.ProviderConfig{{Name: "local", Type: "openai", BaseURL: srv.URL()}}})
	if err != nil {
		t.Fatal(err)
	}
	tools := []llm.Tool{{Name: "get_weather", Description: "Weather of a city", Parameters: json.RawMessage(`{"type": "object", "properties": {"city": {"type": "string"}}}`)}, {Name: "ping"}}
	parallel := true
	req := llm.Request{Model: "local/m", Tools: tools,
		Params: llm.Params{ToolChoice: "auto", ParallelToolCalls: &parallel},
		Messages: []llm.Message{{Role: "user", Parts: []llm.Part{{Type: llm.PartText, Text: "Weather here?"},
			{Type: llm.PartImage, ImageURL: "data:image/png;base64,iVBORw0KGgo=", Detail: "low"}}}}}
	want := []llm.ToolCall{
		{ID: "call_1", Name: "get_weather", Arguments: `{"city": "Paris", "unit": "celsius"}`},
		{ID: "call_2", Name: "get_weather", Arguments: `{"city": "Rome", "unit":`},
	}
	for _, stream := range []bool{false, true} {
		req := req
		if stream {
			req = streamed(req)
		}
		rec := traces.NewRecorder("0af7651916cd43dd8448eb211c80319c", time.Now)
		ctx, root := traces.Start(traces.WithRecorder(context.Background(), rec), "root", traces.KindChain)
		resp, err := r.Chat(ctx, req)
		root.End(nil)
		if err != nil {
			t.Fatalf("stream %v: %v", stream, err)
		}
		if !reflect.DeepEqual(resp.ToolCalls, want) || resp.FinishReason != "tool_calls" || resp.Content != "" || resp.Usage.CompletionTokens <= 0 {
			t.Fatalf("stream %v: %+v", stream, resp)
		}
		var span traces.Span
		for _, s := range rec.Spans() {
			if s.Kind == traces.KindLLM {
				span = s
			}
		}
		if b, _ := json.Marshal(span.Attributes["tool_calls"]); !strings.Contains(string(b), `Rome`) || !strings.Contains(span.Output, "call_2") {
			t.Errorf("stream %v: span tool_calls %s, output %q", stream, b, span.Output)
		}
		if tl, _ := json.Marshal(span.Attributes["tools"]); string(tl) != `["get_weather","ping"]` {
			t.Errorf("span tools %s", tl)
		}
		// The image's bytes are not on the span: its type, size and hash are.
		if strings.Contains(span.Input, "iVBORw0KGgo") || !strings.Contains(span.Input, "image/png, 8 bytes, sha256:") {
			t.Errorf("span input %s", span.Input)
		}
	}
	got := seen.all()[0]
	for key, wantJSON := range map[string]string{
		"tool_choice":         `"auto"`,
		"parallel_tool_calls": `true`,
		"tools":               `[{"function":{"description":"Weather of a city","name":"get_weather","parameters":{"properties":{"city":{"type":"string"}},"type":"object"}},"type":"function"},{"function":{"name":"ping","parameters":{"properties":{},"type":"object"}},"type":"function"}]`,
	} {
		if b, _ := json.Marshal(got.Raw[key]); string(b) != wantJSON {
			t.Errorf("request %s = %s, want %s", key, b, wantJSON)
		}
	}
	if p := got.Messages[0].Parts; len(p) != 2 || p[1]["type"] != "image_url" || got.Messages[0].Content != "Weather here?" {
		t.Errorf("image parts on the wire: %+v", got.Messages[0])
	}

	// The loop's next turn: the history goes back as sent.
	next := req
	next.Messages = append(append([]llm.Message(nil), req.Messages...),
		llm.Message{Role: "assistant", ToolCalls: want},
		llm.Message{Role: "tool", ToolCallID: "call_1", Content: "18 C"},
		llm.Message{Role: "tool", ToolCallID: "call_2", Content: "error: arguments are not JSON"})
	resp, err := r.Chat(context.Background(), next)
	if err != nil || resp.Content != "unused" || resp.ToolCalls != nil {
		t.Fatalf("after the results: %+v %v", resp, err)
	}
	last := seen.all()[len(seen.all())-1]
	hist := last.Messages
	if len(hist) != 4 || len(hist[1].ToolCalls) != 2 || hist[1].ToolCalls[1].Arguments != `{"city": "Rome", "unit":` || hist[2].ToolCallID != "call_1" || hist[3].Content != "error: arguments are not JSON" {
		t.Errorf("history on the wire: %+v", hist)
	}
	if _, err := r.Chat(context.Background(), llm.Request{Model: "local/m", Params: llm.Params{ToolChoice: "required"}, Messages: []llm.Message{{Role: "user", Content: "x"}}}); err == nil || !strings.Contains(err.Error(), "offers no tools") {
		t.Errorf("tool_choice without tools: %v", err)
	}
}

// Tools are part of a call's cache key; a call without tools keeps the key
// it had.
func TestCacheKeyTools(t *testing.T) {
	base := llm.Request{Model: "local/m", Messages: []llm.Message{{Role: "user", Content: "x"}}}
	with := base
	with.Tools = []llm.Tool{{Name: "a"}}
	other := base
	other.Tools = []llm.Tool{{Name: "b"}}
	if llm.CacheKey(base) == llm.CacheKey(with) || llm.CacheKey(with) == llm.CacheKey(other) {
		t.Error("tools do not change the cache key")
	}
	// The key of a plain request, as stored by earlier versions.
	if got := llm.CacheKey(base); got != "chat:"+sha256Hex(`{"kind":"chat","model":"local/m","messages":[{"role":"user","content":"x"}],"params":{}}`) {
		t.Errorf("a request without tools has a new key: %s", got)
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
