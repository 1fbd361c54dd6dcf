package cli

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestDamagedCacheFile records a run's calls in a cache file, then
// truncates it, or overwrites the page of its root bucket or of its
// entries: every command that uses it —
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

	// Cut after the two meta pages and the freelist: every page the meta
	// pages point to is gone. (A cut further on may leave every used page
	// in place: bbolt grows its file ahead of need.)
	truncated := filepath.Join(dir, "truncated.db")
	if len(orig) <= 3*4096 {
		t.Fatalf("the cache file has only %d bytes", len(orig))
	}
	if err := os.WriteFile(truncated, orig[:3*4096], 0o600); err != nil {
		t.Fatal(err)
	}
	// The type of the page holding the root bucket, as the current meta
	// page says: bbolt asserts on it when a transaction looks up a
	// bucket.
	flipped := filepath.Join(dir, "flipped.db")
	b := bytes.Clone(orig)
	root := rootPage(t, b)
	for i := root*4096 + 8; i < root*4096+10; i++ {
		b[i] ^= 0xa5
	}
	if err := os.WriteFile(flipped, b, 0o600); err != nil {
		t.Fatal(err)
	}
	// The type of the entries bucket's root page: the file opens, and
	// the damage is found by the first lookup.
	entries := filepath.Join(dir, "entries.db")
	b = bytes.Clone(orig)
	page := entriesPage(t, db)
	for i := page*4096 + 8; i < page*4096+10; i++ {
		b[i] ^= 0xa5
	}
	if err := os.WriteFile(entries, b, 0o600); err != nil {
		t.Fatal(err)
	}

	n := 0
	for _, path := range []string{truncated, flipped, entries} {
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

// rootPage returns the page of the root bucket of a bbolt file (4096-byte
// pages), from its meta page with the higher transaction id. A meta page
// is the page header (16 bytes), then magic, version, page size and flags
// (4 bytes each), the root bucket's page (8) and sequence (8), the
// freelist's page (8), the high water mark (8) and the transaction id (8).
func rootPage(t *testing.T, file []byte) int {
	t.Helper()
	best, root := uint64(0), 0
	for _, meta := range []int{0, 4096} {
		m := file[meta+16:]
		if binary.LittleEndian.Uint32(m) != 0xED0CDAED {
			t.Fatalf("no bbolt meta page at %d", meta)
		}
		if txid := binary.LittleEndian.Uint64(m[48:]); txid >= best {
			best, root = txid, int(binary.LittleEndian.Uint64(m[16:]))
		}
	}
	if root < 2 || (root+1)*4096 > len(file) {
		t.Fatalf("root bucket at page %d of a %d-byte file", root, len(file))
	}
	return root
}

// entriesPage returns the root page of the entries bucket of a cache file.
func entriesPage(t *testing.T, path string) int {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var page int
	err = db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket([]byte("entries")); b != nil {
			page = int(b.Root())
		}
		return nil
	})
	if err != nil || page < 2 {
		t.Fatalf("entries bucket at page %d: %v", page, err)
	}
	return page
}
