package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
)

// markdownRenderer writes GitHub-flavoured Markdown sized for a
// pull-request comment or $GITHUB_STEP_SUMMARY: a headline, tables, and
// regressions folded in <details> blocks.
//
// Every string that comes from a run (names, ids, inputs, outputs,
// reasons, details, warnings) is untrusted and goes through mdEscape (or
// mdHTML inside a <details> summary), which escapes whatever Markdown or
// HTML would read as markup: a model output cannot close a table cell, a
// <details> block or inject HTML, and the raw text stays readable.
type markdownRenderer struct{}

func (markdownRenderer) render(w io.Writer, r *Report, o RenderOptions) error {
	m := &mdWriter{ew: &errWriter{w: w}, o: o}
	m.report(r)
	return m.ew.err
}

type mdWriter struct {
	ew *errWriter
	o  RenderOptions
}

// mdEscape makes an untrusted string safe inside a table cell, a heading
// or a list item, and keeps it readable as raw text: whitespace runs
// (newlines included) become one space, non-printing characters are shown
// escaped, and only what CommonMark, GitHub or GitLab would read as markup
// gets a backslash:
//
//   - always \ before a punctuation character (or at the end), ` * ~ $ |
//     (code, emphasis, strikethrough, math, table cells);
//   - < before a letter, /, ! or ? (raw HTML, comments, autolinks);
//   - & that starts a character reference (&lt; &#60;);
//   - ] before ( or [ (links and images: [x](javascript:...));
//   - _ unless it is inside a word (snake_case never emphasises);
//   - # at the very end (a heading's closing sequence).
//
// "@name" and "#123" get a zero-width space after the "@" or "#", so an
// output cannot mention people or reference issues from a comment. Text
// without any of these (judge names like min_pass_rate, intervals like
// [79.8%, 99.3%], "<0.0001") comes out as it went in.
func mdEscape(s string) string {
	s = textSafe(oneLine(s))
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s))
	at := func(i int) rune {
		if i < 0 || i >= len(rs) {
			return 0
		}
		return rs[i]
	}
	for i, r := range rs {
		next := at(i + 1)
		switch r {
		case '\\':
			if next == 0 || isASCIIPunct(next) {
				b.WriteByte('\\')
			}
		case '`', '*', '~', '$', '|':
			b.WriteByte('\\')
		case '<':
			if isASCIILetter(next) || next == '/' || next == '!' || next == '?' {
				b.WriteByte('\\')
			}
		case '&':
			if startsReference(rs[i+1:]) {
				b.WriteByte('\\')
			}
		case ']':
			if next == '(' || next == '[' {
				b.WriteByte('\\')
			}
		case '_':
			if !isWordRune(at(i-1)) || !isWordRune(next) {
				b.WriteByte('\\')
			}
		case '#':
			if next == 0 {
				b.WriteByte('\\')
			}
		}
		b.WriteRune(r)
		if (r == '@' && isWordRune(next)) || (r == '#' && next >= '0' && next <= '9') {
			b.WriteRune('\u200b')
		}
	}
	return b.String()
}

// mdHTML makes an untrusted string safe inside the raw HTML of a
// <details><summary> line, where Markdown is not read and backslashes
// would show: & < and > become entities, mentions are broken as in
// mdEscape, and nothing else changes.
func mdHTML(s string) string {
	s = textSafe(oneLine(s))
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteRune(r)
		}
		if i+1 < len(rs) && (r == '@' && isWordRune(rs[i+1]) || r == '#' && rs[i+1] >= '0' && rs[i+1] <= '9') {
			b.WriteRune('\u200b')
		}
	}
	return b.String()
}

func isASCIILetter(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }

func isASCIIPunct(r rune) bool {
	return r >= '!' && r <= '/' || r >= ':' && r <= '@' || r >= '[' && r <= '`' || r >= '{' && r <= '~'
}

// isWordRune reports whether r is a letter or digit, inside which "_"
// cannot open or close emphasis.
func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// startsReference reports whether rs (what follows an "&") reads as a
// character reference: a name or #digits or #xhex, then ";".
func startsReference(rs []rune) bool {
	i := 0
	if i < len(rs) && rs[i] == '#' {
		i++
		if i < len(rs) && (rs[i] == 'x' || rs[i] == 'X') {
			i++
		}
	}
	start := i
	for i < len(rs) && (isASCIILetter(rs[i]) || rs[i] >= '0' && rs[i] <= '9') {
		i++
	}
	return i > start && i < len(rs) && rs[i] == ';'
}

// cut is mdEscape of an excerpt of at most MaxChars characters.
func (m *mdWriter) cut(s string) string {
	return mdEscape(truncateRunes(oneLine(s), m.o.MaxChars))
}

// row writes one table row; cells must already be escaped.
func (m *mdWriter) row(cells ...string) {
	m.ew.printf("| %s |\n", strings.Join(cells, " | "))
}

// head writes a table's header and alignment rows; a column whose name
// starts with ">" is right-aligned (the ">" is dropped).
func (m *mdWriter) head(cols ...string) {
	names := make([]string, len(cols))
	align := make([]string, len(cols))
	for i, c := range cols {
		if name, ok := strings.CutPrefix(c, ">"); ok {
			names[i], align[i] = name, "---:"
		} else {
			names[i], align[i] = c, "---"
		}
	}
	m.ew.printf("\n")
	m.row(names...)
	m.row(align...)
}

func (m *mdWriter) report(r *Report) {
	m.headline(r)
	m.runs(r)
	m.variants(r)
	m.judges(r)
	for _, c := range r.Comparisons {
		m.comparison(r, c)
	}
	m.pairwise(r)
	m.ranking(r)
	m.gates(r)
	m.warnings(r)
}

// headline says first whether gates passed and how the judges moved.
func (m *mdWriter) headline(r *Report) {
	var parts []string
	passed, failed := gateCounts(r)
	switch {
	case failed > 0:
		parts = append(parts, fmt.Sprintf("❌ %d of %d gates failed", failed, passed+failed))
	case passed > 0:
		parts = append(parts, fmt.Sprintf("✅ all %d gates passed", passed))
	}
	if len(r.Comparisons) > 0 {
		improved, regressed, same, unknown := countVerdicts(r)
		v := []string{fmt.Sprintf("%d improved", improved), fmt.Sprintf("%d regressed", regressed),
			fmt.Sprintf("%d no significant difference", same)}
		if unknown > 0 {
			v = append(v, fmt.Sprintf("%d not enough data", unknown))
		}
		parts = append(parts, strings.Join(v, ", "))
	}
	if len(parts) == 0 {
		parts = append(parts, "gavel "+mdEscape(r.Kind))
	}
	m.ew.printf("### %s\n\n", strings.Join(parts, " · "))
	m.ew.printf("%s · α = %s\n", mdEscape(reportTitle(r)), strconv.FormatFloat(alphaOf(r), 'g', -1, 64))
}

func (m *mdWriter) runs(r *Report) {
	if len(r.Runs) == 0 {
		return
	}
	m.head("run", "name", "status", "started", "commit")
	for _, run := range r.Runs {
		status := string(run.Status)
		if run.Mode != "" {
			status += " (" + string(run.Mode) + ")"
		}
		m.row(mdEscape(run.RunID), mdEscape(run.Name), mdEscape(status), mdEscape(dash(run.StartedAt)),
			mdEscape(dash(shortCommit(run.GitCommit))))
	}
}

func (m *mdWriter) variants(r *Report) {
	if len(r.Variants) == 0 {
		return
	}
	m.ew.printf("\n#### Variants\n")
	m.head("variant", ">results", ">errors", ">p50 ms", ">p95 ms", ">p99 ms", ">tokens in", ">tokens out", ">cost $",
		">judge tokens", ">judge cost $")
	var notes []string
	for _, v := range r.Variants {
		cost := fmtCost(v)
		if v.Unpriced > 0 && cost != "n/a" {
			cost += " (" + plural(v.Unpriced, "result") + " unpriced)"
		}
		jcost := fmtJudgeCost(v)
		if v.JudgeUnpriced > 0 && jcost != "n/a" {
			jcost += " (" + plural(v.JudgeUnpriced, "call") + " unpriced)"
		}
		m.row(mdEscape(v.Name), itoa(v.Results), fmt.Sprintf("%d (%s)", v.Errors, fmtPct(v.ErrorRate)),
			fmtNum(v.LatencyP50, 1), fmtNum(v.LatencyP95, 1), fmtNum(v.LatencyP99, 1),
			i64toa(v.PromptTokens), i64toa(v.CompletionTokens), mdEscape(cost), fmtJudgeTokens(v), mdEscape(jcost))
		if n := fromCacheNote(mdEscape(v.Name), v); n != "" {
			notes = append(notes, n)
		}
		if v.Prompt != "" && promptsNamed(r) {
			notes = append(notes, fmt.Sprintf("prompt of %s: %s `%s`", mdEscape(v.Name), mdEscape(v.Prompt), mdEscape(shortHash(v.PromptHash))))
		}
		for _, mt := range v.Metrics {
			notes = append(notes, fmt.Sprintf("corpus %s (%s) for %s: %s %s", mdEscape(mt.Judge), mdEscape(mt.Type),
				mdEscape(v.Name), fmtNum(mt.Value, 4), mdEscape(mt.Description)))
		}
	}
	if len(notes) > 0 {
		m.ew.printf("\n")
		for _, n := range notes {
			m.ew.printf("- %s\n", strings.TrimSpace(n))
		}
	}
}

func (m *mdWriter) judges(r *Report) {
	names := judgeOrder(r)
	if len(names) == 0 {
		return
	}
	clustered := hasClustered(r)
	cols := []string{"judge", "variant", ">valid", ">judge errors", ">skipped", ">pass rate", ">95% CI", ">mean", ">95% CI"}
	if clustered {
		cols = append(cols, ">clustered 95% CI")
	}
	m.ew.printf("\n#### Judges\n")
	m.head(cols...)
	three := func(x float64) string { return fmtNum(x, 3) }
	for _, name := range names {
		for _, v := range r.Variants {
			j := findJudgeStats(v, name)
			if j == nil {
				continue
			}
			row := []string{mdEscape(j.Judge), mdEscape(v.Name), itoa(j.Valid), itoa(j.JudgeErrors), itoa(j.Skipped),
				fmtPctPtr(j.PassRate), mdEscape(fmtCI(j.PassRateCI, fmtPct)), fmtNumPtr(j.Mean, 3), mdEscape(fmtCI(j.MeanCI, three))}
			if clustered {
				row = append(row, mdEscape(fmtCI(j.ClusteredCI, three)))
			}
			m.row(row...)
		}
	}
}

func mdVerdict(v Verdict) string {
	switch v {
	case VerdictImproved:
		return "🟢 improved"
	case VerdictRegressed:
		return "🔴 regressed"
	case VerdictNoDifference:
		return "⚪ no significant difference"
	}
	return mdEscape(string(v))
}

func (m *mdWriter) comparison(r *Report, c Comparison) {
	m.ew.printf("\n#### %s vs %s\n\n", mdEscape(c.B), mdEscape(c.A))
	line := plural(c.Paired, "paired result") + "."
	if len(c.OnlyA) > 0 {
		line += fmt.Sprintf(" Only in %s (%d): %s.", mdEscape(c.A), len(c.OnlyA), idList(c.OnlyA, mdEscape))
	}
	if len(c.OnlyB) > 0 {
		line += fmt.Sprintf(" Only in %s (%d): %s.", mdEscape(c.B), len(c.OnlyB), idList(c.OnlyB, mdEscape))
	}
	m.ew.printf("%s\n", line)
	if len(c.Judges) == 0 {
		m.promptDiff(c)
		return
	}
	m.head("judge", "test", ">n", ">A", ">B", ">diff", ">95% CI", ">p", ">p adj", "verdict", ">better", ">worse", ">equal", ">MDE")
	signed := func(x float64) string { return fmtSigned(x, 3) }
	for _, j := range c.Judges {
		ci := j.DiffCI
		m.row(mdEscape(j.Judge), mdEscape(testLabel(j)), itoa(j.N), fmtNum(j.MeanA, 3), fmtNum(j.MeanB, 3), fmtSigned(j.Diff, 3),
			mdEscape(fmtCI(&ci, signed)), mdEscape(fmtP(j.P)), mdEscape(fmtP(j.PAdjusted)), mdVerdict(j.Verdict),
			itoa(j.Improved), itoa(j.Regressed), itoa(j.Equal), fmtNum(j.MDE, 3))
	}
	m.ew.printf("\nA and B are mean scores over the paired examples; the interval is a paired bootstrap; "+
		"verdicts use %s at α = %s (adjusted over every comparison and judge of the report); "+
		"MDE is the smallest difference this n detects with 80%% power.\n",
		adjustedP(r), strconv.FormatFloat(alphaOf(r), 'g', -1, 64))
	m.promptDiff(c)
	for _, j := range c.Judges {
		m.regressions(c, j)
	}
}

// promptDiff writes how B's prompt differs from A's in a folded block: a
// fenced diff whose fence is longer than any run of backticks in it, so
// that a prompt cannot close it.
func (m *mdWriter) promptDiff(c Comparison) {
	if c.PromptDiff == "" {
		return
	}
	var body strings.Builder
	for _, line := range strings.Split(strings.TrimRight(c.PromptDiff, "\n"), "\n") {
		body.WriteString(textSafe(line))
		body.WriteByte('\n')
	}
	fence := strings.Repeat("`", max(3, longestRun(body.String(), '`')+1))
	m.ew.printf("\n<details><summary>Prompt of %s against %s's</summary>\n\n%sdiff\n%s%s\n\n</details>\n",
		mdHTML(c.B), mdHTML(c.A), fence, body.String(), fence)
}

// longestRun returns the length of the longest run of r in s.
func longestRun(s string, r rune) int {
	best, n := 0, 0
	for _, c := range s {
		if c == r {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}

func (m *mdWriter) regressions(c Comparison, j JudgeComparison) {
	n := min(len(j.Regressions), m.o.MaxExamples)
	if n == 0 {
		return
	}
	changes := j.Regressions[:n]
	expected := false
	for _, e := range changes {
		expected = expected || e.Expected != ""
	}
	epochs := anyEpoch(changes)
	m.ew.printf("\n<details><summary>Top regressions on %s (%s vs %s): %d of %d worse</summary>\n",
		mdHTML(j.Judge), mdHTML(c.B), mdHTML(c.A), n, j.Regressed)
	cols := []string{"example", "score A → B", "input"}
	if expected {
		cols = append(cols, "expected")
	}
	cols = append(cols, "output A", "output B", "reason B", "traces A / B")
	m.head(cols...)
	for _, e := range changes {
		id := mdEscape(e.ExampleID)
		if epochs {
			id += fmt.Sprintf(" (epoch %d)", e.Epoch)
		}
		row := []string{id, fmt.Sprintf("%s → %s (%s → %s)", fmtNum(e.ScoreA, 3), fmtNum(e.ScoreB, 3), passWord(e.PassA), passWord(e.PassB)),
			m.cut(e.Input)}
		if expected {
			row = append(row, m.cut(e.Expected))
		}
		row = append(row, m.cut(e.OutputA), m.cut(e.OutputB), m.cut(e.ReasonB), mdEscape(dash(e.TraceA))+" / "+mdEscape(dash(e.TraceB)))
		m.row(row...)
	}
	m.ew.printf("\n</details>\n")
}

func (m *mdWriter) pairwise(r *Report) {
	if len(r.Pairwise) == 0 {
		return
	}
	m.ew.printf("\n#### Pairwise judges\n")
	m.head("judge", "B vs A", ">wins", ">ties", ">inconsistent", ">losses", ">judge errors", ">skipped")
	for _, p := range r.Pairwise {
		m.row(mdEscape(p.Judge), mdEscape(p.B)+" vs "+mdEscape(p.A), itoa(p.Wins), itoa(p.Ties), itoa(p.Inconsistent),
			itoa(p.Losses), itoa(p.JudgeErrors), itoa(p.Skipped))
	}
}

func (m *mdWriter) ranking(r *Report) {
	if len(r.Ranking) == 0 {
		return
	}
	m.ew.printf("\n#### Ranking\n\nBradley–Terry log-strength of the pairwise verdicts.\n")
	m.head("judge", ">rank", "variant", ">score", ">95% CI")
	signed := func(x float64) string { return fmtSigned(x, 3) }
	for i, k := range r.Ranking {
		ci := k.CI
		m.row(mdEscape(k.Judge), itoa(rankNumber(r.Ranking, i)), mdEscape(k.Variant), fmtSigned(k.Score, 3), mdEscape(fmtCI(&ci, signed)))
	}
}

func (m *mdWriter) gates(r *Report) {
	if len(r.Gates) == 0 {
		return
	}
	m.ew.printf("\n#### Gates\n")
	m.head("", "gate", "variant", ">value", ">threshold", "detail")
	for _, g := range r.Gates {
		status := "✅ pass"
		if !g.Passed {
			status = "❌ **fail**"
		}
		m.row(status, mdEscape(g.Gate), mdEscape(g.Variant), mdEscape(fmtGateNum(g.Value)), mdEscape(fmtGateNum(g.Threshold)), mdEscape(g.Detail))
	}
}

func (m *mdWriter) warnings(r *Report) {
	if len(r.Warnings) == 0 {
		return
	}
	m.ew.printf("\n#### Warnings\n\n")
	for _, w := range r.Warnings {
		m.ew.printf("- ⚠️ %s\n", mdEscape(w))
	}
}
