package eval

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/traces"
	"golang.org/x/sync/errgroup"
)

// A run in progress keeps its rows in chunks: small, complete Parquet files
// under .parts/, one triple (results, scores, traces) per chunk, each
// written to a temporary name and renamed into place. The journal,
// .parts/journal, lists the committed chunks, one line each, appended and
// fsynced after the chunk's files are in place: a chunk is part of the run
// exactly when its line is in the journal. Killed at any moment, a run
// directory therefore holds only complete Parquet files (and perhaps a
// temporary file, never read), and `gavel run --resume` knows exactly
// which results it has. At the end the chunks are merged per variant in
// (example, epoch) order, pairwise judges run, and the final files are
// written and renamed into place.
//
// Journal lines:
//
//	chunk <seq> <variant index> <results>
//	supersede <variant index> <example index> <epoch> <seq>   (--retry-errors: drop this result from chunks before seq)

const (
	journalFile = "journal"
	// chunkBytes and chunkAge bound what a crash can lose: at most this
	// many bytes of finished outcomes per variant (as sized by
	// outcomeSize), or this much time of them. Chunks follow bytes and
	// time, not a count of rows, so that cheap work (heuristic scoring,
	// thousands of rows a second) is not throttled by a disk sync every
	// few hundred rows, and slow work (model calls) is still saved every
	// two seconds.
	chunkBytes = 4 << 20
	chunkAge   = 2 * time.Second
)

func chunkPath(dir string, seq, variant int, table string) string {
	return filepath.Join(dir, ".parts", fmt.Sprintf("c%06d-v%04d-%s.parquet", seq, variant, table))
}

// partStore writes a run's finished outcomes as journaled chunks. Only
// the runner's writer goroutine uses it; the chunks themselves are written
// and committed, in order, by one flusher goroutine, so that encoding a
// chunk overlaps the work of the next one. At most one chunk waits for the
// flusher while it writes another: memory stays bounded, and a slow disk
// holds the writer back.
type partStore struct {
	dir     string
	runID   string
	journal *os.File
	seq     int
	bufs    [][]*outcome
	sizes   []int // the bytes of each variant's buffered outcomes
	last    time.Time
	now     func() time.Time

	chunks chan chunkJob // to the flusher
	failed chan struct{} // closed by the flusher when it fails
	done   chan struct{} // closed by the flusher when it ends
	ferr   error         // the flusher's error: read after failed is closed
}

// chunkJob is one chunk for the flusher to write and commit.
type chunkJob struct {
	seq, variant int
	outs         []*outcome
}

func openPartStore(dir, runID string, variants, nextSeq int, now func() time.Time) (*partStore, error) {
	if err := os.MkdirAll(filepath.Join(dir, ".parts"), 0o755); err != nil {
		return nil, err
	}
	j, err := os.OpenFile(filepath.Join(dir, ".parts", journalFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	s := &partStore{dir: dir, runID: runID, journal: j, seq: nextSeq, bufs: make([][]*outcome, variants), sizes: make([]int, variants),
		last: now(), now: now, chunks: make(chan chunkJob, 1), failed: make(chan struct{}), done: make(chan struct{})}
	go s.flusher()
	return s, nil
}

// flusher writes and commits the chunks it is given, in order. After an
// error it writes no more (a chunk after a missing one would be committed
// out of order) and reports the error when it ends.
func (s *partStore) flusher() {
	defer close(s.done)
	for job := range s.chunks {
		if s.ferr != nil {
			continue
		}
		if s.ferr = s.write(job); s.ferr != nil {
			close(s.failed)
		}
	}
}

// add buffers an outcome and writes a chunk when a variant's buffer is full
// or old enough.
func (s *partStore) add(o *outcome) error {
	v := o.variant
	s.bufs[v] = append(s.bufs[v], o)
	s.sizes[v] += outcomeSize(o)
	if s.sizes[v] >= chunkBytes {
		return s.flush(v)
	}
	if s.now().Sub(s.last) >= chunkAge {
		return s.flushAll()
	}
	return nil
}

func (s *partStore) flushAll() error {
	for v := range s.bufs {
		if err := s.flush(v); err != nil {
			return err
		}
	}
	s.last = s.now()
	return nil
}

// flush hands variant v's buffered outcomes to the flusher as one chunk.
// It returns the flusher's error once the flusher has failed.
func (s *partStore) flush(v int) error {
	select {
	case <-s.failed:
		return s.ferr
	default:
	}
	outs := s.bufs[v]
	if len(outs) == 0 {
		return nil
	}
	s.chunks <- chunkJob{seq: s.seq, variant: v, outs: outs}
	s.seq++
	s.bufs[v], s.sizes[v] = nil, 0
	return nil
}

// write writes one chunk's files, the three at once (each file is its
// own), and then commits it.
func (s *partStore) write(job chunkJob) error {
	seq, v, outs := job.seq, job.variant, job.outs
	var g errgroup.Group
	g.Go(func() error {
		return writeAtomically(chunkPath(s.dir, seq, v, "results"), func(f *os.File) error {
			w, err := results.NewResultWriter(f)
			if err != nil {
				return err
			}
			for _, o := range outs {
				if err := w.Write(o.result); err != nil {
					return err
				}
			}
			return w.Close()
		})
	})
	g.Go(func() error {
		return writeAtomically(chunkPath(s.dir, seq, v, "scores"), func(f *os.File) error {
			w, err := results.NewScoreWriter(f)
			if err != nil {
				return err
			}
			for _, o := range outs {
				if err := w.Write(o.scores...); err != nil {
					return err
				}
			}
			return w.Close()
		})
	})
	g.Go(func() error {
		return writeAtomically(chunkPath(s.dir, seq, v, "traces"), func(f *os.File) error {
			w, err := traces.NewWriter(f)
			if err != nil {
				return err
			}
			for _, o := range outs {
				r := o.result
				if err := w.WriteIndexed(s.runID, r.Variant, r.ExampleID, r.ExampleIndex, int(r.Epoch), o.spans); err != nil {
					return err
				}
			}
			return w.Close()
		})
	})
	err := g.Wait()
	if err == nil {
		err = s.commit(fmt.Sprintf("chunk %d %d %d", seq, v, len(outs)))
	}
	if err != nil {
		return fmt.Errorf("writing run %s: %w", s.dir, err)
	}
	return nil
}

// outcomeSize estimates the bytes an outcome holds: its texts, and a fixed
// amount for each row's other columns (about what they take in memory).
func outcomeSize(o *outcome) int {
	const row = 128
	r := &o.result
	n := row + len(r.ExampleID) + len(r.Input) + len(r.Output) + len(r.Steps) +
		len(results.Deref(r.Expected)) + len(results.Deref(r.Error)) + len(results.Deref(r.Details))
	for i := range o.scores {
		sc := &o.scores[i]
		n += row + len(results.Deref(sc.Label)) + len(results.Deref(sc.Reason)) + len(results.Deref(sc.Error)) + len(results.Deref(sc.Details))
	}
	for i := range o.spans {
		sp := &o.spans[i]
		n += row + len(sp.Input) + len(sp.Output) + len(sp.Error) + 64*len(sp.Attributes)
	}
	return n
}

// commit appends a line to the journal and makes it durable.
func (s *partStore) commit(line string) error {
	if _, err := s.journal.WriteString(line + "\n"); err != nil {
		return err
	}
	return s.journal.Sync()
}

// close writes what is buffered, waits for the flusher and closes the
// journal.
func (s *partStore) close() error {
	err := s.flushAll()
	close(s.chunks)
	<-s.done
	if err == nil {
		err = s.ferr
	}
	return errors.Join(err, s.journal.Close())
}

// writeAtomically writes path through a temporary file, fsyncs it and
// renames it into place.
func writeAtomically(path string, fn func(*os.File) error) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// journalState is what a journal says.
type journalState struct {
	chunks    []chunkRef
	supersede map[supersedeKey]int // -> seq before which the result is dropped
	nextSeq   int
}

type chunkRef struct{ seq, variant, results int }

// supersedes says whether the journal drops results of variant v.
func (js *journalState) supersedes(v int) bool {
	for k := range js.supersede {
		if k.variant == v {
			return true
		}
	}
	return false
}

type supersedeKey struct {
	variant int
	key     results.RowKey
}

// readJournal reads dir/.parts/journal; a missing journal is empty. A torn
// last line (a crash mid-write) is ignored: its chunk was not committed.
func readJournal(dir string) (*journalState, error) {
	js := &journalState{supersede: map[supersedeKey]int{}}
	f, err := os.Open(filepath.Join(dir, ".parts", journalFile))
	if errors.Is(err, os.ErrNotExist) {
		return js, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	text := string(data)
	if i := strings.LastIndexByte(text, '\n'); i < len(text)-1 {
		text = text[:i+1] // drop a torn last line
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		nums := make([]int, 0, len(f))
		for _, x := range f[1:] {
			n, err := strconv.Atoi(x)
			if err != nil {
				return nil, fmt.Errorf("run %s journal line %d: %q", dir, line, sc.Text())
			}
			nums = append(nums, n)
		}
		switch {
		case len(f) == 4 && f[0] == "chunk":
			js.chunks = append(js.chunks, chunkRef{seq: nums[0], variant: nums[1], results: nums[2]})
			js.nextSeq = max(js.nextSeq, nums[0]+1)
		case len(f) == 5 && f[0] == "supersede":
			js.supersede[supersedeKey{nums[0], results.RowKey{ExampleIndex: int64(nums[1]), Epoch: int32(nums[2])}}] = nums[3]
		default:
			return nil, fmt.Errorf("run %s journal line %d: %q", dir, line, sc.Text())
		}
	}
	sort.Slice(js.chunks, func(i, j int) bool { return js.chunks[i].seq < js.chunks[j].seq })
	return js, nil
}

// mergeParts merges each variant's committed chunks, table by table, into
// the per-variant part files the final compaction concatenates.
func mergeParts(dir string, variants int, js *journalState) error {
	for v := 0; v < variants; v++ {
		var seqs []int
		for _, c := range js.chunks {
			if c.variant == v {
				seqs = append(seqs, c.seq)
			}
		}
		for _, table := range []string{"results", "scores", "traces"} {
			dst := partPath(dir, table, v)
			if len(seqs) == 0 {
				if err := writeEmptyPart(dst, table); err != nil {
					return err
				}
				continue
			}
			srcs := make([]string, len(seqs))
			for i, s := range seqs {
				srcs[i] = chunkPath(dir, s, v, table)
			}
			// Without superseded results every row is kept, and chunks
			// written in order can be copied rather than merged.
			var keep func(int, results.RowKey) bool
			if js.supersedes(v) {
				keep = func(src int, key results.RowKey) bool {
					before, ok := js.supersede[supersedeKey{v, key}]
					return !ok || seqs[src] >= before
				}
			}
			if err := results.MergeSorted(dst, srcs, keep); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeEmptyPart writes a part with the table's schema and no rows (a
// variant with no results yet).
func writeEmptyPart(path, table string) error {
	return writeAtomically(path, func(f *os.File) error {
		switch table {
		case "results":
			w, err := results.NewResultWriter(f)
			if err != nil {
				return err
			}
			return w.Close()
		case "scores":
			w, err := results.NewScoreWriter(f)
			if err != nil {
				return err
			}
			return w.Close()
		}
		w, err := traces.NewWriter(f)
		if err != nil {
			return err
		}
		return w.Close()
	})
}
