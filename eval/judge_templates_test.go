package eval_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/eval"
	"github.com/gavel-eval/gavel/eval/results"
)

// judgeNullData is a dataset whose third example has a null ctx.
const judgeNullData = `{"id": "e1", "q": "1", "ctx": "c1"}
{"id": "e2", "q": "2", "ctx": "c2"}
{"id": "e3", "q": "3", "ctx": null}
`

// judgeFake answers the chain's model with "ok" and the judge model with
// a passing verdict.
func judgeFake(r chatRequest) fakeReply {
	if r.Model == "jm" {
		return fakeReply{Content: `{"reason": "fine", "pass": true, "score": 1}`}
	}
	return fakeReply{Content: "ok"}
}

// TestRunJudgeTemplateNullFoundBeforeAnyCall: a null field used by an LLM
// judge's own templates (rubric, prompt, input, criteria; a panel member's,
// a repeated judge's, a pairwise judge's) stops the run before the first
// model call of the chain or of a judge, naming the judge, the field, the
// dataset file and line; with default the run goes ahead.
func TestRunJudgeTemplateNullFoundBeforeAnyCall(t *testing.T) {
	t.Parallel()
	srv := newFakeOpenAI(t, judgeFake)
	head := "name: t\ndataset: {path: d.jsonl, id: \"{{.id}}\"}\nproviders:\n  local: {base_url: \"" + srv.BaseURL() + "\", api_key_env: TEST_KEY}\n" +
		"variants:\n  - {name: a, model: local/m1, prompt: \"{{.example.q}}\"}\n"
	two := "name: t\ndataset: {path: d.jsonl, id: \"{{.id}}\"}\nproviders:\n  local: {base_url: \"" + srv.BaseURL() + "\", api_key_env: TEST_KEY}\n" +
		"variants:\n  - {name: a, model: local/m1, prompt: \"{{.example.q}}\"}\n  - {name: b, model: local/m1, prompt: \"Q {{.example.q}}\"}\n"
	cases := []struct {
		name, spec string
		want       []string
	}{
		{"rubric", head + "judges:\n  - {name: j, type: llm_rubric, model: local/jm, rubric: \"Right given {{.example.ctx}}?\"}\n",
			[]string{"judge j: rubric: ", "rubric: .example.ctx is null or missing"}},
		{"rubric using the output too", head + "judges:\n  - {name: j, type: llm_rubric, model: local/jm, rubric: \"{{.output}} fits {{.example.ctx}}\"}\n",
			[]string{"judge j: rubric: ", ".example.ctx is null or missing"}},
		{"prompt", head + "judges:\n  - {name: j, type: llm_rubric, model: local/jm, rubric: good, prompt: \"Grade {{.output}} by {{.rubric}} for {{.example.ctx}}\"}\n",
			[]string{"judge j: prompt: ", ".example.ctx is null or missing"}},
		{"input", head + "judges:\n  - {name: j, type: llm_rubric, model: local/jm, rubric: good, input: \"{{.example.q}} {{.example.ctx}}\"}\n",
			[]string{"judge j: input: ", ".example.ctx is null or missing"}},
		{"repeated", head + "judges:\n  - {name: j, type: llm_rubric, model: local/jm, repeats: 3, rubric: \"{{.example.ctx}}\"}\n",
			[]string{"judge j: rubric: ", ".example.ctx is null or missing"}},
		{"closed_qa criteria", head + "judges:\n  - {name: j, type: closed_qa, model: local/jm, criteria: \"uses {{.example.ctx}}\"}\n",
			[]string{"judge j: criteria: ", ".example.ctx is null or missing"}},
		{"g_eval criteria", head + "judges:\n  - {name: j, type: g_eval, model: local/jm, criteria: \"uses {{.example.ctx}}\"}\n",
			[]string{"judge j: criteria: ", ".example.ctx is null or missing"}},
		{"panel member", head + "judges:\n  - name: j\n    type: panel\n    judges:\n      - {name: m1, type: llm_rubric, model: local/jm, rubric: good}\n      - {name: m2, type: llm_rubric, model: local/jm, rubric: \"{{.example.ctx}}\"}\n",
			[]string{"judge j: member m2: rubric: ", ".example.ctx is null or missing"}},
		{"pairwise criteria", two + "judges:\n  - {name: j, type: pairwise, model: local/jm, criteria: \"{{.output_a}} or {{.output_b}} for {{.example.ctx}}\"}\n",
			[]string{"judge j: criteria: ", ".example.ctx is null or missing"}},
	}
	for _, tc := range cases {
		sr := newSpecRun(t, tc.spec, map[string]string{"d.jsonl": judgeNullData})
		out, err := sr.run(t.Context(), eval.Options{Getenv: testGetenv})
		if err == nil || out != nil {
			t.Errorf("%s: Run = %v, %v; want an error before the run", tc.name, out, err)
			continue
		}
		for _, w := range append(tc.want, "dataset "+filepath.Join(sr.dir, "d.jsonl")+" line 3 (example e3), variant a: ") {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", tc.name, err, w)
			}
		}
	}
	if n := srv.requests.Load(); n != 0 {
		t.Fatalf("the model server saw %d requests, want 0", n)
	}

	// With a default the run goes ahead and every example is judged.
	sr := newSpecRun(t, head+"judges:\n  - {name: j, type: llm_rubric, model: local/jm, rubric: \"Right given [{{default \\\"\\\" .example.ctx}}]?\"}\n",
		map[string]string{"d.jsonl": judgeNullData})
	run := sr.mustRun(t.Context(), eval.Options{Getenv: testGetenv})
	if n := srv.requests.Load(); n != 6 {
		t.Errorf("the model server saw %d requests, want 6 (3 chain calls, 3 judge calls)", n)
	}
	for _, id := range []string{"e1", "e2", "e3"} {
		sc := run.scoresOf("a", id, 0)["j"]
		if sc.Status != results.ScoreOK || sc.Pass == nil || !*sc.Pass {
			t.Errorf("%s: score %+v, want a pass", id, sc)
		}
	}
	srv.mu.Lock()
	got := strings.Join(srv.prompts, "\n")
	srv.mu.Unlock()
	if !strings.Contains(got, "Right given []?") || !strings.Contains(got, "Right given [c1]?") {
		t.Errorf("judge prompts sent:\n%s\nwant the rubric rendered with c1 and with the default", got)
	}
}

// TestRegradeJudgeTemplateNullFoundBeforeAnyCall: re-grading a stored run
// with a spec whose judge rubric uses a field that is null in one stored
// input fails before any judge call, naming the run, the example and the
// judge.
func TestRegradeJudgeTemplateNullFoundBeforeAnyCall(t *testing.T) {
	t.Parallel()
	srv := newFakeOpenAI(t, judgeFake)
	head := "name: t\ndataset: {path: d.jsonl, id: \"{{.id}}\"}\nproviders:\n  local: {base_url: \"" + srv.BaseURL() + "\", api_key_env: TEST_KEY}\n" +
		"variants:\n  - {name: a, model: local/m1, prompt: \"{{.example.q}}\"}\n"
	sr := newSpecRun(t, head, map[string]string{"d.jsonl": judgeNullData,
		"strict.yaml": head + "judges:\n  - {name: j, type: llm_rubric, model: local/jm, rubric: \"{{.output}} given {{.example.ctx}}\"}\n"})
	out, err := sr.run(t.Context(), eval.Options{Getenv: testGetenv})
	if err != nil {
		t.Fatal(err)
	}
	before := srv.requests.Load()
	spec, err := eval.LoadSpec(filepath.Join(sr.dir, "strict.yaml"), eval.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	re, err := eval.Score(t.Context(), spec, eval.ScoreOptions{Run: out.Dir, Options: eval.Options{Getenv: testGetenv, Out: filepath.Join(t.TempDir(), "re")}})
	if err == nil || re != nil {
		t.Fatalf("Score = %v, %v; want an error before re-grading", re, err)
	}
	for _, w := range []string{"run " + out.Dir, "example e3", "judge j: rubric: ", ".example.ctx is null or missing"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
	if n := srv.requests.Load(); n != before {
		t.Errorf("the model server saw %d requests while re-grading, want 0", n-before)
	}
}

// The validation pass reads and renders on two goroutines, yet reports
// the first problem in the file: a template error on line 3 before a
// malformed line 6 (and the other way round), however far the reader got.
func TestValidationReportsTheFirstProblemInTheFile(t *testing.T) {
	t.Parallel()
	srv := newFakeOpenAI(t, judgeFake)
	spec := "name: t\ndataset: {path: d.jsonl, id: \"{{.id}}\"}\nproviders:\n  local: {base_url: \"" + srv.BaseURL() + "\", api_key_env: TEST_KEY}\n" +
		"variants:\n  - {name: a, model: local/m1, prompt: \"{{.example.q}}\"}\n"
	var good strings.Builder
	for i := 7; i < 3000; i++ {
		fmt.Fprintf(&good, `{"id": "e%d", "q": "%d"}`+"\n", i, i)
	}
	rows := []string{`{"id": "e1", "q": "1"}`, `{"id": "e2", "q": "2"}`, `{"id": "e3", "q": null}`, `{"id": "e4", "q": "4"}`, `{"id": "e5", "q": "5"}`, `{"id": "e6", "q": `}
	for _, tc := range []struct {
		name string
		data string
		want string
	}{
		{"template first", strings.Join(rows, "\n") + "\n" + good.String(), "line 3 (example e3), variant a: "},
		{"malformed first", strings.Join([]string{rows[0], rows[5], rows[2]}, "\n") + "\n" + good.String(), "line 2"},
	} {
		for range 10 {
			sr := newSpecRun(t, spec, map[string]string{"d.jsonl": tc.data})
			_, err := sr.run(t.Context(), eval.Options{Getenv: testGetenv})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%s: %v, want the error of %s", tc.name, err, tc.want)
			}
		}
	}
	if n := srv.requests.Load(); n != 0 {
		t.Fatalf("the model server saw %d requests, want 0", n)
	}
}
