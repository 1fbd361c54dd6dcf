package yamlstrict

import (
	"fmt"
	"math"
	"reflect"
	"sort"
)

// Decode fills dst from src, a value as a YAML or JSON decoder produces it
// (maps, lists, strings, numbers, booleans, nil), strictly: struct fields
// by their yaml tags (see Fields), an unknown key or a value of the wrong
// type is an error that names its field path, under path. A single string
// is accepted where a list of strings is expected; integers are accepted
// where a number is, and whole numbers where an integer is.
func Decode(dst reflect.Value, src any, path string) error {
	if src == nil {
		dst.SetZero()
		return nil
	}
	sv := reflect.ValueOf(src)
	if sv.Type().AssignableTo(dst.Type()) {
		dst.Set(sv)
		return nil
	}
	errf := func(want string) error {
		at := path
		if at == "" {
			at = "value"
		}
		return fmt.Errorf("%s: %s", at, Expected(want, Describe(src)))
	}
	switch dst.Kind() {
	case reflect.Interface:
		if !sv.Type().AssignableTo(dst.Type()) {
			return errf(dst.Type().String())
		}
		dst.Set(sv)
		return nil
	case reflect.Pointer:
		nv := reflect.New(dst.Type().Elem())
		if err := Decode(nv.Elem(), src, path); err != nil {
			return err
		}
		dst.Set(nv)
		return nil
	case reflect.Struct:
		if sv.Kind() != reflect.Map || sv.Type().Key().Kind() != reflect.String {
			return errf("a mapping")
		}
		fields := Fields(dst.Type())
		keys := make([]string, 0, sv.Len())
		for _, k := range sv.MapKeys() {
			keys = append(keys, k.String())
		}
		sort.Strings(keys)
		for _, k := range keys {
			idx, ok := fields[k]
			if !ok {
				return fmt.Errorf("%s: %s", Join(path, k), UnknownField(Keys(fields)))
			}
			if err := Decode(dst.FieldByIndex(idx), sv.MapIndex(reflect.ValueOf(k).Convert(sv.Type().Key())).Interface(), Join(path, k)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		if sv.Kind() == reflect.String && dst.Type().Elem().Kind() == reflect.String {
			// A single string where a list of strings is expected.
			s := reflect.MakeSlice(dst.Type(), 1, 1)
			s.Index(0).SetString(sv.String())
			dst.Set(s)
			return nil
		}
		if sv.Kind() != reflect.Slice && sv.Kind() != reflect.Array {
			return errf("a list")
		}
		s := reflect.MakeSlice(dst.Type(), sv.Len(), sv.Len())
		for i := 0; i < sv.Len(); i++ {
			if err := Decode(s.Index(i), sv.Index(i).Interface(), Index(path, i)); err != nil {
				return err
			}
		}
		dst.Set(s)
		return nil
	case reflect.Map:
		if sv.Kind() != reflect.Map || sv.Type().Key().Kind() != reflect.String || dst.Type().Key().Kind() != reflect.String {
			return errf("a mapping")
		}
		m := reflect.MakeMapWithSize(dst.Type(), sv.Len())
		for _, k := range sv.MapKeys() {
			val := reflect.New(dst.Type().Elem()).Elem()
			if err := Decode(val, sv.MapIndex(k).Interface(), Join(path, k.String())); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(k.String()).Convert(dst.Type().Key()), val)
		}
		dst.Set(m)
		return nil
	case reflect.String:
		if sv.Kind() != reflect.String {
			return errf(Want(dst.Type()))
		}
		dst.SetString(sv.String())
		return nil
	case reflect.Bool:
		if sv.Kind() != reflect.Bool {
			return errf(Want(dst.Type()))
		}
		dst.SetBool(sv.Bool())
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var n int64
		switch {
		case sv.CanInt():
			n = sv.Int()
		case sv.CanUint() && sv.Uint() <= math.MaxInt64:
			n = int64(sv.Uint())
		case sv.CanFloat() && sv.Float() == math.Trunc(sv.Float()) && math.Abs(sv.Float()) < 1<<53:
			n = int64(sv.Float())
		default:
			return errf(Want(dst.Type()))
		}
		if dst.OverflowInt(n) {
			return errf("a smaller integer")
		}
		dst.SetInt(n)
		return nil
	case reflect.Float32, reflect.Float64:
		switch {
		case sv.CanFloat():
			dst.SetFloat(sv.Float())
		case sv.CanInt():
			dst.SetFloat(float64(sv.Int()))
		case sv.CanUint():
			dst.SetFloat(float64(sv.Uint()))
		default:
			return errf(Want(dst.Type()))
		}
		return nil
	}
	return errf(dst.Type().String())
}

// Describe describes a decoded value for an error: a string quoted, a
// mapping or a list by its kind, anything else as fmt prints it.
func Describe(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map, reflect.Struct:
		return "a mapping"
	case reflect.Slice, reflect.Array:
		return "a list"
	}
	return fmt.Sprintf("%v", v)
}
