package eval_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/eval"
)

// specPos returns "line:col" (1-based) of the first occurrence of needle in
// text, found by scanning the text itself.
func specPos(t *testing.T, text, needle string) string {
	t.Helper()
	if strings.Count(text, needle) != 1 {
		t.Fatalf("needle %q occurs %d times in the spec", needle, strings.Count(text, needle))
	}
	for i, line := range strings.Split(text, "\n") {
		if c := strings.Index(line, needle); c >= 0 {
			return fmt.Sprintf("%d:%d", i+1, c+1)
		}
	}
	t.Fatalf("needle %q spans lines", needle)
	return ""
}

const specHead = `name: t
dataset: {path: d.jsonl}
`

func TestParseSpecErrors(t *testing.T) {
	t.Parallel()
	const variant = "variants:\n  - {name: a, model: offline/echo, prompt: \"hi\"}\n"
	const chain = "chain:\n  - {name: s, kind: llm}\n"
	cases := []struct {
		name string
		spec string
		// at is the text whose position the error must name; want are
		// substrings of the message (after "gavel.yaml:L:C: ").
		at   string
		want []string
	}{
		{
			name: "unknown top-level key",
			spec: specHead + variant + chain + "gatez: []\n",
			at:   "gatez",
			want: []string{"gatez: unknown field (known: ", "chain, concurrency, dataset, description, example_timeout, gates, judges, limits, name, prices, prices_file, prompts_dir, providers, repeat, retry, score, shard, store_images, timeout, variants)"},
		},
		{
			name: "unknown key in a variant",
			spec: specHead + "variants:\n  - {name: a, model: offline/echo, prompt: \"hi\", temprature: 0}\n" + chain,
			at:   "temprature",
			want: []string{"variants[0].temprature: unknown field (known: config, model, name, params, prompt, tools, vars)"},
		},
		{
			name: "unknown key in variant params",
			spec: specHead + "variants:\n  - name: a\n    model: offline/echo\n    prompt: hi\n    params: {temperature: 0, top_k: 3}\n" + chain,
			at:   "top_k",
			want: []string{"variants[0].params.top_k: unknown field (known: frequency_penalty, logprobs, max_tokens, n, parallel_tool_calls, presence_penalty, response_format, seed, stop, stream, temperature, tool_choice, top_logprobs, top_p)"},
		},
		{
			name: "unknown judge option",
			spec: specHead + variant + chain + "judges:\n  - {name: j, type: regex, patern: \"x\"}\n",
			at:   "patern",
			want: []string{"judges[0].patern: unknown field (known: aggregate, expected, full_match, ignore_case, name, pattern, per_turn, repeats, scale, turn_aggregate, type)"},
		},
		{
			name: "unknown judge type",
			spec: specHead + variant + chain + "judges:\n  - {name: j, type: fuzzy_match}\n",
			at:   "fuzzy_match",
			want: []string{`judges[0].type: unknown judge type "fuzzy_match"`, "equals", "numeric_match"},
		},
		{
			name: "judge without type",
			spec: specHead + variant + chain + "judges:\n  - {name: j, expected: x}\n",
			at:   "{name: j, expected",
			want: []string{"judges[0].type: missing (one of ", "regex"},
		},
		{
			name: "unknown step kind",
			spec: specHead + variant + "chain:\n  - {name: s, kind: llmm}\n",
			at:   "llmm",
			want: []string{`chain[0].kind: unknown step kind "llmm" (one of llm, template, extract, http, exec, agent)`},
		},
		{
			name: "duplicate key",
			spec: specHead + "name: u\n" + variant + chain,
			at:   "name: u",
			want: []string{"name: duplicate field"},
		},
		{
			name: "unknown key in a step",
			spec: specHead + variant + "chain:\n  - {name: s, kind: llm}\n  - {name: x, kind: extract, regex: a, grup: 1}\n",
			at:   "grup",
			want: []string{"chain[1].grup: unknown field (known: first, from, group, json_path, kind, name, regex, required)"},
		},
		{
			name: "wrong type",
			spec: specHead + "concurrency: \"lots\"\n" + variant + chain,
			at:   `"lots"`,
			want: []string{`concurrency: expected an integer, got "lots"`},
		},
		{
			name: "wrong type in a list",
			spec: specHead + variant + "chain:\n  - {name: s, kind: exec, command: [a, {b: c}]}\n",
			at:   "{b: c}",
			want: []string{"chain[0].command[1]: expected a string, got a mapping"},
		},
		{
			name: "bad duration",
			spec: specHead + "timeout: 5 minutes\n" + variant + chain,
			at:   "5 minutes",
			want: []string{`timeout: invalid duration "5 minutes"`},
		},
		{
			name: "missing dataset path",
			spec: "name: t\ndataset: {format: jsonl}\n" + variant + chain,
			at:   "{format: jsonl}",
			want: []string{"dataset.path: missing"},
		},
		{
			name: "duplicate variant names",
			spec: specHead + "variants:\n  - {name: a, model: offline/echo, prompt: \"hi\"}\n  - {name: a, model: offline/calc, prompt: \"hi\"}\n" + chain,
			at:   "{name: a, model: offline/calc",
			want: []string{`variants[1].name: duplicate variant "a" (also variants[0])`},
		},
		{
			name: "llm step with no model",
			spec: specHead + "variants:\n  - {name: a, prompt: \"hi\"}\n" + chain,
			at:   "{name: s, kind: llm}",
			want: []string{"chain[0].model: no model: set it on the step or on variants[0] (a)"},
		},
		{
			name: "llm step with no prompt",
			spec: specHead + "variants:\n  - {name: a, model: offline/echo}\n" + chain,
			at:   "{name: s, kind: llm}",
			want: []string{"chain[0].prompt: no prompt"},
		},
		{
			name: "extract with regex and json_path",
			spec: specHead + variant + "chain:\n  - {name: s, kind: llm}\n  - {name: x, kind: extract, regex: a, json_path: $.a}\n",
			at:   "{name: x, kind: extract",
			want: []string{"chain[1]: set exactly one of regex or json_path"},
		},
		{
			name: "gate naming an unknown judge",
			spec: specHead + variant + chain + "judges:\n  - {name: j, type: equals, value: x}\ngates:\n  - {judge: nope, min_pass_rate: 0.8}\n",
			at:   "{judge: nope",
			want: []string{`gates[0].judge: no judge named "nope"`},
		},
		{
			name: "unknown prompt role",
			spec: specHead + "variants:\n  - name: a\n    model: offline/echo\n    prompt:\n      - {role: robot, content: hi}\n" + chain,
			at:   "{role: robot",
			want: []string{`variants[0].prompt[0].role: unknown role "robot"`},
		},
		{
			name: "http step url scheme",
			spec: specHead + variant + "chain:\n  - {name: h, kind: http, url: \"ftp://x\"}\n",
			at:   "{name: h",
			want: []string{`chain[0].url: "ftp://x": must start with http:// or https://`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := eval.ParseSpec([]byte(tc.spec), "gavel.yaml", eval.LoadOptions{})
			if err == nil {
				t.Fatalf("no error for\n%s", tc.spec)
			}
			msg := err.Error()
			prefix := "spec gavel.yaml:" + specPos(t, tc.spec, tc.at) + ": "
			if !strings.HasPrefix(msg, prefix) {
				t.Errorf("error %q does not start with %q", msg, prefix)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			var fe *eval.FieldError
			if !errors.As(err, &fe) || fe.File != "gavel.yaml" || fe.Line == 0 || fe.Column == 0 {
				t.Errorf("error %#v is not a *FieldError with a position", err)
			}
		})
	}
}

func TestParseSpecInvalidYAML(t *testing.T) {
	t.Parallel()
	for _, text := range []string{
		"name: [unclosed\n",
		"\tname: tab\n",
		"a: b: c\n",
	} {
		_, err := eval.ParseSpec([]byte(text), "bad.yaml", eval.LoadOptions{})
		if err == nil || !strings.Contains(err.Error(), "bad.yaml") || !strings.Contains(err.Error(), "invalid YAML") {
			t.Errorf("ParseSpec(%q) = %v, want an invalid YAML error naming the file", text, err)
		}
	}
}

// TestRunCompileErrors covers spec errors found when the run compiles the
// spec: they name the spec, the step and the variant.
func TestRunCompileErrors(t *testing.T) {
	t.Parallel()
	data := jsonl(t, []map[string]any{{"id": "1", "q": "x"}})
	cases := []struct {
		name, spec string
		want       []string
	}{
		{
			name: "bad regex in an extract step",
			spec: specHead + "variants:\n  - {name: a, model: offline/echo, prompt: hi}\nchain:\n  - {name: s, kind: llm}\n  - {name: ans, kind: extract, regex: \"(unclosed\"}\n",
			want: []string{"gavel.yaml", "chain[1] (ans) for variant a", "regex", "missing closing )"},
		},
		{
			name: "llm step with an unknown provider",
			spec: specHead + "variants:\n  - {name: a, model: nope/m1, prompt: hi}\nchain:\n  - {name: s, kind: llm}\n",
			want: []string{"gavel.yaml", "chain[0] (s) for variant a", `unknown provider "nope"`, "offline, openai"},
		},
		{
			name: "unknown offline model",
			spec: specHead + "variants:\n  - {name: a, model: offline/gpt, prompt: hi}\nchain:\n  - {name: s, kind: llm}\n",
			want: []string{"chain[0] (s) for variant a", `unknown offline model "gpt"`},
		},
		{
			name: "bad template",
			spec: specHead + "variants:\n  - {name: a, model: offline/echo, prompt: \"{{.example.q\"}\nchain:\n  - {name: s, kind: llm}\n",
			want: []string{"gavel.yaml:4:45: variants[0].prompt: template: unclosed action"},
		},
		{
			name: "bad judge configuration",
			spec: specHead + "variants:\n  - {name: a, model: offline/echo, prompt: hi}\njudges:\n  - {name: n, type: numeric_match, tolerance: -1}\n",
			want: []string{"gavel.yaml:6: judges[0]: tolerance: must be a finite number"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sr := newSpecRun(t, tc.spec, map[string]string{"d.jsonl": data})
			_, err := sr.run(t.Context(), eval.Options{})
			if err == nil {
				t.Fatal("Run succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestRunDatasetErrors(t *testing.T) {
	t.Parallel()
	srv := newFakeOpenAI(t, func(chatRequest) fakeReply { return fakeReply{Content: "#### 1"} })
	spec := specHead[:len("name: t\n")] + `dataset: {path: d.jsonl, id: "{{.id}}"}
providers:
  local: {base_url: "` + srv.BaseURL() + `", api_key_env: TEST_KEY}
variants:
  - {name: a, model: local/m1, prompt: "{{.example.q}} (hint: {{.example.hint}})"}
chain:
  - {name: s, kind: llm}
`
	t.Run("malformed row", func(t *testing.T) {
		data := `{"id": "e1", "q": "1", "hint": "h"}
{"id": "e2", "q": "2", "hint": "h"}
{"id": "e3", "q": 3, "hint": }
`
		sr := newSpecRun(t, spec, map[string]string{"d.jsonl": data})
		_, err := sr.run(t.Context(), eval.Options{Getenv: testGetenv})
		want := "dataset " + filepath.Join(sr.dir, "d.jsonl") + " line 3"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Run error = %v, want one containing %q", err, want)
		}
	})
	t.Run("template field missing on one row", func(t *testing.T) {
		data := `{"id": "e1", "q": "1", "hint": "h"}
{"id": "e2", "q": "2", "hint": "h"}
{"id": "e3", "q": "3", "hint": "h"}
{"id": "e4", "q": "4"}
{"id": "e5", "q": "5", "hint": "h"}
`
		sr := newSpecRun(t, spec, map[string]string{"d.jsonl": data})
		out, err := sr.run(t.Context(), eval.Options{Getenv: testGetenv})
		if err == nil {
			t.Fatal("Run succeeded")
		}
		for _, w := range []string{filepath.Join(sr.dir, "d.jsonl") + " line 4", "example e4", "variant a", "step s", "hint"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not contain %q", err, w)
			}
		}
		if out != nil {
			t.Errorf("Run returned an outcome %+v for a run that must not start", out)
		}
	})
	t.Run("dataset file missing", func(t *testing.T) {
		sr := newSpecRun(t, spec, nil)
		_, err := sr.run(t.Context(), eval.Options{Getenv: testGetenv})
		if err == nil || !strings.Contains(err.Error(), "d.jsonl") {
			t.Errorf("Run error = %v, want one naming d.jsonl", err)
		}
	})
	// None of these runs may have called the model.
	if n := srv.requests.Load(); n != 0 {
		t.Errorf("the model server saw %d requests, want 0", n)
	}
}
