// Package prompts holds gavel's prompt templates: Go text/template text
// rendered over an example's fields, the variant and earlier steps' outputs,
// with strict handling of missing fields and stable content hashes.
package prompts

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"

	"github.com/gavel-eval/gavel/internal/tmpl"
)

// Template is a parsed template. It is safe for concurrent use.
type Template struct {
	name string
	text string
	t    *template.Template
	// fast, when not nil, is the template as text and field paths: it
	// has no other action, and renders without text/template (see
	// renderFast).
	fast []fastPart
}

// fastPart is literal text, or (when path is set) a field path printed.
type fastPart struct {
	text string
	path []string
}

// fastParts returns the parts of a tree made only of text and actions
// printing a field path ({{.example.q}}), or nil.
func fastParts(t *template.Template) []fastPart {
	if len(t.Templates()) != 1 || t.Tree == nil || t.Tree.Root == nil {
		return nil
	}
	var parts []fastPart
	for _, n := range t.Tree.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			parts = append(parts, fastPart{text: string(n.Text)})
		case *parse.ActionNode:
			p := n.Pipe
			if len(p.Decl) != 0 || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
				return nil
			}
			f, ok := p.Cmds[0].Args[0].(*parse.FieldNode)
			if !ok {
				return nil
			}
			parts = append(parts, fastPart{text: f.String(), path: f.Ident})
		default:
			return nil
		}
	}
	return parts
}

// renderFast renders a template of text and field paths over maps of
// map[string]any, as text/template would print it. ok is false when it
// cannot (other data, a missing field): the caller then executes the
// template, which gives text/template's own result or error.
func (t *Template) renderFast(data any) (out string, ok bool, err error) {
	var b strings.Builder
	for _, p := range t.fast {
		if p.path == nil {
			b.WriteString(p.text)
			continue
		}
		v := data
		for _, k := range p.path {
			m, isMap := v.(map[string]any)
			if !isMap {
				return "", false, nil
			}
			if v, isMap = m[k]; !isMap {
				return "", false, nil
			}
		}
		switch x := v.(type) {
		case nil:
			return "", true, fmt.Errorf("template %s: %w", t.name, &NullError{Expr: p.text})
		case string:
			b.WriteString(x)
		case json.Number:
			b.WriteString(string(x))
		default:
			if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Chan || rv.Kind() == reflect.Func {
				return "", false, nil // text/template's own rules
			}
			fmt.Fprint(&b, v)
		}
	}
	return b.String(), true, nil
}

// NullError is the error of rendering a value that is null or missing: a
// JSON null (or a lookup with no result, like index of a missing key) in
// a position that prints it. text/template would print "<no value>".
type NullError = tmpl.NullError

// ParseError is a template that does not parse. Line and Column are
// 1-based positions in the template's text (Column, in bytes, is 0 when
// unknown); LineText is the text of that line, for locating it in a file.
type ParseError struct {
	Name     string
	Line     int
	Column   int
	LineText string
	Msg      string
}

func (e *ParseError) Error() string {
	if e.Column > 0 {
		return fmt.Sprintf("template %s: line %d, column %d: %s", e.Name, e.Line, e.Column, e.Msg)
	}
	return fmt.Sprintf("template %s: line %d: %s", e.Name, e.Line, e.Msg)
}

// parseErrLine matches text/template's parse errors: "template: NAME:LINE: MSG".
var parseErrLine = regexp.MustCompile(`^template: .*?:(\d+): (.*)$`)

// newParseError turns text/template's parse error into a ParseError with
// the position of the failing action: for an unclosed action or comment,
// its opening delimiter; otherwise the first action on the reported line
// (or the reported function's name on it).
func newParseError(name, text string, err error) *ParseError {
	pe := &ParseError{Name: name, Line: 1, Msg: err.Error()}
	m := parseErrLine.FindStringSubmatch(err.Error())
	if m == nil {
		return pe
	}
	pe.Line, _ = strconv.Atoi(m[1])
	pe.Msg = m[2]
	off := -1
	if strings.HasPrefix(pe.Msg, "unclosed action") || strings.HasPrefix(pe.Msg, "unclosed comment") {
		off = unclosedAction(text)
	}
	if off < 0 {
		start := lineOffset(text, pe.Line)
		if start >= 0 {
			line := text[start:]
			if i := strings.IndexByte(line, '\n'); i >= 0 {
				line = line[:i]
			}
			if fn := regexp.MustCompile(`^function "([^"]+)" not defined`).FindStringSubmatch(pe.Msg); fn != nil {
				if i := strings.Index(line, fn[1]); i >= 0 {
					off = start + i
				}
			}
			if off < 0 {
				if i := strings.Index(line, "{{"); i >= 0 {
					off = start + i
				}
			}
		}
	}
	if off >= 0 {
		start := strings.LastIndexByte(text[:off], '\n') + 1
		pe.Line = strings.Count(text[:off], "\n") + 1
		pe.Column = off - start + 1
		pe.LineText = text[start:]
		if i := strings.IndexByte(pe.LineText, '\n'); i >= 0 {
			pe.LineText = pe.LineText[:i]
		}
	}
	return pe
}

// lineOffset returns the byte offset of the 1-based line n of text, or -1.
func lineOffset(text string, n int) int {
	off := 0
	for i := 1; i < n; i++ {
		j := strings.IndexByte(text[off:], '\n')
		if j < 0 {
			return -1
		}
		off += j + 1
	}
	return off
}

// unclosedAction returns the offset of the first "{{" with no "}}" after
// it, or -1.
func unclosedAction(text string) int {
	off := 0
	for {
		i := strings.Index(text[off:], "{{")
		if i < 0 {
			return -1
		}
		open := off + i
		j := strings.Index(text[open+2:], "}}")
		if j < 0 {
			return open
		}
		off = open + 2 + j + 2
	}
}

// Parse parses text as a template named name (the name appears in errors;
// a parse error is a *ParseError). Rendering is strict: a reference to a
// missing map key is an error, and so is printing a null (or missing)
// value, unless the template gives it a default (the default and coalesce
// functions) — never an empty string or "<no value>".
func Parse(name, text string) (*Template, error) {
	t, err := tmpl.New(name).Parse(text)
	if err != nil {
		return nil, newParseError(name, text, err)
	}
	fast := fastParts(t)
	tmpl.Rewrite(t)
	return &Template{name: name, text: text, t: t, fast: fast}, nil
}

// MustParse is Parse for templates known to be valid at compile time; it
// panics on error.
func MustParse(name, text string) *Template {
	t, err := Parse(name, text)
	if err != nil {
		panic(err)
	}
	return t
}

// Text returns the template's source.
func (t *Template) Text() string { return t.text }

// Name returns the template's name.
func (t *Template) Name() string { return t.name }

// IsStatic reports whether the template has no actions, so it renders to
// its own text.
func (t *Template) IsStatic() bool { return !strings.Contains(t.text, "{{") }

// Render executes the template over data.
func (t *Template) Render(data any) (string, error) {
	if t.fast != nil {
		if out, ok, err := t.renderFast(data); ok {
			return out, err
		}
	}
	var buf bytes.Buffer
	if err := t.t.Execute(&buf, data); err != nil {
		return "", fmt.Errorf("template %s: %w", t.name, tmpl.ExecError(err))
	}
	return buf.String(), nil
}

// Hash returns a stable content hash of texts ("sha256:" and 16 hex
// digits), for identifying a prompt version.
func Hash(texts ...string) string {
	h := sha256.New()
	for _, s := range texts {
		fmt.Fprintf(h, "%d:%s;", len(s), s)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)[:8])
}
