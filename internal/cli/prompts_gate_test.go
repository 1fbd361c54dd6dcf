package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/prompts"
)

// copyTree copies the files under src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The example's A/B run of solve@production (v1) against solve@v2 gates
// label moves: a move to the worse version is refused with exit 1 and
// the label stays, a move to the better one is made and records the run;
// a run that did not evaluate the candidate, or evaluated other text, or
// did not finish, is refused with exit 2.
func TestPromptsLabelRequireRun(t *testing.T) {
	root := t.TempDir()
	copyTree(t, "../../examples/prompts", filepath.Join(root, "prompts"))
	copyTree(t, "../../examples/arithmetic", filepath.Join(root, "arithmetic"))
	dir := filepath.Join(root, "prompts", "prompts")
	run := filepath.Join(root, "run")
	env, _, stderr := testEnv()
	if code := Main(context.Background(), []string{"run", filepath.Join(root, "prompts", "gavel.yaml"), "--out", run}, env); code != ExitOK {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	m, err := results.ReadManifest(run)
	if err != nil {
		t.Fatal(err)
	}
	labels := func() map[string]string {
		t.Helper()
		reg, err := prompts.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		p, err := reg.Prompt("solve")
		if err != nil {
			t.Fatal(err)
		}
		return p.Labels
	}

	if code, _, errOut := runPrompts(t, dir, "label", "solve@v2", "staging"); code != ExitOK {
		t.Fatalf("plain label: exit %d %s", code, errOut)
	}
	code, out, errOut := runPrompts(t, dir, "label", "solve@v1", "staging", "--require-run", run, "--gate", "max_drop:correct=0.05")
	if code != ExitGateFailed || !strings.Contains(out, "gate FAIL  correct: max_drop 0.05") || !strings.Contains(errOut, "the label stays where it is") {
		t.Fatalf("worse candidate: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if l := labels(); l["staging"] != "v2" {
		t.Fatalf("a refused move moved the label: %v", l)
	}

	code, out, errOut = runPrompts(t, dir, "label", "solve@v2", "production", "--require-run", run, "--gate", "max_drop:correct=0.05", "--note", "v2 wins")
	if code != ExitOK || !strings.Contains(out, "gate PASS  correct: max_drop 0.05") || !strings.Contains(out, "solve@production: v1 -> v2") {
		t.Fatalf("better candidate: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if l := labels(); l["production"] != "v2" {
		t.Fatalf("labels after the move: %v", l)
	}
	reg, err := prompts.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	hist, err := reg.History("solve")
	if err != nil {
		t.Fatal(err)
	}
	last := hist[len(hist)-1]
	if last.Label != "production" || last.Version != "v2" || last.Previous != "v1" || last.Run != m.RunID || last.Note != "v2 wins" {
		t.Fatalf("history entry %+v, want production v1 -> v2 with run %s", last, m.RunID)
	}

	// The spec's own gate (max_drop 0.05 on correct) is used when no flag
	// names one; --no-spec-gates with no flag leaves nothing to check.
	if code, _, errOut := runPrompts(t, dir, "label", "solve@v2", "canary", "--require-run", run); code != ExitOK {
		t.Fatalf("spec gates on a new label: exit %d %s", code, errOut)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no gates", []string{"label", "solve@v2", "beta", "--require-run", run, "--no-spec-gates"}, "no gates to check"},
		{"gates without a run", []string{"label", "solve@v2", "beta", "--max-drop", "0.1"}, "gates need --require-run"},
		{"bad gate", []string{"label", "solve@v2", "beta", "--require-run", run, "--gate", "max_dorp:correct=0.1"}, `unknown kind "max_dorp"`},
		{"not a run", []string{"label", "solve@v2", "beta", "--require-run", t.TempDir(), "--gate", "max_drop:correct=0.1"}, "--require-run"},
	} {
		code, _, errOut := runPrompts(t, dir, tc.args...)
		if code != ExitError || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", tc.name, code, errOut, tc.want)
		}
	}
	// A version the run did not evaluate.
	if code, _, errOut := runPrompts(t, dir, "new", "solve", "--from", "solve@v2", "--text", "v3 {{.example.question}}"); code != ExitOK {
		t.Fatalf("new: %d %s", code, errOut)
	}
	code, _, errOut = runPrompts(t, dir, "label", "solve@v3", "production", "--require-run", run, "--gate", "max_drop:correct=0.05")
	if code != ExitError || !strings.Contains(errOut, "no variant ran solve@v3 (the run's variants: production = solve@v1, candidate = solve@v2)") {
		t.Fatalf("unevaluated version: exit %d %s", code, errOut)
	}
	// A run whose text is not the registry's, and a run that did not
	// finish.
	for _, tc := range []struct {
		name string
		edit func(*results.Manifest)
		want string
	}{
		{"other text", func(m *results.Manifest) { m.Variants[1].Prompt.Hash = "sha256:00" }, "the run did not evaluate this text"},
		{"interrupted", func(m *results.Manifest) { m.Status = results.RunInterrupted }, "not completed"},
	} {
		bad := filepath.Join(t.TempDir(), "run")
		copyTree(t, run, bad)
		mm, err := results.ReadManifest(bad)
		if err != nil {
			t.Fatal(err)
		}
		tc.edit(mm)
		b, _ := json.Marshal(mm)
		if err := os.WriteFile(filepath.Join(bad, results.ManifestFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := runPrompts(t, dir, "label", "solve@v2", "beta", "--require-run", bad, "--gate", "max_drop:correct=0.05")
		if code != ExitError || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", tc.name, code, errOut, tc.want)
		}
	}
	if l := labels(); l["beta"] != "" {
		t.Fatalf("a refused move made a label: %v", l)
	}
}
