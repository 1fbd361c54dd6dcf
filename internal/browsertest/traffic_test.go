package browsertest

import (
	"encoding/base64"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gavel-eval/gavel/internal/testrun"
	"github.com/gavel-eval/gavel/report/view"
	"github.com/gavel-eval/gavel/traces"
)

// writeTraffic writes collected traffic into dir/traffic: 12 traces over
// two days, users alice, bob and a hostile one, each a chain with an llm
// and a retriever child; bob's retrievals fail. Names, inputs and outputs
// carry the payloads.
func writeTraffic(t *testing.T, dir string) string {
	t.Helper()
	out := filepath.Join(dir, "traffic")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(out, "spans-20261120T000000Z-0001.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := traces.NewWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	users := []string{"alice", "bob", payloads[1]}
	for i := 0; i < 12; i++ {
		tid := fmt.Sprintf("%032x", i+1)
		user := users[i%3]
		start := base.Add(time.Duration(i) * 4 * time.Hour)
		root := traces.Span{TraceID: tid, SpanID: fmt.Sprintf("%016x", 100+i), Name: "answer", Kind: traces.KindChain,
			Start: start, End: start.Add(time.Duration(200+10*i) * time.Millisecond), Status: traces.StatusOK,
			Input: payloads[i%len(payloads)], Output: payloads[(i+1)%len(payloads)],
			Attributes: map[string]any{"user_id": user, "session_id": "s-" + user}}
		ret := traces.Span{TraceID: tid, SpanID: fmt.Sprintf("%016x", 200+i), ParentID: root.SpanID, Name: payloads[2], Kind: traces.KindRetriever,
			Start: start.Add(time.Millisecond), End: start.Add(20 * time.Millisecond), Status: traces.StatusOK}
		if user == "bob" {
			ret.Status, ret.Error = traces.StatusError, payloads[3]
		}
		llm := traces.Span{TraceID: tid, SpanID: fmt.Sprintf("%016x", 300+i), ParentID: root.SpanID, Name: "chat", Kind: traces.KindLLM,
			Start: start.Add(25 * time.Millisecond), End: start.Add(180 * time.Millisecond), Status: traces.StatusOK,
			Attributes: map[string]any{"model": "gpt-4o-mini", "provider": "openai", "prompt_tokens": 500.0, "completion_tokens": 50.0}}
		if err := w.Write("", "faq", "", 0, []traces.Span{root, ret, llm}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkTraffic exercises a traffic page: the table and its filters, a
// failed trace's timeline and span details, and the dashboard.
func checkTraffic(b *browser, where string) {
	b.t.Helper()
	b.waitFor(`document.querySelectorAll('#traffic-table tr.tf-row').length > 0`)
	if n := b.count("#traffic-table tr.tf-row"); n != 12 {
		b.t.Errorf("%s: %d rows, want 12", where, n)
	}
	b.setFilter("#traffic-user", "bob")
	if n := evalJS[int](b, `Number(document.querySelector('#traffic-count').dataset.count)`); n != 4 {
		b.t.Errorf("%s: user bob: %d rows, want 4", where, n)
	}
	if n := b.count("#traffic-table tr.tf-row.tf-failed"); n != 4 {
		b.t.Errorf("%s: %d failed rows, want bob's 4", where, n)
	}
	b.setFilter("#traffic-user", "")
	b.setFilter("#traffic-status", "error")
	if n := b.count("#traffic-table tr.tf-row"); n != 4 {
		b.t.Errorf("%s: status error: %d rows, want 4", where, n)
	}
	b.click("#traffic-table tr.tf-row")
	b.waitFor(`document.querySelectorAll('#timeline .span').length === 3`)
	if n := b.count("#timeline .span.failed"); n != 1 {
		b.t.Errorf("%s: %d failed spans in the timeline, want 1", where, n)
	}
	if n := b.count("#timeline .span.kind-retriever"); n != 1 {
		b.t.Errorf("%s: no retriever span coloured by kind", where)
	}
	// The failed span is selected first and shows its error as text.
	b.showsText(where+" span detail", "#span-detail", payloads[3])
	b.noInjectedMarkup(where + " trace")
	b.click(`#detail-close`)
	b.waitFor(`document.querySelector('#traffic-table') !== null`)

	b.click(`#tabs button[data-view="dashboard"]`)
	b.waitFor(`document.querySelectorAll('#dashboard svg.chart').length >= 7`)
	// 12 traces, 4 h apart from 09:00: 4 on the 20th, 6 on the 21st, 2 on the 22nd.
	if n := b.count("#dashboard-table tr.tf-bucket"); n != 12 {
		b.t.Errorf("%s: %d hourly buckets, want 12", where, n)
	}
	b.setFilter("#dashboard-per", "day")
	b.waitFor(`document.querySelectorAll('#dashboard-table tr.tf-bucket').length === 3`)
	b.setFilter("#dashboard-by", "user")
	b.waitFor(`document.querySelectorAll('#dashboard-table tr.tf-bucket').length > 3`)
	b.showsText(where+" dashboard", "#dashboard-table", payloads[1][:30]) // cut to 40 characters
	b.noInjectedMarkup(where + " dashboard")
	b.clean()
}

func TestTrafficPageAndViewer(t *testing.T) {
	dir := t.TempDir()
	traffic := writeTraffic(t, dir)
	page := filepath.Join(dir, "traffic.html")
	testrun.Must(t, nil, "traces", traffic, "--html", page)
	b := newBrowser(t)
	b.do("opening the traffic page", chromedp.Navigate("file://"+page))
	checkTraffic(b, "page")

	s, err := view.New([]string{dir}, view.Options{Generator: "gavel test"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	b.do("opening the viewer", chromedp.Navigate(srv.URL+"/"))
	b.waitFor(`document.querySelectorAll('#traffic-list tr.traffic-item').length === 1`)
	b.click(`#traffic-list a.traffic-link`)
	b.do("waiting for the traffic page", chromedp.WaitVisible(chromedp.CSS("#traffic-table tr.tf-row")))
	checkTraffic(b, "viewer")
}

// An image a prompt sent, kept with store_images, is a thumbnail in the
// span's details; a data URL that is not a raster image is not shown.
func TestImageThumbnails(t *testing.T) {
	dir := t.TempDir()
	png := "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
	files := map[string]string{
		"data.jsonl": `{"id": "dot", "image": "img/dot.png"}` + "\n" + `{"id": "svg", "image": "data:image/svg+xml;base64,PHN2Zy8+"}` + "\n",
		"gavel.yaml": `name: images
store_images: true
dataset: {path: data.jsonl, id: "{{.id}}"}
variants:
  - name: v
    model: offline/echo
    prompt: [{role: user, content: [{type: text, text: "What is it?"}, {type: image_url, image_url: "{{.example.image}}"}]}]
`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(dir, "img"), 0o755)
	raw, _ := base64.StdEncoding.DecodeString(png)
	os.WriteFile(filepath.Join(dir, "img", "dot.png"), raw, 0o644)
	run := filepath.Join(dir, "run")
	testrun.Must(t, nil, "run", filepath.Join(dir, "gavel.yaml"), "--out", run)
	page := filepath.Join(dir, "report.html")
	testrun.Must(t, nil, "report", run, "--format", "html="+page)
	b := newBrowser(t)
	b.open("file://" + page)
	b.clickRowWith("dot")
	b.waitFor(`document.querySelectorAll('#timeline .span').length > 0`)
	b.click(`#timeline .span[data-kind="llm"]`)
	b.waitFor(`document.querySelectorAll('#span-detail .tl-thumb img').length === 1`)
	b.waitFor(`document.querySelector('#span-detail .tl-thumb img').complete && document.querySelector('#span-detail .tl-thumb img').naturalWidth === 1`)
	b.showsText("thumbnail", "#span-detail", "[image 1, shown below]")
	b.click(`#detail-close`)
	b.waitFor(`document.querySelectorAll('#trace-table tr.row').length === 2`)
	b.clickRowWith("svg")
	b.waitFor(`document.querySelectorAll('#timeline .span').length > 0`)
	b.click(`#timeline .span[data-kind="llm"]`)
	b.waitFor(`document.querySelector('#span-detail') !== null && document.querySelector('#span-detail').textContent.includes('not kept')`)
	if n := b.count("img"); n != 0 {
		t.Errorf("an SVG data URL became %d img elements", n)
	}
	b.clean()
}
