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
func makeRun(t *testing.T, dir string, extra ...string) {
	t.Helper()
	testrun.Must(t, nil, append([]string{"run", "../../examples/arithmetic/gavel.yaml", "--out", dir, "--limit", "6"}, extra...)...)
}

// fixture is a root holding two runs (one nested), a hidden run, a
// directory that is not a run, and a symbolic link to a run outside it.
func fixture(t *testing.T) (root, outside string) {
	t.Helper()
	base := t.TempDir()
	root = filepath.Join(base, "runs")
	outside = filepath.Join(base, "elsewhere")
	makeRun(t, filepath.Join(root, "main"))
	makeRun(t, filepath.Join(root, "prs", "pr-1"), "--repeat", "2")
	makeRun(t, filepath.Join(root, ".hidden"))
	makeRun(t, outside)
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
