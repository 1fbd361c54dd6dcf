package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// complete runs cobra's hidden completion command and returns the
// suggestions (without the directive line).
func complete(t *testing.T, args ...string) []string {
	t.Helper()
	env, stdout, stderr := testEnv()
	if code := Main(context.Background(), append([]string{"__complete"}, args...), env); code != ExitOK {
		t.Fatalf("__complete %v: exit %d %s", args, code, stderr)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if !strings.HasPrefix(l, ":") {
			out = append(out, strings.SplitN(l, "\t", 2)[0])
		}
	}
	return out
}

func TestDynamicCompletion(t *testing.T) {
	run := filepath.Join(t.TempDir(), "run")
	env, _, stderr := testEnv()
	if code := Main(context.Background(), []string{"run", "../../examples/arithmetic/gavel.yaml", "--out", run, "--limit", "2"}, env); code != ExitOK {
		t.Fatalf("run: %d %s", code, stderr)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"compare", run, "--a", ""}, "plain hinted hinted-hot"},
		{[]string{"compare", run, "--b", "hi"}, "hinted hinted-hot"},
		{[]string{"compare", run, "--max-drop", "c"}, "correct="},
		{[]string{"report", run, "--format", ""}, "text markdown json junit html"},
		{[]string{"plan", "--format", ""}, "text json"},
		{[]string{"run", "x.yaml", "--cache", ""}, "rw ro off replay"},
		{[]string{"schema", ""}, "spec prompt config"},
	} {
		if got := strings.Join(complete(t, tc.args...), " "); got != tc.want {
			t.Errorf("complete %q = %q, want %q", tc.args, got, tc.want)
		}
	}
}
