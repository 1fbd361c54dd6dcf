package eval_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/eval"
	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/traces"
)

// streamFirstTokenDelay is how long the stream tests' server holds back
// the first token of a streamed reply.
const streamFirstTokenDelay = 40 * time.Millisecond

// sumReply answers "Adding A and B.\n#### A+B" to "compute A + B", with
// its usage, holding a stream's first token back.
func sumReply(req chatRequest) fakeReply {
	m := promptSumRE.FindStringSubmatch(req.lastUser())
	if m == nil {
		return fakeReply{Content: "I see no sum."}
	}
	var a, b int
	fmt.Sscan(m[1], &a)
	fmt.Sscan(m[2], &b)
	return fakeReply{Content: fmt.Sprintf("Adding %d and %d.\n#### %d", a, b, a+b),
		PromptTokens: 20, CompletionTokens: 9, FirstTokenDelay: streamFirstTokenDelay}
}

// streamSpec has a variant whose params stream and one whose do not, the
// same prompt for both, and ttft judges with a generous and an impossible
// limit.
func streamSpec(baseURL, extra string) string {
	return `name: stream
retry: {base_delay: 1ms, max_delay: 5ms}
dataset: {path: data.jsonl, id: "{{.id}}"}
providers:
  local: {base_url: "` + baseURL + `", api_key_env: TEST_KEY}
variants:
  - {name: plain, model: local/m1, prompt: "id={{.example.id}} Please compute {{.example.a}} + {{.example.b}}.", params: {temperature: 0}}
  - {name: streamed, model: local/m1, prompt: "id={{.example.id}} Please compute {{.example.a}} + {{.example.b}}.", params: {temperature: 0, stream: true}}
chain:
  - {name: solve, kind: llm}
  - {name: answer, kind: extract, regex: "####\\s*(-?[\\d,.]+)"}
judges:
  - {name: correct, type: numeric_match, expected: "{{.example.answer}}"}
  - {name: snappy, type: ttft, max_ms: 60000}
  - {name: instant, type: ttft, max_ms: 1}
` + extra
}

// llmSpan returns the llm span of a result's trace.
func llmSpan(t *testing.T, run storedRun, r results.Result) traces.Record {
	t.Helper()
	for _, s := range run.spansOf(r.TraceID) {
		if s.Kind == traces.KindLLM {
			return s
		}
	}
	t.Fatalf("%s/%s: no llm span", r.Variant, r.ExampleID)
	return traces.Record{}
}

// A streamed variant gets the same answers as a variant that does not
// stream, with its time to first token in results.parquet, on its spans
// and judged by the ttft judge.
func TestStreamedVariant(t *testing.T) {
	t.Parallel()
	exs := arithDataset(6)
	srv := newFakeOpenAI(t, sumReply)
	sr := newSpecRun(t, streamSpec(srv.BaseURL(), ""), map[string]string{"data.jsonl": arithJSONL(t, exs)})
	run := sr.mustRun(t.Context(), eval.Options{Concurrency: 4, Getenv: testGetenv})
	srv.checkProtocol(t)

	rows := run.resultMap(t)
	for _, e := range exs {
		plain, streamed := rows[resultKey{"plain", e.id, 0}], rows[resultKey{"streamed", e.id, 0}]
		if plain.Status != results.StatusOK || streamed.Status != results.StatusOK || streamed.Output != plain.Output ||
			streamed.Steps != plain.Steps || streamed.PromptTokens != plain.PromptTokens || streamed.CompletionTokens != plain.CompletionTokens {
			t.Errorf("%s: streamed %+v\nplain %+v", e.id, streamed, plain)
		}
		if plain.TTFTMS != nil {
			t.Errorf("%s: a result that was not streamed has ttft_ms %v", e.id, *plain.TTFTMS)
		}
		if streamed.TTFTMS == nil || *streamed.TTFTMS < float64(streamFirstTokenDelay.Milliseconds()) || *streamed.TTFTMS > streamed.LatencyMS {
			t.Errorf("%s: ttft_ms %v, latency %v: want at least %v", e.id, streamed.TTFTMS, streamed.LatencyMS, streamFirstTokenDelay)
		}

		ps, ss := llmSpan(t, run, plain), llmSpan(t, run, streamed)
		if _, ok := ps.Attributes["ttft_ms"]; ok {
			t.Errorf("%s: the plain call's span has ttft_ms", e.id)
		}
		ttft, ok := ss.Attributes["ttft_ms"].(float64)
		if !ok || ttft < float64(streamFirstTokenDelay.Milliseconds()) || ss.Output != ps.Output {
			t.Errorf("%s: streamed span ttft_ms %v", e.id, ss.Attributes["ttft_ms"])
		}
		if tps, ok := ss.Attributes["tokens_per_second"].(float64); ok && tps <= 0 {
			t.Errorf("%s: tokens_per_second %v", e.id, tps)
		}
		if p, _ := ss.Attributes["params"].(map[string]any); p["stream"] != true {
			t.Errorf("%s: span params %v", e.id, ss.Attributes["params"])
		}
		root := run.spansOf(streamed.TraceID)[0]
		if root.Kind != traces.KindChain || root.Attributes["ttft_ms"] != *streamed.TTFTMS {
			t.Errorf("%s: chain span ttft_ms %v, want %v", e.id, root.Attributes["ttft_ms"], *streamed.TTFTMS)
		}

		for variant, want := range map[string]map[string]string{
			"plain":    {"snappy": "judge_error", "instant": "judge_error"},
			"streamed": {"snappy": "pass", "instant": "fail"},
		} {
			sc := run.scoresOf(variant, e.id, 0)
			for judge, w := range want {
				s := sc[judge]
				got := string(s.Status)
				if s.Status == results.ScoreOK {
					got = map[bool]string{true: "pass", false: "fail"}[*s.Pass]
				}
				if got != w {
					t.Errorf("%s/%s %s: %s (%s %s), want %s", variant, e.id, judge, got, results.Deref(s.Reason), results.Deref(s.Error), w)
				}
				if w == "judge_error" && !strings.Contains(results.Deref(s.Error), "not streamed") {
					t.Errorf("%s/%s %s: error %q", variant, e.id, judge, results.Deref(s.Error))
				}
			}
		}
	}
}

// stream: true in a step's params streams that step for every variant.
func TestStreamedStep(t *testing.T) {
	t.Parallel()
	srv := newFakeOpenAI(t, sumReply)
	spec := `name: step
dataset: {path: data.jsonl, id: "{{.id}}"}
providers:
  local: {base_url: "` + srv.BaseURL() + `", api_key_env: TEST_KEY}
variants:
  - {name: a, model: local/m1, prompt: "Please compute {{.example.a}} + {{.example.b}}."}
chain:
  - {name: solve, kind: llm, params: {stream: true}}
`
	sr := newSpecRun(t, spec, map[string]string{"data.jsonl": arithJSONL(t, arithDataset(2))})
	run := sr.mustRun(t.Context(), eval.Options{Getenv: testGetenv})
	srv.checkProtocol(t)
	for _, r := range run.results {
		if r.Status != results.StatusOK || r.TTFTMS == nil || !strings.HasPrefix(r.Output, "Adding") {
			t.Errorf("%s: %+v", r.ExampleID, r)
		}
	}
}

// A second run from the cache makes no call: its streamed results come
// whole from the cache and have no time to first token, which the ttft
// judge cannot judge.
func TestStreamedFromTheCache(t *testing.T) {
	t.Parallel()
	exs := arithDataset(3)
	srv := newFakeOpenAI(t, sumReply)
	sr := newSpecRun(t, streamSpec(srv.BaseURL(), ""), map[string]string{"data.jsonl": arithJSONL(t, exs)})
	cache := llm.NewMemoryCache()
	live := sr.mustRun(t.Context(), eval.Options{Getenv: testGetenv, Cache: cache})
	calls := srv.requests.Load()
	again := sr.mustRun(t.Context(), eval.Options{Getenv: testGetenv, Cache: cache})
	if n := srv.requests.Load(); n != calls {
		t.Errorf("the second run made %d calls", n-calls)
	}
	// Streamed or not, the same call is one cache entry.
	if calls != int64(len(exs)) {
		t.Errorf("%d calls for %d examples of two variants that differ only in streaming", calls, len(exs))
	}
	lr, ar := live.resultMap(t), again.resultMap(t)
	for _, e := range exs {
		k := resultKey{"streamed", e.id, 0}
		l, a := lr[k], ar[k]
		if !a.Cached || a.TTFTMS != nil || a.Output != l.Output {
			t.Errorf("%s: cached result %+v", e.id, a)
		}
		if _, ok := llmSpan(t, again, a).Attributes["ttft_ms"]; ok {
			t.Errorf("%s: a cache hit's span has ttft_ms", e.id)
		}
		if s := again.scoresOf("streamed", e.id, 0)["snappy"]; s.Status != results.ScoreJudgeError {
			t.Errorf("%s: snappy on a cached result: %s %s", e.id, s.Status, results.Deref(s.Reason))
		}
	}
}

// Streams that fail: before their first token they are retried; after
// it, or when the example's time runs out, the result is an error row
// that keeps the time to first token, and its span what arrived.
func TestStreamFaultsAreErrorRows(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string]int{}
	reply := func(req chatRequest) fakeReply {
		id := firstGroup(promptIDRE, req.lastUser())
		mu.Lock()
		seen[id]++
		n := seen[id]
		mu.Unlock()
		rep := sumReply(req)
		rep.FirstTokenDelay = 0
		switch id {
		case "ex-00": // cut after the first token
			rep.CutAfterFirst = true
		case "ex-01": // a 500 before any chunk, then fine
			if n == 1 {
				return fakeReply{Status: http.StatusInternalServerError, Content: "try again"}
			}
		case "ex-02": // 500s until the retries run out
			return fakeReply{Status: http.StatusInternalServerError, Content: "down"}
		case "ex-03": // stalls after the first token, past the example timeout
			rep.StallAfterFirst = true
		case "ex-04": // no usage chunk: estimated
			rep.NoUsage = true
		}
		return rep
	}
	srv := newFakeOpenAI(t, reply)
	spec := streamSpec(srv.BaseURL(), "example_timeout: 500ms\n")
	spec = strings.Replace(spec, "retry: {base_delay: 1ms, max_delay: 5ms}", "retry: {base_delay: 1ms, max_delay: 5ms, max_attempts: 3}", 1)
	// Only the streamed variant.
	spec = strings.Replace(spec, "  - {name: plain, model: local/m1, prompt: \"id={{.example.id}} Please compute {{.example.a}} + {{.example.b}}.\", params: {temperature: 0}}\n", "", 1)
	sr := newSpecRun(t, spec, map[string]string{"data.jsonl": arithJSONL(t, arithDataset(5))})
	run := sr.mustRun(t.Context(), eval.Options{Concurrency: 5, Getenv: testGetenv})
	if len(run.results) != 5 {
		t.Fatalf("%d results, want 5: every example ends as a row", len(run.results))
	}
	rows := run.resultMap(t)
	for _, tc := range []struct {
		id       string
		ok       bool
		ttft     bool
		requests int
		err      string // in the row's error
		partial  string // the llm span's output
	}{
		{id: "ex-00", ttft: true, requests: 1, err: "broke off after its first token", partial: "Adding"},
		{id: "ex-01", ok: true, ttft: true, requests: 2},
		{id: "ex-02", requests: 3, err: "HTTP 500"},
		{id: "ex-03", ttft: true, requests: 1, err: "example timeout", partial: "Adding"},
		{id: "ex-04", ok: true, ttft: true, requests: 1},
	} {
		r := rows[resultKey{"streamed", tc.id, 0}]
		if (r.Status == results.StatusOK) != tc.ok || (r.TTFTMS != nil) != tc.ttft || !strings.Contains(results.Deref(r.Error), tc.err) {
			t.Errorf("%s: status %s ttft %v error %q", tc.id, r.Status, r.TTFTMS, results.Deref(r.Error))
		}
		mu.Lock()
		n := seen[tc.id]
		mu.Unlock()
		if n != tc.requests {
			t.Errorf("%s: %d requests, want %d", tc.id, n, tc.requests)
		}
		span := llmSpan(t, run, r)
		if tc.partial != "" {
			if span.Status != traces.StatusError || span.Output != tc.partial || span.Attributes["stream_incomplete"] != true ||
				r.FailedStep == nil || *r.FailedStep != "solve" || r.CompletionTokens == 0 {
				t.Errorf("%s: span %s output %q attrs %v; row failed step %v, completion tokens %d", tc.id, span.Status, span.Output, span.Attributes, r.FailedStep, r.CompletionTokens)
			}
			if s := run.scoresOf("streamed", tc.id, 0)["snappy"]; s.Status != results.ScoreSkipped {
				t.Errorf("%s: snappy %s on an error row", tc.id, s.Status)
			}
		}
		if tc.id == "ex-04" && (span.Attributes["tokens_estimated"] != true || r.CompletionTokens != int64((len(span.Output)+3)/4)) {
			t.Errorf("ex-04: tokens %d, estimated %v", r.CompletionTokens, span.Attributes["tokens_estimated"])
		}
	}
}

// Scoring a file that recorded each answer's time to first token: the
// ttft_ms fact fills the column and feeds the ttft judge; a null fact is
// unknown.
func TestScoreTTFTFact(t *testing.T) {
	t.Parallel()
	rows := `{"id": "r1", "answer": "4", "ms": 120}
{"id": "r2", "answer": "6", "ms": 950.5}
{"id": "r3", "answer": "8", "ms": null}
`
	spec := `name: facts
dataset: {id: id}
score: {output: answer, ttft_ms: ms}
judges:
  - {name: snappy, type: ttft, max_ms: 500}
`
	sr := newSpecRun(t, spec, map[string]string{"out.jsonl": rows})
	s, err := eval.LoadSpec(sr.path, eval.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := eval.Score(t.Context(), s, eval.ScoreOptions{Input: filepath.Join(sr.dir, "out.jsonl"), Options: eval.Options{Out: filepath.Join(t.TempDir(), "run")}})
	if err != nil {
		t.Fatalf("Score: %v", err)
	}
	run := readStoredRun(t, out.Dir)
	byID := run.resultMap(t)
	for id, want := range map[string]struct {
		ttft  *float64
		score string
	}{
		"r1": {ptrTo(120.0), "pass"}, "r2": {ptrTo(950.5), "fail"}, "r3": {nil, "judge_error"},
	} {
		r := byID[resultKey{"output", id, 0}]
		if numOrNull(r.TTFTMS) != numOrNull(want.ttft) {
			t.Errorf("%s: ttft_ms %s, want %s", id, numOrNull(r.TTFTMS), numOrNull(want.ttft))
		}
		sc := run.scoresOf("output", id, 0)["snappy"]
		got := string(sc.Status)
		if sc.Status == results.ScoreOK {
			got = map[bool]string{true: "pass", false: "fail"}[*sc.Pass]
		}
		if got != want.score {
			t.Errorf("%s: snappy %s, want %s", id, got, want.score)
		}
	}
}

func ptrTo[T any](v T) *T { return &v }

func numOrNull(v *float64) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprint(*v)
}
