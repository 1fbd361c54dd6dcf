package browsertest

import (
	"bytes"
	"image/png"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gavel-eval/gavel/report/view"
)

// TestScreenshots opens each view and saves a screenshot of it: to
// -screenshots DIR when given (make screenshots writes docs/img), else to
// a temporary directory. Either way each must be a real, non-empty PNG.
func TestScreenshots(t *testing.T) {
	f := getFixtures(t)
	dir := *screenshots
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	save := func(name string) {
		t.Helper()
		shot := b.screenshot()
		img, err := png.Decode(bytes.NewReader(shot))
		if err != nil {
			t.Fatalf("%s: not a PNG: %v", name, err)
		}
		if r := img.Bounds(); r.Dx() < 800 || r.Dy() < 400 {
			t.Errorf("%s: %v is too small", name, r)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b.open(f.arithReport)
	save("table")
	b.click(`#tabs button[data-view="architecture"]`)
	b.waitFor(`document.querySelectorAll('.arch-variant').length > 0`)
	save("architecture")
	b.open(f.arithAB)
	b.click(`#tabs button[data-view="charts"]`)
	b.waitFor(`document.querySelectorAll('svg.chart').length > 0`)
	save("charts")
	b.click(`#tabs button[data-view="compare"]`)
	b.waitFor(`document.querySelectorAll('#compare-list .compare-item').length > 0`)
	save("compare-list")
	b.click("#compare-list .compare-item")
	b.waitFor(`document.querySelectorAll('#aligned .align-row').length > 0`)
	b.do("scrolling to the aligned trees", chromedp.ScrollIntoView(chromedp.CSS("#aligned")))
	save("compare")

	b.open(f.hostileReport)
	b.setFilter("#filter-status", "error")
	b.waitFor(`document.querySelectorAll('#trace-table tr.row.error').length > 0`)
	b.click("#trace-table tr.row.error")
	b.waitFor(`document.querySelectorAll('#timeline .span.failed').length > 0`)
	save("trace")

	s, err := view.New([]string{f.dir}, view.Options{Generator: "gavel"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	b.open(srv.URL + "/")
	b.waitFor(`document.querySelectorAll('#run-list tr.run-item').length > 0`)
	save("viewer")
	b.clean()
}
