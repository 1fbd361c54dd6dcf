// Package traffic summarises the traces of an application's traffic, as
// gavel collect, gavel import and the observe SDK store them (or as a
// run's traces.parquet holds them): one row per trace for the trace table,
// and the figures of the traffic over time — volume, error rate, tokens,
// cost, latency percentiles and score means per hour or day, overall or by
// model, user, session or service — the metrics view of the hosted
// observability platforms, computed from the Parquet files.
//
// Read streams the span files once and keeps a few dozen bytes per trace
// (strings shared), never the spans' texts; the texts of the traces shown
// in the table are read in a second pass over the files, for those traces
// only.
package traffic

import (
	"context"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/traces"
)

// Filter selects traces. The zero value selects every trace.
type Filter struct {
	// User, Session and Service keep the traces of this user id, session
	// id and service (a collected span's service.name, a run's variant).
	User, Session, Service string
	// Model keeps the traces that called this model.
	Model string
	// ErrorsOnly keeps the traces with a failed span.
	ErrorsOnly bool
}

func (f Filter) keeps(s *state) bool {
	switch {
	case f.User != "" && s.user != f.User,
		f.Session != "" && s.session != f.Session,
		f.Service != "" && s.service != f.Service,
		f.Model != "" && !s.usedModel(f.Model),
		f.ErrorsOnly && !s.failed:
		return false
	}
	return true
}

// CostFunc prices a model call from its tokens; model is
// "provider/model" when the span names its provider (gen_ai.provider.name,
// gen_ai.system, llm.provider); ok is false for a model it does not know. Read uses it for llm spans that carry tokens but no
// cost_usd attribute (what other SDKs send).
type CostFunc func(model string, promptTokens, completionTokens int64) (usd float64, ok bool)

// Options tune Read.
type Options struct {
	Filter Filter
	// Limit is the most traces in Summary.Table, the newest ones (0: 50;
	// negative: every matching trace).
	Limit int
	// Scores are scored runs (gavel score --traces) whose scores join the
	// traces they name: a score row's example id is the trace id, or
	// "trace id/span id" when spans were selected.
	Scores []string
	// Cost prices llm spans without a cost_usd attribute (nil: such
	// spans add no cost).
	Cost CostFunc
	// MaxText is the longest excerpt of a root span's input, output and
	// error kept in the table, in characters (0: 300).
	MaxText int
}

// Trace is one row of the trace table.
type Trace struct {
	TraceID string    `json:"trace_id"`
	Name    string    `json:"name"` // the root span's name
	Kind    string    `json:"kind"` // the root span's kind
	Service string    `json:"service,omitempty"`
	User    string    `json:"user_id,omitempty"`
	Session string    `json:"session_id,omitempty"`
	Model   string    `json:"model,omitempty"` // the model with the most tokens
	Start   time.Time `json:"start"`
	// DurationMS runs from the first span's start to the last span's end.
	DurationMS       float64 `json:"duration_ms"`
	Status           string  `json:"status"` // error when any span failed
	Error            string  `json:"error,omitempty"`
	Spans            int     `json:"spans"`
	PromptTokens     int64   `json:"prompt_tokens"`
	CompletionTokens int64   `json:"completion_tokens"`
	CostUSD          float64 `json:"cost_usd"`
	// Root is false when the trace's root span was not collected (its
	// parent lives in another process that did not export it): Name and
	// Kind are then those of its earliest span.
	Root   bool               `json:"root"`
	Input  string             `json:"input,omitempty"`
	Output string             `json:"output,omitempty"`
	Scores map[string]float64 `json:"scores,omitempty"` // judge -> mean score
}

// Count is a value and how many traces have it.
type Count struct {
	Value  string `json:"value"`
	Traces int    `json:"traces"`
}

// Summary is what Read found.
type Summary struct {
	Files  []string  `json:"files"`
	Spans  int64     `json:"spans"`
	Total  int       `json:"total"`  // traces in the files
	Traces int       `json:"traces"` // traces that pass the filter
	Errors int       `json:"errors"` // of those, traces with a failed span
	First  time.Time `json:"first,omitzero"`
	Last   time.Time `json:"last,omitzero"`
	Filter Filter    `json:"filter"`
	// Services, Users, Sessions and Models count the matching traces by
	// each value, most traces first.
	Services []Count `json:"services"`
	Users    []Count `json:"users"`
	Sessions []Count `json:"sessions"`
	Models   []Count `json:"models"`
	// Judges are the judges of the joined scores, in name order; Scored
	// how many matching traces have a score.
	Judges []string `json:"judges"`
	Scored int      `json:"scored"`
	// Table holds the newest matching traces, newest first.
	Table []Trace `json:"table"`

	kept   []*state
	judges []string
}

// SpanFiles returns the span files of dir: a run directory's
// traces.parquet, or every Parquet file in or under dir other than a
// run's results and scores, skipping hidden names and the directories of
// runs below it (a scored run kept beside the traces it scored).
func SpanFiles(dir string) ([]string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{dir}, nil
	}
	if _, err := os.Stat(filepath.Join(dir, results.ManifestFile)); err == nil {
		p := filepath.Join(dir, results.TracesFile)
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("run %s has no traces (%s)", dir, results.TracesFile)
		}
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if p != dir && strings.HasPrefix(name, ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p != dir {
				if _, err := os.Stat(filepath.Join(p, results.ManifestFile)); err == nil {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if filepath.Ext(name) == ".parquet" && name != results.ResultsFile && name != results.ScoresFile {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s holds no span files (*.parquet from gavel collect, gavel import or observe)", dir)
	}
	sort.Strings(files)
	return files, nil
}

// state is what Read keeps of one trace: numbers and shared strings.
type state struct {
	id                     string
	start, end             int64 // unix ns over the trace's non-judge spans
	rootStart              int64
	rootFile               int32 // where the root span is: file index and row
	rootRow                int64
	name, kind             string
	root                   bool
	service, user, session string
	models                 []modelTokens
	spans                  int32
	failed                 bool
	errMsg                 string
	prompt, completion     int64
	cost                   float64
	scores                 []scoreSum // by judge index
}

type modelTokens struct {
	model  string
	tokens int64
}

type scoreSum struct {
	sum float64
	n   int
}

func (s *state) usedModel(m string) bool {
	for _, x := range s.models {
		if x.model == m {
			return true
		}
	}
	return false
}

// model is the model with the most tokens, the first seen among equals.
func (s *state) model() string {
	best, most := "", int64(-1)
	for _, x := range s.models {
		if x.tokens > most {
			best, most = x.model, x.tokens
		}
	}
	return best
}

// interner shares the storage of repeated strings (services, users,
// models), so that a million traces of ten users hold ten strings.
type interner map[string]string

func (in interner) get(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := in[s]; ok {
		return v
	}
	s = strings.Clone(s)
	in[s] = s
	return s
}

func attrString(a map[string]any, key string) string {
	s, _ := a[key].(string)
	return s
}

func attrFloat(a map[string]any, key string) (float64, bool) {
	switch v := a[key].(type) {
	case float64:
		return v, !math.IsNaN(v) && !math.IsInf(v, 0)
	case int64:
		return float64(v), true
	case int:
		return float64(v), true
	}
	return 0, false
}

// Read summarises the traces of files (see SpanFiles), joins the scores
// of o.Scores and fills the table with the newest matching traces.
func Read(ctx context.Context, files []string, o Options) (*Summary, error) {
	if o.Limit == 0 {
		o.Limit = 50
	}
	if o.MaxText <= 0 {
		o.MaxText = 300
	}
	sum := &Summary{Files: files, Filter: o.Filter, Services: []Count{}, Users: []Count{}, Sessions: []Count{},
		Models: []Count{}, Judges: []string{}, Table: []Trace{}}
	byID := map[string]*state{}
	in := interner{}
	for fi, file := range files {
		var row int64
		err := traces.ReadFile(file, func(r traces.Record) error {
			defer func() { row++ }()
			if sum.Spans%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			sum.Spans++
			if r.Kind == traces.KindJudge {
				return nil // a judge's span in a run's traces: not traffic
			}
			s := byID[r.TraceID]
			if s == nil {
				s = &state{id: strings.Clone(r.TraceID), start: math.MaxInt64, end: math.MinInt64, rootStart: math.MaxInt64}
				byID[s.id] = s
			}
			if addSpan(s, &r, in, o.Cost) {
				s.rootFile, s.rootRow = int32(fi), row
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("reading spans: %w", err) // the error names the file
		}
	}
	sum.Total = len(byID)
	for _, s := range byID {
		if o.Filter.keeps(s) {
			sum.kept = append(sum.kept, s)
		}
	}
	// Newest first; the trace id breaks ties so the order is the same on
	// every read.
	sort.Slice(sum.kept, func(i, j int) bool {
		a, b := sum.kept[i], sum.kept[j]
		if a.start != b.start {
			return a.start > b.start
		}
		return a.id < b.id
	})
	if err := sum.joinScores(o.Scores, byID); err != nil {
		return nil, err
	}
	sum.count()
	n := len(sum.kept)
	if o.Limit > 0 && n > o.Limit {
		n = o.Limit
	}
	for _, s := range sum.kept[:n] {
		sum.Table = append(sum.Table, sum.row(s))
	}
	if err := fillTexts(ctx, files, sum.Table, sum.kept[:n], o.MaxText); err != nil {
		return nil, err
	}
	return sum, nil
}

// addSpan adds r to its trace's state, reporting whether r now stands
// as the trace's root.
func addSpan(s *state, r *traces.Record, in interner, cost CostFunc) (root bool) {
	start, end := r.Start.UnixNano(), r.End.UnixNano()
	s.spans++
	if start < s.start {
		s.start = start
	}
	if end > s.end {
		s.end = end
	}
	// The root is the parentless span; without one (its parent is in
	// another process), the earliest span stands for it.
	isRoot := r.ParentID == ""
	if isRoot && (!s.root || start < s.rootStart) || !isRoot && !s.root && start < s.rootStart {
		s.root = isRoot
		s.rootStart = start
		s.name, s.kind = in.get(r.Name), in.get(string(r.Kind))
		s.service = in.get(r.Variant)
		root = true
	}
	if s.service == "" {
		s.service = in.get(r.Variant)
	}
	a := r.Attributes
	if s.user == "" {
		s.user = in.get(attrString(a, "user_id"))
	}
	if s.session == "" {
		s.session = in.get(attrString(a, "session_id"))
	}
	if r.Status == traces.StatusError {
		if !s.failed {
			s.errMsg = excerpt(r.Name+": "+r.Error, 200)
		}
		s.failed = true
	}
	if r.Kind != traces.KindLLM && r.Kind != traces.KindEmbedding {
		return root
	}
	p, _ := attrFloat(a, "prompt_tokens")
	c, _ := attrFloat(a, "completion_tokens")
	s.prompt += int64(p)
	s.completion += int64(c)
	model := attrString(a, "model")
	if model != "" {
		found := false
		for i := range s.models {
			if s.models[i].model == model {
				s.models[i].tokens += int64(p + c)
				found = true
			}
		}
		if !found {
			s.models = append(s.models, modelTokens{in.get(model), int64(p + c)})
		}
	}
	if usd, ok := attrFloat(a, "cost_usd"); ok {
		s.cost += usd
	} else if cost != nil && model != "" && p+c > 0 {
		// Prices belong to a model as a provider serves it
		// ("openai/gpt-4o-mini"); a call that names no provider is
		// looked up by its model alone, which the built-in table
		// leaves unpriced rather than guess the provider.
		name := model
		if prov := strings.ToLower(attrString(a, "provider")); !strings.Contains(model, "/") && prov != "" {
			name = prov + "/" + model
		}
		if usd, ok := cost(name, int64(p), int64(c)); ok {
			s.cost += usd
		}
	}
	return root
}

// joinScores adds the scores of the scored runs to the traces they name.
func (sum *Summary) joinScores(runs []string, byID map[string]*state) error {
	judgeIdx := map[string]int{}
	for _, run := range runs {
		err := results.ReadScores(filepath.Join(run, results.ScoresFile), func(sc results.Score) error {
			if sc.Score == nil || math.IsNaN(*sc.Score) {
				return nil
			}
			id, _, _ := strings.Cut(sc.ExampleID, "/")
			s := byID[id]
			if s == nil {
				return nil
			}
			j, ok := judgeIdx[sc.Judge]
			if !ok {
				j = len(sum.judges)
				judgeIdx[sc.Judge] = j
				sum.judges = append(sum.judges, strings.Clone(sc.Judge))
			}
			for len(s.scores) <= j {
				s.scores = append(s.scores, scoreSum{})
			}
			s.scores[j].sum += *sc.Score
			s.scores[j].n++
			return nil
		})
		if err != nil {
			return fmt.Errorf("reading the scores of run %s: %w", run, err)
		}
	}
	sum.Judges = append(sum.Judges, sum.judges...)
	sort.Strings(sum.Judges)
	return nil
}

// count fills the counts of the matching traces.
func (sum *Summary) count() {
	services, users, sessions, models := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	for _, s := range sum.kept {
		sum.Traces++
		if s.failed {
			sum.Errors++
		}
		for _, x := range s.scores {
			if x.n > 0 {
				sum.Scored++
				break
			}
		}
		if t := time.Unix(0, s.start).UTC(); sum.First.IsZero() || t.Before(sum.First) {
			sum.First = t
		}
		if t := time.Unix(0, s.end).UTC(); t.After(sum.Last) {
			sum.Last = t
		}
		services[s.service]++
		users[s.user]++
		sessions[s.session]++
		for _, m := range s.models {
			models[m.model]++
		}
	}
	sum.Services, sum.Users, sum.Sessions, sum.Models = counts(services), counts(users), counts(sessions), counts(models)
}

func counts(m map[string]int) []Count {
	out := []Count{}
	for v, n := range m {
		if v != "" {
			out = append(out, Count{v, n})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Traces != out[j].Traces {
			return out[i].Traces > out[j].Traces
		}
		return out[i].Value < out[j].Value
	})
	return out
}

func (sum *Summary) row(s *state) Trace {
	t := Trace{TraceID: s.id, Name: s.name, Kind: s.kind, Service: s.service, User: s.user, Session: s.session,
		Model: s.model(), Start: time.Unix(0, s.start).UTC(), DurationMS: float64(s.end-s.start) / 1e6,
		Status: string(traces.StatusOK), Error: s.errMsg, Spans: int(s.spans), PromptTokens: s.prompt,
		CompletionTokens: s.completion, CostUSD: s.cost, Root: s.root}
	if s.failed {
		t.Status = string(traces.StatusError)
	}
	for j, x := range s.scores {
		if x.n > 0 {
			if t.Scores == nil {
				t.Scores = map[string]float64{}
			}
			t.Scores[sum.judges[j]] = x.sum / float64(x.n)
		}
	}
	return t
}

// fillTexts reads the input and output of the root spans of the traces
// in table, whose states are shown: one row of one file each.
func fillTexts(ctx context.Context, files []string, table []Trace, shown []*state, maxText int) error {
	for i, s := range shown {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := traces.ReadRows(files[s.rootFile], s.rootRow, 1, func(r traces.Record) error {
			if r.TraceID == s.id {
				table[i].Input, table[i].Output = excerpt(r.Input, maxText), excerpt(r.Output, maxText)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("reading spans: %w", err)
		}
	}
	return nil
}

// excerpt cuts s to n characters, ending it with "…" when cut.
func excerpt(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
