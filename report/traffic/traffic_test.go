package traffic_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/report/traffic"
	"github.com/gavel-eval/gavel/traces"
)

var t0 = time.Date(2026, 11, 20, 14, 0, 0, 0, time.UTC)

// span builds a span of trace tid starting at offset from t0.
func span(tid, id, parent, name string, kind traces.Kind, at, dur time.Duration, attrs map[string]any) traces.Span {
	return traces.Span{TraceID: tid, SpanID: id, ParentID: parent, Name: name, Kind: kind,
		Start: t0.Add(at), End: t0.Add(at + dur), Status: traces.StatusOK, Attributes: attrs,
		Input: name + " in", Output: name + " out"}
}

// writeSpans writes one span file per group of spans into dir.
func writeSpans(t *testing.T, dir, name, service string, spans ...traces.Span) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	w, err := traces.NewWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	// One call per trace, like the receiver's batches.
	for _, s := range spans {
		if err := w.Write("", service, "", 0, []traces.Span{s}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func ms(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }

// sample writes three traces over two files: a, a chain with an llm call
// priced by the span (alice, session s1); b, whose retriever failed
// (bob); c, whose root was not collected (its parent is elsewhere), with
// tokens but no cost.
func sample(t *testing.T) string {
	dir := t.TempDir()
	writeSpans(t, dir, "spans-1.parquet", "faq",
		span("a", "a1", "", "answer", traces.KindChain, 0, ms(100), map[string]any{"user_id": "alice", "session_id": "s1"}),
		span("a", "a2", "a1", "chat", traces.KindLLM, ms(10), ms(80), map[string]any{"model": "gpt-4o-mini", "prompt_tokens": 100.0, "completion_tokens": 20.0, "cost_usd": 0.5}),
		span("b", "b1", "", "answer", traces.KindChain, time.Hour, ms(40), map[string]any{"user_id": "bob"}),
	)
	failed := span("b", "b2", "b1", "search", traces.KindRetriever, time.Hour+ms(1), ms(5), nil)
	failed.Status, failed.Error = traces.StatusError, "index offline"
	writeSpans(t, dir, "spans-2.parquet", "faq",
		failed,
		span("c", "c2", "elsewhere", "chat", traces.KindLLM, 2*time.Hour, ms(30), map[string]any{"model": "m-priced", "provider": "Acme", "prompt_tokens": 1000.0, "completion_tokens": 500.0}),
		span("c", "c3", "c2", "parse", traces.KindParser, 2*time.Hour+ms(30), ms(2), nil),
	)
	// A scored run beside the traces is not read as spans.
	if err := os.MkdirAll(filepath.Join(dir, "scored"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "scored", results.ManifestFile), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeSpans(t, filepath.Join(dir, "scored"), results.TracesFile, "judge-run",
		span("zzz", "z1", "", "judge", traces.KindJudge, 0, ms(1), nil))
	return dir
}

func read(t *testing.T, dir string, o traffic.Options) *traffic.Summary {
	t.Helper()
	files, err := traffic.SpanFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := traffic.Read(context.Background(), files, o)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func TestTable(t *testing.T) {
	dir := sample(t)
	cost := func(model string, p, c int64) (float64, bool) {
		if model != "acme/m-priced" {
			return 0, false
		}
		return float64(p)*1e-6 + float64(c)*2e-6, true
	}
	sum := read(t, dir, traffic.Options{Cost: cost})
	if len(sum.Files) != 2 || sum.Spans != 6 || sum.Total != 3 || sum.Traces != 3 || sum.Errors != 1 {
		t.Fatalf("files %d spans %d total %d traces %d errors %d", len(sum.Files), sum.Spans, sum.Total, sum.Traces, sum.Errors)
	}
	if len(sum.Table) != 3 {
		t.Fatalf("table has %d rows", len(sum.Table))
	}
	c, b, a := sum.Table[0], sum.Table[1], sum.Table[2] // newest first
	if a.TraceID != "a" || b.TraceID != "b" || c.TraceID != "c" {
		t.Fatalf("order %s %s %s", c.TraceID, b.TraceID, a.TraceID)
	}
	if a.Name != "answer" || a.Kind != "chain" || !a.Root || a.User != "alice" || a.Session != "s1" || a.Service != "faq" ||
		a.Model != "gpt-4o-mini" || a.Spans != 2 || a.PromptTokens != 100 || a.CompletionTokens != 20 || a.CostUSD != 0.5 ||
		a.Status != "ok" || a.DurationMS != 100 || a.Input != "answer in" || a.Output != "answer out" || !a.Start.Equal(t0) {
		t.Errorf("trace a: %+v", a)
	}
	if b.Status != "error" || b.Error != "search: index offline" || b.User != "bob" || b.DurationMS != 40 {
		t.Errorf("trace b: %+v", b)
	}
	if c.Root || c.Name != "chat" || c.Kind != "llm" || c.DurationMS != 32 || math.Abs(c.CostUSD-0.002) > 1e-12 || c.Input != "chat in" {
		t.Errorf("trace c: %+v", c)
	}
	if len(sum.Users) != 2 || sum.Users[0] != (traffic.Count{Value: "alice", Traces: 1}) || len(sum.Models) != 2 {
		t.Errorf("users %v models %v", sum.Users, sum.Models)
	}
}

func TestFilterAndLimit(t *testing.T) {
	dir := sample(t)
	cases := []struct {
		name string
		f    traffic.Filter
		want []string
	}{
		{"user", traffic.Filter{User: "bob"}, []string{"b"}},
		{"session", traffic.Filter{Session: "s1"}, []string{"a"}},
		{"errors", traffic.Filter{ErrorsOnly: true}, []string{"b"}},
		{"model", traffic.Filter{Model: "m-priced"}, []string{"c"}},
		{"service", traffic.Filter{Service: "other"}, nil},
		{"none", traffic.Filter{}, []string{"c", "b", "a"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sum := read(t, dir, traffic.Options{Filter: tc.f})
			var got []string
			for _, r := range sum.Table {
				got = append(got, r.TraceID)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") || sum.Traces != len(tc.want) || sum.Total != 3 {
				t.Errorf("got %v (%d of %d), want %v", got, sum.Traces, sum.Total, tc.want)
			}
		})
	}
	sum := read(t, dir, traffic.Options{Limit: 1})
	if len(sum.Table) != 1 || sum.Table[0].TraceID != "c" || sum.Traces != 3 {
		t.Errorf("limit 1: %d rows of %d", len(sum.Table), sum.Traces)
	}
}

// The percentiles are R's: quantile(x, c(.5, .9, .95, .99), type = 7).
func TestDashboardPercentilesMatchR(t *testing.T) {
	dir := t.TempDir()
	var spans []traces.Span
	// Hour 14: durations 10, 20, 30, 40, 100 ms.
	// R: 30.0 76.0 88.0 97.6
	for i, d := range []float64{10, 20, 30, 40, 100} {
		spans = append(spans, span(string(rune('a'+i)), "s", "", "q", traces.KindChain, ms(float64(i)), ms(d), nil))
	}
	// Hour 15: 1, 1, 1, 2, 2, 1000, 3.5 ms, one of them failed.
	// R: 2.000000000000 402.100000000000 701.049999999999 940.210000000000
	for i, d := range []float64{1, 1, 1, 2, 2, 1000, 3.5} {
		s := span(string(rune('k'+i)), "s", "", "q", traces.KindChain, time.Hour+ms(float64(i)), ms(d), nil)
		if i == 5 {
			s.Status = traces.StatusError
		}
		spans = append(spans, s)
	}
	// The next day: one trace of 5 ms. R: 5 5
	spans = append(spans, span("z", "s", "", "q", traces.KindChain, 30*time.Hour, ms(5), nil))
	writeSpans(t, dir, "spans.parquet", "svc", spans...)
	sum := read(t, dir, traffic.Options{})

	d := sum.Dashboard(traffic.Hour, traffic.All)
	if len(d.Series) != 1 || d.Series[0].Group != "all" || len(d.Series[0].Buckets) != 3 {
		t.Fatalf("dashboard: %+v", d)
	}
	near := func(got, want float64) bool { return math.Abs(got-want) < 1e-9 }
	b := d.Series[0].Buckets
	if !b[0].Start.Equal(t0) || b[0].Traces != 5 || !near(b[0].P50MS, 30) || !near(b[0].P90MS, 76) || !near(b[0].P95MS, 88) ||
		!near(b[0].P99MS, 97.6) || b[0].MaxMS != 100 || b[0].ErrorRate != 0 {
		t.Errorf("hour 14: %+v", b[0])
	}
	if !b[1].Start.Equal(t0.Add(time.Hour)) || b[1].Traces != 7 || b[1].Errors != 1 || !near(b[1].ErrorRate, 1.0/7) ||
		!near(b[1].P50MS, 2) || !near(b[1].P90MS, 402.1) || !near(b[1].P95MS, 701.049999999999) || !near(b[1].P99MS, 940.21) {
		t.Errorf("hour 15: %+v", b[1])
	}
	if b[2].Traces != 1 || b[2].P50MS != 5 || b[2].P99MS != 5 {
		t.Errorf("next day: %+v", b[2])
	}
	days := sum.Dashboard(traffic.Day, traffic.All).Series[0].Buckets
	if len(days) != 2 || days[0].Traces != 12 || !days[0].Start.Equal(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)) || days[1].Traces != 1 {
		t.Errorf("per day: %+v", days)
	}
}

func TestDashboardGroups(t *testing.T) {
	dir := t.TempDir()
	var spans []traces.Span
	// Ten users, user i with i+1 traces; one trace without a user.
	n := 0
	for u := 0; u < 10; u++ {
		for k := 0; k <= u; k++ {
			id := "t" + string(rune('A'+u)) + string(rune('a'+k))
			spans = append(spans, span(id, "s", "", "q", traces.KindChain, ms(float64(n)), ms(1), map[string]any{"user_id": "user" + string(rune('0'+u))}))
			n++
		}
	}
	spans = append(spans, span("anon", "s", "", "q", traces.KindChain, 0, ms(1), nil))
	writeSpans(t, dir, "spans.parquet", "svc", spans...)
	d := read(t, dir, traffic.Options{}).Dashboard(traffic.Hour, traffic.User)
	if len(d.Series) != traffic.MaxGroups+1 {
		t.Fatalf("%d series", len(d.Series))
	}
	if d.Series[0].Group != "user9" || d.Series[0].Traces != 10 {
		t.Errorf("largest group first: %s %d", d.Series[0].Group, d.Series[0].Traces)
	}
	last := d.Series[len(d.Series)-1]
	// user9..user2 are shown; user1 (2), user0 (1) and the anonymous one
	// (1) are summed.
	if last.Group != traffic.Other || last.Traces != 4 {
		t.Errorf("other: %s %d", last.Group, last.Traces)
	}
	total := 0
	for _, s := range d.Series {
		total += s.Traces
	}
	if total != 56 {
		t.Errorf("series hold %d traces, want 56", total)
	}
}

func TestScoresJoin(t *testing.T) {
	dir := sample(t)
	run := t.TempDir()
	f := func(x float64) *float64 { return &x }
	ss := []results.Score{
		{ExampleID: "a", Judge: "helpful", Score: f(1)},
		{ExampleID: "a", Judge: "helpful", Score: f(0.5)}, // two epochs: the trace's mean is 0.75
		{ExampleID: "b/b2", Judge: "helpful", Score: f(0)},
		{ExampleID: "b", Judge: "grounded", Score: f(1)},
		{ExampleID: "b", Judge: "grounded", Score: nil}, // an error: not a score
		{ExampleID: "gone", Judge: "helpful", Score: f(1)},
	}
	if err := results.WriteRun(run, &results.Manifest{RunID: "r"}, nil, ss); err != nil {
		t.Fatal(err)
	}
	sum := read(t, dir, traffic.Options{Scores: []string{run}})
	if strings.Join(sum.Judges, ",") != "grounded,helpful" || sum.Scored != 2 {
		t.Fatalf("judges %v scored %d", sum.Judges, sum.Scored)
	}
	byID := map[string]traffic.Trace{}
	for _, r := range sum.Table {
		byID[r.TraceID] = r
	}
	if byID["a"].Scores["helpful"] != 0.75 || byID["b"].Scores["helpful"] != 0 || byID["b"].Scores["grounded"] != 1 || byID["c"].Scores != nil {
		t.Errorf("scores: a %v b %v c %v", byID["a"].Scores, byID["b"].Scores, byID["c"].Scores)
	}
	d := sum.Dashboard(traffic.Day, traffic.All)
	got := d.Series[0].Buckets[0].Scores
	if got["helpful"] != (traffic.ScoreMean{Mean: 0.375, N: 2}) || got["grounded"] != (traffic.ScoreMean{Mean: 1, N: 1}) {
		t.Errorf("bucket scores: %v", got)
	}
}

func TestSpanFilesErrors(t *testing.T) {
	empty := t.TempDir()
	if _, err := traffic.SpanFiles(empty); err == nil || !strings.Contains(err.Error(), "no span files") {
		t.Errorf("empty dir: %v", err)
	}
	if _, err := traffic.SpanFiles(filepath.Join(empty, "missing")); err == nil {
		t.Error("a missing dir: no error")
	}
	run := t.TempDir()
	if err := os.WriteFile(filepath.Join(run, results.ManifestFile), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := traffic.SpanFiles(run); err == nil || !strings.Contains(err.Error(), "has no traces") {
		t.Errorf("a run without traces: %v", err)
	}
	// A damaged file is named.
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "spans-x.parquet"), []byte("PAR1 not really"), 0o644); err != nil {
		t.Fatal(err)
	}
	files, err := traffic.SpanFiles(bad)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := traffic.Read(context.Background(), files, traffic.Options{}); err == nil || !strings.Contains(err.Error(), "spans-x.parquet") {
		t.Errorf("damaged file: %v", err)
	}
	// A cancelled context stops the read.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	files, _ = traffic.SpanFiles(sample(t))
	if _, err := traffic.Read(ctx, files, traffic.Options{}); err == nil {
		t.Error("cancelled: no error")
	}
}

func TestEmpty(t *testing.T) {
	dir := t.TempDir()
	writeSpans(t, dir, "spans.parquet", "svc")
	sum := read(t, dir, traffic.Options{})
	if sum.Traces != 0 || len(sum.Table) != 0 {
		t.Errorf("%+v", sum)
	}
	if d := sum.Dashboard(traffic.Hour, traffic.Model); len(d.Series) != 0 {
		t.Errorf("dashboard of nothing: %+v", d)
	}
}
