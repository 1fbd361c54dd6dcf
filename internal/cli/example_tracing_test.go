package cli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/report/traffic"
	"github.com/gavel-eval/gavel/traces"
)

// The example application examples/tracing/faqbot (its own module, on
// observe and the traced OpenAI client) sends its spans to gavel collect:
// each question is an answer chain holding a search retriever and an llm
// call with the GenAI model, tokens and cost; a question nothing matches
// is a failed trace. gavel traces reads them back as the trace table.
func TestExampleTracingApp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example module (-short skips it)")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the example")
	}
	bin := filepath.Join(t.TempDir(), "faqbot")
	build := exec.Command(gobin, "build", "-o", bin, ".")
	build.Dir = filepath.Join("..", "..", "examples", "tracing", "faqbot")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the example: %v\n%s", err, out)
	}

	out := filepath.Join(t.TempDir(), "traffic")
	env, _, stderr := testEnv()
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	done := make(chan error, 1)
	opts := &collectOptions{addr: "127.0.0.1:0", out: out, maxBody: 4 << 20, rollRows: 10000, rollEvery: time.Hour, ready: func(u string) { urls <- u }}
	go func() { done <- runCollect(ctx, env, opts) }()
	var url string
	select {
	case url = <-urls:
	case err := <-done:
		t.Fatalf("collect ended: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("collect did not start")
	}
	app := exec.Command(bin, "-otlp", url+"/v1/traces", "-user", "alice", "-session", "s1",
		"When do you open?", "How much is shipping?", "Tell me about unicorns")
	app.Env = append(os.Environ(), "OPENAI_BASE_URL=", "OPENAI_API_KEY=")
	appOut, err := app.CombinedOutput()
	if err == nil || !strings.Contains(string(appOut), "we open at 9:00") || !strings.Contains(string(appOut), "1 of 3 questions failed") {
		t.Fatalf("faqbot: %v\n%s", err, appOut)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("collect: %v\n%s", err, stderr)
	}

	files, err := traffic.SpanFiles(out)
	if err != nil {
		t.Fatal(err)
	}
	byTrace := map[string][]traces.Record{}
	for _, f := range files {
		if err := traces.ReadFile(f, func(r traces.Record) error {
			byTrace[r.TraceID] = append(byTrace[r.TraceID], r)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if len(byTrace) != 3 {
		t.Fatalf("%d traces, want one per question", len(byTrace))
	}
	failed := 0
	for id, spans := range byTrace {
		byName := map[string]traces.Record{}
		for _, s := range spans {
			byName[s.Name] = s
			if s.Variant != "faqbot" || s.Attributes["user_id"] != "alice" || s.Attributes["session_id"] != "s1" {
				t.Errorf("trace %s span %s: service %q, attributes %v", id, s.Name, s.Variant, s.Attributes)
			}
		}
		answer, search := byName["answer"], byName["search"]
		if answer.Kind != traces.KindChain || answer.ParentID != "" || search.Kind != traces.KindRetriever || search.ParentID != answer.SpanID {
			t.Errorf("trace %s: answer %+v search %+v", id, answer.Span, search.Span)
		}
		if answer.Status == traces.StatusError {
			failed++
			if len(spans) != 2 || !strings.Contains(search.Error, "no passage matches") {
				t.Errorf("failed trace %s: %d spans, search error %q", id, len(spans), search.Error)
			}
			continue
		}
		var chat *traces.Record
		for _, s := range spans {
			if s.Kind == traces.KindLLM {
				chat = &s
			}
		}
		if len(spans) != 3 || chat == nil || chat.ParentID != answer.SpanID || chat.Attributes["model"] != "gpt-4o-mini" {
			t.Fatalf("trace %s: %d spans, llm span %+v", id, len(spans), chat)
		}
		if p, _ := chat.Attributes["prompt_tokens"].(float64); p <= 0 {
			t.Errorf("trace %s: prompt tokens %v", id, chat.Attributes["prompt_tokens"])
		}
		if c, _ := chat.Attributes["cost_usd"].(float64); c <= 0 {
			t.Errorf("trace %s: cost %v", id, chat.Attributes["cost_usd"])
		}
	}
	if failed != 1 {
		t.Errorf("%d failed traces, want 1", failed)
	}
	code, table, errOut := gavelOut(t, "traces", out)
	if code != ExitOK || !strings.Contains(table, "3 traces matched") || !strings.Contains(table, "1 with errors") || !strings.Contains(table, "gpt-4o-mini") {
		t.Errorf("gavel traces: %d %s\n%s", code, errOut, table)
	}
}
