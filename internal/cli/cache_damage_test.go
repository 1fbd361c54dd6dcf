package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDamagedCacheFile records a run's calls in a cache file, then
// truncates it and overwrites a page of it: every command that uses it —
// run in each cache mode, cache export, stats and import — ends without a
// panic, and a file found damaged is exit 2 with "cache FILE is damaged:
// move it away …", the path named once — except for a run in rw or ro
// mode that finds the damage after the file opened: its calls are made,
// and the message is a warning.
func TestDamagedCacheFile(t *testing.T) {
	srv := newSlowServer(t, 0)
	spec := resumeSpec(t, srv.URL, 30)
	dir := t.TempDir()
	db := filepath.Join(dir, "recorded.db")
	env, _, stderr := testEnv()
	if code := Main(context.Background(), []string{"run", spec, "--out", filepath.Join(dir, "rec"), "--cache-path", db}, env); code != ExitOK {
		t.Fatalf("record: exit %d: %s", code, stderr)
	}
	orig, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	cassette := filepath.Join(dir, "ok.cassette")
	env, _, stderr = testEnv()
	if code := Main(context.Background(), []string{"cache", "export", cassette, "--cache-path", db}, env); code != ExitOK {
		t.Fatalf("export: exit %d: %s", code, stderr)
	}

	truncated := filepath.Join(dir, "truncated.db")
	if err := os.WriteFile(truncated, orig[:len(orig)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	// The header of the first page after the meta pages and the
	// freelist: bbolt asserts on its type when it reads it.
	flipped := filepath.Join(dir, "flipped.db")
	b := bytes.Clone(orig)
	for i := 2*4096 + 8; i < 2*4096+12; i++ {
		b[i] ^= 0xa5
	}
	if err := os.WriteFile(flipped, b, 0o600); err != nil {
		t.Fatal(err)
	}

	n := 0
	for _, path := range []string{truncated, flipped} {
		for _, args := range [][]string{
			{"run", spec, "--cache", "rw"},
			{"run", spec, "--cache", "ro"},
			{"run", spec, "--cache", "replay"},
			{"cache", "export", filepath.Join(dir, "out.cassette")},
			{"cache", "stats"},
			{"cache", "import", cassette},
		} {
			name := filepath.Base(path) + " " + strings.Join(args[:2], " ") + " " + args[len(args)-1]
			if args[0] == "run" {
				n++
				args = append(args, "--out", filepath.Join(dir, "run", itoa(n)))
			}
			args = append(args, "--cache-path", path)
			env, stdout, stderr := testEnv()
			code := Main(context.Background(), args, env)
			msg := stderr.String()
			if strings.Contains(msg, "panic") || strings.Contains(msg, "goroutine") {
				t.Errorf("%s: %s", name, msg)
			}
			damaged := strings.Contains(msg, "cache "+path+" is damaged: move it away")
			switch {
			case code == ExitError && damaged:
				if got := strings.Count(msg, path); got != 1 {
					t.Errorf("%s: the message names the file %d times:\n%s", name, got, msg)
				}
			case path == truncated:
				t.Errorf("%s: exit %d, want %d with the damaged-cache message:\n%s%s", name, code, ExitError, stdout, msg)
			case args[0] == "run" && args[3] != "replay" && damaged && code == ExitOK:
				// Found damaged during the run: the calls it could
				// not answer were made.
			default:
				t.Errorf("%s: exit %d, no damaged-cache message:\n%s%s", name, code, stdout, msg)
			}
			if strings.Contains(msg, "--cache off") != (args[0] == "run") {
				t.Errorf("%s: advice %q", name, msg)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out.cassette")); err == nil {
		t.Error("a failed export left a cassette behind")
	}
}

// An error of the cache names its file once.
func TestCacheErrorsNameTheFileOnce(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")
	spec := resumeSpec(t, "http://127.0.0.1:1", 1)
	for _, args := range [][]string{
		{"run", spec, "--cache", "ro", "--out", filepath.Join(dir, "r1"), "--cache-path", missing},
		{"cache", "stats", "--cache-path", missing},
		{"cache", "export", filepath.Join(dir, "x.cassette"), "--cache-path", missing},
	} {
		env, _, stderr := testEnv()
		code := Main(context.Background(), args, env)
		if code != ExitError || strings.Count(stderr.String(), missing) != 1 {
			t.Errorf("%s: exit %d: %q names %s %d times", strings.Join(args[:2], " "), code, stderr, missing, strings.Count(stderr.String(), missing))
		}
	}
}
