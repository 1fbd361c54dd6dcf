package eval_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gavel-eval/gavel/eval"
	"github.com/gavel-eval/gavel/llm"
)

// TestDryRunTokenCounts checks the counts reliability.md promises for a
// dry run: the prompt tokens of an openai/... model counted with its
// tokenizer, other models' prompts estimated at about four bytes a token
// plus 4 a message, completions of max_tokens or 256, and an LLM judge's
// call assumed to be 656 prompt and 100 completion tokens.
func TestDryRunTokenCounts(t *testing.T) {
	dir := t.TempDir()
	// Long words and digits: the tokenizer's count is far from bytes/4.
	questions := []string{
		"What is 123456789 times 987654321? Antidisestablishmentarianism.",
		"Name the internationalization and localization conventions, then 2+2.",
	}
	data := ""
	for i, q := range questions {
		data += `{"id": "q` + string(rune('0'+i)) + `", "question": "` + q + `"}` + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "data.jsonl"), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := `name: dry
dataset: {path: data.jsonl, id: id}
providers:
  local: {base_url: "http://127.0.0.1:9/v1"}
variants:
  - {name: openai, model: openai/gpt-4o-mini, prompt: "Q: {{.example.question}}", params: {max_tokens: 50}}
  - {name: local, model: local/m, prompt: "Q: {{.example.question}}"}
chain:
  - {name: solve, kind: llm}
judges:
  - {name: polite, type: llm_rubric, model: openai/gpt-4o-mini, rubric: "The reply is polite."}
`
	path := filepath.Join(dir, "gavel.yaml")
	if err := os.WriteFile(path, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := eval.LoadSpec(path, eval.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	est, err := eval.DryRun(context.Background(), s, eval.Options{Getenv: func(string) string { return "" }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var tokenizer, estimate int
	for _, q := range questions {
		msgs := []llm.Message{{Role: "user", Content: "Q: " + q}}
		n, ok := llm.CountPromptTokens("openai/gpt-4o-mini", msgs)
		if !ok {
			t.Fatal("openai/gpt-4o-mini has no tokenizer")
		}
		tokenizer += n
		estimate += (len(msgs[0].Content)+3)/4 + 4
	}
	if tokenizer == estimate {
		t.Fatalf("the prompts count %d tokens both ways: the test cannot tell the tokenizer from the estimate", tokenizer)
	}
	if len(est.Variants) != 2 || est.Examples != 2 {
		t.Fatalf("estimate %+v: want 2 variants over 2 examples", est)
	}
	for _, tt := range []struct {
		got  eval.CallEstimate
		name string
		// want prompt and completion tokens
		prompt, completion int64
	}{
		{est.Variants[0], "openai", int64(tokenizer), 2 * 50},
		{est.Variants[1], "local", int64(estimate), 2 * 256},
	} {
		if tt.got.Name != tt.name || tt.got.Calls != 2 || tt.got.PromptTokens != tt.prompt || tt.got.CompletionTokens != tt.completion {
			t.Errorf("variant %s: %+v; want 2 calls, %d prompt and %d completion tokens", tt.name, tt.got, tt.prompt, tt.completion)
		}
	}
	// 2 examples × 2 variants = 4 results, one judge call each.
	if len(est.Judges) != 1 || est.Judges[0].Calls != 4 || est.Judges[0].PromptTokens != 4*656 || est.Judges[0].CompletionTokens != 4*100 {
		t.Errorf("judges %+v; want one with 4 calls of 656 prompt and 100 completion tokens", est.Judges)
	}
}
