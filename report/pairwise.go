package report

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/report/stats"
)

// addPairwise tallies the pairwise judges' verdicts between the report's
// variants of the same run, and ranks three or more of them with a
// Bradley–Terry model.
func (r *Report) addPairwise(data []*sideData) error {
	byRun := map[string][]*sideData{}
	var dirs []string
	for _, d := range data {
		if _, ok := byRun[d.side.Dir]; !ok {
			dirs = append(dirs, d.side.Dir)
		}
		byRun[d.side.Dir] = append(byRun[d.side.Dir], d)
	}
	for _, dir := range dirs {
		label := map[string]string{}
		for _, d := range byRun[dir] {
			label[d.side.Variant] = d.label
		}
		ps, err := tallyPairs(dir, func(variant string) string { return label[variant] })
		if err != nil {
			return err
		}
		r.Pairwise = append(r.Pairwise, ps...)
		ranks, err := rankPairs(ps)
		if err != nil {
			r.Warnings = append(r.Warnings, "no Bradley–Terry ranking: "+err.Error())
		}
		r.Ranking = append(r.Ranking, ranks...)
	}
	return nil
}

// tallyPairs tallies the pairwise judges' verdicts in the run in dir, by
// judge and pair of variants (B against A, from B's side), in that order.
// label names each variant in the tallies; a variant it names "" is left
// out.
func tallyPairs(dir string, label func(variant string) string) ([]PairSummary, error) {
	tallies := map[[3]string]*PairSummary{}
	err := results.ReadScores(filepath.Join(dir, results.ScoresFile), func(s results.Score) error {
		if s.OtherVariant == nil {
			return nil
		}
		la, lb := label(*s.OtherVariant), label(s.Variant)
		if la == "" || lb == "" {
			return nil
		}
		k := [3]string{s.Judge, la, lb}
		p := tallies[k]
		if p == nil {
			p = &PairSummary{Judge: s.Judge, A: la, B: lb}
			tallies[k] = p
		}
		tallyPair(p, s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	ps := []PairSummary{}
	for _, p := range tallies {
		ps = append(ps, *p)
	}
	sort.Slice(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.Judge != b.Judge {
			return a.Judge < b.Judge
		}
		if a.A != b.A {
			return a.A < b.A
		}
		return a.B < b.B
	})
	return ps, nil
}

// rankPairs fits a Bradley–Terry model per pairwise judge with three or
// more variants; a tie counts as half a win to each side.
func rankPairs(ps []PairSummary) ([]Rank, error) {
	byJudge := map[string][]PairSummary{}
	var judges []string
	for _, p := range ps {
		if _, ok := byJudge[p.Judge]; !ok {
			judges = append(judges, p.Judge)
		}
		byJudge[p.Judge] = append(byJudge[p.Judge], p)
	}
	var out []Rank
	var errs []error
	for _, j := range judges {
		idx := map[string]int{}
		var names []string
		for _, p := range byJudge[j] {
			for _, v := range []string{p.A, p.B} {
				if _, ok := idx[v]; !ok {
					idx[v] = len(names)
					names = append(names, v)
				}
			}
		}
		if len(names) < 3 {
			continue
		}
		wins := make([][]float64, len(names))
		for i := range wins {
			wins[i] = make([]float64, len(names))
		}
		for _, p := range byJudge[j] {
			a, b := idx[p.A], idx[p.B]
			wins[b][a] += float64(p.Wins) + float64(p.Ties)/2
			wins[a][b] += float64(p.Losses) + float64(p.Ties)/2
		}
		scores, cis, err := stats.BradleyTerry(wins)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", j, err))
			continue
		}
		var ranks []Rank
		for i, n := range names {
			ranks = append(ranks, Rank{Judge: j, Variant: n, Score: scores[i], CI: cis[i]})
		}
		sort.SliceStable(ranks, func(x, y int) bool { return ranks[x].Score > ranks[y].Score })
		out = append(out, ranks...)
	}
	return out, errors.Join(errs...)
}
