package cli

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/eval/results"
)

// traceHeaders returns the "variant/example/epoch/status" of each trace
// header in a gavel traces output.
func traceHeaders(out string) []string {
	re := regexp.MustCompile(`(?m)^(\S+) · (\S+) · epoch (\d+) · \S+ · (ok|error) · trace [0-9a-f]{32}$`)
	var hs []string
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		hs = append(hs, m[1]+"/"+m[2]+"/"+m[3]+"/"+m[4])
	}
	return hs
}

func TestTraces(t *testing.T) {
	run := arithmeticRun(t, "--limit", "3")
	cases := []struct {
		name    string
		args    []string
		code    int
		headers []string
		want    []string // in stdout, or in stderr when code != 0
		notWant []string
	}{
		{name: "all", args: nil, code: ExitOK,
			headers: []string{"plain/q01/0/ok", "plain/q02/0/ok", "plain/q03/0/ok", "hinted/q01/0/ok", "hinted/q02/0/ok", "hinted/q03/0/ok",
				"hinted-hot/q01/0/ok", "hinted-hot/q02/0/ok", "hinted-hot/q03/0/ok"},
			want:    []string{"├─ arithmetic  chain  ", "│  ├─ solve  llm  ", "  ok  offline/calc  tokens ~", "│  └─ answer  parser  ", "├─ correct  judge  ", "  ok  numeric_match  score ", "└─ factual  judge  ", "   └─ factual  llm  "},
			notWant: []string{"more trace", "input:", "\x1b"}},
		{name: "limit", args: []string{"--limit", "2"}, code: ExitOK,
			headers: []string{"plain/q01/0/ok", "plain/q02/0/ok"},
			want:    []string{"… 7 more traces match (showing the first 2); see them all with --limit 0, or one example with --example ID"}},
		{name: "example", args: []string{"--example", "q02"}, code: ExitOK,
			headers: []string{"plain/q02/0/ok", "hinted/q02/0/ok", "hinted-hot/q02/0/ok"}},
		{name: "example honours an explicit limit", args: []string{"--example", "q02", "--limit", "1"}, code: ExitOK,
			headers: []string{"plain/q02/0/ok"}, want: []string{"… 2 more traces match (showing the first 1); see them all with --limit 0\n"}},
		{name: "example and variant, full", args: []string{"--example", "q02", "--variant", "hinted", "--full"}, code: ExitOK,
			headers: []string{"hinted/q02/0/ok"},
			want:    []string{"input:", "  system: You are a careful calculator.", "Hint: compute 48 - 29", "output: 19", "#### 19"}},
		{name: "variants", args: []string{"--variant", "hinted-hot", "--variant", "plain", "--epoch", "0"}, code: ExitOK,
			headers: []string{"plain/q01/0/ok", "plain/q02/0/ok", "plain/q03/0/ok", "hinted-hot/q01/0/ok", "hinted-hot/q02/0/ok", "hinted-hot/q03/0/ok"}},
		{name: "no errors", args: []string{"--errors"}, code: ExitOK, want: []string{"no matching trace has an error"}},
		{name: "other epoch", args: []string{"--epoch", "1"}, code: ExitOK, want: []string{"no matching traces"}},
		{name: "unknown example", args: []string{"--example", "q99"}, code: ExitError, want: []string{`no example "q99"`}},
		{name: "unknown variant", args: []string{"--variant", "hot"}, code: ExitError, want: []string{`no variant "hot" (variants: plain, hinted, hinted-hot)`}},
		{name: "negative limit", args: []string{"--limit", "-1"}, code: ExitError, want: []string{"must not be negative"}},
		{name: "negative epoch", args: []string{"--epoch", "-1"}, code: ExitError, want: []string{"--epoch must not be negative"}},
		{name: "narrow", args: []string{"--example", "q01", "--variant", "plain", "--width", "20"}, code: ExitOK,
			want: []string{"plain · q01 · epoch…\n", "├─ arithmetic  chai…\n"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env, stdout, stderr := testEnv()
			code := Main(context.Background(), append([]string{"traces", run}, c.args...), env)
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, stdout, stderr)
			}
			out := stdout.String()
			if c.code != ExitOK {
				out = stderr.String()
				if stdout.Len() != 0 {
					t.Errorf("stdout on error: %q", stdout)
				}
			}
			if c.headers != nil || c.code == ExitOK && len(c.want) == 0 {
				if got := traceHeaders(out); strings.Join(got, " ") != strings.Join(c.headers, " ") {
					t.Errorf("traces %v, want %v\n%s", got, c.headers, out)
				}
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range c.notWant {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
		})
	}

	t.Run("missing run", func(t *testing.T) {
		env, _, stderr := testEnv()
		if code := Main(context.Background(), []string{"traces", filepath.Join(t.TempDir(), "nope")}, env); code != ExitError {
			t.Errorf("exit %d, want %d", code, ExitError)
		}
		if !strings.Contains(stderr.String(), "manifest.json") {
			t.Errorf("stderr %q does not name the manifest", stderr)
		}
	})
	t.Run("color only on a terminal without NO_COLOR", func(t *testing.T) {
		for _, c := range []struct {
			tty     bool
			noColor string
			want    bool
		}{{false, "", false}, {true, "", true}, {true, "1", false}} {
			env, stdout, _ := testEnv()
			env.StdoutTTY = c.tty
			env.Getenv = func(k string) string {
				if k == "NO_COLOR" {
					return c.noColor
				}
				return ""
			}
			if code := Main(context.Background(), []string{"traces", run, "--example", "q01"}, env); code != ExitOK {
				t.Fatalf("exit %d", code)
			}
			if got := strings.Contains(stdout.String(), "\x1b[2m"); got != c.want {
				t.Errorf("tty %v, NO_COLOR %q: coloured %v, want %v", c.tty, c.noColor, got, c.want)
			}
		}
	})
}

// TestTracesErrors runs a chain whose extract step fails on some examples,
// one of which carries escape sequences in its question, and checks that
// --errors prints exactly the failed traces, with their errors, and that
// nothing from the dataset reaches the terminal raw.
func TestTracesErrors(t *testing.T) {
	dir := t.TempDir()
	data := `{"id": "a1", "question": "Add ten and two.", "expression": "10 + 2"}
{"id": "a2", "question": "\u001b[2J\u001b[31mAdd three\rand four.", "expression": "3 + 4"}
{"id": "a3", "question": "Take five from twenty.", "expression": "20 - 5"}
{"id": "a4", "question": "Double three.", "expression": "2 * 3"}
`
	spec := `name: failing
dataset: {path: data.jsonl, id: "{{.id}}"}
variants:
  - {name: v, model: offline/calc, prompt: "{{.example.question}}\nHint: compute {{.example.expression}}"}
chain:
  - {name: solve, kind: llm}
  - {name: answer, kind: extract, regex: "####\\s*(1\\d*)", required: true}
judges:
  - {name: shown, type: regex, pattern: "^1"}
`
	for name, text := range map[string]string{"data.jsonl": data, "gavel.yaml": spec} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := filepath.Join(dir, "run")
	env, _, stderr := testEnv()
	if code := Main(context.Background(), []string{"run", filepath.Join(dir, "gavel.yaml"), "--out", run}, env); code != ExitOK {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	var failed []string
	err := results.ReadResults(filepath.Join(run, results.ResultsFile), func(r results.Result) error {
		if r.Status == results.StatusError {
			failed = append(failed, r.Variant+"/"+r.ExampleID+"/0/error")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(failed, " ") != "v/a2/0/error v/a4/0/error" {
		t.Fatalf("failed results %v: the fixture no longer fails where this test expects", failed)
	}

	env, stdout, stderr := testEnv()
	if code := Main(context.Background(), []string{"traces", run, "--errors", "--full"}, env); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	out := stdout.String()
	if got := traceHeaders(out); strings.Join(got, " ") != strings.Join(failed, " ") {
		t.Errorf("traces %v, want the failed ones %v\n%s", got, failed, out)
	}
	for _, w := range []string{"└─ failing  chain  ", "   │  error: step answer: no match", "   └─ answer  parser  ", "         error: no match",
		`user: \u001b[2J\u001b[31mAdd three\rand four.`} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if strings.ContainsAny(out, "\x1b\r") {
		t.Errorf("a control character reached the output raw:\n%q", out)
	}

	// Without --errors, the traces that passed are there too.
	env, stdout, _ = testEnv()
	if code := Main(context.Background(), []string{"traces", run}, env); code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	if got := traceHeaders(stdout.String()); strings.Join(got, " ") != "v/a1/0/ok v/a2/0/error v/a3/0/ok v/a4/0/error" {
		t.Errorf("traces %v", got)
	}
}
