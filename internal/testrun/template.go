package testrun

import (
	"os"
	"sync"
	"testing"
)

// Template is a directory of fixtures that a test package builds once and
// copies for each test that asks for it. Making a run under the race
// detector takes about a second even for a few examples; copying one
// takes milliseconds, and each test still gets files of its own to read,
// change or break.
type Template struct {
	build func(tb testing.TB, dir string)
	once  sync.Once
	dir   string
	built bool
}

// NewTemplate returns a Template that build fills, in an empty directory,
// the first time a test asks for a copy. build fails the test it is
// given to report a problem; the other tests then fail too.
func NewTemplate(build func(tb testing.TB, dir string)) *Template {
	return &Template{build: build}
}

// Copy returns a new directory, removed when tb ends, holding a copy of
// the template's files (it may hold no symbolic links). The first call
// builds the template.
func (t *Template) Copy(tb testing.TB) string {
	tb.Helper()
	t.once.Do(func() {
		dir, err := os.MkdirTemp("", "gavel-template-")
		if err != nil {
			tb.Fatal(err)
		}
		t.dir = dir
		t.build(tb, dir)
		t.built = !tb.Failed()
	})
	if !t.built {
		tb.Fatal("the shared test fixture failed to build (see the first test that asked for it)")
	}
	dst := tb.TempDir()
	if err := os.CopyFS(dst, os.DirFS(t.dir)); err != nil {
		tb.Fatalf("copying the shared test fixture: %v", err)
	}
	return dst
}

// Remove deletes the template's directory; call it from TestMain once
// the tests have run.
func (t *Template) Remove() {
	if t.dir != "" {
		os.RemoveAll(t.dir)
	}
}
