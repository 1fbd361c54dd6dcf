package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/eval/results"
)

// --prices-file prices the models a spec does not, in LiteLLM's layout;
// the spec's own prices win.
func TestRunPricesFile(t *testing.T) {
	srv := newSlowServer(t, 0)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "data.jsonl"), []byte(`{"id": "e1", "n": 1}`+"\n"), 0o644)
	spec := filepath.Join(dir, "gavel.yaml")
	os.WriteFile(spec, []byte(`name: prices
dataset: {path: data.jsonl, id: id}
providers:
  local: {base_url: "`+srv.URL+`/v1"}
prices:
  local/own: {input_per_mtok: 1000000, output_per_mtok: 0}
variants:
  - {name: own, model: local/own, prompt: "What is {{.example.n}}?"}
  - {name: filed, model: local/filed, prompt: "What is {{.example.n}}?"}
chain:
  - {name: solve, kind: llm}
`), 0o644)
	prices := filepath.Join(dir, "prices.json")
	os.WriteFile(prices, []byte(`{"filed": {"input_cost_per_token": 0.5, "output_cost_per_token": 0, "litellm_provider": "local"},
"own": {"input_cost_per_token": 99, "output_cost_per_token": 99, "litellm_provider": "local"}}`), 0o644)
	costs := func(args ...string) map[string]*float64 {
		t.Helper()
		out := filepath.Join(t.TempDir(), "run")
		if code, _, stderr := gavelOut(t, append([]string{"run", spec, "--out", out}, args...)...); code != ExitOK {
			t.Fatalf("run %v: %s", args, stderr)
		}
		got := map[string]*float64{}
		if err := results.ReadResults(filepath.Join(out, results.ResultsFile), func(r results.Result) error {
			if r.PromptTokens <= 0 {
				t.Fatalf("%s: no prompt tokens", r.Variant)
			}
			if r.CostUSD == nil {
				got[r.Variant] = nil
			} else {
				perToken := *r.CostUSD / float64(r.PromptTokens)
				got[r.Variant] = &perToken
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	with := costs("--prices-file", prices)
	if with["own"] == nil || *with["own"] != 1 || with["filed"] == nil || *with["filed"] != 0.5 {
		t.Errorf("per prompt token: own %v, filed %v; want 1 (the spec's) and 0.5 (the file's)", with["own"], with["filed"])
	}
	if without := costs(); without["filed"] != nil {
		t.Errorf("without the file, local/filed is priced: %v", *without["filed"])
	}
	if code, _, stderr := gavelOut(t, "run", spec, "--prices-file", filepath.Join(dir, "none.json")); code != ExitError || !strings.Contains(stderr, "--prices-file") {
		t.Errorf("a missing prices file: %d %s", code, stderr)
	}
}
