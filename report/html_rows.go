package report

import (
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"sync"

	"github.com/gavel-eval/gavel/eval/results"
)

// pageRun is what the HTML page shows of one run: a row per result of the
// variants asked for, each judge's mark on it, and the blocks of its
// traces' spans (rows' Chunk count from 0 among them). Rows carry no side
// or judge index yet: variants and marks name them, so that the rows can
// be read before the report that orders sides and judges exists.
type pageRun struct {
	want   map[string]bool // the variants read
	rows   []htmlRow
	of     []rowOf // what names each row's side and marks, row by row
	chunks []string
}

// rowOf is a page row's variant and its marks by judge name.
type rowOf struct {
	variant string
	marks   map[string]*htmlMark
}

// pageKey is a result's key within a run.
type pageKey struct {
	variant, example string
	epoch            int32
}

// readPageRun reads the rows of the variants want of the run in dir.
func readPageRun(dir string, want map[string]bool, o HTMLOptions) (*pageRun, error) {
	pr := &pageRun{want: want}
	pos := map[pageKey]int{}
	err := results.ReadResults(filepath.Join(dir, results.ResultsFile), func(res results.Result) error {
		if !want[res.Variant] {
			return nil
		}
		pos[pageKey{res.Variant, res.ExampleID, res.Epoch}] = len(pr.rows)
		pr.rows = append(pr.rows, htmlRow{ID: res.ExampleID, Index: res.ExampleIndex, Epoch: res.Epoch,
			Status: res.Status, Input: cut(res.Input, o.MaxText), Output: cut(res.Output, o.MaxText),
			Expected: cutp(res.Expected, o.MaxText), Error: cutp(res.Error, o.MaxText), FailedStep: res.FailedStep,
			LatencyMS: orZero(res.LatencyMS), Prompt: res.PromptTokens, Completion: res.CompletionTokens,
			CostUSD: res.CostUSD, TraceID: res.TraceID})
		pr.of = append(pr.of, rowOf{variant: res.Variant})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("html report: %w", err)
	}
	err = results.ReadScores(filepath.Join(dir, results.ScoresFile), func(sc results.Score) error {
		if !want[sc.Variant] || sc.OtherVariant != nil {
			return nil
		}
		i, ok := pos[pageKey{sc.Variant, sc.ExampleID, sc.Epoch}]
		if !ok {
			return nil
		}
		mark := &htmlMark{Status: sc.Status, Pass: sc.Pass, Label: sc.Label, Reason: cutp(sc.Reason, o.MaxText),
			Error: cutp(sc.Error, o.MaxText), SpanID: sc.SpanID}
		if sc.Score != nil && !math.IsNaN(*sc.Score) && !math.IsInf(*sc.Score, 0) {
			mark.Score = sc.Score
		}
		if pr.of[i].marks == nil {
			pr.of[i].marks = map[string]*htmlMark{}
		}
		pr.of[i].marks[sc.Judge] = mark
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("html report: %w", err)
	}
	if o.TraceURL == "" {
		if pr.chunks, err = embedSpans(pr.rows, filepath.Join(dir, results.TracesFile), o.MaxText); err != nil {
			return nil, fmt.Errorf("html report: %w", err)
		}
	}
	return pr, nil
}

// pagePrefetch reads the page's rows of a report's runs in the background,
// while Build computes the statistics: most of the time of writing the
// page is reading its rows and spans, which need none of them.
type pagePrefetch struct {
	opts HTMLOptions // as read: MaxText and TraceURL matter
	wg   sync.WaitGroup
	runs map[string]*pageRun // by run directory, once read; nil if it failed
}

// prefetchPage starts reading the rows of sides' variants, run by run,
// with the options o (defaults applied).
func prefetchPage(sides []Side, o HTMLOptions) *pagePrefetch {
	o.defaults()
	want := map[string]map[string]bool{}
	var dirs []string
	for _, s := range sides {
		if want[s.Dir] == nil {
			want[s.Dir] = map[string]bool{}
			dirs = append(dirs, s.Dir)
		}
		want[s.Dir][s.Variant] = true
	}
	p := &pagePrefetch{opts: o, runs: map[string]*pageRun{}}
	p.wg.Go(func() {
		for _, dir := range dirs {
			p.runs[dir], _ = readPageRun(dir, want[dir], o) // a failure is met again when read now
		}
	})
	return p
}

// run returns the rows of the run in dir for the variants of sides: the
// prefetched ones when they were read for those variants with the same
// options, else read now.
func (p *pagePrefetch) run(dir string, sides map[string]int, o HTMLOptions) (*pageRun, error) {
	want := map[string]bool{}
	for v := range sides {
		want[v] = true
	}
	if p != nil && p.opts.MaxText == o.MaxText && p.opts.TraceURL == o.TraceURL {
		p.wg.Wait()
		if pr := p.runs[dir]; pr != nil && maps.Equal(pr.want, want) {
			return pr, nil
		}
	}
	return readPageRun(dir, want, o)
}
