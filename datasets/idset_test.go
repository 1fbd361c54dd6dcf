package datasets

import (
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Ids that share a fingerprint are told apart by reading the earlier
// line again: distinct ids pass, a true duplicate is reported with the
// line it was first seen at, whichever of the colliding ids it repeats.
func TestDuplicatesWithCollidingFingerprints(t *testing.T) {
	for _, tc := range []struct {
		name, rows, err string
	}{
		{"distinct", "a b c d e", ""},
		{"repeat of the first", "a b c a", `line 4: duplicate id "a" (first seen at line 1)`},
		{"repeat of an overflow id", "a b c b", `line 4: duplicate id "b" (first seen at line 2)`},
		{"repeat of a later overflow id", "a b c d c", `line 5: duplicate id "c" (first seen at line 3)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var lines []string
			for _, id := range strings.Fields(tc.rows) {
				lines = append(lines, fmt.Sprintf(`{"id": %q}`, id))
			}
			path := filepath.Join(t.TempDir(), "d.jsonl")
			if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			rd, err := Open(Options{Path: path, ID: "{{.id}}"})
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close()
			rd.seen.fingerprint = func(maphash.Seed, string) uint64 { return 42 } // every id collides
			n := 0
			for {
				_, err = rd.Next()
				if err != nil {
					break
				}
				n++
			}
			switch {
			case tc.err == "" && !isEOF(err):
				t.Fatalf("after %d rows: %v, want none", n, err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("after %d rows: %v, want %q", n, err, tc.err)
			}
		})
	}
}

func isEOF(err error) bool { return errors.Is(err, io.EOF) }

// TestIDSetGrows: a million distinct ids fit, none reported twice, and
// every one added again is found.
func TestIDSetGrows(t *testing.T) {
	s := newIDSet()
	never := func(int32) (string, error) { return "", errors.New("no id read again without a collision") }
	const n = 1 << 20
	for i := 0; i < n; i++ {
		if _, dup, err := s.add(fmt.Sprint(i), int32(i+1), never); dup || err != nil {
			t.Fatalf("id %d: dup %v, err %v", i, dup, err)
		}
	}
	again := func(line int32) (string, error) { return fmt.Sprint(line - 1), nil }
	for i := 0; i < n; i += 997 {
		first, dup, err := s.add(fmt.Sprint(i), int32(n+i), again)
		if !dup || err != nil || first != int32(i+1) {
			t.Fatalf("id %d again: first %d, dup %v, err %v", i, first, dup, err)
		}
	}
	if bytes := 12 * len(s.fps); bytes > 32*n {
		t.Errorf("%d bytes for %d ids", bytes, n)
	}
}

// BenchmarkIDSet reports the bytes an id takes at ten million ids.
func BenchmarkIDSet(b *testing.B) {
	never := func(int32) (string, error) { return "", errors.New("collision") }
	for b.Loop() {
		s := newIDSet()
		const n = 10_000_000
		for i := 0; i < n; i++ {
			if _, _, err := s.add(fmt.Sprintf("example-%08d", i), int32(i+1), never); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(12*len(s.fps))/n, "bytes/id")
	}
}
