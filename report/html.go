package report

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/internal/redact"
	"github.com/gavel-eval/gavel/traces"
)

// HTMLOptions tune the HTML report and the pages of the viewer. The zero
// value writes a self-contained report with every trace embedded.
type HTMLOptions struct {
	// MaxText is the longest text, in characters, kept of one string (an
	// input, output, error, span input or output) in the page; longer ones
	// are cut and say how much was left out (default 20,000). The stored
	// run keeps everything.
	MaxText int
	// TraceURL, when set, makes the page fetch a trace's spans from
	// TraceURL followed by the URL-escaped trace id instead of embedding
	// them (the viewer).
	TraceURL string
	// RunKeys, with TraceURL, names each run of the report for the
	// viewer's URLs: run id -> key.
	RunKeys map[string]string
	// Generator names the program that wrote the page ("gavel v1.2.3").
	Generator string
	// Live marks a page served by the viewer (links back to its index and
	// loads traces from it); CSP then allows requests to the page's origin.
	Live bool
	// ShowPath, when set, maps each filesystem path the page shows (the
	// runs' directories, in the architecture view and in the embedded
	// JSON report, and their spec and dataset paths) to the text shown
	// instead: the viewer shows them relative to what it serves.
	ShowPath func(string) string
}

func (o *HTMLOptions) defaults() {
	if o.MaxText <= 0 {
		o.MaxText = 20000
	}
	if o.Generator == "" {
		o.Generator = "gavel"
	}
}

// tracesPerChunk is how many traces share one compressed block of the
// page: opening a trace inflates only its block.
const tracesPerChunk = 200

// htmlDoc is the document the page's script renders: every view (trace
// table, timeline, architecture, comparison, charts) reads it and nothing
// else. docs/html-report.md describes it.
type htmlDoc struct {
	Version   int    `json:"version"`
	Mode      string `json:"mode"` // report, compare or index
	Title     string `json:"title"`
	Generator string `json:"generator"`
	Live      bool   `json:"live,omitempty"`
	// Report is the JSON report (docs/report-json.md).
	Report json.RawMessage `json:"report,omitempty"`
	Sides  []htmlSide      `json:"sides"`
	Judges []htmlJudge     `json:"judges"`
	Runs   []htmlRun       `json:"runs"`
	// Rows is base64(gzip(JSON array of htmlRow)); RowCount their number.
	Rows     string `json:"rows"`
	RowCount int    `json:"row_count"`
	// Chunks hold the spans: base64(gzip(JSON object trace id -> spans)).
	// A row's C is the index of the chunk holding its trace.
	Chunks []string `json:"chunks"`
	// TraceURL, when set, replaces Chunks: fetch TraceURL+trace id.
	TraceURL string `json:"trace_url,omitempty"`
	MaxText  int    `json:"max_text"`
	// Index lists runs (the viewer's home page).
	Index []IndexEntry `json:"index,omitempty"`
	// Traffic is the traffic page's data (mode traffic).
	Traffic *htmlTraffic `json:"traffic,omitempty"`
}

// htmlSide is one column of the comparison: a variant of a run.
type htmlSide struct {
	Name    string `json:"name"`
	RunID   string `json:"run_id"`
	Variant string `json:"variant"`
	Run     int    `json:"run"` // index into Runs
}

type htmlJudge struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// htmlRun is a run's architecture: the chain and judges as the run
// resolved them, per variant, with secrets removed.
type htmlRun struct {
	RunID     string                 `json:"run_id"`
	Key       string                 `json:"key,omitempty"`
	Name      string                 `json:"name"`
	Dir       string                 `json:"dir"`
	Status    results.RunStatus      `json:"status"`
	Mode      results.Mode           `json:"mode,omitempty"`
	StartedAt string                 `json:"started_at"`
	EndedAt   string                 `json:"ended_at,omitempty"`
	SpecPath  string                 `json:"spec_path"`
	SpecHash  string                 `json:"spec_hash"`
	Spec      string                 `json:"spec"`
	Dataset   results.Dataset        `json:"dataset"`
	Git       *results.Git           `json:"git,omitempty"`
	Tool      results.Tool           `json:"tool"`
	Totals    results.Totals         `json:"totals"`
	Repeat    int                    `json:"repeat"`
	Variants  []htmlArchitect        `json:"variants"`
	Judges    []results.Judge        `json:"judges"`
	Metrics   []results.CorpusMetric `json:"metrics"`
}

// htmlArchitect is one variant's resolved chain.
type htmlArchitect struct {
	Name     string            `json:"name"`
	Model    string            `json:"model,omitempty"`
	Provider string            `json:"provider,omitempty"`
	BaseURL  string            `json:"base_url,omitempty"`
	Params   any               `json:"params,omitempty"`
	Prompt   *results.Prompt   `json:"prompt,omitempty"`
	Vars     map[string]any    `json:"vars,omitempty"`
	Steps    []results.Step    `json:"steps"`
	Hash     string            `json:"hash"`
	Flat     map[string]string `json:"flat"` // dotted key -> value, for highlighting differences
}

// htmlRow is one result: a variant × example × epoch.
type htmlRow struct {
	Side       int            `json:"s"`
	ID         string         `json:"id"`
	Index      int64          `json:"i"`
	Epoch      int32          `json:"e"`
	Status     results.Status `json:"st"`
	Input      string         `json:"in"`
	Output     string         `json:"out"`
	Expected   *string        `json:"exp"`
	Error      *string        `json:"err"`
	FailedStep *string        `json:"fs"`
	LatencyMS  float64        `json:"lat"`
	Prompt     int64          `json:"pt"`
	Completion int64          `json:"ct"`
	CostUSD    *float64       `json:"cost"`
	TraceID    string         `json:"tr"`
	Chunk      int            `json:"c"`
	Scores     []*htmlMark    `json:"j"` // aligned with Judges; null when the judge has no row
}

// htmlMark is one judge's verdict on a row.
type htmlMark struct {
	Status results.ScoreStatus `json:"st"`
	Score  *float64            `json:"s"`
	Pass   *bool               `json:"p"`
	Label  *string             `json:"l,omitempty"`
	Reason *string             `json:"r,omitempty"`
	Error  *string             `json:"e,omitempty"`
	SpanID string              `json:"sp,omitempty"`
}

// htmlSpan is one span of a trace. T is its start in milliseconds after
// the trace's first span started; D its duration in milliseconds.
type htmlSpan struct {
	ID     string         `json:"id"`
	Parent string         `json:"p,omitempty"`
	Name   string         `json:"n"`
	Kind   string         `json:"k"`
	T      float64        `json:"t"`
	D      float64        `json:"d"`
	Status string         `json:"st"`
	Error  string         `json:"err,omitempty"`
	Input  string         `json:"in"`
	Output string         `json:"out"`
	Attrs  map[string]any `json:"a,omitempty"`
	// Thumbs are the images of the span's input kept as data URLs
	// (store_images), shown as thumbnails; the input names them.
	Thumbs []string `json:"th,omitempty"`
}

// IndexEntry is one run in the viewer's list.
type IndexEntry struct {
	Key       string            `json:"key"`
	RunID     string            `json:"run_id"`
	Name      string            `json:"name"`
	Dir       string            `json:"dir"`
	Status    results.RunStatus `json:"status"`
	Mode      results.Mode      `json:"mode,omitempty"`
	StartedAt string            `json:"started_at"`
	Variants  []string          `json:"variants"`
	Results   int64             `json:"results"`
	Errors    int64             `json:"errors"`
	CostUSD   float64           `json:"cost_usd"`
	Error     string            `json:"error,omitempty"` // why the run could not be read
	// Files is, for a directory of collected spans (Mode "traffic"), how
	// many span files it holds.
	Files int `json:"files,omitempty"`
}

// buildHTMLDoc reads, for every side of r, its rows, scores and (unless
// o.TraceURL is set) spans from the run directories r.Runs name.
func buildHTMLDoc(r *Report, o HTMLOptions) (*htmlDoc, error) {
	o.defaults()
	shown := r
	if o.ShowPath != nil {
		c := *r
		c.Runs = make([]RunRef, len(r.Runs))
		for i, ref := range r.Runs {
			ref.Dir = o.ShowPath(ref.Dir)
			c.Runs[i] = ref
		}
		shown = &c
	}
	rep, err := marshalReportJSON(shown)
	if err != nil {
		return nil, err
	}
	doc := &htmlDoc{Version: 1, Mode: r.Kind, Generator: o.Generator, Live: o.Live, Report: rep,
		Sides: []htmlSide{}, Judges: []htmlJudge{}, Runs: []htmlRun{}, Chunks: []string{},
		TraceURL: o.TraceURL, MaxText: o.MaxText}
	if doc.Mode == "" {
		doc.Mode = "report"
	}
	runIndex := map[string]int{}
	dirs := map[string]string{}
	for _, ref := range r.Runs {
		m, err := results.ReadManifest(ref.Dir)
		if err != nil {
			return nil, err
		}
		runIndex[ref.RunID] = len(doc.Runs)
		dirs[ref.RunID] = ref.Dir
		hr := architecture(m, ref.Dir, o.RunKeys[ref.RunID])
		if o.ShowPath != nil {
			hr.Dir, hr.SpecPath, hr.Dataset.Path = o.ShowPath(hr.Dir), o.ShowPath(hr.SpecPath), o.ShowPath(hr.Dataset.Path)
		}
		doc.Runs = append(doc.Runs, hr)
	}
	judgeIndex := map[string]int{}
	addJudge := func(name, typ string) int {
		if i, ok := judgeIndex[name]; ok {
			return i
		}
		judgeIndex[name] = len(doc.Judges)
		doc.Judges = append(doc.Judges, htmlJudge{name, typ})
		return len(doc.Judges) - 1
	}
	for _, v := range r.Variants {
		ri, ok := runIndex[v.Run]
		if !ok {
			return nil, fmt.Errorf("html report: variant %s names run %s, which the report does not list", v.Name, v.Run)
		}
		doc.Sides = append(doc.Sides, htmlSide{Name: v.Name, RunID: v.Run, Variant: v.Variant, Run: ri})
		for _, j := range v.Judges {
			addJudge(j.Judge, j.Type)
		}
	}
	names := make([]string, len(doc.Sides))
	for i, s := range doc.Sides {
		names[i] = s.Name
	}
	doc.Title = titleOf(r, names)

	var rows []htmlRow
	// Each run's rows are read once, for all of its sides: while Build
	// computed the statistics (Options.HTML), or now.
	for _, ref := range r.Runs {
		sides := map[string]int{} // variant -> side index
		for i, s := range doc.Sides {
			if s.RunID == ref.RunID {
				sides[s.Variant] = i
			}
		}
		if len(sides) == 0 {
			continue
		}
		pr, err := r.page.run(ref.Dir, sides, o)
		if err != nil {
			return nil, err
		}
		for i, row := range pr.rows {
			si, ok := sides[pr.of[i].variant]
			if !ok {
				continue
			}
			row.Side = si
			row.Scores = make([]*htmlMark, len(doc.Judges))
			for name, mark := range pr.of[i].marks {
				if ji, ok := judgeIndex[name]; ok {
					row.Scores[ji] = mark
				}
			}
			if row.Chunk >= 0 {
				row.Chunk += len(doc.Chunks)
			}
			rows = append(rows, row)
		}
		doc.Chunks = append(doc.Chunks, pr.chunks...)
	}
	doc.RowCount = len(rows)
	if doc.Rows, err = packJSON(rows); err != nil {
		return nil, err
	}
	return doc, nil
}

// embedSpans packs the spans of rows' traces into chunks of
// tracesPerChunk traces each, returned in order, and sets every row's
// chunk index among them (-1 for none).
func embedSpans(rows []htmlRow, path string, maxText int) ([]string, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		// A run scored without LLM judges records no traces.
		for i := range rows {
			rows[i].Chunk = -1
		}
		return nil, nil
	}
	chunkOf := map[string]int{}
	for i := range rows {
		tr := rows[i].TraceID
		if tr == "" {
			rows[i].Chunk = -1
			continue
		}
		c, ok := chunkOf[tr]
		if !ok {
			c = len(chunkOf) / tracesPerChunk
			chunkOf[tr] = c
		}
		rows[i].Chunk = c
	}
	nchunks := (len(chunkOf) + tracesPerChunk - 1) / tracesPerChunk
	// A chunk is packed as soon as the last of its spans is read, so that
	// only the chunks being read are held unpacked: a first pass over the
	// trace ids alone counts the spans each chunk waits for.
	waiting := make([]int, nchunks)
	err := traces.ReadTraceIDs(path, func(tr string) error {
		if c, ok := chunkOf[tr]; ok {
			waiting[c]++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	chunks := make([]map[string][]timedSpan, nchunks)
	packed := make([]string, nchunks)
	pack := func(spans map[string][]timedSpan) (string, error) {
		out := make(map[string][]htmlSpan, len(spans))
		for tr, ts := range spans {
			out[tr] = relative(ts)
		}
		return packJSON(out)
	}
	for c := range waiting {
		if waiting[c] == 0 {
			// None of the block's traces has spans in the file.
			if packed[c], err = pack(nil); err != nil {
				return nil, err
			}
		}
	}
	// A packer goroutine compresses the finished blocks while the file is
	// read; at most two wait for it.
	type block struct {
		c     int
		spans map[string][]timedSpan
	}
	blocks := make(chan block, 2)
	var packErr error
	packerDone := make(chan struct{})
	go func() {
		defer close(packerDone)
		for b := range blocks {
			if packErr == nil {
				packed[b.c], packErr = pack(b.spans)
			}
		}
	}()
	err = traces.ReadFile(path, func(rec traces.Record) error {
		c, ok := chunkOf[rec.TraceID]
		if !ok {
			return nil
		}
		if waiting[c] == 0 {
			return errChangedWhileRead(path)
		}
		if chunks[c] == nil {
			chunks[c] = map[string][]timedSpan{}
		}
		chunks[c][rec.TraceID] = append(chunks[c][rec.TraceID], timedSpan{rec.Start, spanOf(rec, maxText)})
		if waiting[c]--; waiting[c] == 0 {
			blocks <- block{c, chunks[c]}
			chunks[c] = nil
		}
		return nil
	})
	close(blocks)
	<-packerDone
	if err != nil {
		return nil, err
	}
	if packErr != nil {
		return nil, packErr
	}
	for c := range waiting {
		if waiting[c] != 0 {
			return nil, errChangedWhileRead(path)
		}
	}
	return packed, nil
}

func errChangedWhileRead(path string) error {
	return fmt.Errorf("html report: %s changed while it was read", path)
}

// timedSpan is a converted span and its absolute start.
type timedSpan struct {
	start time.Time
	span  htmlSpan
}

// relative returns a trace's spans in start order, each T set to its
// start in milliseconds after the trace's first span started.
func relative(ts []timedSpan) []htmlSpan {
	sort.SliceStable(ts, func(a, b int) bool { return ts[a].start.Before(ts[b].start) })
	spans := make([]htmlSpan, len(ts))
	for i, t := range ts {
		spans[i] = t.span
		spans[i].T = ms(t.start.Sub(ts[0].start))
	}
	return spans
}

// ErrNoTrace is returned for a trace id a run does not hold.
var ErrNoTrace = errors.New("no such trace")

// TraceIndex locates the rows of each trace in span files — a run's
// traces.parquet, collected span files, or both — so one trace is read on
// demand without decoding the whole files (the viewer's trace endpoint).
// It is built with one pass over each file and holds only ids and row
// numbers. It is safe for concurrent use once built.
type TraceIndex struct {
	paths   []string
	maxText int
	ranges  map[string][]rowRange
}

// rowRange is n consecutive rows of one file, from row start.
type rowRange struct {
	file     int
	start, n int64
}

// NewTraceIndex indexes the traces of the run in runDir. maxText is the
// longest text kept of a span's input, output or error (default 20,000).
func NewTraceIndex(runDir string, maxText int) (*TraceIndex, error) {
	path := filepath.Join(runDir, results.TracesFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return NewSpanIndex(nil, maxText) // a run scored without LLM judges records no traces
	}
	return NewSpanIndex([]string{path}, maxText)
}

// NewSpanIndex indexes every trace of the span files (see NewTraceIndex
// for maxText).
func NewSpanIndex(files []string, maxText int) (*TraceIndex, error) {
	if maxText <= 0 {
		maxText = 20000
	}
	x := &TraceIndex{maxText: maxText, ranges: map[string][]rowRange{}}
	for _, f := range files {
		if err := x.add(f, false); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// Join adds the spans of files whose traces the index already holds: an
// application's collected spans that continue a run's traces (a chain
// step passed them its traceparent) then show in the run's timelines,
// under the step's span.
func (x *TraceIndex) Join(files []string) error {
	for _, f := range files {
		if err := x.add(f, true); err != nil {
			return err
		}
	}
	return nil
}

func (x *TraceIndex) add(path string, known bool) error {
	file := len(x.paths)
	x.paths = append(x.paths, path)
	var row int64
	err := traces.ReadFile(path, func(rec traces.Record) error {
		defer func() { row++ }()
		rs, ok := x.ranges[rec.TraceID]
		if known && !ok {
			return nil
		}
		if n := len(rs); n > 0 && rs[n-1].file == file && rs[n-1].start+rs[n-1].n == row {
			rs[n-1].n++
		} else {
			x.ranges[rec.TraceID] = append(rs, rowRange{file, row, 1})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("indexing traces: %w", err)
	}
	return nil
}

// Traces is the number of traces indexed.
func (x *TraceIndex) Traces() int { return len(x.ranges) }

// SpansJSON returns the spans of one trace as the page's JSON array
// (docs/html-report.md), in start order, or ErrNoTrace.
func (x *TraceIndex) SpansJSON(traceID string) ([]byte, error) {
	rs, ok := x.ranges[traceID]
	if !ok {
		return nil, fmt.Errorf("trace %q: %w", traceID, ErrNoTrace)
	}
	ts := []timedSpan{}
	seen := map[string]bool{}
	for _, r := range rs {
		err := traces.ReadRows(x.paths[r.file], r.start, r.n, func(rec traces.Record) error {
			// A span exported twice (a retried OTLP batch) is shown once.
			if rec.TraceID == traceID && (rec.SpanID == "" || !seen[rec.SpanID]) {
				seen[rec.SpanID] = true
				ts = append(ts, timedSpan{rec.Start, spanOf(rec, x.maxText)})
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("trace %s: %w", traceID, err)
		}
	}
	spans := relative(ts)
	return json.Marshal(spans)
}

// spanOf converts a stored span (T is set by relative).
func spanOf(rec traces.Record, maxText int) htmlSpan {
	input, thumbs := takeImages(rec.Input)
	return htmlSpan{ID: rec.SpanID, Parent: rec.ParentID, Name: rec.Name, Kind: string(rec.Kind),
		D: ms(rec.End.Sub(rec.Start)), Status: string(rec.Status), Error: cut(rec.Error, maxText),
		Input: cut(input, maxText), Output: cut(rec.Output, maxText), Attrs: redactMap(rec.Attributes), Thumbs: thumbs}
}

// Thumbnail limits: how many images of a span a page holds, and the
// largest data URL kept.
const (
	maxThumbs     = 4
	maxThumbBytes = 512 << 10
)

// thumbURL is a data URL of a raster image the page may show.
var thumbURL = regexp.MustCompile(`^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/]+={0,2}$`)

// takeImages moves the data URL images of a span's input (chat messages
// with image parts, recorded whole with store_images) out of it: the
// input names each as [image: N] instead, and the images (PNG, JPEG, GIF
// or WebP, at most maxThumbs of at most maxThumbBytes) are returned for
// thumbnails. Any other input is returned as it is.
func takeImages(input string) (string, []string) {
	if !strings.Contains(input, `"data:image/`) {
		return input, nil
	}
	var msgs []map[string]any
	if json.Unmarshal([]byte(input), &msgs) != nil {
		return input, nil
	}
	var thumbs []string
	for _, m := range msgs {
		parts, _ := m["parts"].([]any)
		for _, p := range parts {
			part, _ := p.(map[string]any)
			url, _ := part["image_url"].(string)
			if !strings.HasPrefix(url, "data:image/") {
				continue
			}
			note := fmt.Sprintf("[image: %d bytes of data URL, not kept]", len(url))
			if len(thumbs) < maxThumbs && len(url) <= maxThumbBytes && thumbURL.MatchString(url) {
				thumbs = append(thumbs, url)
				note = fmt.Sprintf("[image %d, shown below]", len(thumbs))
			}
			part["image_url"] = note
		}
	}
	b, err := json.Marshal(msgs)
	if err != nil {
		return input, nil
	}
	return string(b), thumbs
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func orZero(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}

// packJSON encodes v as base64(gzip(JSON)).
func packJSON(v any) (string, error) {
	var buf bytes.Buffer
	b64 := base64.NewEncoder(base64.StdEncoding, &buf)
	zw, err := gzip.NewWriterLevel(b64, gzip.BestSpeed)
	if err != nil {
		return "", err
	}
	enc := json.NewEncoder(zw)
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("html report: encoding data: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	if err := b64.Close(); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// cut keeps at most n characters of s, saying how many it left out.
func cut(s string, n int) string {
	if len(s) <= n || utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos] + fmt.Sprintf("… [%d more characters in the stored run]", utf8.RuneCountInString(s[pos:]))
		}
		i++
	}
	return s
}

func cutp(s *string, n int) *string {
	if s == nil {
		return nil
	}
	c := cut(*s, n)
	return &c
}

func titleOf(r *Report, sides []string) string {
	name := ""
	if len(r.Runs) > 0 {
		name = r.Runs[0].Name
	}
	if name == "" && len(r.Runs) > 0 {
		name = r.Runs[0].RunID
	}
	if r.Kind == "compare" && len(r.Runs) == 2 {
		return fmt.Sprintf("gavel · %s: %s vs %s", name, r.Runs[0].RunID, r.Runs[1].RunID)
	}
	if r.Kind == "compare" {
		return fmt.Sprintf("gavel · %s: %s", name, strings.Join(sides, " vs "))
	}
	return "gavel · " + name
}

// architecture is what the architecture view shows of a run.
func architecture(m *results.Manifest, dir, key string) htmlRun {
	hr := htmlRun{RunID: m.RunID, Key: key, Name: m.Name, Dir: dir, Status: m.Status, Mode: m.Mode,
		StartedAt: stamp(m.StartedAt), EndedAt: stamp(m.EndedAt), SpecPath: m.SpecPath, SpecHash: m.SpecHash,
		Spec: redactText(m.Spec), Dataset: m.Dataset, Git: m.Git, Tool: m.Tool, Totals: m.Totals, Repeat: m.Repeat,
		Variants: []htmlArchitect{}, Judges: []results.Judge{}, Metrics: []results.CorpusMetric{}}
	hr.Dataset.Path = redactURL(hr.Dataset.Path)
	for _, v := range m.Variants {
		a := htmlArchitect{Name: v.Name, Model: v.Model, Provider: v.Provider, BaseURL: redactURL(v.BaseURL),
			Prompt: v.Prompt, Vars: redactMap(v.Vars), Hash: v.Hash, Steps: []results.Step{}}
		if len(v.Params) > 0 {
			var p any
			if json.Unmarshal(v.Params, &p) == nil {
				a.Params = redactValue("", p)
			}
		}
		for _, s := range v.Steps {
			a.Steps = append(a.Steps, results.Step{Name: s.Name, Kind: s.Kind, Config: redactMap(s.Config)})
		}
		a.Flat = map[string]string{}
		flatten(a.Flat, "model", a.Model)
		flatten(a.Flat, "provider", a.Provider)
		flatten(a.Flat, "base_url", a.BaseURL)
		flatten(a.Flat, "params", a.Params)
		if a.Prompt != nil {
			flatten(a.Flat, "prompt.ref", a.Prompt.Ref)
			if a.Prompt.Name != "" {
				flatten(a.Flat, "prompt.version", a.Prompt.Name+"@"+a.Prompt.Version)
			}
			flatten(a.Flat, "prompt.label", a.Prompt.Label)
			flatten(a.Flat, "prompt.file", a.Prompt.File)
			flatten(a.Flat, "prompt.hash", a.Prompt.Hash)
			for i, msg := range a.Prompt.Messages {
				flatten(a.Flat, fmt.Sprintf("prompt.messages.%d.%s", i, msg.Role), msg.Content)
			}
		}
		if c := v.Config; c != nil {
			flatten(a.Flat, "config", c.Name+"@"+c.Version)
			flatten(a.Flat, "config.label", c.Label)
			flatten(a.Flat, "config.hash", c.Hash)
		}
		flatten(a.Flat, "vars", anyMap(a.Vars))
		for _, s := range a.Steps {
			flatten(a.Flat, "steps."+s.Name+".kind", s.Kind)
			flatten(a.Flat, "steps."+s.Name, anyMap(s.Config))
		}
		hr.Variants = append(hr.Variants, a)
	}
	for _, j := range m.Judges {
		hr.Judges = append(hr.Judges, results.Judge{Name: j.Name, Type: j.Type, Config: redactMap(j.Config), Hash: j.Hash})
	}
	hr.Metrics = append(hr.Metrics, m.Metrics...)
	return hr
}

func anyMap(m map[string]any) any {
	if m == nil {
		return nil
	}
	return m
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// flatten writes v's leaves into out under dotted keys.
func flatten(out map[string]string, prefix string, v any) {
	switch x := v.(type) {
	case nil:
		return
	case string:
		if x != "" {
			out[prefix] = x
		}
	case map[string]any:
		for k, e := range x {
			flatten(out, prefix+"."+k, e)
		}
	case []any:
		for i, e := range x {
			flatten(out, fmt.Sprintf("%s.%d", prefix, i), e)
		}
	default:
		b, err := json.Marshal(x)
		if err != nil {
			out[prefix] = fmt.Sprint(x)
			return
		}
		if s := string(b); s != "null" {
			out[prefix] = s
		}
	}
}

// redacted replaces a secret value.
const redacted = redact.Mark

// redactMap returns a copy of m with secret values replaced, URLs without
// credentials, and nested maps and lists handled alike. Token counts
// (prompt_tokens, ...) are numbers, not secrets, and are kept.
func redactMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = redactValue(k, v)
	}
	return out
}

func redactValue(key string, v any) any {
	if str, ok := v.(string); ok && key != "" && str != "" && redact.IsSecretName(key) {
		return redacted
	}
	switch x := v.(type) {
	case map[string]any:
		return redactMap(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactValue("", e)
		}
		return out
	case string:
		if strings.Contains(x, "://") {
			return redactURL(x)
		}
		if strings.HasPrefix(strings.ToLower(x), "bearer ") {
			return "Bearer " + redacted
		}
		return x
	default:
		return v
	}
}

// secretLine matches a YAML or JSON "key: value" whose key names a
// credential, with the value (quoted or bare) in group 2.
var secretLine = regexp.MustCompile(`(?im)((?:^|[\s{,])["']?[\w.-]*(?:authorization|api[_\-]?key|apikey|token|secret|password|passwd|credential|cookie|private[_\-]?key|access[_\-]?key)s?["']?\s*:[ \t]*)("[^"\n]*"|'[^'\n]*'|[^\s,}\]#]+)`)

// redactText removes credentials from free text such as the spec's YAML:
// values of keys named like credentials (not numbers or booleans:
// max_tokens: 100 stays), bearer tokens and URL credentials (redact.Text).
func redactText(s string) string {
	s = secretLine.ReplaceAllStringFunc(s, func(m string) string {
		sub := secretLine.FindStringSubmatch(m)
		v := strings.Trim(sub[2], `"'`)
		if v == "" || v == "true" || v == "false" || v == "null" || isNumber(v) {
			return m
		}
		return sub[1] + `"` + redacted + `"`
	})
	return redact.Text(s)
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// redactURL removes credentials from a URL: its user info and the values
// of query parameters with secret-like names.
func redactURL(s string) string {
	return redact.URL(s)
}
