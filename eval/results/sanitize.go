package results

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// InvalidUTF8Key is the key of a row's details (results.details,
// scores.details) that lists the columns whose invalid UTF-8 bytes were
// replaced by U+FFFD when the row was written.
const InvalidUTF8Key = "invalid_utf8"

// sanitizer makes every string of a row of type T valid UTF-8, the
// guarantee of every stored string column: Parquet's STRING and JSON types
// are UTF-8, and readers such as DuckDB refuse a file that breaks it.
type sanitizer struct {
	fields  []textField // the string and *string fields, in column order
	details int         // index of the Details *string field, or -1
}

// textField is a string (or optional string) field and its column name.
type textField struct {
	index  int
	offset uintptr // of the field in the struct
	column string
	ptr    bool
}

// newSanitizer returns the sanitizer of the struct type T: every field of
// a string type (string, or a named string such as Status) or a pointer to
// one, named by its parquet tag.
func newSanitizer[T any]() *sanitizer {
	t := reflect.TypeFor[T]()
	s := &sanitizer{details: -1}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		column, _, _ := strings.Cut(f.Tag.Get("parquet"), ",")
		if column == "-" {
			continue
		}
		if column == "" {
			column = f.Name
		}
		switch {
		case f.Type.Kind() == reflect.String:
			s.fields = append(s.fields, textField{index: i, offset: f.Offset, column: column})
		case f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.String:
			s.fields = append(s.fields, textField{index: i, offset: f.Offset, column: column, ptr: true})
			if column == "details" {
				s.details = i
			}
		}
	}
	return s
}

// valid reports whether every string of the row of the sanitizer's type
// at p is valid UTF-8: the check of every row, made without reflection
// (fix, which reflects, is for the rare row that is not).
func (s *sanitizer) valid(p unsafe.Pointer) bool {
	for _, f := range s.fields {
		at := unsafe.Add(p, f.offset)
		if f.ptr {
			if sp := *(**string)(at); sp != nil && !utf8.ValidString(*sp) {
				return false
			}
		} else if !utf8.ValidString(*(*string)(at)) {
			return false
		}
	}
	return true
}

// fix replaces the invalid UTF-8 bytes of row's strings by U+FFFD and, when
// it replaced any, lists their columns under InvalidUTF8Key in the row's
// details. It reports whether it changed the row. Valid rows cost one
// validity check per string.
func (s *sanitizer) fix(row reflect.Value) bool {
	var altered []string
	for _, f := range s.fields {
		v := row.Field(f.index)
		if f.ptr {
			if v.IsNil() {
				continue
			}
			if text := v.Elem().String(); !utf8.ValidString(text) {
				fixed := reflect.New(v.Type().Elem())
				fixed.Elem().SetString(strings.ToValidUTF8(text, "\uFFFD"))
				v.Set(fixed)
				altered = append(altered, f.column)
			}
			continue
		}
		if text := v.String(); !utf8.ValidString(text) {
			v.SetString(strings.ToValidUTF8(text, "\uFFFD"))
			altered = append(altered, f.column)
		}
	}
	if len(altered) == 0 {
		return false
	}
	if s.details >= 0 {
		d := row.Field(s.details)
		var old string
		if !d.IsNil() {
			old = d.Elem().String()
		}
		merged := withInvalidUTF8(old, altered)
		d.Set(reflect.ValueOf(&merged))
	}
	return true
}

// withInvalidUTF8 returns the JSON object details with InvalidUTF8Key set
// to columns. Details that are not a JSON object are kept as text under
// "details".
func withInvalidUTF8(details string, columns []string) string {
	obj := map[string]json.RawMessage{}
	if details != "" {
		if err := json.Unmarshal([]byte(details), &obj); err != nil || obj == nil {
			obj = map[string]json.RawMessage{}
			obj["details"] = marshalText(details)
		}
	}
	obj[InvalidUTF8Key] = marshalText(columns)
	return string(marshalText(obj))
}

// marshalText encodes v as compact JSON without HTML escaping. v holds
// only strings, slices of them and raw JSON, which always encode.
func marshalText(v any) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return json.RawMessage("null")
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
