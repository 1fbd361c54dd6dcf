package judges

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gavel-eval/gavel/llm"
)

// This file holds the judges of tool use: tool_call_match, tool_call_f1
// and trajectory. They compare the tool calls of a result (Input.ToolCalls)
// with the expected calls the judge's `expected` template renders, as JSON:
//
//	[{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}]
//
// (a single call may be given as an object; OpenAI's wire form
// {"function": {"name": ..., "arguments": "<JSON text>"}} is read too).
// Arguments are compared as JSON values following the Berkeley Function
// Calling Leaderboard's AST checker: the function name must match; the
// expected arguments must all be present and no others (unless
// `arguments: subset`); numbers compare by value (3 equals 3.0), within
// `tolerance` when set; strings exactly, or after BFCL's normalisation
// (`strings: normalized`: lower case, without spaces and , . / - _ * ^);
// lists in order, objects key by key. With `possible_answers`, each
// expected argument is a list of the acceptable values, as in BFCL's
// possible_answer files, and "" in it means the argument may be left out.

// ToolMatchConfig holds the options shared by tool_call_match and
// tool_call_f1.
type ToolMatchConfig struct {
	// Order is "any" (default: calls are matched one to one in any
	// order, as BFCL's parallel checker does) or "exact" (the expected
	// calls in the order made).
	Order string `yaml:"order"`
	// Arguments is "exact" (default: the same argument names) or
	// "subset" (the expected arguments must match; others are ignored).
	Arguments string `yaml:"arguments"`
	// Strings is "exact" (default) or "normalized" (BFCL's
	// standardize_string: lower case, without spaces and , . / - _ * ^,
	// single quotes as double).
	Strings string `yaml:"strings"`
	// Tolerance is the largest absolute difference at which two numbers
	// are equal (default 0: equal values).
	Tolerance float64 `yaml:"tolerance"`
	// PossibleAnswers reads each expected argument as a list of
	// acceptable values ("" in it: the argument may be omitted).
	PossibleAnswers bool `yaml:"possible_answers"`
	// AllowExtraCalls passes tool_call_match when every expected call is
	// matched, whatever other calls were made.
	AllowExtraCalls bool `yaml:"allow_extra_calls"`
}

func (c *ToolMatchConfig) check() error {
	for _, f := range []struct {
		name    string
		value   *string
		allowed []string // the first is the default
	}{
		{"order", &c.Order, []string{"any", "exact"}},
		{"arguments", &c.Arguments, []string{"exact", "subset"}},
		{"strings", &c.Strings, []string{"exact", "normalized"}},
	} {
		switch {
		case *f.value == "":
			*f.value = f.allowed[0]
		case !slices.Contains(f.allowed, *f.value):
			return fmt.Errorf("%s %q: want %s", f.name, *f.value, strings.Join(f.allowed, " or "))
		}
	}
	if c.Tolerance < 0 || math.IsNaN(c.Tolerance) || math.IsInf(c.Tolerance, 0) {
		return fmt.Errorf("tolerance %v: want a number of at least 0", c.Tolerance)
	}
	return nil
}

// expectedCall is one call the dataset expects.
type expectedCall struct {
	Name string
	Args map[string]any // decoded with json.Number
}

// parseExpectedCalls reads the expected calls' JSON.
func parseExpectedCalls(text string) ([]expectedCall, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, errors.New("expected is empty: set the judge's expected template to the expected calls as JSON (e.g. \"{{json .example.calls}}\")")
	}
	v, err := parseJSONValue(text)
	if err != nil {
		return nil, fmt.Errorf("expected is not valid JSON (%v): %s", err, quote(text))
	}
	var list []any
	switch x := v.(type) {
	case []any:
		list = x
	case map[string]any:
		list = []any{x}
	default:
		return nil, fmt.Errorf("expected is a JSON %s: want a list of calls {name, arguments}", jsonKind(v))
	}
	calls := make([]expectedCall, 0, len(list))
	for i, item := range list {
		obj, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("expected call %d is a JSON %s: want {name, arguments}", i+1, jsonKind(item))
		}
		if fn, ok := obj["function"].(map[string]any); ok {
			obj = fn // the wire form
		}
		name, _ := obj["name"].(string)
		if name == "" {
			return nil, fmt.Errorf("expected call %d has no name", i+1)
		}
		args := map[string]any{}
		switch a := obj["arguments"].(type) {
		case nil:
		case map[string]any:
			args = a
		case string: // arguments as JSON text, as on the wire
			if strings.TrimSpace(a) != "" {
				v, err := parseJSONValue(a)
				m, ok := v.(map[string]any)
				if err != nil || !ok {
					return nil, fmt.Errorf("expected call %d (%s): arguments %s are not a JSON object", i+1, name, quote(a))
				}
				args = m
			}
		default:
			return nil, fmt.Errorf("expected call %d (%s): arguments are a JSON %s, want an object", i+1, name, jsonKind(a))
		}
		calls = append(calls, expectedCall{Name: name, Args: args})
	}
	return calls, nil
}

// actualCall is a call as made, its arguments decoded.
type actualCall struct {
	llm.ToolCall
	args   map[string]any
	badErr string // why the arguments are not a JSON object
}

func decodeCalls(calls []llm.ToolCall) []actualCall {
	out := make([]actualCall, len(calls))
	for i, c := range calls {
		out[i].ToolCall = c
		text := strings.TrimSpace(c.Arguments)
		if text == "" {
			out[i].args = map[string]any{}
			continue
		}
		v, err := parseJSONValue(text)
		if err != nil {
			out[i].badErr = "arguments are not valid JSON (" + err.Error() + "): " + quote(c.Arguments)
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			out[i].badErr = "arguments are a JSON " + jsonKind(v) + ", not an object"
			continue
		}
		out[i].args = m
	}
	return out
}

var bfclStrip = regexp.MustCompile(`[ ,./\-_*^]`)

// normalizeString is BFCL's standardize_string.
func normalizeString(s string) string {
	return strings.ReplaceAll(strings.ToLower(bfclStrip.ReplaceAllString(s, "")), "'", `"`)
}

// matcher compares calls under a configuration.
type matcher struct{ cfg ToolMatchConfig }

// match reports whether the actual call matches the expected one, or why
// not.
func (m matcher) match(want expectedCall, got actualCall) (bool, string) {
	if got.Name != want.Name {
		return false, fmt.Sprintf("called %s, not %s", quote(got.Name), quote(want.Name))
	}
	if got.badErr != "" {
		return false, got.badErr
	}
	names := make([]string, 0, len(want.Args))
	for k := range want.Args {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		w := want.Args[k]
		g, present := got.args[k]
		if m.cfg.PossibleAnswers {
			options, ok := w.([]any)
			if !ok {
				options = []any{w}
			}
			if !present {
				if !containsEmpty(options) {
					return false, fmt.Sprintf("argument %s is missing", k)
				}
				continue
			}
			ok = false
			for _, o := range options {
				if s, isStr := o.(string); isStr && s == "" {
					continue
				}
				if m.equal(o, g) {
					ok = true
					break
				}
			}
			if !ok {
				return false, fmt.Sprintf("argument %s is %s, not one of %s", k, jsonSnippet(g), jsonSnippet(options))
			}
			continue
		}
		if !present {
			return false, fmt.Sprintf("argument %s is missing", k)
		}
		if !m.equal(w, g) {
			return false, fmt.Sprintf("argument %s is %s, not %s", k, jsonSnippet(g), jsonSnippet(w))
		}
	}
	if m.cfg.Arguments == "exact" {
		var extra []string
		for k := range got.args {
			if _, ok := want.Args[k]; !ok {
				extra = append(extra, k)
			}
		}
		if len(extra) > 0 {
			sort.Strings(extra)
			return false, "unexpected argument " + strings.Join(extra, ", ")
		}
	}
	return true, ""
}

func containsEmpty(options []any) bool {
	for _, o := range options {
		if s, ok := o.(string); ok && s == "" {
			return true
		}
	}
	return false
}

// equal compares two decoded JSON values.
func (m matcher) equal(want, got any) bool {
	switch w := want.(type) {
	case json.Number:
		g, ok := got.(json.Number)
		if !ok {
			return false
		}
		if m.cfg.Tolerance == 0 {
			return jsonNumbersEqual(w, g)
		}
		a, errA := strconv.ParseFloat(string(w), 64)
		b, errB := strconv.ParseFloat(string(g), 64)
		return errA == nil && errB == nil && math.Abs(a-b) <= m.cfg.Tolerance
	case string:
		g, ok := got.(string)
		if !ok {
			return false
		}
		if m.cfg.Strings == "normalized" {
			return normalizeString(w) == normalizeString(g)
		}
		return w == g
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !m.equal(w[i], g[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for k, v := range w {
			gv, ok := g[k]
			if !ok || !m.equal(v, gv) {
				return false
			}
		}
		return true
	default: // bool, nil
		return want == got
	}
}

// pairing is how the expected calls were matched to the actual ones.
type pairing struct {
	toActual  []int // expected index -> actual index, -1 when unmatched
	matched   int
	firstMiss string // why the first unmatched expected call is unmatched
}

// pair matches expected calls to actual ones: in any order, one to one,
// as many as possible (a maximum bipartite matching), or, with order
// exact, in the order made (other calls between them only with
// allow_extra_calls).
func (m matcher) pair(want []expectedCall, got []actualCall) pairing {
	p := pairing{toActual: make([]int, len(want))}
	ok := make([][]bool, len(want))
	for i, w := range want {
		p.toActual[i] = -1
		ok[i] = make([]bool, len(got))
		for j, g := range got {
			ok[i][j], _ = m.match(w, g)
		}
	}
	if m.cfg.Order == "exact" {
		j := 0
		for i := range want {
			for j < len(got) && !ok[i][j] && m.cfg.AllowExtraCalls {
				j++
			}
			if j < len(got) && ok[i][j] {
				p.toActual[i] = j
				p.matched++
				j++
			} else if p.firstMiss == "" {
				p.firstMiss = m.missReason(i, want[i], got, j)
			}
		}
		return p
	}
	owner := make([]int, len(got))
	for j := range owner {
		owner[j] = -1
	}
	var try func(i int, seen []bool) bool
	try = func(i int, seen []bool) bool {
		for j := range got {
			if !ok[i][j] || seen[j] {
				continue
			}
			seen[j] = true
			if owner[j] < 0 || try(owner[j], seen) {
				owner[j] = i
				return true
			}
		}
		return false
	}
	for i := range want {
		try(i, make([]bool, len(got)))
	}
	for j, i := range owner {
		if i >= 0 {
			p.toActual[i] = j
			p.matched++
		}
	}
	for i, j := range p.toActual {
		if j < 0 {
			p.firstMiss = m.missReason(i, want[i], got, -1)
			break
		}
	}
	return p
}

// missReason says why expected call i is unmatched: with order exact, the
// call at its place (at); else the first call of its tool.
func (m matcher) missReason(i int, want expectedCall, got []actualCall, at int) string {
	head := fmt.Sprintf("expected call %d (%s): ", i+1, want.Name)
	if at >= 0 {
		if at >= len(got) {
			return head + fmt.Sprintf("only %d calls were made", len(got))
		}
		_, why := m.match(want, got[at])
		return head + fmt.Sprintf("call %d: %s", at+1, why)
	}
	for j, g := range got {
		if g.Name != want.Name {
			continue
		}
		if match, why := m.match(want, g); !match {
			return head + fmt.Sprintf("call %d: %s", j+1, why)
		}
	}
	for _, g := range got {
		if g.Name == want.Name {
			return head + "the calls that match it match other expected calls (it is expected more often than made)"
		}
	}
	names := make([]string, len(got))
	for j, g := range got {
		names[j] = g.Name
	}
	if len(names) == 0 {
		return head + "no tool was called"
	}
	return head + "not called (calls: " + strings.Join(names, ", ") + ")"
}

func newMatcher(cfg ToolMatchConfig) (matcher, error) {
	if err := cfg.check(); err != nil {
		return matcher{}, err
	}
	return matcher{cfg: cfg}, nil
}

// ToolCallMatch passes when the result's tool calls are the expected
// ones: every expected call matched by one call, one to one, and no other
// call (unless allow_extra_calls). Its score is 1 or 0; the reason names
// the first expected call not made and why the closest call does not
// match it, or the calls not expected.
type ToolCallMatch struct{ m matcher }

var _ Judge = (*ToolCallMatch)(nil)

// NewToolCallMatch returns a tool_call_match judge; an unknown option
// value is an error naming it.
func NewToolCallMatch(cfg ToolMatchConfig) (*ToolCallMatch, error) {
	m, err := newMatcher(cfg)
	if err != nil {
		return nil, err
	}
	return &ToolCallMatch{m: m}, nil
}

// Judge compares in.ToolCalls with the expected calls.
func (j *ToolCallMatch) Judge(_ context.Context, in Input) (Verdict, error) {
	want, err := parseExpectedCalls(in.Expected)
	if err != nil {
		return Verdict{}, fmt.Errorf("tool_call_match: %w", err)
	}
	got := decodeCalls(in.ToolCalls)
	p := j.m.pair(want, got)
	extra := extraCalls(p, got)
	details := map[string]any{"expected": len(want), "actual": len(got), "matched": p.matched, "extra": extra}
	var v Verdict
	switch {
	case p.matched < len(want):
		v = binary(false, fmt.Sprintf("%d of %d expected calls made; %s", p.matched, len(want), p.firstMiss))
	case len(extra) > 0 && !j.m.cfg.AllowExtraCalls:
		v = binary(false, fmt.Sprintf("every expected call was made, and %d more: %s", len(extra), strings.Join(extra, ", ")))
	case len(want) == 0:
		v = binary(true, "no call expected, none made")
	default:
		v = binary(true, fmt.Sprintf("all %d expected calls made", len(want)))
	}
	v.Details = details
	return v, nil
}

// extraCalls names the actual calls no expected call matched.
func extraCalls(p pairing, got []actualCall) []string {
	used := make([]bool, len(got))
	for _, j := range p.toActual {
		if j >= 0 {
			used[j] = true
		}
	}
	extra := []string{}
	for j, u := range used {
		if !u {
			extra = append(extra, fmt.Sprintf("call %d (%s)", j+1, got[j].Name))
		}
	}
	return extra
}

// ToolCallF1 scores a result's tool calls by the F1 of their precision
// (matched calls ÷ calls made) and recall (matched ÷ expected), the
// matching as tool_call_match's. It passes at a score of at least
// min_score (default 1). As a corpus figure it sums the matches, calls
// and expected calls over the variant's results (micro-averaged F1).
// With nothing expected and nothing called, precision, recall and F1 are
// 1.
type ToolCallF1 struct {
	m   matcher
	min float64
}

var (
	_ Judge        = (*ToolCallF1)(nil)
	_ CorpusScorer = (*ToolCallF1)(nil)
)

// ToolCallF1Config holds the options of a tool_call_f1 judge: those of
// tool_call_match (see ToolMatchConfig; allow_extra_calls does not
// apply, extra calls lower the precision) and min_score. (The spec
// decoder does not inline embedded structs, so the fields repeat.)
type ToolCallF1Config struct {
	Order           string  `yaml:"order"`
	Arguments       string  `yaml:"arguments"`
	Strings         string  `yaml:"strings"`
	Tolerance       float64 `yaml:"tolerance"`
	PossibleAnswers bool    `yaml:"possible_answers"`
	// MinScore is the F1 at which a result passes (default 1).
	MinScore *float64 `yaml:"min_score"`
}

// NewToolCallF1 returns a tool_call_f1 judge.
func NewToolCallF1(cfg ToolCallF1Config) (*ToolCallF1, error) {
	m, err := newMatcher(ToolMatchConfig{Order: cfg.Order, Arguments: cfg.Arguments, Strings: cfg.Strings,
		Tolerance: cfg.Tolerance, PossibleAnswers: cfg.PossibleAnswers})
	if err != nil {
		return nil, err
	}
	j := &ToolCallF1{m: m, min: 1}
	if cfg.MinScore != nil {
		if *cfg.MinScore < 0 || *cfg.MinScore > 1 || math.IsNaN(*cfg.MinScore) {
			return nil, fmt.Errorf("min_score %v: want a number from 0 to 1", *cfg.MinScore)
		}
		j.min = *cfg.MinScore
	}
	return j, nil
}

// f1 returns precision, recall and F1 of matched calls out of made and
// expected ones.
func f1(matched, made, expected int) (p, r, f float64) {
	p, r = 1, 1
	if made > 0 {
		p = float64(matched) / float64(made)
	}
	if expected > 0 {
		r = float64(matched) / float64(expected)
	}
	if p+r > 0 {
		f = 2 * p * r / (p + r)
	}
	return p, r, f
}

// Judge scores in.ToolCalls against the expected calls.
func (j *ToolCallF1) Judge(_ context.Context, in Input) (Verdict, error) {
	want, err := parseExpectedCalls(in.Expected)
	if err != nil {
		return Verdict{}, fmt.Errorf("tool_call_f1: %w", err)
	}
	got := decodeCalls(in.ToolCalls)
	pr := j.m.pair(want, got)
	p, r, f := f1(pr.matched, len(got), len(want))
	score := f
	v := Verdict{Score: &score, Pass: f >= j.min,
		Reason:  fmt.Sprintf("F1 %.3f: precision %d/%d, recall %d/%d", f, pr.matched, len(got), pr.matched, len(want)),
		Details: map[string]any{"precision": p, "recall": r, "f1": f, "matched": pr.matched, "actual": len(got), "expected": len(want)}}
	if pr.firstMiss != "" {
		v.Reason += "; " + pr.firstMiss
	}
	return v, nil
}

// NewCorpus returns an accumulator of the micro-averaged F1.
func (j *ToolCallF1) NewCorpus() CorpusAccumulator { return &toolF1Corpus{j: j} }

type toolF1Corpus struct {
	j                       *ToolCallF1
	matched, made, expected int
	results, judgeErrors    int
}

// Add counts one result's calls; a result whose expected calls do not
// read adds nothing.
func (c *toolF1Corpus) Add(in Input) {
	want, err := parseExpectedCalls(in.Expected)
	if err != nil {
		c.judgeErrors++
		return
	}
	got := decodeCalls(in.ToolCalls)
	p := c.j.m.pair(want, got)
	c.matched += p.matched
	c.made += len(got)
	c.expected += len(want)
	c.results++
}

// Score returns the micro-averaged F1 and a description.
func (c *toolF1Corpus) Score() (float64, string) {
	p, r, f := f1(c.matched, c.made, c.expected)
	desc := fmt.Sprintf("micro-averaged over %d results: precision %.4f (%d/%d), recall %.4f (%d/%d)", c.results, p, c.matched, c.made, r, c.matched, c.expected)
	if c.judgeErrors > 0 {
		desc += fmt.Sprintf("; %d results without readable expected calls left out", c.judgeErrors)
	}
	return f, desc
}
