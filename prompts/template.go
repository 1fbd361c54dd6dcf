// Package prompts holds gavel's prompt templates: Go text/template text
// rendered over an example's fields, the variant and earlier steps' outputs,
// with strict handling of missing fields and stable content hashes.
package prompts

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
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

// funcs are the functions available inside templates.
func funcs() template.FuncMap {
	return template.FuncMap{
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"trim":  strings.TrimSpace,
		"upper": strings.ToUpper,
		"lower": strings.ToLower,
		"join": func(sep string, v []any) string {
			parts := make([]string, len(v))
			for i, x := range v {
				parts[i] = fmt.Sprint(x)
			}
			return strings.Join(parts, sep)
		},
		"default":  defaultValue,
		"coalesce": coalesce,
		guardFunc:  guard,
		optFunc:    optional,
	}
}

// The functions Parse inserts into a template's tree (see rewrite). Their
// names start with an underscore so that they do not clash with the
// documented ones.
const (
	guardFunc = "_gavel_value"
	optFunc   = "_gavel_opt"
)

// isEmpty reports whether v counts as absent for default and coalesce: nil
// (a JSON null, or a missing field) or the empty string.
func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	}
	return false
}

// defaultValue is the template function default: {{default D V}} (or
// {{V | default D}}) is V, or D when V is null, missing or "".
func defaultValue(def, v any) any {
	if isEmpty(v) {
		return def
	}
	return v
}

// coalesce is the template function coalesce: its first argument that is
// neither null, missing nor "" (nil when there is none).
func coalesce(vs ...any) any {
	for _, v := range vs {
		if !isEmpty(v) {
			return v
		}
	}
	return nil
}

// NullError is the error of rendering a value that is null or missing: a
// JSON null (or a lookup with no result, like index of a missing key) in
// a position that prints it. text/template would print "<no value>".
type NullError struct {
	// Expr is the template expression, for example ".example.ctx".
	Expr string
}

func (e *NullError) Error() string {
	arg := e.Expr
	if strings.ContainsAny(arg, " |") {
		arg = "(" + arg + ")"
	}
	return fmt.Sprintf("%s is null or missing (to allow that, write {{default \"\" %s}})", e.Expr, arg)
}

// guard is appended to every printing action: it fails on a nil value
// instead of letting text/template print "<no value>".
func guard(expr string, v any) (any, error) {
	if v == nil {
		return nil, &NullError{Expr: expr}
	}
	return v, nil
}

// optional looks up keys from recv like a field chain, but a missing key
// or a null on the way yields nil instead of an error: it replaces the
// field chains given to default and coalesce.
func optional(recv any, keys ...string) (any, error) {
	v := recv
	for _, k := range keys {
		if v == nil {
			return nil, nil
		}
		if m, ok := v.(map[string]any); ok {
			v = m[k]
			continue
		}
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
			return nil, fmt.Errorf("can't read field %s of a %T", k, v)
		}
		e := rv.MapIndex(reflect.ValueOf(k).Convert(rv.Type().Key()))
		if !e.IsValid() {
			return nil, nil
		}
		v = e.Interface()
	}
	return v, nil
}

// rewrite makes a parsed tree strict about nil values: every action that
// prints gets guard as its last command, and the field chains given to
// default and coalesce (as arguments or piped into them) become calls of
// optional, so that a missing field reaches them as nil.
func rewrite(t *parse.Tree, n parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			rewrite(t, c)
		}
	case *parse.ActionNode:
		rewritePipe(t, n.Pipe)
		if len(n.Pipe.Decl) == 0 && !neverNil(n.Pipe) {
			expr := n.Pipe.String()
			if len(n.Pipe.Cmds) == 1 && len(n.Pipe.Cmds[0].Args) == 1 {
				expr = n.Pipe.Cmds[0].Args[0].String()
			}
			pos := n.Pipe.Position()
			n.Pipe.Cmds = append(n.Pipe.Cmds, &parse.CommandNode{NodeType: parse.NodeCommand, Pos: pos, Args: []parse.Node{
				parse.NewIdentifier(guardFunc).SetTree(t).SetPos(pos),
				&parse.StringNode{NodeType: parse.NodeString, Pos: pos, Quoted: strconv.Quote(expr), Text: expr},
			}})
		}
	case *parse.IfNode:
		rewriteBranch(t, &n.BranchNode)
	case *parse.RangeNode:
		rewriteBranch(t, &n.BranchNode)
	case *parse.WithNode:
		rewriteBranch(t, &n.BranchNode)
	case *parse.TemplateNode:
		rewritePipe(t, n.Pipe)
	}
}

// nonNilFuncs are the template functions whose result is never nil
// (strings, numbers, booleans): printing them needs no guard.
var nonNilFuncs = map[string]bool{
	"print": true, "printf": true, "println": true, "html": true, "js": true, "urlquery": true, "len": true,
	"not": true, "eq": true, "ne": true, "lt": true, "le": true, "gt": true, "ge": true,
	"json": true, "trim": true, "upper": true, "lower": true, "join": true,
}

// neverNil reports whether pipeline p ends in a function whose result is
// never nil.
func neverNil(p *parse.PipeNode) bool {
	if len(p.Cmds) == 0 {
		return false
	}
	last := p.Cmds[len(p.Cmds)-1]
	if len(last.Args) == 0 {
		return false
	}
	id, ok := last.Args[0].(*parse.IdentifierNode)
	return ok && nonNilFuncs[id.Ident]
}

func rewriteBranch(t *parse.Tree, b *parse.BranchNode) {
	rewritePipe(t, b.Pipe)
	rewrite(t, b.List)
	rewrite(t, b.ElseList)
}

func isDefaulting(c *parse.CommandNode) bool {
	if len(c.Args) == 0 {
		return false
	}
	id, ok := c.Args[0].(*parse.IdentifierNode)
	return ok && (id.Ident == "default" || id.Ident == "coalesce")
}

func rewritePipe(t *parse.Tree, p *parse.PipeNode) {
	if p == nil {
		return
	}
	for i, c := range p.Cmds {
		for _, a := range c.Args {
			if sub, ok := a.(*parse.PipeNode); ok {
				rewritePipe(t, sub)
			}
		}
		if isDefaulting(c) {
			for j := 1; j < len(c.Args); j++ {
				if o := optionalCall(t, c.Args[j]); o != nil {
					c.Args[j] = &parse.PipeNode{NodeType: parse.NodePipe, Pos: c.Args[j].Position(), Cmds: []*parse.CommandNode{o}}
				}
			}
		}
		if i+1 < len(p.Cmds) && isDefaulting(p.Cmds[i+1]) && len(c.Args) == 1 {
			if o := optionalCall(t, c.Args[0]); o != nil {
				c.Args = o.Args
			}
		}
	}
}

// optionalCall returns the command calling optional that reads the field
// chain n, or nil when n is not a field chain.
func optionalCall(t *parse.Tree, n parse.Node) *parse.CommandNode {
	pos := n.Position()
	var recv parse.Node
	var fields []string
	switch n := n.(type) {
	case *parse.FieldNode:
		recv, fields = &parse.DotNode{NodeType: parse.NodeDot, Pos: pos}, n.Ident
	case *parse.VariableNode:
		if len(n.Ident) < 2 {
			return nil
		}
		recv, fields = &parse.VariableNode{NodeType: parse.NodeVariable, Pos: pos, Ident: n.Ident[:1]}, n.Ident[1:]
	case *parse.ChainNode:
		recv, fields = n.Node, n.Field
	default:
		return nil
	}
	args := []parse.Node{parse.NewIdentifier(optFunc).SetTree(t).SetPos(pos), recv}
	for _, f := range fields {
		args = append(args, &parse.StringNode{NodeType: parse.NodeString, Pos: pos, Quoted: strconv.Quote(f), Text: f})
	}
	return &parse.CommandNode{NodeType: parse.NodeCommand, Pos: pos, Args: args}
}

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
	t, err := template.New(name).Option("missingkey=error").Funcs(funcs()).Parse(text)
	if err != nil {
		return nil, newParseError(name, text, err)
	}
	fast := fastParts(t)
	for _, tt := range t.Templates() {
		if tt.Tree != nil {
			rewrite(tt.Tree, tt.Tree.Root)
		}
	}
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
		if ne, ok := errors.AsType[*NullError](err); ok {
			return "", fmt.Errorf("template %s: %w", t.name, ne)
		}
		return "", fmt.Errorf("template %s: %w", t.name, cleanErr(err))
	}
	return buf.String(), nil
}

func cleanErr(err error) error {
	msg := err.Error()
	// text/template prefixes "template: NAME:"; the caller names the template.
	if i := strings.Index(msg, ": "); strings.HasPrefix(msg, "template: ") && i >= 0 {
		rest := msg[len("template: "):]
		if j := strings.Index(rest, ": "); j >= 0 {
			msg = rest[j+2:]
		}
	}
	msg = strings.Replace(msg, "map has no entry for key", "no field", 1)
	return fmt.Errorf("%s", msg)
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
