package eval_test

import (
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/eval"
)

// TestSpecGateAlternativeAndErrorsAs: a gate's alternative and errors_as
// are read, and a value outside their choices is an error at its gate.
func TestSpecGateAlternativeAndErrorsAs(t *testing.T) {
	t.Parallel()
	const base = specHead + "variants:\n  - {name: a, model: offline/echo, prompt: \"hi\"}\n" +
		"chain:\n  - {name: s, kind: llm}\njudges:\n  - {name: j, type: equals, value: x}\ngates:\n"
	s, err := eval.ParseSpec([]byte(base+"  - {judge: j, max_drop: 0.05, alternative: less, errors_as: fail}\n"), "gavel.yaml", eval.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if g := s.Gates[0]; g.Alternative != "less" || g.ErrorsAs != "fail" {
		t.Errorf("gate %+v; want alternative less, errors_as fail", g)
	}
	for _, c := range []struct{ gate, want string }{
		{"  - {judge: j, max_drop: 0.05, alternative: two.sided}\n", `gates[0].alternative: "two.sided"`},
		{"  - {judge: j, min_pass_rate: 0.5, errors_as: zero}\n", `gates[0].errors_as: "zero"`},
	} {
		_, err := eval.ParseSpec([]byte(base+c.gate), "gavel.yaml", eval.LoadOptions{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v; want one containing %q", c.gate, err, c.want)
		}
	}
}
