package traffic_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/report/traffic"
	"github.com/gavel-eval/gavel/traces"
)

// BenchmarkRead summarises a million collected spans — 250,000 traces of
// four spans (chain, retriever, llm, parser) from 1,000 users over 30
// days, in 10 files — into the trace table and every dashboard, and
// reports spans per second and the live heap the summary holds.
func BenchmarkRead(b *testing.B) {
	const traceCount, perFile = 250_000, 25_000
	dir := b.TempDir()
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for f := 0; f < traceCount/perFile; f++ {
		out, err := os.Create(filepath.Join(dir, fmt.Sprintf("spans-%02d.parquet", f)))
		if err != nil {
			b.Fatal(err)
		}
		w, err := traces.NewWriter(out)
		if err != nil {
			b.Fatal(err)
		}
		for i := f * perFile; i < (f+1)*perFile; i++ {
			tid := fmt.Sprintf("%032x", i+1)
			start := base.Add(time.Duration(i) * 10 * time.Second)
			sp := func(n int, parent, name string, kind traces.Kind, attrs map[string]any) traces.Span {
				return traces.Span{TraceID: tid, SpanID: fmt.Sprintf("%015x%d", i, n), ParentID: parent, Name: name, Kind: kind,
					Start: start.Add(time.Duration(n) * time.Millisecond), End: start.Add(time.Duration(300+i%700) * time.Millisecond),
					Status: traces.StatusOK, Input: "What are the opening hours on Saturday?", Output: "We open at 9.", Attributes: attrs}
			}
			root := sp(0, "", "answer", traces.KindChain, map[string]any{"user_id": fmt.Sprintf("user-%d", i%1000), "session_id": fmt.Sprintf("s-%d", i/4)})
			spans := []traces.Span{root,
				sp(1, root.SpanID, "search", traces.KindRetriever, nil),
				sp(2, root.SpanID, "chat", traces.KindLLM, map[string]any{"model": []string{"gpt-4o-mini", "gpt-4o"}[i%2], "provider": "openai", "prompt_tokens": 420.0, "completion_tokens": 35.0}),
				sp(3, root.SpanID, "parse", traces.KindParser, nil)}
			if err := w.Write("", "faq", "", 0, spans); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		out.Close()
	}
	files, err := traffic.SpanFiles(dir)
	if err != nil {
		b.Fatal(err)
	}
	cost := func(string, int64, int64) (float64, bool) { return 0.0001, true }
	var live uint64
	for b.Loop() {
		sum, err := traffic.Read(context.Background(), files, traffic.Options{Cost: cost})
		if err != nil {
			b.Fatal(err)
		}
		if sum.Spans != 4*traceCount || sum.Traces != traceCount {
			b.Fatalf("%d spans, %d traces", sum.Spans, sum.Traces)
		}
		_ = sum.Dashboards()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		live = max(live, ms.HeapAlloc)
		runtime.KeepAlive(sum)
	}
	b.ReportMetric(float64(4*traceCount*b.N)/b.Elapsed().Seconds(), "spans/s")
	b.ReportMetric(float64(live)/(1<<20), "live-MiB")
}
