package report

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/report/stats"
)

// ForRun builds the report of one run: every variant's figures and, with
// several variants, every variant compared with the first.
func ForRun(dir string, opts Options) (*Report, error) {
	m, err := results.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	var sides []Side
	var pairs [][2]int
	for i, v := range m.Variants {
		sides = append(sides, Side{Dir: dir, Variant: v.Name})
		if i > 0 {
			pairs = append(pairs, [2]int{0, i})
		}
	}
	r, err := Build(sides, pairs, opts)
	if err != nil {
		return nil, err
	}
	r.Kind = "report"
	return r, nil
}

// CompareVariants compares variant b with variant a within one run.
func CompareVariants(dir, a, b string, opts Options) (*Report, error) {
	return Build([]Side{{dir, a}, {dir, b}}, [][2]int{{0, 1}}, opts)
}

// CompareRuns compares each variant of the new run with the variant of the
// same name in the base run (main's stored run against a pull request's,
// say). variants, when set, limits the comparison to those names.
// Variants present in only one run are reported as warnings.
func CompareRuns(baseDir, newDir string, variants []string, opts Options) (*Report, error) {
	bm, err := results.ReadManifest(baseDir)
	if err != nil {
		return nil, err
	}
	nm, err := results.ReadManifest(newDir)
	if err != nil {
		return nil, err
	}
	inBase := map[string]bool{}
	for _, v := range bm.Variants {
		inBase[v.Name] = true
	}
	want := map[string]bool{}
	for _, v := range variants {
		want[v] = true
	}
	var sides []Side
	var pairs [][2]int
	var warnings []string
	for _, v := range nm.Variants {
		if len(want) > 0 && !want[v.Name] {
			continue
		}
		if !inBase[v.Name] {
			warnings = append(warnings, fmt.Sprintf("variant %s is not in the base run %s: not compared", v.Name, bm.RunID))
			continue
		}
		sides = append(sides, Side{baseDir, v.Name}, Side{newDir, v.Name})
		pairs = append(pairs, [2]int{len(sides) - 2, len(sides) - 1})
	}
	for _, v := range bm.Variants {
		found := false
		for _, n := range nm.Variants {
			found = found || n.Name == v.Name
		}
		if !found && (len(want) == 0 || want[v.Name]) {
			warnings = append(warnings, fmt.Sprintf("variant %s of the base run is not in the new run %s", v.Name, nm.RunID))
		}
	}
	for v := range want {
		if !inBase[v] {
			warnings = append(warnings, fmt.Sprintf("variant %s was asked for but is not in both runs", v))
		}
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("runs %s and %s have no variant in common to compare", bm.RunID, nm.RunID)
	}
	r, err := Build(sides, pairs, opts)
	if err != nil {
		return nil, err
	}
	sort.Strings(warnings)
	r.Warnings = append(r.Warnings, warnings...)
	return r, nil
}

// addRun adds the run of manifest m, stored in dir, to the report's runs,
// with a warning when it did not complete.
func (r *Report) addRun(dir string, m *results.Manifest) {
	ref := RunRef{RunID: m.RunID, Dir: dir, Name: m.Name, Status: m.Status, Mode: m.Mode,
		StartedAt: m.StartedAt.UTC().Format("2006-01-02T15:04:05Z")}
	if m.Git != nil {
		ref.GitCommit = m.Git.Commit
	}
	r.Runs = append(r.Runs, ref)
	if m.Status != results.RunCompleted {
		r.Warnings = append(r.Warnings, fmt.Sprintf("run %s is %s, not completed: its figures cover only what it stored", m.RunID, m.Status))
	}
}

// Build computes the report of sides (baseline first) with the paired
// comparisons pairs (indexes into sides: B against A).
func Build(sides []Side, pairs [][2]int, opts Options) (*Report, error) {
	opts.defaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	opts.PAdjust = strings.ToLower(opts.PAdjust)
	r := &Report{FormatVersion: FormatVersion, Kind: "compare", Alpha: opts.Alpha,
		PAdjust: opts.PAdjust, ZeroMethod: opts.ZeroMethod,
		Runs: []RunRef{}, Variants: []VariantStats{}, Comparisons: []Comparison{}, Pairwise: []PairSummary{},
		Ranking: []Rank{}, Gates: []GateResult{}, Warnings: []string{}}
	if opts.HTML != nil {
		r.page = prefetchPage(sides, *opts.HTML)
	}
	manifests := map[string]*results.Manifest{}
	usage := map[string]map[string]judgeUsage{} // dir -> variant -> judges' model calls
	var data []*sideData
	for _, s := range sides {
		m := manifests[s.Dir]
		if m == nil {
			var err error
			if m, err = results.ReadManifest(s.Dir); err != nil {
				return nil, err
			}
			manifests[s.Dir] = m
			r.addRun(s.Dir, m)
		}
		d, err := loadSide(s, m, opts.ErrorsAs == ErrorsFail)
		if err != nil {
			return nil, err
		}
		if _, ok := usage[s.Dir]; !ok {
			if usage[s.Dir], err = readJudgeUsage(filepath.Join(s.Dir, results.TracesFile)); err != nil {
				return nil, err
			}
		}
		if p := promptOf(m, s.Variant); p != nil {
			d.stats.Prompt, d.stats.PromptHash = promptName(p), p.Hash
		}
		u := usage[s.Dir][s.Variant]
		d.stats.JudgePromptTokens, d.stats.JudgeCompletionTokens = u.promptTokens, u.completionTokens
		d.stats.JudgeCostUSD, d.stats.JudgeCalls, d.stats.JudgeUnpriced = u.costUSD, u.calls, u.unpriced
		data = append(data, d)
	}
	labelSides(data)
	for _, d := range data {
		d.stats.Name = d.label
		r.Variants = append(r.Variants, d.stats)
	}
	for _, p := range pairs {
		c, err := compare(data[p[0]], data[p[1]], opts)
		if err != nil {
			return nil, err
		}
		c.PromptDiff = promptDiff(promptOf(data[p[0]].run, data[p[0]].side.Variant), promptOf(data[p[1]].run, data[p[1]].side.Variant))
		r.Comparisons = append(r.Comparisons, c)
	}
	if err := r.adjustPValues(opts); err != nil {
		return nil, err
	}
	if err := r.addPairwise(data); err != nil {
		return nil, err
	}
	for _, d := range data {
		for _, js := range d.stats.Judges {
			if js.JudgeErrors > 0 {
				r.Warnings = append(r.Warnings, fmt.Sprintf("%s: %d judge errors on %s are left out of its figures", d.label, js.JudgeErrors, js.Judge))
			}
		}
		if d.stats.Errors > 0 {
			if opts.ErrorsAs == ErrorsFail {
				r.Warnings = append(r.Warnings, fmt.Sprintf("%s: %d of %d results failed (chain or model errors) and count as failed verdicts", d.label, d.stats.Errors, d.stats.Results))
			} else {
				r.Warnings = append(r.Warnings, fmt.Sprintf("%s: %d of %d results failed (chain or model errors) and have no scores", d.label, d.stats.Errors, d.stats.Results))
			}
		}
	}
	if err := r.evaluateGates(sides, pairs, opts); err != nil {
		return nil, err
	}
	return r, nil
}

// evaluateGates checks opts.Gates on r. A gate whose Alternative or
// ErrorsAs differs from the report's is checked on the report built with
// them (its tests, p-value adjustment and pass rates), so that, say, a
// max_drop gate asking for the one-sided "less" reads that test's p.
func (r *Report) evaluateGates(sides []Side, pairs [][2]int, opts Options) error {
	type mode struct {
		alt  stats.Alternative
		errs ErrorsAs
	}
	var same []Gate
	other := map[mode][]Gate{}
	var modes []mode
	for _, g := range opts.Gates {
		m := mode{g.Alternative, g.ErrorsAs}
		if m.alt == "" {
			m.alt = opts.Alternative
		}
		if m.errs == "" {
			m.errs = opts.ErrorsAs
		}
		if m.alt == opts.Alternative && m.errs == opts.ErrorsAs {
			same = append(same, g)
			continue
		}
		if _, ok := other[m]; !ok {
			modes = append(modes, m)
		}
		other[m] = append(other[m], g)
	}
	if len(same) > 0 {
		r.EvaluateGates(same)
	}
	for _, m := range modes {
		o := opts
		o.Alternative, o.ErrorsAs, o.Gates = m.alt, m.errs, nil
		sub, err := Build(sides, pairs, o)
		if err != nil {
			return fmt.Errorf("gates with alternative %s, errors as %s: %w", m.alt, m.errs, err)
		}
		sub.EvaluateGates(other[m])
		r.Gates = append(r.Gates, sub.Gates...)
	}
	return nil
}

// labelSides names each side by its variant, or run:variant when two sides
// share a variant name.
func labelSides(data []*sideData) {
	count := map[string]int{}
	for _, d := range data {
		count[d.side.Variant]++
	}
	for _, d := range data {
		d.label = d.side.Variant
		if count[d.side.Variant] > 1 {
			d.label = d.run.RunID + ":" + d.side.Variant
		}
	}
}
