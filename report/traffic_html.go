package report

import (
	"fmt"
	"io"

	"github.com/gavel-eval/gavel/report/traffic"
	"github.com/gavel-eval/gavel/traces"
)

// htmlTraffic is the traffic page's data: the summary with its trace
// table, and the dashboards of every period and grouping.
type htmlTraffic struct {
	Dir        string                       `json:"dir"`
	Key        string                       `json:"key,omitempty"` // the viewer's key of the directory
	Summary    *traffic.Summary             `json:"summary"`
	Dashboards map[string]traffic.Dashboard `json:"dashboards"`
	// Chunk is the index into the doc's chunks of the table's spans
	// (-1 when the viewer serves them).
	Chunk int `json:"chunk"`
	// Runs are the scored runs whose scores were joined.
	Runs []string `json:"runs"`
}

// TrafficPage says what a traffic page shows.
type TrafficPage struct {
	// Dir is the directory of the span files, as shown.
	Dir string
	// Key is the viewer's key of the directory (the run parameter of
	// trace requests); empty for a file.
	Key string
	// Files are the span files the summary read: a page file embeds
	// the spans of its table's traces from them.
	Files []string
	// Scores are the scored runs joined, as shown.
	Scores []string
}

// WriteTrafficHTML writes the traffic page of sum: a trace table with
// filters (user, session, service, model, status, text), each trace's
// timeline by kind with failed spans in red and span details, and the
// dashboard of the traffic per hour or day (traces, error rate, tokens,
// cost, latency percentiles, score means), overall or by model, user,
// session or service. Without o.TraceURL the spans of the table's traces
// are embedded; with it they are fetched from the viewer. Every value
// from the spans is data to the page, as in WriteHTML.
func WriteTrafficHTML(w io.Writer, sum *traffic.Summary, p TrafficPage, o HTMLOptions) error {
	o.defaults()
	title := "gavel · traffic · " + p.Dir
	doc := &htmlDoc{Version: 1, Mode: "traffic", Title: title, Generator: o.Generator, Live: o.Live,
		Sides: []htmlSide{{Name: p.Dir, Run: 0}}, Judges: []htmlJudge{}, Runs: []htmlRun{{Key: p.Key, Name: p.Dir, Dir: p.Dir}},
		Chunks: []string{}, TraceURL: o.TraceURL, MaxText: o.MaxText}
	shown := *sum
	if o.ShowPath != nil {
		shown.Files = make([]string, len(sum.Files))
		for i, f := range sum.Files {
			shown.Files[i] = o.ShowPath(f)
		}
	}
	t := &htmlTraffic{Dir: p.Dir, Key: p.Key, Summary: &shown, Dashboards: sum.Dashboards(), Chunk: -1, Runs: p.Scores}
	if t.Runs == nil {
		t.Runs = []string{}
	}
	if o.TraceURL == "" {
		chunk, err := trafficSpans(p.Files, sum.Table, o.MaxText)
		if err != nil {
			return err
		}
		t.Chunk = 0
		doc.Chunks = append(doc.Chunks, chunk)
	}
	doc.Traffic = t
	var err error
	if doc.Rows, err = packJSON([]htmlRow{}); err != nil {
		return err
	}
	return writePage(w, doc, o.Live)
}

// trafficSpans packs the spans of the table's traces, by trace id.
func trafficSpans(files []string, table []traffic.Trace, maxText int) (string, error) {
	want := make(map[string]bool, len(table))
	for _, t := range table {
		want[t.TraceID] = true
	}
	byTrace := map[string][]timedSpan{}
	seen := map[string]bool{}
	for _, f := range files {
		err := traces.ReadFile(f, func(rec traces.Record) error {
			if !want[rec.TraceID] {
				return nil
			}
			key := rec.TraceID + "/" + rec.SpanID
			if rec.SpanID != "" && seen[key] {
				return nil // exported twice
			}
			seen[key] = true
			byTrace[rec.TraceID] = append(byTrace[rec.TraceID], timedSpan{rec.Start, spanOf(rec, maxText)})
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("reading spans: %w", err)
		}
	}
	out := make(map[string][]htmlSpan, len(byTrace))
	for id, ts := range byTrace {
		out[id] = relative(ts)
	}
	return packJSON(out)
}
