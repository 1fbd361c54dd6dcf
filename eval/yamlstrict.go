package eval

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/internal/yamlstrict"
	"github.com/gavel-eval/gavel/judges"
	"github.com/gavel-eval/gavel/prompts"
)

// FieldError is a problem with one field of the spec. Its message names the
// file, line and column, and the field's path (for example
// "judges[1].pattern").
type FieldError struct {
	File   string
	Line   int
	Column int
	Path   string
	Msg    string
}

func (e *FieldError) Error() string {
	loc := e.File
	switch {
	case e.Line > 0 && e.Column > 0:
		loc = fmt.Sprintf("%s:%d:%d", e.File, e.Line, e.Column)
	case e.Line > 0:
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Path == "" {
		return fmt.Sprintf("spec %s: %s", loc, e.Msg)
	}
	return fmt.Sprintf("spec %s: %s: %s", loc, e.Path, e.Msg)
}

// nodeDecoder is implemented by spec types that decode themselves from a
// YAML node (for example a prompt given either as a string or a list).
type nodeDecoder interface {
	decodeNode(d *decoder, n *yaml.Node, path string) error
}

// decoder decodes YAML nodes into Go values strictly: unknown keys and type
// mismatches are errors naming the field path and its position.
type decoder struct {
	file    string
	dir     string // the spec's directory, absolute: relative paths start there
	catalog judges.Catalog
	custom  map[string]StepFunc

	// promptsDir is the prompt registry's directory; reg, once loaded
	// (regLoaded), the registry or nil when the directory does not exist.
	promptsDir string
	reg        *prompts.Registry
	regErr     error
	regLoaded  bool
	// pins, when set, resolve the spec's prompts and configs instead of
	// the registry and files; prompts and configs collect what was
	// resolved otherwise, for the run's manifest.
	pins    *Pins
	prompts []results.Prompt
	configs []results.ConfigPin
}

func (d *decoder) stepKinds() []string {
	kinds := []string{"llm", "template", "extract", "http", "exec", "agent"}
	custom := make([]string, 0, len(d.custom))
	for k := range d.custom {
		custom = append(custom, k)
	}
	sort.Strings(custom)
	return append(kinds, custom...)
}

func (d *decoder) errf(n *yaml.Node, path, format string, args ...any) error {
	e := &FieldError{File: d.file, Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	return e
}

var durationType = reflect.TypeFor[time.Duration]()

// decode fills the value pointed to by out from n.
func (d *decoder) decode(n *yaml.Node, out any, path string) error {
	return d.decodeValue(n, reflect.ValueOf(out).Elem(), path)
}

func (d *decoder) decodeValue(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if v.CanAddr() {
		if nd, ok := v.Addr().Interface().(nodeDecoder); ok {
			return nd.decodeNode(d, n, path)
		}
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		v.SetZero()
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		nv := reflect.New(v.Type().Elem())
		if err := d.decodeValue(n, nv.Elem(), path); err != nil {
			return err
		}
		v.Set(nv)
		return nil
	case reflect.Struct:
		return d.decodeStruct(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			if v.Type().Elem().Kind() == reflect.String && n.Kind == yaml.ScalarNode {
				// A single string where a list of strings is expected.
				v.Set(reflect.MakeSlice(v.Type(), 1, 1))
				return d.decodeValue(n, v.Index(0), path)
			}
			return d.errf(n, path, "%s", yamlstrict.Expected("a list", describe(n)))
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			if err := d.decodeValue(item, s.Index(i), yamlstrict.Index(path, i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return d.errf(n, path, "%s", yamlstrict.Expected("a mapping", describe(n)))
		}
		m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			kn, vn := n.Content[i], n.Content[i+1]
			key := reflect.New(v.Type().Key()).Elem()
			if err := kn.Decode(key.Addr().Interface()); err != nil {
				return d.errf(kn, path, "bad key: %v", cleanYAMLError(err))
			}
			val := reflect.New(v.Type().Elem()).Elem()
			if err := d.decodeValue(vn, val, yamlstrict.Join(path, kn.Value)); err != nil {
				return err
			}
			m.SetMapIndex(key, val)
		}
		v.Set(m)
		return nil
	case reflect.Interface:
		var x any
		if err := n.Decode(&x); err != nil {
			return d.errf(n, path, "%v", cleanYAMLError(err))
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return d.errf(n, path, "%s", yamlstrict.Expected(yamlstrict.Want(v.Type()), describe(n)))
	}
	if v.Type() == durationType {
		dur, err := time.ParseDuration(n.Value)
		if err != nil {
			return d.errf(n, path, "invalid duration %q (use e.g. 30s, 2m)", n.Value)
		}
		v.SetInt(int64(dur))
		return nil
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		return d.errf(n, path, "%s", yamlstrict.Expected(yamlstrict.Want(v.Type()), strconv.Quote(n.Value)))
	}
	return nil
}

// decodeStruct fills a struct from a mapping node, by yaml tags.
func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.MappingNode {
		return d.errf(n, path, "%s", yamlstrict.Expected("a mapping", describe(n)))
	}
	fields := yamlstrict.Fields(v.Type())
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		key := kn.Value
		fp := yamlstrict.Join(path, key)
		if seen[key] {
			return d.errf(kn, fp, "duplicate field")
		}
		seen[key] = true
		idx, ok := fields[key]
		if !ok {
			return d.errf(kn, fp, "%s", yamlstrict.UnknownField(yamlstrict.Keys(fields)))
		}
		if err := d.decodeValue(vn, v.FieldByIndex(idx), fp); err != nil {
			return err
		}
	}
	return nil
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "an unexpected node"
}

func cleanYAMLError(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "yaml: unmarshal errors:\n")
	return strings.TrimSpace(s)
}

// decodeSplit decodes a mapping whose keys belong to two structs: the keys
// of common (shared by every kind, like name and type) and the keys of
// config (specific to one kind). A key known to neither is an error listing
// both sets. config may be nil for kinds without options.
func (d *decoder) decodeSplit(n *yaml.Node, path string, common, config any) error {
	if n.Kind != yaml.MappingNode {
		return d.errf(n, path, "%s", yamlstrict.Expected("a mapping", describe(n)))
	}
	commonKeys := map[string]bool{}
	for _, k := range yamlstrict.KnownKeys(common) {
		commonKeys[k] = true
	}
	configKeys := map[string]bool{}
	for _, k := range yamlstrict.KnownKeys(config) {
		configKeys[k] = true
	}
	cn := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
	rn := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		switch {
		case commonKeys[k]:
			cn.Content = append(cn.Content, n.Content[i], n.Content[i+1])
		case configKeys[k]:
			rn.Content = append(rn.Content, n.Content[i], n.Content[i+1])
		default:
			all := append(yamlstrict.KnownKeys(common), yamlstrict.KnownKeys(config)...)
			sort.Strings(all)
			return d.errf(n.Content[i], yamlstrict.Join(path, k), "%s", yamlstrict.UnknownField(all))
		}
	}
	if err := d.decodeStruct(cn, reflect.ValueOf(common).Elem(), path); err != nil {
		return err
	}
	if config != nil {
		return d.decodeStruct(rn, reflect.ValueOf(config).Elem(), path)
	}
	return nil
}

// templateError turns a template's parse error into a spec error at the
// failing action's file position: the template is the text of node n in
// the spec's source, and the action is found there by its text (from the
// template line the parser reported on). When the action's text does not
// appear literally (an escape in a quoted string), the error is at n.
func templateError(file, source string, n *yaml.Node, path string, err error) error {
	fe := &FieldError{File: file, Path: path, Msg: err.Error()}
	pe, ok := errors.AsType[*prompts.ParseError](err)
	if !ok {
		if n != nil {
			fe.Line, fe.Column = n.Line, n.Column
		}
		return fe
	}
	fe.Msg = "template: " + pe.Msg
	if n == nil {
		return fe
	}
	fe.Line, fe.Column = n.Line, n.Column
	start := offsetOf(source, n.Line, n.Column)
	if start < 0 || pe.LineText == "" {
		return fe
	}
	// Template line k is at least k-1 lines below the node's first line,
	// whatever the scalar's style.
	from := start
	for i := 1; i < pe.Line; i++ {
		j := strings.IndexByte(source[from:], '\n')
		if j < 0 {
			return fe
		}
		from += j + 1
	}
	i := strings.Index(source[from:], pe.LineText)
	if i < 0 {
		return fe
	}
	at := from + i + pe.Column - 1
	fe.Line = strings.Count(source[:at], "\n") + 1
	fe.Column = utf8.RuneCountInString(source[strings.LastIndexByte(source[:at], '\n')+1:at]) + 1
	return fe
}

// offsetOf returns the byte offset of the 1-based line and column (in
// characters) in source, or -1.
func offsetOf(source string, line, col int) int {
	off := 0
	for i := 1; i < line; i++ {
		j := strings.IndexByte(source[off:], '\n')
		if j < 0 {
			return -1
		}
		off += j + 1
	}
	for c := 1; c < col && off < len(source); c++ {
		_, size := utf8.DecodeRuneInString(source[off:])
		off += size
	}
	return off
}

// checkTemplate parses the template text of scalar node n (a no-op for
// other nodes and for text without actions), reporting a parse error at
// its position in the spec.
func (d *decoder) checkTemplate(source string, n *yaml.Node, path string) error {
	if n == nil || n.Kind != yaml.ScalarNode || !strings.Contains(n.Value, "{{") {
		return nil
	}
	if _, err := prompts.Parse(path, n.Value); err != nil {
		return templateError(d.file, source, n, path, err)
	}
	return nil
}

// checkPrompt checks a prompt node: one template, or a list of messages
// whose contents are templates.
func (d *decoder) checkPrompt(source string, n *yaml.Node, path string) error {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.SequenceNode {
		for i, m := range n.Content {
			if err := d.checkTemplate(source, valueNode(m, "content"), fmt.Sprintf("%s[%d].content", path, i)); err != nil {
				return err
			}
		}
		return nil
	}
	return d.checkTemplate(source, n, path)
}
