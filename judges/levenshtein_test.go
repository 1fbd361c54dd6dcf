package judges

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestLevenshteinReference checks distances and normalised similarities
// against published values:
//
//   - strsim: rapidfuzz/strsim-rs, src/lib.rs, tests levenshtein_* and
//     normalized_levenshtein_* (strsim's normalized_levenshtein is
//     1 - distance / max length in chars, our score; tolerance 1e-5 there);
//   - rapidfuzz: rapidfuzz/RapidFuzz, tests/distance/test_Levenshtein.py,
//     tests test_empty_string, test_cross_type_matching,
//     test_simple_unicode_tests, test_mbleven (distances), and test_Editops
//     (the length of an optimal edit script is the distance);
//   - wikipedia: https://en.wikipedia.org/wiki/Levenshtein_distance
//     ("kitten" -> "sitting" is 3, "flaw" -> "lawn" is 2).
func TestLevenshteinReference(t *testing.T) {
	t.Parallel()
	tests := []struct {
		source, a, b string
		distance     int
		similarity   float64 // NaN: not published
	}{
		{"strsim levenshtein_empty / normalized_levenshtein_for_empty_strings", "", "", 0, 1.0},
		{"strsim levenshtein_same", "levenshtein", "levenshtein", 0, math.NaN()},
		{"strsim levenshtein_diff_short / normalized_levenshtein_diff_short", "kitten", "sitting", 3, 0.57142},
		{"strsim levenshtein_diff_with_space", "hello, world", "bye, world", 5, math.NaN()},
		{"strsim levenshtein_diff_multibyte", "öঙ香", "abc", 3, math.NaN()},
		{"strsim levenshtein_diff_multibyte (reversed)", "abc", "öঙ香", 3, math.NaN()},
		{"strsim levenshtein_diff_longer", "The quick brown fox jumped over the angry dog.",
			"Lorem ipsum dolor sit amet, dicta latine an eam.", 37, math.NaN()},
		{"strsim levenshtein_first_empty", "", "sitting", 7, math.NaN()},
		{"strsim levenshtein_second_empty", "kitten", "", 6, math.NaN()},
		{"strsim normalized_levenshtein_first_empty", "", "second", 6, 0},
		{"strsim normalized_levenshtein_second_empty", "first", "", 5, 0},
		{"strsim normalized_levenshtein_identical_strings", "identical", "identical", 0, 1},
		{"rapidfuzz test_cross_type_matching", "aaaa", "aaaa", 0, math.NaN()},
		{"rapidfuzz test_simple_unicode_tests", "ÁÄ", "ABCD", 4, math.NaN()},
		{"rapidfuzz test_mbleven", "0", "101", 2, math.NaN()},
		{"rapidfuzz test_Editops (3 ops)", "qabxcd", "abycdf", 3, math.NaN()},
		{"rapidfuzz test_Editops (9 ops)", "Lorem ipsum.", "XYZLorem ABC iPsum", 9, math.NaN()},
		{"rapidfuzz test_Editops (1 op)", "00", "0", 1, math.NaN()},
		{"wikipedia", "flaw", "lawn", 2, math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.source, func(t *testing.T) {
			t.Parallel()
			j, err := NewLevenshtein(LevenshteinConfig{})
			if err != nil {
				t.Fatal(err)
			}
			v, err := j.Judge(context.Background(), Input{Output: tt.a, Expected: tt.b})
			if err != nil {
				t.Fatal(err)
			}
			if d := v.Details["distance"]; d != tt.distance {
				t.Errorf("distance(%q, %q) = %v, want %d", tt.a, tt.b, d, tt.distance)
			}
			if !math.IsNaN(tt.similarity) && math.Abs(*v.Score-tt.similarity) > 1e-5 {
				t.Errorf("similarity(%q, %q) = %v, want %v", tt.a, tt.b, *v.Score, tt.similarity)
			}
		})
	}
}

func TestLevenshteinJudge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	j, err := NewLevenshtein(LevenshteinConfig{})
	if err != nil {
		t.Fatal(err)
	}
	// kitten/sitting: similarity 4/7 < 0.8 fails by default.
	v, _ := j.Judge(ctx, Input{Output: "kitten", Expected: "sitting"})
	if v.Pass || !strings.Contains(v.Reason, "edit distance 3 over 7 code points") || !strings.Contains(v.Reason, "fail") {
		t.Errorf("kitten/sitting: pass=%v reason %q", v.Pass, v.Reason)
	}
	j, _ = NewLevenshtein(LevenshteinConfig{Threshold: ptr(0.5)})
	if v, _ := j.Judge(ctx, Input{Output: "kitten", Expected: "sitting"}); !v.Pass {
		t.Errorf("threshold 0.5: kitten/sitting should pass: %s", v.Reason)
	}
	// value overrides expected, even when empty.
	j, _ = NewLevenshtein(LevenshteinConfig{Value: ptr("")})
	if v, _ := j.Judge(ctx, Input{Output: "", Expected: "x"}); *v.Score != 1 {
		t.Errorf("value \"\" vs output \"\": score %v, want 1", *v.Score)
	}
	// ignore_case.
	j, _ = NewLevenshtein(LevenshteinConfig{IgnoreCase: true})
	for _, c := range [][2]string{{"HELLO", "hello"}, {"ÉCOLE ΣΟΦΊΑ", "école σοφία"}, {"STRAẞE", "straße"}, {"K", "\u212a"}} {
		if v, _ := j.Judge(ctx, Input{Output: c[0], Expected: c[1]}); *v.Score != 1 || v.Details["distance"] != 0 {
			t.Errorf("ignore_case %q vs %q: score %v, reason %s", c[0], c[1], *v.Score, v.Reason)
		}
	}
	j, _ = NewLevenshtein(LevenshteinConfig{})
	if v, _ := j.Judge(ctx, Input{Output: "HELLO", Expected: "hello"}); v.Details["distance"] != 5 {
		t.Errorf("case-sensitive HELLO/hello: distance %v, want 5", v.Details["distance"])
	}
	for _, bad := range []float64{-0.1, 1.5, math.NaN()} {
		if _, err := NewLevenshtein(LevenshteinConfig{Threshold: ptr(bad)}); err == nil || !strings.HasPrefix(err.Error(), "threshold: ") {
			t.Errorf("threshold %v: error %v, want one naming the field", bad, err)
		}
	}
}

// TestLevenshteinImplementations checks the bit-parallel algorithm (patterns
// up to 64 code points) against the textbook dynamic program on random
// strings over small alphabets, where edits collide most.
func TestLevenshteinImplementations(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	alphabets := [][]rune{[]rune("ab"), []rune("abcd"), []rune("aé香\U0001F600"), []rune("abcdefghijklmnopqrstuvwxyzé")}
	for i := range 3000 {
		alpha := alphabets[i%len(alphabets)]
		size := []int{70, 70, 200, 400}[i%4]
		a := randomRunes(rng, alpha, rng.IntN(size))
		b := randomRunes(rng, alpha, rng.IntN(size))
		want := levenshteinDP(a, b)
		if len(b) == 0 {
			want = len(a)
		}
		got, _ := levenshtein(string(a), string(b), false)
		if got != want {
			t.Fatalf("levenshtein(%q, %q) = %d, dynamic program says %d", string(a), string(b), got, want)
		}
		if len(a) >= 1 && len(a) <= 64 {
			if m := myers64(a, b); m != levenshteinDP(b, a) {
				t.Fatalf("myers64(%q, %q) = %d, dynamic program says %d", string(a), string(b), m, levenshteinDP(b, a))
			}
		}
		if len(a) >= 1 {
			if m := myersBlocks(a, b); m != levenshteinDP(b, a) {
				t.Fatalf("myersBlocks(%q, %q) = %d, dynamic program says %d", string(a), string(b), m, levenshteinDP(b, a))
			}
		}
	}
}

func randomRunes(rng *rand.Rand, alpha []rune, n int) []rune {
	out := make([]rune, n)
	for i := range out {
		out[i] = alpha[rng.IntN(len(alpha))]
	}
	return out
}

// TestLevenshteinInvalidUTF8 checks that each invalid byte is one code point
// of its own, distinct from U+FFFD.
func TestLevenshteinInvalidUTF8(t *testing.T) {
	t.Parallel()
	if d, n := levenshtein("a\xffb", "a\ufffdb", false); d != 1 || n != 3 {
		t.Errorf("invalid byte vs U+FFFD: distance %d over %d, want 1 over 3", d, n)
	}
	if d, _ := levenshtein("\xff\xfe", "\xfe\xff", false); d != 2 {
		t.Errorf("two invalid bytes swapped: distance %d, want 2", d)
	}
}

func BenchmarkLevenshtein(b *testing.B) {
	pairs := []struct{ name, a, b string }{
		{"short", "The capital of France is Paris.", "Paris is the capital of France."},
		{"unicode", "Größenwahnsinnige Straßenbahn — 東京都", "Grössenwahnsinnige Strassenbahn - 東京"},
		{"long", strings.Repeat("the quick brown fox jumps over the lazy dog ", 20),
			strings.Repeat("the quick brown cat leaps over the lazy dog ", 20)},
	}
	for _, p := range pairs {
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				levenshtein(p.a, p.b, false)
			}
		})
	}
}

// levenshteinDP returns the edit distance between a and b with the
// textbook dynamic program, keeping one row of len(b)+1 cells: the oracle
// of the bit-parallel algorithms.
func levenshteinDP(a, b []rune) int {
	row := make([]int, len(b)+1)
	for j := range row {
		row[j] = j
	}
	for i, ra := range a {
		diag := row[0]
		row[0] = i + 1
		for j, rb := range b {
			cost := diag
			if ra != rb {
				cost++
			}
			diag = row[j+1]
			row[j+1] = min(cost, diag+1, row[j]+1)
		}
	}
	return row[len(b)]
}

// The reason reads exactly as the fmt format it stands for.
func TestLevenshteinReasonText(t *testing.T) {
	t.Parallel()
	for _, threshold := range []float64{0.8, 0.5, 1, 0, 1e-7, 0.123456789} {
		for _, fold := range []bool{false, true} {
			j, err := NewLevenshtein(LevenshteinConfig{Threshold: ptr(threshold), IgnoreCase: fold})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range [][2]string{{"kitten", "sitting"}, {"", ""}, {"Straße", "STRASSE"}, {strings.Repeat("ab", 200), strings.Repeat("ba", 150)}} {
				v, err := j.Judge(context.Background(), Input{Output: p[0], Expected: p[1]})
				if err != nil {
					t.Fatal(err)
				}
				d, n := levenshtein(p[0], p[1], fold)
				sim := 1.0
				if n > 0 {
					sim = 1 - float64(d)/float64(n)
				}
				suffix := ""
				if fold {
					suffix = ", ignoring case"
				}
				want := fmt.Sprintf("edit distance %d over %d code points: similarity %.4f, %s at threshold %g%s",
					d, n, sim, overlapPassWord(sim >= threshold), threshold, suffix)
				if v.Reason != want {
					t.Errorf("reason %q, want %q", v.Reason, want)
				}
			}
		}
	}
}
