// Package tmpl is the null-aware layer over text/template that every gavel
// template shares (prompts, judges' templates, the dataset's id template):
// its functions, including default and coalesce, and a rewrite of the parse
// tree after which printing a null or missing value is a *NullError naming
// the expression instead of the text "<no value>". It imports nothing of
// gavel's.
package tmpl

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"text/template"
)

// Funcs returns the functions available inside gavel templates: json,
// trim, upper, lower, join, default and coalesce, plus the ones Rewrite
// inserts.
func Funcs() template.FuncMap {
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

// New returns an empty template named name with gavel's functions and
// missingkey=error: a reference to a missing map key is an error.
func New(name string) *template.Template {
	return template.New(name).Option("missingkey=error").Funcs(Funcs())
}

// Parse parses text as a template named name (see New) and rewrites it
// (see Rewrite). A parse error is text/template's.
func Parse(name, text string) (*template.Template, error) {
	t, err := New(name).Parse(text)
	if err != nil {
		return nil, err
	}
	Rewrite(t)
	return t, nil
}

// Rewrite makes every tree of t, which must have been created by New,
// strict about nil values: every action that prints fails with a
// *NullError on a nil value (a JSON null, or a lookup with no result), and
// the field chains given to default and coalesce (as arguments or piped
// into them) read a missing field as nil instead of failing.
func Rewrite(t *template.Template) {
	for _, tt := range t.Templates() {
		if tt.Tree != nil {
			rewrite(tt.Tree, tt.Tree.Root)
		}
	}
}

// ExecError returns the error of executing a template, without
// text/template's "template: NAME:LINE:COL: " prefix (the caller names the
// template) and with "map has no entry for key" said as "no field"; a
// *NullError is returned as it is.
func ExecError(err error) error {
	if ne, ok := errors.AsType[*NullError](err); ok {
		return ne
	}
	msg := err.Error()
	if i := strings.Index(msg, ": "); strings.HasPrefix(msg, "template: ") && i >= 0 {
		rest := msg[len("template: "):]
		if j := strings.Index(rest, ": "); j >= 0 {
			msg = rest[j+2:]
		}
	}
	msg = strings.Replace(msg, "map has no entry for key", "no field", 1)
	return errors.New(msg)
}

// The functions Rewrite inserts into a template's tree. Their names start
// with an underscore so that they do not clash with the documented ones.
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
