package view_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/internal/testrun"
	"github.com/gavel-eval/gavel/report/view"
	"github.com/gavel-eval/gavel/traces"
)

// makeRun runs the shipped offline example into dir.
func makeRun(t testing.TB, dir string, extra ...string) {
	t.Helper()
	testrun.Must(t, nil, append([]string{"run", "../../examples/arithmetic/gavel.yaml", "--out", dir, "--limit", "6"}, extra...)...)
}

// runs holds the runs of fixture, made once for the package's tests.
var runs = testrun.NewTemplate(func(tb testing.TB, dir string) {
	makeRun(tb, filepath.Join(dir, "runs", "main"))
	makeRun(tb, filepath.Join(dir, "runs", "prs", "pr-1"), "--repeat", "2")
	makeRun(tb, filepath.Join(dir, "runs", ".hidden"))
	makeRun(tb, filepath.Join(dir, "elsewhere"))
})

func TestMain(m *testing.M) {
	code := m.Run()
	runs.Remove()
	os.Exit(code)
}

// fixture is a root holding two runs (one nested), a hidden run, a
// directory that is not a run, and a symbolic link to a run outside it.
func fixture(t *testing.T) (root, outside string) {
	t.Helper()
	base := runs.Copy(t)
	root = filepath.Join(base, "runs")
	outside = filepath.Join(base, "elsewhere")
	if err := os.MkdirAll(filepath.Join(root, "notes"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "escape")); err != nil {
		t.Fatal(err)
	}
	return root, outside
}

func TestRunsListsRunsUnderRoots(t *testing.T) {
	root, _ := fixture(t)
	s, err := view.New([]string{root}, view.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range s.Runs() {
		keys = append(keys, e.Key)
		if e.Error != "" {
			t.Errorf("%s: %s", e.Key, e.Error)
		}
		if e.Name != "arithmetic" || len(e.Variants) != 3 || e.Results == 0 {
			t.Errorf("entry %+v", e)
		}
	}
	got := strings.Join(keys, " ")
	for _, want := range []string{"0/main", "0/prs/pr-1"} {
		if !strings.Contains(got, want) {
			t.Errorf("runs %q: missing %s", got, want)
		}
	}
	// Hidden directories are skipped, and the symbolic link's target is
	// outside the root: WalkDir does not follow links.
	if strings.Contains(got, "hidden") || strings.Contains(got, "escape") || len(keys) != 2 {
		t.Errorf("runs %q: want exactly main and prs/pr-1", got)
	}
}

func TestHandlerRefusesPathsOutsideRoots(t *testing.T) {
	root, outside := fixture(t)
	s, err := view.New([]string{root}, view.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	bad := []string{
		"", "0/../elsewhere", "../elsewhere", "0/prs/../../elsewhere", "/" + outside, outside,
		"0/escape", // a symbolic link to a run outside the root
		"1/main",   // no second root
		"00/main", "-1/main", "0/notes", "0/./main", "0/main/", "0\\main", "0/main\x00",
	}
	for _, key := range bad {
		for _, path := range []string{"/run?run=", "/api/trace?trace=x&run=", "/compare?b=0/main&a="} {
			resp, err := http.Get(srv.URL + path + url.QueryEscape(key))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s%q = %d, want 404", path, key, resp.StatusCode)
			}
			if bytes.Contains(body, []byte("gavel-doc")) {
				t.Errorf("GET %s%q served a page", path, key)
			}
		}
	}
}

func TestHandlerIsReadOnly(t *testing.T) {
	root, _ := fixture(t)
	s, err := view.New([]string{root}, view.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		req, _ := http.NewRequest(m, srv.URL+"/run?run=0/main", strings.NewReader("x"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s = %d, want 405", m, resp.StatusCode)
		}
	}
}

func get(t *testing.T, u string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestPagesAndTraces(t *testing.T) {
	root, _ := fixture(t)
	s, err := view.New([]string{root}, view.Options{Generator: "gavel test"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	for _, path := range []string{"/", "/run?run=0/main", "/compare?a=0/main&b=0/prs/pr-1", "/compare?run=0/main&va=plain&vb=hinted"} {
		resp, body := get(t, srv.URL+path)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s = %d: %s", path, resp.StatusCode, body)
		}
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'sha256-") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("GET %s: CSP %q", path, csp)
		}
		if !bytes.Contains(body, []byte(`id="gavel-doc"`)) {
			t.Errorf("GET %s: no document in the page", path)
		}
		// Live pages load traces on demand: no embedded chunks.
		if path != "/" && !bytes.Contains(body, []byte(`"trace_url":"/api/trace"`)) {
			t.Errorf("GET %s: page does not load traces from the viewer", path)
		}
	}
	if resp, _ := get(t, srv.URL+"/compare?run=0/main&va=plain"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("compare with one variant = %d, want 400", resp.StatusCode)
	}
	if resp, _ := get(t, srv.URL+"/compare?run=0/main&va=plain&vb=nope"); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("compare with an unknown variant = %d, want 422", resp.StatusCode)
	}

	// Every trace of the run is served with exactly its spans.
	want := map[string]int{}
	err = traces.ReadFile(filepath.Join(root, "prs", "pr-1", results.TracesFile), func(r traces.Record) error {
		want[r.TraceID]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 36 { // 6 examples × 3 variants × 2 epochs
		t.Fatalf("fixture has %d traces, want 36", len(want))
	}
	for id, n := range want {
		resp, body := get(t, srv.URL+"/api/trace?run=0/prs/pr-1&trace="+id)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("trace %s = %d %s", id, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		var spans []struct {
			ID     string  `json:"id"`
			Parent string  `json:"p"`
			Kind   string  `json:"k"`
			T      float64 `json:"t"`
		}
		if err := json.Unmarshal(body, &spans); err != nil {
			t.Fatal(err)
		}
		if len(spans) != n {
			t.Errorf("trace %s: %d spans, want %d", id, len(spans), n)
		}
		for i, sp := range spans {
			if sp.T < 0 || (i > 0 && sp.T < spans[i-1].T) {
				t.Errorf("trace %s: span %s starts at %v, out of order", id, sp.ID, sp.T)
			}
		}
	}
	if resp, _ := get(t, srv.URL+"/api/trace?run=0/main&trace=nope"); resp.StatusCode != 404 {
		t.Errorf("unknown trace = %d, want 404", resp.StatusCode)
	}
}

func TestServeBindsLoopbackByDefault(t *testing.T) {
	root, _ := fixture(t)
	s, err := view.New([]string{root}, view.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	urls := make(chan string, 1)
	go func() { done <- s.Serve(ctx, "", func(u string) { urls <- u }) }()
	var u string
	select {
	case u = <-urls:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	if !strings.HasPrefix(u, "http://127.0.0.1:") {
		t.Errorf("url %s: want the loopback address", u)
	}
	if resp, _ := get(t, u+"api/runs"); resp.StatusCode != 200 {
		t.Errorf("GET api/runs = %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop")
	}
}

func TestNewRejectsMissingRoots(t *testing.T) {
	if _, err := view.New(nil, view.Options{}); err == nil {
		t.Error("no roots: want an error")
	}
	if _, err := view.New([]string{filepath.Join(t.TempDir(), "nope")}, view.Options{}); err == nil {
		t.Error("missing root: want an error")
	}
}

// getHost sends a GET for u with the Host header host and the extra
// headers hdr (name, value, ...).
func getHost(t *testing.T, u, host string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// portOf is the port of a URL like http://127.0.0.1:PORT/.
func portOf(t *testing.T, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Port()
}

// checkHosts requests every page of the viewer at base (listening on
// 127.0.0.1) under each Host header, wanting 200 or 403.
func checkHosts(t *testing.T, base string, ok, refused []string) {
	t.Helper()
	for _, path := range []string{"/", "/api/runs", "/run?run=0/main"} {
		for _, host := range ok {
			if resp, body := getHost(t, base+path, host); resp.StatusCode != http.StatusOK {
				t.Errorf("GET %s with Host %q = %d %s, want 200", path, host, resp.StatusCode, body)
			}
		}
		for _, host := range refused {
			resp, body := getHost(t, base+path, host)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("GET %s with Host %q = %d, want 403", path, host, resp.StatusCode)
			}
			if bytes.Contains(body, []byte("gavel-doc")) || bytes.Contains(body, []byte(`"key"`)) {
				t.Errorf("GET %s with Host %q served the runs", path, host)
			}
		}
	}
}

func TestHandlerAnswersOnlyItsOwnHostNames(t *testing.T) {
	root, _ := fixture(t)
	s, err := view.New([]string{root}, view.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	port := portOf(t, srv.URL)
	other := "1"
	if port == "1" {
		other = "2"
	}
	checkHosts(t, srv.URL,
		[]string{"127.0.0.1:" + port, "localhost:" + port, "LocalHost:" + port, "[::1]:" + port},
		[]string{"evil.example:" + port, "evil.example", "localhost", "127.0.0.1", "localhost:" + other,
			"[::1]:" + other, "127.0.0.1:" + other, "localhost.evil.example:" + port, "127.0.0.1.nip.io:" + port,
			"10.0.0.1:" + port, "localhost.:" + port, "localhost:" + port + "0"})
}

func TestHandlerAllowsNamedHosts(t *testing.T) {
	root, _ := fixture(t)
	s, err := view.New([]string{root}, view.Options{AllowHosts: []string{"Viewer.Test", "proxy.test:8443"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	port := portOf(t, srv.URL)
	checkHosts(t, srv.URL,
		[]string{"viewer.test:" + port, "VIEWER.TEST:" + port, "proxy.test:8443", "localhost:" + port},
		[]string{"viewer.test:8443", "viewer.test", "proxy.test:" + port, "evil.example:" + port, "test:" + port})
	for _, bad := range []string{"", "a/b", "host:0", "host:http", "user@host", "host:70000", "a:b:c", "host:80:80"} {
		if _, err := view.New([]string{root}, view.Options{AllowHosts: []string{bad}}); err == nil {
			t.Errorf("allowed host %q: want an error", bad)
		}
	}
}

func TestHandlerRefusesCrossSiteSubresources(t *testing.T) {
	root, _ := fixture(t)
	s, err := view.New([]string{root}, view.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	host := "127.0.0.1:" + portOf(t, srv.URL)
	for _, tc := range []struct {
		site, mode string
		want       int
	}{
		{"cross-site", "cors", http.StatusForbidden},
		{"cross-site", "no-cors", http.StatusForbidden},
		{"cross-site", "navigate", http.StatusOK}, // a link followed from another site
		{"same-origin", "cors", http.StatusOK},
		{"none", "navigate", http.StatusOK},
	} {
		if resp, _ := getHost(t, srv.URL+"/api/runs", host, "Sec-Fetch-Site", tc.site, "Sec-Fetch-Mode", tc.mode); resp.StatusCode != tc.want {
			t.Errorf("Sec-Fetch-Site %s, mode %s = %d, want %d", tc.site, tc.mode, resp.StatusCode, tc.want)
		}
	}
}

func TestServeAnswersOnlyItsOwnHostNames(t *testing.T) {
	root, _ := fixture(t)
	s, err := view.New([]string{root}, view.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	urls := make(chan string, 1)
	go func() { done <- s.Serve(ctx, "127.0.0.1:0", func(u string) { urls <- u }) }()
	var u string
	select {
	case u = <-urls:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	port := portOf(t, u)
	checkHosts(t, strings.TrimSuffix(u, "/"), []string{"127.0.0.1:" + port, "localhost:" + port, "[::1]:" + port},
		[]string{"evil.example:" + port, "localhost:1"})
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// copyRun copies the files of the run in src into a new run directory dst.
func copyRun(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{results.ManifestFile, results.ResultsFile, results.ScoresFile, results.TracesFile} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// aTrace is one trace id of the run in dir.
func aTrace(t *testing.T, dir string) string {
	t.Helper()
	var id string
	err := traces.ReadFile(filepath.Join(dir, results.TracesFile), func(r traces.Record) error {
		id = r.TraceID
		return nil
	})
	if err != nil || id == "" {
		t.Fatalf("no trace in %s: %v", dir, err)
	}
	return id
}

func runID(t *testing.T, dir string) string {
	t.Helper()
	m, err := results.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m.RunID
}

func TestHandlerRefusesFilesLinkedOutsideRoots(t *testing.T) {
	root, outside := fixture(t)
	main := filepath.Join(root, "main")
	trace := aTrace(t, outside)
	outsideID := runID(t, outside)
	// One run per file, that file a symbolic link to the run outside.
	files := []string{results.ManifestFile, results.ResultsFile, results.ScoresFile, results.TracesFile}
	for _, name := range files {
		dir := filepath.Join(root, "linked", name)
		copyRun(t, main, dir)
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(outside, name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	// Links that stay inside the root are followed: a run directory
	// linked to another, and a run whose results are a relative link to
	// the copy beside them.
	if err := os.Symlink(main, filepath.Join(root, "alias")); err != nil {
		t.Fatal(err)
	}
	inside := filepath.Join(root, "inside")
	copyRun(t, main, inside)
	if err := os.Rename(filepath.Join(inside, results.ResultsFile), filepath.Join(inside, "copy.parquet")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("copy.parquet", filepath.Join(inside, results.ResultsFile)); err != nil {
		t.Fatal(err)
	}

	s, err := view.New([]string{root}, view.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	mainTrace := aTrace(t, main)
	for _, name := range files {
		key := "0/linked/" + name
		for _, path := range []string{"/run?run=" + key, "/compare?a=0/main&b=" + key, "/compare?b=0/main&a=" + key,
			"/compare?run=" + key + "&va=plain&vb=hinted", "/api/trace?trace=" + trace + "&run=" + key,
			"/api/trace?trace=" + mainTrace + "&run=" + key} {
			resp, body := get(t, srv.URL+path)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s = %d, want 404", path, resp.StatusCode)
			}
			if bytes.Contains(body, []byte("gavel-doc")) || bytes.Contains(body, []byte(outsideID)) || bytes.Contains(body, []byte(`"id"`)) {
				t.Errorf("GET %s served content: %.200s", path, body)
			}
		}
	}
	for _, path := range []string{"/run?run=0/alias", "/run?run=0/inside", "/api/trace?run=0/alias&trace=" + mainTrace} {
		if resp, body := get(t, srv.URL+path); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d %s, want 200", path, resp.StatusCode, body)
		}
	}
	// The list shows the linked runs as unreadable, and nothing of the run
	// outside.
	_, list := get(t, srv.URL+"/api/runs")
	if bytes.Contains(list, []byte(outsideID)) {
		t.Errorf("/api/runs shows the run outside the root: %s", list)
	}
	for _, e := range s.Runs() {
		if strings.HasPrefix(e.Key, "0/linked/") && (e.Error == "" || e.RunID != "") {
			t.Errorf("run %s listed as readable: %+v", e.Key, e)
		}
	}
}

// absolutes returns every string in the JSON value v that is an
// absolute path or holds one of paths.
func absolutes(v any, paths []string) []string {
	var out []string
	switch v := v.(type) {
	case string:
		if strings.HasPrefix(v, "/") {
			return []string{v}
		}
		for _, p := range paths {
			if strings.Contains(v, p) {
				return []string{v}
			}
		}
	case []any:
		for _, x := range v {
			out = append(out, absolutes(x, paths)...)
		}
	case map[string]any:
		for _, x := range v {
			out = append(out, absolutes(x, paths)...)
		}
	}
	return out
}

func TestNoAbsolutePathsShown(t *testing.T) {
	root, outside := fixture(t)
	base := filepath.Dir(root)
	examples, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{base, examples}
	// A run whose manifest cannot be read and one whose results cannot.
	if err := os.MkdirAll(filepath.Join(root, "broken"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "broken", results.ManifestFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	copyRun(t, filepath.Join(root, "main"), filepath.Join(root, "damaged"))
	if err := os.WriteFile(filepath.Join(root, "damaged", results.ResultsFile), []byte("not parquet"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Two roots, one given as a symbolic link, so that both spellings
	// of a root are hidden.
	link := filepath.Join(base, "link")
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	s, err := view.New([]string{root, link}, view.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	_, body := get(t, srv.URL+"/api/runs")
	var runs []map[string]any
	if err := json.Unmarshal(body, &runs); err != nil {
		t.Fatal(err)
	}
	dirs := map[string]string{}
	for _, r := range runs {
		dirs[r["key"].(string)], _ = r["dir"].(string)
	}
	for key, want := range map[string]string{"0/main": "main", "0/prs/pr-1": "prs/pr-1", "1": ".", "0/broken": "broken"} {
		if dirs[key] != want {
			t.Errorf("/api/runs: %s has dir %q, want %q", key, dirs[key], want)
		}
	}
	var all any
	if err := json.Unmarshal(body, &all); err != nil {
		t.Fatal(err)
	}
	if bad := absolutes(all, paths); len(bad) > 0 {
		t.Errorf("/api/runs shows absolute paths: %q", bad)
	}
	for _, path := range []string{"/", "/run?run=0/main", "/run?run=1", "/compare?a=0/main&b=0/prs/pr-1",
		"/compare?run=0/main&va=plain&vb=hinted", "/run?run=0/damaged", "/compare?a=0/main&b=0/damaged", "/run?run=0/broken"} {
		resp, body := get(t, srv.URL+path)
		if resp.StatusCode >= 500 {
			t.Errorf("GET %s = %d %s", path, resp.StatusCode, body)
		}
		for _, p := range paths {
			for _, form := range []string{p, strings.ReplaceAll(p, "/", `\/`)} {
				if bytes.Contains(body, []byte(form)) {
					t.Errorf("GET %s (%d) shows the absolute path %s", path, resp.StatusCode, p)
				}
			}
		}
	}
	if resp, _ := get(t, srv.URL+"/run?run=0/damaged"); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("damaged run = %d, want 422", resp.StatusCode)
	}
}
