package judges

import (
	"context"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// LevenshteinConfig holds the options of a `levenshtein` judge.
type LevenshteinConfig struct {
	// Value is the text the output is compared with. When it is set (even
	// to the empty string) it is used instead of the judge's rendered
	// `expected` template.
	Value *string `yaml:"value"`
	// Threshold is the least similarity that passes, in 0..1 (default
	// 0.8).
	Threshold *float64 `yaml:"threshold"`
	// IgnoreCase compares code points without regard to letter case
	// (Unicode simple case folding, as the equals judge does).
	IgnoreCase bool `yaml:"ignore_case"`
}

// defaultLevenshteinThreshold is the similarity a levenshtein judge passes
// at when its configuration sets none.
const defaultLevenshteinThreshold = 0.8

// Levenshtein scores an output by its edit distance to the expected text:
// the least number of code-point insertions, deletions and substitutions
// that turn one into the other. Its score is the similarity
// 1 - distance/max(len(output), len(expected)), lengths in code points (1
// when both are empty).
type Levenshtein struct {
	cfg       LevenshteinConfig
	threshold float64
}

var _ Judge = (*Levenshtein)(nil)

// NewLevenshtein returns a levenshtein judge. A threshold outside 0..1 is
// an error naming the field.
func NewLevenshtein(cfg LevenshteinConfig) (*Levenshtein, error) {
	t, err := overlapThreshold(cfg.Threshold, defaultLevenshteinThreshold)
	if err != nil {
		return nil, err
	}
	return &Levenshtein{cfg: cfg, threshold: t}, nil
}

// Judge compares in.Output with the configured value or in.Expected.
func (j *Levenshtein) Judge(_ context.Context, in Input) (Verdict, error) {
	want := in.Expected
	if j.cfg.Value != nil {
		want = *j.cfg.Value
	}
	d, n := levenshtein(in.Output, want, j.cfg.IgnoreCase)
	sim := 1.0
	if n > 0 {
		sim = 1 - float64(d)/float64(n)
	}
	suffix := ""
	if j.cfg.IgnoreCase {
		suffix = ", ignoring case"
	}
	pass := sim >= j.threshold
	// As fmt.Sprintf("edit distance %d over %d code points: similarity
	// %.4f, %s at threshold %g%s", ...) writes it, for a fraction of the
	// cost: this judge runs on millions of rows.
	b := make([]byte, 0, 96)
	b = append(b, "edit distance "...)
	b = strconv.AppendInt(b, int64(d), 10)
	b = append(b, " over "...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, " code points: similarity "...)
	b = strconv.AppendFloat(b, sim, 'f', 4, 64)
	b = append(b, ", "...)
	b = append(b, overlapPassWord(pass)...)
	b = append(b, " at threshold "...)
	b = strconv.AppendFloat(b, j.threshold, 'g', -1, 64)
	b = append(b, suffix...)
	return overlapVerdict(sim, j.threshold, string(b), map[string]any{"distance": d}), nil
}

// levenshtein returns the edit distance between a and b counted in code
// points, and the length of the longer of the two in code points. Invalid
// UTF-8 bytes count as one code point each. With fold, code points that are
// equal under Unicode simple case folding match.
func levenshtein(a, b string, fold bool) (distance, longest int) {
	var bufA, bufB [256]rune // on the stack: most texts compared are shorter
	ra := levenshteinRunes(bufA[:0], a, fold)
	rb := levenshteinRunes(bufB[:0], b, fold)
	longest = max(len(ra), len(rb))
	// Common prefix and suffix cost nothing.
	for len(ra) > 0 && len(rb) > 0 && ra[0] == rb[0] {
		ra, rb = ra[1:], rb[1:]
	}
	for len(ra) > 0 && len(rb) > 0 && ra[len(ra)-1] == rb[len(rb)-1] {
		ra, rb = ra[:len(ra)-1], rb[:len(rb)-1]
	}
	if len(ra) < len(rb) {
		ra, rb = rb, ra
	}
	// Now len(rb) <= len(ra).
	switch {
	case len(rb) == 0:
		return len(ra), longest
	case len(rb) <= 64:
		return myers64(rb, ra), longest
	}
	return myersBlocks(rb, ra), longest
}

// appendRunes appends the code points of s to dst, case-folded when fold is
// set.
func levenshteinRunes(dst []rune, s string, fold bool) []rune {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if fold && c >= 'a' && c <= 'z' {
				c -= 'a' - 'A' // the least of {A, a}, as levenshteinFold picks
			}
			dst = append(dst, rune(c))
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			// Keep each invalid byte distinct from U+FFFD and from the
			// others.
			r = -rune(c)
		} else if fold {
			r = levenshteinFold(r)
		}
		dst = append(dst, r)
		i += size
	}
	return dst
}

// foldRune returns the least code point of r's simple case-folding orbit,
// so that two code points are equal under strings.EqualFold exactly when
// their foldRune values are.
func levenshteinFold(r rune) rune {
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	return least
}

// myers64 returns the edit distance between pattern (1 to 64 code points)
// and text with Myers' bit-parallel algorithm (G. Myers, "A fast bit-vector
// algorithm for approximate string matching based on dynamic programming",
// JACM 1999, in the global-distance form of H. Hyyrö 2001): one column of
// the dynamic-programming table per machine word operation.
func myers64(pattern, text []rune) int {
	var ascii [128]uint64
	var otherBuf [64]myersPeq // a pattern has at most 64 distinct code points
	other := otherBuf[:0]
	for i, r := range pattern {
		bit := uint64(1) << uint(i)
		if r >= 0 && r < 128 {
			ascii[r] |= bit
			continue
		}
		k := 0
		for k < len(other) && other[k].r != r {
			k++
		}
		if k == len(other) {
			other = append(other, myersPeq{r: r})
		}
		other[k].mask |= bit
	}
	m := len(pattern)
	last := uint64(1) << uint(m-1)
	pv, mv := ^uint64(0), uint64(0)
	score := m
	for _, r := range text {
		var eq uint64
		if r >= 0 && r < 128 {
			eq = ascii[r]
		} else {
			for _, e := range other {
				if e.r == r {
					eq = e.mask
					break
				}
			}
		}
		xv := eq | mv
		xh := (((eq & pv) + pv) ^ pv) | eq
		ph := mv | ^(xh | pv)
		mh := pv & xh
		if ph&last != 0 {
			score++
		} else if mh&last != 0 {
			score--
		}
		ph = ph<<1 | 1
		mh <<= 1
		pv = mh | ^(xv | ph)
		mv = ph & xv
	}
	return score
}

// myersPeq is the match mask of one non-ASCII pattern code point in myers64.
type myersPeq struct {
	r    rune
	mask uint64
}

// myersBlocks is myers64 for patterns longer than 64 code points: the
// pattern's rows are split into 64-row blocks, each advanced a column at a
// time and passing its bottom row's horizontal delta (-1, 0 or +1) to the
// next block, as in Myers' paper and edlib. The distance is tracked at the
// pattern's last row.
func myersBlocks(pattern, text []rune) int {
	m := len(pattern)
	words := (m + 63) / 64
	// Number the pattern's distinct code points from 1; 0 is "not in the
	// pattern", whose match masks are all zero.
	var ascii [128]int32
	other := map[rune]int32{}
	next := int32(1)
	ids := make([]int32, m)
	for i, r := range pattern {
		var k *int32
		if r >= 0 && r < 128 {
			k = &ascii[r]
		} else {
			v, ok := other[r]
			if !ok {
				v = next
				next++
				other[r] = v
			}
			ids[i] = v
			continue
		}
		if *k == 0 {
			*k = next
			next++
		}
		ids[i] = *k
	}
	peq := make([]uint64, int(next)*words)
	for i, k := range ids {
		peq[int(k)*words+i/64] |= 1 << uint(i%64)
	}
	pv := make([]uint64, words)
	mv := make([]uint64, words)
	for w := range pv {
		pv[w] = ^uint64(0)
	}
	lastBit := uint64(1) << uint((m-1)%64)
	score := m
	for _, r := range text {
		var k int32
		if r >= 0 && r < 128 {
			k = ascii[r]
		} else {
			k = other[r]
		}
		eqs := peq[int(k)*words:]
		hin := 1 // row 0 of the table grows by one per column
		for w := range words {
			pvw, mvw, eq := pv[w], mv[w], eqs[w]
			var hinNeg uint64
			if hin < 0 {
				hinNeg = 1
			}
			xv := eq | mvw
			eq |= hinNeg
			xh := (((eq & pvw) + pvw) ^ pvw) | eq
			ph := mvw | ^(xh | pvw)
			mh := pvw & xh
			high := uint64(1) << 63
			if w == words-1 {
				high = lastBit
			}
			hout := 0
			if ph&high != 0 {
				hout = 1
			} else if mh&high != 0 {
				hout = -1
			}
			ph <<= 1
			mh <<= 1
			mh |= hinNeg
			if hin > 0 {
				ph |= 1
			}
			pv[w] = mh | ^(xv | ph)
			mv[w] = ph & xv
			hin = hout
		}
		score += hin
	}
	return score
}
