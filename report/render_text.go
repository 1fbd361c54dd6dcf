package report

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"
)

// textRenderer writes aligned plain-text tables, in the manner of
// benchstat: figures with their intervals, "~" where a difference is not
// significant, and footnotes for what a reader must know.
type textRenderer struct{}

// ANSI colours, used only with RenderOptions.Color.
const (
	ansiGreen = "\x1b[32m"
	ansiRed   = "\x1b[31m"
	ansiReset = "\x1b[0m"
)

func (textRenderer) render(w io.Writer, r *Report, o RenderOptions) error {
	t := &textWriter{ew: &errWriter{w: w}, o: o}
	t.report(r)
	return t.ew.err
}

type textWriter struct {
	ew    *errWriter
	o     RenderOptions
	notes []string
}

// color wraps s in an ANSI colour when colours are on.
func (t *textWriter) color(code, s string) string {
	if !t.o.Color || code == "" {
		return s
	}
	return code + s + ansiReset
}

// quote shows an untrusted string on one line: cut to MaxChars, control
// and invisible characters escaped, in double quotes.
func (t *textWriter) quote(s string) string {
	return `"` + textSafe(truncateRunes(s, t.o.MaxChars)) + `"`
}

// name shows an untrusted name (variant, judge, example id) as is, with
// control characters escaped.
func (t *textWriter) name(s string) string { return textSafe(truncateRunes(s, t.o.MaxChars)) }

// textSafe escapes what must not reach a terminal raw: newlines and tabs
// (they would break the tables), escape sequences and every other
// non-printing character (bidirectional overrides, zero-width ones).
func textSafe(s string) string {
	clean := true
	for _, r := range s {
		if !unicode.IsPrint(r) || r == utf8.RuneError {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == utf8.RuneError:
			b.WriteString(`\ufffd`)
		case !unicode.IsPrint(r):
			if r <= 0xffff {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				fmt.Fprintf(&b, `\U%08x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// textTable is a table written through text/tabwriter. Columns are
// right-aligned (numbers) but for the ones in left; a row may carry an
// ANSI colour, applied to its whole line after alignment so escape codes
// never count as width.
type textTable struct {
	head  []string
	left  map[int]bool
	rows  [][]string
	color []string
}

func newTextTable(left []int, head ...string) *textTable {
	t := &textTable{head: head, left: map[int]bool{}}
	for _, i := range left {
		t.left[i] = true
	}
	return t
}

func (tt *textTable) add(color string, cells ...string) {
	tt.rows = append(tt.rows, cells)
	tt.color = append(tt.color, color)
}

func (t *textWriter) table(tt *textTable) {
	// Left-aligned columns are padded to a common width so tabwriter's
	// AlignRight leaves them as they are.
	width := map[int]int{}
	all := append([][]string{tt.head}, tt.rows...)
	for _, row := range all {
		for i, c := range row {
			if tt.left[i] {
				width[i] = max(width[i], utf8.RuneCountInString(c))
			}
		}
	}
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, row := range all {
		for i, c := range row {
			if tt.left[i] {
				c += strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			}
			tw.Write([]byte(c + "\t"))
		}
		tw.Write([]byte("\n"))
	}
	tw.Flush()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	for i, line := range lines {
		line = strings.TrimRight(line, " ")
		if i > 0 {
			line = t.color(tt.color[i-1], line)
		}
		t.ew.printf("%s\n", line)
	}
}

func (t *textWriter) note(s string) { t.notes = append(t.notes, s) }

func (t *textWriter) report(r *Report) {
	t.ew.printf("%s\n", t.name(reportTitle(r)))
	t.runs(r)
	t.variants(r)
	t.judges(r)
	for _, c := range r.Comparisons {
		t.comparison(r, c)
	}
	t.pairwise(r)
	t.ranking(r)
	t.gates(r)
	t.footnotes(r)
}

func (t *textWriter) runs(r *Report) {
	if len(r.Runs) == 0 {
		return
	}
	tt := newTextTable([]int{0, 1, 2, 3, 4, 5}, "run", "name", "status", "mode", "started", "commit")
	for _, run := range r.Runs {
		tt.add("", t.name(run.RunID), t.name(run.Name), t.name(string(run.Status)), dash(t.name(string(run.Mode))),
			dash(t.name(run.StartedAt)), dash(t.name(shortCommit(run.GitCommit))))
	}
	t.ew.printf("\n")
	t.table(tt)
}

func (t *textWriter) variants(r *Report) {
	if len(r.Variants) == 0 {
		return
	}
	tt := newTextTable([]int{0}, "variant", "results", "ok", "errors", "error rate", "epochs",
		"p50 ms", "p95 ms", "p99 ms", "tokens in", "tokens out", "cost $", "judge tokens", "judge cost $")
	for _, v := range r.Variants {
		cost := fmtCost(v)
		if v.Unpriced > 0 && cost != "n/a" {
			cost += "*"
			t.note(fmt.Sprintf("* %s: %d of %d results have no known price; the cost counts the others",
				t.name(v.Name), v.Unpriced, v.Results))
		}
		jcost := fmtJudgeCost(v)
		if v.JudgeUnpriced > 0 && jcost != "n/a" {
			jcost += "*"
			t.note(fmt.Sprintf("* %s: %d of %d judge model calls have no known price; the judge cost counts the others",
				t.name(v.Name), v.JudgeUnpriced, v.JudgeCalls))
		}
		if n := fromCacheNote(t.name(v.Name), v); n != "" {
			t.note(n)
		}
		tt.add("", t.name(v.Name), itoa(v.Results), itoa(v.OK), itoa(v.Errors), fmtPct(v.ErrorRate), itoa(v.Epochs),
			fmtNum(v.LatencyP50, 1), fmtNum(v.LatencyP95, 1), fmtNum(v.LatencyP99, 1),
			i64toa(v.PromptTokens), i64toa(v.CompletionTokens), cost, fmtJudgeTokens(v), jcost)
	}
	t.ew.printf("\n")
	t.table(tt)
	if promptsNamed(r) {
		for _, v := range r.Variants {
			if v.Prompt != "" {
				t.ew.printf("  prompt of %s: %s  %s\n", t.name(v.Name), t.name(v.Prompt), t.name(shortHash(v.PromptHash)))
			}
		}
	}
	for _, v := range r.Variants {
		for _, m := range v.Metrics {
			line := fmt.Sprintf("  corpus %s (%s) for %s: %s", t.name(m.Judge), t.name(m.Type), t.name(v.Name), fmtNum(m.Value, 4))
			if m.Description != "" {
				line += "  " + textSafe(m.Description)
			}
			t.ew.printf("%s\n", line)
		}
	}
}

// fmtJudgeTokens writes the tokens of a variant's judge model calls, in
// and out together, "-" when judges called no model.
func fmtJudgeTokens(v VariantStats) string {
	if v.JudgeCalls == 0 {
		return "-"
	}
	return i64toa(v.JudgePromptTokens + v.JudgeCompletionTokens)
}

// fmtJudgeCost writes what a variant's judge model calls cost, "n/a" when
// none had a known price, "-" when judges called no model.
func fmtJudgeCost(v VariantStats) string {
	switch {
	case v.JudgeCalls == 0:
		return "-"
	case v.JudgeUnpriced >= v.JudgeCalls:
		return "n/a"
	}
	return fmtNum(v.JudgeCostUSD, 4)
}

func (t *textWriter) judges(r *Report) {
	clustered := hasClustered(r)
	head := []string{"judge", "variant", "valid", "passed", "judge errors", "skipped", "pass rate", "95% CI", "mean", "95% CI"}
	if clustered {
		head = append(head, "clustered 95% CI")
	}
	tt := newTextTable([]int{0, 1}, head...)
	// Judge by judge, in the first variant's order, so that variants sit
	// next to each other.
	for _, name := range judgeOrder(r) {
		for _, v := range r.Variants {
			j := findJudgeStats(v, name)
			if j == nil {
				continue
			}
			row := []string{t.name(j.Judge), t.name(v.Name), itoa(j.Valid), itoa(j.Passed), itoa(j.JudgeErrors), itoa(j.Skipped),
				fmtPctPtr(j.PassRate), fmtCI(j.PassRateCI, fmtPct), fmtNumPtr(j.Mean, 3), fmtCI(j.MeanCI, func(x float64) string { return fmtNum(x, 3) })}
			if clustered {
				row = append(row, fmtCI(j.ClusteredCI, func(x float64) string { return fmtNum(x, 3) }))
			}
			tt.add("", row...)
		}
	}
	if len(tt.rows) == 0 {
		return
	}
	t.ew.printf("\n")
	t.table(tt)
}

// judgeOrder lists judge names in the order variants list them, each
// once.
func judgeOrder(r *Report) []string {
	var names []string
	seen := map[string]bool{}
	for _, v := range r.Variants {
		for _, j := range v.Judges {
			if !seen[j.Judge] {
				seen[j.Judge] = true
				names = append(names, j.Judge)
			}
		}
	}
	return names
}

func findJudgeStats(v VariantStats, name string) *JudgeStats {
	for i := range v.Judges {
		if v.Judges[i].Judge == name {
			return &v.Judges[i]
		}
	}
	return nil
}

// textVerdict is the verdict column: "~" for no significant difference,
// as benchstat writes it.
func textVerdict(v Verdict) (string, string) {
	switch v {
	case VerdictImproved:
		return string(v), ansiGreen
	case VerdictRegressed:
		return string(v), ansiRed
	case VerdictNoDifference:
		return "~", ""
	}
	return string(v), ""
}

func (t *textWriter) comparison(r *Report, c Comparison) {
	t.ew.printf("\n%s vs %s: %s\n", t.name(c.B), t.name(c.A), plural(c.Paired, "paired result"))
	tt := newTextTable([]int{0, 1, 9}, "judge", "test", "n", "A", "B", "diff", "95% CI", "p", "p adj", "verdict", "better", "worse", "equal", "MDE")
	for _, j := range c.Judges {
		verdict, color := textVerdict(j.Verdict)
		if verdict == "~" {
			t.noteSame(r)
		}
		ci := j.DiffCI
		tt.add(color, t.name(j.Judge), testLabel(j), itoa(j.N), fmtNum(j.MeanA, 3), fmtNum(j.MeanB, 3),
			fmtSigned(j.Diff, 3), fmtCI(&ci, func(x float64) string { return fmtSigned(x, 3) }),
			fmtP(j.P), fmtP(j.PAdjusted), verdict, itoa(j.Improved), itoa(j.Regressed), itoa(j.Equal), fmtNum(j.MDE, 3))
	}
	if len(tt.rows) > 0 {
		t.table(tt)
	}
	if len(c.OnlyA) > 0 {
		t.ew.printf("  only in %s (%d): %s\n", t.name(c.A), len(c.OnlyA), idList(c.OnlyA, t.name))
	}
	if len(c.OnlyB) > 0 {
		t.ew.printf("  only in %s (%d): %s\n", t.name(c.B), len(c.OnlyB), idList(c.OnlyB, t.name))
	}
	if c.PromptDiff != "" {
		t.ew.printf("  prompt of %s against %s's (changed words [-old-]{+new+}):\n", t.name(c.B), t.name(c.A))
		for _, line := range strings.Split(strings.TrimRight(c.PromptDiff, "\n"), "\n") {
			t.ew.printf("    %s\n", textSafe(line))
		}
	}
	for _, j := range c.Judges {
		t.regressions(c, j)
	}
}

// promptsNamed reports whether a variant of r took its prompt from the
// registry or a file, so that the report names each variant's prompt.
func promptsNamed(r *Report) bool {
	for _, v := range r.Variants {
		if v.Prompt != "" && v.Prompt != "inline" {
			return true
		}
	}
	return false
}

// shortHash shortens sha256:<hex> to its first 12 hex digits.
func shortHash(h string) string {
	if len(h) > len("sha256:")+12 {
		return h[:len("sha256:")+12]
	}
	return h
}

// noteSame adds, once, the footnote explaining "~".
func (t *textWriter) noteSame(r *Report) {
	n := fmt.Sprintf("~ no significant difference: %s ≥ α = %s; the interval and MDE say how large a change could have gone unseen",
		adjustedP(r), strconv.FormatFloat(alphaOf(r), 'g', -1, 64))
	for _, x := range t.notes {
		if x == n {
			return
		}
	}
	t.note(n)
}

func alphaOf(r *Report) float64 {
	if r.Alpha > 0 {
		return r.Alpha
	}
	return 0.05
}

// adjustedP names the p-value verdicts use, e.g. "Holm-adjusted p" (a
// report without PAdjust predates the choice and used Holm).
func adjustedP(r *Report) string {
	switch r.PAdjust {
	case "", "holm":
		return "Holm-adjusted p"
	case "hochberg":
		return "Hochberg-adjusted p"
	case "bh":
		return "Benjamini–Hochberg-adjusted p"
	case "by":
		return "Benjamini–Yekutieli-adjusted p"
	case "bonferroni":
		return "Bonferroni-adjusted p"
	case "none":
		return "unadjusted p"
	}
	return r.PAdjust + "-adjusted p"
}

// testLabel is a judge's test and how its p-value was computed, e.g.
// "wilcoxon normal+cc".
func testLabel(j JudgeComparison) string {
	l := shortTest(j.Test)
	if j.Method != "" && j.Method != l {
		l += " " + j.Method
	}
	if j.Alternative == "greater" || j.Alternative == "less" {
		l += " " + string(j.Alternative)
	}
	return l
}

// shortTest abbreviates a test's name for the table.
func shortTest(s string) string {
	switch s {
	case "mcnemar_exact":
		return "mcnemar"
	case "wilcoxon_signed_rank":
		return "wilcoxon"
	case "paired_t":
		return "t"
	case "":
		return "-"
	}
	return s
}

func (t *textWriter) regressions(c Comparison, j JudgeComparison) {
	n := min(len(j.Regressions), t.o.MaxExamples)
	if n == 0 {
		return
	}
	t.ew.printf("\ntop regressions on %s, %s vs %s: %d of %d worse\n", t.name(j.Judge), t.name(c.B), t.name(c.A), n, j.Regressed)
	epochs := anyEpoch(j.Regressions)
	for _, e := range j.Regressions[:n] {
		id := t.name(e.ExampleID)
		if epochs {
			id += fmt.Sprintf(" (epoch %d)", e.Epoch)
		}
		t.ew.printf("  %s  score %s → %s  %s → %s\n", id, fmtNum(e.ScoreA, 3), fmtNum(e.ScoreB, 3), passWord(e.PassA), passWord(e.PassB))
		tt := newTextTable([]int{0, 1, 2}, "", "", "")
		add := func(label, s, trace string) {
			if trace != "" {
				trace = "trace " + t.name(trace)
			}
			tt.add("", "   "+label, t.quote(s), trace)
		}
		if e.Input != "" {
			add("input", e.Input, "")
		}
		if e.Expected != "" {
			add("expected", e.Expected, "")
		}
		add("A", e.OutputA, e.TraceA)
		add("B", e.OutputB, e.TraceB)
		if e.ReasonA != "" {
			add("reason A", e.ReasonA, "")
		}
		if e.ReasonB != "" {
			add("reason B", e.ReasonB, "")
		}
		var buf bytes.Buffer
		sub := &textWriter{ew: &errWriter{w: &buf}, o: t.o}
		sub.table(tt)
		// Drop the empty header line.
		_, rows, _ := strings.Cut(buf.String(), "\n")
		t.ew.printf("%s", rows)
	}
}

// rankNumber is the 1-based place of ranks[i] among its judge's ranks,
// which the Report lists together, strongest first.
func rankNumber(ranks []Rank, i int) int {
	n := 1
	for j := i - 1; j >= 0 && ranks[j].Judge == ranks[i].Judge; j-- {
		n++
	}
	return n
}

func passWord(p bool) string {
	if p {
		return "pass"
	}
	return "fail"
}

func (t *textWriter) pairwise(r *Report) {
	if len(r.Pairwise) == 0 {
		return
	}
	t.ew.printf("\npairwise judges\n")
	tt := newTextTable([]int{0, 1}, "judge", "B vs A", "wins", "ties", "inconsistent", "losses", "judge errors", "skipped")
	for _, p := range r.Pairwise {
		tt.add("", t.name(p.Judge), t.name(p.B)+" vs "+t.name(p.A), itoa(p.Wins), itoa(p.Ties), itoa(p.Inconsistent),
			itoa(p.Losses), itoa(p.JudgeErrors), itoa(p.Skipped))
	}
	t.table(tt)
	t.note("inconsistent: ties that came from the judge's verdicts disagreeing when A and B swap places")
}

func (t *textWriter) ranking(r *Report) {
	if len(r.Ranking) == 0 {
		return
	}
	t.ew.printf("\nranking (Bradley–Terry log-strength of the pairwise verdicts)\n")
	tt := newTextTable([]int{0, 2}, "judge", "rank", "variant", "score", "95% CI")
	for i, k := range r.Ranking {
		ci := k.CI
		tt.add("", t.name(k.Judge), itoa(rankNumber(r.Ranking, i)), t.name(k.Variant), fmtSigned(k.Score, 3),
			fmtCI(&ci, func(x float64) string { return fmtSigned(x, 3) }))
	}
	t.table(tt)
}

func (t *textWriter) gates(r *Report) {
	if len(r.Gates) == 0 {
		return
	}
	passed, failed := gateCounts(r)
	head := fmt.Sprintf("gates: all %d passed", passed)
	color := ansiGreen
	if failed > 0 {
		head = fmt.Sprintf("gates: %d of %d failed", failed, passed+failed)
		color = ansiRed
	}
	t.ew.printf("\n%s\n", t.color(color, head))
	tt := newTextTable([]int{0, 1, 2, 5}, "", "gate", "variant", "value", "threshold", "detail")
	for _, g := range r.Gates {
		status, color := "PASS", ""
		if !g.Passed {
			status, color = "FAIL", ansiRed
		}
		tt.add(color, status, t.name(g.Gate), t.name(g.Variant), fmtGateNum(g.Value), fmtGateNum(g.Threshold), textSafe(g.Detail))
	}
	t.table(tt)
}

func (t *textWriter) footnotes(r *Report) {
	if len(t.notes) > 0 {
		t.ew.printf("\n")
		for _, n := range t.notes {
			t.ew.printf("%s\n", n)
		}
	}
	if len(r.Warnings) > 0 {
		t.ew.printf("\nwarnings:\n")
		for i, w := range r.Warnings {
			t.ew.printf("[%d] %s\n", i+1, textSafe(w))
		}
	}
}

func itoa(n int) string     { return strconv.Itoa(n) }
func i64toa(n int64) string { return strconv.FormatInt(n, 10) }

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// shortCommit abbreviates a full git hash to 12 characters.
func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}
