package cli

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/prompts"
)

const cliSolveFile = `# The arithmetic prompt.
name: solve
versions:
  - version: v1
    text: "Solve: {{.example.question}}"
    config: {model: openai/gpt-4o-mini, params: {temperature: 0}}
    note: first version
    author: alice
    created: 2026-11-01T10:00:00Z
  - version: v2
    messages:
      - {role: system, content: "You are a careful tutor."}
      - {role: user, content: "Solve: {{.example.question}}"}
    config: fast@production
labels:
  production: v1
`

const cliFastFile = `name: fast
versions:
  - {version: v1, model: openai/gpt-4o-mini, params: {temperature: 0, max_tokens: 256}}
labels:
  production: v1
`

// promptsDir writes a small registry and returns its folder.
func promptsDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "prompts")
	if err := os.MkdirAll(filepath.Join(dir, "configs"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"solve.yaml": cliSolveFile, "configs/fast.yaml": cliFastFile} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// runPrompts runs gavel prompts ARGS --dir dir and returns the exit code
// and outputs, dir written DIR.
func runPrompts(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	env, stdout, stderr := testEnv()
	env.Getenv = func(k string) string {
		if k == "USER" {
			return "tester"
		}
		return ""
	}
	code := Main(context.Background(), append(append([]string{"prompts"}, args...), "--dir", dir), env)
	clean := func(s string) string { return strings.ReplaceAll(s, dir, "DIR") }
	return code, clean(stdout.String()), clean(stderr.String())
}

// TestPromptsCommands runs a session of the prompts commands and compares
// what each prints with a golden file.
func TestPromptsCommands(t *testing.T) {
	dir := promptsDir(t)
	msgs := filepath.Join(t.TempDir(), "msgs.yaml")
	if err := os.WriteFile(msgs, []byte("- {role: system, content: You are a patient tutor.}\n- {role: user, content: \"Solve, then answer: {{.example.question}}\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, args := range [][]string{
		{"list"},
		{"show", "solve@production"},
		{"show", "solve"},
		{"diff", "solve@v1", "solve@v2"},
		{"new", "solve", "--from", "solve@v1", "--text", "Solve carefully: {{.example.question}}", "--note", "more care"},
		{"new", "solve", "--from", "solve@v2", "--messages-file", msgs, "--config", "fast@v1", "--author", "bob"},
		{"diff", "solve@v2", "v4"},
		{"diff", "solve@v1", "solve@v3", "--word-diff"},
		{"diff", "solve@v1", "solve@production"},
		{"label", "solve@v3", "production", "--note", "better on gsm8k"},
		{"label", "solve@v4", "staging", "--by", "carol"},
		{"label", "solve@v3", "production"},
		{"new", "answer", "--text", "The answer to {{.example.question}} is"},
		{"history", "solve"},
		{"list"},
		{"show", "solve@production", "--format", "json"},
		{"history", "solve", "--format", "json"},
	} {
		code, stdout, stderr := runPrompts(t, dir, args...)
		if code != ExitOK {
			t.Fatalf("gavel prompts %s: exit %d: %s", strings.Join(args, " "), code, stderr)
		}
		out.WriteString("$ gavel prompts " + strings.Join(args, " ") + "\n" + stdout)
	}
	golden(t, "prompts.golden", strings.ReplaceAll(out.String(), msgs, "MSGS"))
	r, err := prompts.Load(dir)
	if err != nil {
		t.Fatalf("the registry does not load after the commands: %v", err)
	}
	if v, _ := r.Get("solve", "production"); v.Version != "v3" {
		t.Errorf("production = %s", v.Ref())
	}
}

func TestPromptsErrors(t *testing.T) {
	dir := promptsDir(t)
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "solve.yaml"), []byte("name: solve\nversions:\n  - {version: v1, txt: x}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dir  string
		args []string
		want string
	}{
		{"unknown prompt", dir, []string{"show", "nope"}, `no prompt named "nope" in DIR (known: solve)`},
		{"unknown version", dir, []string{"show", "solve@v9"}, `solve has no version or label "v9" (versions: v1, v2; labels: production -> v1)`},
		{"bad file", bad, []string{"list"}, "DIR/solve.yaml:3:19: solve@v1: txt: unknown field"},
		{"label without version", dir, []string{"label", "solve", "production"}, "name the version to label as NAME@VERSION"},
		{"label like a version", dir, []string{"label", "solve@v1", "v3"}, "named like a version"},
		{"two texts", dir, []string{"new", "solve", "--text", "a", "--text-file", "f"}, "give one of --text"},
		{"same content", dir, []string{"new", "solve", "--from", "solve@v1"}, "same content as solve@v1"},
		{"new without text", dir, []string{"new", "other"}, "give its text or messages"},
		{"bad messages", dir, []string{"new", "solve", "--messages-file", "testdata/nope.yaml"}, "nope.yaml"},
		{"bad format", dir, []string{"list", "--format", "xml"}, `"xml": want one of text, json`},
		{"missing registry", filepath.Join(dir, "nothing"), []string{"show", "solve"}, "DIR/nothing does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runPrompts(t, tt.dir, tt.args...)
			if code != ExitError {
				t.Errorf("exit %d, want %d", code, ExitError)
			}
			want := strings.ReplaceAll(tt.want, "DIR", "DIR")
			if tt.dir == bad {
				stderr = strings.ReplaceAll(stderr, bad, "DIR")
			}
			if tt.name == "missing registry" {
				stderr = strings.ReplaceAll(stderr, "DIR", filepath.Join(dir, "nothing"))
				want = filepath.Join(dir, "nothing") + " does not exist"
			}
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr %q does not contain %q", stderr, want)
			}
		})
	}
}

// TestPromptsLabelCheck: the check seam sees the current and candidate
// versions, can refuse the move, and its run id lands in the history.
func TestPromptsLabelCheck(t *testing.T) {
	dir := promptsDir(t)
	run := func(check func(context.Context, *labelVersion, *labelVersion) (string, error)) error {
		env, _, _ := testEnv()
		cmd := newPromptsLabelCmd(env, func(ctx context.Context, env *Env, opts *promptsLabelOptions) error {
			opts.check = check
			return runPromptsLabel(ctx, env, opts)
		})
		cmd.Flags().String("dir", dir, "")
		cmd.SetArgs([]string{"solve@v2", "production"})
		cmd.SetOut(env.Stdout)
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		return cmd.ExecuteContext(context.Background())
	}
	refused := errors.New("solve@v2 is worse on correct")
	if err := run(func(_ context.Context, cur, cand *labelVersion) (string, error) {
		if cur.Ref() != "solve@v1" || cand.Ref() != "solve@v2" {
			t.Errorf("check saw %s -> %s", cur.Ref(), cand.Ref())
		}
		return "", refused
	}); !errors.Is(err, refused) || exitCode(err) != ExitError {
		t.Fatalf("a refused check: %v", err)
	}
	r, _ := prompts.Load(dir)
	if h, _ := r.History("solve"); len(h) != 0 {
		t.Fatalf("a refused move was written: %+v", h)
	}
	if err := run(func(context.Context, *labelVersion, *labelVersion) (string, error) { return "run-7", nil }); err != nil {
		t.Fatal(err)
	}
	r, _ = prompts.Load(dir)
	if h, _ := r.History("solve"); len(h) != 1 || h[0].Run != "run-7" || h[0].Version != "v2" {
		t.Errorf("history = %+v", h)
	}
}

func TestPromptsCompletion(t *testing.T) {
	dir := promptsDir(t)
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"show", "so"}, []string{"solve"}},
		{[]string{"show", "solve@"}, []string{"solve@production", "solve@v1", "solve@v2"}},
		{[]string{"diff", "solve@v1", "solve@p"}, []string{"solve@production"}},
		{[]string{"new", "solve", "--from", "solve@v"}, []string{"solve@v1", "solve@v2"}},
	} {
		env, stdout, stderr := testEnv()
		args := append([]string{"__complete", "prompts", "--dir", dir}, tt.args...)
		if code := Main(context.Background(), args, env); code != ExitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
		got := lines[:len(lines)-1] // the last line is the directive
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("completion of %v = %q, want %q", tt.args, got, tt.want)
		}
	}
}
