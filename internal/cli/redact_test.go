package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/traces"
)

// The secrets of the run below, each long enough that an 8-byte prefix
// of it means a leak.
const (
	canaryKey   = "sk-SECRET-CANARY-1234567890abcdefghij"
	appToken    = "app-token-CANARY-0987654321zyxwvu"
	staticValue = "static-header-CANARY-55555"
	urlPassword = "hunter2-CANARY-pass"
	urlQueryKey = "query-key-CANARY-777"
)

// A server that echoes the request, Authorization header included, in its
// error bodies, at positions that straddle every truncation limit; a
// model that repeats its key; an http step with a literal header value;
// a provider whose base_url carries credentials. None of the secrets, nor
// a prefix of 8 bytes of one, may reach results.parquet, traces.parquet,
// manifest.json, the HTML report, the cache file or the cassette.
func TestSecretsNeverLeakIntoStoredFiles(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/v1/chat/completions":
			var req struct {
				Messages []struct{ Content string }
			}
			_ = json.Unmarshal(body, &req)
			prompt := req.Messages[len(req.Messages)-1].Content
			kind, padText, _ := strings.Cut(prompt, " ")
			pad, _ := strconv.Atoi(padText)
			switch kind {
			case "fail":
				// Not OpenAI's JSON error: the message is the body's start.
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, "upstream echo %s Authorization: %s", strings.Repeat("x", pad), r.Header.Get("Authorization"))
				return
			case "leak":
				chatReply(w, "I was called with "+r.Header.Get("Authorization")+" ok")
				return
			}
			chatReply(w, "fine ok")
		case "/app":
			if bytes.Contains(body, []byte("appfail")) {
				var p struct {
					Example struct{ Pad int }
				}
				_ = json.Unmarshal(body, &p)
				w.WriteHeader(http.StatusBadGateway)
				fmt.Fprintf(w, "app echo %s X-Static: %s Authorization: %s", strings.Repeat("y", p.Example.Pad), r.Header.Get("X-Static"), r.Header.Get("Authorization"))
				return
			}
			fmt.Fprintf(w, `{"output": "app says ok"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	dir := t.TempDir()
	var data strings.Builder
	n := 0
	row := func(kind string, pad int) {
		n++
		fmt.Fprintf(&data, `{"id": "e%02d", "kind": %q, "pad": %d}`+"\n", n, kind, pad)
	}
	// "upstream echo " + pad + " Authorization: Bearer " puts the key
	// across the 300-character cut of the model client's message...
	for pad := 240; pad <= 290; pad += 5 {
		row("fail", pad)
	}
	// ... and across the 500-character cut of the http step's.
	for pad := 420; pad <= 500; pad += 8 {
		row("appfail", pad)
	}
	row("leak", 0)
	row("ok", 0)
	spec := fmt.Sprintf(`name: redact
dataset: {path: data.jsonl, id: "{{.id}}"}
providers:
  echo: {base_url: %q, api_key_env: ECHO_KEY}
  mirror:
    base_url: "http://bob:%s@127.0.0.1:1/v1?api-key=%s&region=eu"
    api_key_env: MIRROR_KEY
variants:
  - {name: v, model: echo/m, prompt: "{{.example.kind}} {{.example.pad}}"}
chain:
  - {name: solve, kind: llm}
  - name: app
    kind: http
    url: %q
    headers:
      Authorization: "Bearer ${APP_TOKEN}"
      X-Static: %s
    body: '{"tag": "{{.example.kind}}", "example": {"pad": {{.example.pad}}}}'
    output: "$.output"
judges:
  - {name: ok, type: contains, expected: "ok"}
`, srv.URL+"/v1", urlPassword, urlQueryKey, srv.URL+"/app", staticValue)
	must(t, os.WriteFile(filepath.Join(dir, "gavel.yaml"), []byte(spec), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "data.jsonl"), []byte(data.String()), 0o644))

	env, _, stderr := testEnv()
	env.Getenv = func(k string) string {
		switch k {
		case "ECHO_KEY":
			return canaryKey
		case "APP_TOKEN":
			return appToken
		}
		return ""
	}
	run := filepath.Join(dir, "run")
	cachePath := filepath.Join(dir, "cache.db")
	cassette := filepath.Join(dir, "cassette.jsonl")
	code := Main(context.Background(), []string{"run", filepath.Join(dir, "gavel.yaml"), "--out", run,
		"--cache", "rw", "--cache-path", cachePath, "--cassette", cassette}, env)
	if code != ExitOK && code != ExitGateFailed {
		t.Fatalf("gavel run: exit %d\n%s", code, stderr)
	}
	page := filepath.Join(dir, "report.html")
	if code := Main(context.Background(), []string{"report", run, "--format", "html", "-o", page}, env); code != ExitOK {
		t.Fatalf("gavel report: exit %d\n%s", code, stderr)
	}

	files := map[string]string{
		"results.parquet": dumpResults(t, filepath.Join(run, "results.parquet")),
		"traces.parquet":  dumpTraces(t, filepath.Join(run, "traces.parquet")),
		"manifest.json":   readString(t, filepath.Join(run, "manifest.json")),
		"report.html":     unpackPage(t, readString(t, page)),
		"cache.db":        readString(t, cachePath),
		"cassette":        readString(t, cassette),
		"stderr":          stderr.String(),
	}
	for name, text := range files {
		for _, secret := range []string{canaryKey, appToken, staticValue, urlPassword, urlQueryKey} {
			if where := leakOf(text, secret); where != "" {
				t.Errorf("%s keeps %q or a prefix of it: ...%s...", name, secret[:8], where)
			}
		}
	}
	// The checks above looked at the real text: the errors and the
	// redacted reply are there.
	for name, want := range map[string][]string{
		"results.parquet": {"upstream echo", "app echo", "I was called with Bearer [redacted] ok"},
		"traces.parquet":  {"upstream echo", "app echo", "I was called with Bearer [redacted] ok"},
		"report.html":     {"upstream echo", "app echo", "I was called with Bearer [redacted] ok"},
		"cache.db":        {"I was called with Bearer [redacted] ok"},
		"cassette":        {"I was called with Bearer [redacted] ok"},
		"manifest.json":   {"X-Static", "api_key_env: MIRROR_KEY", "region=eu"},
	} {
		for _, w := range want {
			if !strings.Contains(files[name], w) {
				t.Errorf("%s does not hold %q: the check looked at the wrong text", name, w)
			}
		}
	}
	var m results.Manifest
	must(t, json.Unmarshal([]byte(files["manifest.json"]), &m))
	if strings.Contains(m.Spec, staticValue) || !strings.Contains(m.Spec, `X-Static: "[redacted]"`) ||
		!strings.Contains(m.Spec, `Authorization: "[redacted]"`) {
		t.Errorf("the manifest's spec keeps header values:\n%s", m.Spec)
	}
}

func chatReply(w http.ResponseWriter, content string) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": content}}},
		"usage": map[string]any{"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	return string(b)
}

// leakOf returns the context of secret, or of a prefix of it of 8 bytes
// or more, in text; "" if neither is there.
func leakOf(text, secret string) string {
	for l := len(secret); l >= 8; l-- {
		if i := strings.Index(text, secret[:l]); i >= 0 {
			return text[max(0, i-30):min(len(text), i+l+5)]
		}
	}
	return ""
}

// dumpResults returns every row of a results file as JSON lines (Parquet
// pages are compressed: the bytes of the file say nothing).
func dumpResults(t *testing.T, path string) string {
	t.Helper()
	var b strings.Builder
	must(t, results.ReadResults(path, func(r results.Result) error {
		j, err := json.Marshal(r)
		b.Write(j)
		b.WriteByte('\n')
		return err
	}))
	return unescapeJSON(b.String())
}

func dumpTraces(t *testing.T, path string) string {
	t.Helper()
	var b strings.Builder
	must(t, traces.ReadFile(path, func(r traces.Record) error {
		j, err := json.Marshal(r)
		b.Write(j)
		b.WriteByte('\n')
		return err
	}))
	return unescapeJSON(b.String())
}

// unescapeJSON undoes the escapes json.Marshal adds to text that the
// checks look for (<, >, &, quotes inside nested JSON).
func unescapeJSON(s string) string {
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&", `\"`, `"`).Replace(s)
}

var packedRE = regexp.MustCompile(`"([A-Za-z0-9+/]{40,}={0,2})"`)

// unpackPage returns the HTML page with every base64(gzip(JSON)) blob it
// carries decoded and appended.
func unpackPage(t *testing.T, html string) string {
	t.Helper()
	var parts []string
	for _, m := range packedRE.FindAllStringSubmatch(html, -1) {
		raw, err := base64.StdEncoding.DecodeString(m[1])
		if err != nil {
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			continue
		}
		text, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("a packed blob of the page does not decompress: %v", err)
		}
		parts = append(parts, string(text))
	}
	if len(parts) == 0 {
		t.Fatal("no packed data in the page")
	}
	sort.Strings(parts)
	return html + "\n" + unescapeJSON(strings.Join(parts, "\n"))
}
