package browsertest

import (
	"fmt"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gavel-eval/gavel/report/view"
)

func TestViewerListsRunsAndLoadsTracesOnDemand(t *testing.T) {
	f := getFixtures(t)
	s, err := view.New([]string{f.dir}, view.Options{Generator: "gavel test"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	runs := s.Runs()

	b := newBrowser(t)
	b.open(srv.URL + "/")
	b.waitFor(`document.querySelectorAll('#run-list tr.run-item').length > 0`)
	if got := b.count("#run-list tr.run-item"); got != len(runs) {
		t.Errorf("%d runs listed, want %d", got, len(runs))
	}
	// Open the hostile run from its link: its table loads, and a trace's
	// spans come from the viewer when the row is opened.
	key := ""
	for _, r := range runs {
		if r.Name == "hostile" {
			key = r.Key
		}
	}
	// The link loads another page: wait on the DOM, not on a script of
	// the page being left.
	b.click(fmt.Sprintf(`#run-list tr.run-item[data-key=%q] a.run-link`, key))
	b.do("waiting for the run's table", chromedp.WaitVisible(chromedp.CSS("#trace-table tr.row")))
	run := readRun(t, f.hostile)
	if got := b.rowCount(); got != len(run.results) {
		t.Errorf("viewer table has %d rows, want %d", got, len(run.results))
	}
	b.setFilter("#filter-status", "error")
	b.waitFor(`document.querySelectorAll('#trace-table tr.row.error').length > 0`)
	b.click("#trace-table tr.row.error")
	b.waitFor(`document.querySelectorAll('#timeline .span.failed').length > 0`)
	b.noInjectedMarkup("viewer trace")

	// Compare two runs through the chooser's URL.
	var arith, arith2 string
	for _, r := range runs {
		switch filepath.Join(f.dir, filepath.FromSlash(r.Dir)) { // shown relative to f.dir
		case f.arith:
			arith = r.Key
		case f.arith2:
			arith2 = r.Key
		}
	}
	b.do("opening a comparison", chromedp.Navigate(srv.URL+"/compare?a="+url.QueryEscape(arith)+"&b="+url.QueryEscape(arith2)))
	b.click(`#tabs button[data-view="compare"]`)
	b.waitFor(`document.querySelectorAll('#compare-list .compare-item').length > 0`)
	b.click("#compare-list .compare-item")
	b.waitFor(`document.querySelectorAll('#aligned .align-row').length > 0`)
	b.clean()
}
