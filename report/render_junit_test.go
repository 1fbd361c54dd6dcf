package report

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/eval/results"
)

// fixtureJUnit has every status, two variants, epochs and hostile text.
func fixtureJUnit() []JUnitCase {
	return []JUnitCase{
		{Variant: "baseline", Judge: "correct", ExampleID: "ex-1", Status: JUnitPass, Message: "score 1.000", TimeSec: 0.812},
		{Variant: "baseline", Judge: "clear", ExampleID: "ex-1", Status: JUnitPass, TimeSec: 0.812},
		{Variant: "baseline", Judge: "correct", ExampleID: "ex-2", Epoch: 1, Status: JUnitFail, Message: "score 0.000: " + hostileDetails, TimeSec: 1.5},
		{Variant: "candidate", Judge: "correct", ExampleID: "ex-1", Status: JUnitFail,
			Message: "score 0.000: " + hostileScript + " & \"quotes\" ]]> " + hostileNewline + " \x00\x1b bad bytes", TimeSec: 0.791},
		{Variant: "candidate", Judge: "clear", ExampleID: "ex-1", Status: JUnitError, Message: "judge error: rate limited", TimeSec: 0.791},
		{Variant: "candidate", Judge: "correct", ExampleID: hostilePipe, Status: JUnitError, Message: "chain error in step solve: timeout", TimeSec: 30},
		{Variant: "candidate", Judge: "prefer vs baseline", ExampleID: "ex-3", Status: JUnitSkipped, Message: "not judged: a chain failed"},
	}
}

// The decoded shape of a JUnit document, independent of the writer's
// types.
type xTestsuites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Name     string   `xml:"name,attr"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Suites   []struct {
		Name     string  `xml:"name,attr"`
		Tests    int     `xml:"tests,attr"`
		Failures int     `xml:"failures,attr"`
		Errors   int     `xml:"errors,attr"`
		Skipped  int     `xml:"skipped,attr"`
		Time     float64 `xml:"time,attr"`
		Cases    []struct {
			Name      string  `xml:"name,attr"`
			Classname string  `xml:"classname,attr"`
			Time      float64 `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"error"`
			Skipped *struct{} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func decodeJUnit(t *testing.T, b []byte) xTestsuites {
	t.Helper()
	var d xTestsuites
	if err := xml.Unmarshal(b, &d); err != nil {
		t.Fatalf("junit output is not XML: %v\n%s", err, b)
	}
	return d
}

// needTool returns the path of an outside program a test needs. Without
// it the test skips, saying why, unless GAVEL_REQUIRE_TOOLS is set (CI
// sets it: there a missing tool is a failure, not a skip).
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err == nil {
		return bin
	}
	if os.Getenv("GAVEL_REQUIRE_TOOLS") != "" {
		t.Fatalf("GAVEL_REQUIRE_TOOLS is set but %s was not found (apt-get install -y %s)", name, pkg)
	}
	t.Skipf("%s not found: install %s to also check with it; CI does", name, pkg)
	return ""
}

// xmllint runs xmllint on doc against testdata/render/junit.xsd and
// returns its error and output.
func xmllint(t *testing.T, bin string, doc []byte) ([]byte, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "doc.xml")
	if err := os.WriteFile(path, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	return exec.Command(bin, "--noout", "--schema", filepath.Join("testdata", "render", "junit.xsd"), path).CombinedOutput()
}

// validJUnit checks that doc validates against junit.xsd: always in Go
// (validateJUnit), and with xmllint in a subtest, which skips where
// xmllint is missing (outside CI).
func validJUnit(t *testing.T, name string, doc []byte) {
	t.Helper()
	if err := validateJUnit(doc); err != nil {
		t.Errorf("%s does not validate against junit.xsd: %v\n%s", name, err, doc)
	}
	t.Run("xmllint/"+name, func(t *testing.T) {
		bin := needTool(t, "xmllint", "libxml2-utils")
		if out, err := xmllint(t, bin, doc); err != nil {
			t.Errorf("%s does not validate against junit.xsd with xmllint: %v\n%s", name, err, out)
		}
	})
}

func TestRenderJUnitValidatesAgainstXSD(t *testing.T) {
	docs := map[string]string{
		"report.xml": render(t, fixtureReport(), FormatJUnit, RenderOptions{JUnit: fixtureJUnit()}),
		"empty.xml":  render(t, &Report{}, FormatJUnit, RenderOptions{JUnit: []JUnitCase{}}),
	}
	var buf bytes.Buffer
	if err := RenderJUnit(&buf, "cases only", fixtureJUnit()); err != nil {
		t.Fatal(err)
	}
	docs["cases.xml"] = buf.String()
	for _, name := range []string{"report.xml", "empty.xml", "cases.xml"} {
		validJUnit(t, name, []byte(docs[name]))
	}
}

func TestRenderJUnitStructure(t *testing.T) {
	out := render(t, fixtureReport(), FormatJUnit, RenderOptions{JUnit: fixtureJUnit()})
	if !strings.HasPrefix(out, `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Error("no XML declaration")
	}
	if strings.Contains(out, "<script>") || strings.Contains(out, "</details><img") {
		t.Error("hostile text reached the XML unescaped")
	}
	d := decodeJUnit(t, []byte(out))
	if d.Tests != 9 || d.Failures != 3 || d.Errors != 2 || d.Skipped != 1 {
		t.Errorf("totals tests/failures/errors/skipped = %d/%d/%d/%d, want 9/3/2/1", d.Tests, d.Failures, d.Errors, d.Skipped)
	}
	if len(d.Suites) != 3 {
		t.Fatalf("%d suites, want baseline, candidate and gates", len(d.Suites))
	}
	for i, want := range []struct {
		name                            string
		tests, failures, errors, skippd int
		time                            float64
	}{
		{"gavel.baseline", 3, 1, 0, 0, 0.812 + 1.5},
		{"gavel.candidate", 4, 1, 2, 1, 0.791 + 30},
		{"gavel.gates", 2, 1, 0, 0, 0},
	} {
		s := d.Suites[i]
		if s.Name != want.name || s.Tests != want.tests || s.Failures != want.failures || s.Errors != want.errors ||
			s.Skipped != want.skippd || s.Time < want.time-0.002 || s.Time > want.time+0.002 || len(s.Cases) != s.Tests {
			t.Errorf("suite %d = %s %d/%d/%d/%d time %g, want %+v", i, s.Name, s.Tests, s.Failures, s.Errors, s.Skipped, s.Time, want)
		}
	}
	fail := d.Suites[1].Cases[0]
	if fail.Name != "ex-1 [epoch 0]" || fail.Classname != "gavel.candidate.correct" || fail.Failure == nil || fail.Time != 0.791 {
		t.Errorf("failed case = %+v", fail)
	}
	// The element keeps the whole message (bad bytes replaced); the
	// attribute keeps one line.
	if !strings.Contains(fail.Failure.Text, hostileScript+` & "quotes" ]]> line one`+"\nline two") ||
		strings.Contains(fail.Failure.Message, "\n") || !strings.Contains(fail.Failure.Text, "\uFFFD") {
		t.Errorf("failure message %q, text %q", fail.Failure.Message, fail.Failure.Text)
	}
	if e := d.Suites[1].Cases[1].Error; e == nil || e.Message != "judge error: rate limited" {
		t.Errorf("judge error case = %+v", d.Suites[1].Cases[1])
	}
	if d.Suites[1].Cases[3].Skipped == nil {
		t.Error("skipped case has no <skipped/>")
	}
	gate := d.Suites[2].Cases[1]
	if gate.Classname != "gavel.gates.clear" || gate.Failure == nil || !strings.Contains(gate.Failure.Message, "significant drop") {
		t.Errorf("failed gate case = %+v", gate)
	}
}

func TestRenderJUnitWithoutCases(t *testing.T) {
	d := decodeJUnit(t, []byte(render(t, fixtureReport(), FormatJUnit, RenderOptions{})))
	if len(d.Suites) != 1 || d.Suites[0].Name != "gavel.gates" || d.Tests != 2 || d.Failures != 1 {
		t.Errorf("junit without cases = %+v, want the gates suite alone", d)
	}
}

func TestJUnitCasesFromRun(t *testing.T) {
	str := results.Str
	rs := []results.Result{
		{Variant: "a", ExampleID: "e1", Status: results.StatusOK, LatencyMS: 1500},
		{Variant: "a", ExampleID: "e2", Status: results.StatusError, LatencyMS: 250, Error: str("boom"), FailedStep: str("solve")},
		{Variant: "b", ExampleID: "e1", Status: results.StatusOK, LatencyMS: 500},
		{Variant: "b", ExampleID: "e2", Status: results.StatusOK, LatencyMS: 600},
	}
	ss := []results.Score{
		{Variant: "a", ExampleID: "e1", Judge: "j", Status: results.ScoreOK, Score: fp(1), Pass: bp(true)},
		{Variant: "a", ExampleID: "e1", Judge: "k", Status: results.ScoreJudgeError, Error: str("rate limited")},
		{Variant: "a", ExampleID: "e2", Judge: "j", Status: results.ScoreSkipped},
		{Variant: "b", ExampleID: "e1", Judge: "j", Status: results.ScoreOK, Score: fp(0), Pass: bp(false), Label: str("wrong"), Reason: str("said 5")},
		{Variant: "b", ExampleID: "e2", Judge: "j", Status: results.ScoreOK, Score: fp(1), Pass: bp(true)},
		{Variant: "b", OtherVariant: str("a"), ExampleID: "e1", Judge: "p", Status: results.ScoreOK, Score: fp(0), Pass: bp(false), Label: str("loss"), Reason: str("A is better")},
		{Variant: "b", OtherVariant: str("a"), ExampleID: "e2", Judge: "p", Status: results.ScoreSkipped, Error: str("not judged: a chain failed")},
	}
	dir := writeRun(t, []string{"a", "b"}, []string{"j", "k"}, rs, ss)

	got, err := JUnitCasesFromRun(dir, []string{"b", "a"})
	if err != nil {
		t.Fatal(err)
	}
	want := []JUnitCase{
		{Variant: "b", Judge: "j", ExampleID: "e1", Status: JUnitFail, Message: "score 0.000, label wrong: said 5", TimeSec: 0.5},
		{Variant: "b", Judge: "j", ExampleID: "e2", Status: JUnitPass, Message: "score 1.000", TimeSec: 0.6},
		{Variant: "b", Judge: "p vs a", ExampleID: "e1", Status: JUnitFail, Message: "score 0.000, label loss: A is better", TimeSec: 0.5},
		{Variant: "b", Judge: "p vs a", ExampleID: "e2", Status: JUnitSkipped, Message: "not judged: a chain failed", TimeSec: 0.6},
		{Variant: "a", Judge: "j", ExampleID: "e1", Status: JUnitPass, Message: "score 1.000", TimeSec: 1.5},
		{Variant: "a", Judge: "k", ExampleID: "e1", Status: JUnitError, Message: "judge error: rate limited", TimeSec: 1.5},
		{Variant: "a", Judge: "j", ExampleID: "e2", Status: JUnitError, Message: "chain error in step solve: boom", TimeSec: 0.25},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d cases, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("case %d = %+v\n want %+v", i, got[i], want[i])
		}
	}

	only, err := JUnitCasesFromRun(dir, []string{"a"})
	if err != nil || len(only) != 3 {
		t.Errorf("variant a only: %d cases, %v", len(only), err)
	}
	all, err := JUnitCasesFromRun(dir, nil)
	if err != nil || len(all) != 7 || all[0].Variant != "a" {
		t.Errorf("all variants: %d cases, %v", len(all), err)
	}
	if _, err := JUnitCasesFromRun(dir, []string{"zzz"}); err == nil {
		t.Error("an unknown variant gave no error")
	}

	// The cases render to a valid document.
	var buf bytes.Buffer
	if err := RenderJUnit(&buf, "run r1", got); err != nil {
		t.Fatal(err)
	}
	validJUnit(t, "run.xml", buf.Bytes())
	d := decodeJUnit(t, buf.Bytes())
	if d.Tests != 7 || d.Failures != 2 || d.Errors != 2 || d.Skipped != 1 || d.Suites[0].Time != 1.1 || d.Suites[1].Time != 1.75 {
		t.Errorf("document totals %+v", d)
	}
}
