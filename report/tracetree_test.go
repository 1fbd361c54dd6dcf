package report

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/traces"
)

// treeT0 is the fixed start of every fixture trace, so output is
// deterministic.
var treeT0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// treeSpan is a fixture span: times are offsets from treeT0.
type treeSpan struct {
	id, parent, name string
	kind             traces.Kind
	start, end       time.Duration
	err              string
	in, out          string
	attrs            map[string]any
}

// treeTrace is a fixture trace and the status of its result row.
type treeTrace struct {
	variant, example string
	index            int64
	epoch            int
	resultErr        bool
	spans            []treeSpan
}

func (tt treeTrace) id() string {
	return traces.TraceID("r1", tt.variant, tt.example, fmt.Sprint(tt.epoch))
}

const (
	micro = time.Microsecond
	milli = time.Millisecond
)

// hostileOutput is a model output that tries to clear the screen, recolour
// it, return to the start of the line and reverse the text that follows.
const hostileOutput = "\x1b[2J\x1b[31mred\rover\u202eevil\x07 \u009b31m \xff"

// treeFixture is a small run of two variants whose traces.parquet is not
// in the run's order (the candidate's traces come first, examples and
// children are shuffled): nesting, a judge with its own model call, a
// failed chain, a failed judge, a failed result whose spans all say ok,
// a hostile output, and a trace of an example with no index.
func treeFixture() []treeTrace {
	llmAttrs := map[string]any{"model": "openai/gpt-4o-mini", "provider": "openai", "prompt_tokens": 120, "completion_tokens": 30,
		"cost_usd": 0.000123, "retries": 2, "cache": "hit"}
	chat := `[{"role":"system","content":"Be brief."},{"role":"user","content":"What is 2+2?\nShow your work."}]`
	okChain := func(out string) []treeSpan {
		return []treeSpan{
			{id: "root", name: "qa", kind: traces.KindChain, end: 2 * milli, in: `{"q":"2+2"}`, out: out},
			{id: "solve", parent: "root", name: "solve", kind: traces.KindLLM, start: 100 * micro, end: 1500 * micro, in: chat, out: "2+2 = 4\n#### " + out,
				attrs: map[string]any{"model": "offline/calc", "prompt_tokens": 12, "completion_tokens": 5, "tokens_estimated": true}},
			{id: "extract", parent: "root", name: "answer", kind: traces.KindParser, start: 1600 * micro, end: 1650 * micro, in: "#### " + out, out: out},
			{id: "j1", name: "correct", kind: traces.KindJudge, start: 2100 * micro, end: 2110 * micro, in: out, out: "expected 4",
				attrs: map[string]any{"judge_type": "numeric_match", "score": 1, "pass": true}},
		}
	}
	return []treeTrace{
		{variant: "cand", example: "e2", index: 1, epoch: 0, spans: []treeSpan{
			{id: "root", name: "qa", kind: traces.KindChain, end: 3 * milli, out: "4"},
			{id: "j1", name: "tone", kind: traces.KindJudge, start: 3100 * micro, end: 4 * milli, err: "judge panicked: \x1b[1mboom",
				attrs: map[string]any{"judge_type": "llm_rubric"}},
		}},
		{variant: "cand", example: "e1", index: 0, epoch: 1, spans: okChain("4")},
		{variant: "cand", example: "e1", index: 0, epoch: 0, spans: []treeSpan{
			{id: "root", name: "qa", kind: traces.KindChain, end: 2500 * milli, out: hostileOutput},
			{id: "solve", parent: "root", name: "solve\x1b]0;pwned\x07", kind: traces.KindLLM, start: 1 * milli, end: 2400 * milli, out: hostileOutput, attrs: llmAttrs},
		}},
		{variant: "base", example: "e2", index: 1, epoch: 0, resultErr: true, spans: []treeSpan{
			{id: "root", name: "qa", kind: traces.KindChain, end: 65 * time.Second, err: "step solve: HTTP 500\nupstream timeout"},
			{id: "solve", parent: "root", name: "solve", kind: traces.KindLLM, start: 10 * milli, end: 64 * time.Second, err: "HTTP 500\nupstream timeout",
				attrs: map[string]any{"model": "openai/gpt-4o-mini", "prompt_tokens": 0, "completion_tokens": 0, "retries": 3, "cache": "miss"}},
		}},
		{variant: "base", example: "e1", index: 0, epoch: 0, spans: []treeSpan{
			// Children written out of order: the tree sorts them by start.
			{id: "extract", parent: "root", name: "answer", kind: traces.KindParser, start: 1600 * micro, end: 1650 * micro},
			{id: "jllm", parent: "j2", name: "tone", kind: traces.KindLLM, start: 2300 * micro, end: 2900 * micro,
				attrs: map[string]any{"model": "openai/gpt-4o", "prompt_tokens": 300, "completion_tokens": 20, "cost_usd": 0.0021}},
			{id: "root", name: "qa", kind: traces.KindChain, end: 2 * milli},
			{id: "solve", parent: "root", name: "solve", kind: traces.KindLLM, start: 100 * micro, end: 1500 * micro, attrs: llmAttrs},
			{id: "j2", name: "tone", kind: traces.KindJudge, start: 2200 * micro, end: 3 * milli, attrs: map[string]any{"judge_type": "llm_rubric", "score": 0.75, "pass": true}},
			{id: "j1", name: "correct", kind: traces.KindJudge, start: 2100 * micro, end: 2110 * micro,
				attrs: map[string]any{"judge_type": "numeric_match", "score": 0, "pass": false}},
		}},
		// Spans all ok, but the result row failed (a timeout after the
		// chain's last step, say).
		{variant: "base", example: "e3", index: 2, epoch: 0, resultErr: true, spans: []treeSpan{
			{id: "root", name: "qa", kind: traces.KindChain, end: 900 * micro},
		}},
		// No example index (an older writer): it follows the indexed ones.
		{variant: "base", example: "legacy", index: -1, epoch: 0, spans: []treeSpan{
			{id: "root", name: "qa", kind: traces.KindChain, end: 0},
		}},
	}
}

// writeTreeRun writes a run of the fixture traces: manifest, results,
// scores (with the label of base/e1's "tone" judge) and traces.
func writeTreeRun(t *testing.T, tts []treeTrace) string {
	t.Helper()
	var rs []results.Result
	for _, tt := range tts {
		r := results.Result{RunID: "r1", Variant: tt.variant, ExampleID: tt.example, ExampleIndex: tt.index, Epoch: int32(tt.epoch),
			Status: results.StatusOK, TraceID: tt.id()}
		if tt.resultErr {
			r.Status, r.Error = results.StatusError, results.Str("failed")
		}
		rs = append(rs, r)
	}
	// An example with a result row but no trace.
	rs = append(rs, results.Result{RunID: "r1", Variant: "base", ExampleID: "untraced", ExampleIndex: 9, Status: results.StatusOK})
	base := treeTrace{variant: "base", example: "e1"}
	ss := []results.Score{{RunID: "r1", Variant: "base", ExampleID: "e1", Judge: "tone", Status: results.ScoreOK,
		Score: fp(0.75), Pass: bp(true), Label: results.Str("polite"), TraceID: base.id(), SpanID: "j2"}}
	dir := writeRun(t, []string{"base", "cand"}, []string{"correct", "tone"}, rs, ss)
	writeTreeTraces(t, dir, tts)
	return dir
}

func writeTreeTraces(t *testing.T, dir string, tts []treeTrace) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, results.TracesFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := traces.NewWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tts {
		spans := make([]traces.Span, len(tt.spans))
		for i, s := range tt.spans {
			spans[i] = traces.Span{TraceID: tt.id(), SpanID: s.id, ParentID: s.parent, Name: s.name, Kind: s.kind,
				Start: treeT0.Add(s.start), End: treeT0.Add(s.end), Status: traces.StatusOK, Error: s.err,
				Input: s.in, Output: s.out, Attributes: s.attrs}
			if s.err != "" {
				spans[i].Status = traces.StatusError
			}
		}
		if err := w.WriteIndexed("r1", tt.variant, tt.example, tt.index, tt.epoch, spans); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func writeTrees(t *testing.T, dir string, f TraceFilter, o TreeOptions) (string, TraceTreeStats) {
	t.Helper()
	var buf bytes.Buffer
	st, err := WriteTraceTrees(&buf, dir, f, o)
	if err != nil {
		t.Fatalf("WriteTraceTrees: %v", err)
	}
	return buf.String(), st
}

// treeGolden compares got with testdata/tracetree.name.golden, rewriting
// it under -update.
func treeGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "tracetree."+name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./report/ -run %s -update creates it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test ./report/ -run %s -update rewrites it)\n--- got ---\n%s", path, t.Name(), got)
	}
}

func treeEpoch(n int) *int { return &n }

func TestTraceTreesGolden(t *testing.T) {
	dir := writeTreeRun(t, treeFixture())
	cases := []struct {
		name string
		f    TraceFilter
		o    TreeOptions
	}{
		{"all", TraceFilter{}, TreeOptions{Width: 120}},
		{"full", TraceFilter{Variants: []string{"cand"}, Example: "e1", Epoch: treeEpoch(1)}, TreeOptions{Full: true, Width: 120}},
		{"errors", TraceFilter{ErrorsOnly: true}, TreeOptions{Width: 120}},
		{"limit", TraceFilter{Limit: 2}, TreeOptions{Width: 120, MoreHint: "use --limit 0"}},
		{"narrow", TraceFilter{Variants: []string{"base"}, Example: "e1"}, TreeOptions{Width: 30}},
		{"hostile", TraceFilter{Variants: []string{"cand"}, Example: "e1", Epoch: treeEpoch(0)}, TreeOptions{Full: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, _ := writeTrees(t, dir, c.f, c.o)
			treeGolden(t, c.name, got)
		})
	}
}

// treeHeaders returns the "variant/example/epoch" of each trace printed.
func treeHeaders(out string) []string {
	re := regexp.MustCompile(`(?m)^(\S+) · (\S+) · epoch (\d+) · .* · trace [0-9a-f]{32}$`)
	var hs []string
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		hs = append(hs, m[1]+"/"+m[2]+"/"+m[3])
	}
	return hs
}

func TestTraceTreesFilters(t *testing.T) {
	dir := writeTreeRun(t, treeFixture())
	all := []string{"base/e1/0", "base/e2/0", "base/e3/0", "base/legacy/0", "cand/e1/0", "cand/e1/1", "cand/e2/0"}
	cases := []struct {
		name    string
		f       TraceFilter
		want    []string
		matched int
		last    string // the output's last line
	}{
		{"all in the run's order", TraceFilter{}, all, 7, `      error: judge panicked: \u001b[1mboom`},
		{"one variant", TraceFilter{Variants: []string{"cand"}}, all[4:], 3, ""},
		{"two variants", TraceFilter{Variants: []string{"cand", "base"}}, all, 7, ""},
		{"one example, all variants and epochs", TraceFilter{Example: "e1"}, []string{"base/e1/0", "cand/e1/0", "cand/e1/1"}, 3, ""},
		{"example and variant", TraceFilter{Example: "e1", Variants: []string{"cand"}}, []string{"cand/e1/0", "cand/e1/1"}, 2, ""},
		{"epoch", TraceFilter{Epoch: treeEpoch(1)}, []string{"cand/e1/1"}, 1, ""},
		{"errors: failed spans and failed results", TraceFilter{ErrorsOnly: true}, []string{"base/e2/0", "base/e3/0", "cand/e2/0"}, 3, ""},
		{"errors of one variant", TraceFilter{ErrorsOnly: true, Variants: []string{"base"}}, []string{"base/e2/0", "base/e3/0"}, 2, ""},
		{"errors, none", TraceFilter{ErrorsOnly: true, Epoch: treeEpoch(1)}, nil, 0, "no matching trace has an error"},
		{"limit keeps the first", TraceFilter{Limit: 3}, all[:3], 7,
			"… 4 more traces match (showing the first 3); raise the limit to see them"},
		{"limit of one more", TraceFilter{Limit: 6}, all[:6], 7, "… 1 more trace matches (showing the first 6); raise the limit to see them"},
		{"limit above the count", TraceFilter{Limit: 50}, all, 7, ""},
		{"limit with errors", TraceFilter{Limit: 1, ErrorsOnly: true}, []string{"base/e2/0"}, 3, ""},
		{"an example without traces", TraceFilter{Example: "untraced"}, nil, 0, "no matching traces"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, st := writeTrees(t, dir, c.f, TreeOptions{})
			if got := treeHeaders(out); strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("traces %v, want %v\n%s", got, c.want, out)
			}
			if st.Matched != c.matched || st.Printed != len(c.want) {
				t.Errorf("stats %+v, want %d matched, %d printed", st, c.matched, len(c.want))
			}
			lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
			if c.last != "" && lines[len(lines)-1] != c.last {
				t.Errorf("last line %q, want %q", lines[len(lines)-1], c.last)
			}
		})
	}
}

func TestTraceTreesUnknownNames(t *testing.T) {
	dir := writeTreeRun(t, treeFixture())
	cases := []struct {
		name string
		f    TraceFilter
		want []string
	}{
		{"example", TraceFilter{Example: "nope"}, []string{`no example "nope"`, dir}},
		{"variant", TraceFilter{Variants: []string{"base", "candidate"}}, []string{`no variant "candidate"`, "variants: base, cand"}},
		{"negative limit", TraceFilter{Limit: -1}, []string{"must not be negative"}},
		{"negative epoch", TraceFilter{Epoch: treeEpoch(-2)}, []string{"must not be negative"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			_, err := WriteTraceTrees(&buf, dir, c.f, TreeOptions{})
			if err == nil {
				t.Fatalf("no error; output:\n%s", &buf)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %q before failing", &buf)
			}
		})
	}
	if _, err := WriteTraceTrees(&bytes.Buffer{}, t.TempDir(), TraceFilter{}, TreeOptions{}); err == nil || !strings.Contains(err.Error(), "manifest.json") {
		t.Errorf("a directory without a run: error %v", err)
	}
	// A run without traces.parquet (still running, say): the error names
	// the file.
	empty := writeRun(t, []string{"base"}, nil, nil, nil)
	if _, err := WriteTraceTrees(&bytes.Buffer{}, empty, TraceFilter{}, TreeOptions{}); err == nil || !strings.Contains(err.Error(), results.TracesFile) {
		t.Errorf("a run without traces: error %v", err)
	}
}

// TestTraceTreesEscapes checks that nothing read from the run reaches the
// terminal raw: no escape, carriage return, bell, C1 control or
// bidirectional override, with or without colour; with colour, the only
// escape sequences are the tree's own styles.
func TestTraceTreesEscapes(t *testing.T) {
	dir := writeTreeRun(t, treeFixture())
	for _, color := range []bool{false, true} {
		out, _ := writeTrees(t, dir, TraceFilter{}, TreeOptions{Full: true, Color: color})
		if color {
			styles := regexp.MustCompile(`\x1b\[(0|1|2|31)m`)
			if !styles.MatchString(out) {
				t.Errorf("Color: no style in the output")
			}
			out = styles.ReplaceAllString(out, "")
		}
		for _, bad := range []string{"\x1b", "\r", "\x07", "\x9b", "\u009b", "\u202e"} {
			if strings.Contains(out, bad) {
				t.Errorf("color %v: output has %q raw:\n%s", color, bad, out)
			}
		}
		for _, want := range []string{`\u001b[2J\u001b[31mred\rover\u202eevil\u0007 \u009b31m \ufffd`, `solve\u001b]0;pwned\u0007`, `error: judge panicked: \u001b[1mboom`} {
			if !strings.Contains(out, want) {
				t.Errorf("color %v: output lacks the escaped %q", color, want)
			}
		}
	}
	// Without colour the output has no escape code at all.
	out, _ := writeTrees(t, dir, TraceFilter{}, TreeOptions{})
	if strings.ContainsRune(out, 0x1b) {
		t.Error("output without Color has an escape code")
	}
}

func TestTraceTreesColor(t *testing.T) {
	dir := writeTreeRun(t, treeFixture())
	out, _ := writeTrees(t, dir, TraceFilter{Variants: []string{"base"}, Example: "e2"}, TreeOptions{Color: true})
	for _, want := range []string{
		"\x1b[31merror\x1b[0m",                              // a failed span's status
		"\x1b[31merror: HTTP 500\\nupstream timeout\x1b[0m", // its error line
		"\x1b[2m1m05s\x1b[0m",                               // a duration
	} {
		if !strings.Contains(out, want) {
			t.Errorf("coloured output lacks %q:\n%s", want, out)
		}
	}
	plain, _ := writeTrees(t, dir, TraceFilter{Variants: []string{"base"}, Example: "e2"}, TreeOptions{})
	if stripped := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(out, ""); stripped != plain {
		t.Errorf("coloured output without its codes differs from the plain one:\n%s\n---\n%s", stripped, plain)
	}
}

// TestTraceTreesLimitOrder writes many traces in a random order and checks
// that a limit prints the first ones of the run's order, whatever the
// file's order, and counts the rest.
func TestTraceTreesLimitOrder(t *testing.T) {
	var tts []treeTrace
	for _, v := range []string{"base", "cand"} {
		for i := range 30 {
			for e := range 2 {
				tts = append(tts, treeTrace{variant: v, example: fmt.Sprintf("x%02d", i), index: int64(i), epoch: e,
					spans: []treeSpan{{id: "root", name: "qa", kind: traces.KindChain, end: milli}}})
			}
		}
	}
	want := make([]string, len(tts))
	for i, tt := range tts {
		want[i] = fmt.Sprintf("%s/%s/%d", tt.variant, tt.example, tt.epoch)
	}
	rng := rand.New(rand.NewSource(1))
	rng.Shuffle(len(tts), func(i, j int) { tts[i], tts[j] = tts[j], tts[i] })
	dir := writeRun(t, []string{"base", "cand"}, nil, nil, nil)
	writeTreeTraces(t, dir, tts)
	for _, limit := range []int{1, 7, 59, 60, 0} {
		out, st := writeTrees(t, dir, TraceFilter{Limit: limit}, TreeOptions{})
		n := limit
		if n == 0 {
			n = len(want)
		}
		if got := treeHeaders(out); strings.Join(got, " ") != strings.Join(want[:n], " ") {
			t.Errorf("limit %d: traces %v, want %v", limit, got, want[:n])
		}
		if st.Matched != 120 || st.Printed != n || st.Spans != n {
			t.Errorf("limit %d: stats %+v", limit, st)
		}
	}
}

// TestTraceTreesCycle checks that spans whose parents form a cycle (a
// corrupt file) are still printed, once each.
func TestTraceTreesCycle(t *testing.T) {
	tts := []treeTrace{{variant: "base", example: "e1", spans: []treeSpan{
		{id: "root", name: "qa", kind: traces.KindChain, end: milli},
		{id: "a", parent: "b", name: "a", kind: traces.KindTool, start: 10 * micro, end: 20 * micro},
		{id: "b", parent: "a", name: "b", kind: traces.KindTool, start: 30 * micro, end: 40 * micro},
		{id: "c", parent: "missing", name: "orphan", kind: traces.KindTool, start: 50 * micro, end: 60 * micro},
	}}}
	dir := writeRun(t, []string{"base"}, nil, nil, nil)
	writeTreeTraces(t, dir, tts)
	out, st := writeTrees(t, dir, TraceFilter{}, TreeOptions{})
	if st.Spans != 4 {
		t.Errorf("printed %d spans, want 4:\n%s", st.Spans, out)
	}
	for _, name := range []string{"qa  chain", "a  tool", "b  tool", "orphan  tool"} {
		if strings.Count(out, name) != 1 {
			t.Errorf("%q printed %d times:\n%s", name, strings.Count(out, name), out)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0µs"},
		{0, "0µs"},
		{7 * micro, "7µs"},
		{999 * micro, "999µs"},
		{milli, "1.0ms"},
		{1250 * micro, "1.2ms"},
		{999 * milli, "999.0ms"},
		{1500 * milli, "1.50s"},
		{59 * time.Second, "59.00s"},
		{65 * time.Second, "1m05s"},
		{2*time.Hour + 3*time.Second, "120m03s"},
	}
	for _, c := range cases {
		if got := treeDuration(c.d); got != c.want {
			t.Errorf("treeDuration(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}
