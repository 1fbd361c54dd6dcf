package eval_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/eval"
	"github.com/gavel-eval/gavel/eval/results"
)

// nullRows is a scored file whose second row has a null output and whose
// third has none at all.
const nullRows = `{"id": "r1", "answer": "4", "ref": "4"}
{"id": "r2", "answer": null, "ref": "6"}
{"id": "r3", "ref": "8"}
{"id": "r4", "answer": "9", "ref": "10"}
`

const nullScoreSpec = `name: nulls
dataset: {id: id}
score: {output: answer}
judges:
  - {name: same, type: equals, expected: "{{.example.ref}}"}
`

// TestScoreNullOutputIsAResultError: a row whose output is null or missing
// is stored as a result with status error and the reason; every row has a
// result and the others are judged.
func TestScoreNullOutputIsAResultError(t *testing.T) {
	t.Parallel()
	sr := newSpecRun(t, nullScoreSpec, map[string]string{"out.jsonl": nullRows})
	s, err := eval.LoadSpec(sr.path, eval.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := eval.Score(t.Context(), s, eval.ScoreOptions{Input: filepath.Join(sr.dir, "out.jsonl"), Options: eval.Options{Out: filepath.Join(t.TempDir(), "run")}})
	if err != nil {
		t.Fatalf("Score: %v", err)
	}
	run := readStoredRun(t, out.Dir)
	if len(run.results) != 4 {
		t.Fatalf("%d results stored, want one per input row (4)", len(run.results))
	}
	byID := run.resultMap(t)
	for _, id := range []string{"r2", "r3"} {
		r := byID[resultKey{"output", id, 0}]
		if r.Status != results.StatusError || r.Error == nil || !strings.Contains(*r.Error, `output field "answer"`) || !strings.Contains(*r.Error, "answer") {
			t.Errorf("%s: status %q, error %v; want status error naming the output field", id, r.Status, deref(r.Error))
		}
		if r.Output != "" || strings.Contains(r.Output, "<no value>") {
			t.Errorf("%s: output %q, want none", id, r.Output)
		}
		if sc := run.scoresOf("output", id, 0)["same"]; sc.Status != results.ScoreSkipped {
			t.Errorf("%s: score status %q, want skipped", id, sc.Status)
		}
	}
	if r := byID[resultKey{"output", "r1", 0}]; r.Status != results.StatusOK || r.Output != "4" {
		t.Errorf("r1: %q %q, want ok and 4", r.Status, r.Output)
	}
	if sc := run.scoresOf("output", "r1", 0)["same"]; sc.Pass == nil || !*sc.Pass {
		t.Errorf("r1 not judged a pass: %+v", sc)
	}
	if run.manifest.Totals.Results != 4 || run.manifest.Totals.Errors != 2 {
		t.Errorf("totals %+v, want 4 results and 2 errors", run.manifest.Totals)
	}
}

// TestScoreNullOutputStrict: with Strict, the first row with a null output
// fails the whole input before anything is scored, naming the file, the
// line and the field.
func TestScoreNullOutputStrict(t *testing.T) {
	t.Parallel()
	sr := newSpecRun(t, nullScoreSpec, map[string]string{"out.jsonl": nullRows})
	s, err := eval.LoadSpec(sr.path, eval.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	out, err := eval.Score(t.Context(), s, eval.ScoreOptions{Strict: true, Input: filepath.Join(sr.dir, "out.jsonl"), Options: eval.Options{Out: dir}})
	if err == nil || out != nil {
		t.Fatalf("Score = %v, %v; want an error and no run", out, err)
	}
	for _, w := range []string{filepath.Join(sr.dir, "out.jsonl") + " line 2", "example r2", ".example.answer is null or missing"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}

func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// TestTemplateParseErrorPosition: a template that does not parse is a spec
// error at the file, line and column of its unclosed action, wherever the
// template is and whatever its YAML style.
func TestTemplateParseErrorPosition(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, spec, at, path string
	}{
		{
			name: "inline prompt",
			spec: specHead + "variants:\n  - {name: a, model: offline/echo, prompt: \"Q: {{.example.q}} {{.example.q\"}\n",
			at:   "{{.example.q\"}", path: "variants[0].prompt",
		},
		{
			name: "block prompt message",
			spec: specHead + "variants:\n  - name: a\n    model: offline/echo\n    prompt:\n      - role: system\n        content: hi\n      - role: user\n        content: |\n          line one {{.example.q}}\n          and {{ .example.q | upper\n",
			at:   "{{ .example.q | upper", path: "variants[0].prompt[1].content",
		},
		{
			name: "template step",
			spec: specHead + "variants:\n  - {name: a, model: offline/echo, prompt: hi}\nchain:\n  - {name: s, kind: llm}\n  - {name: t, kind: template, template: 'x {{.input'}\n",
			at:   "{{.input'", path: "chain[1].template",
		},
		{
			name: "judge expected",
			spec: specHead + "variants:\n  - {name: a, model: offline/echo, prompt: hi}\njudges:\n  - {name: j, type: equals, expected: \"{{.example.answer\"}\n",
			at:   "{{.example.answer\"", path: "judges[0].expected",
		},
		{
			name: "judge's own template",
			spec: specHead + "variants:\n  - {name: a, model: offline/echo, prompt: hi}\njudges:\n  - name: j\n    type: llm_rubric\n    model: offline/judge\n    rubric: |\n      Is {{.output}} right\n      given {{.expected\n",
			at:   "{{.expected", path: "judges[0]",
		},
		{
			name: "score output template",
			spec: "name: t\nscore: {output: \"{{.example.a | trim\"}\n",
			at:   "{{.example.a | trim", path: "score.output",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := jsonl(t, []map[string]any{{"q": "x", "answer": "y"}})
			sr := newSpecRun(t, tc.spec, map[string]string{"d.jsonl": data})
			_, err := sr.run(t.Context(), eval.Options{})
			if err == nil {
				t.Fatal("the spec was accepted")
			}
			want := "spec " + sr.path + ":" + specPos(t, tc.spec, tc.at) + ": " + tc.path + ": "
			if !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "unclosed action") {
				t.Errorf("error\n  %q\nwant it to start with\n  %q\nand say unclosed action", err, want)
			}
		})
	}
}

// TestRunNullFieldFoundBeforeAnyCall: a JSON null used by a prompt or an
// expected template stops the run before the first model call, naming the
// field, the dataset file and line; default says what to send instead.
func TestRunNullFieldFoundBeforeAnyCall(t *testing.T) {
	t.Parallel()
	srv := newFakeOpenAI(t, func(chatRequest) fakeReply { return fakeReply{Content: "ok"} })
	head := "name: t\ndataset: {path: d.jsonl, id: \"{{.id}}\"}\nproviders:\n  local: {base_url: \"" + srv.BaseURL() + "\", api_key_env: TEST_KEY}\n"
	data := `{"id": "e1", "q": "1", "ctx": "c", "ref": "r"}
{"id": "e2", "q": "2", "ctx": "c", "ref": "r"}
{"id": "e3", "q": "3", "ctx": null, "ref": null}
`
	cases := []struct {
		name, rest string
		want       []string
	}{
		{
			name: "prompt",
			rest: "variants:\n  - {name: a, model: local/m1, prompt: \"{{.example.q}} {{.example.ctx}}\"}\n",
			want: []string{" line 3", "example e3", "variant a", "step llm", ".example.ctx is null or missing", `{{default "" .example.ctx}}`},
		},
		{
			name: "judge expected",
			rest: "variants:\n  - {name: a, model: local/m1, prompt: \"{{.example.q}}\"}\njudges:\n  - {name: j, type: equals, expected: \"{{.example.ref}}\"}\n",
			want: []string{" line 3", "example e3", "judge j", ".example.ref is null or missing"},
		},
		{
			name: "dataset expected",
			rest: "variants:\n  - {name: a, model: local/m1, prompt: \"{{.example.q}}\"}\n",
			want: []string{" line 3", "dataset.expected", ".example.ref is null or missing"},
		},
	}
	for _, tc := range cases {
		spec := head + tc.rest
		if tc.name == "dataset expected" {
			spec = strings.Replace(spec, `id: "{{.id}}"}`, `id: "{{.id}}", expected: "{{.example.ref}}"}`, 1)
		}
		sr := newSpecRun(t, spec, map[string]string{"d.jsonl": data})
		out, err := sr.run(t.Context(), eval.Options{Getenv: testGetenv})
		if err == nil || out != nil {
			t.Errorf("%s: Run = %v, %v; want an error before the run", tc.name, out, err)
			continue
		}
		for _, w := range append(tc.want, filepath.Join(sr.dir, "d.jsonl")) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", tc.name, err, w)
			}
		}
	}
	if n := srv.requests.Load(); n != 0 {
		t.Fatalf("the model server saw %d requests, want 0", n)
	}
	// With a default the run goes ahead, and no prompt holds "<no value>".
	sr := newSpecRun(t, head+"variants:\n  - {name: a, model: local/m1, prompt: \"{{.example.q}}|{{default \\\"none\\\" .example.ctx}}|{{.example.nope | default \\\"\\\"}}\"}\n", map[string]string{"d.jsonl": data})
	sr.mustRun(t.Context(), eval.Options{Getenv: testGetenv})
	srv.mu.Lock()
	defer srv.mu.Unlock()
	got := strings.Join(srv.prompts, ",")
	if len(srv.prompts) != 3 || !strings.Contains(got, "3|none|") || strings.Contains(got, "<no value>") {
		t.Errorf("prompts sent %q; want 3, the third 3|none|", srv.prompts)
	}
}

// TestPreflightNoCall: an exec step's program that does not exist and an
// LLM judge on a model that cannot judge stop the run before any call.
func TestPreflightNoCall(t *testing.T) {
	t.Parallel()
	srv := newFakeOpenAI(t, func(chatRequest) fakeReply { return fakeReply{Content: "ok"} })
	head := "name: t\ndataset: {path: d.jsonl}\nproviders:\n  local: {base_url: \"" + srv.BaseURL() + "\", api_key_env: TEST_KEY}\nvariants:\n  - {name: a, model: local/m1, prompt: \"{{.example.q}}\"}\n"
	data := jsonl(t, []map[string]any{{"q": "1"}, {"q": "2"}})
	const script = "#!/bin/sh\necho '{\"output\": \"x\"}'\n"
	cases := []struct {
		name, rest string
		want       []string
	}{
		{"exec program missing (relative)", "chain:\n  - {name: s, kind: llm}\n  - {name: app, kind: exec, command: [./nope.sh]}\n",
			[]string{"chain[1] (app) for variant a: command[0]: ", "nope.sh"}},
		{"exec program missing (on PATH)", "chain:\n  - {name: s, kind: llm}\n  - {name: app, kind: exec, command: [gavel-no-such-program-x]}\n",
			[]string{"chain[1] (app) for variant a: command[0]: ", `"gavel-no-such-program-x": executable file not found`}},
		{"exec program not executable", "chain:\n  - {name: s, kind: llm}\n  - {name: app, kind: exec, command: [./data.sh]}\n",
			[]string{"command[0]: ", "data.sh", "permission denied"}},
		{"exec program relative to its dir", "chain:\n  - {name: s, kind: llm}\n  - {name: app, kind: exec, command: [./app.sh], dir: sub}\n",
			[]string{"command[0]: ", "sub/app.sh"}},
		{"judge on offline/calc", "judges:\n  - {name: j, type: llm_rubric, model: offline/calc, rubric: good}\n",
			[]string{"gavel.yaml:8: judges[0].model: offline/calc cannot judge", "offline/judge"}},
		{"judge on offline/embed", "judges:\n  - {name: j, type: llm_rubric, model: offline/embed, rubric: good}\n",
			[]string{"judges[0].model: offline/embed cannot judge"}},
		{"judge on an unknown provider", "judges:\n  - {name: j, type: llm_rubric, model: nope/gpt, rubric: good}\n",
			[]string{"judges[0].model: ", `unknown provider "nope"`}},
		{"judge on an unknown offline model", "judges:\n  - {name: j, type: llm_rubric, model: offline/gpt, rubric: good}\n",
			[]string{"judges[0].model: ", `unknown offline model "gpt"`}},
		{"panel member on offline/echo", "judges:\n  - name: p\n    type: panel\n    judges:\n      - {type: llm_rubric, model: offline/judge, rubric: good}\n      - {type: llm_rubric, model: offline/echo, rubric: good}\n",
			[]string{"judges[0].model: offline/echo cannot judge"}},
	}
	for _, tc := range cases {
		sr := newSpecRun(t, head+tc.rest, map[string]string{"d.jsonl": data, "app.sh": script, "data.sh": script})
		if err := os.Chmod(filepath.Join(sr.dir, "app.sh"), 0o755); err != nil {
			t.Fatal(err)
		}
		out, err := sr.run(t.Context(), eval.Options{Getenv: testGetenv})
		if err == nil || out != nil {
			t.Errorf("%s: Run = %v, %v; want an error before the run", tc.name, out, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", tc.name, err, w)
			}
		}
	}
	if n := srv.requests.Load(); n != 0 {
		t.Fatalf("the model server saw %d requests, want 0", n)
	}
	// The same program found where the step runs it, and a judge on the
	// offline judge model, run.
	sr := newSpecRun(t, head+"chain:\n  - {name: s, kind: llm}\n  - {name: app, kind: exec, command: [./app.sh]}\njudges:\n  - {name: j, type: llm_rubric, model: offline/judge, rubric: good}\n",
		map[string]string{"d.jsonl": data, "app.sh": script})
	if err := os.Chmod(filepath.Join(sr.dir, "app.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	run := sr.mustRun(t.Context(), eval.Options{Getenv: testGetenv})
	for _, r := range run.results {
		if r.Status != results.StatusOK || r.Output != "x" {
			t.Errorf("%s: %s %q %s", r.ExampleID, r.Status, r.Output, deref(r.Error))
		}
	}
}
