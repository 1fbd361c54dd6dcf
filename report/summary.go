package report

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/report/stats"
)

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

// Summarize reads the run in dir and returns its figures as a Report of
// kind "summary": each variant's results, errors, latency, tokens and cost
// (its chain's and its judges' own calls), each judge's counts, pass rate
// and mean, the pairwise judges' tallies and the corpus metrics, with the
// same definitions as ForRun. It streams the result and score files and
// keeps only the latencies, so it is what a run prints when it ends however
// many rows it has; what needs a judge's every verdict at once (intervals,
// clustered errors, comparisons, rankings) is left out: ForRun computes it.
func Summarize(dir string) (*Report, error) {
	m, err := results.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	r := &Report{FormatVersion: FormatVersion, Kind: "summary", Runs: []RunRef{},
		Variants: []VariantStats{}, Comparisons: []Comparison{}, Pairwise: []PairSummary{},
		Ranking: []Rank{}, Gates: []GateResult{}, Warnings: []string{}}
	var judges []string
	types := map[string]string{}
	for _, j := range m.Judges {
		if j.Type == "pairwise" {
			continue
		}
		judges = append(judges, j.Name)
		types[j.Name] = j.Type
	}
	byName := map[string]int{}
	latencies := make([][]float64, len(m.Variants))
	scoreSums := make([]map[string]float64, len(m.Variants)) // by variant, then judge
	for i, v := range m.Variants {
		vs := VariantStats{Name: v.Name, Run: m.RunID, Variant: v.Name, Metrics: []results.CorpusMetric{}}
		for _, j := range judges {
			vs.Judges = append(vs.Judges, JudgeStats{Judge: j, Type: types[j]})
		}
		for _, mt := range m.Metrics {
			if mt.Variant == v.Name {
				vs.Metrics = append(vs.Metrics, mt)
			}
		}
		r.Variants = append(r.Variants, vs)
		byName[v.Name] = i
		scoreSums[i] = map[string]float64{}
	}
	epochs := make([]map[int32]bool, len(m.Variants))
	err = results.ReadResultFigures(filepath.Join(dir, results.ResultsFile), func(res results.ResultFigures) error {
		i, ok := byName[res.Variant]
		if !ok {
			return fmt.Errorf("results.parquet: variant %q is not in the manifest", res.Variant)
		}
		r.Variants[i].addResult(&res)
		if epochs[i] == nil {
			epochs[i] = map[int32]bool{}
		}
		epochs[i][res.Epoch] = true
		latencies[i] = append(latencies[i], res.LatencyMS)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sawPairs := false
	err = results.ReadScoreFigures(filepath.Join(dir, results.ScoresFile), func(sc results.ScoreFigures) error {
		i, ok := byName[sc.Variant]
		if !ok {
			return fmt.Errorf("scores.parquet: variant %q is not in the manifest", sc.Variant)
		}
		if sc.OtherVariant != nil {
			sawPairs = true
			return nil
		}
		v := &r.Variants[i]
		j := v.Judge(sc.Judge)
		if j == nil {
			// A judge the manifest does not list (a stored run's
			// re-grade): every variant gets its column.
			for k := range r.Variants {
				r.Variants[k].Judges = append(r.Variants[k].Judges, JudgeStats{Judge: sc.Judge, Type: sc.JudgeType})
			}
			j = v.Judge(sc.Judge)
		}
		switch sc.Status {
		case results.ScoreOK:
			j.Valid++
			pass := sc.Pass != nil && *sc.Pass
			if pass {
				j.Passed++
			} else {
				j.Failed++
			}
			// As ForRun: a score, else the verdict as 0 or 1.
			switch {
			case sc.Score != nil && !math.IsNaN(*sc.Score):
				j.Scored++
				scoreSums[i][sc.Judge] += *sc.Score
				if *sc.Score != 0 && *sc.Score != 1 {
					j.Graded = true
				}
			case sc.Pass != nil:
				j.Scored++
				scoreSums[i][sc.Judge] += b2f(pass)
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
	// The pairwise judges' rows are tallied from whole rows (a tie's
	// details say whether the two orders disagreed); the others need only
	// their figures.
	if sawPairs {
		same := func(variant string) string { return variant }
		if r.Pairwise, err = tallyPairs(dir, same); err != nil {
			return nil, err
		}
	}
	usage, err := readJudgeUsage(filepath.Join(dir, results.TracesFile))
	if err != nil {
		return nil, err
	}
	for i := range r.Variants {
		v := &r.Variants[i]
		v.finishResults(latencies[i], len(epochs[i]))
		u := usage[v.Variant]
		v.JudgePromptTokens, v.JudgeCompletionTokens, v.JudgeCostUSD = u.promptTokens, u.completionTokens, u.costUSD
		v.JudgeCalls, v.JudgeUnpriced = u.calls, u.unpriced
		for k := range v.Judges {
			j := &v.Judges[k]
			if j.Valid > 0 {
				j.PassRate = ptr(float64(j.Passed) / float64(j.Valid))
				j.PassRateCI = iptr(stats.Wilson(j.Passed, j.Valid, 0.95))
			}
			if j.Scored > 0 {
				j.Mean = ptr(scoreSums[i][j.Judge] / float64(j.Scored))
			}
		}
	}
	r.addRun(dir, m)
	return r, nil
}

// Judge returns the figures of the named judge, or nil.
func (v *VariantStats) Judge(name string) *JudgeStats {
	for i := range v.Judges {
		if v.Judges[i].Judge == name {
			return &v.Judges[i]
		}
	}
	return nil
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

// WriteSummary writes the compact text of a report that a run prints when
// it ends: aligned tables with a row per variant and a pass rate (and, for
// graded judges, a mean score) column per judge, then the corpus metrics,
// the pairwise tallies and notes on what the figures leave out. It works on
// any report (Summarize's, ForRun's).
func WriteSummary(w io.Writer, r *Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	// The first column is left-aligned by padding it to a common width.
	width := len("variant")
	for _, v := range r.Variants {
		width = max(width, len(v.Name))
	}
	pad := func(name string) string { return name + strings.Repeat(" ", width-len(name)) }
	graded := map[string]bool{}
	pairwise := map[string]bool{}
	for _, p := range r.Pairwise {
		pairwise[p.Judge] = true
	}
	var cols []string
	for _, v := range r.Variants {
		for _, j := range v.Judges {
			graded[j.Judge] = graded[j.Judge] || j.Graded
			if !pairwise[j.Judge] && !slices.Contains(cols, j.Judge) {
				cols = append(cols, j.Judge)
			}
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
	for i := range r.Variants {
		v := &r.Variants[i]
		row := []string{pad(v.Name), fmt.Sprint(v.Results), fmt.Sprint(v.Errors)}
		for _, name := range cols {
			j := v.Judge(name)
			if j == nil {
				j = &JudgeStats{}
			}
			row = append(row, pctOf(j.PassRate)+fmt.Sprintf(" (%d/%d)", j.Passed, j.Valid))
			if graded[name] {
				row = append(row, numOf(j.Mean, 3))
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
			jtokens, jcost = fmt.Sprint(v.JudgePromptTokens+v.JudgeCompletionTokens), fmt.Sprintf("%.4f", v.JudgeCostUSD)
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
	for _, v := range r.Variants {
		for _, mt := range v.Metrics {
			if _, err := fmt.Fprintf(w, "corpus %s (%s) for %s: %.4f  %s\n", mt.Judge, mt.Type, mt.Variant, mt.Value, mt.Description); err != nil {
				return err
			}
		}
	}
	for _, p := range r.Pairwise {
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

func pctOf(x *float64) string {
	if x == nil {
		return "-"
	}
	return pct(*x)
}

func numOf(x *float64, prec int) string {
	if x == nil {
		return "-"
	}
	return num(*x, prec)
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
