package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// countingServer is an OpenAI-compatible chat server that answers "ok"
// and counts the requests it gets.
func countingServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m1",
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
				"message": map[string]any{"role": "assistant", "content": `{"reason": "fine", "pass": true, "score": 1}`}}},
			"usage": map[string]any{"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
		})
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// writeSpec writes files into a new directory and returns the path of
// its gavel.yaml.
func writeSpec(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "gavel.yaml")
}

const preflightData = `{"id": "1", "q": "a", "answer": "ok", "out": "ok"}
{"id": "2", "q": "b", "answer": "ok", "out": "ox"}
`

// TestPreflightUsageErrors: every bad input the flags name is a usage
// error (exit 2) with a clear message, found before any model call.
func TestPreflightUsageErrors(t *testing.T) {
	srv, calls := countingServer(t)
	spec := writeSpec(t, map[string]string{
		"d.jsonl": preflightData,
		"gavel.yaml": `name: pf
dataset: {path: d.jsonl, id: "{{.id}}"}
providers:
  local: {base_url: "` + srv.URL + `/v1"}
variants:
  - {name: a, model: local/m1, prompt: "{{.example.q}}"}
score: {output: out}
judges:
  - {name: same, type: equals, expected: "{{.example.answer}}"}
  - {name: rubric, type: llm_rubric, model: local/m1, rubric: "is it ok"}
`,
	})
	in := filepath.Join(filepath.Dir(spec), "d.jsonl")
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"run: unknown format", []string{"run", spec, "--format", "pdf=x.pdf"},
			[]string{`unknown report format "pdf"`, "text, markdown, json, junit, html"}},
		{"run: format without its file", []string{"run", spec, "--format", "json="}, []string{"name the file"}},
		{"run: gate on an unknown judge", []string{"run", spec, "--max-drop", "nojudge=0.1"},
			[]string{`--max-drop nojudge=0.1: no judge named "nojudge" (judges: same, rubric)`}},
		{"run: min-pass-rate on an unknown judge", []string{"run", spec, "--min-pass-rate", "Same=0.5"}, []string{`no judge named "Same"`}},
		{"run: error-rate gate on an unknown judge", []string{"run", spec, "--max-error-rate", "nope=0.5"}, []string{`no judge named "nope"`}},
		{"run: bad baseline", []string{"run", spec, "--baseline", filepath.Join(t.TempDir(), "nope")}, []string{"--baseline"}},
		{"score: unknown format", []string{"score", "--spec", spec, "--input", in, "--format", "pdf"},
			[]string{`unknown report format "pdf"`}},
		{"score: gate on an unknown judge", []string{"score", "--spec", spec, "--input", in, "--max-drop", "nojudge=0.1"},
			[]string{`no judge named "nojudge"`}},
		{"score: gate on a judge not selected", []string{"score", "--spec", spec, "--input", in, "--judge", "same", "--min-pass-rate", "rubric=0.5"},
			[]string{`no judge named "rubric" (judges: same)`}},
		{"report: unknown format", []string{"report", filepath.Join(t.TempDir(), "nope"), "--format", "pdf"}, []string{`unknown report format "pdf"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, stdout, stderr := testEnv()
			out := filepath.Join(t.TempDir(), "run")
			args := tt.args
			if args[0] != "report" {
				args = append(args, "--out", out)
			}
			code := Main(context.Background(), args, env)
			if code != ExitError {
				t.Errorf("exit %d, want %d\nstderr: %s", code, ExitError, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr %q does not contain %q", stderr, w)
				}
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a run directory was created: %v (stdout %s)", err, stdout)
			}
		})
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("the model server saw %d requests, want 0", n)
	}
}

// gateLines returns the gate results of a JSON report file.
func gateLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Gates []struct {
			Gate, Variant string
			Passed        bool
		}
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, g := range r.Gates {
		out = append(out, g.Gate+" on "+g.Variant)
	}
	return out
}

// TestGatesOnceAndBareMaxDrop: a gate in the spec given again as a flag is
// checked once (the flag's threshold), and a bare --max-drop gates every
// pass/fail judge.
func TestGatesOnceAndBareMaxDrop(t *testing.T) {
	spec := writeSpec(t, map[string]string{
		"d.jsonl": preflightData,
		"gavel.yaml": `name: once
dataset: {path: d.jsonl, id: "{{.id}}"}
variants:
  - {name: a, model: offline/echo, prompt: "{{.example.out}}"}
  - {name: b, model: offline/echo, prompt: "{{.example.answer}}"}
judges:
  - {name: same, type: equals, expected: "{{.example.answer}}"}
  - {name: close, type: levenshtein, expected: "{{.example.answer}}"}
gates:
  - {judge: same, min_pass_rate: 0.4, max_drop: 0.5}
`,
	})
	js := filepath.Join(t.TempDir(), "r.json")
	env, _, stderr := testEnv()
	code := Main(context.Background(), []string{"run", spec, "--out", filepath.Join(t.TempDir(), "run"),
		"--min-pass-rate", "same=0.4", "--max-drop", "same=0.5", "--max-drop", "0.02", "--format", "json=" + js}, env)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got := strings.Join(gateLines(t, js), "\n")
	want := "same: min_pass_rate 0.4 on b\nsame: max_drop 0.5 on b"
	if got != want {
		t.Errorf("gates:\n%s\nwant each once, the bare max_drop leaving same to its own and close (graded) alone:\n%s", got, want)
	}
	// With the spec's gates ignored, the bare --max-drop gates the
	// pass/fail judge only.
	env, _, stderr = testEnv()
	code = Main(context.Background(), []string{"run", spec, "--out", filepath.Join(t.TempDir(), "run"), "--no-spec-gates",
		"--max-drop", "0.02", "--format", "json=" + js}, env)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := strings.Join(gateLines(t, js), "\n"); got != "same: max_drop 0.02 on b" {
		t.Errorf("bare --max-drop gates: %q, want only same's", got)
	}
}

// TestScoreGatesAndFormats: gavel score takes gavel run's gate and format
// flags, so that offline scoring gates CI in one command; a row with a
// null output is a result error unless --strict.
func TestScoreGatesAndFormats(t *testing.T) {
	spec := writeSpec(t, map[string]string{
		"d.jsonl": preflightData + `{"id": "3", "answer": "ok", "out": null}
`,
		"gavel.yaml": `name: sc
dataset: {id: id}
score: {output: out}
judges:
  - {name: same, type: equals, expected: "{{.example.answer}}"}
gates:
  - {judge: same, min_pass_rate: 0.3}
`,
	})
	in := filepath.Join(filepath.Dir(spec), "d.jsonl")
	dir := t.TempDir()
	js, md := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.md")
	env, stdout, stderr := testEnv()
	out := filepath.Join(dir, "run")
	code := Main(context.Background(), []string{"score", "--spec", spec, "--input", in, "--out", out,
		"--min-pass-rate", "same=0.9", "--max-error-rate", "0.5", "--format", "json=" + js, "--format", "markdown=" + md}, env)
	if code != ExitGateFailed {
		t.Fatalf("exit %d, want %d (a failed gate)\nstderr: %s", code, ExitGateFailed, stderr)
	}
	if !strings.Contains(stdout.String(), "3 results (1 errors") {
		t.Errorf("summary does not count the null row as an error result:\n%s", stdout)
	}
	if got := strings.Join(gateLines(t, js), "\n"); got != "same: min_pass_rate 0.9 on output\nmax_error_rate 0.5 on output" {
		t.Errorf("gates %q", got)
	}
	if !strings.Contains(stderr.String(), "gate failed: same: min_pass_rate 0.9 on output") {
		t.Errorf("stderr lacks the failed gate: %s", stderr)
	}
	if b, err := os.ReadFile(md); err != nil || !strings.Contains(string(b), "Gates") {
		t.Errorf("markdown report: %v %q", err, b)
	}
	// The spec's gate alone passes: exit 0.
	env, _, stderr = testEnv()
	if code := Main(context.Background(), []string{"score", "--spec", spec, "--input", in, "--out", filepath.Join(dir, "run2")}, env); code != ExitOK {
		t.Errorf("exit %d: %s", code, stderr)
	}
	// --strict stops at the null row: exit 2, naming the file and line.
	env, _, stderr = testEnv()
	code = Main(context.Background(), []string{"score", "--strict", "--spec", spec, "--input", in, "--out", filepath.Join(dir, "run3")}, env)
	if code != ExitError || !strings.Contains(stderr.String(), in+" line 3") || !strings.Contains(stderr.String(), ".example.out is null or missing") {
		t.Errorf("--strict: exit %d, stderr %s", code, stderr)
	}
}

// TestScoreJudgeSelectionKeepsItsGates: with --judge, the spec's gates on
// the judges left out are not checked (they would have no scores).
func TestScoreJudgeSelectionKeepsItsGates(t *testing.T) {
	spec := writeSpec(t, map[string]string{
		"d.jsonl": preflightData,
		"gavel.yaml": `name: sel
dataset: {id: id}
score: {output: out}
judges:
  - {name: same, type: equals, expected: "{{.example.answer}}"}
  - {name: long, type: regex, pattern: "^.{5,}$"}
gates:
  - {judge: same, min_pass_rate: 0.5}
  - {judge: long, min_pass_rate: 0.5}
`,
	})
	in := filepath.Join(filepath.Dir(spec), "d.jsonl")
	env, _, stderr := testEnv()
	if code := Main(context.Background(), []string{"score", "--spec", spec, "--input", in, "--out", filepath.Join(t.TempDir(), "r")}, env); code != ExitGateFailed {
		t.Errorf("all judges: exit %d, want %d (long fails)\n%s", code, ExitGateFailed, stderr)
	}
	env, _, stderr = testEnv()
	if code := Main(context.Background(), []string{"score", "--spec", spec, "--input", in, "--judge", "same", "--out", filepath.Join(t.TempDir(), "r")}, env); code != ExitOK {
		t.Errorf("--judge same: exit %d, want 0\n%s", code, stderr)
	}
	if strings.Contains(stderr.String(), "long") {
		t.Errorf("a gate of the judge left out was checked:\n%s", stderr)
	}
}
