package browsertest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/report"
	"github.com/gavel-eval/gavel/traces"
)

// stored reads what a run stored: its results in order, and its spans by
// trace id. Expected values in the tests come from here, never from the
// page.
type stored struct {
	results []results.Result
	spans   map[string][]traces.Record
}

func readRun(t testing.TB, dir string) stored {
	t.Helper()
	s := stored{spans: map[string][]traces.Record{}}
	if err := results.ReadResults(filepath.Join(dir, results.ResultsFile), func(r results.Result) error {
		s.results = append(s.results, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := traces.ReadFile(filepath.Join(dir, results.TracesFile), func(r traces.Record) error {
		s.spans[r.TraceID] = append(s.spans[r.TraceID], r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return s
}

// open loads a page and waits until its table (or run list) is drawn.
func (b *browser) open(url string) {
	b.t.Helper()
	b.do("opening "+url, chromedp.Navigate(url))
	b.waitFor(`document.querySelector('#trace-table tr.row, #run-list, .empty') !== null`)
}

// setFilter sets a filter control's value and fires the events a user's
// edit fires.
func (b *browser) setFilter(selector, value string) {
	b.t.Helper()
	ok := evalJS[bool](b, fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return false;
		if (e.type === 'checkbox') e.checked = %q === 'true'; else e.value = %q;
		e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`,
		selector, value, value))
	if !ok {
		b.t.Fatalf("no %s on the page", selector)
	}
}

// rowCount is the number of rows the table's filters match.
func (b *browser) rowCount() int {
	b.t.Helper()
	return evalJS[int](b, `Number(document.querySelector('#row-count').dataset.count)`)
}

// clickRowWith clicks the visible table row whose text contains all of
// parts (after filtering so that it is on the page).
func (b *browser) clickRowWith(parts ...string) {
	b.t.Helper()
	cond := make([]string, len(parts))
	for i, p := range parts {
		cond[i] = fmt.Sprintf("r.textContent.includes(%q)", p)
	}
	idx := evalJS[string](b, fmt.Sprintf(`(() => { const r = [...document.querySelectorAll('#trace-table tr.row')].find(r => %s); return r ? r.dataset.row : ''; })()`,
		strings.Join(cond, " && ")))
	if idx == "" {
		b.t.Fatalf("no table row shows %q", parts)
	}
	b.click(fmt.Sprintf(`#trace-table tr.row[data-row="%s"]`, idx))
}

func TestTraceTableFiltersAndTimeline(t *testing.T) {
	f := getFixtures(t)
	run := readRun(t, f.hostile)
	b := newBrowser(t)
	b.open(f.hostileReport)

	if got := b.rowCount(); got != len(run.results) {
		t.Errorf("row count %d, want %d results", got, len(run.results))
	}
	if got := b.count("#trace-table tr.row"); got != min(len(run.results), 100) {
		t.Errorf("%d rows drawn, want %d", got, min(len(run.results), 100))
	}

	// Failed chains: the error filter shows exactly the error results.
	var failed []results.Result
	for _, r := range run.results {
		if r.Status == results.StatusError {
			failed = append(failed, r)
		}
	}
	if len(failed) == 0 {
		t.Fatal("the hostile run has no error rows to look at")
	}
	b.setFilter("#filter-status", "error")
	b.waitFor(fmt.Sprintf(`Number(document.querySelector('#row-count').dataset.count) === %d`, len(failed)))
	if got := b.count("#trace-table tr.row.error"); got != len(failed) {
		t.Errorf("%d error rows drawn, want %d", got, len(failed))
	}

	// Open the first failed result: its timeline has all its spans and
	// marks the failed one, which is selected with its error shown.
	first := failed[0]
	b.clickRowWith(first.ExampleID, first.Variant)
	b.waitFor(`document.querySelectorAll('#timeline .span').length > 0`)
	spans := run.spans[first.TraceID]
	if got := b.count("#timeline .span"); got != len(spans) {
		t.Errorf("timeline has %d spans, want the trace's %d", got, len(spans))
	}
	var bad []traces.Record
	for _, s := range spans {
		if s.Status == traces.StatusError {
			bad = append(bad, s)
		}
	}
	if got := b.count("#timeline .span.failed"); got != len(bad) || len(bad) == 0 {
		t.Errorf("%d spans marked failed, want %d (and at least one)", got, len(bad))
	}
	for _, s := range bad {
		if b.count(fmt.Sprintf(`#timeline .span.failed[data-span-id=%q]`, s.SpanID)) != 1 {
			t.Errorf("failed span %s (%s) is not marked", s.Name, s.SpanID)
		}
	}
	if got := b.text(".row-error"); !strings.Contains(got, results.Deref(first.Error)) {
		t.Errorf("row error %q does not show %q", got, results.Deref(first.Error))
	}
	if got := b.text("#span-detail .span-error"); !strings.Contains(got, bad[0].Error) {
		t.Errorf("selected span's error %q, want %q", got, bad[0].Error)
	}

	// Selecting another span shows its metadata: the llm call's model.
	for _, s := range spans {
		if s.Kind == traces.KindLLM {
			b.click(fmt.Sprintf(`#timeline .span[data-span-id=%q]`, s.SpanID))
			b.waitFor(fmt.Sprintf(`document.querySelector('#span-detail') && document.querySelector('#span-detail').textContent.includes(%q)`, s.Attributes["model"]))
			break
		}
	}

	// Back to the table: the filter is kept.
	b.click("#detail-close")
	b.waitFor(`document.querySelector('#trace-table') !== null`)
	if got := b.rowCount(); got != len(failed) {
		t.Errorf("after closing the trace, %d rows, want the filter's %d", got, len(failed))
	}

	// Free-text search and the judge filter.
	b.setFilter("#filter-status", "all")
	b.setFilter("#filter-search", "x05")
	want := 0
	for _, r := range run.results {
		if strings.Contains(strings.ToLower(r.ExampleID+r.Input+r.Output+results.Deref(r.Error)), "x05") {
			want++
		}
	}
	b.waitFor(fmt.Sprintf(`Number(document.querySelector('#row-count').dataset.count) === %d`, want))
	b.clean()
}

func TestArchitectureHighlightsDifferences(t *testing.T) {
	f := getFixtures(t)
	m, err := results.ReadManifest(f.arith)
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	b.open(f.arithReport)
	b.click(`#tabs button[data-view="architecture"]`)
	b.waitFor(`document.querySelectorAll('.arch-variant').length > 0`)
	if got := b.count(".arch-variant"); got != len(m.Variants) {
		t.Errorf("%d variants drawn, want %d", got, len(m.Variants))
	}
	if got := b.count(".arch-judge"); got != len(m.Judges) {
		t.Errorf("%d judges drawn, want %d", got, len(m.Judges))
	}
	// hinted-hot runs at temperature 0.8, the others at 0: highlighted.
	if got := b.count(`.arch-param.diff[data-key="params.temperature"]`); got != len(m.Variants) {
		t.Errorf("temperature highlighted on %d variants, want %d", got, len(m.Variants))
	}
	// The extract step is the same everywhere: not highlighted.
	if got := b.count(`.arch-param.diff[data-key="steps.answer.regex"]`); got != 0 {
		t.Errorf("the shared regex is highlighted on %d variants", got)
	}
	if got := b.count(`.arch-param[data-key="steps.answer.regex"]`); got != len(m.Variants) {
		t.Errorf("the extract regex is shown on %d variants, want %d", got, len(m.Variants))
	}
	text := evalJS[string](b, `document.querySelector('#view-architecture').textContent`)
	for _, v := range m.Variants {
		for _, msg := range v.Prompt.Messages {
			if !strings.Contains(text, strings.TrimSpace(msg.Content)) {
				t.Errorf("prompt text of %s not shown: %q", v.Name, msg.Content)
			}
		}
	}
	b.clean()
}

func TestCompareViewRegressedFirstAndAligned(t *testing.T) {
	f := getFixtures(t)
	rep, err := report.CompareVariants(f.hostile, "echo", "calc", report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Comparisons[0]
	j0 := c.Judges[0]
	b := newBrowser(t)
	b.open(f.hostileCompare)
	b.click(`#tabs button[data-view="compare"]`)
	b.waitFor(`document.querySelectorAll('#compare-list .compare-item').length > 0`)
	run := readRun(t, f.hostile)
	examples := map[string]bool{}
	for _, r := range run.results {
		examples[r.ExampleID] = true
	}
	if got := b.count("#compare-list .compare-item"); got != len(examples) {
		t.Errorf("%d examples listed, want %d", got, len(examples))
	}
	if got := b.count(`#compare-list .compare-item[data-change="regressed"]`); got != j0.Regressed {
		t.Errorf("%d regressed on %s, want %d", got, j0.Judge, j0.Regressed)
	}
	if got := b.count(`#compare-list .compare-item[data-change="improved"]`); got != j0.Improved {
		t.Errorf("%d improved on %s, want %d", got, j0.Judge, j0.Improved)
	}
	firstChange := evalJS[string](b, `document.querySelector('#compare-list .compare-item').dataset.change`)
	if j0.Regressed > 0 && firstChange != "regressed" {
		t.Errorf("first listed example is %s, want a regressed one first", firstChange)
	}
	b.click("#compare-list .compare-item")
	b.waitFor(`document.querySelectorAll('#aligned .align-row').length > 0`)
	if got := b.count("#side-by-side .side"); got != 2 {
		t.Errorf("%d sides, want 2", got)
	}
	changed := b.count("#aligned .align-row.changed")
	if first := b.count("#aligned .align-row.first-change"); (changed > 0) != (first == 1) || first > 1 {
		t.Errorf("%d changed steps but %d marked first change", changed, first)
	}
	// echo and calc answer differently, so some step's output differs.
	if changed == 0 {
		t.Error("no aligned step differs between echo and calc")
	}
	b.clean()
}

func TestTwoRunsCompareAndCharts(t *testing.T) {
	f := getFixtures(t)
	m, err := results.ReadManifest(f.arith)
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	b.open(f.arithCompare)
	b.click(`#tabs button[data-view="compare"]`)
	b.waitFor(`document.querySelectorAll('#compare-pair option').length > 0`)
	if got := b.count("#compare-pair option"); got != len(m.Variants) {
		t.Errorf("%d pairs, want one per variant (%d)", got, len(m.Variants))
	}
	b.click(`#tabs button[data-view="charts"]`)
	b.waitFor(`document.querySelectorAll('svg.chart').length > 0`)
	nan := evalJS[int](b, `[...document.querySelectorAll('svg.chart *')].filter(e => [...e.attributes].some(a => /NaN|Infinity|undefined/.test(a.value))).length`)
	if nan != 0 {
		t.Errorf("%d chart elements have NaN, Infinity or undefined attributes", nan)
	}
	if got := b.count("svg.chart title"); got < b.count("svg.chart") {
		t.Errorf("%d titles for %d charts", got, b.count("svg.chart"))
	}
	b.clean()
}

// TestCompareShowsTestAndAlternative: each judge's line names the paired
// test the JSON report names and, for a one-sided comparison, its
// alternative.
func TestCompareShowsTestAndAlternative(t *testing.T) {
	f := getFixtures(t)
	raw, err := os.ReadFile(f.arithGreaterJS)
	if err != nil {
		t.Fatal(err)
	}
	var rep report.Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Comparisons) != 1 || len(rep.Comparisons[0].Judges) == 0 {
		t.Fatalf("%d comparisons in the JSON report, want 1 with judges", len(rep.Comparisons))
	}
	var want []string
	for _, jc := range rep.Comparisons[0].Judges {
		if jc.Alternative != "greater" {
			t.Fatalf("judge %s: alternative %q in the JSON report", jc.Judge, jc.Alternative)
		}
		want = append(want, strings.ReplaceAll(jc.Test, "_", " ")+", one-sided B > A")
	}
	b := newBrowser(t)
	b.open(f.arithGreater)
	b.click(`#tabs button[data-view="compare"]`)
	b.waitFor(`document.querySelectorAll('#compare-figures td.cmp-test').length > 0`)
	got := evalJS[[]string](b, `[...document.querySelectorAll('#compare-figures td.cmp-test')].map(e => e.textContent)`)
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("test cells %q, want %q", got, want)
	}
	b.clean()
}
