package eval_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/eval"
	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/traces"
)

const testAPIKey = "sk-test-7f3a9c1e5b2d4f60-DO-NOT-LEAK"

// arithExample is one example of the arithmetic dataset used by the runner
// tests: the server adds a and b; answer is what the dataset claims.
type arithExample struct {
	id        string
	n         int
	a, b      int
	answer    int
	fails     bool // the server answers HTTP 500
	slow      bool // the server holds the reply back
	wrongData bool // the dataset's answer is wrong on purpose
}

// arithDataset returns n examples. Every fifth (n%5 == 3) has a wrong
// answer in the dataset, so judges fail on it; failIDs get HTTP 500s;
// ids ending in 7 are slow.
func arithDataset(n int, failIDs ...string) []arithExample {
	fail := map[string]bool{}
	for _, id := range failIDs {
		fail[id] = true
	}
	out := make([]arithExample, n)
	for i := range out {
		e := arithExample{id: fmt.Sprintf("ex-%02d", i), n: i, a: i*37 + 5, b: i * 53}
		e.answer = e.a + e.b
		if i%5 == 3 {
			e.answer++
			e.wrongData = true
		}
		e.fails = fail[e.id]
		e.slow = strings.HasSuffix(e.id, "7")
		out[i] = e
	}
	return out
}

func arithJSONL(t testing.TB, exs []arithExample) string {
	rows := make([]map[string]any, len(exs))
	for i, e := range exs {
		rows[i] = map[string]any{"id": e.id, "a": e.a, "b": e.b, "answer": e.answer}
	}
	return jsonl(t, rows)
}

// withSeparators formats n with thousands separators: 12345 -> "12,345".
func withSeparators(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

var (
	promptIDRE      = regexp.MustCompile(`id=(\S+)`)
	promptVariantRE = regexp.MustCompile(`variant=(\S+)`)
	promptSumRE     = regexp.MustCompile(`compute (\d+) \+ (\d+)`)
)

// arithServerReply is the test server's deterministic behaviour: it adds
// the two numbers of the prompt, formats the sum with separators when the
// prompt asks for them, fails the ids in fail and delays slow ids.
func arithServerReply(fail map[string]bool, slowDelay time.Duration) func(chatRequest) fakeReply {
	return func(req chatRequest) fakeReply {
		p := req.lastUser()
		id := firstGroup(promptIDRE, p)
		variant := firstGroup(promptVariantRE, p)
		var rep fakeReply
		if strings.HasSuffix(id, "7") {
			rep.Delay = slowDelay
		}
		if fail[id] {
			rep.Status = http.StatusInternalServerError
			rep.Content = "The server had an error while processing your request."
			return rep
		}
		m := promptSumRE.FindStringSubmatch(p)
		if m == nil {
			rep.Content = "I see no sum."
			return rep
		}
		a, _ := strconv.Atoi(m[1])
		b, _ := strconv.Atoi(m[2])
		ans := strconv.Itoa(a + b)
		if strings.Contains(p, "thousands separators") {
			ans = withSeparators(a + b)
		}
		rep.Content = fmt.Sprintf("Adding %d and %d.\n#### %s", a, b, ans)
		n, _ := strconv.Atoi(strings.TrimPrefix(id, "ex-"))
		rep.PromptTokens = 100 + n
		rep.CompletionTokens = 10
		if variant == "commas" {
			rep.CompletionTokens = 11
		}
		return rep
	}
}

func firstGroup(re *regexp.Regexp, s string) string {
	if m := re.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}

// arithSpec is a spec with the provider "local" at baseURL, two variants
// of local/m1 and the solve/answer chain judged by numeric_match and equals.
func arithSpec(baseURL string) string {
	return `name: arith
retry: {base_delay: 1ms, max_delay: 5ms}
dataset: {path: data.jsonl, id: "{{.id}}"}
providers:
  local: {base_url: "` + baseURL + `", api_key_env: TEST_KEY}
variants:
  - name: plain
    model: local/m1
    prompt: "id={{.example.id}} variant={{.variant.name}}\nPlease compute {{.example.a}} + {{.example.b}}."
    params: {temperature: 0}
  - name: commas
    model: local/m1
    prompt:
      - {role: system, content: "You add numbers."}
      - {role: user, content: "id={{.example.id}} variant={{.variant.name}}\nPlease compute {{.example.a}} + {{.example.b}}, with thousands separators."}
    params: {temperature: 0.5}
chain:
  - {name: solve, kind: llm}
  - {name: answer, kind: extract, regex: "####\\s*(-?[\\d,.]+)"}
judges:
  - {name: correct, type: numeric_match, expected: "{{.example.answer}}"}
  - {name: exact, type: equals, expected: "{{.example.answer}}"}
`
}

func testGetenv(name string) string {
	if name == "TEST_KEY" {
		return testAPIKey
	}
	return ""
}

func TestRunOpenAICompatibleServer(t *testing.T) {
	t.Parallel()
	exs := arithDataset(40, "ex-13", "ex-26")
	fail := map[string]bool{}
	for _, e := range exs {
		if e.fails {
			fail[e.id] = true
		}
	}
	srv := newFakeOpenAI(t, arithServerReply(fail, 200*time.Millisecond))
	sr := newSpecRun(t, arithSpec(srv.BaseURL()), map[string]string{"data.jsonl": arithJSONL(t, exs)})

	const conc = 4
	out, err := sr.run(t.Context(), eval.Options{Concurrency: conc, Getenv: testGetenv, Now: time.Now})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	run := readStoredRun(t, out.Dir)
	srv.checkProtocol(t)

	variants := []string{"plain", "commas"}

	// Every (variant, example) is exactly one row.
	if got, want := len(run.results), len(variants)*len(exs); got != want {
		t.Errorf("results rows = %d, want %d", got, want)
	}
	rows := run.resultMap(t)
	var wantErrors, wantPromptTokens, wantCompletionTokens int64
	wantSpans := 0
	for _, v := range variants {
		for _, e := range exs {
			r, ok := rows[resultKey{v, e.id, 0}]
			if !ok {
				t.Errorf("no result row for %s/%s", v, e.id)
				continue
			}
			if r.RunID != out.Manifest.RunID {
				t.Errorf("%s/%s: run_id %q, want %q", v, e.id, r.RunID, out.Manifest.RunID)
			}
			if got := results.Deref(r.Expected); got != strconv.Itoa(e.answer) {
				t.Errorf("%s/%s: expected column %q, want %d", v, e.id, got, e.answer)
			}
			var input map[string]any
			if err := json.Unmarshal([]byte(r.Input), &input); err != nil || input["id"] != e.id {
				t.Errorf("%s/%s: input %q does not hold the example (%v)", v, e.id, r.Input, err)
			}
			scores := run.scoresOf(v, e.id, 0)
			if len(scores) != 2 {
				t.Errorf("%s/%s: %d scores, want 2 (correct, exact)", v, e.id, len(scores))
			}
			if e.fails {
				wantErrors++
				wantSpans += 2 // chain + failed llm span
				if r.Status != results.StatusError {
					t.Errorf("%s/%s: status %q, want error", v, e.id, r.Status)
				}
				if msg := results.Deref(r.Error); msg == "" || !strings.Contains(msg, "500") {
					t.Errorf("%s/%s: error %q, want one mentioning 500", v, e.id, msg)
				}
				if got := results.Deref(r.FailedStep); got != "solve" {
					t.Errorf("%s/%s: failed_step %q, want solve", v, e.id, got)
				}
				if r.Output != "" {
					t.Errorf("%s/%s: failed result has output %q", v, e.id, r.Output)
				}
				for name, s := range scores {
					if s.Status != results.ScoreSkipped || s.Pass != nil || s.Score != nil {
						t.Errorf("%s/%s judge %s: status %q pass %v score %v, want skipped with no verdict", v, e.id, name, s.Status, s.Pass, s.Score)
					}
				}
				continue
			}
			wantSpans += 5 // chain, llm, extract, 2 judges
			sum := e.a + e.b
			want := strconv.Itoa(sum)
			wantCompletion := int64(10)
			if v == "commas" {
				want = withSeparators(sum)
				wantCompletion = 11
			}
			wantPromptTokens += int64(100 + e.n)
			wantCompletionTokens += wantCompletion
			if r.Status != results.StatusOK || r.Error != nil || r.FailedStep != nil {
				t.Errorf("%s/%s: status %q error %q failed_step %q, want ok", v, e.id, r.Status, results.Deref(r.Error), results.Deref(r.FailedStep))
			}
			if r.Output != want {
				t.Errorf("%s/%s: output %q, want %q", v, e.id, r.Output, want)
			}
			if r.PromptTokens != int64(100+e.n) || r.CompletionTokens != wantCompletion {
				t.Errorf("%s/%s: tokens %d/%d, want %d/%d", v, e.id, r.PromptTokens, r.CompletionTokens, 100+e.n, wantCompletion)
			}
			if r.CostUSD != nil {
				t.Errorf("%s/%s: cost %v for an unpriced model", v, e.id, *r.CostUSD)
			}
			if r.LatencyMS < 0 {
				t.Errorf("%s/%s: negative latency %v", v, e.id, r.LatencyMS)
			}
			if e.slow && r.LatencyMS < 200 {
				t.Errorf("%s/%s: latency %vms for a reply held back 200ms", v, e.id, r.LatencyMS)
			}
			verdicts := map[string]bool{
				"correct": sum == e.answer,                // numeric_match ignores separators
				"exact":   want == strconv.Itoa(e.answer), // equals compares text
			}
			for name, pass := range verdicts {
				s, ok := scores[name]
				if !ok {
					continue
				}
				if s.Status != results.ScoreOK || s.Pass == nil || *s.Pass != pass {
					t.Errorf("%s/%s judge %s: status %q pass %v, want ok pass=%v (reason %q)", v, e.id, name, s.Status, s.Pass, pass, results.Deref(s.Reason))
					continue
				}
				wantScore := 0.0
				if pass {
					wantScore = 1
				}
				if s.Score == nil || *s.Score != wantScore {
					t.Errorf("%s/%s judge %s: score %v, want %v", v, e.id, name, s.Score, wantScore)
				}
				if s.TraceID != r.TraceID || s.SpanID == "" {
					t.Errorf("%s/%s judge %s: trace %q span %q, want the result's trace and a span", v, e.id, name, s.TraceID, s.SpanID)
				}
			}
		}
	}
	// Sanity of the dataset design: both verdicts occur for both judges.
	passes := map[string]map[bool]int{}
	for _, s := range run.scores {
		if s.Pass != nil {
			if passes[s.Judge] == nil {
				passes[s.Judge] = map[bool]int{}
			}
			passes[s.Judge][*s.Pass]++
		}
	}
	for _, j := range []string{"correct", "exact"} {
		if passes[j][true] == 0 || passes[j][false] == 0 {
			t.Errorf("judge %s: verdicts %v, want both passes and failures", j, passes[j])
		}
	}

	// A failed call's llm span carries the error.
	for _, r := range run.results {
		if r.Status != results.StatusError {
			continue
		}
		var llmSpan *traces.Record
		for _, s := range run.spansOf(r.TraceID) {
			if s.Kind == traces.KindLLM {
				llmSpan = &s
			}
		}
		if llmSpan == nil {
			t.Errorf("%s/%s: no llm span", r.Variant, r.ExampleID)
		} else if llmSpan.Status != traces.StatusError || !strings.Contains(llmSpan.Error, "500") {
			t.Errorf("%s/%s: llm span status %q error %q, want error mentioning 500", r.Variant, r.ExampleID, llmSpan.Status, llmSpan.Error)
		}
	}

	// The key went to the server, on every request.
	auth := srv.authHeaders()
	if len(auth) != 1 || auth["Bearer "+testAPIKey] == 0 {
		keys := make([]string, 0, len(auth))
		for k := range auth {
			keys = append(keys, fmt.Sprintf("%q×%d", k, auth[k]))
		}
		t.Errorf("Authorization headers seen: %v, want only the bearer key", keys)
	}
	if got, want := srv.requests.Load(), int64(len(variants)*len(exs)); got < want {
		t.Errorf("server saw %d requests, want at least %d", got, want)
	}

	// The runner ran calls concurrently, within its bound.
	if m := srv.maxInflight.Load(); m < 2 || m > conc {
		t.Errorf("max requests in flight = %d, want 2..%d", m, conc)
	}

	// The manifest.
	m := run.manifest
	if m.Status != results.RunCompleted || m.Error != "" {
		t.Errorf("manifest status %q error %q, want completed", m.Status, m.Error)
	}
	if m.Concurrency != conc || m.Repeat != 1 || m.Dataset.Examples != len(exs) {
		t.Errorf("manifest concurrency %d repeat %d examples %d", m.Concurrency, m.Repeat, m.Dataset.Examples)
	}
	if len(m.Variants) != 2 || m.Variants[0].Name != "plain" || m.Variants[1].Name != "commas" {
		t.Errorf("manifest variants %+v", m.Variants)
	}
	wantTotals := results.Totals{
		Results: int64(len(variants) * len(exs)), Errors: wantErrors,
		Scores: int64(2 * len(variants) * len(exs)), Spans: int64(wantSpans),
		PromptTokens: wantPromptTokens, CompletionTokens: wantCompletionTokens,
	}
	gotTotals := m.Totals
	gotTotals.DurationMS = 0
	if gotTotals != wantTotals {
		t.Errorf("manifest totals\n got %+v\nwant %+v", gotTotals, wantTotals)
	}
	if int64(len(run.spans)) != m.Totals.Spans || int64(len(run.scores)) != m.Totals.Scores {
		t.Errorf("files hold %d spans, %d scores; manifest says %d, %d", len(run.spans), len(run.scores), m.Totals.Spans, m.Totals.Scores)
	}
	if m.Totals.DurationMS <= 0 || m.EndedAt.Before(m.StartedAt) {
		t.Errorf("manifest duration %v, started %v ended %v", m.Totals.DurationMS, m.StartedAt, m.EndedAt)
	}

	// The key is in none of the four files.
	assertSecretAbsent(t, out.Dir, testAPIKey)
	// Nothing else is left in the run directory.
	entries, err := os.ReadDir(out.Dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "manifest.json results.parquet scores.parquet traces.parquet" {
		t.Errorf("run directory holds %v", names)
	}
}

// assertSecretAbsent fails t if secret occurs in manifest.json or in any
// decoded row of the run's Parquet files.
func assertSecretAbsent(t *testing.T, dir, secret string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, results.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(secret)) {
		t.Errorf("manifest.json contains the secret")
	}
	run := readStoredRun(t, dir)
	check := func(file string, i int, row any) {
		b, err := json.Marshal(row)
		if err != nil {
			t.Fatalf("%s row %d: %v", file, i, err)
		}
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s row %d contains the secret: %s", file, i, b)
		}
	}
	for i, r := range run.results {
		check(results.ResultsFile, i, r)
	}
	for i, s := range run.scores {
		check(results.ScoresFile, i, s)
	}
	for i, s := range run.spans {
		check(results.TracesFile, i, s)
	}
	if len(run.results) == 0 || len(run.spans) == 0 {
		t.Errorf("nothing to scan: %d results, %d spans", len(run.results), len(run.spans))
	}
}

// TestRunKeyEchoedByServer: a server that quotes the API key back in its
// error (as some do on 401) does not get it stored.
func TestRunKeyEchoedByServer(t *testing.T) {
	t.Parallel()
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeOpenAIError(w, http.StatusUnauthorized,
			"Incorrect API key provided: "+strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), "invalid_request_error")
	}))
	t.Cleanup(echo.Close)
	sr := newSpecRun(t, arithSpec(echo.URL+"/v1"), map[string]string{"data.jsonl": arithJSONL(t, arithDataset(3))})
	out, err := sr.run(t.Context(), eval.Options{Getenv: testGetenv})
	if err != nil {
		t.Fatal(err)
	}
	run := readStoredRun(t, out.Dir)
	for _, r := range run.results {
		if msg := results.Deref(r.Error); r.Status != results.StatusError || !strings.Contains(msg, "401") || !strings.Contains(msg, "Incorrect API key provided") {
			t.Errorf("%s/%s: status %q error %q, want the 401", r.Variant, r.ExampleID, r.Status, msg)
		}
	}
	assertSecretAbsent(t, out.Dir, testAPIKey)
}

// The run pass does not keep the dataset's ids (the validation pass found
// them unique), so a dataset rewritten while the run goes on, here with a
// duplicate, is caught at the end by its fingerprint, not stored as if
// validated.
func TestRunDatasetChangedDuringRun(t *testing.T) {
	t.Parallel()
	var (
		sr   *specRun
		srv  *fakeOpenAI
		once sync.Once
	)
	reply := arithServerReply(nil, 0)
	srv = newFakeOpenAI(t, func(req chatRequest) fakeReply {
		once.Do(func() {
			path := filepath.Join(sr.dir, "data.jsonl")
			b, err := os.ReadFile(path)
			if err == nil {
				first, _, _ := strings.Cut(string(b), "\n")
				err = os.WriteFile(path, append(b, first+"\n"...), 0o644)
			}
			if err != nil {
				srv.violation("rewriting the dataset: %v", err)
			}
		})
		return reply(req)
	})
	sr = newSpecRun(t, arithSpec(srv.BaseURL()), map[string]string{"data.jsonl": arithJSONL(t, arithDataset(20))})
	_, err := sr.run(t.Context(), eval.Options{Getenv: testGetenv, Concurrency: 1})
	if err == nil || !strings.Contains(err.Error(), "changed during the run") {
		t.Fatalf("run over a dataset rewritten mid-run: %v, want an error saying it changed", err)
	}
}
