package eval_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/eval"
)

// TestManifestRecordsJudgeScales: the manifest records each judge's
// scale, from the judge type (classify is ordinal; g_eval is ordinal with
// one sample and no log probabilities, continuous otherwise), from the
// spec's `scale:` (which overrides the type's), or none.
func TestManifestRecordsJudgeScales(t *testing.T) {
	t.Parallel()
	spec := `name: scales
dataset: {id: id}
score: {output: answer}
judges:
  - {name: same, type: equals, expected: "{{.example.ref}}"}
  - {name: ranked, type: equals, expected: "{{.example.ref}}", scale: ordinal}
  - name: label
    type: classify
    model: offline/judge
    criteria: is it right
    choices: {right: 1, close: 0.5, wrong: 0}
  - name: label_cont
    type: classify
    model: offline/judge
    criteria: is it right
    choices: {right: 1, close: 0.5, wrong: 0}
    scale: continuous
  - {name: rated, type: g_eval, model: offline/judge, criteria: right, logprobs: false, samples: 1}
  - {name: weighted, type: g_eval, model: offline/judge, criteria: right}
`
	sr := newSpecRun(t, spec, map[string]string{"out.jsonl": nullRows})
	s, err := eval.LoadSpec(sr.path, eval.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := eval.Score(t.Context(), s, eval.ScoreOptions{Input: filepath.Join(sr.dir, "out.jsonl"), Options: eval.Options{Out: filepath.Join(t.TempDir(), "run")}})
	if err != nil {
		t.Fatalf("Score: %v", err)
	}
	want := map[string]string{"same": "", "ranked": "ordinal", "label": "ordinal", "label_cont": "continuous", "rated": "ordinal", "weighted": "continuous"}
	run := readStoredRun(t, out.Dir)
	for _, j := range run.manifest.Judges {
		if w, ok := want[j.Name]; !ok || j.Scale != w {
			t.Errorf("judge %s: scale %q, want %q", j.Name, j.Scale, w)
		}
		delete(want, j.Name)
	}
	if len(want) != 0 {
		t.Errorf("judges missing from the manifest: %v", want)
	}
}

// TestSpecRejectsUnknownScale: a bad `scale:` names the field.
func TestSpecRejectsUnknownScale(t *testing.T) {
	t.Parallel()
	spec := "name: s\ndataset: {id: id}\nscore: {output: answer}\njudges:\n  - {name: same, type: equals, scale: interval}\n"
	sr := newSpecRun(t, spec, map[string]string{"out.jsonl": nullRows})
	_, err := eval.LoadSpec(sr.path, eval.LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "judges[0].scale") || !strings.Contains(err.Error(), "binary, ordinal or continuous") {
		t.Fatalf("err = %v; want one naming judges[0].scale and the values", err)
	}
}
