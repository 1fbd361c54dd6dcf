package report_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/internal/testrun"
	"github.com/gavel-eval/gavel/report"
	"github.com/gavel-eval/gavel/traces"
)

// gavelRun runs gavel run with args into a new directory.
func gavelRun(t *testing.T, args ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	testrun.Must(t, nil, append(append([]string{"run"}, args...), "--out", dir)...)
	return dir
}

// page holds the parts of a written HTML report.
type page struct {
	html   string
	doc    map[string]any
	rows   []map[string]any
	chunks []map[string][]map[string]any
}

var docRE = regexp.MustCompile(`(?s)<script type="application/json" id="gavel-doc">(.*?)</script>`)

func writePage(t *testing.T, r *report.Report, o report.HTMLOptions) page {
	t.Helper()
	var buf bytes.Buffer
	if err := report.WriteHTML(&buf, r, o); err != nil {
		t.Fatal(err)
	}
	p := page{html: buf.String()}
	m := docRE.FindStringSubmatch(p.html)
	if m == nil {
		t.Fatal("no document in the page")
	}
	if err := json.Unmarshal([]byte(m[1]), &p.doc); err != nil {
		t.Fatalf("document is not JSON: %v", err)
	}
	unpack(t, p.doc["rows"].(string), &p.rows)
	for _, c := range p.doc["chunks"].([]any) {
		var ch map[string][]map[string]any
		unpack(t, c.(string), &ch)
		p.chunks = append(p.chunks, ch)
	}
	return p
}

func unpack(t *testing.T, s string, v any) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.NewDecoder(zr).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func TestHTMLEscapesUntrustedText(t *testing.T) {
	dir := gavelRun(t, "../internal/browsertest/testdata/hostile/gavel.yaml")
	r, err := report.ForRun(dir, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := writePage(t, r, report.HTMLOptions{})
	// The only markup is the page's own: the payloads in the dataset and
	// the outputs never appear as tags.
	for tag, want := range map[string]int{"<script": 2, "</script": 2, "<img": 0, "<svg": 0, "<iframe": 0} {
		if got := strings.Count(strings.ToLower(p.html), tag); got != want {
			t.Errorf("page has %d %q, want %d", got, tag, want)
		}
	}
	// ... yet the data is intact: the page shows the payloads as text.
	if len(p.rows) != 24 {
		t.Fatalf("%d rows, want 24", len(p.rows))
	}
	payloads := []string{"<script>window.__gavelPwned='script'</script>", `<img src=x onerror="window.__gavelPwned='img'">`,
		"</script><script>window.__gavelPwned='close'</script>"}
	for _, want := range payloads {
		found := false
		for _, row := range p.rows {
			var in map[string]string
			if err := json.Unmarshal([]byte(row["in"].(string)), &in); err != nil {
				t.Fatal(err)
			}
			found = found || strings.Contains(in["question"], want) && strings.Contains(row["out"].(string), want)
		}
		if !found {
			t.Errorf("no row's input and output hold %q", want)
		}
	}
	ids := map[string]bool{}
	for _, row := range p.rows {
		ids[row["id"].(string)] = true
	}
	if !ids["<b>x04</b>"] {
		t.Errorf("example ids %v: the id with markup is missing", ids)
	}
	// Architecture carries the prompt and spec text verbatim.
	runs := p.doc["runs"].([]any)
	if spec := runs[0].(map[string]any)["spec"].(string); !strings.Contains(spec, "{{.example.question}}") {
		t.Errorf("spec text not in the architecture: %q", spec)
	}
}

func TestHTMLCSPAllowsOnlyTheEmbeddedScript(t *testing.T) {
	dir := gavelRun(t, "../examples/arithmetic/gavel.yaml", "--limit", "3")
	r, err := report.ForRun(dir, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := writePage(t, r, report.HTMLOptions{})
	csp := regexp.MustCompile(`http-equiv="Content-Security-Policy" content="([^"]*)"`).FindStringSubmatch(p.html)
	if csp == nil {
		t.Fatal("no CSP meta tag")
	}
	policy := html.UnescapeString(csp[1])
	script := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindStringSubmatch(p.html)
	style := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(p.html)
	if script == nil || style == nil {
		t.Fatal("no inline script or style")
	}
	for name, body := range map[string]string{"script-src": script[1], "style-src": style[1]} {
		sum := sha256.Sum256([]byte(body))
		want := name + " 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
		if !strings.Contains(policy, want+";") {
			t.Errorf("policy %q lacks %q", policy, want)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "http:", "https:", "*"} {
		if strings.Contains(policy, bad) {
			t.Errorf("policy %q allows %s", policy, bad)
		}
	}
	if !strings.Contains(policy, "default-src 'none'") || !strings.Contains(policy, "connect-src 'none'") {
		t.Errorf("policy %q: a static report fetches nothing", policy)
	}
	// The only URL in the page is the SVG namespace, which is a name, not
	// a request.
	if u := regexp.MustCompile(`https?://[^\s"'<>]*`).FindAllString(strings.ReplaceAll(p.html, "http://www.w3.org/2000/svg", ""), -1); len(u) > 0 {
		t.Errorf("the page names remote URLs: %q", u)
	}
}

func TestHTMLEmbedsEveryTraceInChunks(t *testing.T) {
	// 24 examples × 3 variants × 3 epochs = 216 traces: two chunks.
	dir := gavelRun(t, "../examples/arithmetic/gavel.yaml", "--repeat", "3")
	r, err := report.ForRun(dir, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := writePage(t, r, report.HTMLOptions{})
	if len(p.rows) != 216 || len(p.chunks) != 2 {
		t.Fatalf("%d rows in %d chunks, want 216 in 2", len(p.rows), len(p.chunks))
	}
	want := map[string]int{}
	err = traces.ReadFile(filepath.Join(dir, results.TracesFile), func(r traces.Record) error {
		want[r.TraceID]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	judges := p.doc["judges"].([]any)
	for _, row := range p.rows {
		tr := row["tr"].(string)
		spans := p.chunks[int(row["c"].(float64))][tr]
		if len(spans) != want[tr] || len(spans) == 0 {
			t.Fatalf("row %s: %d spans in its chunk, want %d", row["id"], len(spans), want[tr])
		}
		if spans[0]["t"].(float64) != 0 {
			t.Errorf("trace %s: first span at %v ms, want 0", tr, spans[0]["t"])
		}
		if js := row["j"].([]any); len(js) != len(judges) {
			t.Errorf("row %s: %d verdicts for %d judges", row["id"], len(js), len(judges))
		}
	}
}

func TestHTMLCutsLongText(t *testing.T) {
	dir := gavelRun(t, "../examples/arithmetic/gavel.yaml", "--limit", "2")
	r, err := report.ForRun(dir, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := writePage(t, r, report.HTMLOptions{MaxText: 10})
	for _, row := range p.rows {
		in := row["in"].(string)
		if !strings.Contains(in, "more characters in the stored run]") || len([]rune(strings.SplitN(in, "…", 2)[0])) != 10 {
			t.Errorf("input %q: want 10 characters and a note", in)
		}
	}
}

// largeRun makes a run of n examples × 2 variants with the offline model.
func largeRun(tb testing.TB, n int) string {
	tb.Helper()
	out := filepath.Join(tb.TempDir(), "run")
	testrun.Must(tb, nil, "run", testrun.LargeSpec(tb, n), "--out", out, "--concurrency", "32")
	return out
}

// BenchmarkWriteHTML writes the comparison page of 10,000 examples × 2
// variants (20,000 rows, 80,000 spans); bytes/op is not the page size,
// which is reported as page-MB.
func BenchmarkWriteHTML(b *testing.B) {
	dir := largeRun(b, 10000)
	r, err := report.CompareVariants(dir, "plain", "hinted", report.Options{})
	if err != nil {
		b.Fatal(err)
	}
	var size int
	for b.Loop() {
		var buf bytes.Buffer
		if err := report.WriteHTML(&buf, r, report.HTMLOptions{}); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	b.ReportMetric(float64(size)/1e6, "page-MB")
}

// A report built with Options.HTML reads the page's rows while it
// computes; the page is the same, byte for byte, as one read when
// written, for one run, for a comparison of two runs, and when the page
// is written with other options than the ones read with (then read
// again).
func TestHTMLPrefetchedPageIsTheSame(t *testing.T) {
	dir := gavelRun(t, "../examples/arithmetic/gavel.yaml", "--repeat", "2")
	other := gavelRun(t, "../examples/arithmetic/gavel.yaml", "--limit", "10")
	builds := map[string]func(report.Options) (*report.Report, error){
		"run": func(o report.Options) (*report.Report, error) { return report.ForRun(dir, o) },
		"variants": func(o report.Options) (*report.Report, error) {
			return report.CompareVariants(dir, "plain", "hinted", o)
		},
		"runs": func(o report.Options) (*report.Report, error) { return report.CompareRuns(other, dir, nil, o) },
	}
	for name, build := range builds {
		for _, o := range []report.HTMLOptions{{}, {MaxText: 12}, {TraceURL: "/trace/"}} {
			plain, err := build(report.Options{})
			if err != nil {
				t.Fatal(err)
			}
			wp := writePage(t, plain, o)
			want := wp.html
			if o.TraceURL == "" {
				for _, row := range wp.rows {
					if spans := wp.chunks[int(row["c"].(float64))][row["tr"].(string)]; len(spans) == 0 {
						t.Fatalf("%s: row %s of side %v: no spans in its block %v", name, row["id"], row["s"], row["c"])
					}
				}
			}
			for _, read := range []report.HTMLOptions{o, {MaxText: 7}} {
				pre, err := build(report.Options{HTML: &read})
				if err != nil {
					t.Fatal(err)
				}
				if got := writePage(t, pre, o).html; got != want {
					t.Errorf("%s, written with %+v, read with %+v: the page differs from one read when written", name, o, read)
				}
			}
		}
	}
}
