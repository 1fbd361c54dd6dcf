package results

import (
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"

	"github.com/gavel-eval/gavel/internal/parquetio"
	"github.com/parquet-go/parquet-go"
)

// RowKey is where a row belongs in a run's order: the example's position
// in the dataset and the epoch.
type RowKey struct {
	ExampleIndex int64
	Epoch        int32
}

func (a RowKey) less(b RowKey) bool {
	if a.ExampleIndex != b.ExampleIndex {
		return a.ExampleIndex < b.ExampleIndex
	}
	return a.Epoch < b.Epoch
}

// MergeSorted merges Parquet files that share a schema with example_index
// and epoch columns, each already in (example_index, epoch) order, into
// one file at dst in that order, keeping a row only when keep(source,
// key) says so (nil keeps every row). Rows of equal keys keep the order of
// their sources. dst is written to a temporary file and renamed into
// place. The parts of a run are merged this way, so a resumed run's files
// are in the same order as an uninterrupted run's. Sources written with an
// older schema (fewer columns) are converted to the widest: see
// targetSchema.
//
// It streams, and its cost is linear in the rows: a source is opened only
// when the merge reaches its first row and closed when it is used up, and
// the next row is taken from a heap of the open sources. A run's chunks
// are written in order, so their ranges barely overlap and one or two are
// open at a time, whatever their number; sources that do overlap (results
// retried by a resumed run) are merged through the heap.
func MergeSorted(dst string, srcs []string, keep func(src int, key RowKey) bool) error {
	if len(srcs) == 0 {
		return fmt.Errorf("merge %s: no source files", dst)
	}
	// First pass: every source's schema and a lower bound of its first key
	// (from the footer's statistics, else its first row), one file open
	// at a time.
	schemas := make([]*parquet.Schema, len(srcs))
	firsts := make([]RowKey, len(srcs))
	lasts := make([]int64, len(srcs)) // the largest example_index, from the statistics
	empty := make([]bool, len(srcs))
	var rows int64
	disjoint := keep == nil
	for i, src := range srcs {
		f, pf, err := parquetio.Open(src)
		if err != nil {
			return err
		}
		schemas[i] = pf.Schema()
		rows += pf.NumRows()
		var ok bool
		if empty[i] = pf.NumRows() == 0; !empty[i] {
			firsts[i], lasts[i], ok = indexRange(pf)
			disjoint = disjoint && ok
		}
		if !empty[i] && !ok {
			c := &mergeCursor{src: i, path: src, f: f}
			err = c.start(pf, pf.Schema())
			firsts[i], empty[i] = c.key, c.done
			c.close()
		} else {
			f.Close()
		}
		if err != nil {
			return fmt.Errorf("merge %s: %s: %w", dst, src, err)
		}
	}
	schema := targetSchema(schemas)
	if !hasKeyColumns(schema) {
		return fmt.Errorf("merge %s: %w", dst, errNoKeyColumns)
	}
	// order lists the sources with rows by the bound of their first key
	// (then by source, so equal keys keep the sources' order).
	var order []int
	for i := range srcs {
		if !empty[i] {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return firsts[order[a]].less(firsts[order[b]]) })
	// Sources whose example_index ranges do not touch (every row of one
	// before every row of the next, whatever the epochs) need no merging:
	// their row groups are copied in order, column by column, which is
	// several times cheaper than row by row. Small sources (a slow run's
	// chunks of a few rows) are merged row by row instead, into row groups
	// of a useful size.
	for k := 1; k < len(order) && disjoint; k++ {
		disjoint = lasts[order[k-1]] < firsts[order[k]].ExampleIndex
	}
	if disjoint && len(order) > 0 && rows/int64(len(order)) >= minCopyRows {
		return copyInOrder(dst, srcs, order, schema)
	}

	h := &cursorHeap{}
	defer func() {
		for _, c := range *h {
			c.close()
		}
	}()
	nextOpen := 0
	// open opens the sources whose first row may come before the heap's
	// smallest row (or at it, from an earlier source). A bound below the
	// true first key only opens a source early.
	open := func() error {
		for nextOpen < len(order) {
			i := order[nextOpen]
			if h.Len() > 0 && !before(firsts[i], i, (*h)[0]) {
				return nil
			}
			f, pf, err := parquetio.Open(srcs[i])
			if err != nil {
				return err
			}
			c := &mergeCursor{src: i, path: srcs[i], f: f}
			if err := c.start(pf, schema); err != nil {
				c.close()
				return fmt.Errorf("merge %s: %s: %w", dst, srcs[i], err)
			}
			nextOpen++
			if c.done {
				c.close()
				continue
			}
			heap.Push(h, c)
		}
		return nil
	}

	return writeAtomically(dst, schema, func(w *parquet.GenericWriter[any]) error {
		batch := make([]parquet.Row, 0, 256)
		inGroup := 0
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			if _, err := w.WriteRows(batch); err != nil {
				return err
			}
			inGroup += len(batch)
			batch = batch[:0]
			if inGroup >= maxRowsPerGroup {
				inGroup = 0
				return w.Flush()
			}
			return nil
		}
		for {
			if err := open(); err != nil {
				return err
			}
			if h.Len() == 0 {
				break
			}
			c := (*h)[0]
			if keep == nil || keep(c.src, c.key) {
				batch = append(batch, c.buf[c.pos].Clone())
				if len(batch) == cap(batch) {
					if err := flush(); err != nil {
						return fmt.Errorf("merge %s: %w", dst, err)
					}
				}
			}
			if err := c.next(); err != nil {
				return fmt.Errorf("merge %s: %s: %w", dst, c.path, err)
			}
			if c.done {
				heap.Pop(h)
				c.close()
			} else {
				heap.Fix(h, 0)
			}
		}
		if err := flush(); err != nil {
			return fmt.Errorf("merge %s: %w", dst, err)
		}
		return nil
	})
}

// indexRange returns a key at or before the first row of pf and the
// largest example_index of pf, from the statistics of example_index in
// its footer: the rows are sorted, so the first row group's minimum is the
// first row's, and the epoch is bounded by the smallest. ok is false
// without statistics.
func indexRange(pf *parquet.File) (first RowKey, last int64, ok bool) {
	col, found := pf.Schema().Lookup("example_index")
	groups := pf.Metadata().RowGroups
	if !found || len(groups) == 0 {
		return first, 0, false
	}
	for i, g := range groups {
		if col.ColumnIndex >= len(g.Columns) {
			return first, 0, false
		}
		st := g.Columns[col.ColumnIndex].MetaData.Statistics
		lo, hi := st.MinValue, st.MaxValue
		if len(lo) == 0 && len(hi) == 0 {
			lo, hi = st.Min, st.Max // the deprecated fields, written by older writers
		}
		if len(lo) != 8 || len(hi) != 8 {
			return first, 0, false
		}
		if i == 0 {
			first = RowKey{ExampleIndex: int64(binary.LittleEndian.Uint64(lo)), Epoch: math.MinInt32}
		}
		last = max(last, int64(binary.LittleEndian.Uint64(hi)))
	}
	return first, last, true
}

// minCopyRows is the average rows per source from which disjoint sources
// are copied row group by row group rather than merged row by row.
const minCopyRows = 1024

// copyInOrder writes the row groups of srcs, in the order given, to dst.
func copyInOrder(dst string, srcs []string, order []int, schema *parquet.Schema) error {
	return writeAtomically(dst, schema, func(w *parquet.GenericWriter[any]) error {
		for _, i := range order {
			if err := appendFile(w, srcs[i], schema); err != nil {
				return fmt.Errorf("merge %s: %w", dst, err)
			}
		}
		return nil
	})
}

var errNoKeyColumns = errors.New("no example_index and epoch columns to merge by")

// hasKeyColumns says whether schema has the columns rows are merged by.
func hasKeyColumns(schema *parquet.Schema) bool {
	_, ok1 := schema.Lookup("example_index")
	_, ok2 := schema.Lookup("epoch")
	return ok1 && ok2
}

// mergeCursor reads one source of a merge, a batch of rows at a time,
// and knows the key of its current row.
type mergeCursor struct {
	src     int
	path    string
	f       *os.File
	rows    parquet.Rows
	groups  []parquet.RowGroup
	buf     []parquet.Row
	n, pos  int
	idx, ep int
	key     RowKey
	done    bool
}

// start prepares the cursor to read pf's rows in schema and moves it to
// the first row.
func (c *mergeCursor) start(pf *parquet.File, schema *parquet.Schema) error {
	if !hasKeyColumns(schema) {
		return errNoKeyColumns
	}
	ix, _ := schema.Lookup("example_index")
	ep, _ := schema.Lookup("epoch")
	groups, err := conform(pf, schema)
	if err != nil {
		return err
	}
	c.groups, c.buf, c.idx, c.ep = groups, make([]parquet.Row, 128), ix.ColumnIndex, ep.ColumnIndex
	c.pos = -1
	return c.next()
}

// next advances the cursor to its next row; done when it has none.
func (c *mergeCursor) next() error {
	c.pos++
	for c.pos >= c.n {
		if c.rows == nil {
			if len(c.groups) == 0 {
				c.done = true
				return nil
			}
			c.rows = c.groups[0].Rows()
			c.groups = c.groups[1:]
		}
		n, err := c.rows.ReadRows(c.buf)
		c.n, c.pos = n, 0
		if n == 0 && err == nil {
			err = io.EOF
		}
		if errors.Is(err, io.EOF) {
			if n > 0 {
				break
			}
			c.rows.Close()
			c.rows = nil
			continue
		}
		if err != nil {
			return err
		}
	}
	c.key = RowKey{}
	for _, v := range c.buf[c.pos] {
		switch v.Column() {
		case c.idx:
			c.key.ExampleIndex = v.Int64()
		case c.ep:
			c.key.Epoch = v.Int32()
		}
	}
	return nil
}

func (c *mergeCursor) close() {
	if c.rows != nil {
		c.rows.Close()
		c.rows = nil
	}
	if c.f != nil {
		c.f.Close()
		c.f = nil
	}
	c.buf, c.groups = nil, nil
}

// before says whether the row with key k of source src comes before the
// current row of c.
func before(k RowKey, src int, c *mergeCursor) bool {
	if k != c.key {
		return k.less(c.key)
	}
	return src < c.src
}

// cursorHeap orders open cursors by their current row: key, then source.
type cursorHeap []*mergeCursor

func (h cursorHeap) Len() int           { return len(h) }
func (h cursorHeap) Less(i, j int) bool { return before(h[i].key, h[i].src, h[j]) }
func (h cursorHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *cursorHeap) Push(x any)        { *h = append(*h, x.(*mergeCursor)) }
func (h *cursorHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// targetSchema returns the schema files are merged into: the one with the
// most columns, the first of them on a tie. The stored tables only ever
// gain columns, so the parts of a run started by an older gavel and
// resumed by a newer one merge into the newer schema.
func targetSchema(schemas []*parquet.Schema) *parquet.Schema {
	var best *parquet.Schema
	for _, s := range schemas {
		if best == nil || len(s.Columns()) > len(best.Columns()) {
			best = s
		}
	}
	return best
}

// repeats names the columns added to a stored table that repeat an older
// column under a new name: traces.parquet's end_time repeats end (a name
// that is no SQL keyword). A source written before such a column existed
// takes its values from the older column when converted, never the zero
// value.
var repeats = map[string]string{"end_time": "end"}

// conform returns the row groups of pf in schema: as they are when pf has
// that schema, else converted by column name (a column pf lacks is null,
// or its type's zero value when required; a column that repeats another,
// see repeats, is filled from it).
func conform(pf *parquet.File, schema *parquet.Schema) ([]parquet.RowGroup, error) {
	groups := pf.RowGroups()
	if parquet.EqualNodes(pf.Schema(), schema) {
		return groups, nil
	}
	conv, err := parquet.Convert(schema, pf.Schema())
	if err != nil {
		return nil, fmt.Errorf("converting to the current schema: %w", err)
	}
	fills := repeatFills(pf.Schema(), schema)
	out := make([]parquet.RowGroup, len(groups))
	for i, rg := range groups {
		out[i] = parquet.ConvertRowGroup(rg, conv)
		if len(fills) > 0 {
			out[i] = filledRowGroup{out[i], fills}
		}
	}
	return out, nil
}

// columnFill copies, in a row of the target schema, the value of column
// from to column to.
type columnFill struct{ from, to int }

// repeatFills lists the columns of target that src lacks and that repeat
// a column src has, of the same type and repetition, neither of them
// repeated (one value a row).
func repeatFills(src, target *parquet.Schema) []columnFill {
	var fills []columnFill
	for col, old := range repeats {
		if _, ok := src.Lookup(col); ok {
			continue
		}
		to, ok1 := target.Lookup(col)
		from, ok2 := target.Lookup(old)
		if _, had := src.Lookup(old); !ok1 || !ok2 || !had {
			continue
		}
		if to.MaxRepetitionLevel > 0 || from.MaxRepetitionLevel > 0 || !parquet.EqualNodes(to.Node, from.Node) {
			continue
		}
		fills = append(fills, columnFill{from: from.ColumnIndex, to: to.ColumnIndex})
	}
	return fills
}

// filledRowGroup is a converted row group whose rows carry, in the
// columns the source lacked, the values of the columns they repeat. Its
// column chunks are the conversion's: only its rows are read (merging,
// and parquet-go's writer, which copies rows of a row group it cannot
// copy chunk by chunk).
type filledRowGroup struct {
	parquet.RowGroup
	fills []columnFill
}

// Rows returns the row group's rows, filled.
func (g filledRowGroup) Rows() parquet.Rows {
	return &filledRows{Rows: g.RowGroup.Rows(), fills: g.fills}
}

type filledRows struct {
	parquet.Rows
	fills []columnFill
}

// ReadRows reads rows and fills them.
func (r *filledRows) ReadRows(rows []parquet.Row) (int, error) {
	n, err := r.Rows.ReadRows(rows)
	for _, row := range rows[:n] {
		for _, f := range r.fills {
			from, to := -1, -1
			for k, v := range row {
				switch v.Column() {
				case f.from:
					from = k
				case f.to:
					to = k
				}
			}
			if from >= 0 && to >= 0 {
				v := row[from]
				row[to] = v.Level(v.RepetitionLevel(), v.DefinitionLevel(), f.to)
			}
		}
	}
	return n, err
}

// FilterVariant copies to dst the rows of src whose variant column equals
// variant and whose other_variant column, if the table has one, is null.
// dst is written through a temporary file.
func FilterVariant(src, dst, variant string) error {
	f, pf, err := parquetio.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	vc, ok := pf.Schema().Lookup("variant")
	if !ok {
		return fmt.Errorf("%s: no variant column", src)
	}
	oc, hasOther := pf.Schema().Lookup("other_variant")
	return writeAtomically(dst, pf.Schema(), func(w *parquet.GenericWriter[any]) error {
		buf := make([]parquet.Row, 128)
		for _, rg := range pf.RowGroups() {
			rows := rg.Rows()
			for {
				n, rerr := rows.ReadRows(buf)
				var keep []parquet.Row
				for _, row := range buf[:n] {
					match, pairwise := false, false
					for _, v := range row {
						if v.Column() == vc.ColumnIndex && string(v.ByteArray()) == variant {
							match = true
						}
						if hasOther && v.Column() == oc.ColumnIndex && !v.IsNull() {
							pairwise = true
						}
					}
					if match && !pairwise {
						keep = append(keep, row.Clone())
					}
				}
				if len(keep) > 0 {
					if _, err := w.WriteRows(keep); err != nil {
						rows.Close()
						return err
					}
				}
				if errors.Is(rerr, io.EOF) || (n == 0 && rerr == nil) {
					break
				}
				if rerr != nil {
					rows.Close()
					return rerr
				}
			}
			rows.Close()
		}
		return nil
	})
}

// CountRows returns the number of rows of a Parquet file, from its footer.
func CountRows(path string) (int64, error) {
	f, pf, err := parquetio.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return pf.NumRows(), nil
}
