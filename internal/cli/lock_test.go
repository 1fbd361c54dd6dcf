package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/eval"
	"github.com/gavel-eval/gavel/eval/results"
)

// TestLockHelperProcess is not a test: re-executed by the process tests
// below with GAVEL_LOCK_HELPER=1, it is gavel, with the arguments after
// "--".
func TestLockHelperProcess(t *testing.T) {
	if os.Getenv("GAVEL_LOCK_HELPER") != "1" {
		return
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	env := &Env{Stdin: strings.NewReader(""), Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Now: time.Now, Version: "v0.0.0-test"}
	os.Exit(Main(context.Background(), args, env))
}

// gavelProcess returns a command running gavel args in a process of its
// own (this test binary, re-executed).
func gavelProcess(t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestLockHelperProcess$", "--"}, args...)...)
	cmd.Env = []string{"GAVEL_LOCK_HELPER=1", "PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	return cmd
}

// gatedServer is an OpenAI-compatible server answering "#### N" to
// "What is N?", holding every call until opened; called is closed at the
// first call.
type gatedServer struct {
	*httptest.Server
	called, gate       chan struct{}
	calledOnce, opened sync.Once
}

func newGatedServer(t *testing.T) *gatedServer {
	s := &gatedServer{called: make(chan struct{}), gate: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Model    string
			Messages []struct{ Role, Content string }
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Messages) == 0 {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		s.calledOnce.Do(func() { close(s.called) })
		select {
		case <-s.gate:
		case <-r.Context().Done():
			return
		}
		n := strings.TrimSuffix(strings.TrimPrefix(req.Messages[len(req.Messages)-1].Content, "What is "), "?")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "c", "object": "chat.completion", "created": 1, "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": "#### " + n}}},
			"usage":   map[string]any{"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
		})
	}))
	t.Cleanup(s.Close)
	t.Cleanup(s.open) // before Close: no handler left waiting
	return s
}

func (s *gatedServer) open() { s.opened.Do(func() { close(s.gate) }) }

// runBounded runs cmd to its end (killing it after limit) and returns its
// exit code and stderr.
func runBounded(t *testing.T, cmd *exec.Cmd, limit time.Duration) (int, string) {
	t.Helper()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), stderr.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, stderr.String()
	case <-time.After(limit):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("gavel %s still running after %s (it should have been refused at once)\nstderr:\n%s", strings.Join(cmd.Args[3:], " "), limit, stderr.String())
		return 0, ""
	}
}

// TestSecondProcessRefused: while one gavel process writes a run, a second
// `gavel run` on the same --out/--run-id and a `gavel run --resume` of it
// exit 2 with a message naming the writer's pid, and change nothing; once
// the writer is killed, the lock it leaves does not block --resume, which
// finishes the run with every result once.
func TestSecondProcessRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes; run without -short")
	}
	srv := newGatedServer(t)
	const n = 8
	spec := resumeSpec(t, srv.URL, n)
	out := filepath.Join(t.TempDir(), "run")
	writer := gavelProcess(t, "run", spec, "--out", out, "--run-id", "same", "--cache", "off", "--concurrency", "2")
	var writerErr strings.Builder
	writer.Stderr = &writerErr
	if err := writer.Start(); err != nil {
		t.Fatal(err)
	}
	writerDone := make(chan error, 1)
	go func() { writerDone <- writer.Wait() }()
	exited := false
	defer func() {
		if !exited {
			_ = writer.Process.Kill()
			<-writerDone
		}
	}()
	select {
	case <-srv.called: // the writer holds the run and is calling the model
	case err := <-writerDone:
		exited = true
		t.Fatalf("writer exited early: %v\n%s", err, writerErr.String())
	case <-time.After(60 * time.Second):
		t.Fatal("writer made no model call within 60s")
	}
	manifest, err := os.ReadFile(filepath.Join(out, results.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}

	want := fmt.Sprintf("gavel: run %s is being written by another gavel (pid %d)\n", out, writer.Process.Pid)
	for _, args := range [][]string{
		{"run", spec, "--out", out, "--run-id", "same", "--cache", "off"},
		{"run", "--resume", out, "--cache", "off"},
	} {
		code, stderr := runBounded(t, gavelProcess(t, args...), 30*time.Second)
		if code != ExitError {
			t.Errorf("gavel %s: exit %d, want %d\n%s", strings.Join(args, " "), code, ExitError, stderr)
		}
		if stderr != want {
			t.Errorf("gavel %s: stderr\n%q\nwant\n%q", strings.Join(args, " "), stderr, want)
		}
		if after, err := os.ReadFile(filepath.Join(out, results.ManifestFile)); err != nil || string(after) != string(manifest) {
			t.Errorf("gavel %s changed the manifest of the run it was refused (%v)", strings.Join(args, " "), err)
		}
	}

	// Kill the writer: its lock file stays, naming a dead process.
	_ = writer.Process.Signal(syscall.SIGKILL)
	<-writerDone
	exited = true
	if _, err := os.Stat(filepath.Join(out, eval.LockFile)); err != nil {
		t.Fatalf("the killed writer left no lock file: %v", err)
	}
	srv.open()
	env, _, stderr := testEnv()
	env.Getenv = os.Getenv
	env.Now = time.Now
	if code := Main(t.Context(), []string{"run", "--resume", out, "--cache", "off"}, env); code != ExitOK {
		t.Fatalf("resume after the writer was killed: exit %d\n%s", code, stderr)
	}
	checkComplete(t, out, n)
	if _, err := os.Stat(filepath.Join(out, eval.LockFile)); !os.IsNotExist(err) {
		t.Errorf("lock file left after the resume finished: %v", err)
	}
}

// TestLockedErrorExitCode: the locked error is printed as it is, with exit 2,
// however it is wrapped.
func TestLockedErrorExitCode(t *testing.T) {
	le := &eval.LockedError{Dir: "runs/x", PID: 42, Host: "h"}
	for _, err := range []error{le, fmt.Errorf("resuming: %w", le)} {
		got := lockedError(err)
		if got == nil || exitCode(got) != ExitError || got.Error() != "run runs/x is being written by another gavel (pid 42)" {
			t.Errorf("lockedError(%v) = %v (exit %d)", err, got, exitCode(got))
		}
	}
	if lockedError(errors.New("other")) != nil || lockedError(nil) != nil {
		t.Error("lockedError of an unrelated error is not nil")
	}
}
