package cli

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/traces"
)

// gavelBinary is the gavel binary of the process tests, built once for
// the package (see buildGavel) and removed by TestMain.
var gavelBinary struct {
	once sync.Once
	dir  string
	err  error
}

// buildGavel builds the gavel binary once for the process tests.
func buildGavel(t *testing.T) string {
	t.Helper()
	gavelBinary.once.Do(func() {
		dir, err := os.MkdirTemp("", "gavel-bin-")
		if err != nil {
			gavelBinary.err = err
			return
		}
		gavelBinary.dir = dir
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "gavel"), "../../cmd/gavel")
		if out, err := cmd.CombinedOutput(); err != nil {
			gavelBinary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if gavelBinary.err != nil {
		t.Fatal(gavelBinary.err)
	}
	return filepath.Join(gavelBinary.dir, "gavel")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if gavelBinary.dir != "" {
		os.RemoveAll(gavelBinary.dir)
	}
	os.Exit(code)
}

// slowServer is an OpenAI-compatible server that answers "#### N" (N from
// the prompt) after a short delay; it fails prompts that contain "7?"
// while failing is set. With holdAfter set (before the first call), the
// calls after the first holdAfter wait until release is closed; holding
// is closed when the first of them arrives.
type slowServer struct {
	*httptest.Server
	calls     atomic.Int64
	failing   atomic.Bool
	holdAfter atomic.Int64
	holding   chan struct{}
	release   chan struct{}
	held      sync.Once
}

func newSlowServer(t *testing.T, delay time.Duration) *slowServer {
	s := &slowServer{holding: make(chan struct{}), release: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n, k := s.calls.Add(1), s.holdAfter.Load(); k > 0 && n > k {
			s.held.Do(func() { close(s.holding) })
			select {
			case <-s.release:
			case <-r.Context().Done():
				return
			}
		}
		var req struct {
			Model    string
			Messages []struct{ Role, Content string }
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		prompt := req.Messages[len(req.Messages)-1].Content
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		if s.failing.Load() && strings.Contains(prompt, "7?") {
			w.WriteHeader(500)
			_, _ = w.Write([]byte(`{"error":{"message":"overloaded","type":"server_error"}}`))
			return
		}
		n := strings.TrimSuffix(strings.TrimPrefix(prompt, "What is "), "?")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "c", "object": "chat.completion", "created": 1, "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": "#### " + n}}},
			"usage":   map[string]any{"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
		})
	}))
	t.Cleanup(s.Close)
	return s
}

// resumeSpec writes a spec of n examples and two variants against url.
func resumeSpec(t *testing.T, url string, n int) string {
	dir := t.TempDir()
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"id": "e%03d", "n": %d}`+"\n", i, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "data.jsonl"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := `name: resume
retry: {max_attempts: 1}
dataset: {path: data.jsonl, id: id}
providers:
  local: {base_url: "` + url + `/v1"}
variants:
  - {name: a, model: local/m, prompt: "What is {{.example.n}}?"}
  - {name: b, model: local/m, prompt: "What is {{.example.n}}?", params: {temperature: 0}}
chain:
  - {name: solve, kind: llm}
judges:
  - {name: correct, type: numeric_match, expected: "{{.example.n}}"}
`
	path := filepath.Join(dir, "gavel.yaml")
	if err := os.WriteFile(path, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkComplete asserts the run holds every (variant, example) exactly
// once, in canonical order, with a score each, and readable files.
func checkComplete(t *testing.T, dir string, n int) {
	t.Helper()
	m, err := results.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != results.RunCompleted {
		t.Errorf("status %s (%s), want completed", m.Status, m.Error)
	}
	var keys []string
	seen := map[string]bool{}
	err = results.ReadResults(filepath.Join(dir, results.ResultsFile), func(r results.Result) error {
		k := fmt.Sprintf("%s/%03d/%d", r.Variant, r.ExampleIndex, r.Epoch)
		if seen[k] {
			t.Errorf("result %s stored twice", k)
		}
		seen[k] = true
		keys = append(keys, k)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2*n {
		t.Fatalf("%d results, want %d", len(keys), 2*n)
	}
	for i, k := range keys {
		want := fmt.Sprintf("%s/%03d/0", []string{"a", "b"}[i/n], i%n)
		if k != want {
			t.Fatalf("result %d is %s, want %s (canonical order)", i, k, want)
		}
	}
	scores := 0
	if err := results.ReadScores(filepath.Join(dir, results.ScoresFile), func(results.Score) error { scores++; return nil }); err != nil {
		t.Fatal(err)
	}
	spans := 0
	if err := traces.ReadFile(filepath.Join(dir, results.TracesFile), func(traces.Record) error { spans++; return nil }); err != nil {
		t.Fatal(err)
	}
	// One score per result; per result a chain span, an llm span, a judge span.
	if scores != 2*n || spans != 3*2*n {
		t.Errorf("%d scores and %d spans, want %d and %d", scores, spans, 2*n, 6*n)
	}
	if m.Totals.Results != int64(2*n) || m.Totals.Scores != int64(2*n) {
		t.Errorf("manifest totals %+v", m.Totals)
	}
	if _, err := os.Stat(filepath.Join(dir, ".parts")); !os.IsNotExist(err) {
		t.Errorf("parts left after completion: %v", err)
	}
}

// TestKillAndResume kills gavel with SIGKILL at random moments, resumes it
// (killing the resumes too), and checks the finished run holds exactly the
// full set, once each, in order.
func TestKillAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills real processes; run without -short")
	}
	bin := buildGavel(t)
	srv := newSlowServer(t, 4*time.Millisecond)
	const n = 120
	spec := resumeSpec(t, srv.URL, n)
	rng := rand.New(rand.NewPCG(42, 7))
	for trial := 0; trial < 3; trial++ {
		out := filepath.Join(t.TempDir(), "run")
		args := []string{"run", spec, "--out", out, "--concurrency", "4"}
		kills := 0
		for attempt := 0; attempt < 12; attempt++ {
			cmd := exec.Command(bin, args...)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			var err error
			if attempt < 4 {
				// Kill somewhere in the run (it takes roughly 150 ms).
				delay := time.Duration(20+rng.IntN(150)) * time.Millisecond
				select {
				case err = <-done:
				case <-time.After(delay):
					_ = cmd.Process.Signal(syscall.SIGKILL)
					err = <-done
					kills++
				}
			} else {
				select {
				case err = <-done:
				case <-time.After(60 * time.Second):
					_ = cmd.Process.Kill()
					t.Fatal("resume did not finish in 60s")
				}
			}
			if err == nil {
				break
			}
			if _, statErr := os.Stat(filepath.Join(out, results.ManifestFile)); statErr != nil {
				// Killed before the manifest existed: start afresh.
				os.RemoveAll(out)
				args = []string{"run", spec, "--out", out, "--concurrency", "4"}
				continue
			}
			args = []string{"run", "--resume", out, "--concurrency", "4"}
		}
		t.Logf("trial %d: %d kills", trial, kills)
		checkComplete(t, out, n)
	}
}

// TestInterruptAndRetryErrors: SIGINT leaves a readable, resumable run;
// --retry-errors replaces errored results once the server is healthy.
func TestInterruptAndRetryErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes; run without -short")
	}
	bin := buildGavel(t)
	srv := newSlowServer(t, 10*time.Millisecond)
	srv.failing.Store(true)
	// The run is interrupted after its first 10 model calls: the 11th
	// and later wait until the signal has been handled. A model call
	// shows the process is past installing its signal handler, which
	// gavel does first, however slow the machine.
	srv.holdAfter.Store(10)
	const n = 60
	spec := resumeSpec(t, srv.URL, n)
	out := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(bin, "run", spec, "--out", out, "--concurrency", "2")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	stderr := newWatchWriter("gavel: interrupted")
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	waitFor := func(what string, ch <-chan struct{}) {
		t.Helper()
		select {
		case <-ch:
		case err := <-done:
			t.Fatalf("gavel exited (%v) before %s\n%s", err, what, stderr)
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Fatalf("no %s within 60s\n%s", what, stderr)
		}
	}
	waitFor("11th model call", srv.holding)
	_ = cmd.Process.Signal(os.Interrupt)
	waitFor("interrupt message", stderr.seen)
	close(srv.release)
	var err error
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("gavel still running 60s after SIGINT\n%s", stderr)
	}
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != ExitInterrupted {
		t.Fatalf("after SIGINT: %v, want exit %d\n%s", err, ExitInterrupted, stderr.String())
	}
	if !strings.Contains(stderr.String(), "gavel run --resume "+out) {
		t.Errorf("stderr does not say how to resume:\n%s", stderr.String())
	}
	m, err := results.ReadManifest(out)
	if err != nil || m.Status != results.RunInterrupted {
		t.Fatalf("manifest after SIGINT: %v, %+v", err, m)
	}
	// The interrupted run's files are readable now.
	partial := 0
	if err := results.ReadResults(filepath.Join(out, results.ResultsFile), func(results.Result) error { partial++; return nil }); err != nil {
		t.Fatalf("results of the interrupted run: %v", err)
	}
	if partial == 0 || partial >= 2*n {
		t.Errorf("interrupted run holds %d results; want some, not all", partial)
	}

	// Resume while the server still fails prompts with a 7: errors stay.
	env, _, stderrBuf := testEnv()
	env.Getenv = os.Getenv
	if code := Main(t.Context(), []string{"run", "--resume", out, "--cache", "off"}, env); code != ExitOK {
		t.Fatalf("resume: exit %d\n%s", code, stderrBuf)
	}
	errs := 0
	_ = results.ReadResults(filepath.Join(out, results.ResultsFile), func(r results.Result) error {
		if r.Status == results.StatusError {
			errs++
		}
		return nil
	})
	// Examples 7, 17, ..., 57 fail under both variants.
	if errs != 2*6 {
		t.Errorf("%d error rows after resume, want 12", errs)
	}
	// Heal the server and retry the errors: only they are called again.
	srv.failing.Store(false)
	before := srv.calls.Load()
	env, _, stderrBuf = testEnv()
	env.Getenv = os.Getenv
	if code := Main(t.Context(), []string{"run", "--resume", out, "--retry-errors", "--cache", "off"}, env); code != ExitOK {
		t.Fatalf("resume --retry-errors: exit %d\n%s", code, stderrBuf)
	}
	if calls := srv.calls.Load() - before; calls != 12 {
		t.Errorf("--retry-errors made %d model calls, want 12 (the errored results only)", calls)
	}
	checkComplete(t, out, n)
	errs = 0
	_ = results.ReadResults(filepath.Join(out, results.ResultsFile), func(r results.Result) error {
		if r.Status == results.StatusError {
			errs++
		}
		return nil
	})
	if errs != 0 {
		t.Errorf("%d error rows after --retry-errors", errs)
	}
}

// watchWriter is an io.Writer, safe to read while a process writes to it,
// that closes seen once what it was given to watch for has been written.
type watchWriter struct {
	mu    sync.Mutex
	buf   strings.Builder
	want  string
	seen  chan struct{}
	found bool
}

func newWatchWriter(want string) *watchWriter {
	return &watchWriter{want: want, seen: make(chan struct{})}
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.found && strings.Contains(w.buf.String(), w.want) {
		w.found = true
		close(w.seen)
	}
	return len(p), nil
}

// String returns what was written so far.
func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
