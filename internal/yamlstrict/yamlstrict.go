// Package yamlstrict holds the rules gavel's strict configuration decoders
// share, so that a spec read from YAML nodes (package eval) and a judge's
// options that arrive as decoded maps (package judges) accept the same
// keys and say the same thing about the same mistake: which struct fields
// a key may fill (their yaml tags), how a field path is written, and the
// wording of unknown-key and wrong-type errors. Decode is the decoder of
// already-decoded values. It is a leaf: it imports nothing of gavel's.
package yamlstrict

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// Fields maps the keys a struct type accepts to its fields' indexes: the
// name of each exported field's yaml tag. Fields without a yaml tag, or
// tagged "-", cannot be set from configuration.
func Fields(t reflect.Type) map[string][]int {
	out := map[string][]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("yaml")
		if !ok || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" || name == "" {
			continue
		}
		out[name] = f.Index
	}
	return out
}

// Keys returns the keys of fields, sorted.
func Keys(fields map[string][]int) []string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// KnownKeys returns the keys a configuration struct (or a pointer to one)
// accepts, sorted; nil for anything else.
func KnownKeys(cfg any) []string {
	if cfg == nil {
		return nil
	}
	t := reflect.TypeOf(cfg)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	return Keys(Fields(t))
}

// Join appends a key to a field path: "judges[1]" and "pattern" make
// "judges[1].pattern". An empty key is written "" so that the path still
// shows where it stands.
func Join(path, key string) string {
	if key == "" {
		key = `""`
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// Index appends a list index to a field path.
func Index(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}

// UnknownField is the message for a key that is not one of the known
// keys.
func UnknownField(known []string) string {
	return "unknown field (known: " + strings.Join(known, ", ") + ")"
}

// Expected is the message for a value of the wrong type: want says what
// was expected (see Want), got describes what was there.
func Expected(want, got string) string {
	return "expected " + want + ", got " + got
}

// Want says how a scalar of type t is written in configuration: "a
// string", "true or false", "an integer" or "a number"; for other types,
// the Go type.
func Want(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return t.String()
}
