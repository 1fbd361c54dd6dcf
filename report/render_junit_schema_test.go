package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// schemaCases are documents junit.xsd accepts (want "") or rejects (want
// a part of the Go validator's message).
var schemaCases = []struct {
	name, doc, want string
}{
	{"minimal", `<testsuites/>`, ""},
	{"full", `<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment -->
<testsuites name="all" tests="3" failures="1" errors="1" skipped="1" time="1.5">
  <testsuite name="s" tests="3" failures="1" errors="1" skipped="0" time="0.25" timestamp="2026-05-01T10:00:00Z" hostname="h" id="1" package="p">
    <properties><property name="k" value=""/></properties>
    <testcase name="" classname="c" time="0"><failure message="m" type="t">details &amp; more</failure><system-out>o</system-out></testcase>
    <testcase name="b" classname="c" time=" 12 "><error>e</error><system-err>x</system-err></testcase>
    <testcase name="c" classname="c" time=".5"><skipped message="why"/></testcase>
    <testcase name="d" classname="c" time="-0"><system-out/><system-err/></testcase>
    <system-out>suite out</system-out>
    <system-err>suite err</system-err>
  </testsuite>
  <testsuite name="t" tests="+0" failures="0" errors="0" time="3."/>
</testsuites>`, ""},
	{"bad time and no name", `<testsuites><testsuite name="s" tests="1" failures="0" errors="0" time="x"><testcase classname="c" time="0"/></testsuite></testsuites>`, `required attribute "name"`},
	{"time not decimal", `<testsuites><testsuite name="s" tests="1" failures="0" errors="0" time="x"/></testsuites>`, `time="x": not an xs:decimal`},
	{"time exponent", `<testsuites time="1e3"/>`, "not an xs:decimal"},
	{"negative time", `<testsuites><testsuite name="s" tests="0" failures="0" errors="0" time="-0.5"/></testsuites>`, "below the minimum 0"},
	{"count decimal", `<testsuites tests="1.0"/>`, "not an xs:integer"},
	{"negative count", `<testsuites><testsuite name="s" tests="-1" failures="0" errors="0" time="0"/></testsuites>`, "nonNegativeInteger"},
	{"empty suite name", `<testsuites><testsuite name="" tests="0" failures="0" errors="0" time="0"/></testsuites>`, "at least 1 character"},
	{"missing suite counts", `<testsuites><testsuite name="s" time="0"/></testsuites>`, `required attribute "tests"`},
	{"bad timestamp", `<testsuites><testsuite name="s" tests="0" failures="0" errors="0" time="0" timestamp="yesterday"/></testsuites>`, "xs:dateTime"},
	{"undeclared attribute", `<testsuites><testsuite name="s" tests="0" failures="0" errors="0" time="0" color="red"/></testsuites>`, `"color" is not declared`},
	{"wrong root", `<testsuite name="s" tests="0" failures="0" errors="0" time="0"/>`, "want <testsuites>"},
	{"namespaced root", `<testsuites xmlns="urn:x"/>`, "namespace"},
	{"unknown child", `<testsuites><suite/></testsuites>`, "<suite> not allowed"},
	{"two outcomes", `<testsuites><testsuite name="s" tests="1" failures="1" errors="1" time="0"><testcase name="a" classname="c" time="0"><failure/><error/></testcase></testsuite></testsuites>`, "<error> not allowed"},
	{"out of order", `<testsuites><testsuite name="s" tests="1" failures="0" errors="0" time="0"><system-out/><testcase name="a" classname="c" time="0"/></testsuite></testsuites>`, "<testcase> not allowed"},
	{"properties twice", `<testsuites><testsuite name="s" tests="0" failures="0" errors="0" time="0"><properties/><properties/></testsuite></testsuites>`, "<properties> not allowed"},
	{"property without value", `<testsuites><testsuite name="s" tests="0" failures="0" errors="0" time="0"><properties><property name="k"/></properties></testsuite></testsuites>`, `required attribute "value"`},
	{"text in property", `<testsuites><testsuite name="s" tests="0" failures="0" errors="0" time="0"><properties><property name="k" value="v">x</property></properties></testsuite></testsuites>`, "text"},
	{"text in testsuite", `<testsuites><testsuite name="s" tests="0" failures="0" errors="0" time="0">stray</testsuite></testsuites>`, `text "stray"`},
	{"element in failure", `<testsuites><testsuite name="s" tests="1" failures="1" errors="0" time="0"><testcase name="a" classname="c" time="0"><failure><b>x</b></failure></testcase></testsuite></testsuites>`, "holds no elements"},
	{"not well-formed", `<testsuites><testsuite>`, "not well-formed"},
}

func TestValidateJUnit(t *testing.T) {
	for _, c := range schemaCases {
		err := validateJUnit([]byte(c.doc))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: rejected a valid document: %v", c.name, err)
		case c.want != "" && err == nil:
			t.Errorf("%s: accepted an invalid document", c.name)
		case c.want != "" && !strings.Contains(err.Error(), c.want):
			t.Errorf("%s: error %q does not say %q", c.name, err, c.want)
		}
	}
}

// TestValidateJUnitAgreesWithXmllint keeps the Go validator honest: on
// every case, xmllint with junit.xsd gives the same verdict.
func TestValidateJUnitAgreesWithXmllint(t *testing.T) {
	bin := needTool(t, "xmllint", "libxml2-utils")
	for _, c := range schemaCases {
		out, err := xmllint(t, bin, []byte(c.doc))
		if (err == nil) != (c.want == "") {
			t.Errorf("%s: xmllint says valid=%v, the Go validator valid=%v:\n%s", c.name, err == nil, c.want == "", out)
		}
	}
}

// validateJUnit checks doc against the rules of testdata/render/junit.xsd
// in Go, so JUnit output is validated wherever `go test` runs, with or
// without xmllint. It follows the schema element by element:
//
//   - element names and where each may appear, in the schema's order
//     (testsuites > testsuite* > properties?, testcase*, system-out?,
//     system-err?; testcase > (failure | error | skipped)?, system-out?,
//     system-err?; properties > property*);
//   - required attributes, and no attribute the schema does not declare;
//   - attribute types: counts are xs:nonNegativeInteger, times xs:decimal
//     ≥ 0, timestamps xs:dateTime, names of suites and properties
//     non-empty;
//   - content: element-only elements hold whitespace and comments only,
//     text elements (failure, error, skipped, system-out, system-err) hold
//     no elements, property holds nothing.
//
// It returns every violation found, each with its element path.
func validateJUnit(doc []byte) error {
	if !utf8.Valid(doc) {
		return errors.New("document is not UTF-8")
	}
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	v := &junitValidator{}
	var stack []*xsdFrame
	root := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("not well-formed XML: %w", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if tok.Name.Space != "" {
				v.errorf(pathOf(stack, tok.Name.Local), "element in namespace %q: the schema has no target namespace", tok.Name.Space)
			}
			name := tok.Name.Local
			var el *xsdElement
			if len(stack) == 0 {
				if root {
					v.errorf(name, "a second root element")
				}
				root = true
				if name != "testsuites" {
					v.errorf(name, "root element is <%s>, want <testsuites>", name)
				}
				el = junitSchema["testsuites"]
			} else {
				parent := stack[len(stack)-1]
				el = parent.child(v, pathOf(stack, name), name)
			}
			path := pathOf(stack, name)
			if el != nil {
				v.attrs(path, el, tok.Attr)
			}
			stack = append(stack, &xsdFrame{name: name, el: el})
		case xml.EndElement:
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if f.el != nil {
				f.end(v, pathOf(stack, f.name))
			}
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(tok)) > 0 {
					v.errorf("/", "text outside the root element")
				}
				continue
			}
			f := stack[len(stack)-1]
			if f.el != nil && f.el.content != xsdText && len(bytes.TrimSpace(tok)) > 0 {
				v.errorf(pathOf(stack[:len(stack)-1], f.name), "text %q in element-only content", truncateRunes(string(bytes.TrimSpace(tok)), 40))
			}
		case xml.Comment, xml.ProcInst, xml.Directive:
			// Allowed anywhere.
		}
	}
	if !root {
		v.errorf("/", "no root element")
	}
	return errors.Join(v.errs...)
}

// xsdContent is what an element may hold.
type xsdContent int

const (
	xsdEmpty    xsdContent = iota // no text, no elements
	xsdElements                   // child elements in order, whitespace between
	xsdText                       // text only (simple content)
)

// xsdElement is one element declaration of junit.xsd.
type xsdElement struct {
	attrs   map[string]xsdAttr
	content xsdContent
	// seq is the content model of element-only content: particles in
	// order. A particle is a choice of element names, with occurrence
	// bounds.
	seq []xsdParticle
}

type xsdAttr struct {
	required bool
	check    func(string) error
}

type xsdParticle struct {
	names    []string // a choice among these; one name for a plain element
	min, max int      // max < 0 is unbounded
}

// junitSchema is junit.xsd: testsuites is the root; the others are the
// local elements, by name (each name has one declaration).
var junitSchema = func() map[string]*xsdElement {
	str := func(string) error { return nil }
	opt := func(c func(string) error) xsdAttr { return xsdAttr{check: c} }
	req := func(c func(string) error) xsdAttr { return xsdAttr{required: true, check: c} }
	problem := &xsdElement{content: xsdText, attrs: map[string]xsdAttr{"message": opt(str), "type": opt(str)}}
	text := &xsdElement{content: xsdText, attrs: map[string]xsdAttr{}}
	return map[string]*xsdElement{
		"testsuites": {content: xsdElements,
			attrs: map[string]xsdAttr{"name": opt(str), "tests": opt(xsdCount), "failures": opt(xsdCount),
				"errors": opt(xsdCount), "skipped": opt(xsdCount), "time": opt(xsdSeconds)},
			seq: []xsdParticle{{names: []string{"testsuite"}, min: 0, max: -1}}},
		"testsuite": {content: xsdElements,
			attrs: map[string]xsdAttr{"name": req(xsdNonEmpty), "tests": req(xsdCount), "failures": req(xsdCount),
				"errors": req(xsdCount), "skipped": opt(xsdCount), "time": req(xsdSeconds), "timestamp": opt(xsdDateTime),
				"hostname": opt(str), "id": opt(str), "package": opt(str)},
			seq: []xsdParticle{{names: []string{"properties"}, max: 1}, {names: []string{"testcase"}, max: -1},
				{names: []string{"system-out"}, max: 1}, {names: []string{"system-err"}, max: 1}}},
		"properties": {content: xsdElements, attrs: map[string]xsdAttr{},
			seq: []xsdParticle{{names: []string{"property"}, max: -1}}},
		"property": {content: xsdEmpty, attrs: map[string]xsdAttr{"name": req(xsdNonEmpty), "value": req(str)}},
		"testcase": {content: xsdElements,
			attrs: map[string]xsdAttr{"name": req(str), "classname": req(str), "time": req(xsdSeconds)},
			seq: []xsdParticle{{names: []string{"failure", "error", "skipped"}, max: 1},
				{names: []string{"system-out"}, max: 1}, {names: []string{"system-err"}, max: 1}}},
		"failure":    problem,
		"error":      problem,
		"skipped":    {content: xsdText, attrs: map[string]xsdAttr{"message": opt(str)}},
		"system-out": text,
		"system-err": text,
	}
}()

// xsdFrame is an open element: where its content model stands.
type xsdFrame struct {
	name string
	el   *xsdElement
	pos  int // the particle the next child may match
	seen int // children matched by particle pos
}

// child matches a child element named name against f's content model and
// returns its declaration (nil when it is not allowed).
func (f *xsdFrame) child(v *junitValidator, path, name string) *xsdElement {
	if f.el == nil {
		return nil // inside an element already reported
	}
	if f.el.content != xsdElements {
		v.errorf(path, "element <%s> inside <%s>, which holds no elements", name, f.name)
		return nil
	}
	for f.pos < len(f.el.seq) {
		p := f.el.seq[f.pos]
		if contains(p.names, name) && (p.max < 0 || f.seen < p.max) {
			f.seen++
			return junitSchema[name]
		}
		if f.seen < p.min {
			break
		}
		f.pos, f.seen = f.pos+1, 0
	}
	v.errorf(path, "element <%s> not allowed here in <%s> (want %s)", name, f.name, f.el.describe())
	f.pos = len(f.el.seq) // the rest of this element's children are out of order too; say it once
	f.seen = 0
	return nil
}

// end checks that every required particle of f was matched.
func (f *xsdFrame) end(v *junitValidator, path string) {
	if f.el.content != xsdElements {
		return
	}
	for i := f.pos; i < len(f.el.seq); i++ {
		n := 0
		if i == f.pos {
			n = f.seen
		}
		if p := f.el.seq[i]; n < p.min {
			v.errorf(path, "missing <%s>", strings.Join(p.names, "> or <"))
		}
	}
}

func (e *xsdElement) describe() string {
	var parts []string
	for _, p := range e.seq {
		s := strings.Join(p.names, " | ")
		switch {
		case p.max < 0:
			s += "*"
		case p.min == 0:
			s += "?"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

type junitValidator struct{ errs []error }

func (v *junitValidator) errorf(path, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
}

// attrs checks an element's attributes: declared, of their type, the
// required ones present. Namespace declarations are not attributes.
func (v *junitValidator) attrs(path string, el *xsdElement, attrs []xml.Attr) {
	seen := map[string]bool{}
	for _, a := range attrs {
		if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
			continue
		}
		decl, ok := el.attrs[a.Name.Local]
		if !ok || a.Name.Space != "" {
			v.errorf(path, "attribute %q is not declared", a.Name.Local)
			continue
		}
		seen[a.Name.Local] = true
		if err := decl.check(a.Value); err != nil {
			v.errorf(path, "attribute %s=%q: %v", a.Name.Local, a.Value, err)
		}
	}
	for name, decl := range el.attrs {
		if decl.required && !seen[name] {
			v.errorf(path, "required attribute %q is missing", name)
		}
	}
}

func pathOf(stack []*xsdFrame, name string) string {
	var b strings.Builder
	for _, f := range stack {
		b.WriteString("/" + f.name)
	}
	return b.String() + "/" + name
}

// The XSD types the schema uses. Numeric and date types collapse
// whitespace before checking their lexical form; xs:string keeps it.
var (
	reInteger  = regexp.MustCompile(`^[+-]?[0-9]+$`)
	reDecimal  = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$`)
	reDateTime = regexp.MustCompile(`^-?[0-9]{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?$|^-?[0-9]{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T24:00:00(\.0+)?(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?$`)
)

// collapse is XSD's whiteSpace="collapse".
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// isNegative reports whether a lexically valid number is below zero
// ("-0" and "-0.00" are zero).
func isNegative(s string) bool {
	return strings.HasPrefix(s, "-") && strings.Trim(s[1:], "0.") != ""
}

func xsdCount(s string) error {
	s = collapse(s)
	if !reInteger.MatchString(s) {
		return errors.New("not an xs:integer")
	}
	if isNegative(s) {
		return errors.New("negative, want an xs:nonNegativeInteger")
	}
	return nil
}

func xsdSeconds(s string) error {
	s = collapse(s)
	if !reDecimal.MatchString(s) {
		return errors.New("not an xs:decimal")
	}
	if isNegative(s) {
		return errors.New("below the minimum 0")
	}
	return nil
}

func xsdNonEmpty(s string) error {
	if utf8.RuneCountInString(s) < 1 {
		return errors.New("empty, want at least 1 character")
	}
	return nil
}

func xsdDateTime(s string) error {
	if !reDateTime.MatchString(collapse(s)) {
		return errors.New("not an xs:dateTime")
	}
	return nil
}
