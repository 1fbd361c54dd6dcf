package datasets

import (
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math/rand/v2"
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

// TestIDSetGrows: as many distinct ids as the table holds fit, none
// reported twice, and every one added again is found at once.
func TestIDSetGrows(t *testing.T) {
	s := newIDSet()
	never := func(int32) (string, error) { return "", errors.New("no id read again without a collision") }
	const n = 3 * tableSlots / 4 // as many as the table holds
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

// shrink makes s's table hold at most slots slots and its runs entries
// fingerprints, so that a small file spills.
func shrink(s *idSet, slots, entries int) {
	s.fps, s.lines = make([]uint64, slots/4), make([]int32, slots/4)
	s.maxSlots, s.maxRun = slots, entries
}

// Beyond the table the ids go to sorted runs on disk; whatever the mix of
// table and runs, of true repeats, colliding fingerprints and bad rows,
// the reader stops at the first problem in file order, naming the line
// it was first seen at, as a map of every id would.
func TestDuplicatesBeyondTheTable(t *testing.T) {
	for seed := 1; seed <= 60; seed++ {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		n := 200 + rng.IntN(3000)
		pool := n * (1 + rng.IntN(40)) // few or many repeats
		bad := 0
		if seed%3 == 0 {
			bad = 1 + rng.IntN(n)
		}
		collide := seed%2 == 0
		var b strings.Builder
		want := ""
		seen := map[string]int{}
		for line := 1; line <= n; line++ {
			if line == bad {
				b.WriteString("{not json\n")
				if want == "" {
					want = fmt.Sprintf("line %d:", line)
				}
				continue
			}
			id := fmt.Sprint("x", rng.IntN(pool))
			fmt.Fprintf(&b, "{\"id\": %q}\n", id)
			if f, ok := seen[id]; ok && want == "" {
				want = fmt.Sprintf("line %d: duplicate id %q (first seen at line %d)", line, id, f)
			}
			if _, ok := seen[id]; !ok {
				seen[id] = line
			}
		}
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "d.jsonl")
			if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			rd, err := Open(Options{Path: path, ID: "{{.id}}"})
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close()
			shrink(rd.seen, 64, 1+rng.IntN(200))
			if collide {
				rd.seen.fingerprint = func(_ maphash.Seed, s string) uint64 { return uint64(len(s)) % 3 }
			}
			rows := 0
			for {
				if _, err = rd.Next(); err != nil {
					break
				}
				rows++
			}
			if want == "" {
				if !isEOF(err) {
					t.Fatalf("after %d rows: %v, want the end", rows, err)
				}
			} else if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("after %d rows: %v, want %q", rows, err, want)
			}
			if rd.seen.spill == nil && len(rd.seen.runs) > 0 {
				t.Fatal("runs without a file")
			}
		})
	}
}

// The check's memory stays within its table and one run whatever the row
// count: a million distinct ids past a small table spill, and none is
// reported.
func TestIDSetMemoryIsBounded(t *testing.T) {
	s := newIDSet()
	shrink(s, 1<<12, 1<<14)
	never := func(int32) (string, error) { return "", errors.New("no id read again without a collision") }
	const n = 1 << 20
	for i := 0; i < n; i++ {
		if _, dup, err := s.add(fmt.Sprint(i), int32(i+1), never); dup || err != nil {
			t.Fatalf("id %d: dup %v, err %v", i, dup, err)
		}
	}
	if len(s.fps) > 1<<12 || cap(s.pending) > 1<<14 {
		t.Fatalf("table %d slots, buffer %d entries", len(s.fps), cap(s.pending))
	}
	if len(s.runs) < n/(1<<14)-1 {
		t.Fatalf("%d runs for %d ids", len(s.runs), n)
	}
	d, found, err := s.resolve(func(map[int32]string) error { return errors.New("no fingerprint repeats") })
	if found || err != nil {
		t.Fatalf("resolve: %+v %v %v", d, found, err)
	}
	s.close()
}
