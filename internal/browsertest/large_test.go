package browsertest

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/gavel-eval/gavel/internal/testrun"
)

// TestLargeRunStaysUsable opens the report of 1,500 examples × 2
// variants: the table shows one page of 100 rows of the 3,000, pages,
// filters across all of them, and opens a trace from the last page (whose
// spans sit in the last of 15 compressed blocks). That many rows prove
// the paging, the filters and the blocks as well as more would, at a
// seventh of the cost under -race; how long a page of 10,000 examples × 2
// takes to load is measured by BenchmarkLargePageLoad (docs/BENCHMARKS.md),
// not here.
func TestLargeRunStaysUsable(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the 1,500-example run takes a while under -race")
	}
	const n = 1500
	page := largePage(t, n)
	b := newBrowser(t)
	b.open("file://" + page)
	if got := b.rowCount(); got != 2*n {
		t.Fatalf("row count %d, want %d", got, 2*n)
	}
	if got := b.count("#trace-table tr.row"); got != 100 {
		t.Errorf("%d rows drawn, want one page of 100", got)
	}
	// Failed rows: plain adds the numbers up and is wrong on most.
	b.setFilter("#filter-status", "failed")
	b.waitFor(fmt.Sprintf(`Number(document.querySelector('#row-count').dataset.count) < %d`, 2*n))
	failed := b.rowCount()
	if failed == 0 || b.count("#trace-table tr.row") != min(failed, 100) {
		t.Errorf("failed filter: %d rows, %d drawn", failed, b.count("#trace-table tr.row"))
	}
	b.setFilter("#filter-status", "all")
	b.setFilter("#filter-search", fmt.Sprintf("p%05d", n-1))
	b.waitFor(`Number(document.querySelector('#row-count').dataset.count) === 2`)
	b.click("#trace-table tr.row")
	b.waitFor(`document.querySelectorAll('#timeline .span').length > 0`)
	b.clean()
}

// largePage writes the comparison page of a run of n examples × 2
// variants of the offline model and returns its path.
func largePage(tb testing.TB, n int) string {
	tb.Helper()
	dir := tb.TempDir()
	run := filepath.Join(dir, "run")
	page := filepath.Join(dir, "large.html")
	testrun.Must(tb, nil, "run", testrun.LargeSpec(tb, n), "--out", run, "--concurrency", "32")
	testrun.Must(tb, []int{0, 1}, "compare", run, "--a", "plain", "--b", "hinted", "--format", "html="+page)
	return page
}

// BenchmarkLargePageLoad opens the page of 10,000 examples × 2 variants
// (20,000 rows) from file:// and waits until the table's first page is
// drawn: parsing, inflating the rows and drawing, as a user waits for it.
func BenchmarkLargePageLoad(b *testing.B) {
	page := largePage(b, 10000)
	br := newBrowser(b)
	for b.Loop() {
		br.open("file://" + page)
	}
}
