package eval

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/traces"
)

// MergeOptions tune MergeShards.
type MergeOptions struct {
	// AllowPartial merges what exists of an incomplete sharded run.
	AllowPartial bool
}

// MergeError is a set of shard runs that cannot be merged: what is wrong,
// naming the shards and rows. Nothing is written.
type MergeError struct{ Problems []string }

func (e *MergeError) Error() string {
	return "cannot merge the shards: " + strings.Join(e.Problems, "; ")
}

// MergeShards merges the runs of the shards of one sharded run (gavel run
// --shard I/N into each of dirs) into one run at out, as a single run
// of the spec would have stored it: results, scores and traces in the
// run's order (variant by variant in the manifest's order, examples in
// dataset order, epochs), and one manifest with the totals and the
// shards. The shards must share the spec, the dataset, the variants, the
// judges, the epochs and the shard count, and hold every shard index
// once; every (variant, example, epoch) must be in exactly one of them.
// Any violation is a *MergeError and nothing is written. It streams:
// memory does not grow with the rows.
//
// With opts.AllowPartial, missing shards, shards that did not complete
// and missing rows are allowed: what exists is merged and the run's
// status is partial, its error naming what is missing (a row in two
// shards is still an error).
func MergeShards(ctx context.Context, dirs []string, out string, opts MergeOptions) (*results.Manifest, error) {
	if len(dirs) == 0 {
		return nil, errors.New("merge: no shard runs")
	}
	ms := make([]*results.Manifest, len(dirs))
	for i, d := range dirs {
		m, err := results.ReadManifest(d)
		if err != nil {
			return nil, fmt.Errorf("shard run %s: %w", d, err)
		}
		ms[i] = m
	}
	var partial []string
	if err := checkShards(dirs, ms, opts.AllowPartial, &partial); err != nil {
		return nil, err
	}
	// Shards in index order.
	order := make([]int, len(dirs))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return ms[order[a]].Shard.Index < ms[order[b]].Shard.Index })
	sorted := make([]string, len(dirs))
	for i, k := range order {
		sorted[i] = dirs[k]
	}
	first := ms[order[0]]
	examples := 0
	for _, m := range ms {
		examples += m.Dataset.Examples
	}

	if _, err := os.Stat(out); err == nil {
		return nil, fmt.Errorf("merge: %s exists: give a new directory", out)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(out)), ".merge-")
	if err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	variants := make([]string, len(first.Variants))
	for i, v := range first.Variants {
		variants[i] = v.Name
	}
	var problems []string
	shardsMissing := len(partial) > 0 // then the dataset's size is not known
	report := func(found []string) {
		for _, p := range found {
			switch {
			case !opts.AllowPartial || !strings.HasSuffix(p, "is in no shard"):
				problems = append(problems, p)
			case !shardsMissing:
				partial = append(partial, p)
			}
		}
	}
	if err := mergeTable(ctx, sorted, tmp, results.ResultsFile, variants, func(src int, v string, emit func(int64, int32, any)) error {
		return results.ReadResults(filepath.Join(sorted[src], results.ResultsFile), func(r results.Result) error {
			if r.Variant == v {
				emit(r.ExampleIndex, r.Epoch, r)
			}
			return nil
		})
	}, func() (func(keyed), func()) {
		// Every example × epoch once per variant, checked row by row.
		c := newCoverage(sorted, examples, first.Repeat)
		return c.add, func() { report(c.finish()) }
	}); err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, &MergeError{Problems: problems}
	}
	if err := mergeTable(ctx, sorted, tmp, results.ScoresFile, variants, func(src int, v string, emit func(int64, int32, any)) error {
		return results.ReadScores(filepath.Join(sorted[src], results.ScoresFile), func(s results.Score) error {
			if s.Variant == v {
				emit(s.ExampleIndex, s.Epoch, s)
			}
			return nil
		})
	}, nil); err != nil {
		return nil, err
	}
	if err := mergeTable(ctx, sorted, tmp, results.TracesFile, variants, func(src int, v string, emit func(int64, int32, any)) error {
		p := filepath.Join(sorted[src], results.TracesFile)
		if _, err := os.Stat(p); err != nil {
			return nil // a run without traces
		}
		return traces.ReadFile(p, func(r traces.Record) error {
			if r.Variant == v {
				emit(r.ExampleIndex, int32(r.Epoch), r)
			}
			return nil
		})
	}, nil); err != nil {
		return nil, err
	}

	m := *first
	m.Shard = nil
	m.Shards = nil
	m.Dataset.Examples = examples
	m.Totals = results.Totals{}
	m.Metrics = nil
	if len(first.Metrics) > 0 {
		// Corpus metrics (corpus BLEU, chrF, micro F1) are computed over
		// all the shards' outputs, not averaged.
		if m.Metrics, err = mergedCorpus(first, tmp); err != nil {
			return nil, fmt.Errorf("merge: corpus metrics: %w", err)
		}
	}
	for i, k := range order {
		sm := ms[k]
		t := sm.Totals
		m.Totals.Results += t.Results
		m.Totals.Errors += t.Errors
		m.Totals.Scores += t.Scores
		m.Totals.JudgeErrors += t.JudgeErrors
		m.Totals.Spans += t.Spans
		m.Totals.PromptTokens += t.PromptTokens
		m.Totals.CompletionTokens += t.CompletionTokens
		m.Totals.CostUSD += t.CostUSD
		m.Totals.DurationMS = max(m.Totals.DurationMS, t.DurationMS)
		m.Totals.CacheHits += t.CacheHits
		m.Totals.CacheMisses += t.CacheMisses
		m.Totals.CachedCostUSD += t.CachedCostUSD
		if sm.StartedAt.Before(m.StartedAt) {
			m.StartedAt = sm.StartedAt
		}
		if sm.EndedAt.After(m.EndedAt) {
			m.EndedAt = sm.EndedAt
		}
		m.Shards = append(m.Shards, results.ShardRun{Index: sm.Shard.Index, Count: sm.Shard.Count, RunID: sm.RunID, Dir: sorted[i], Status: sm.Status})
	}
	if len(partial) > 0 {
		m.Status = results.RunPartial
		if len(partial) > 10 {
			partial = append(partial[:10], fmt.Sprintf("and %d more", len(partial)-10))
		}
		m.Error = "partial merge: " + strings.Join(partial, "; ")
	}
	if err := results.WriteManifest(tmp, &m); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, out); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	ok = true
	return &m, nil
}

// checkShards refuses shards that are not one sharded run's.
func checkShards(dirs []string, ms []*results.Manifest, allowPartial bool, partial *[]string) error {
	var problems []string
	first := ms[0]
	seen := map[int]string{}
	for i, m := range ms {
		d := dirs[i]
		if m.Shard == nil {
			problems = append(problems, fmt.Sprintf("%s is not a shard run (its manifest has no shard)", d))
			continue
		}
		if first.Shard != nil && m.Shard.Count != first.Shard.Count {
			problems = append(problems, fmt.Sprintf("%s is shard %d/%d, %s is of %d shards", d, m.Shard.Index, m.Shard.Count, dirs[0], first.Shard.Count))
		}
		if other, dup := seen[m.Shard.Index]; dup {
			problems = append(problems, fmt.Sprintf("shard %d/%d is given twice: %s and %s", m.Shard.Index, m.Shard.Count, other, d))
		}
		seen[m.Shard.Index] = d
		if m.Status != results.RunCompleted {
			p := fmt.Sprintf("shard %d/%d (%s) is %s: finish it with gavel run --resume %s", m.Shard.Index, m.Shard.Count, d, m.Status, d)
			if allowPartial {
				*partial = append(*partial, p)
			} else {
				problems = append(problems, p)
			}
		}
		for _, c := range []struct{ what, a, b string }{
			{"spec", m.SpecHash, first.SpecHash},
			{"dataset", m.Dataset.Fingerprint, first.Dataset.Fingerprint},
			{"variants", variantHashes(m), variantHashes(first)},
			{"judges", judgeHashes(m), judgeHashes(first)},
			{"epochs", fmt.Sprint(m.Repeat), fmt.Sprint(first.Repeat)},
			{"mode", string(m.Mode), string(first.Mode)},
		} {
			if c.a != c.b {
				problems = append(problems, fmt.Sprintf("%s and %s differ in their %s (%s, %s)", dirs[0], d, c.what, short(c.b), short(c.a)))
			}
		}
	}
	if first.Shard != nil && len(problems) == 0 {
		var missing []string
		for i := 1; i <= first.Shard.Count; i++ {
			if _, ok := seen[i]; !ok {
				missing = append(missing, fmt.Sprintf("%d/%d", i, first.Shard.Count))
			}
		}
		if len(missing) > 0 {
			p := "shard " + strings.Join(missing, ", ") + " is missing"
			if allowPartial {
				*partial = append(*partial, p)
			} else {
				problems = append(problems, p)
			}
		}
	}
	if len(problems) > 0 {
		return &MergeError{Problems: problems}
	}
	return nil
}

func variantHashes(m *results.Manifest) string {
	var b strings.Builder
	for _, v := range m.Variants {
		b.WriteString(v.Name + "=" + v.Hash + ",")
	}
	return b.String()
}

func judgeHashes(m *results.Manifest) string {
	var b strings.Builder
	for _, j := range m.Judges {
		b.WriteString(j.Name + "=" + j.Hash + ",")
	}
	return b.String()
}

func short(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// keyed is one row of a table with its place in the run's order.
type keyed struct {
	index int64
	epoch int32
	src   int
	row   any
}

// coverage checks, row by row, that one variant's results (in the run's
// order) hold every example index below examples, each epoch once: it
// keeps the last key only.
type coverage struct {
	dirs             []string
	examples, repeat int
	want             int64
	epoch            int32
	last             *keyed
	problems         []string
}

func newCoverage(dirs []string, examples, repeat int) *coverage {
	return &coverage{dirs: dirs, examples: examples, repeat: max(1, repeat)}
}

func (c *coverage) missing() {
	c.problems = append(c.problems, fmt.Sprintf("example %d epoch %d is in no shard", c.want, c.epoch))
}

func (c *coverage) advance() {
	if c.epoch++; int(c.epoch) == c.repeat {
		c.want, c.epoch = c.want+1, 0
	}
}

func (c *coverage) add(r keyed) {
	if len(c.problems) > 20 {
		return
	}
	if c.last != nil && r.index == c.last.index && r.epoch == c.last.epoch {
		c.problems = append(c.problems, fmt.Sprintf("example %d epoch %d is in %s and %s", r.index, r.epoch, c.dirs[c.last.src], c.dirs[r.src]))
		return
	}
	for (c.want < r.index || c.want == r.index && c.epoch < r.epoch) && len(c.problems) <= 20 {
		c.missing()
		c.advance()
	}
	c.advance()
	k := r
	k.row = nil
	c.last = &k
}

func (c *coverage) finish() []string {
	for c.want < int64(c.examples) && len(c.problems) <= 20 {
		c.missing()
		c.advance()
	}
	return c.problems
}

// tableWriter writes one merged table.
type tableWriter struct {
	write func(any) error
	close func() error
}

// mergeTable writes dst/name: for each variant in order, the rows of
// every source for that variant, merged by (example index, epoch), equal
// keys in source order. read streams a source's rows of a variant to
// emit; check, when set, gives for each variant a function seeing every
// row's key in order and one called at the variant's end.
func mergeTable(ctx context.Context, srcs []string, dst, name string, variants []string,
	read func(src int, v string, emit func(int64, int32, any)) error, check func() (func(keyed), func())) error {
	f, err := os.Create(filepath.Join(dst, name))
	if err != nil {
		return err
	}
	defer f.Close()
	tw, err := newTableWriter(f, name)
	if err != nil {
		return err
	}
	for _, v := range variants {
		// One goroutine a source streams its rows of v; a heap merges.
		chans := make([]chan keyed, len(srcs))
		errs := make([]error, len(srcs))
		cctx, cancel := context.WithCancel(ctx)
		for i := range srcs {
			chans[i] = make(chan keyed, 64)
			go func(i int) {
				defer close(chans[i])
				errs[i] = read(i, v, func(idx int64, ep int32, row any) {
					select {
					case chans[i] <- keyed{idx, ep, i, row}:
					case <-cctx.Done():
					}
				})
			}(i)
		}
		h := &keyHeap{}
		for i := range chans {
			if k, ok := <-chans[i]; ok {
				heap.Push(h, k)
			}
		}
		var see func(keyed)
		var done func()
		if check != nil {
			see, done = check()
		}
		var werr error
		for h.Len() > 0 {
			k := heap.Pop(h).(keyed)
			if werr == nil {
				werr = tw.write(k.row)
			}
			if see != nil {
				see(k)
			}
			if next, ok := <-chans[k.src]; ok {
				heap.Push(h, next)
			}
		}
		cancel()
		for i, e := range errs {
			if e != nil {
				return fmt.Errorf("shard run %s: %w", srcs[i], e)
			}
		}
		if werr != nil {
			return werr
		}
		if done != nil {
			done()
		}
	}
	if err := tw.close(); err != nil {
		return err
	}
	return f.Close()
}

type keyHeap []keyed

func (h keyHeap) Len() int { return len(h) }
func (h keyHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if a.index != b.index {
		return a.index < b.index
	}
	if a.epoch != b.epoch {
		return a.epoch < b.epoch
	}
	return a.src < b.src
}
func (h keyHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *keyHeap) Push(x any)   { *h = append(*h, x.(keyed)) }
func (h *keyHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// newTableWriter writes rows of the table name.
func newTableWriter(f *os.File, name string) (*tableWriter, error) {
	switch name {
	case results.ResultsFile:
		w, err := results.NewResultWriter(f)
		if err != nil {
			return nil, err
		}
		return &tableWriter{write: func(r any) error { return w.Write(r.(results.Result)) }, close: w.Close}, nil
	case results.ScoresFile:
		w, err := results.NewScoreWriter(f)
		if err != nil {
			return nil, err
		}
		return &tableWriter{write: func(r any) error { return w.Write(r.(results.Score)) }, close: w.Close}, nil
	default:
		w, err := traces.NewWriter(f)
		if err != nil {
			return nil, err
		}
		return &tableWriter{write: func(r any) error {
			rec := r.(traces.Record)
			return w.WriteIndexed(rec.RunID, rec.Variant, rec.ExampleID, rec.ExampleIndex, rec.Epoch, []traces.Span{rec.Span})
		}, close: w.Close}, nil
	}
}

// mergedCorpus recomputes the corpus metrics of the merged results in
// dir with the judges of the stored spec of m (no model is called).
func mergedCorpus(m *results.Manifest, dir string) ([]results.CorpusMetric, error) {
	spec, err := storedSpec(m, LoadOptions{})
	if err != nil {
		return nil, err
	}
	if m.SpecDir != "" {
		spec.Dir = m.SpecDir
	}
	o := Options{Out: dir, RunID: m.RunID, Repeat: m.Repeat, Model: noModel{}, Getenv: func(string) string { return "" }}
	for _, v := range m.Variants {
		o.Variants = append(o.Variants, v.Name)
	}
	r, err := newRunner(spec, o, ModeRun)
	if err != nil {
		return nil, err
	}
	defer r.opts.HTTPClient.CloseIdleConnections()
	if err := r.recomputeCorpus(dir); err != nil {
		return nil, err
	}
	return r.corpusMetrics(), nil
}

// noModel answers no call: corpus metrics are computed without one.
type noModel struct{}

func (noModel) Chat(context.Context, llm.Request) (llm.Response, error) {
	return llm.Response{}, errors.New("merge calls no model")
}
