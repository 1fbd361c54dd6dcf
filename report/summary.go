package report

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/report/stats"
)

// Summary is the per-variant overview of one run.
type Summary struct {
	RunID    string
	Name     string
	Status   results.RunStatus
	Judges   []string // judge names, in spec order
	Variants []VariantSummary
	// Pairwise tallies pairwise judges' verdicts, by judge then pair.
	Pairwise []PairSummary
	// Metrics are corpus-level metrics from the manifest.
	Metrics []results.CorpusMetric
}

// PairSummary tallies one pairwise judge's verdicts of variant B against
// variant A, from B's side.
type PairSummary struct {
	Judge  string `json:"judge"`
	A      string `json:"a"`
	B      string `json:"b"`
	Wins   int    `json:"wins"`
	Losses int    `json:"losses"`
	Ties   int    `json:"ties"`
	// Inconsistent counts ties that came from verdicts disagreeing between
	// the two presentation orders.
	Inconsistent int `json:"inconsistent"`
	JudgeErrors  int `json:"judge_errors"`
	Skipped      int `json:"skipped"`
}

// VariantSummary holds one variant's figures. Means and pass rates use the
// valid rows only (judged, no judge error); the counts beside them say how
// many those were.
type VariantSummary struct {
	Name             string
	Results          int
	Errors           int
	LatencyP50       float64 // ms, NaN when there are no results
	LatencyP95       float64
	PromptTokens     int64
	CompletionTokens int64
	CostUSD          float64
	Unpriced         int // results with no known price
	// FromCache counts the results whose every model call the cache
	// answered (their figures are the original calls').
	FromCache int
	Judges    map[string]*JudgeSummary
	// The judges' own model calls, apart from the chain's: their tokens
	// (in and out), their cost, how many there were and how many had no
	// known price.
	JudgeTokens   int64
	JudgeCostUSD  float64
	JudgeCalls    int
	JudgeUnpriced int
}

// JudgeSummary holds one judge's figures for one variant.
type JudgeSummary struct {
	Valid       int // scored rows (status ok)
	Passed      int
	Scored      int // valid rows with a score
	ScoreSum    float64
	JudgeErrors int
	Skipped     int
	// Graded is true when some score is neither 0 nor 1, so the mean
	// says more than the pass rate.
	Graded bool
}

// PassRate is Passed/Valid, NaN when nothing was judged.
func (j *JudgeSummary) PassRate() float64 {
	if j.Valid == 0 {
		return math.NaN()
	}
	return float64(j.Passed) / float64(j.Valid)
}

// Mean is the mean score of the scored rows, NaN when there are none.
func (j *JudgeSummary) Mean() float64 {
	if j.Scored == 0 {
		return math.NaN()
	}
	return j.ScoreSum / float64(j.Scored)
}

// Summarize reads the run in dir and computes its Summary, streaming the
// result and score files.
func Summarize(dir string) (*Summary, error) {
	m, err := results.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	s := &Summary{RunID: m.RunID, Name: m.Name, Status: m.Status, Metrics: m.Metrics}
	pairs := map[[3]string]*PairSummary{}
	for _, j := range m.Judges {
		s.Judges = append(s.Judges, j.Name)
	}
	byName := map[string]*VariantSummary{}
	latencies := map[string][]float64{}
	for _, v := range m.Variants {
		vs := VariantSummary{Name: v.Name, Judges: map[string]*JudgeSummary{}}
		for _, j := range s.Judges {
			vs.Judges[j] = &JudgeSummary{}
		}
		s.Variants = append(s.Variants, vs)
	}
	for i := range s.Variants {
		byName[s.Variants[i].Name] = &s.Variants[i]
	}
	err = results.ReadResults(filepath.Join(dir, results.ResultsFile), func(r results.Result) error {
		v := byName[r.Variant]
		if v == nil {
			return fmt.Errorf("results.parquet: variant %q is not in the manifest", r.Variant)
		}
		v.Results++
		if r.Status == results.StatusError {
			v.Errors++
		}
		latencies[r.Variant] = append(latencies[r.Variant], r.LatencyMS)
		v.PromptTokens += r.PromptTokens
		v.CompletionTokens += r.CompletionTokens
		if r.CostUSD != nil {
			v.CostUSD += *r.CostUSD
		} else {
			v.Unpriced++
		}
		if r.Cached {
			v.FromCache++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = results.ReadScores(filepath.Join(dir, results.ScoresFile), func(sc results.Score) error {
		v := byName[sc.Variant]
		if v == nil {
			return fmt.Errorf("scores.parquet: variant %q is not in the manifest", sc.Variant)
		}
		if sc.OtherVariant != nil {
			key := [3]string{sc.Judge, *sc.OtherVariant, sc.Variant}
			p := pairs[key]
			if p == nil {
				p = &PairSummary{Judge: sc.Judge, A: *sc.OtherVariant, B: sc.Variant}
				pairs[key] = p
			}
			tallyPair(p, sc)
			return nil
		}
		j := v.Judges[sc.Judge]
		if j == nil {
			j = &JudgeSummary{}
			v.Judges[sc.Judge] = j
			s.Judges = appendUnique(s.Judges, sc.Judge)
		}
		switch sc.Status {
		case results.ScoreOK:
			j.Valid++
			if sc.Pass != nil && *sc.Pass {
				j.Passed++
			}
			if sc.Score != nil {
				j.Scored++
				j.ScoreSum += *sc.Score
				if *sc.Score != 0 && *sc.Score != 1 {
					j.Graded = true
				}
			}
		case results.ScoreJudgeError:
			j.JudgeErrors++
		default:
			j.Skipped++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, p := range pairs {
		s.Pairwise = append(s.Pairwise, *p)
	}
	sort.Slice(s.Pairwise, func(i, j int) bool {
		a, b := s.Pairwise[i], s.Pairwise[j]
		if a.Judge != b.Judge {
			return a.Judge < b.Judge
		}
		if a.A != b.A {
			return a.A < b.A
		}
		return a.B < b.B
	})
	usage, err := readJudgeUsage(filepath.Join(dir, results.TracesFile))
	if err != nil {
		return nil, err
	}
	for i := range s.Variants {
		v := &s.Variants[i]
		v.LatencyP50 = stats.Quantile(latencies[v.Name], 0.5)
		v.LatencyP95 = stats.Quantile(latencies[v.Name], 0.95)
		u := usage[v.Name]
		v.JudgeTokens, v.JudgeCostUSD = u.promptTokens+u.completionTokens, u.costUSD
		v.JudgeCalls, v.JudgeUnpriced = u.calls, u.unpriced
	}
	return s, nil
}

func tallyPair(p *PairSummary, sc results.Score) {
	switch sc.Status {
	case results.ScoreOK:
		switch results.Deref(sc.Label) {
		case "win":
			p.Wins++
		case "loss":
			p.Losses++
		default:
			p.Ties++
			if sc.Details != nil && strings.Contains(*sc.Details, `"consistent":false`) {
				p.Inconsistent++
			}
		}
	case results.ScoreJudgeError:
		p.JudgeErrors++
	default:
		p.Skipped++
	}
}

func appendUnique(xs []string, x string) []string {
	for _, y := range xs {
		if y == x {
			return xs
		}
	}
	return append(xs, x)
}

// WriteText writes the summary as aligned text tables: one row per
// variant, with a pass rate and mean score column per judge.
func (s *Summary) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	// The first column is left-aligned by padding it to a common width.
	width := len("variant")
	for _, v := range s.Variants {
		width = max(width, len(v.Name))
	}
	pad := func(name string) string { return name + strings.Repeat(" ", width-len(name)) }
	graded := map[string]bool{}
	for _, v := range s.Variants {
		for name, j := range v.Judges {
			graded[name] = graded[name] || j.Graded
		}
	}
	pairwise := map[string]bool{}
	for _, p := range s.Pairwise {
		pairwise[p.Judge] = true
	}
	var cols []string
	for _, j := range s.Judges {
		if !pairwise[j] {
			cols = append(cols, j)
		}
	}
	head := []string{pad("variant"), "examples", "errors"}
	for _, j := range cols {
		head = append(head, j+" pass")
		if graded[j] {
			head = append(head, j+" mean")
		}
	}
	head = append(head, "p50 ms", "p95 ms", "tokens in", "tokens out", "cost $", "judge tokens", "judge cost $")
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	var notes []string
	for _, v := range s.Variants {
		row := []string{pad(v.Name), fmt.Sprint(v.Results), fmt.Sprint(v.Errors)}
		for _, name := range cols {
			j := v.Judges[name]
			if j == nil {
				j = &JudgeSummary{}
			}
			row = append(row, pct(j.PassRate())+fmt.Sprintf(" (%d/%d)", j.Passed, j.Valid))
			if graded[name] {
				row = append(row, num(j.Mean(), 3))
			}
			if j.JudgeErrors > 0 {
				notes = append(notes, fmt.Sprintf("%s: %d judge errors on %s, left out of its figures", v.Name, j.JudgeErrors, name))
			}
		}
		cost := fmt.Sprintf("%.4f", v.CostUSD)
		if v.Unpriced > 0 && v.Unpriced == v.Results {
			cost = "n/a"
		} else if v.Unpriced > 0 {
			notes = append(notes, fmt.Sprintf("%s: %d results have no known price; cost counts the others", v.Name, v.Unpriced))
		}
		jtokens, jcost := "-", "-"
		if v.JudgeCalls > 0 {
			jtokens, jcost = fmt.Sprint(v.JudgeTokens), fmt.Sprintf("%.4f", v.JudgeCostUSD)
		}
		if v.JudgeCalls > 0 && v.JudgeUnpriced == v.JudgeCalls {
			jcost = "n/a"
		} else if v.JudgeUnpriced > 0 {
			notes = append(notes, fmt.Sprintf("%s: %d of %d judge model calls have no known price; judge cost counts the others", v.Name, v.JudgeUnpriced, v.JudgeCalls))
		}
		if v.FromCache > 0 {
			notes = append(notes, fmt.Sprintf("%s: %d of %d results from the cache; their latency, tokens and cost are those of the original calls", v.Name, v.FromCache, v.Results))
		}
		row = append(row, num(v.LatencyP50, 1), num(v.LatencyP95, 1),
			fmt.Sprint(v.PromptTokens), fmt.Sprint(v.CompletionTokens), cost, jtokens, jcost)
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, mt := range s.Metrics {
		if _, err := fmt.Fprintf(w, "corpus %s (%s) for %s: %.4f  %s\n", mt.Judge, mt.Type, mt.Variant, mt.Value, mt.Description); err != nil {
			return err
		}
	}
	for _, p := range s.Pairwise {
		line := fmt.Sprintf("pairwise %s: %s vs %s: %d wins, %d ties (%d position-inconsistent), %d losses", p.Judge, p.B, p.A, p.Wins, p.Ties, p.Inconsistent, p.Losses)
		if p.JudgeErrors > 0 {
			line += fmt.Sprintf(", %d judge errors", p.JudgeErrors)
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	for _, n := range notes {
		if _, err := fmt.Fprintln(w, "note: "+n); err != nil {
			return err
		}
	}
	return nil
}

func pct(x float64) string {
	if math.IsNaN(x) {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*x)
}

func num(x float64, prec int) string {
	if math.IsNaN(x) {
		return "-"
	}
	return fmt.Sprintf("%.*f", prec, x)
}
