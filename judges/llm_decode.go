package judges

import (
	"fmt"
	"reflect"
	"sort"

	"github.com/gavel-eval/gavel/internal/yamlstrict"
)

// llmDecodeConfig decodes opts (a judge's options as decoded from YAML:
// maps, lists, strings, numbers, booleans) strictly into a new
// configuration of f, by its yaml tags: an unknown key or a value of the
// wrong type is an error naming the key. (The YAML library stays in the
// spec decoder; this is the same strictness, by the rules of
// internal/yamlstrict, for configurations that arrive as maps, such as a
// panel's members.)
func llmDecodeConfig(f Factory, opts map[string]any) (any, error) {
	if f.NewConfig == nil {
		if len(opts) > 0 {
			keys := make([]string, 0, len(opts))
			for k := range opts {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			return nil, fmt.Errorf("type %s takes no options, got %v", f.Type, keys)
		}
		return nil, nil
	}
	cfg := f.NewConfig()
	rv := reflect.ValueOf(cfg)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return nil, fmt.Errorf("type %s: NewConfig returned %T, not a pointer", f.Type, cfg)
	}
	if err := yamlstrict.Decode(rv.Elem(), opts, ""); err != nil {
		return nil, err
	}
	return cfg, nil
}
