package report

import (
	"container/heap"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path/filepath"
	"sort"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/traces"
)

// traceIDSet is a set of trace ids, held as 64-bit hashes so that a run of
// millions of traces costs a few bytes per trace.
type traceIDSet map[uint64]struct{}

func traceIDHash(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}

func (s traceIDSet) add(id string)      { s[traceIDHash(id)] = struct{}{} }
func (s traceIDSet) has(id string) bool { _, ok := s[traceIDHash(id)]; return ok }

// failedTraceIDs returns the ids of the traces that have a failed span or
// whose result row has status error.
func failedTraceIDs(runDir, tracesPath string) (traceIDSet, error) {
	failed := traceIDSet{}
	err := traces.ReadFile(tracesPath, func(r traces.Record) error {
		if r.Status == traces.StatusError {
			failed.add(r.TraceID)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the traces of run %s: %w", runDir, err)
	}
	err = results.ReadResults(filepath.Join(runDir, results.ResultsFile), func(r results.Result) error {
		if r.Status == results.StatusError && r.TraceID != "" {
			failed.add(r.TraceID)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading the results of run %s: %w", runDir, err)
	}
	return failed, nil
}

// treeUnindexed is where examples without an example_index (written by an
// older gavel) start in the run's order: after every indexed one.
const treeUnindexed = int64(1) << 62

// traceKey is a trace's place in the run's order.
type traceKey struct {
	variant int   // manifest order; variants it lacks follow, as first seen
	example int64 // example_index; treeUnindexed + first-seen order without one
	epoch   int
	seq     int64 // position of the trace's first span in the file
}

func (a traceKey) less(b traceKey) bool {
	if a.variant != b.variant {
		return a.variant < b.variant
	}
	if a.example != b.example {
		return a.example < b.example
	}
	if a.epoch != b.epoch {
		return a.epoch < b.epoch
	}
	return a.seq < b.seq
}

// heldTrace is a trace kept for printing.
type heldTrace struct {
	key     traceKey
	id      string
	variant string
	example string
	epoch   int
	spans   []traces.Span
	labels  map[string]string // judge span id -> label, from scores.parquet
	// resultFailed is set when the trace's result row has status error,
	// resultErr is that row's error.
	resultFailed bool
	resultErr    string
	// header, when set, replaces variant, example and epoch in the
	// trace's header line (a collected trace has none of them).
	header []string
}

// traceCollector keeps, from a stream of spans, the spans of the traces
// that pass the filter and, with a limit, only those of the first Limit
// traces in the run's order: a max-heap holds the kept traces, worst on
// top, and a trace that sorts after a full heap's worst is dropped. A
// dropped trace never comes back, since the heap's worst only improves.
type traceCollector struct {
	f        TraceFilter
	variants map[string]bool  // the filter's variants (nil: all)
	order    map[string]int   // variant -> place in the run's order
	examples map[string]int64 // example id -> first-seen order, for files without example_index
	failed   traceIDSet       // with ErrorsOnly, the traces that qualify
	matched  traceIDSet
	held     map[string]*heldTrace
	heap     traceHeap
	seq      int64

	seenVariants []string // variants the manifest lacks, as first seen
	exampleSeen  bool
}

func newTraceCollector(f TraceFilter, known []string) *traceCollector {
	c := &traceCollector{f: f, order: map[string]int{}, matched: traceIDSet{}, held: map[string]*heldTrace{}}
	for i, v := range known {
		c.order[v] = i
	}
	if len(f.Variants) > 0 {
		c.variants = map[string]bool{}
		for _, v := range f.Variants {
			c.variants[v] = true
		}
	}
	return c
}

func (c *traceCollector) add(r traces.Record) error {
	c.seq++
	vi, ok := c.order[r.Variant]
	if !ok {
		vi = len(c.order)
		c.order[r.Variant] = vi
		c.seenVariants = append(c.seenVariants, r.Variant)
	}
	if r.ExampleID == c.f.Example {
		c.exampleSeen = true
	}
	if c.variants != nil && !c.variants[r.Variant] ||
		c.f.Example != "" && r.ExampleID != c.f.Example ||
		c.f.Epoch != nil && r.Epoch != *c.f.Epoch ||
		c.f.ErrorsOnly && !c.failed.has(r.TraceID) {
		return nil
	}
	c.matched.add(r.TraceID)
	if t, ok := c.held[r.TraceID]; ok {
		t.spans = append(t.spans, r.Span)
		return nil
	}
	key := traceKey{variant: vi, example: r.ExampleIndex, epoch: r.Epoch, seq: c.seq}
	if r.ExampleIndex < 0 {
		if c.examples == nil {
			c.examples = map[string]int64{}
		}
		ord, ok := c.examples[r.ExampleID]
		if !ok {
			ord = int64(len(c.examples))
			c.examples[r.ExampleID] = ord
		}
		key.example = treeUnindexed + ord
	}
	if c.f.Limit > 0 && len(c.heap) == c.f.Limit {
		if c.heap[0].key.less(key) {
			return nil // after every kept trace
		}
		worst := heap.Pop(&c.heap).(*heldTrace)
		delete(c.held, worst.id)
	}
	t := &heldTrace{key: key, id: r.TraceID, variant: r.Variant, example: r.ExampleID, epoch: r.Epoch, spans: []traces.Span{r.Span}}
	c.held[r.TraceID] = t
	heap.Push(&c.heap, t)
	return nil
}

// sorted returns the kept traces in the run's order.
func (c *traceCollector) sorted() []*heldTrace {
	list := append([]*heldTrace(nil), c.heap...)
	sort.Slice(list, func(i, j int) bool { return list[i].key.less(list[j].key) })
	return list
}

// traceHeap is a max-heap of traces by key.
type traceHeap []*heldTrace

func (h traceHeap) Len() int           { return len(h) }
func (h traceHeap) Less(i, j int) bool { return h[j].key.less(h[i].key) }
func (h traceHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *traceHeap) Push(x any)        { *h = append(*h, x.(*heldTrace)) }
func (h *traceHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return t
}

// addResultErrors marks the kept traces whose result row failed.
func addResultErrors(runDir string, list []*heldTrace) error {
	if len(list) == 0 {
		return nil
	}
	byID := make(map[string]*heldTrace, len(list))
	for _, t := range list {
		byID[t.id] = t
	}
	err := results.ReadResults(filepath.Join(runDir, results.ResultsFile), func(r results.Result) error {
		if t, ok := byID[r.TraceID]; ok && r.Status == results.StatusError {
			t.resultFailed, t.resultErr = true, results.Deref(r.Error)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("reading the results of run %s: %w", runDir, err)
	}
	return nil
}

// addJudgeLabels fills the labels of the kept traces' judge spans that
// carry no label attribute from scores.parquet (matched by span id).
func addJudgeLabels(runDir string, list []*heldTrace) error {
	want := map[string]*heldTrace{}
	for _, t := range list {
		for _, s := range t.spans {
			if s.Kind == traces.KindJudge && treeAttrString(s.Attributes, "label") == "" {
				want[s.SpanID] = t
			}
		}
	}
	if len(want) == 0 {
		return nil
	}
	err := results.ReadScores(filepath.Join(runDir, results.ScoresFile), func(s results.Score) error {
		t, ok := want[s.SpanID]
		if !ok || s.TraceID != t.id || results.Deref(s.Label) == "" {
			return nil
		}
		if t.labels == nil {
			t.labels = map[string]string{}
		}
		t.labels[s.SpanID] = *s.Label
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("reading the scores of run %s: %w", runDir, err)
	}
	return nil
}
