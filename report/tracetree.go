package report

import (
	"bytes"
	"container/heap"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/traces"
)

// TraceFilter selects the traces of a run that WriteTraceTrees prints. The
// zero value selects every trace.
type TraceFilter struct {
	// Variants keeps the traces of these variants (all when empty). A
	// name the run does not have is an error.
	Variants []string
	// Example keeps the traces of the example with this id (all when
	// empty). An id the run does not have is an error.
	Example string
	// Epoch keeps the traces of this epoch (0-based; all when nil).
	Epoch *int
	// ErrorsOnly keeps the traces with a failed span or whose result row
	// has status error.
	ErrorsOnly bool
	// Limit is the most traces printed, the first ones in the run's order
	// (0 prints every matching trace). Only the printed traces are held
	// in memory.
	Limit int
}

// TreeOptions tune how WriteTraceTrees draws traces.
type TreeOptions struct {
	// Full prints each span's input and output below it. Chat messages
	// are shown one per line with their role, JSON is indented.
	Full bool
	// Width is the longest line, in characters; longer lines are cut and
	// end with "…". 0 never cuts.
	Width int
	// Color marks errors in red and durations dim with ANSI codes. Set it
	// only when writing to a terminal.
	Color bool
	// MoreHint ends the line that counts the matching traces left out by
	// Limit, telling the reader how to see them (default: "raise the
	// limit to see them").
	MoreHint string
}

// TraceTreeStats counts what WriteTraceTrees found and printed.
type TraceTreeStats struct {
	// Matched is the number of traces that pass the filter.
	Matched int
	// Printed is the number of traces printed (at most the limit).
	Printed int
	// Spans is the number of spans printed.
	Spans int
}

// WriteTraceTrees prints the traces of the run in runDir that pass f as
// indented trees, in the run's order: variant (manifest order), example
// (dataset order), epoch. Each trace has a header line (variant, example,
// epoch, trace id, total duration, status) followed by its spans, each
// under its parent and siblings by start time: name, kind, duration and
// status, the model, tokens, cost, retries and cache hits of model calls,
// the score, pass and label of judges, and the error of a failed span on
// the line after it. Judge spans are roots of their own within the trace.
//
// Every text that comes from the run (names, ids, inputs, outputs, errors,
// attributes) is printed with control characters, escape sequences and
// other non-printing characters escaped, so a model's output cannot move
// the cursor or rewrite the terminal.
//
// traces.parquet is streamed: only the spans of the traces that will be
// printed are held in memory. With f.ErrorsOnly the file is read twice,
// first to find the traces with a failed span.
func WriteTraceTrees(w io.Writer, runDir string, f TraceFilter, o TreeOptions) (TraceTreeStats, error) {
	var st TraceTreeStats
	m, err := results.ReadManifest(runDir)
	if err != nil {
		return st, err
	}
	if f.Limit < 0 {
		return st, fmt.Errorf("trace limit %d: must not be negative", f.Limit)
	}
	if f.Epoch != nil && *f.Epoch < 0 {
		return st, fmt.Errorf("epoch %d: must not be negative", *f.Epoch)
	}
	known := make([]string, len(m.Variants))
	for i, v := range m.Variants {
		known[i] = v.Name
	}
	if len(known) > 0 {
		if err := checkTraceVariants(runDir, f.Variants, known); err != nil {
			return st, err
		}
	}
	path := filepath.Join(runDir, results.TracesFile)
	c := newTraceCollector(f, known)
	if f.ErrorsOnly {
		if c.failed, err = failedTraceIDs(runDir, path); err != nil {
			return st, err
		}
	}
	if err := traces.ReadFile(path, c.add); err != nil {
		return st, fmt.Errorf("reading the traces of run %s: %w", runDir, err)
	}
	if len(known) == 0 {
		// A manifest without variants: check the names against the
		// variants the traces have.
		if err := checkTraceVariants(runDir, f.Variants, c.seenVariants); err != nil {
			return st, err
		}
	}
	if f.Example != "" && !c.exampleSeen {
		found, err := runHasExample(runDir, f.Example)
		if err != nil {
			return st, err
		}
		if !found {
			return st, fmt.Errorf("run %s has no example %q", runDir, f.Example)
		}
	}
	list := c.sorted()
	if err := addResultErrors(runDir, list); err != nil {
		return st, err
	}
	if err := addJudgeLabels(runDir, list); err != nil {
		return st, err
	}
	st.Matched = len(c.matched)
	tw := &treeWriter{ew: &errWriter{w: w}, o: o}
	for i, t := range list {
		if i > 0 {
			tw.blank()
		}
		st.Spans += tw.trace(t)
		st.Printed++
	}
	switch {
	case st.Matched == 0 && f.ErrorsOnly:
		tw.plain("no matching trace has an error")
	case st.Matched == 0:
		tw.plain("no matching traces")
	case st.Matched > st.Printed:
		hint := o.MoreHint
		if hint == "" {
			hint = "raise the limit to see them"
		}
		more := st.Matched - st.Printed
		noun := "traces match"
		if more == 1 {
			noun = "trace matches"
		}
		tw.blank()
		tw.plain(fmt.Sprintf("… %d more %s (showing the first %d); %s", more, noun, st.Printed, hint))
	}
	if tw.ew.err != nil {
		return st, fmt.Errorf("writing traces: %w", tw.ew.err)
	}
	return st, nil
}

// checkTraceVariants returns an error naming the first of want that is not in
// known, and listing known.
func checkTraceVariants(runDir string, want, known []string) error {
	for _, v := range want {
		found := false
		for _, k := range known {
			found = found || k == v
		}
		if !found {
			return fmt.Errorf("run %s has no variant %q (variants: %s)", runDir, v, strings.Join(known, ", "))
		}
	}
	return nil
}

// runHasExample reports whether the run's results have an example with id.
func runHasExample(runDir, id string) (bool, error) {
	found := errors.New("found")
	err := results.ReadResults(filepath.Join(runDir, results.ResultsFile), func(r results.Result) error {
		if r.ExampleID == id {
			return found
		}
		return nil
	})
	switch {
	case errors.Is(err, found):
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("reading the results of run %s: %w", runDir, err)
	}
	return false, nil
}

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

// Styles of a line's parts; the ANSI codes are written only with
// TreeOptions.Color.
const (
	treePlain = ""
	treeRed   = "\x1b[31m"
	treeDim   = "\x1b[2m"
	treeBold  = "\x1b[1m"
	treeReset = "\x1b[0m"
)

// treePart is a piece of a printed line and its style.
type treePart struct{ text, style string }

// treeWriter draws traces.
type treeWriter struct {
	ew *errWriter
	o  TreeOptions
}

func (tw *treeWriter) blank() { tw.ew.Write([]byte("\n")) }

// plain writes a line of the tree's own, never cut.
func (tw *treeWriter) plain(s string) { tw.ew.Write([]byte(textSafe(s) + "\n")) }

// line writes one line made of parts. Every part is escaped (it may come
// from the run), the line is cut to the width, and styles are applied
// last, so escape codes neither count as width nor come from the data.
func (tw *treeWriter) line(parts ...treePart) {
	budget := -1
	if tw.o.Width > 0 {
		n := 0
		for i := range parts {
			parts[i].text = textSafe(parts[i].text)
			n += utf8.RuneCountInString(parts[i].text)
		}
		if n > tw.o.Width {
			budget = tw.o.Width - 1 // room for "…"
		}
	} else {
		for i := range parts {
			parts[i].text = textSafe(parts[i].text)
		}
	}
	var b strings.Builder
	for _, p := range parts {
		text := p.text
		cut := false
		if budget >= 0 {
			if n := utf8.RuneCountInString(text); n > budget {
				text = treeFirstRunes(text, budget) + "…"
				cut = true
			} else {
				budget -= n
			}
		}
		if text != "" {
			if tw.o.Color && p.style != treePlain {
				b.WriteString(p.style + text + treeReset)
			} else {
				b.WriteString(text)
			}
		}
		if cut {
			break
		}
	}
	b.WriteByte('\n')
	tw.ew.Write([]byte(b.String()))
}

// treeFirstRunes returns the first n runes of s.
func treeFirstRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// trace draws one trace and returns the number of spans drawn.
func (tw *treeWriter) trace(t *heldTrace) int {
	spans := t.spans
	var first, last time.Time
	failed := false
	for i, s := range spans {
		if i == 0 || s.Start.Before(first) {
			first = s.Start
		}
		if i == 0 || s.End.After(last) {
			last = s.End
		}
		failed = failed || s.Status == traces.StatusError
	}
	status := treePart{"ok", treePlain}
	if failed || t.resultFailed {
		status = treePart{"error", treeRed}
	}
	// The trace id comes last: it is the part a narrow terminal can lose.
	tw.line(treePart{t.variant, treeBold}, treePart{" · ", treePlain}, treePart{t.example, treeBold},
		treePart{fmt.Sprintf(" · epoch %d · ", t.epoch), treePlain}, treePart{treeDuration(last.Sub(first)), treeDim},
		treePart{" · ", treePlain}, status, treePart{" · trace " + t.id, treePlain})
	if t.resultFailed && !failed {
		// No span says why the result failed: its row does.
		msg := t.resultErr
		if msg == "" {
			msg = "(no message)"
		}
		tw.line(treePart{"│  ", treePlain}, treePart{"result error: " + msg, treeRed})
	}

	// Children by start time; a span whose parent is not in the trace
	// (or is itself) is a root, like the judges.
	index := make(map[string]int, len(spans))
	for i, s := range spans {
		if _, dup := index[s.SpanID]; !dup {
			index[s.SpanID] = i
		}
	}
	children := make(map[int][]int)
	var roots []int
	for i, s := range spans {
		p, ok := index[s.ParentID]
		if s.ParentID == "" || !ok || p == i {
			roots = append(roots, i)
			continue
		}
		children[p] = append(children[p], i)
	}
	byStart := func(ids []int) {
		sort.SliceStable(ids, func(a, b int) bool { return spans[ids[a]].Start.Before(spans[ids[b]].Start) })
	}
	byStart(roots)
	for _, ids := range children {
		byStart(ids)
	}
	seen := make([]bool, len(spans))
	drawn := 0
	var draw func(i int, prefix string, lastChild bool)
	draw = func(i int, prefix string, lastChild bool) {
		seen[i] = true
		drawn++
		branch, cont := "├─ ", "│  "
		if lastChild {
			branch, cont = "└─ ", "   "
		}
		kids := children[i]
		tw.span(&spans[i], t, prefix+branch, prefix+cont, len(kids) > 0)
		for k, c := range kids {
			if !seen[c] {
				draw(c, prefix+cont, k == len(kids)-1)
			}
		}
	}
	for k, r := range roots {
		draw(r, "", k == len(roots)-1)
	}
	// Spans caught in a parent cycle are reachable from no root: draw
	// them too, so that nothing is hidden.
	for i := range spans {
		if !seen[i] {
			draw(i, "", true)
		}
	}
	return drawn
}

// span draws one span line and, below it, its error and (with Full) its
// input and output.
func (tw *treeWriter) span(s *traces.Span, t *heldTrace, head, cont string, hasKids bool) {
	status := treePart{string(s.Status), treePlain}
	if s.Status == traces.StatusError {
		status.style = treeRed
	}
	parts := []treePart{{head + s.Name, treePlain}, {"  " + string(s.Kind) + "  ", treePlain},
		{treeDuration(s.Duration()), treeDim}, {"  ", treePlain}, status}
	for _, d := range treeSpanDetails(s, t.labels[s.SpanID]) {
		parts = append(parts, treePart{"  " + d, treePlain})
	}
	tw.line(parts...)

	indent := cont + "   "
	if hasKids {
		indent = cont + "│  "
	}
	if s.Status == traces.StatusError {
		msg := s.Error
		if msg == "" {
			msg = "(no message)"
		}
		tw.line(treePart{indent, treePlain}, treePart{"error: " + msg, treeRed})
	}
	if tw.o.Full {
		tw.value(indent, "input", s.Input)
		tw.value(indent, "output", s.Output)
	}
}

// value draws a span's input or output: on the label's line when it is one
// line, else indented below it.
func (tw *treeWriter) value(indent, label, v string) {
	if v == "" {
		return
	}
	lines := treeLines(v)
	if len(lines) == 1 {
		tw.line(treePart{indent + label + ": " + lines[0], treePlain})
		return
	}
	tw.line(treePart{indent + label + ":", treePlain})
	for _, l := range lines {
		tw.line(treePart{strings.TrimRight(indent+"  "+l, " "), treePlain})
	}
}

// treeLines splits a span's input or output into lines for display:
// chat messages one per line with their role, other JSON indented, text
// as it is. Tabs become spaces; every other control character is escaped
// when the line is written.
func treeLines(v string) []string {
	v = strings.ReplaceAll(v, "\r\n", "\n")
	var text string
	if msgs, ok := treeChatMessages(v); ok {
		var b strings.Builder
		for i, m := range msgs {
			if i > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(m.Role + ": " + strings.ReplaceAll(strings.TrimRight(strings.ReplaceAll(m.Content, "\r\n", "\n"), "\n"), "\n", "\n    "))
		}
		text = b.String()
	} else if t := strings.TrimSpace(v); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
		var buf bytes.Buffer
		if json.Indent(&buf, []byte(t), "", "  ") == nil {
			text = buf.String()
		}
	}
	if text == "" {
		text = v
	}
	text = strings.ReplaceAll(text, "\t", "    ")
	return strings.Split(strings.TrimRight(text, "\n"), "\n")
}

type treeChatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// treeChatMessages decodes v as a list of chat messages with text content.
func treeChatMessages(v string) ([]treeChatMessage, bool) {
	t := strings.TrimSpace(v)
	if !strings.HasPrefix(t, "[") {
		return nil, false
	}
	var raw []map[string]json.RawMessage
	if json.Unmarshal([]byte(t), &raw) != nil || len(raw) == 0 {
		return nil, false
	}
	msgs := make([]treeChatMessage, len(raw))
	for i, m := range raw {
		if json.Unmarshal(m["role"], &msgs[i].Role) != nil || msgs[i].Role == "" ||
			json.Unmarshal(m["content"], &msgs[i].Content) != nil {
			return nil, false
		}
	}
	return msgs, true
}

// treeSpanDetails are the facts printed after a span's status: for model
// calls the model, tokens, cost, retries and cache hits; for judges the
// judge type, score, pass and label.
func treeSpanDetails(s *traces.Span, label string) []string {
	a := s.Attributes
	var out []string
	switch s.Kind {
	case traces.KindLLM:
		if m := treeAttrString(a, "model"); m != "" {
			out = append(out, m)
		}
		p, okP := treeAttrFloat(a, "prompt_tokens")
		c, okC := treeAttrFloat(a, "completion_tokens")
		if okP || okC {
			est := ""
			if b, _ := a["tokens_estimated"].(bool); b {
				est = "~"
			}
			out = append(out, fmt.Sprintf("tokens %s%s→%s", est, treeCount(p), treeCount(c)))
		}
		if x, ok := treeAttrFloat(a, "cost_usd"); ok && x != 0 {
			out = append(out, treeUSD(x))
		}
		if x, ok := treeAttrFloat(a, "retries"); ok && x > 0 {
			out = append(out, "retries "+treeCount(x))
		}
		if treeAttrString(a, "cache") == "hit" {
			out = append(out, "cache hit")
		}
	case traces.KindJudge:
		if jt := treeAttrString(a, "judge_type"); jt != "" {
			out = append(out, jt)
		}
		if x, ok := treeAttrFloat(a, "score"); ok {
			out = append(out, "score "+strconv.FormatFloat(x, 'g', 3, 64))
		}
		if p, ok := a["pass"].(bool); ok {
			if p {
				out = append(out, "pass")
			} else {
				out = append(out, "fail")
			}
		}
		if l := treeAttrString(a, "label"); l != "" {
			label = l
		}
		if label != "" {
			out = append(out, "label "+label)
		}
	}
	return out
}

// treeAttrString returns a string attribute ("" when absent or not a string).
func treeAttrString(a map[string]any, key string) string {
	s, _ := a[key].(string)
	return s
}

// treeAttrFloat returns a numeric attribute (JSON numbers decode as float64).
func treeAttrFloat(a map[string]any, key string) (float64, bool) {
	x, ok := a[key].(float64)
	if !ok || math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, false
	}
	return x, true
}

func treeCount(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// treeUSD shows a cost with up to six decimals, trailing zeros trimmed.
func treeUSD(x float64) string {
	s := strings.TrimRight(strings.TrimRight(strconv.FormatFloat(x, 'f', 6, 64), "0"), ".")
	if s == "0" || s == "-0" {
		return "$<0.000001"
	}
	return "$" + s
}

// treeDuration shows a span's duration in µs, ms or s.
func treeDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0µs"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + "ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
	default:
		m := int(d / time.Minute)
		return fmt.Sprintf("%dm%02ds", m, int((d-time.Duration(m)*time.Minute)/time.Second))
	}
}
