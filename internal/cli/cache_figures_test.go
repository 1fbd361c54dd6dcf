package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/traces"
)

// TestCachedRunReportsTheOriginalFigures runs a spec against a server that
// takes 50ms per call, then again from the cache: the second run makes no
// call, yet reports the first run's latency (not the cache's), tokens and
// cost (n/a for an unpriced model, as live), marks its results and spans
// as cached, and its reports say how many results came from the cache.
func TestCachedRunReportsTheOriginalFigures(t *testing.T) {
	const delay = 50 * time.Millisecond
	srv := newSlowServer(t, delay)
	dir := t.TempDir()
	var data strings.Builder
	const n = 6
	for i := range n {
		fmt.Fprintf(&data, `{"id": "e%d", "n": %d}`+"\n", i, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "data.jsonl"), []byte(data.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := filepath.Join(dir, "gavel.yaml")
	if err := os.WriteFile(spec, []byte(`name: figures
retry: {max_attempts: 1}
dataset: {path: data.jsonl, id: id}
providers:
  local: {base_url: "`+srv.URL+`/v1"}
prices:
  local/priced: {input_per_mtok: 1000, output_per_mtok: 2000}
variants:
  - {name: priced, model: local/priced, prompt: "What is {{.example.n}}?"}
  - {name: unpriced, model: local/unpriced, prompt: "What is {{.example.n}}?"}
chain:
  - {name: solve, kind: llm}
judges:
  - {name: correct, type: numeric_match, expected: "{{.example.n}}"}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "cache.db")
	run := func(name string) map[string]results.Result {
		env, _, stderr := testEnv()
		env.Now = time.Now // real latencies
		out := filepath.Join(dir, name)
		if code := Main(context.Background(), []string{"run", spec, "--out", out, "--cache", "rw", "--cache-path", db}, env); code != ExitOK {
			t.Fatalf("%s: exit %d: %s", name, code, stderr)
		}
		rows := map[string]results.Result{}
		if err := results.ReadResults(filepath.Join(out, results.ResultsFile), func(r results.Result) error {
			rows[r.Variant+"/"+r.ExampleID] = r
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return rows
	}
	live := run("live")
	if got := srv.calls.Load(); got != 2*n {
		t.Fatalf("the live run made %d calls, want %d", got, 2*n)
	}
	cached := run("cached")
	if got := srv.calls.Load(); got != 2*n {
		t.Fatalf("the cached run made %d calls", got-2*n)
	}

	p50 := func(rows map[string]results.Result) float64 {
		var l []float64
		for _, r := range rows {
			l = append(l, r.LatencyMS)
		}
		slices.Sort(l)
		return (l[len(l)/2-1] + l[len(l)/2]) / 2
	}
	if a, b := p50(live), p50(cached); a < 50 || b < 50 || b < a-5 || b > a+20 {
		t.Errorf("p50 latency: live %.1f ms, from the cache %.1f ms; want the same, at least the server's 50 ms", a, b)
	}
	for k, l := range live {
		c := cached[k]
		if l.Cached || l.CacheHits != 0 || !c.Cached || c.CacheHits != 1 {
			t.Errorf("%s: cached %v/%d live, %v/%d from the cache", k, l.Cached, l.CacheHits, c.Cached, c.CacheHits)
		}
		if c.LatencyMS < 50 || c.PromptTokens != l.PromptTokens || c.CompletionTokens != l.CompletionTokens {
			t.Errorf("%s: latency %.1f ms, tokens %d/%d; live %.1f ms, %d/%d", k, c.LatencyMS, c.PromptTokens, c.CompletionTokens, l.LatencyMS, l.PromptTokens, l.CompletionTokens)
		}
		switch {
		case strings.HasPrefix(k, "unpriced/"):
			if l.CostUSD != nil || c.CostUSD != nil {
				t.Errorf("%s: cost %v live, %v from the cache; want none (n/a)", k, l.CostUSD, c.CostUSD)
			}
		case l.CostUSD == nil || c.CostUSD == nil || *l.CostUSD == 0 || *c.CostUSD != *l.CostUSD || c.CachedCostUSD != *l.CostUSD:
			t.Errorf("%s: cost %v live, %v (cached %v) from the cache; want the same", k, l.CostUSD, c.CostUSD, c.CachedCostUSD)
		}
	}

	// The chain's spans mark the hits.
	var hits, roots int
	err := traces.ReadFile(filepath.Join(dir, "cached", results.TracesFile), func(s traces.Record) error {
		switch s.Kind {
		case traces.KindLLM:
			if s.Attributes["cache"] == "hit" {
				hits++
			}
		case traces.KindChain:
			if s.Attributes["cache"] == "hit" {
				roots++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if hits != 2*n || roots != 2*n {
		t.Errorf("%d llm spans and %d chains marked cache: hit, want %d", hits, roots, 2*n)
	}

	// Every report says so.
	want := fmt.Sprintf("%d of %d results from the cache", n, n)
	for _, format := range []string{"text", "markdown", "json"} {
		env, stdout, stderr := testEnv()
		if code := Main(context.Background(), []string{"report", filepath.Join(dir, "cached"), "--format", format}, env); code != ExitOK {
			t.Fatalf("report %s: exit %d: %s", format, code, stderr)
		}
		got := stdout.String()
		if format == "json" {
			var r struct {
				Variants []struct {
					Name      string  `json:"name"`
					FromCache int     `json:"from_cache"`
					P50       float64 `json:"latency_p50_ms"`
				} `json:"variants"`
			}
			if err := json.Unmarshal([]byte(got), &r); err != nil {
				t.Fatal(err)
			}
			for _, v := range r.Variants {
				if v.FromCache != n || v.P50 < 50 {
					t.Errorf("json: variant %s: from_cache %d, p50 %.1f ms", v.Name, v.FromCache, v.P50)
				}
			}
			continue
		}
		if strings.Count(got, want) != 2 {
			t.Errorf("%s report does not say %q for both variants:\n%s", format, want, got)
		}
		if format == "text" && !strings.Contains(got, "n/a") {
			t.Errorf("text report: no n/a cost for the unpriced variant:\n%s", got)
		}
	}
	// And so does the run's own summary. A cost budget below what the
	// cached calls cost does not stop it: they were paid for already.
	env, stdout, stderr := testEnv()
	if code := Main(context.Background(), []string{"run", spec, "--out", filepath.Join(dir, "again"), "--cache", "rw", "--cache-path", db, "--max-cost", "0.01"}, env); code != ExitOK {
		t.Fatalf("again: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout.String(), want) || !strings.Contains(stdout.String(), ": completed,") {
		t.Errorf("the run's summary does not say %q, or the run did not complete:\n%s", want, stdout)
	}
}
