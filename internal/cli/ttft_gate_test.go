package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTTFTGate: a gate on a ttft judge, as on a latency judge. The
// offline models stream at once, so a streamed variant passes; a variant
// that does not stream has no time to first token, its ttft scores are
// judge errors, and a min_pass_rate gate on them has nothing to pass.
func TestTTFTGate(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "data.jsonl"), []byte("{\"id\": \"a\", \"q\": \"1 + 1\"}\n{\"id\": \"b\", \"q\": \"2 + 3\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, params string
		code         int
		stderr       string
	}{
		{"streamed", "{stream: true}", ExitOK, ""},
		{"not streamed", "{}", ExitGateFailed, "gate failed: snappy: min_pass_rate 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".yaml")
			if err := os.WriteFile(spec, []byte(`name: ttft
dataset: {path: data.jsonl, id: id}
variants:
  - {name: v, model: offline/calc, prompt: "What is {{.example.q}}?", params: `+tc.params+`}
chain:
  - {name: solve, kind: llm}
judges:
  - {name: snappy, type: ttft, max_ms: 60000}
gates:
  - {judge: snappy, min_pass_rate: 1}
`), 0o644); err != nil {
				t.Fatal(err)
			}
			env, stdout, stderr := testEnv()
			code := Main(context.Background(), []string{"run", spec, "--out", filepath.Join(dir, "run-"+filepath.Base(spec))}, env)
			if code != tc.code || !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", code, tc.code, tc.stderr, stdout, stderr)
			}
		})
	}
}
