package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/otel/propagation"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/observe"
	"github.com/gavel-eval/gavel/report/traffic"
)

// trafficDir imports an application's traffic: six traces over two
// hours, of users alice (3, session s1), bob (2, one failing) and an
// anonymous one whose name is hostile; each a chain with an llm child
// carrying GenAI tokens. It returns the directory and the trace ids in
// start order.
func trafficDir(t *testing.T) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "faq")
	ss := rs.ScopeSpans().AppendEmpty()
	base := time.Date(2026, 11, 20, 14, 10, 0, 0, time.UTC)
	users := []string{"alice", "alice", "bob", "alice", "bob", ""}
	var ids []string
	for i, u := range users {
		start := base.Add(time.Duration(i) * 20 * time.Minute)
		root := ss.Spans().AppendEmpty()
		tid := pcommon.TraceID([16]byte{0xab, byte(i + 1)})
		ids = append(ids, tid.String())
		root.SetTraceID(tid)
		root.SetSpanID(pcommon.SpanID([8]byte{byte(i + 1), 1}))
		root.SetName("answer")
		if u == "" {
			root.SetName("evil\x1b[31m\u202ename")
		}
		root.Attributes().PutStr("openinference.span.kind", "CHAIN")
		root.Attributes().PutStr("input.value", fmt.Sprintf("question %d", i))
		root.Attributes().PutStr("output.value", []string{"Paris", "Lyon", "It is Paris.", "Nice", "Paris!", "Rome"}[i])
		if u != "" {
			root.Attributes().PutStr("user.id", u)
		}
		if u == "alice" {
			root.Attributes().PutStr("session.id", "s1")
		}
		root.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		root.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Duration(100*(i+1)) * time.Millisecond)))
		llm := ss.Spans().AppendEmpty()
		llm.SetTraceID(tid)
		llm.SetSpanID(pcommon.SpanID([8]byte{byte(i + 1), 2}))
		llm.SetParentSpanID(root.SpanID())
		llm.SetName("chat")
		llm.Attributes().PutStr("gen_ai.operation.name", "chat")
		llm.Attributes().PutStr("gen_ai.request.model", "gpt-4o-mini")
		llm.Attributes().PutStr("gen_ai.provider.name", "openai")
		llm.Attributes().PutInt("gen_ai.usage.input_tokens", 1000)
		llm.Attributes().PutInt("gen_ai.usage.output_tokens", 100)
		llm.SetStartTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Millisecond)))
		llm.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(50 * time.Millisecond)))
		if i == 4 {
			llm.Status().SetCode(ptrace.StatusCodeError)
			llm.Status().SetMessage("rate limited")
		}
	}
	b, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "export.json")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "traffic")
	env, _, stderr := testEnv()
	if code := Main(context.Background(), []string{"import", file, "--out", out}, env); code != ExitOK {
		t.Fatalf("import: %s", stderr)
	}
	return out, ids
}

func gavelOut(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	env, stdout, stderr := testEnv()
	code := Main(context.Background(), args, env)
	return code, stdout.String(), stderr.String()
}

func TestTrafficTable(t *testing.T) {
	dir, ids := trafficDir(t)
	code, out, stderr := gavelOut(t, "traces", dir)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "START (UTC)") || !strings.Contains(lines[0], "SESSION") {
		t.Fatalf("header: %q", lines[0])
	}
	// Newest first: the hostile one, started at 15:50.
	if !strings.HasPrefix(lines[1], "2026-11-20 15:50:00  "+ids[5]) || !strings.Contains(lines[1], `evil\u001b[31m\u202ename`) {
		t.Errorf("first row: %q", lines[1])
	}
	if strings.Contains(out, "\x1b") || strings.Contains(out, "\u202e") {
		t.Error("a control character reached the terminal")
	}
	// gpt-4o-mini is priced by the built-in table: 1000 in, 100 out.
	if !strings.Contains(lines[2], "bob") || !strings.Contains(lines[2], "error") || !strings.Contains(lines[2], "1000→100") || !strings.Contains(lines[2], "$0.00021") {
		t.Errorf("bob's failed trace: %q", lines[2])
	}
	if !strings.Contains(out, "6 traces matched (6 traces in 1 file, 12 spans), 1 with errors; 2026-11-20 14:10:00 to 2026-11-20 15:50:00.6 UTC") &&
		!strings.Contains(out, "6 traces matched (6 traces in 1 file, 12 spans), 1 with errors; 2026-11-20 14:10:00 to 2026-11-20 15:50:00 UTC") {
		t.Errorf("counts: %s", out)
	}

	for _, c := range []struct {
		args []string
		rows int
		want string
	}{
		{[]string{"--user", "alice"}, 3, "3 traces matched (6 traces"},
		{[]string{"--session", "s1", "--limit", "1"}, 1, "… 2 more traces not shown (showing the newest 1)"},
		{[]string{"--errors"}, 1, "1 trace matched"},
		{[]string{"--service", "faq", "--model", "gpt-4o-mini"}, 6, "6 traces matched"},
		{[]string{"--user", "nobody"}, 0, "0 traces matched"},
	} {
		code, out, stderr := gavelOut(t, append([]string{"traces", dir}, c.args...)...)
		if code != ExitOK {
			t.Fatalf("%v: exit %d: %s", c.args, code, stderr)
		}
		rows := strings.Count("\n"+out, "\n2026-11-20 ")
		if rows != c.rows || !strings.Contains(out, c.want) {
			t.Errorf("%v: %d rows, want %d; want %q in:\n%s", c.args, rows, c.rows, c.want, out)
		}
	}

	// One trace as a tree.
	code, out, stderr = gavelOut(t, "traces", dir, "--trace", ids[4], "--full")
	if code != ExitOK {
		t.Fatalf("--trace: %d %s", code, stderr)
	}
	for _, w := range []string{"service faq · user bob · session – · ", "error · trace " + ids[4], "└─ answer  chain", "   └─ chat  llm", "error: rate limited", "input: question 4"} {
		if !strings.Contains(out, w) {
			t.Errorf("--trace lacks %q:\n%s", w, out)
		}
	}
	code, _, stderr = gavelOut(t, "traces", dir, "--trace", "00000000000000000000000000000000")
	if code != ExitError || !strings.Contains(stderr, "no such trace") {
		t.Errorf("unknown trace: %d %s", code, stderr)
	}
}

func TestTrafficDashboard(t *testing.T) {
	dir, _ := trafficDir(t)
	code, out, stderr := gavelOut(t, "traces", dir, "--dashboard", "--format", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var d traffic.Dashboard
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	// 14:10, 14:30, 14:50 in hour 14 (100, 200, 300 ms); 15:10, 15:30,
	// 15:50 in hour 15 (400, 500 failed, 600 ms).
	// R: quantile(c(100, 200, 300), c(.5, .9, .95, .99)) = 200 280 290 298
	if len(d.Series) != 1 || len(d.Series[0].Buckets) != 2 {
		t.Fatalf("%+v", d)
	}
	b := d.Series[0].Buckets
	if b[0].Traces != 3 || b[0].P50MS != 200 || b[0].P90MS != 280 || b[0].P95MS != 290 || b[0].P99MS != 298 || b[0].PromptTokens != 3000 || b[0].Errors != 0 {
		t.Errorf("hour 14: %+v", b[0])
	}
	if b[1].Traces != 3 || b[1].Errors != 1 || b[1].ErrorRate != 1.0/3 || b[1].CompletionTokens != 300 {
		t.Errorf("hour 15: %+v", b[1])
	}
	code, out, _ = gavelOut(t, "traces", dir, "--dashboard", "--by", "user", "--per", "day")
	if code != ExitOK {
		t.Fatal(out)
	}
	for _, w := range []string{"user alice · 3 traces · per day (UTC)", "user bob · 2 traces", "user (none) · 1 trace ·", "2026-11-20", "50.0%"} {
		if !strings.Contains(out, w) {
			t.Errorf("dashboard lacks %q:\n%s", w, out)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--dashboard", "--per", "week"}, `--per: period "week": want hour or day`},
		{[]string{"--dashboard", "--by", "colour"}, `--by: group "colour"`},
		{[]string{"--format", "yaml"}, `--format "yaml": want text or json`},
		{[]string{"--dashboard", "--trace", "x"}, "give one"},
		{[]string{"--example", "q1"}, "is not a run"},
		{[]string{"--prices-file", filepath.Join(dir, "none.json")}, "--prices-file"},
	} {
		code, _, stderr := gavelOut(t, append([]string{"traces", dir}, c.args...)...)
		if code != ExitError || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, stderr, c.want)
		}
	}
	code, _, stderr = gavelOut(t, "traces", t.TempDir())
	if code != ExitError || !strings.Contains(stderr, "no span files") {
		t.Errorf("empty dir: %d %s", code, stderr)
	}
}

// Scores of gavel score --traces join the traces they judged, in the table
// and the dashboard; the scored run records the directory it scored.
func TestTrafficScores(t *testing.T) {
	dir, ids := trafficDir(t)
	spec := filepath.Join(t.TempDir(), "online.yaml")
	os.WriteFile(spec, []byte("name: online\nscore: {output: output}\njudges:\n  - {name: paris, type: contains, value: Paris}\n"), 0o644)
	run := filepath.Join(t.TempDir(), "scored")
	if code, _, stderr := gavelOut(t, "score", "--traces", dir, "--spec", spec, "--out", run); code != ExitOK {
		t.Fatalf("score: %s", stderr)
	}
	m, err := results.ReadManifest(run)
	if err != nil {
		t.Fatal(err)
	}
	if abs, _ := filepath.Abs(dir); m.Dataset.Traces != abs {
		t.Errorf("manifest dataset.traces %q, want %q", m.Dataset.Traces, abs)
	}
	code, out, stderr := gavelOut(t, "traces", dir, "--scores", run, "--format", "json")
	if code != ExitOK {
		t.Fatalf("%d %s", code, stderr)
	}
	var sum traffic.Summary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Scored != 6 || len(sum.Judges) != 1 || sum.Judges[0] != "paris" {
		t.Fatalf("scored %d judges %v", sum.Scored, sum.Judges)
	}
	want := map[string]float64{ids[0]: 1, ids[1]: 0, ids[2]: 1, ids[3]: 0, ids[4]: 1, ids[5]: 0}
	for _, r := range sum.Table {
		if r.Scores["paris"] != want[r.TraceID] {
			t.Errorf("trace %s scored %v, want %v", r.TraceID, r.Scores, want[r.TraceID])
		}
	}
	code, out, _ = gavelOut(t, "traces", dir, "--scores", run, "--dashboard")
	if code != ExitOK || !strings.Contains(out, "PARIS") || !strings.Contains(out, "0.667 (n=3)") || !strings.Contains(out, "0.333 (n=3)") {
		t.Errorf("dashboard scores:\n%s", out)
	}
}

// --html writes one page holding the table, the spans of its traces and the
// dashboards, with every value from the spans as data.
func TestTrafficHTML(t *testing.T) {
	dir, ids := trafficDir(t)
	page := filepath.Join(t.TempDir(), "traffic.html")
	if code, _, stderr := gavelOut(t, "traces", dir, "--html", page); code != ExitOK {
		t.Fatalf("%s", stderr)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	if !strings.Contains(html, `"mode":"traffic"`) || !strings.Contains(html, ids[3]) || !strings.Contains(html, `"hour/user"`) {
		t.Error("the page lacks its data")
	}
	if strings.Count(html, "<script") != 2 || strings.Contains(html, "\x1b") {
		t.Error("a value from the spans reached the page as markup or raw control characters")
	}
	code, out, _ := gavelOut(t, "traces", dir, "--html", "-", "--user", "bob")
	if code != ExitOK || !strings.HasPrefix(out, "<!doctype html>") || strings.Contains(out, ids[0]) {
		t.Errorf("--html - with a filter: exit %d, alice's trace present: %v", code, strings.Contains(out, ids[0]))
	}
}

// An application behind an http step continues the run's trace; --join
// draws its collected spans under the step.
func TestTracesJoin(t *testing.T) {
	root := t.TempDir()
	appDir := filepath.Join(root, "traffic")
	tr, err := observe.Start(context.Background(), observe.Config{Service: "app", Dir: appDir})
	if err != nil {
		t.Fatal(err)
	}
	prop := propagation.TraceContext{}
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := prop.Extract(tr.Context(r.Context()), propagation.HeaderCarrier(r.Header))
		out, _ := observe.Do(ctx, "handle", observe.Chain, func(ctx context.Context) (string, error) {
			return observe.Do(ctx, "lookup", observe.Tool, func(context.Context) (string, error) { return "Paris", nil })
		})
		json.NewEncoder(w).Encode(map[string]string{"output": out})
	}))
	defer app.Close()
	os.WriteFile(filepath.Join(root, "data.jsonl"), []byte(`{"id": "e1"}`+"\n"), 0o644)
	spec := filepath.Join(root, "gavel.yaml")
	os.WriteFile(spec, []byte("name: joined\ndataset: {path: data.jsonl, id: \"{{.id}}\"}\nvariants:\n  - {name: v1, model: offline/echo, prompt: x}\nchain:\n  - {name: call-app, kind: http, url: \""+app.URL+"/\", output: \"$.output\"}\n"), 0o644)
	run := filepath.Join(root, "run")
	if code, _, stderr := gavelOut(t, "run", spec, "--out", run); code != ExitOK {
		t.Fatalf("run: %s", stderr)
	}
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := gavelOut(t, "traces", run, "--join", appDir)
	if code != ExitOK {
		t.Fatalf("%d %s", code, stderr)
	}
	for _, w := range []string{"└─ joined  chain", "\n   └─ call-app  tool", "\n      └─ handle  chain", "\n         └─ lookup  tool"} {
		if !strings.Contains(out, w) {
			t.Errorf("joined tree lacks %q:\n%s", w, out)
		}
	}
	if code, out, _ := gavelOut(t, "traces", run); code != ExitOK || strings.Contains(out, "handle") {
		t.Errorf("without --join the app's spans are drawn:\n%s", out)
	}
	if code, _, stderr := gavelOut(t, "traces", run, "--join", filepath.Join(root, "none")); code != ExitError || !strings.Contains(stderr, "--join") {
		t.Errorf("--join of a missing dir: %d %s", code, stderr)
	}
}
