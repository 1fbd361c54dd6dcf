package datasets

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gavel-eval/gavel/internal/tmpl"
)

// idFunc computes an example's id from its fields.
type idFunc func(fields map[string]any) (string, error)

// newIDFunc returns the id function for spec: "" is a content hash, a spec
// containing "{{" is a text/template, anything else is a field name.
func newIDFunc(spec string) (idFunc, error) {
	switch {
	case spec == "":
		return func(fields map[string]any) (string, error) { return ContentID(fields), nil }, nil
	case strings.Contains(spec, "{{"):
		return templateID(spec)
	default:
		return fieldID(spec), nil
	}
}

// fieldID uses the value of one field as the id.
func fieldID(name string) idFunc {
	return func(fields map[string]any) (string, error) {
		v, ok := fields[name]
		if !ok {
			return "", fmt.Errorf("id field %q missing", name)
		}
		id, err := scalarString(v)
		if err != nil {
			return "", fmt.Errorf("id field %q: %w", name, err)
		}
		if strings.TrimSpace(id) == "" {
			return "", fmt.Errorf("id field %q is empty", name)
		}
		return id, nil
	}
}

// scalarString renders a scalar field value as written.
func scalarString(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	case bool:
		return strconv.FormatBool(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), nil
	case nil:
		return "", errors.New("is null")
	default:
		return "", fmt.Errorf("is not a string or number (got %T)", v)
	}
}

// templateID executes a text/template over the fields, strictly: a field
// that is missing, or null where the template prints it, is an error naming
// it (never the text "<no value>" inside an id).
func templateID(spec string) (idFunc, error) {
	t, err := tmpl.Parse("id", spec)
	if err != nil {
		return nil, fmt.Errorf("id template %q: %w", spec, err)
	}
	return func(fields map[string]any) (string, error) {
		var b strings.Builder
		if err := t.Execute(&b, fields); err != nil {
			if ne, ok := errors.AsType[*tmpl.NullError](err); ok {
				return "", fmt.Errorf("id template %q: field %s is null or missing", spec, ne.Expr)
			}
			return "", fmt.Errorf("id template %q: %w", spec, tmpl.ExecError(err))
		}
		id := b.String()
		if strings.TrimSpace(id) == "" {
			return "", fmt.Errorf("id template %q rendered an empty id", spec)
		}
		return id, nil
	}, nil
}
