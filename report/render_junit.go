package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gavel-eval/gavel/eval/results"
)

// JUnitCase is one test case of the JUnit format: one judge's verdict on
// one result (variant × example × epoch).
type JUnitCase struct {
	Variant   string
	Judge     string
	ExampleID string
	Epoch     int
	// Status is one of the JUnit* statuses.
	Status JUnitStatus
	// Message says why a case failed, errored or was skipped: the judge's
	// reason, the judge's error or the chain's error.
	Message string
	// TimeSec is the chain's latency for this result, in seconds.
	TimeSec float64
}

// JUnitStatus is the outcome of one JUnit test case (JUnitCase.Status).
type JUnitStatus string

// JUnitCase statuses.
const (
	// JUnitPass: the judge passed the result.
	JUnitPass JUnitStatus = "pass"
	// JUnitFail: the judge failed the result.
	JUnitFail JUnitStatus = "fail"
	// JUnitError: the judge or the chain failed; Message says why.
	JUnitError JUnitStatus = "error"
	// JUnitSkipped: the case was not judged (a chain failed).
	JUnitSkipped JUnitStatus = "skipped"
)

// junitRenderer writes JUnit XML from RenderOptions.JUnit, plus the
// Report's gates as a suite of their own.
type junitRenderer struct{}

func (junitRenderer) render(w io.Writer, r *Report, o RenderOptions) error {
	doc := junitDocument(reportTitle(r), o.JUnit)
	if len(r.Gates) > 0 {
		s := junitSuite{Name: "gavel.gates", Time: "0.000"}
		for _, g := range r.Gates {
			classname := "gavel.gates"
			if g.Judge != "" {
				classname += "." + g.Judge
			}
			tc := junitTestcase{Name: g.Gate + " [" + g.Variant + "]", Classname: classname, Time: "0.000"}
			if !g.Passed {
				tc.Failure = &junitProblem{Message: junitAttr(g.Detail), Type: "gate", Text: g.Detail}
				s.Failures++
			}
			s.Tests++
			s.Cases = append(s.Cases, tc)
		}
		doc.add(s)
	}
	return writeJUnit(w, doc)
}

// RenderJUnit writes cases as a JUnit XML document named suiteName: one
// <testsuite> per variant (in the order cases first name them) and one
// <testcase> per case, named by example id (with its epoch when some case
// is not of epoch 0) and classed "gavel.<variant>.<judge>". A failed
// verdict is a <failure>, a judge or chain error an <error>, a skipped
// row <skipped/>. A suite's time counts each result once.
func RenderJUnit(w io.Writer, suiteName string, cases []JUnitCase) error {
	return writeJUnit(w, junitDocument(suiteName, cases))
}

func writeJUnit(w io.Writer, doc *junitTestsuites) error {
	ew := &errWriter{w: w}
	ew.printf("%s", xml.Header)
	enc := xml.NewEncoder(ew)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	ew.printf("\n")
	return ew.err
}

// The JUnit XML document (Ant/Jenkins report format; see
// testdata/render/junit.xsd).
type junitTestsuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
	seconds  float64
}

type junitSuite struct {
	Name     string          `xml:"name,attr"`
	Tests    int             `xml:"tests,attr"`
	Failures int             `xml:"failures,attr"`
	Errors   int             `xml:"errors,attr"`
	Skipped  int             `xml:"skipped,attr"`
	Time     string          `xml:"time,attr"`
	Cases    []junitTestcase `xml:"testcase"`
	seconds  float64
}

type junitTestcase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkip    `xml:"skipped,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkip struct {
	Message string `xml:"message,attr,omitempty"`
}

func (d *junitTestsuites) add(s junitSuite) {
	d.Suites = append(d.Suites, s)
	d.Tests += s.Tests
	d.Failures += s.Failures
	d.Errors += s.Errors
	d.Skipped += s.Skipped
	d.seconds += s.seconds
	d.Time = junitTime(d.seconds)
}

func junitDocument(name string, cases []JUnitCase) *junitTestsuites {
	doc := &junitTestsuites{Name: name, Time: junitTime(0)}
	epochs := false
	for _, c := range cases {
		epochs = epochs || c.Epoch != 0
	}
	var order []string
	byVariant := map[string][]JUnitCase{}
	for _, c := range cases {
		if _, ok := byVariant[c.Variant]; !ok {
			order = append(order, c.Variant)
		}
		byVariant[c.Variant] = append(byVariant[c.Variant], c)
	}
	for _, v := range order {
		s := junitSuite{Name: "gavel." + v}
		seen := map[[2]string]bool{}
		for _, c := range byVariant[v] {
			name := c.ExampleID
			if epochs {
				name += " [epoch " + strconv.Itoa(c.Epoch) + "]"
			}
			tc := junitTestcase{Name: name, Classname: "gavel." + v + "." + c.Judge, Time: junitTime(c.TimeSec)}
			switch c.Status {
			case JUnitFail:
				tc.Failure = &junitProblem{Message: junitAttr(c.Message), Type: "fail", Text: c.Message}
				s.Failures++
			case JUnitError:
				tc.Error = &junitProblem{Message: junitAttr(c.Message), Type: "error", Text: c.Message}
				s.Errors++
			case JUnitSkipped:
				tc.Skipped = &junitSkip{Message: junitAttr(c.Message)}
				s.Skipped++
			}
			s.Tests++
			// A result's latency is counted once, however many judges.
			k := [2]string{c.ExampleID, strconv.Itoa(c.Epoch)}
			if !seen[k] && c.TimeSec > 0 {
				s.seconds += c.TimeSec
			}
			seen[k] = true
			s.Cases = append(s.Cases, tc)
		}
		s.Time = junitTime(s.seconds)
		doc.add(s)
	}
	return doc
}

// junitTime writes seconds with millisecond precision, never negative.
func junitTime(sec float64) string {
	if !finite(sec) || sec < 0 {
		sec = 0
	}
	return strconv.FormatFloat(sec, 'f', 3, 64)
}

// junitAttr is a message attribute: one line, at most 200 characters
// (the element's text holds the whole message).
func junitAttr(s string) string { return truncateRunes(oneLine(s), 200) }

// JUnitCasesFromRun reads the JUnit cases of the run in dir: one per
// judge verdict (scores.parquet), timed by its result's latency
// (results.parquet), for the given variants (all when none are given) in
// that order, rows in the stored order within each. It streams both files;
// only a latency per result is held besides the cases.
//
// A passing verdict is pass and a failing one fail, with the judge's
// score, label and reason as message; a judge error is error; a row the
// judge skipped because the chain failed is error with the chain's error.
// Pairwise judgments are cases of the B variant whose judge is "<judge>
// vs <A>": a loss fails, a win or tie passes, and a pair skipped because
// a chain failed is skipped (that chain's error is already a case).
func JUnitCasesFromRun(dir string, variants []string) ([]JUnitCase, error) {
	m, err := results.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	rank := map[string]int{}
	if len(variants) == 0 {
		for _, v := range m.Variants {
			variants = append(variants, v.Name)
		}
	}
	for i, v := range variants {
		found := false
		for _, mv := range m.Variants {
			found = found || mv.Name == v
		}
		if !found {
			return nil, fmt.Errorf("run %s has no variant %q", m.RunID, v)
		}
		if _, dup := rank[v]; !dup {
			rank[v] = i
		}
	}
	type resultKey struct {
		variant, example string
		epoch            int32
	}
	type resultInfo struct {
		sec      float64
		chainErr string
	}
	info := map[resultKey]resultInfo{}
	err = results.ReadResults(filepath.Join(dir, results.ResultsFile), func(r results.Result) error {
		if _, ok := rank[r.Variant]; !ok {
			return nil
		}
		ri := resultInfo{sec: r.LatencyMS / 1000}
		if r.Status == results.StatusError {
			ri.chainErr = "chain error"
			if r.FailedStep != nil {
				ri.chainErr += " in step " + *r.FailedStep
			}
			if r.Error != nil {
				ri.chainErr += ": " + *r.Error
			}
		}
		info[resultKey{r.Variant, r.ExampleID, r.Epoch}] = ri
		return nil
	})
	if err != nil {
		return nil, err
	}
	var cases []JUnitCase
	err = results.ReadScores(filepath.Join(dir, results.ScoresFile), func(s results.Score) error {
		if _, ok := rank[s.Variant]; !ok {
			return nil
		}
		ri := info[resultKey{s.Variant, s.ExampleID, s.Epoch}]
		c := JUnitCase{Variant: s.Variant, Judge: s.Judge, ExampleID: s.ExampleID, Epoch: int(s.Epoch), TimeSec: ri.sec}
		pairwise := s.OtherVariant != nil
		if pairwise {
			c.Judge += " vs " + *s.OtherVariant
		}
		switch s.Status {
		case results.ScoreOK:
			c.Status, c.Message = JUnitPass, verdictMessage(s)
			if pairwise {
				if results.Deref(s.Label) == "loss" {
					c.Status = JUnitFail
				}
			} else if s.Pass != nil && !*s.Pass {
				c.Status = JUnitFail
			}
		case results.ScoreJudgeError:
			c.Status, c.Message = JUnitError, "judge error: "+results.Deref(s.Error)
		default:
			c.Status, c.Message = JUnitSkipped, results.Deref(s.Error)
			if !pairwise && ri.chainErr != "" {
				c.Status, c.Message = JUnitError, ri.chainErr
			}
		}
		cases = append(cases, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(cases, func(a, b JUnitCase) int { return rank[a.Variant] - rank[b.Variant] })
	if cases == nil {
		cases = []JUnitCase{}
	}
	return cases, nil
}

// verdictMessage describes a judge's verdict: score, label and reason.
func verdictMessage(s results.Score) string {
	var parts []string
	if s.Score != nil {
		parts = append(parts, "score "+strconv.FormatFloat(*s.Score, 'f', 3, 64))
	}
	if l := results.Deref(s.Label); l != "" {
		parts = append(parts, "label "+l)
	}
	msg := strings.Join(parts, ", ")
	if r := results.Deref(s.Reason); r != "" {
		if msg != "" {
			msg += ": "
		}
		msg += r
	}
	return msg
}
