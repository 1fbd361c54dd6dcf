package eval_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gavel-eval/gavel/eval"
	"github.com/gavel-eval/gavel/eval/results"
)

// An http step's header values and the credentials of its URL stay out
// of what the run stores: errors never hold a header value (the app
// below quotes them all), outputs never hold a value taken from the
// environment, and neither the spans nor the manifest hold the URL's
// user:password or its ?token=.
func TestHTTPStepKeepsHeaderValuesAndURLCredentialsOut(t *testing.T) {
	t.Parallel()
	const (
		envToken = "env-token-1a2b3c4d5e"
		literal  = "literal-static-77889900"
		urlPass  = "url-pass-55443322"
		urlToken = "url-token-99887766"
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		echo := fmt.Sprintf("auth=%s static=%s mode=%s", r.Header.Get("Authorization"), r.Header.Get("X-Static"), r.Header.Get("X-Mode"))
		if r.URL.Path == "/err" {
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, strings.Repeat("z", 470)+" "+echo)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"answer": echo})
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	step := func(path string) string {
		return fmt.Sprintf("  - name: app\n    kind: http\n    url: \"http://bob:%s@%s%s?token=%s&lang=en\"\n    output: answer\n"+
			"    headers: {Authorization: \"Bearer ${APP_TOKEN}\", X-Static: %s, X-Mode: plain-mode}\n", urlPass, host, path, urlToken, literal)
	}
	getenv := func(k string) string {
		if k == "APP_TOKEN" {
			return envToken
		}
		return ""
	}
	secrets := []string{envToken, literal, urlPass, urlToken}
	check := func(t *testing.T, run storedRun) {
		t.Helper()
		var all strings.Builder
		for _, r := range run.results {
			fmt.Fprintf(&all, "%s\n%s\n", r.Output, results.Deref(r.Error))
		}
		for _, s := range run.spans {
			attrs, _ := json.Marshal(s.Attributes)
			fmt.Fprintf(&all, "%s\n%s\n%s\n%s\n", s.Input, s.Output, s.Error, attrs)
		}
		m, _ := json.Marshal(run.manifest)
		all.Write(m)
		for _, sec := range secrets {
			if i := strings.Index(all.String(), sec[:8]); i >= 0 {
				t.Errorf("the run keeps %q: ...%s...", sec, all.String()[max(0, i-40):min(all.Len(), i+30)])
			}
		}
	}

	t.Run("echoed in errors", func(t *testing.T) {
		t.Parallel()
		run := runStepCase(t, stepCase{chain: step("/err"),
			errs:   map[string][]string{"e1": {"HTTP 502", "auth=Bearer [redacted]"}},
			failed: "app"}, eval.LoadOptions{}, eval.Options{Getenv: getenv})
		check(t, run)
	})
	t.Run("echoed in outputs", func(t *testing.T) {
		t.Parallel()
		run := runStepCase(t, stepCase{chain: step("/ok"),
			// A literal value not named like a credential is the app's
			// business in its output; what came from the environment is not.
			out: map[string]string{"e1": "auth=[redacted] static=" + literal + " mode=plain-mode"},
		}, eval.LoadOptions{}, eval.Options{Getenv: getenv})
		for _, r := range run.results {
			if strings.Contains(r.Output, envToken) {
				t.Errorf("output %q keeps the environment's token", r.Output)
			}
		}
		for _, s := range run.spans {
			if u, ok := s.Attributes["url"].(string); ok && (strings.Contains(u, urlPass) || strings.Contains(u, urlToken) || !strings.Contains(u, "lang=en")) {
				t.Errorf("span url %q", u)
			}
		}
		m, _ := json.Marshal(run.manifest)
		if strings.Contains(string(m), urlPass) || strings.Contains(string(m), urlToken) || strings.Contains(string(m), literal) {
			t.Errorf("the manifest keeps a credential: %s", m)
		}
	})
}

// Resuming a run whose stored spec had a literal header value redacted
// sends the real value again: it is read from the unchanged spec file.
func TestResumeSendsTheRealHeaderValue(t *testing.T) {
	t.Parallel()
	const literal = "literal-resume-24681357"
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Key") != literal {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, "wrong key")
			return
		}
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "busy")
			return
		}
		_, _ = io.WriteString(w, `{"answer": "fine"}`)
	}))
	defer srv.Close()
	chain := fmt.Sprintf("  - {name: app, kind: http, url: %q, output: answer, headers: {X-Key: %s}}\n", srv.URL, literal)
	sr := newSpecRun(t, stepSpec(chain, ""), map[string]string{"data.jsonl": jsonl(t, stepExamples[:1])})
	out, err := sr.run(t.Context(), eval.Options{Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	first := readStoredRun(t, out.Dir)
	if strings.Contains(first.manifest.Spec, literal) || results.Deref(first.results[0].Error) == "" {
		t.Fatalf("first run: spec %q, error %q", first.manifest.Spec, results.Deref(first.results[0].Error))
	}
	if _, err := eval.Resume(t.Context(), out.Dir, eval.ResumeOptions{RetryErrors: true}); err != nil {
		t.Fatal(err)
	}
	again := readStoredRun(t, out.Dir)
	if len(again.results) != 1 || again.results[0].Output != "fine" {
		t.Errorf("resumed results %+v, want the example done with the real header value", again.results)
	}
}
