package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/eval/results"
)

// The shipped agent and conversation examples run offline, as the docs
// show them.
func TestToolAndConversationExamples(t *testing.T) {
	out := filepath.Join(t.TempDir(), "tools")
	code, stdout, stderr := gavelOut(t, "run", "../../examples/tools/gavel.yaml", "--out", out)
	if code != ExitOK {
		t.Fatalf("tools example: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, w := range []string{"80.0% (4/5)", "100.0% (5/5)", "corpus calls-f1 (tool_call_f1) for agent: 0.8333", "gate PASS  valid-args"} {
		if !strings.Contains(stdout+stderr, w) {
			t.Errorf("tools example output lacks %q:\n%s%s", w, stdout, stderr)
		}
	}
	calls := map[string]string{}
	if err := results.ReadResults(filepath.Join(out, results.ResultsFile), func(r results.Result) error {
		calls[r.ExampleID] = results.Deref(r.ToolCalls)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(calls["wrong-unit"], `"error":"arguments are not valid against the tool's schema`) || calls["no-tool"] != "" ||
		strings.Count(calls["convert"], `"name"`) != 2 {
		t.Errorf("tool_calls: %v", calls)
	}
	code, stdout, stderr = gavelOut(t, "run", "../../examples/conversation/gavel.yaml", "--out", filepath.Join(t.TempDir(), "conv"))
	if code != ExitOK || !strings.Contains(stdout, "100.0% (3/3)") {
		t.Errorf("conversation example: exit %d\n%s\n%s", code, stdout, stderr)
	}
}
