package datasets

import (
	"bufio"
	"cmp"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"slices"
)

// Sizes of the duplicate-id check (see idSet).
const (
	// tableSlots is the most slots the in-memory table grows to: 12 MiB,
	// for 786,432 ids at three quarters full.
	tableSlots = 1 << 20
	// runEntries is how many fingerprints beyond the table are gathered,
	// sorted, before they are written to disk as one run: 8 MiB.
	runEntries = 1 << 19
	// runReadBuffer is the read buffer of each run when the runs are
	// merged.
	runReadBuffer = 32 << 10
)

// idSet remembers the ids of a dataset, to find duplicates, in memory that
// does not grow with the dataset beyond about 20 MiB.
//
// The first ids go into an open-addressing table of 64-bit fingerprints
// and lines, 12 bytes a slot whatever the ids' length, kept between three
// eighths and three quarters full, up to tableSlots slots; a repeat of one
// of them is found at once. Two different ids may share a fingerprint (for
// ten million ids, with probability about one in 370,000), so a
// fingerprint seen before is confirmed by reading the earlier line's id
// again; a different id that shares it is then kept exactly, in a small
// overflow map.
//
// Once the table is full, every further id is still looked up in it, and
// its fingerprint and line are gathered in a buffer of runEntries; a full
// buffer is sorted by fingerprint and appended to a temporary file (removed
// as soon as it is made, so nothing is left behind) as one sorted run. When
// the reader stops (at the end of the file, or at a bad row), [idSet.resolve]
// merges the runs and the buffer, and reads the ids of the lines whose
// fingerprints repeat again in one pass over the file to tell true
// duplicates from collisions. A duplicate is therefore reported exactly when
// one exists; one among the ids beyond the table is reported when the
// reader stops rather than at its line, and the one reported is the first
// in file order.
type idSet struct {
	seed     maphash.Seed
	fps      []uint64 // 0 marks an empty slot
	lines    []int32
	n        int
	overflow map[string]int32
	// fingerprint hashes an id; tests replace it to force collisions.
	fingerprint func(maphash.Seed, string) uint64

	maxSlots int // the table's size limit (tableSlots; smaller in tests)
	maxRun   int // entries a run (runEntries; smaller in tests)
	full     bool
	pending  []fpLine // the ids beyond the table not yet written
	spill    *os.File
	runs     []spillRun
	spilled  int64 // bytes written to spill
}

// fpLine is an id beyond the table: its fingerprint and line.
type fpLine struct {
	fp   uint64
	line int32
}

// spillRun is a sorted run of fpLines in the spill file, 12 bytes each.
type spillRun struct {
	off int64
	n   int
}

const fpLineSize = 12

func newIDSet() *idSet {
	return &idSet{
		seed:        maphash.MakeSeed(),
		fps:         make([]uint64, 1024),
		lines:       make([]int32, 1024),
		fingerprint: maphash.String,
		maxSlots:    tableSlots,
		maxRun:      runEntries,
	}
}

// add records id at line and returns the line of an earlier row with the
// same id, if one is known already. idAt reads the id of the row at a
// line again.
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
		if s.full {
			return 0, false, s.defer1(fp, line)
		}
		if s.overflow == nil {
			s.overflow = map[string]int32{}
		}
		s.overflow[id] = line
		return 0, false, nil
	}
	if s.full {
		return 0, false, s.defer1(fp, line)
	}
	s.fps[i], s.lines[i] = fp, line
	s.n++
	if 4*s.n >= 3*len(s.fps) {
		if 2*len(s.fps) > s.maxSlots {
			s.full = true
		} else {
			s.grow()
		}
	}
	return 0, false, nil
}

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

// defer1 gathers an id beyond the table, writing a full buffer as a run.
func (s *idSet) defer1(fp uint64, line int32) error {
	if s.pending == nil {
		s.pending = make([]fpLine, 0, s.maxRun)
	}
	s.pending = append(s.pending, fpLine{fp, line})
	if len(s.pending) < s.maxRun {
		return nil
	}
	return s.writeRun()
}

// writeRun sorts the buffer and appends it to the spill file.
func (s *idSet) writeRun() error {
	if s.spill == nil {
		f, err := os.CreateTemp("", "gavel-ids-*")
		if err != nil {
			return fmt.Errorf("duplicate-id check: %w", err)
		}
		// Unlinked at once: the open file is all that is needed, and a
		// killed process leaves nothing behind (where the system allows
		// removing an open file).
		_ = os.Remove(f.Name())
		s.spill = f
	}
	sortFPLines(s.pending)
	w := bufio.NewWriterSize(s.spill, 64<<10)
	var b [fpLineSize]byte
	for _, e := range s.pending {
		binary.LittleEndian.PutUint64(b[:8], e.fp)
		binary.LittleEndian.PutUint32(b[8:], uint32(e.line))
		w.Write(b[:])
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("duplicate-id check: write %s: %w", s.spill.Name(), err)
	}
	s.runs = append(s.runs, spillRun{off: s.spilled, n: len(s.pending)})
	s.spilled += int64(len(s.pending)) * fpLineSize
	s.pending = s.pending[:0]
	return nil
}

func sortFPLines(es []fpLine) {
	slices.SortFunc(es, func(a, b fpLine) int {
		if c := cmp.Compare(a.fp, b.fp); c != 0 {
			return c
		}
		return cmp.Compare(a.line, b.line)
	})
}

// close releases the spill file.
func (s *idSet) close() {
	if s.spill != nil {
		s.spill.Close()
		s.spill = nil
	}
	s.pending, s.runs = nil, nil
}

// duplicate is a repeated id: its first line and the line that repeats it.
type duplicate struct {
	id            string
	first, second int32
}

// resolve finds, among the ids beyond the table, the repeat that comes
// first in the file. idsAt reads the ids at the given lines again, in one
// pass. The reader calls it when it stops, so every line added comes
// before the line it stops at.
func (s *idSet) resolve(idsAt func(lines map[int32]string) error) (duplicate, bool, error) {
	if len(s.runs) == 0 && len(s.pending) == 0 {
		return duplicate{}, false, nil
	}
	sortFPLines(s.pending)
	m := &runMerge{}
	readErr := func(err error) error {
		return fmt.Errorf("duplicate-id check: read %s: %w", s.spill.Name(), err)
	}
	m.add(&sliceCursor{es: s.pending})
	for _, r := range s.runs {
		if err := m.add(&fileCursor{r: bufio.NewReaderSize(io.NewSectionReader(s.spill, r.off, int64(r.n)*fpLineSize), runReadBuffer), left: r.n}); err != nil {
			return duplicate{}, false, readErr(err)
		}
	}
	// Lines whose fingerprints repeat, in groups of one fingerprint.
	var groups [][]int32
	var group []int32
	var last uint64
	flush := func() {
		if len(group) > 1 {
			groups = append(groups, slices.Clone(group))
		}
		group = group[:0]
	}
	for {
		e, ok, err := m.next()
		if err != nil {
			return duplicate{}, false, readErr(err)
		}
		if !ok {
			break
		}
		if e.fp != last {
			flush()
			last = e.fp
		}
		group = append(group, e.line)
	}
	flush()
	if len(groups) == 0 {
		return duplicate{}, false, nil
	}
	ids := map[int32]string{}
	for _, g := range groups {
		for _, l := range g {
			ids[l] = ""
		}
	}
	if err := idsAt(ids); err != nil {
		return duplicate{}, false, err
	}
	var best duplicate
	found := false
	for _, g := range groups {
		// g is in line order: the first repeat of an id within it is its
		// second occurrence.
		firstOf := map[string]int32{}
		for _, l := range g {
			id := ids[l]
			if f, ok := firstOf[id]; ok {
				if !found || l < best.second {
					best, found = duplicate{id: id, first: f, second: l}, true
				}
				continue
			}
			firstOf[id] = l
		}
	}
	return best, found, nil
}

// A cursor yields fpLines in order.
type cursor interface {
	next() (fpLine, bool, error)
}

type sliceCursor struct {
	es []fpLine
	i  int
}

func (c *sliceCursor) next() (fpLine, bool, error) {
	if c.i >= len(c.es) {
		return fpLine{}, false, nil
	}
	c.i++
	return c.es[c.i-1], true, nil
}

type fileCursor struct {
	r    *bufio.Reader
	left int
	b    [fpLineSize]byte
}

func (c *fileCursor) next() (fpLine, bool, error) {
	if c.left == 0 {
		return fpLine{}, false, nil
	}
	if _, err := io.ReadFull(c.r, c.b[:]); err != nil {
		return fpLine{}, false, err
	}
	c.left--
	return fpLine{fp: binary.LittleEndian.Uint64(c.b[:8]), line: int32(binary.LittleEndian.Uint32(c.b[8:]))}, true, nil
}

// runMerge merges sorted cursors with a heap, into (fingerprint, line)
// order.
type runMerge struct {
	heads []fpLine
	curs  []cursor
}

func (m *runMerge) Len() int { return len(m.heads) }
func (m *runMerge) Less(i, j int) bool {
	a, b := m.heads[i], m.heads[j]
	return a.fp < b.fp || a.fp == b.fp && a.line < b.line
}
func (m *runMerge) Swap(i, j int) {
	m.heads[i], m.heads[j] = m.heads[j], m.heads[i]
	m.curs[i], m.curs[j] = m.curs[j], m.curs[i]
}
func (m *runMerge) Push(any) {}
func (m *runMerge) Pop() any {
	m.heads, m.curs = m.heads[:len(m.heads)-1], m.curs[:len(m.curs)-1]
	return nil
}

func (m *runMerge) add(c cursor) error {
	e, ok, err := c.next()
	if err != nil || !ok {
		return err
	}
	m.heads = append(m.heads, e)
	m.curs = append(m.curs, c)
	heap.Init(m)
	return nil
}

func (m *runMerge) next() (fpLine, bool, error) {
	if len(m.heads) == 0 {
		return fpLine{}, false, nil
	}
	e := m.heads[0]
	n, ok, err := m.curs[0].next()
	switch {
	case err != nil:
		return fpLine{}, false, err
	case ok:
		m.heads[0] = n
		heap.Fix(m, 0)
	default:
		heap.Pop(m)
	}
	return e, true, nil
}

// idAtLine reads the dataset again, from the start, to the row at line,
// and returns its id.
func (r *Reader) idAtLine(line int32) (string, error) {
	ids := map[int32]string{line: ""}
	if err := r.idsAtLines(ids); err != nil {
		return "", err
	}
	return ids[line], nil
}

// idsAtLines reads the dataset again, from the start, and fills in the id
// of every row whose line is a key of ids.
func (r *Reader) idsAtLines(ids map[int32]string) error {
	src, err := r.openSource()
	if err != nil {
		return err
	}
	defer src.close()
	found := make(map[int32]bool, len(ids))
	for len(found) < len(ids) {
		rw, err := src.next()
		if errors.Is(err, io.EOF) {
			gone := int32(0)
			for l := range ids {
				if !found[l] && (gone == 0 || l < gone) {
					gone = l
				}
			}
			return &ParseError{Path: r.opts.Path, Err: fmt.Errorf("file changed while reading: line %d is gone", gone)}
		}
		if err != nil {
			return err
		}
		l := int32(min(rw.line, 1<<31-1))
		if _, ok := ids[l]; !ok || found[l] {
			continue
		}
		found[l] = true
		id, err := r.ids(rw.fields)
		if err != nil {
			return &ParseError{Path: r.opts.Path, Line: rw.line, Err: err}
		}
		ids[l] = id
	}
	return nil
}
