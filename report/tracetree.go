package report

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

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
	// Join are span files (collected traffic) whose spans of the printed
	// traces are drawn with them: an application's spans continuing a
	// run's trace sit under the step that called it.
	Join []string
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
	if err := joinSpans(list, o.Join); err != nil {
		return st, err
	}
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

// joinSpans adds to the held traces their spans in files, each span once.
func joinSpans(list []*heldTrace, files []string) error {
	if len(files) == 0 || len(list) == 0 {
		return nil
	}
	byID := make(map[string]*heldTrace, len(list))
	seen := map[string]bool{}
	for _, t := range list {
		byID[t.id] = t
		for _, s := range t.spans {
			seen[t.id+"/"+s.SpanID] = true
		}
	}
	for _, f := range files {
		err := traces.ReadFile(f, func(r traces.Record) error {
			t := byID[r.TraceID]
			if t == nil || r.SpanID != "" && seen[r.TraceID+"/"+r.SpanID] {
				return nil
			}
			seen[r.TraceID+"/"+r.SpanID] = true
			t.spans = append(t.spans, r.Span)
			return nil
		})
		if err != nil {
			return fmt.Errorf("joining spans: %w", err)
		}
	}
	return nil
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
