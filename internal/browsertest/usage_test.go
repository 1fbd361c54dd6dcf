package browsertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/internal/testrun"
	"github.com/gavel-eval/gavel/report"
)

// judgeServer is an OpenAI-compatible chat server: the chain's model
// models (chain...) answer "#### N" to "What is N?" with 5 → 2 tokens,
// every other model is a judge that passes the output with 40 → 8 tokens.
func judgeServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Model    string
			Messages []struct{ Role, Content string }
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Messages) == 0 {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		content, in, out := `{"reason": "it answers the question", "pass": true, "score": 1}`, 40, 8
		if strings.HasPrefix(req.Model, "chain") {
			prompt := req.Messages[len(req.Messages)-1].Content
			content, in, out = "#### "+strings.TrimSuffix(strings.TrimPrefix(prompt, "What is "), "?"), 5, 2
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
				"message": map[string]any{"role": "assistant", "content": content}}},
			"usage": map[string]any{"prompt_tokens": in, "completion_tokens": out, "total_tokens": in + out},
		})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// usageSpec writes a dataset of four examples and a spec of two variants
// on the server's chain models (short on the priced local/chain, long on
// longModel), judged by judges, and returns the spec.
func usageSpec(t *testing.T, url, longModel, judges string) string {
	t.Helper()
	dir := t.TempDir()
	var data strings.Builder
	for i := range 4 {
		fmt.Fprintf(&data, `{"id": "e%d", "n": %d}`+"\n", i, i+1)
	}
	if err := os.WriteFile(filepath.Join(dir, "data.jsonl"), []byte(data.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := filepath.Join(dir, "gavel.yaml")
	if err := os.WriteFile(spec, []byte(`name: usage
retry: {max_attempts: 1}
dataset: {path: data.jsonl, id: "{{.id}}"}
providers:
  local: {base_url: "`+url+`/v1"}
prices:
  local/chain: {input_per_mtok: 100, output_per_mtok: 200}
  local/judge: {input_per_mtok: 1000, output_per_mtok: 2000}
variants:
  - {name: short, model: local/chain, prompt: "What is {{.example.n}}?"}
  - {name: long, model: `+longModel+`, prompt: "What is {{.example.n}}?", params: {temperature: 0}}
chain:
  - {name: solve, kind: llm}
judges:
  - {name: correct, type: numeric_match, expected: "{{.example.n}}"}
`+judges), 0o644); err != nil {
		t.Fatal(err)
	}
	return spec
}

// summaryCell is the text of the summary table's cell of column col
// (its data-col) in variant's row, or null when there is none.
func (b *browser) summaryCell(variant, col string) *string {
	b.t.Helper()
	return evalJS[*string](b, fmt.Sprintf(`(() => {
		const row = [...document.querySelectorAll('#summary tbody tr')].find(r => r.cells[0].textContent === %q);
		const cell = row && row.querySelector('td[data-col=%q]');
		return cell ? cell.textContent : null; })()`, variant, col))
}

// wantJudgeCost is what the summary table says of a variant's judge cost:
// the other reports' rules ("-" without judge model calls, "n/a" when none
// had a known price), and how many calls were left out of a partial sum.
func wantJudgeCost(v report.VariantStats) string {
	switch {
	case v.JudgeCalls == 0:
		return "-"
	case v.JudgeUnpriced >= v.JudgeCalls:
		return "n/a"
	case v.JudgeUnpriced > 0:
		return fmt.Sprintf("%.4f (+%d unpriced)", v.JudgeCostUSD, v.JudgeUnpriced)
	}
	return fmt.Sprintf("%.4f", v.JudgeCostUSD)
}

func wantJudgeTokens(v report.VariantStats) string {
	if v.JudgeCalls == 0 {
		return "-"
	}
	return fmt.Sprint(v.JudgePromptTokens + v.JudgeCompletionTokens)
}

// TestSummaryShowsJudgeUsageAndCache: the page's summary table shows each
// variant's judge tokens and judge cost as the other reports do (a sum,
// n/a, or -), the cost chart draws the judges' cost beside the chain's,
// and the page says how many results came from the cache. Expected values
// come from the report of the stored run, never from the page.
func TestSummaryShowsJudgeUsageAndCache(t *testing.T) {
	srv := judgeServer(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "cache.db")
	// Two LLM judges: one priced, one not (its calls are left out of the
	// judge cost); the run is made once live, then from the cache.
	mixed := usageSpec(t, srv.URL, "local/chain", `  - {name: sound, type: llm_rubric, model: local/judge, rubric: "The answer is right."}
  - {name: plain, type: llm_rubric, model: local/free, rubric: "The answer is plain."}
`)
	// No judge call has a price, nor has the long variant's chain.
	unpriced := usageSpec(t, srv.URL, "local/chain-free", `  - {name: plain, type: llm_rubric, model: local/free, rubric: "The answer is plain."}
`)
	live, cached, free := filepath.Join(dir, "live"), filepath.Join(dir, "cached"), filepath.Join(dir, "free")
	testrun.Must(t, nil, "run", mixed, "--out", live, "--cache", "rw", "--cache-path", db)
	testrun.Must(t, nil, "run", mixed, "--out", cached, "--cache", "rw", "--cache-path", db)
	testrun.Must(t, nil, "run", unpriced, "--out", free, "--cache", "off")
	pages := map[string]string{}
	for _, run := range []string{cached, free} {
		pages[run] = filepath.Join(dir, filepath.Base(run)+".html")
		testrun.Must(t, nil, "report", run, "--format", "html="+pages[run])
	}
	f := getFixtures(t)

	b := newBrowser(t)
	for _, tc := range []struct {
		name, dir, url string
		check          func(t *testing.T, v report.VariantStats)
	}{
		{"partly priced, from the cache", cached, "file://" + pages[cached], func(t *testing.T, v report.VariantStats) {
			if v.JudgeCalls == 0 || v.JudgeCostUSD <= 0 || v.JudgeUnpriced == 0 || v.JudgeUnpriced >= v.JudgeCalls || v.FromCache != v.Results {
				t.Fatalf("%s: the run is not what the test needs: %+v", v.Name, v)
			}
		}},
		{"unpriced", free, "file://" + pages[free], func(t *testing.T, v report.VariantStats) {
			if v.JudgeCalls == 0 || v.JudgeUnpriced != v.JudgeCalls || v.FromCache != 0 || (v.Name == "long") != (v.Unpriced == v.Results) {
				t.Fatalf("%s: the run is not what the test needs: %+v", v.Name, v)
			}
		}},
		{"no judge model calls", f.hostile, f.hostileReport, func(t *testing.T, v report.VariantStats) {
			if v.JudgeCalls != 0 {
				t.Fatalf("%s: %d judge model calls in a run without LLM judges", v.Name, v.JudgeCalls)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := report.ForRun(tc.dir, report.Options{})
			if err != nil {
				t.Fatal(err)
			}
			b.t = t
			b.open(tc.url)
			notes := evalJS[string](b, `(document.querySelector('#summary-notes') || {textContent: ''}).textContent`)
			for _, v := range rep.Variants {
				tc.check(t, v)
				if got := b.summaryCell(v.Name, "judge-tokens"); got == nil || strings.ReplaceAll(*got, ",", "") != wantJudgeTokens(v) {
					t.Errorf("%s: judge tokens %v, want %q", v.Name, deref(got), wantJudgeTokens(v))
				}
				if got := b.summaryCell(v.Name, "judge-cost"); got == nil || *got != wantJudgeCost(v) {
					t.Errorf("%s: judge cost %v, want %q", v.Name, deref(got), wantJudgeCost(v))
				}
				// The chain's cost, by the same rule: n/a when no result
				// had a known price.
				got := b.summaryCell(v.Name, "cost")
				if allUnpriced := v.Unpriced > 0 && v.Unpriced >= v.Results; got == nil || (*got == "n/a") != allUnpriced {
					t.Errorf("%s: cost %v with %d of %d results unpriced", v.Name, deref(got), v.Unpriced, v.Results)
				}
				note := fmt.Sprintf("%s: %d of %d results from the cache; their latency, tokens and cost are those of the original calls", v.Name, v.FromCache, v.Results)
				if v.FromCache > 0 && !strings.Contains(notes, note) {
					t.Errorf("the page does not say %q; its notes: %q", note, notes)
				}
			}
			if strings.Contains(notes, "from the cache") && rep.Variants[0].FromCache == 0 {
				t.Errorf("a run made without the cache says %q", notes)
			}
			for _, head := range []string{"judge tokens", "judge cost $"} {
				if n := evalJS[int](b, fmt.Sprintf(`[...document.querySelectorAll('#summary th')].filter(h => h.textContent === %q).length`, head)); n != 1 {
					t.Errorf("%d summary columns headed %q, want 1", n, head)
				}
			}

			// The cost chart: a judge bar beside each variant's chain bar
			// when judges called priced models, saying what they cost.
			b.click(`#tabs button[data-view="charts"]`)
			b.waitFor(`document.querySelectorAll('svg.chart').length > 0`)
			tips := evalJS[[]string](b, `[...document.querySelectorAll('svg.chart[data-chart="cost"] .ch-bar.ch-judge')].map(r => r.textContent)`)
			wantBars := 0
			for _, v := range rep.Variants {
				if v.JudgeCalls > v.JudgeUnpriced && v.JudgeCostUSD > 0 {
					wantBars++
					want := fmt.Sprintf("%s · judges: $%.6f over %d judge model calls", v.Name, v.JudgeCostUSD, v.JudgeCalls)
					found := false
					for _, tip := range tips {
						found = found || strings.HasPrefix(tip, want)
					}
					if !found {
						t.Errorf("no judge cost bar says %q; bars: %q", want, tips)
					}
				}
			}
			if len(tips) != wantBars {
				t.Errorf("%d judge cost bars, want %d: %q", len(tips), wantBars, tips)
			}
			b.clean()
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return "(no such cell)"
	}
	return fmt.Sprintf("%q", *s)
}
