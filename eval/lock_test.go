package eval_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/eval"
	"github.com/gavel-eval/gavel/eval/results"
)

// lockServer is the arithmetic test server with two switches: it cancels
// a run's context after a number of calls (to leave an interrupted run),
// and it can hold every call until released (so that two writers surely
// overlap).
type lockServer struct {
	*fakeOpenAI
	cancelAt atomic.Int64 // cancel once this many calls were served (0: never)
	cancel   atomic.Pointer[context.CancelFunc]
	served   atomic.Int64
	gated    atomic.Bool
	gate     chan struct{}
	once     sync.Once
}

func newLockServer(t *testing.T) *lockServer {
	s := &lockServer{gate: make(chan struct{})}
	reply := arithServerReply(nil, 0)
	s.fakeOpenAI = newFakeOpenAI(t, func(req chatRequest) fakeReply {
		n := s.served.Add(1)
		if at := s.cancelAt.Load(); at > 0 && n == at {
			(*s.cancel.Load())()
		}
		if s.gated.Load() {
			<-s.gate
		}
		rep := reply(req)
		rep.Delay = time.Millisecond
		return rep
	})
	t.Cleanup(s.open) // never leave a handler waiting
	return s
}

// open releases every held call and lets the next ones through.
func (s *lockServer) open() { s.once.Do(func() { close(s.gate) }) }

// interruptedRun runs sr into a new directory and cancels it after 15 model
// calls; it returns the directory of the interrupted run.
func interruptedRun(t *testing.T, srv *lockServer, sr *specRun) string {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	srv.cancel.Store(&cancel)
	srv.cancelAt.Store(srv.served.Load() + 15)
	defer srv.cancelAt.Store(0)
	out, err := sr.run(ctx, eval.Options{Concurrency: 2, Getenv: testGetenv})
	if !errors.Is(err, eval.ErrInterrupted) {
		t.Fatalf("run: %v, want interrupted", err)
	}
	m, err := results.ReadManifest(out.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != results.RunInterrupted || m.Totals.Results == 0 {
		t.Fatalf("interrupted run: status %s with %d results", m.Status, m.Totals.Results)
	}
	return out.Dir
}

type writerResult struct {
	who int
	out *eval.Outcome
	err error
}

// oneWriter starts writers 0 and 1 at once (calls held at the server) and
// checks that exactly one of them is refused with the locked error while
// the other holds the run; it then lets the winner finish and returns its
// outcome.
func oneWriter(t *testing.T, srv *lockServer, dir string, write func(context.Context) (*eval.Outcome, error)) *eval.Outcome {
	t.Helper()
	srv.gated.Store(true)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	done := make(chan writerResult, 2)
	start := make(chan struct{})
	for who := range 2 {
		go func() {
			<-start
			out, err := write(ctx)
			done <- writerResult{who, out, err}
		}()
	}
	close(start)
	var first writerResult
	select {
	case first = <-done:
	case <-time.After(10 * time.Second):
		srv.open()
		cancel()
		t.Fatal("neither writer was refused within 10s: both are writing the run")
	}
	srv.open()
	second := <-done
	var locked *eval.LockedError
	if !errors.As(first.err, &locked) {
		t.Fatalf("writer %d: %v; want the run refused as locked (the other writer: %v)", first.who, first.err, second.err)
	}
	if !errors.Is(first.err, eval.ErrRunLocked) {
		t.Errorf("%v does not match ErrRunLocked", first.err)
	}
	want := fmt.Sprintf("run %s is being written by another gavel (pid %d)", dir, os.Getpid())
	if first.err.Error() != want {
		t.Errorf("refusal says %q, want %q", first.err, want)
	}
	host, _ := os.Hostname()
	if locked.Dir != dir || locked.PID != os.Getpid() || locked.Host != host {
		t.Errorf("locked error %+v, want dir %s pid %d host %s", locked, dir, os.Getpid(), host)
	}
	if first.out != nil {
		t.Errorf("refused writer returned an outcome: %+v", first.out)
	}
	if second.err != nil {
		t.Fatalf("writer %d holding the run: %v", second.who, second.err)
	}
	return second.out
}

// checkWholeRun checks dir is completed and holds each (variant, example,
// epoch) exactly once, with its scores and traces, and no lock file.
func checkWholeRun(t *testing.T, dir string, examples, variants int) {
	t.Helper()
	run := readStoredRun(t, dir)
	if run.manifest.Status != results.RunCompleted {
		t.Errorf("status %s (%s), want completed", run.manifest.Status, run.manifest.Error)
	}
	got := run.resultMap(t) // reports duplicates
	if len(run.results) != examples*variants || len(got) != examples*variants {
		t.Errorf("%d result rows (%d distinct), want %d", len(run.results), len(got), examples*variants)
	}
	// Two judges per result.
	if len(run.scores) != 2*examples*variants {
		t.Errorf("%d score rows, want %d", len(run.scores), 2*examples*variants)
	}
	if run.manifest.Totals.Results != int64(examples*variants) || int64(len(run.spans)) != run.manifest.Totals.Spans {
		t.Errorf("manifest totals %+v", run.manifest.Totals)
	}
	if _, err := os.Stat(filepath.Join(dir, eval.LockFile)); !os.IsNotExist(err) {
		t.Errorf("lock file left after the run: %v", err)
	}
}

// TestConcurrentRunsOneWriter: two runs started at once on the same
// directory and run id: one writes the run, the other is refused with the
// locked error and touches nothing.
func TestConcurrentRunsOneWriter(t *testing.T) {
	t.Parallel()
	srv := newLockServer(t)
	exs := arithDataset(12)
	sr := newSpecRun(t, arithSpec(srv.BaseURL()), map[string]string{"data.jsonl": arithJSONL(t, exs)})
	dir := filepath.Join(t.TempDir(), "run")
	out := oneWriter(t, srv, dir, func(ctx context.Context) (*eval.Outcome, error) {
		return sr.run(ctx, eval.Options{Out: dir, RunID: "same", Concurrency: 4, Getenv: testGetenv})
	})
	if out.Dir != dir {
		t.Errorf("run written to %s, want %s", out.Dir, dir)
	}
	checkWholeRun(t, dir, len(exs), 2)
	if n := srv.requests.Load(); n != int64(2*len(exs)) {
		t.Errorf("%d model calls, want %d (the refused run calls none)", n, 2*len(exs))
	}
}

// TestConcurrentResumesOneWriter: two resumes of one interrupted run at
// once: one finishes it, the other is refused; the run holds every result
// once.
func TestConcurrentResumesOneWriter(t *testing.T) {
	t.Parallel()
	srv := newLockServer(t)
	exs := arithDataset(30)
	sr := newSpecRun(t, arithSpec(srv.BaseURL()), map[string]string{"data.jsonl": arithJSONL(t, exs)})
	dir := interruptedRun(t, srv, sr)
	oneWriter(t, srv, dir, func(ctx context.Context) (*eval.Outcome, error) {
		return eval.Resume(ctx, dir, eval.ResumeOptions{Options: eval.Options{Concurrency: 4, Getenv: testGetenv}})
	})
	checkWholeRun(t, dir, len(exs), 2)
	m, err := results.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Resumes != 1 {
		t.Errorf("manifest counts %d resumes, want 1", m.Resumes)
	}
}

// TestResumeIgnoresStaleLock: a lock file left by a process that no longer
// exists does not block resuming the run.
func TestResumeIgnoresStaleLock(t *testing.T) {
	t.Parallel()
	srv := newLockServer(t)
	exs := arithDataset(10)
	sr := newSpecRun(t, arithSpec(srv.BaseURL()), map[string]string{"data.jsonl": arithJSONL(t, exs)})
	dir := interruptedRun(t, srv, sr)
	// A process that has exited: its pid is dead.
	dead := exec.Command(os.Args[0], "-test.run=^$")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	stale := fmt.Sprintf("%d %s\n", dead.Process.Pid, host)
	if err := os.WriteFile(filepath.Join(dir, eval.LockFile), []byte(stale), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := eval.Resume(t.Context(), dir, eval.ResumeOptions{Options: eval.Options{Concurrency: 4, Getenv: testGetenv}}); err != nil {
		t.Fatalf("resume with a stale lock file: %v", err)
	}
	checkWholeRun(t, dir, len(exs), 2)
}

// TestResumeNeverCompletesDuplicates: a run whose chunks hold a result
// twice (what two writers leave) is not marked completed.
func TestResumeNeverCompletesDuplicates(t *testing.T) {
	t.Parallel()
	srv := newLockServer(t)
	exs := arithDataset(10)
	sr := newSpecRun(t, arithSpec(srv.BaseURL()), map[string]string{"data.jsonl": arithJSONL(t, exs)})
	dir := interruptedRun(t, srv, sr)
	journal := filepath.Join(dir, ".parts", "journal")
	b, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	if !strings.HasPrefix(first, "chunk ") {
		t.Fatalf("journal starts %q", first)
	}
	// The first chunk's results committed a second time.
	if err := os.WriteFile(journal, append(b, first+"\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = eval.Resume(t.Context(), dir, eval.ResumeOptions{Options: eval.Options{Concurrency: 4, Getenv: testGetenv}})
	if err == nil || !strings.Contains(err.Error(), "were expected") {
		t.Errorf("resume over a duplicated chunk: %v, want an error", err)
	}
	m, err := results.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Status == results.RunCompleted {
		t.Errorf("manifest says completed over %d results of %d", m.Totals.Results, 2*len(exs))
	}
}
