package cli

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"

	"github.com/gavel-eval/gavel/eval"
	"github.com/gavel-eval/gavel/report/traffic"
	"github.com/gavel-eval/gavel/traces"
)

// traceSelection is what gavel score --traces scores.
type traceSelection struct {
	dir    string
	kind   string  // --span-kind: spans of this kind (default: root spans)
	name   string  // --span-name: spans of this name
	sample float64 // --sample-rate: the share of traces kept, by a hash of the trace id
}

// traceRow is one selected span as a row to score.
type traceRow struct {
	TraceID    string         `json:"trace_id"`
	SpanID     string         `json:"span_id"`
	Name       string         `json:"name"`
	Kind       string         `json:"kind"`
	Service    string         `json:"service"`
	Session    string         `json:"session_id"`
	User       string         `json:"user_id"`
	Model      string         `json:"model"`
	Status     string         `json:"status"`
	Error      string         `json:"error"`
	Input      string         `json:"input"`
	Output     string         `json:"output"`
	Start      string         `json:"start"`
	DurationMS float64        `json:"duration_ms"`
	Attributes map[string]any `json:"attributes"`
}

// keepTrace reports whether a trace is in a sample of rate: a hash of its
// id, so that the same traces are chosen every time.
func keepTrace(traceID string, rate float64) bool {
	if rate >= 1 {
		return true
	}
	h := sha256.Sum256([]byte(traceID))
	return float64(binary.BigEndian.Uint64(h[:8])>>11)/float64(1<<53) < rate
}

// spanKey identifies a span of a trace in 8 bytes.
func spanKey(traceID, spanID string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(traceID))
	h.Write([]byte{0})
	h.Write([]byte(spanID))
	return h.Sum64()
}

// extractTraces writes the selected spans of every Parquet file under
// sel.dir (collected spans-*.parquet files or a run's traces.parquet) to
// a JSONL file in tmp, and returns its path and row count.
func extractTraces(sel traceSelection, tmp string) (string, int, error) {
	files, err := traffic.SpanFiles(sel.dir)
	if err != nil {
		return "", 0, fmt.Errorf("--traces %s: %w", sel.dir, err)
	}
	// A root is a span without a parent, or whose parent was not
	// collected: an application's spans that continue a caller's trace
	// (a gavel run's step) have their root in the caller.
	var present map[uint64]struct{}
	if sel.kind == "" && sel.name == "" {
		present = map[uint64]struct{}{}
		for _, file := range files {
			err := traces.ReadHeads(file, func(h traces.SpanHead) error {
				present[spanKey(h.TraceID, h.SpanID)] = struct{}{}
				return nil
			})
			if err != nil {
				return "", 0, fmt.Errorf("--traces: %w", err)
			}
		}
	}
	isRoot := func(r traces.Record) bool {
		if r.ParentID == "" {
			return true
		}
		_, ok := present[spanKey(r.TraceID, r.ParentID)]
		return !ok
	}
	path := filepath.Join(tmp, "spans.jsonl")
	f, err := os.Create(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	n := 0
	seen := map[string]bool{}
	for _, file := range files {
		err := traces.ReadFile(file, func(r traces.Record) error {
			switch {
			case sel.kind != "" && string(r.Kind) != sel.kind,
				sel.name != "" && r.Name != sel.name,
				sel.kind == "" && sel.name == "" && !isRoot(r),
				!keepTrace(r.TraceID, sel.sample):
				return nil
			}
			if sel.kind == "" && sel.name == "" && r.Kind == traces.KindJudge {
				return nil // a judge's own span in a run's traces
			}
			key := r.TraceID + "/" + r.SpanID
			if seen[key] {
				return nil
			}
			seen[key] = true
			str := func(k string) string { s, _ := r.Attributes[k].(string); return s }
			row := traceRow{TraceID: r.TraceID, SpanID: r.SpanID, Name: r.Name, Kind: string(r.Kind), Service: r.Variant,
				Session: str("session_id"), User: str("user_id"), Model: str("model"), Status: string(r.Status), Error: r.Error,
				Input: r.Input, Output: r.Output, Start: r.Start.UTC().Format("2006-01-02T15:04:05.000000Z"),
				DurationMS: float64(r.End.Sub(r.Start).Microseconds()) / 1000, Attributes: r.Attributes}
			if row.Attributes == nil {
				row.Attributes = map[string]any{}
			}
			n++
			return enc.Encode(row)
		})
		if err != nil {
			return "", 0, fmt.Errorf("--traces: %w", err) // the error names the file
		}
	}
	if err := w.Flush(); err != nil {
		return "", 0, err
	}
	if n == 0 {
		return "", 0, fmt.Errorf("--traces %s: no span matches the selection", sel.dir)
	}
	return path, n, f.Close()
}

// traceSpec prepares spec for scoring extracted spans: the output is the
// span's output unless the spec's score section says otherwise, and the
// id the trace id (or trace/span when spans are selected by kind or name).
func traceSpec(spec *eval.Spec, sel traceSelection) {
	if spec.Score == nil {
		spec.Score = &eval.ScoreSpec{Output: "output", LatencyMS: "{{.example.duration_ms}}"}
	}
	if spec.Dataset.ID == "" {
		spec.Dataset.ID = "{{.trace_id}}"
		if sel.kind != "" || sel.name != "" {
			spec.Dataset.ID = "{{.trace_id}}/{{.span_id}}"
		}
	}
	spec.Dataset.Format = "jsonl"
}
