package judges_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/judges"
	"github.com/gavel-eval/gavel/llm"
)

func calls(pairs ...string) []llm.ToolCall {
	var out []llm.ToolCall
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, llm.ToolCall{ID: "call_" + string(rune('a'+i/2)), Name: pairs[i], Arguments: pairs[i+1]})
	}
	return out
}

// The cases follow the Berkeley Function Calling Leaderboard's AST
// checker (ast_checker.py): name, required and unexpected parameters,
// int accepted for float, standardize_string, possible answers with ""
// for an optional parameter, and the parallel checker's any-order,
// one-to-one matching.
func TestToolCallMatch(t *testing.T) {
	weather := `[{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}]`
	cases := []struct {
		name     string
		cfg      judges.ToolMatchConfig
		expected string
		got      []llm.ToolCall
		pass     bool
		reason   string
	}{
		{"same", judges.ToolMatchConfig{}, weather, calls("get_weather", `{"unit": "celsius", "city": "Paris"}`), true, "all 1 expected calls made"},
		{"wire form expected", judges.ToolMatchConfig{}, `[{"type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\", \"unit\": \"celsius\"}"}}]`,
			calls("get_weather", `{"city": "Paris", "unit": "celsius"}`), true, ""},
		{"one object", judges.ToolMatchConfig{}, `{"name": "ping"}`, calls("ping", ``), true, ""},
		{"other tool", judges.ToolMatchConfig{}, weather, calls("get_time", `{}`), false, "expected call 1 (get_weather): not called (calls: get_time)"},
		{"no call", judges.ToolMatchConfig{}, weather, nil, false, "0 of 1 expected calls made; expected call 1 (get_weather): no tool was called"},
		{"missing argument", judges.ToolMatchConfig{}, weather, calls("get_weather", `{"city": "Paris"}`), false, "call 1: argument unit is missing"},
		{"wrong value", judges.ToolMatchConfig{}, weather, calls("get_weather", `{"city": "Paris", "unit": "fahrenheit"}`), false, `call 1: argument unit is "fahrenheit", not "celsius"`},
		{"unexpected argument", judges.ToolMatchConfig{}, weather, calls("get_weather", `{"city": "Paris", "unit": "celsius", "days": 3}`), false, "unexpected argument days"},
		{"subset allows it", judges.ToolMatchConfig{Arguments: "subset"}, weather, calls("get_weather", `{"city": "Paris", "unit": "celsius", "days": 3}`), true, ""},
		{"int for float", judges.ToolMatchConfig{}, `[{"name": "f", "arguments": {"x": 3.0}}]`, calls("f", `{"x": 3}`), true, ""},
		{"string is not a number", judges.ToolMatchConfig{}, `[{"name": "f", "arguments": {"x": 3}}]`, calls("f", `{"x": "3"}`), false, `argument x is "3", not 3`},
		{"tolerance too small", judges.ToolMatchConfig{Tolerance: 0.001}, `[{"name": "f", "arguments": {"x": 3.14}}]`, calls("f", `{"x": 3.1415}`), false, ""},
		{"tolerance", judges.ToolMatchConfig{Tolerance: 0.01}, `[{"name": "f", "arguments": {"x": 3.14}}]`, calls("f", `{"x": 3.1415}`), true, ""},
		{"strings exact", judges.ToolMatchConfig{}, `[{"name": "f", "arguments": {"city": "San Francisco, CA"}}]`, calls("f", `{"city": "san francisco ca"}`), false, ""},
		{"strings normalized", judges.ToolMatchConfig{Strings: "normalized"}, `[{"name": "f", "arguments": {"city": "San Francisco, CA"}}]`, calls("f", `{"city": "san-francisco CA"}`), true, ""},
		{"nested values", judges.ToolMatchConfig{}, `[{"name": "f", "arguments": {"o": {"a": [1, 2], "b": null, "c": true}}}]`, calls("f", `{"o": {"c": true, "b": null, "a": [1.0, 2]}}`), true, ""},
		{"list order matters", judges.ToolMatchConfig{}, `[{"name": "f", "arguments": {"a": [1, 2]}}]`, calls("f", `{"a": [2, 1]}`), false, ""},
		{"possible answers: omitted optional", judges.ToolMatchConfig{PossibleAnswers: true},
			`[{"name": "get_weather", "arguments": {"city": ["Paris", "Paris, France"], "unit": ["celsius", ""]}}]`, calls("get_weather", `{"city": "Paris, France"}`), true, ""},
		{"possible answers: not one of them", judges.ToolMatchConfig{PossibleAnswers: true},
			`[{"name": "get_weather", "arguments": {"city": ["Paris"], "unit": ["celsius", ""]}}]`, calls("get_weather", `{"city": "Paris", "unit": "kelvin"}`), false, `argument unit is "kelvin", not one of ["celsius",""]`},
		{"possible answers: required", judges.ToolMatchConfig{PossibleAnswers: true},
			`[{"name": "get_weather", "arguments": {"city": ["Paris"]}}]`, calls("get_weather", `{}`), false, "argument city is missing"},
		{"parallel in any order", judges.ToolMatchConfig{}, `[{"name": "f", "arguments": {"x": 1}}, {"name": "f", "arguments": {"x": 2}}]`,
			calls("f", `{"x": 2}`, "f", `{"x": 1}`), true, "all 2 expected calls made"},
		{"parallel in exact order", judges.ToolMatchConfig{Order: "exact"}, `[{"name": "f", "arguments": {"x": 1}}, {"name": "f", "arguments": {"x": 2}}]`,
			calls("f", `{"x": 2}`, "f", `{"x": 1}`), false, "expected call 1 (f): call 1: argument x is 2, not 1"},
		{"exact order with extra calls between", judges.ToolMatchConfig{Order: "exact", AllowExtraCalls: true}, `[{"name": "a"}, {"name": "b"}]`,
			calls("a", ``, "log", `{}`, "b", ``), true, ""},
		// A greedy pairing takes the call x=1 for the first expected call
		// and leaves nothing for the second; the maximum matching finds
		// both.
		{"one to one, maximum matching", judges.ToolMatchConfig{PossibleAnswers: true}, `[{"name": "f", "arguments": {"x": [1, 2]}}, {"name": "f", "arguments": {"x": [1]}}]`,
			calls("f", `{"x": 1}`, "f", `{"x": 2}`), true, ""},
		{"expected twice, made once", judges.ToolMatchConfig{}, `[{"name": "f", "arguments": {"x": 1}}, {"name": "f", "arguments": {"x": 1}}]`,
			calls("f", `{"x": 1}`), false, "it is expected more often than made"},
		{"extra call", judges.ToolMatchConfig{}, weather, calls("get_weather", `{"city": "Paris", "unit": "celsius"}`, "log", `{}`), false, "and 1 more: call 2 (log)"},
		{"extra call allowed", judges.ToolMatchConfig{AllowExtraCalls: true}, weather, calls("log", `{}`, "get_weather", `{"city": "Paris", "unit": "celsius"}`), true, ""},
		{"malformed arguments", judges.ToolMatchConfig{}, weather, calls("get_weather", `{"city": "Paris"`), false, "arguments are not valid JSON"},
		{"arguments not an object", judges.ToolMatchConfig{}, weather, calls("get_weather", `["Paris"]`), false, "arguments are a JSON array, not an object"},
		{"nothing expected, nothing made", judges.ToolMatchConfig{}, `[]`, nil, true, "no call expected, none made"},
		{"nothing expected, one made", judges.ToolMatchConfig{}, `[]`, calls("f", `{}`), false, "and 1 more"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j, err := judges.NewToolCallMatch(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			v, err := j.Judge(context.Background(), judges.Input{Expected: c.expected, ToolCalls: c.got})
			if err != nil {
				t.Fatal(err)
			}
			if v.Pass != c.pass || *v.Score != map[bool]float64{true: 1, false: 0}[c.pass] || !strings.Contains(v.Reason, c.reason) {
				t.Errorf("pass %v score %v reason %q; want pass %v, reason containing %q", v.Pass, *v.Score, v.Reason, c.pass, c.reason)
			}
		})
	}
}

func TestToolCallMatchErrors(t *testing.T) {
	for _, cfg := range []judges.ToolMatchConfig{{Order: "random"}, {Arguments: "some"}, {Strings: "fuzzy"}, {Tolerance: -1}} {
		if _, err := judges.NewToolCallMatch(cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
	j, _ := judges.NewToolCallMatch(judges.ToolMatchConfig{})
	for expected, want := range map[string]string{
		"":                                    "expected is empty",
		"{not json":                           "expected is not valid JSON",
		`"get_weather"`:                       "expected is a JSON string",
		`[{"arguments": {}}]`:                 "expected call 1 has no name",
		`[{"name": "f", "arguments": 3}]`:     "arguments are a JSON number",
		`[{"name": "f", "arguments": "[1]"}]`: "are not a JSON object",
	} {
		if _, err := j.Judge(context.Background(), judges.Input{Expected: expected}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("expected %q: error %v, want %q", expected, err, want)
		}
	}
}

func TestToolCallF1(t *testing.T) {
	j, err := judges.NewToolCallF1(judges.ToolCallF1Config{})
	if err != nil {
		t.Fatal(err)
	}
	two := `[{"name": "a", "arguments": {"x": 1}}, {"name": "b"}]`
	cases := []struct {
		expected string
		got      []llm.ToolCall
		p, r, f  float64
	}{
		{two, calls("a", `{"x": 1}`, "b", ``), 1, 1, 1},
		// 2 of 3 made match, both expected found: P 2/3, R 1, F1 0.8.
		{two, calls("a", `{"x": 1}`, "b", ``, "c", ``), 2.0 / 3, 1, 0.8},
		// 1 of 1 made matches, 1 of 2 expected: P 1, R 1/2, F1 2/3.
		{two, calls("b", ``), 1, 0.5, 2.0 / 3},
		{two, calls("a", `{"x": 2}`), 0, 0, 0},
		{two, nil, 1, 0, 0},
		{`[]`, nil, 1, 1, 1},
		{`[]`, calls("a", `{}`), 0, 1, 0},
		{two, calls("a", `{"x": 1`, "b", ``), 0.5, 0.5, 0.5}, // a malformed call matches nothing
	}
	acc := j.NewCorpus()
	var matched, made, expected float64
	for i, c := range cases {
		in := judges.Input{Expected: c.expected, ToolCalls: c.got}
		v, err := j.Judge(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		p, r := v.Details["precision"].(float64), v.Details["recall"].(float64)
		if math.Abs(p-c.p) > 1e-12 || math.Abs(r-c.r) > 1e-12 || math.Abs(*v.Score-c.f) > 1e-12 || v.Pass != (c.f == 1) {
			t.Errorf("case %d: P %v R %v F1 %v pass %v; want %v %v %v", i, p, r, *v.Score, v.Pass, c.p, c.r, c.f)
		}
		acc.Add(in)
		matched += float64(v.Details["matched"].(int))
		made += float64(len(c.got))
		expected += float64(v.Details["expected"].(int))
	}
	// Micro-averaged: 2+2+1+0+0+0+0+1 = 6 matched of 2+3+1+1+0+0+1+2 = 10
	// made and 2+2+2+2+2+0+0+2 = 12 expected: P 0.6, R 0.5, F1 6/11.
	if matched != 6 || made != 10 || expected != 12 {
		t.Fatalf("sums %v %v %v", matched, made, expected)
	}
	f, desc := acc.Score()
	if math.Abs(f-6.0/11) > 1e-12 || !strings.Contains(desc, "precision 0.6000 (6/10), recall 0.5000 (6/12)") {
		t.Errorf("corpus F1 %v (%s), want 6/11", f, desc)
	}
	loose, _ := judges.NewToolCallF1(judges.ToolCallF1Config{MinScore: judges.Float(0.5)})
	if v, _ := loose.Judge(context.Background(), judges.Input{Expected: two, ToolCalls: calls("b", ``)}); !v.Pass {
		t.Error("min_score 0.5: F1 2/3 does not pass")
	}
	if _, err := judges.NewToolCallF1(judges.ToolCallF1Config{MinScore: judges.Float(2)}); err == nil {
		t.Error("min_score 2: no error")
	}
}

func TestTrajectory(t *testing.T) {
	seq := calls("search", `{}`, "fetch", `{}`, "search", `{}`, "answer", `{}`)
	cases := []struct {
		mode, expected string
		score          float64
		reason         string
	}{
		{"exact", `["search", "fetch", "search", "answer"]`, 1, "as expected"},
		{"exact", `["search", "answer"]`, 0, "called search → fetch → search → answer, expected search → answer"},
		{"", `[{"name": "search"}, {"function": {"name": "fetch"}}, "search", "answer"]`, 1, ""},
		{"in_order", `["search", "answer"]`, 1, "2 of 2"},
		{"in_order", `["answer", "search"]`, 0.5, "1 of 2 expected calls found in order"},
		{"any_order", `["answer", "search", "search"]`, 1, ""},
		{"any_order", `["answer", "search", "search", "search", "book"]`, 0.6, "missing search, book"},
		{"in_order", `[]`, 1, ""},
	}
	for _, c := range cases {
		j, err := judges.NewTrajectory(judges.TrajectoryConfig{Mode: c.mode})
		if err != nil {
			t.Fatal(err)
		}
		v, err := j.Judge(context.Background(), judges.Input{Expected: c.expected, ToolCalls: seq})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(*v.Score-c.score) > 1e-12 || v.Pass != (c.score == 1) || !strings.Contains(v.Reason, c.reason) {
			t.Errorf("%s %s: score %v pass %v reason %q", c.mode, c.expected, *v.Score, v.Pass, v.Reason)
		}
	}
	exact, _ := judges.NewTrajectory(judges.TrajectoryConfig{})
	if v, _ := exact.Judge(context.Background(), judges.Input{Expected: `[]`}); !v.Pass || !strings.Contains(v.Reason, "(none)") {
		t.Errorf("no calls expected, none made: %+v", v)
	}
	if _, err := judges.NewTrajectory(judges.TrajectoryConfig{Mode: "fuzzy"}); err == nil {
		t.Error("mode fuzzy: no error")
	}
	if _, err := exact.Judge(context.Background(), judges.Input{Expected: `[3]`}); err == nil {
		t.Error("a number as a tool name: no error")
	}
}

func TestToolArgsSchema(t *testing.T) {
	tools := []llm.Tool{
		{Name: "get_weather", Parameters: []byte(`{"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1}}, "required": ["city"], "additionalProperties": false}`)},
		{Name: "ping"},
	}
	j, err := judges.NewToolArgsSchema(judges.ToolArgsSchemaConfig{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		got    []llm.ToolCall
		score  float64
		reason string
	}{
		{calls("get_weather", `{"city": "Paris", "days": 2}`, "ping", ``), 1, "all 2 calls have valid arguments"},
		{calls("get_weather", `{"days": 0}`), 0, "call 1 (get_weather): arguments are not valid against the tool's schema"},
		{calls("get_weather", `{"city": "Paris"`), 0, "arguments are not valid JSON"},
		{calls("get_weather", `{"city": "Paris"}`, "book_flight", `{}`), 0.5, `call 2 (book_flight): "book_flight" is not one of the tools offered`},
		{calls("get_weather", `{"city": "Paris", "extra": 1}`), 0, "additional"},
		{nil, 1, "no tool was called"},
	}
	for i, c := range cases {
		v, err := j.Judge(context.Background(), judges.Input{Tools: tools, ToolCalls: c.got})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(*v.Score-c.score) > 1e-12 || v.Pass != (c.score == 1) || !strings.Contains(v.Reason, c.reason) {
			t.Errorf("case %d: score %v pass %v reason %q, want %v %q", i, *v.Score, v.Pass, v.Reason, c.score, c.reason)
		}
	}
	bad := []llm.Tool{{Name: "x", Parameters: []byte(`{"type": "objekt"}`)}}
	if _, err := j.Judge(context.Background(), judges.Input{Tools: bad, ToolCalls: calls("x", `{}`)}); err == nil || !strings.Contains(err.Error(), "tool x") {
		t.Errorf("an invalid tool schema: %v", err)
	}
}
