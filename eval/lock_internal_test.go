package eval

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestLockRun: a held lock refuses a second holder (in this process too,
// as two runs of one program would be), naming the holder; releasing it
// removes the file and frees the lock.
func TestLockRun(t *testing.T) {
	dir := t.TempDir()
	first, err := lockRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = lockRun(dir)
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second lock: %v, want a *LockedError", err)
	}
	host, _ := os.Hostname()
	if le.PID != os.Getpid() || le.Host != host || le.Dir != dir {
		t.Errorf("locked error %+v, want pid %d host %s", le, os.Getpid(), host)
	}
	if err := first.release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, LockFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lock file after release: %v", err)
	}
	again, err := lockRun(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	defer again.release()
	if _, err := lockRun(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lock of a missing directory: %v, want not exist", err)
	}
}

// TestParseHolder: a lock file's line is read only once complete.
func TestParseHolder(t *testing.T) {
	for _, tc := range []struct {
		in   string
		pid  int
		host string
		ok   bool
	}{
		{"123 box\n", 123, "box", true},
		{"123 box", 0, "", false},
		{"", 0, "", false},
		{"12", 0, "", false},
		{"x box\n", 0, "", false},
		{"-4 box\n", 0, "", false},
	} {
		pid, host, ok := parseHolder([]byte(tc.in))
		if pid != tc.pid || host != tc.host || ok != tc.ok {
			t.Errorf("parseHolder(%q) = %d %q %v, want %d %q %v", tc.in, pid, host, ok, tc.pid, tc.host, tc.ok)
		}
	}
}

// TestCreateDirGeneratedID: the directory of a generated run id is created
// exclusively; a taken one gets a new id rather than being shared.
func TestCreateDirGeneratedID(t *testing.T) {
	t.Chdir(t.TempDir())
	r := &runner{runID: "20260102T030405Z-aaaa", now: time.Now}
	taken := filepath.Join("runs", r.runID)
	if err := os.MkdirAll(taken, 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := r.createDir()
	if err != nil {
		t.Fatal(err)
	}
	if dir == taken || r.runID == "20260102T030405Z-aaaa" || dir != filepath.Join("runs", r.runID) {
		t.Errorf("createDir = %s with run id %s; want a new directory named by a new id", dir, r.runID)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Errorf("%s not created: %v", dir, err)
	}
	// A given id (or --out) is used as it is.
	r = &runner{runID: "given", opts: Options{RunID: "given"}, now: time.Now}
	if dir, err := r.createDir(); err != nil || dir != filepath.Join("runs", "given") {
		t.Errorf("createDir with a given id = %s, %v", dir, err)
	}
}
