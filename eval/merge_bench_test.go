package eval_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/eval"
	"github.com/gavel-eval/gavel/eval/results"
)

// BenchmarkMergeShards merges 4 shard runs of 250,000 results each (one
// variant, a score a result) into one run of a million results, and
// reports rows per second and the highest live heap sampled during the
// merge.
func BenchmarkMergeShards(b *testing.B) {
	const shards, perShard = 4, 250_000
	dir := b.TempDir()
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for s := 1; s <= shards; s++ {
		sd := filepath.Join(dir, "shards", fmt.Sprint(s))
		os.MkdirAll(sd, 0o755)
		rf, _ := os.Create(filepath.Join(sd, results.ResultsFile))
		sf, _ := os.Create(filepath.Join(sd, results.ScoresFile))
		rw, err := results.NewResultWriter(rf)
		if err != nil {
			b.Fatal(err)
		}
		sw, _ := results.NewScoreWriter(sf)
		score := 1.0
		for i := range perShard {
			idx := int64(i*shards + s - 1) // shard s holds every 4th example
			id := fmt.Sprintf("e%07d", idx)
			rw.Write(results.Result{RunID: "r", Variant: "v", ExampleID: id, ExampleIndex: idx, Status: results.StatusOK,
				Input: `{"q":"What is 2 + 2?"}`, Output: "4", Steps: "{}", TraceID: id, StartedAt: t0})
			sw.Write(results.Score{RunID: "r", Variant: "v", ExampleID: id, ExampleIndex: idx, Judge: "j", Status: results.ScoreOK, Score: &score})
		}
		rw.Close()
		sw.Close()
		rf.Close()
		sf.Close()
		m := &results.Manifest{RunID: "r", Status: results.RunCompleted, SpecHash: "h", Variants: []results.Variant{{Name: "v", Hash: "x"}},
			Dataset: results.Dataset{Fingerprint: "f", Examples: perShard}, Repeat: 1, Shard: &results.Shard{Index: s, Count: shards},
			Totals: results.Totals{Results: perShard, Scores: perShard}}
		if err := results.WriteManifest(sd, m); err != nil {
			b.Fatal(err)
		}
	}
	var dirs []string
	for s := 1; s <= shards; s++ {
		dirs = append(dirs, filepath.Join(dir, "shards", fmt.Sprint(s)))
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var peak uint64
	n := 0
	for b.Loop() {
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			tick := time.NewTicker(200 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					runtime.GC()
					metrics.Read(sample)
					peak = max(peak, sample[0].Value.Uint64())
				}
			}
		}()
		n++
		m, err := eval.MergeShards(b.Context(), dirs, filepath.Join(dir, fmt.Sprintf("merged-%d", n)), eval.MergeOptions{})
		close(stop)
		<-done
		if err != nil {
			b.Fatal(err)
		}
		if m.Totals.Results != shards*perShard {
			b.Fatalf("%d results", m.Totals.Results)
		}
	}
	b.ReportMetric(float64(2*shards*perShard*b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-live-MiB")
}
