package datasets

import (
	"errors"
	"fmt"
	"hash/maphash"
	"io"
)

// idSet remembers the ids of a dataset and the line of each, to find
// duplicates, in 12 bytes a slot whatever the ids' length (about 16 to 32
// bytes an id, the table being kept between three eighths and three
// quarters full): an open-addressing table of 64-bit fingerprints and
// lines. Two different ids may share a fingerprint (for ten million ids,
// with probability about one in 370,000), so a fingerprint seen before is
// confirmed by reading the earlier line's id again; a different id that
// shares it is then kept exactly, in a small overflow map. A duplicate is
// therefore reported exactly when one exists.
type idSet struct {
	seed     maphash.Seed
	fps      []uint64 // 0 marks an empty slot
	lines    []int32
	n        int
	overflow map[string]int32
	// fingerprint hashes an id; tests replace it to force collisions.
	fingerprint func(maphash.Seed, string) uint64
}

func newIDSet() *idSet {
	return &idSet{seed: maphash.MakeSeed(), fps: make([]uint64, 1024), lines: make([]int32, 1024), fingerprint: maphash.String}
}

// add records id at line and returns the line of an earlier row with the
// same id, if there is one. idAt reads the id of the row at a line again.
func (s *idSet) add(id string, line int32, idAt func(line int32) (string, error)) (first int32, dup bool, err error) {
	if first, ok := s.overflow[id]; ok {
		return first, true, nil
	}
	fp := s.fingerprint(s.seed, id) | 1 // never 0, the empty mark
	i := s.slot(fp)
	if s.fps[i] == fp {
		prev, err := idAt(s.lines[i])
		if err != nil {
			return 0, false, err
		}
		if prev == id {
			return s.lines[i], true, nil
		}
		if s.overflow == nil {
			s.overflow = map[string]int32{}
		}
		s.overflow[id] = line
		return 0, false, nil
	}
	s.fps[i], s.lines[i] = fp, line
	s.n++
	if 4*s.n >= 3*len(s.fps) {
		s.grow()
	}
	return 0, false, nil
}

// slot returns the slot of fp: where it is, or the empty slot where it
// goes (linear probing).
func (s *idSet) slot(fp uint64) int {
	mask := uint64(len(s.fps) - 1)
	for i := (fp * 0x9E3779B97F4A7C15) >> 1 & mask; ; i = (i + 1) & mask {
		if s.fps[i] == fp || s.fps[i] == 0 {
			return int(i)
		}
	}
}

func (s *idSet) grow() {
	fps, lines := s.fps, s.lines
	s.fps, s.lines = make([]uint64, 2*len(fps)), make([]int32, 2*len(fps))
	for i, fp := range fps {
		if fp != 0 {
			j := s.slot(fp)
			s.fps[j], s.lines[j] = fp, lines[i]
		}
	}
}

// idAtLine reads the dataset again, from the start, to the row at line,
// and returns its id.
func (r *Reader) idAtLine(line int32) (string, error) {
	src, err := r.openSource()
	if err != nil {
		return "", err
	}
	defer src.close()
	for {
		rw, err := src.next()
		if errors.Is(err, io.EOF) {
			return "", &ParseError{Path: r.opts.Path, Err: fmt.Errorf("file changed while reading: line %d is gone", line)}
		}
		if err != nil {
			return "", err
		}
		if int32(min(rw.line, 1<<31-1)) == line {
			return r.ids(rw.fields)
		}
	}
}
