package report

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gavel-eval/gavel/report/stats"
)

// Format is an output format of a Report.
type Format string

// The formats Render writes.
const (
	FormatText     Format = "text"
	FormatMarkdown Format = "markdown"
	FormatJSON     Format = "json"
	FormatJUnit    Format = "junit"
	FormatHTML     Format = "html"
)

// renderer writes a Report in one format. Every format is one row of
// renderers: adding one (HTML) is adding a row.
type renderer interface {
	render(w io.Writer, r *Report, o RenderOptions) error
}

var renderers = []struct {
	format Format
	r      renderer
}{
	{FormatText, textRenderer{}},
	{FormatMarkdown, markdownRenderer{}},
	{FormatJSON, jsonRenderer{}},
	{FormatJUnit, junitRenderer{}},
	{FormatHTML, htmlRenderer{}},
}

// Formats returns the formats Render writes, in the order help texts list
// them.
func Formats() []Format {
	fs := make([]Format, len(renderers))
	for i, r := range renderers {
		fs[i] = r.format
	}
	return fs
}

// ParseFormat parses a format name (case-insensitive). Its error lists the
// valid names.
func ParseFormat(s string) (Format, error) {
	name := Format(strings.ToLower(strings.TrimSpace(s)))
	for _, r := range renderers {
		if r.format == name {
			return name, nil
		}
	}
	names := make([]string, len(renderers))
	for i, r := range renderers {
		names[i] = string(r.format)
	}
	return "", fmt.Errorf("unknown report format %q: want one of %s", s, strings.Join(names, ", "))
}

// RenderOptions tune Render. The zero value is valid for every format.
type RenderOptions struct {
	// Color colours the text format with ANSI codes: green for improved,
	// red for regressed and failed gates. The CLI sets it only when stdout
	// is a terminal (and NO_COLOR is unset); other formats ignore it.
	Color bool
	// MaxExamples is how many regressions text and Markdown show per judge
	// (default 5; negative shows none). The Report holds at most its TopK.
	MaxExamples int
	// MaxChars is the longest excerpt, in characters, of an untrusted
	// string (an input, output or reason) in text and Markdown; longer
	// ones are cut and end with "…" (default 100).
	MaxChars int
	// JUnit holds the per-row cases the junit format renders, one test
	// case per example × judge, since the Report carries aggregates only:
	// build it with JUnitCasesFromRun (for a comparison, from the B
	// sides). The junit format renders them, one suite per variant, then
	// the Report's gates as a "gavel.gates" suite; without cases, the
	// gates alone. Other formats ignore it.
	JUnit []JUnitCase
	// HTML tunes the html format, which reads each run's rows and spans
	// from the directories the Report's Runs name.
	HTML HTMLOptions
}

func (o *RenderOptions) defaults() {
	if o.MaxExamples == 0 {
		o.MaxExamples = 5
	} else if o.MaxExamples < 0 {
		o.MaxExamples = 0
	}
	if o.MaxChars <= 0 {
		o.MaxChars = 100
	}
}

// Render writes r in format f. Output is deterministic: the same Report
// and options give the same bytes.
func Render(w io.Writer, r *Report, f Format, opts RenderOptions) error {
	if r == nil {
		return errors.New("render: nil report")
	}
	opts.defaults()
	for _, rr := range renderers {
		if rr.format == f {
			return rr.r.render(w, r, opts)
		}
	}
	_, err := ParseFormat(string(f))
	return err
}

// errWriter remembers the first write error so renderers can write
// freely and check once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }

// truncateRunes cuts s to at most n runes, ending with "…" when cut.
func truncateRunes(s string, n int) string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for pos := range s {
		if i == n-1 {
			return s[:pos] + "…"
		}
		i++
	}
	return s
}

// oneLine turns every run of whitespace, newlines included, into one
// space and trims the ends.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
}

// countVerdicts counts the comparisons' judge verdicts by name, in a fixed
// order: improved, regressed, no significant difference, not enough data.
func countVerdicts(r *Report) (improved, regressed, same, unknown int) {
	for _, c := range r.Comparisons {
		for _, j := range c.Judges {
			switch j.Verdict {
			case VerdictImproved:
				improved++
			case VerdictRegressed:
				regressed++
			case VerdictNoDifference:
				same++
			default:
				unknown++
			}
		}
	}
	return
}

func gateCounts(r *Report) (passed, failed int) {
	for _, g := range r.Gates {
		if g.Passed {
			passed++
		} else {
			failed++
		}
	}
	return
}

// plural returns "n word" with an s when n != 1.
func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// maxIDs is how many one-side-only example ids text and Markdown list.
const maxIDs = 10

// idList lists the first maxIDs ids through quote, with how many more.
func idList(ids []string, quote func(string) string) string {
	var b strings.Builder
	for i, id := range ids {
		if i == maxIDs {
			fmt.Fprintf(&b, ", … and %d more", len(ids)-maxIDs)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(id))
	}
	return b.String()
}

// anyEpoch reports whether some change is not of epoch 0, so epochs are
// worth showing.
func anyEpoch(cs []ExampleChange) bool {
	for _, c := range cs {
		if c.Epoch != 0 {
			return true
		}
	}
	return false
}

// Number formatting shared by text and Markdown. NaN and ±Inf, which the
// Report uses for "not available", print as "-".

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func fmtNum(x float64, prec int) string {
	if !finite(x) {
		return "-"
	}
	return strconv.FormatFloat(x, 'f', prec, 64)
}

func fmtSigned(x float64, prec int) string {
	if !finite(x) {
		return "-"
	}
	if x == 0 {
		x = 0 // no "-0"
	}
	return fmt.Sprintf("%+.*f", prec, x)
}

func fmtPct(x float64) string {
	if !finite(x) {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*x)
}

func fmtPctPtr(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmtPct(*p)
}

func fmtNumPtr(p *float64, prec int) string {
	if p == nil {
		return "-"
	}
	return fmtNum(*p, prec)
}

// fmtCI writes an interval as "[lo, hi]" with f, "-" when absent.
func fmtCI(ci *stats.Interval, f func(float64) string) string {
	if ci == nil || !finite(ci.Lo) || !finite(ci.Hi) {
		return "-"
	}
	return "[" + f(ci.Lo) + ", " + f(ci.Hi) + "]"
}

// fmtP writes a p-value with four decimals, "<0.0001" below that.
func fmtP(p float64) string {
	switch {
	case !finite(p):
		return "-"
	case p < 0.0001:
		return "<0.0001"
	}
	return strconv.FormatFloat(p, 'f', 4, 64)
}

// fmtCost writes a variant's cost in dollars, "n/a" when no result had a
// known price.
func fmtCost(v VariantStats) string {
	if v.Unpriced > 0 && v.Unpriced >= v.Results {
		return "n/a"
	}
	return fmtNum(v.CostUSD, 4)
}

// fromCacheNote says how many of a variant's results came from the cache,
// or "" when none did.
func fromCacheNote(name string, v VariantStats) string {
	if v.FromCache == 0 {
		return ""
	}
	return fmt.Sprintf("%s: %d of %d results from the cache; their latency, tokens and cost are those of the original calls", name, v.FromCache, v.Results)
}

// fmtGateNum writes a gate's value or threshold with up to four
// significant decimals.
func fmtGateNum(x float64) string {
	if !finite(x) {
		return "-"
	}
	return strconv.FormatFloat(x, 'g', 4, 64)
}

// hasClustered reports whether some judge has a cluster-robust interval.
func hasClustered(r *Report) bool {
	for _, v := range r.Variants {
		for _, j := range v.Judges {
			if j.ClusteredCI != nil {
				return true
			}
		}
	}
	return false
}

// title names what the report is about: its runs' names and ids.
func reportTitle(r *Report) string {
	kind := r.Kind
	if kind == "" {
		kind = "report"
	}
	var runs []string
	for _, run := range r.Runs {
		s := run.RunID
		if run.Name != "" {
			s = run.Name + " (" + run.RunID + ")"
		}
		runs = append(runs, s)
	}
	if len(runs) == 0 {
		return "gavel " + kind
	}
	return "gavel " + kind + ": " + strings.Join(runs, " vs ")
}
