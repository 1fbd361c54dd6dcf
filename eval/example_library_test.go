package eval_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gavel-eval/gavel/eval"
	"github.com/gavel-eval/gavel/report"
	"github.com/gavel-eval/gavel/traces"
)

// A Go program plugs its own chain into gavel as a step kind: the function
// is called once per example and variant, inside a span, and may record
// spans of its own.
func Example_customStep() {
	dir, _ := os.MkdirTemp("", "gavel-example")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "data.jsonl"), []byte(
		`{"id": "a", "word": "gavel", "want": "GAVEL"}`+"\n"+
			`{"id": "b", "word": "judge", "want": "JUDGE"}`+"\n"), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "gavel.yaml"), []byte(`
name: shout
dataset: {path: data.jsonl, id: id}
variants:
  - {name: app}
chain:
  - {name: shout, kind: myapp, with: {suffix: ""}}
judges:
  - {name: upper, type: equals, expected: "{{.example.want}}"}
`), 0o644)

	steps := map[string]eval.StepFunc{
		"myapp": func(ctx context.Context, in eval.StepInput) (string, error) {
			_, span := traces.Start(ctx, "uppercase", traces.KindTool)
			out := strings.ToUpper(fmt.Sprint(in.Example["word"])) + fmt.Sprint(in.With["suffix"])
			span.SetOutput(out)
			span.End(nil)
			return out, nil
		},
	}
	spec, err := eval.LoadSpec(filepath.Join(dir, "gavel.yaml"), eval.LoadOptions{Steps: steps})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := eval.Run(context.Background(), spec, eval.Options{Out: filepath.Join(dir, "run"), Steps: steps})
	if err != nil {
		fmt.Println(err)
		return
	}
	sum, _ := report.Summarize(out.Dir)
	v := sum.Variants[0]
	fmt.Println(out.Manifest.Status, v.Results, "results,", v.Judge("upper").Passed, "passed")
	// Output: completed 2 results, 2 passed
}
