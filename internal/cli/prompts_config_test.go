package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/prompts"
	"github.com/gavel-eval/gavel/report"
)

// TestConfigCommands runs a session of the config commands and compares
// what each prints with a golden file.
func TestConfigCommands(t *testing.T) {
	dir := promptsDir(t)
	params := filepath.Join(t.TempDir(), "params.yaml")
	if err := os.WriteFile(params, []byte("temperature: 0\nseed: 7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, args := range [][]string{
		{"config", "list"},
		{"config", "show", "fast@production"},
		{"config", "new", "fast", "--param", "temperature=0.2", "--note", "warmer"},
		{"config", "new", "fast", "--from", "fast@v1", "--model", "openai/gpt-4o", "--param", "max_tokens=", "--param", "stop=[END]", "--author", "bob"},
		{"config", "new", "long", "--extends", "fast@production", "--param", "max_tokens=2048"},
		{"config", "new", "calc", "--model", "offline/calc", "--params-file", params},
		{"config", "show", "long"},
		{"config", "diff", "fast@v1", "v2"},
		{"config", "diff", "fast@v1", "fast@v3", "--word-diff"},
		{"config", "diff", "fast@production", "long"},
		{"config", "diff", "fast@v1", "fast@production"},
		{"config", "label", "fast@v2", "production", "--note", "warmer is better"},
		{"config", "label", "fast@v3", "staging", "--by", "carol"},
		{"config", "label", "fast@v2", "production"},
		{"show", "solve@v2"},
		{"config", "history", "fast"},
		{"config", "history", "calc"},
		{"config", "list"},
		{"config", "show", "long", "--format", "json"},
		{"config", "diff", "fast@v1", "v2", "--format", "json"},
		{"config", "history", "fast", "--format", "json"},
	} {
		code, stdout, stderr := runPrompts(t, dir, args...)
		if code != ExitOK {
			t.Fatalf("gavel prompts %s: exit %d: %s", strings.Join(args, " "), code, stderr)
		}
		out.WriteString("$ gavel prompts " + strings.Join(args, " ") + "\n" + stdout)
	}
	golden(t, "configs.golden", strings.ReplaceAll(out.String(), params, "PARAMS"))
	r, err := prompts.Load(dir)
	if err != nil {
		t.Fatalf("the registry does not load after the commands: %v", err)
	}
	if c, _ := r.ResolveConfig("fast@production"); c.Version != "v2" {
		t.Errorf("fast@production = %s", c.Ref())
	}
}

func TestConfigErrors(t *testing.T) {
	dir := promptsDir(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown config", []string{"config", "show", "nope"}, `no config named "nope" in DIR/configs (known: fast)`},
		{"unknown version", []string{"config", "show", "fast@v9"}, `fast has no version or label "v9" (versions: v1; labels: production -> v1)`},
		{"same content", []string{"config", "new", "fast", "--param", "temperature=0"}, "same content as fast@latest"},
		{"new without model", []string{"config", "new", "other", "--note", "x"}, "give its model"},
		{"bad param", []string{"config", "new", "fast", "--param", "temperature"}, "--param: param \"temperature\": want KEY=VALUE"},
		{"bad params file", []string{"config", "new", "fast", "--params-file", "testdata/nope.yaml"}, "nope.yaml"},
		{"extends cycle", []string{"config", "new", "fast", "--extends", "fast"}, "a cycle of config references"},
		{"unknown extends", []string{"config", "new", "fast", "--extends", "slow@v1"}, `no config named "slow"`},
		{"label without version", []string{"config", "label", "fast", "production"}, "prompts config label: \"fast\": name the version to label as NAME@VERSION"},
		{"label like a version", []string{"config", "label", "fast@v1", "v3"}, "named like a version"},
		{"gates without a run", []string{"config", "label", "fast@v1", "beta", "--max-drop", "0.1"}, "prompts config label: gates need --require-run"},
		{"bad format", []string{"config", "list", "--format", "xml"}, `"xml": want one of text, json`},
		{"history of nothing", []string{"config", "history", "slow"}, `no config named "slow"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runPrompts(t, dir, tt.args...)
			if code != ExitError || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, ExitError, tt.want)
			}
		})
	}
}

func TestConfigCompletion(t *testing.T) {
	dir := promptsDir(t)
	if code, _, stderr := runPrompts(t, dir, "config", "new", "fresh", "--model", "m"); code != ExitOK {
		t.Fatal(stderr)
	}
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"config", "show", "f"}, []string{"fast", "fresh"}},
		{[]string{"config", "show", "fast@"}, []string{"fast@production", "fast@v1"}},
		{[]string{"config", "diff", "fast@v1", "fast@p"}, []string{"fast@production"}},
		{[]string{"config", "label", "fr"}, []string{"fresh"}},
		{[]string{"config", "new", "x", "--extends", "fast@"}, []string{"fast@production", "fast@v1"}},
		{[]string{"config", "new", "x", "--from", "fre"}, []string{"fresh"}},
		{[]string{"config", "history", "so"}, nil}, // prompts are not configs
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

// configSpec is an A/B evaluation of two versions of the model config
// fast, with the same prompt.
const configSpec = `name: fast-configs
dataset: {path: problems.jsonl, id: "{{.id}}"}
variants:
  - name: cold
    config: fast@v1
    prompt:
      - {role: system, content: 'You are a careful calculator. End with "#### <answer>".'}
      - {role: user, content: "{{.example.question}}\nHint: compute {{.example.expression}}"}
  - name: hot
    config: fast@v2
    prompt:
      - {role: system, content: 'You are a careful calculator. End with "#### <answer>".'}
      - {role: user, content: "{{.example.question}}\nHint: compute {{.example.expression}}"}
chain:
  - {name: solve, kind: llm}
  - {name: answer, kind: extract, regex: "####\\s*(-?[\\d,.]+)"}
judges:
  - {name: correct, type: numeric_match, expected: "{{.example.answer}}"}
`

// An A/B run of fast@v1 (the offline model at temperature 0) against
// fast@v2 (temperature 0.8, seeded) gates config label moves as the
// run's numbers say: a move to the version with the lower pass rate
// fails its gates with exit 1 and the label stays; a move to the other
// passes and records the run. A run that did not evaluate the candidate
// config, or evaluated another config under its name, exits 2.
func TestConfigLabelRequireRun(t *testing.T) {
	root := t.TempDir()
	b, err := os.ReadFile("../../examples/arithmetic/problems.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"problems.jsonl": b, "gavel.yaml": []byte(configSpec)} {
		if err := os.WriteFile(filepath.Join(root, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(root, "prompts")
	for _, args := range [][]string{
		{"config", "new", "fast", "--model", "offline/calc", "--param", "temperature=0", "--note", "greedy"},
		{"config", "new", "fast", "--param", "temperature=0.8", "--param", "seed=7", "--note", "warmer"},
	} {
		if code, _, errOut := runPrompts(t, dir, args...); code != ExitOK {
			t.Fatalf("%v: exit %d %s", args, code, errOut)
		}
	}
	run := filepath.Join(root, "run")
	env, _, stderr := testEnv()
	if code := Main(context.Background(), []string{"run", filepath.Join(root, "gavel.yaml"), "--out", run}, env); code != ExitOK {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	m, err := results.ReadManifest(run)
	if err != nil {
		t.Fatal(err)
	}
	// What the numbers say: the pass rate of correct per variant.
	rep, err := report.ForRun(run, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rate := map[string]float64{}
	for _, v := range rep.Variants {
		for _, j := range v.Judges {
			if j.Judge == "correct" && j.PassRate != nil {
				rate[v.Variant] = *j.PassRate
			}
		}
	}
	better, worse := "fast@v1", "fast@v2"
	if rate["hot"] > rate["cold"] {
		better, worse = worse, better
	}
	lo, hi := min(rate["cold"], rate["hot"]), max(rate["cold"], rate["hot"])
	if hi-lo < 0.2 {
		t.Fatalf("the variants' pass rates (%v) are too close for this test to say which version a gate keeps out", rate)
	}
	mid := fmt.Sprintf("%.3f", (lo+hi)/2)
	labels := func() map[string]string {
		t.Helper()
		reg, err := prompts.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		c, err := reg.Config("fast")
		if err != nil {
			t.Fatal(err)
		}
		return c.Labels
	}

	if code, _, errOut := runPrompts(t, dir, "config", "label", better, "production"); code != ExitOK {
		t.Fatalf("plain label: exit %d %s", code, errOut)
	}
	if code, _, errOut := runPrompts(t, dir, "config", "label", worse, "staging"); code != ExitOK {
		t.Fatalf("plain label: exit %d %s", code, errOut)
	}
	// The worse version against the better one: the drop is large and
	// significant, and its pass rate is under the midpoint.
	for _, gate := range []string{"max_drop:correct=0.05", "min_pass_rate:correct=" + mid} {
		code, out, errOut := runPrompts(t, dir, "config", "label", worse, "production", "--require-run", run, "--gate", gate)
		if code != ExitGateFailed || !strings.Contains(out, "gate FAIL  correct: ") || !strings.Contains(out, "against "+better) || !strings.Contains(errOut, "the label stays where it is") {
			t.Errorf("worse candidate, %s: exit %d\nstdout:\n%s\nstderr:\n%s", gate, code, out, errOut)
		}
	}
	if l := labels(); l["production"] != strings.TrimPrefix(better, "fast@") {
		t.Fatalf("a refused move moved the label: %v", l)
	}
	// The better version against the worse one passes both.
	code, out, errOut := runPrompts(t, dir, "config", "label", better, "staging", "--require-run", run, "--gate", "max_drop:correct=0.05", "--gate", "min_pass_rate:correct="+mid, "--note", "greedy wins")
	if code != ExitOK || strings.Count(out, "gate PASS  correct: ") != 2 || !strings.Contains(out, "fast@staging: "+strings.TrimPrefix(worse, "fast@")+" -> "+strings.TrimPrefix(better, "fast@")) {
		t.Fatalf("better candidate: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	reg, err := prompts.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	hist, err := reg.ConfigHistory("fast")
	if err != nil {
		t.Fatal(err)
	}
	if last := hist[len(hist)-1]; last.Label != "staging" || "fast@"+last.Version != better || last.Run != m.RunID || last.Note != "greedy wins" {
		t.Fatalf("history entry %+v, want staging -> %s with run %s", last, better, m.RunID)
	}
	// A new label is checked on the candidate alone.
	code, out, _ = runPrompts(t, dir, "config", "label", worse, "canary", "--require-run", run, "--gate", "min_pass_rate:correct="+mid)
	if code != ExitGateFailed || !strings.Contains(out, "alone (the label is new)") {
		t.Errorf("a new label on the worse version: exit %d\n%s", code, out)
	}

	// A version the run did not evaluate, and a run whose config is not
	// the registry's.
	if code, _, errOut := runPrompts(t, dir, "config", "new", "fast", "--param", "temperature=0.5"); code != ExitOK {
		t.Fatalf("new: %d %s", code, errOut)
	}
	code, _, errOut = runPrompts(t, dir, "config", "label", "fast@v3", "production", "--require-run", run, "--gate", "max_drop:correct=0.05")
	if code != ExitError || !strings.Contains(errOut, "no variant ran fast@v3 (the run's variants: cold = fast@v1, hot = fast@v2)") {
		t.Fatalf("unevaluated version: exit %d %s", code, errOut)
	}
	bad := filepath.Join(t.TempDir(), "run")
	copyTree(t, run, bad)
	mm, err := results.ReadManifest(bad)
	if err != nil {
		t.Fatal(err)
	}
	mm.Variants[0].Config.Hash = "sha256:00"
	data, _ := json.Marshal(mm)
	if err := os.WriteFile(filepath.Join(bad, results.ManifestFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runPrompts(t, dir, "config", "label", "fast@v1", "beta", "--require-run", bad, "--gate", "max_drop:correct=0.05")
	if code != ExitError || !strings.Contains(errOut, "variant cold ran fast@v1 with content hash sha256:00") || !strings.Contains(errOut, "the run did not evaluate this config") {
		t.Errorf("another config: exit %d %s", code, errOut)
	}
	if l := labels(); l["beta"] != "" || l["canary"] != "" {
		t.Fatalf("a refused move made a label: %v", l)
	}
}
