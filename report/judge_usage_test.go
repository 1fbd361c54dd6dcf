package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/traces"
)

// writeTraces writes spans as dir's traces.parquet, one trace per
// (variant, example) key of byTrace.
func writeTraces(t *testing.T, dir string, byTrace map[[2]string][]traces.Span) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, results.TracesFile))
	if err != nil {
		t.Fatal(err)
	}
	w, err := traces.NewWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range [][2]string{{"a", "e0"}, {"a", "e1"}, {"b", "e0"}, {"b", "e1"}, {"b", "pair"}} {
		if spans, ok := byTrace[k]; ok {
			if err := w.Write("r1", k[0], k[1], 0, spans); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func span(trace, id, parent string, kind traces.Kind, attrs map[string]any) traces.Span {
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	return traces.Span{TraceID: trace, SpanID: id, ParentID: parent, Name: id, Kind: kind, Start: at, End: at.Add(time.Millisecond),
		Status: traces.StatusOK, Attributes: attrs}
}

func usageAttrs(in, out int, cost any) map[string]any {
	m := map[string]any{"model": "m", "prompt_tokens": in, "completion_tokens": out}
	if cost != nil {
		m["cost_usd"] = cost
	}
	return m
}

// judgeUsageRun writes a run of two variants whose chain calls cost 0.001
// each and whose judges call models: variant a 3 calls (600 → 80 tokens,
// $0.035), variant b 2 calls (750 → 70 tokens, $0.03 and one unpriced),
// one of them a pairwise judge's.
func judgeUsageRun(t *testing.T) string {
	var rs []results.Result
	var ss []results.Score
	for _, v := range []string{"a", "b"} {
		for i, id := range []string{"e0", "e1"} {
			rs = append(rs, results.Result{Variant: v, ExampleID: id, ExampleIndex: int64(i), Status: results.StatusOK,
				PromptTokens: 10, CompletionTokens: 5, CostUSD: fp(0.001), TraceID: v + id})
			ss = append(ss, results.Score{Variant: v, ExampleID: id, ExampleIndex: int64(i), Judge: "j", Status: results.ScoreOK, Score: fp(1), Pass: bp(true)})
		}
	}
	dir := writeRun(t, []string{"a", "b"}, []string{"j"}, rs, ss)
	chain := func(tr string) []traces.Span {
		return []traces.Span{
			span(tr, tr+"-root", "", traces.KindChain, nil),
			span(tr, tr+"-solve", tr+"-root", traces.KindLLM, usageAttrs(10, 5, 0.001)),
		}
	}
	judged := func(tr string, calls ...map[string]any) []traces.Span {
		s := append(chain(tr), span(tr, tr+"-judge", "", traces.KindJudge, map[string]any{"judge_type": "llm_rubric"}))
		for i, c := range calls {
			// A call directly below the judge, and one a level deeper.
			parent := tr + "-judge"
			if i%2 == 1 {
				parent = tr + "-repeat"
				s = append(s, span(tr, tr+"-repeat", tr+"-judge", traces.KindChain, nil))
			}
			s = append(s, span(tr, tr+"-call"+itoa(i), parent, traces.KindLLM, c))
		}
		return s
	}
	writeTraces(t, dir, map[[2]string][]traces.Span{
		{"a", "e0"}: judged("ae0", usageAttrs(300, 40, 0.02), usageAttrs(100, 10, 0.005)),
		{"a", "e1"}: judged("ae1", usageAttrs(200, 30, 0.01)),
		{"b", "e0"}: judged("be0", usageAttrs(250, 20, nil)), // no known price
		{"b", "e1"}: chain("be1"),                            // a judge that calls no model
		{"b", "pair"}: {span("pair", "pair-judge", "", traces.KindJudge, nil),
			span("pair", "pair-call", "pair-judge", traces.KindLLM, usageAttrs(500, 50, 0.03))},
	})
	return dir
}

// TestJudgeTokensAndCost: a variant's totals hold what its judges' model
// calls used and cost, apart from the chain's.
func TestJudgeTokensAndCost(t *testing.T) {
	dir := judgeUsageRun(t)
	r, err := ForRun(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := r.Variants[0], r.Variants[1]
	if a.JudgePromptTokens != 600 || a.JudgeCompletionTokens != 80 || !near(a.JudgeCostUSD, 0.035) || a.JudgeCalls != 3 || a.JudgeUnpriced != 0 {
		t.Errorf("variant a judge usage = %d/%d tokens, $%g, %d calls, %d unpriced; want 600/80, $0.035, 3, 0",
			a.JudgePromptTokens, a.JudgeCompletionTokens, a.JudgeCostUSD, a.JudgeCalls, a.JudgeUnpriced)
	}
	if b.JudgePromptTokens != 750 || b.JudgeCompletionTokens != 70 || !near(b.JudgeCostUSD, 0.03) || b.JudgeCalls != 2 || b.JudgeUnpriced != 1 {
		t.Errorf("variant b judge usage = %d/%d tokens, $%g, %d calls, %d unpriced; want 750/70, $0.03, 2, 1",
			b.JudgePromptTokens, b.JudgeCompletionTokens, b.JudgeCostUSD, b.JudgeCalls, b.JudgeUnpriced)
	}
	// The chain's own figures are unchanged.
	if a.PromptTokens != 20 || a.CompletionTokens != 10 || !near(a.CostUSD, 0.002) {
		t.Errorf("variant a system usage = %d/%d, $%g", a.PromptTokens, a.CompletionTokens, a.CostUSD)
	}
	text := render(t, r, FormatText, RenderOptions{})
	md := render(t, r, FormatMarkdown, RenderOptions{})
	for _, want := range []string{"judge tokens", "judge cost $", "680", "0.0350", "820"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	js := render(t, r, FormatJSON, RenderOptions{})
	for _, want := range []string{`"judge_prompt_tokens": 600`, `"judge_completion_tokens": 80`, `"judge_cost_usd": 0.035`, `"judge_calls": 3`, `"judge_unpriced": 1`} {
		if !strings.Contains(js, want) {
			t.Errorf("JSON lacks %s", want)
		}
	}

	// A run without traces (heuristic judges only) has no judge usage.
	if err := os.Remove(filepath.Join(dir, results.TracesFile)); err != nil {
		t.Fatal(err)
	}
	r, err = ForRun(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v := r.Variants[0]; v.JudgeCalls != 0 || v.JudgePromptTokens != 0 || v.JudgeCostUSD != 0 {
		t.Errorf("without traces: %+v", v)
	}
}

func near(a, b float64) bool { return a-b < 1e-12 && b-a < 1e-12 }

// TestSummarizeJudgeUsage: the summary a run prints when it ends has the
// judges' tokens and cost beside the chain's.
func TestSummarizeJudgeUsage(t *testing.T) {
	sum, err := Summarize(judgeUsageRun(t))
	if err != nil {
		t.Fatal(err)
	}
	a, b := sum.Variants[0], sum.Variants[1]
	if a.JudgePromptTokens+a.JudgeCompletionTokens != 680 || !near(a.JudgeCostUSD, 0.035) || a.JudgeCalls != 3 || a.JudgeUnpriced != 0 {
		t.Errorf("a: judge tokens %d, $%g, %d calls, %d unpriced", a.JudgePromptTokens+a.JudgeCompletionTokens, a.JudgeCostUSD, a.JudgeCalls, a.JudgeUnpriced)
	}
	if b.JudgePromptTokens+b.JudgeCompletionTokens != 820 || !near(b.JudgeCostUSD, 0.03) || b.JudgeCalls != 2 || b.JudgeUnpriced != 1 {
		t.Errorf("b: judge tokens %d, $%g, %d calls, %d unpriced", b.JudgePromptTokens+b.JudgeCompletionTokens, b.JudgeCostUSD, b.JudgeCalls, b.JudgeUnpriced)
	}
	var buf bytes.Buffer
	if err := WriteSummary(&buf, sum); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	for _, want := range []string{"judge tokens", "judge cost $", "680", "0.0350", "820", "0.0300",
		"b: 1 of 2 judge model calls have no known price"} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
}
