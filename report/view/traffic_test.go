package view_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/internal/testrun"
	"github.com/gavel-eval/gavel/observe"
	"github.com/gavel-eval/gavel/report/view"
	"github.com/gavel-eval/gavel/traces"
)

// joinedFixture runs a spec whose http step calls an application traced
// with observe: the application's spans land in root/traffic, continuing
// the run's traces (root/run). The traffic is then scored into
// root/scored. It returns the root and the run's result trace ids.
func joinedFixture(t *testing.T) (string, []string) {
	t.Helper()
	root := t.TempDir()
	tr, err := observe.Start(context.Background(), observe.Config{Service: "app", Dir: filepath.Join(root, "traffic")})
	if err != nil {
		t.Fatal(err)
	}
	prop := propagation.TraceContext{}
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := observe.WithUser(prop.Extract(tr.Context(r.Context()), propagation.HeaderCarrier(r.Header)), "u<b>1</b>")
		out, _ := observe.Do(ctx, "handle", observe.Chain, func(ctx context.Context) (string, error) {
			return observe.Do(ctx, "lookup", observe.Tool, func(context.Context) (string, error) { return "Paris", nil })
		})
		json.NewEncoder(w).Encode(map[string]string{"output": out})
	}))
	defer app.Close()
	spec := filepath.Join(root, "spec", "gavel.yaml")
	os.MkdirAll(filepath.Dir(spec), 0o755)
	os.WriteFile(filepath.Join(root, "spec", "data.jsonl"), []byte(`{"id": "e1"}`+"\n"+`{"id": "e2"}`+"\n"), 0o644)
	os.WriteFile(spec, []byte(`name: joined
dataset: {path: data.jsonl, id: "{{.id}}"}
variants:
  - {name: v1, model: offline/echo, prompt: x}
chain:
  - {name: call-app, kind: http, url: "`+app.URL+`/", output: "$.output"}
`), 0o644)
	testrun.Must(t, nil, "run", spec, "--out", filepath.Join(root, "run"))
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	online := filepath.Join(root, "spec", "online.yaml")
	os.WriteFile(online, []byte("name: online\nscore: {output: output}\njudges:\n  - {name: paris, type: contains, value: Paris}\n"), 0o644)
	testrun.Must(t, nil, "score", "--traces", filepath.Join(root, "traffic"), "--spec", online, "--out", filepath.Join(root, "scored"))
	var ids []string
	if err := results.ReadResults(filepath.Join(root, "run", results.ResultsFile), func(r results.Result) error {
		ids = append(ids, r.TraceID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return root, ids
}

type apiSpan struct {
	ID     string `json:"id"`
	Parent string `json:"p"`
	Name   string `json:"n"`
	Kind   string `json:"k"`
}

func TestTrafficDirectories(t *testing.T) {
	root, ids := joinedFixture(t)
	s, err := view.New([]string{root}, view.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	var trafficKey string
	for _, e := range s.Runs() {
		if e.Mode == "traffic" {
			if trafficKey != "" {
				t.Errorf("a second traffic entry: %+v", e)
			}
			trafficKey = e.Key
			if e.Files != 1 || e.Dir != "traffic" {
				t.Errorf("traffic entry %+v", e)
			}
		}
	}
	if trafficKey != "0/traffic" {
		t.Fatalf("traffic key %q", trafficKey)
	}
	resp, body := get(t, srv.URL+"/traffic?dir=0/traffic")
	if resp.StatusCode != 200 {
		t.Fatalf("traffic page: %d %s", resp.StatusCode, body)
	}
	page := string(body)
	// Scores of the run that scored this directory are joined; values
	// from the spans are data (the user id's markup is escaped).
	for _, w := range []string{`"mode":"traffic"`, `"judges":["paris"]`, `"scored":2`, `"trace_url":"/api/trace"`, ids[0]} {
		if !strings.Contains(page, w) {
			t.Errorf("traffic page lacks %s", w)
		}
	}
	if strings.Contains(page, "<b>1</b>") {
		t.Error("the user id reached the page as markup")
	}
	if resp, body := get(t, srv.URL+"/traffic?dir=0/traffic&user=nobody"); resp.StatusCode != 200 || !strings.Contains(string(body), `"traces":0`) {
		t.Errorf("a filter: %d", resp.StatusCode)
	}

	// One trace of the directory, and the run's trace joined with the
	// application's spans under the step.
	spansOf := func(key, id string) []apiSpan {
		t.Helper()
		resp, body := get(t, srv.URL+"/api/trace?run="+key+"&trace="+id)
		if resp.StatusCode != 200 {
			t.Fatalf("trace %s of %s: %d %s", id, key, resp.StatusCode, body)
		}
		var spans []apiSpan
		if err := json.Unmarshal(body, &spans); err != nil {
			t.Fatal(err)
		}
		return spans
	}
	if app := spansOf("0/traffic", ids[0]); len(app) != 2 || app[0].Name != "handle" || app[1].Name != "lookup" {
		t.Errorf("the app's trace: %+v", app)
	}
	joined := spansOf("0/run", ids[0])
	byName := map[string]apiSpan{}
	for _, sp := range joined {
		byName[sp.Name] = sp
	}
	step, handle, lookup := byName["call-app"], byName["handle"], byName["lookup"]
	if step.ID == "" || handle.Parent != step.ID || lookup.Parent != handle.ID || lookup.Kind != string(traces.KindTool) {
		t.Errorf("the run's trace is not joined with the app's spans under its step: %+v", joined)
	}

	for _, u := range []string{"/traffic?dir=0/run", "/traffic?dir=0/../x", "/traffic?dir=0/spec", "/traffic?dir=", "/traffic?dir=1/traffic"} {
		if resp, _ := get(t, srv.URL+u); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", u, resp.StatusCode)
		}
	}

	// A span file that is a symbolic link out of the served directory is
	// refused.
	outside := t.TempDir()
	data, _ := os.ReadFile(filepath.Join(root, "traffic", "traces.parquet"))
	os.WriteFile(filepath.Join(outside, "secret.parquet"), data, 0o644)
	os.MkdirAll(filepath.Join(root, "leak"), 0o755)
	os.WriteFile(filepath.Join(root, "leak", "spans-1.parquet"), data, 0o644)
	if err := os.Symlink(filepath.Join(outside, "secret.parquet"), filepath.Join(root, "leak", "spans-2.parquet")); err != nil {
		t.Fatal(err)
	}
	if resp, body := get(t, srv.URL+"/traffic?dir=0/leak"); resp.StatusCode == 200 || strings.Contains(string(body), outside) {
		t.Errorf("an escaping span file: %d %s", resp.StatusCode, body)
	}
	if resp, _ := get(t, srv.URL+"/api/trace?run=0/leak&trace="+ids[0]); resp.StatusCode == 200 {
		t.Errorf("an escaping span file's trace: %d", resp.StatusCode)
	}
}
