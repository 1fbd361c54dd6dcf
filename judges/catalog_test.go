package judges

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestBuiltinTypes(t *testing.T) {
	t.Parallel()
	want := strings.Fields(`bleu choice chrf classify closed_qa contains contains_all contains_any cost
		equals exact_match exec f1 factuality g_eval icontains json_equals json_schema json_valid latency
		length levenshtein llm_rubric not_contains numeric_match pairwise panel regex rouge_1 rouge_2 rouge_l
		similar starts_with tokens tool_args_schema tool_call_f1 tool_call_match trajectory ttft word_count`)
	if got := Builtin().Types(); !slices.Equal(got, want) {
		t.Errorf("Builtin().Types() = %v, want %v", got, want)
	}
}

func TestBuiltinLookupUnknown(t *testing.T) {
	t.Parallel()
	_, err := Builtin().Lookup("exactly_match")
	if err == nil {
		t.Fatal("Lookup of an unknown type: no error")
	}
	for _, typ := range append([]string{`"exactly_match"`}, Builtin().Types()...) {
		if !strings.Contains(err.Error(), typ) {
			t.Errorf("error %q does not mention %s", err, typ)
		}
	}
}

func TestBuiltinIsFresh(t *testing.T) {
	t.Parallel()
	a := Builtin()
	a.Register(Factory{Type: "custom"})
	delete(a, "equals")
	b := Builtin()
	if _, err := b.Lookup("custom"); err == nil {
		t.Error("a type registered in one catalog shows up in a later one")
	}
	if _, err := b.Lookup("equals"); err != nil {
		t.Error("deleting from one catalog affects a later one")
	}
}

// TestBuiltinFactories checks each factory's contract with the spec decoder:
// NewConfig returns a fresh pointer to a struct whose exported fields all
// have snake_case yaml tags, and Build accepts that pointer (and nil, the
// zero configuration) but not other types.
func TestBuiltinFactories(t *testing.T) {
	t.Parallel()
	// Configurations whose zero value Build rejects.
	// Types whose zero configuration is invalid (a required option), or
	// that need a model in Env.
	zeroInvalid := map[string]bool{"regex": true}
	for _, typ := range strings.Fields(`classify closed_qa contains_all contains_any cost exec factuality
		g_eval json_schema latency length llm_rubric pairwise panel similar tokens ttft word_count`) {
		zeroInvalid[typ] = true
	}
	for typ, f := range Builtin() {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			if f.Type != typ {
				t.Errorf("registered under %q but Type is %q", typ, f.Type)
			}
			if f.Description == "" {
				t.Error("no description")
			}
			cfg := f.NewConfig()
			rv := reflect.ValueOf(cfg)
			if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
				t.Fatalf("NewConfig() = %T, want a pointer to a struct", cfg)
			}
			if f.NewConfig() == cfg {
				t.Error("NewConfig returns the same pointer twice")
			}
			st := rv.Elem().Type()
			for i := range st.NumField() {
				field := st.Field(i)
				if !field.IsExported() {
					continue
				}
				tag := field.Tag.Get("yaml")
				if tag == "" || tag != strings.ToLower(tag) || strings.ContainsAny(tag, " ,-") {
					t.Errorf("field %s has yaml tag %q, want a snake_case key", field.Name, tag)
				}
				if slices.Contains([]string{"name", "type", "expected"}, tag) {
					t.Errorf("field %s uses the common key %q", field.Name, tag)
				}
			}
			if zeroInvalid[typ] {
				if _, err := f.Build(cfg, Env{}); err == nil {
					t.Error("Build of the zero configuration: no error")
				}
			} else {
				for _, c := range []any{cfg, nil} {
					j, err := f.Build(c, Env{})
					if err != nil || j == nil {
						t.Errorf("Build(%T) = %v, %v; want a judge", c, j, err)
					}
				}
			}
			if _, err := f.Build(struct{}{}, Env{}); err == nil || !strings.Contains(err.Error(), typ+": configuration is struct {}") {
				t.Errorf("Build of a foreign type: error %v, want one naming the type", err)
			}
		})
	}
}

// TestBuiltinBuildUsesConfig checks that the configuration filled in through
// NewConfig's pointer reaches the judge.
func TestBuiltinBuildUsesConfig(t *testing.T) {
	t.Parallel()
	c := Builtin()
	f, _ := c.Lookup("regex")
	cfg := f.NewConfig().(*RegexConfig)
	cfg.Pattern = "(oops"
	if _, err := f.Build(cfg, Env{}); err == nil || !strings.HasPrefix(err.Error(), "pattern: error parsing regexp: ") {
		t.Errorf("Build with a bad pattern: error %v, want one naming the pattern field", err)
	}
	cfg.Pattern = "b"
	cfg.FullMatch = true
	j, err := f.Build(cfg, Env{})
	if err != nil {
		t.Fatal(err)
	}
	if v := mustJudge(t, j, Input{Output: "abc"}); v.Pass {
		t.Error("full_match set through the config pointer was ignored")
	}

	f, _ = c.Lookup("numeric_match")
	ncfg := f.NewConfig().(*NumericMatchConfig)
	ncfg.Tolerance = -1
	if _, err := f.Build(ncfg, Env{}); err == nil || !strings.HasPrefix(err.Error(), "tolerance: ") {
		t.Errorf("Build with a negative tolerance: error %v, want one naming the field", err)
	}
	ncfg.Tolerance = 0.5
	j, err = f.Build(ncfg, Env{})
	if err != nil {
		t.Fatal(err)
	}
	if v := mustJudge(t, j, Input{Output: "10.4", Expected: "10"}); !v.Pass {
		t.Errorf("tolerance set through the config pointer was ignored: %s", v.Reason)
	}

	f, _ = c.Lookup("equals")
	j, err = f.Build(EqualsConfig{IgnoreCase: true}, Env{}) // a value, as library callers may pass
	if err != nil {
		t.Fatal(err)
	}
	if v := mustJudge(t, j, Input{Output: "A", Expected: "a"}); !v.Pass {
		t.Errorf("config passed by value was ignored: %s", v.Reason)
	}
}
