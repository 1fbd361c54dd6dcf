package eval_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gavel-eval/gavel/eval"
	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/llm/llmtest"
	"github.com/gavel-eval/gavel/traces"
)

// recordingServer answers "ok" and keeps the requests.
func recordingServer(t *testing.T) (*llmtest.FaultServer, func() []llmtest.ChatRequest) {
	var mu sync.Mutex
	var seen []llmtest.ChatRequest
	srv := llmtest.NewFaultServer(t, llmtest.FaultOptions{Reply: func(r llmtest.ChatRequest) string {
		mu.Lock()
		seen = append(seen, r)
		mu.Unlock()
		return "ok"
	}})
	return srv, func() []llmtest.ChatRequest {
		mu.Lock()
		defer mu.Unlock()
		return append([]llmtest.ChatRequest(nil), seen...)
	}
}

func convSpec(url, prompt, extra string) string {
	return `name: conv
dataset: {path: data.jsonl, id: "{{.id}}"}
providers:
  local: {base_url: "` + url + `"}
` + extra + `variants:
  - name: a
    model: local/m
    prompt: ` + prompt + `
`
}

// A dataset's messages are the chat history, as stored: spliced between
// templated messages, or the whole prompt; an assistant's tool calls and
// the tool's results go with them.
func TestConversationFromTheDataset(t *testing.T) {
	srv, seen := recordingServer(t)
	history := `[{"role": "user", "content": "Hi, I need a flight."}, {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "search", "arguments": "{\"to\": \"Oslo\"}"}}]}, {"role": "tool", "tool_call_id": "c1", "content": "2 flights"}, {"role": "assistant", "content": "I found 2 flights."}]`
	data := `{"id": "e1", "history": ` + history + `, "followup": "The cheaper one, please."}` + "\n"
	sr := newSpecRun(t, convSpec(srv.URL(), `[{role: system, content: "Be brief."}, {messages: example.history}, {role: user, content: "{{.example.followup}}"}]`, ""),
		map[string]string{"data.jsonl": data})
	run := sr.mustRun(t.Context(), eval.Options{})
	if r := run.results[0]; r.Status != results.StatusOK {
		t.Fatalf("%s %v", r.Status, deref(r.Error))
	}
	m := seen()[0].Messages
	roles := []string{}
	for _, x := range m {
		roles = append(roles, x.Role)
	}
	if strings.Join(roles, ",") != "system,user,assistant,tool,assistant,user" || m[1].Content != "Hi, I need a flight." ||
		len(m[2].ToolCalls) != 1 || m[2].ToolCalls[0].Arguments != `{"to": "Oslo"}` || m[3].ToolCallID != "c1" || m[5].Content != "The cheaper one, please." {
		t.Errorf("messages sent: %+v", m)
	}

	// The history alone.
	sr = newSpecRun(t, convSpec(srv.URL(), `{messages: example.history}`, ""), map[string]string{"data.jsonl": data})
	sr.mustRun(t.Context(), eval.Options{})
	if m := seen()[1].Messages; len(m) != 4 || m[3].Content != "I found 2 flights." {
		t.Errorf("history alone: %+v", m)
	}
}

// A messages field that is not a list of role/content objects is an error
// naming the dataset line, before any call.
func TestConversationBadMessages(t *testing.T) {
	srv, seen := recordingServer(t)
	for _, c := range []struct{ field, want string }{
		{`"just text"`, `field "history" is not a list of {role, content} messages`},
		{`[{"role": "user", "content": "a"}, 7]`, `message 2 is not a {role, content} object`},
		{`[{"role": "robot", "content": "a"}]`, `message 1: role robot`},
		{`[{"role": "user", "content": {"x": 1}}]`, `content is not text or a list of parts`},
	} {
		sr := newSpecRun(t, convSpec(srv.URL(), `{messages: example.history}`, ""),
			map[string]string{"data.jsonl": `{"id": "ok", "history": [{"role": "user", "content": "fine"}]}` + "\n" + `{"id": "bad", "history": ` + c.field + `}` + "\n"})
		_, err := sr.run(t.Context(), eval.Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("%s: %v, want %q at line 2", c.field, err, c.want)
		}
	}
	if n := len(seen()); n != 0 {
		t.Errorf("%d calls made", n)
	}
	for _, spec := range []struct{ prompt, want string }{
		{`{messages: history}`, `want example.FIELD`},
		{`[{messages: example.h, role: user}]`, `takes no other key`},
		{`[{role: user, content: [{type: video, url: x}]}]`, `unknown field`},
		{`[{role: user, content: [{type: image_url}]}]`, `image_url: missing`},
	} {
		sr := newSpecRun(t, convSpec(srv.URL(), spec.prompt, ""), map[string]string{"data.jsonl": `{"id": "e"}` + "\n"})
		if _, err := sr.run(t.Context(), eval.Options{}); err == nil || !strings.Contains(err.Error(), spec.want) {
			t.Errorf("%s: %v, want %q", spec.prompt, err, spec.want)
		}
	}
}

// 1×1 PNG.
var pngBytes, _ = base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")

// Image parts: a local file is sent as a data URL, base64 too, URLs as
// they are; the span keeps the media type, size and hash, not the bytes,
// unless store_images; an unreadable path is an error before any call.
func TestImageParts(t *testing.T) {
	srv, seen := recordingServer(t)
	b64 := base64.StdEncoding.EncodeToString(pngBytes)
	prompt := `[{role: user, content: [{type: text, text: "What is this?"}, {type: image_url, image_url: "{{.example.image}}", detail: low}]}]`
	data := `{"id": "file", "image": "img/dot.png"}` + "\n" + `{"id": "b64", "image": "` + b64 + `"}` + "\n" + `{"id": "url", "image": "https://example.com/cat.jpg"}` + "\n"
	sr := newSpecRun(t, convSpec(srv.URL(), prompt, ""), map[string]string{"data.jsonl": data})
	if err := os.MkdirAll(filepath.Join(sr.dir, "img"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sr.dir, "img", "dot.png"), pngBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	run := sr.mustRun(t.Context(), eval.Options{Concurrency: 1})
	urls := map[string]string{}
	for _, r := range seen() {
		p := r.Messages[0].Parts
		if len(p) != 2 || r.Messages[0].Content != "What is this?" {
			t.Fatalf("parts %+v", r.Messages[0])
		}
		img := p[1]["image_url"].(map[string]any)
		if img["detail"] != "low" {
			t.Errorf("detail %v", img["detail"])
		}
		urls[img["url"].(string)[:10]] = img["url"].(string)
	}
	want := "data:image/png;base64," + b64
	if urls["data:image"] != want || urls["https://ex"] != "https://example.com/cat.jpg" || len(urls) != 2 {
		t.Errorf("image URLs sent: %v", urls)
	}
	for _, r := range run.results {
		for _, s := range run.spansOf(r.TraceID) {
			if s.Kind == traces.KindLLM && r.ExampleID != "url" && (strings.Contains(s.Input, b64) || !strings.Contains(s.Input, "image/png, 70 bytes, sha256:")) {
				t.Errorf("%s: llm span input %s", r.ExampleID, s.Input)
			}
		}
	}
	// store_images: true keeps them.
	sr2 := newSpecRun(t, convSpec(srv.URL(), prompt, "store_images: true\n"), map[string]string{"data.jsonl": `{"id": "b64", "image": "` + b64 + `"}` + "\n"})
	run = sr2.mustRun(t.Context(), eval.Options{})
	for _, s := range run.spansOf(run.results[0].TraceID) {
		if s.Kind == traces.KindLLM && !strings.Contains(s.Input, b64) {
			t.Errorf("store_images: the span lacks the image")
		}
	}
	// A path to a file that is not an image is refused, not sent.
	before := len(seen())
	if err := os.WriteFile(filepath.Join(sr.dir, "secret.txt"), []byte("API_KEY=sk-not-for-the-model"), 0o644); err != nil {
		t.Fatal(err)
	}
	sr4 := newSpecRun(t, convSpec(srv.URL(), prompt, ""), map[string]string{"data.jsonl": `{"id": "leak", "image": "` + filepath.Join(sr.dir, "secret.txt") + `"}` + "\n"})
	if _, err := sr4.run(t.Context(), eval.Options{}); err == nil || !strings.Contains(err.Error(), "not an image") {
		t.Errorf("a text file as an image: %v", err)
	}
	// An unreadable path.
	sr3 := newSpecRun(t, convSpec(srv.URL(), prompt, ""), map[string]string{"data.jsonl": `{"id": "gone", "image": "img/missing.png"}` + "\n"})
	if _, err := sr3.run(t.Context(), eval.Options{}); err == nil || !strings.Contains(err.Error(), "image img/missing.png") || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("missing image: %v", err)
	}
	if len(seen()) != before {
		t.Error("a call was made")
	}
}
