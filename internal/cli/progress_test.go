package cli

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/eval/results"
)

// TestResumeProgressCountsKept: a resumed run's progress counts what it
// runs and what it keeps, not what it runs out of the whole run.
func TestResumeProgressCountsKept(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	env, _, stderr := testEnv()
	args := []string{"run", "../../examples/arithmetic/gavel.yaml", "--out", out, "--max-tokens", "1500", "--cache", "off"}
	if code := Main(context.Background(), args, env); code != ExitInterrupted {
		t.Fatalf("budgeted run: exit %d, want %d: %s", code, ExitInterrupted, stderr)
	}
	kept := 0
	if err := results.ReadResults(filepath.Join(out, results.ResultsFile), func(results.Result) error { kept++; return nil }); err != nil {
		t.Fatal(err)
	}
	const total = 72 // 24 examples × 3 variants
	if kept == 0 || kept >= total {
		t.Fatalf("the budget kept %d of %d results, want some", kept, total)
	}
	env, _, stderr = testEnv()
	if code := Main(context.Background(), []string{"run", "--resume", out, "--cache", "off"}, env); code != ExitOK {
		t.Fatalf("resume: exit %d: %s", code, stderr)
	}
	log := stderr.String()
	for _, want := range []string{
		fmt.Sprintf("gavel: resuming: %d to run, %d kept\n", total-kept, kept),
		fmt.Sprintf("gavel: %d of %d to run, %d kept (0 errors) in ", total-kept, total-kept, kept),
	} {
		if !strings.Contains(log, want) {
			t.Errorf("resume progress lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, fmt.Sprintf("/%d results", total)) {
		t.Errorf("resume progress counts against the whole run:\n%s", log)
	}
}

func TestLineProgress(t *testing.T) {
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	now := func() time.Time { clock = clock.Add(6 * time.Second); return clock }
	ok, bad := &results.Result{Status: results.StatusOK}, &results.Result{Status: results.StatusError}
	for _, c := range []struct {
		name string
		kept int
		want string
	}{
		{"fresh", 0, "gavel: running 3 results\n" +
			"gavel: 2/3 results (1 errors), 12s elapsed\n" +
			"gavel: 3/3 results (1 errors) in 24s\n"},
		{"resumed", 185, "gavel: resuming: 3 to run, 185 kept\n" +
			"gavel: 2 of 3 to run, 185 kept (1 errors), 12s elapsed\n" +
			"gavel: 3 of 3 to run, 185 kept (1 errors) in 24s\n"},
	} {
		var buf bytes.Buffer
		p := &lineProgress{w: &buf, now: now, every: 10 * time.Second}
		if c.kept > 0 {
			p.Kept(c.kept)
		}
		p.Start(3)
		p.Result(ok)
		p.Result(bad)
		p.Result(ok)
		p.Finish()
		if got := buf.String(); got != c.want {
			t.Errorf("%s:\n%s\nwant\n%s", c.name, got, c.want)
		}
	}
}

func TestBarProgressSaysKept(t *testing.T) {
	var buf bytes.Buffer
	p := &barProgress{w: &buf}
	p.Kept(185)
	p.Start(415)
	p.Result(&results.Result{Status: results.StatusError})
	if out := buf.String(); !strings.Contains(out, "resuming (185 kept) (1 errors)") || !strings.Contains(out, "/415") {
		t.Errorf("bar = %q, want it to count 415 to run and say 185 are kept", out)
	}
}
