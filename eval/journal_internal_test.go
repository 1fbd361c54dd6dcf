package eval

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/eval/results"
)

func testOutcome(i int) *outcome {
	return &outcome{seq: i, result: results.Result{RunID: "r", Variant: "v", ExampleID: "e", ExampleIndex: int64(i), Status: results.StatusOK, Output: "o"}}
}

// A chunk the flusher cannot write is not lost silently: the error comes
// back from a later flush or from close, and no chunk after it is
// committed (the journal would skip a chunk).
func TestPartStoreFlushErrorIsReported(t *testing.T) {
	dir := t.TempDir()
	ps, err := openPartStore(dir, "r", 1, 0, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if err := ps.add(testOutcome(0)); err != nil {
		t.Fatal(err)
	}
	if err := ps.flush(0); err != nil {
		t.Fatal(err)
	}
	// Wait for the first chunk, then make every later chunk unwritable:
	// its files go where a directory was.
	deadline := time.Now().Add(10 * time.Second)
	for {
		js, err := readJournal(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(js.chunks) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first chunk was never committed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	parts := filepath.Join(dir, ".parts")
	moved := filepath.Join(dir, "parts-moved")
	if err := os.Rename(parts, moved); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(parts, []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	var errs []error
	for i := 1; i < 4; i++ {
		if err := ps.add(testOutcome(i)); err != nil {
			errs = append(errs, err)
		}
		if err := ps.flush(0); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, ps.close())
	err = errors.Join(errs...)
	if err == nil || !strings.Contains(err.Error(), "writing run") {
		t.Fatalf("errors %v, want the failed chunk's", err)
	}
	// The journal (moved with the directory) holds the first chunk only.
	data, rerr := os.ReadFile(filepath.Join(moved, journalFile))
	if rerr != nil {
		t.Fatal(rerr)
	}
	if got := strings.Count(string(data), "chunk "); got != 1 {
		t.Errorf("journal has %d chunks after the failure, want 1:\n%s", got, data)
	}
}
