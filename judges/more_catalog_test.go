package judges

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// moreKinds are the types registerMore adds, with their kinds.
var moreKinds = map[string]string{
	"icontains": "string", "contains_any": "string", "contains_all": "string", "not_contains": "string",
	"starts_with": "string", "length": "string", "word_count": "string",
	"json_schema": "structure", "json_equals": "structure",
	"choice":  "task",
	"latency": "run", "ttft": "run", "cost": "run", "tokens": "run",
	"similar": "meaning",
	"exec":    "custom",
}

func moreCatalog() Catalog {
	c := Catalog{}
	registerMore(c)
	return c
}

func TestMoreTypes(t *testing.T) {
	t.Parallel()
	c := moreCatalog()
	want := make([]string, 0, len(moreKinds))
	for typ := range moreKinds {
		want = append(want, typ)
	}
	slices.Sort(want)
	if got := c.Types(); !slices.Equal(got, want) {
		t.Errorf("types = %v, want %v", got, want)
	}
	for typ, f := range c {
		if string(f.Kind) != moreKinds[typ] {
			t.Errorf("%s: kind %q, want %q", typ, f.Kind, moreKinds[typ])
		}
	}
}

// TestMoreFactories checks each factory's contract with the spec decoder,
// as TestBuiltinFactories does for the built-in types.
func TestMoreFactories(t *testing.T) {
	t.Parallel()
	// Types whose zero configuration Build rejects (similar: also for want
	// of an embedder).
	zeroInvalid := map[string]bool{
		"contains_any": true, "contains_all": true, "length": true, "word_count": true,
		"json_schema": true, "latency": true, "ttft": true, "cost": true, "tokens": true, "similar": true, "exec": true,
	}
	for typ, f := range moreCatalog() {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			if f.Type != typ {
				t.Errorf("registered under %q but Type is %q", typ, f.Type)
			}
			if f.Description == "" || strings.HasSuffix(f.Description, ".") {
				t.Errorf("description %q", f.Description)
			}
			cfg := f.NewConfig()
			rv := reflect.ValueOf(cfg)
			if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
				t.Fatalf("NewConfig() = %T, want a pointer to a struct", cfg)
			}
			if f.NewConfig() == cfg {
				t.Error("NewConfig returns the same pointer twice")
			}
			for _, tag := range yamlTags(rv.Elem().Type()) {
				if tag == "" || tag != strings.ToLower(tag) || strings.ContainsAny(tag, " ,-") {
					t.Errorf("yaml tag %q, want a snake_case key", tag)
				}
				if slices.Contains([]string{"name", "type", "expected"}, tag) {
					t.Errorf("config uses the common key %q", tag)
				}
			}
			for _, c := range []any{cfg, nil} {
				j, err := f.Build(c, Env{})
				switch {
				case zeroInvalid[typ] && err == nil:
					t.Errorf("Build(%T) of the zero configuration: no error", c)
				case !zeroInvalid[typ] && (err != nil || j == nil):
					t.Errorf("Build(%T) = %v, %v; want a judge", c, j, err)
				}
			}
			if _, err := f.Build(struct{}{}, Env{}); err == nil || !strings.Contains(err.Error(), typ+": configuration is struct {}") {
				t.Errorf("Build of a foreign type: error %v, want one naming the type", err)
			}
		})
	}
}

// TestMoreBuildUsesConfig checks that options set through NewConfig's
// pointer, and the environment, reach the judges.
func TestMoreBuildUsesConfig(t *testing.T) {
	t.Parallel()
	c := moreCatalog()
	build := func(typ string, set func(cfg any), env Env) Judge {
		t.Helper()
		f, err := c.Lookup(typ)
		if err != nil {
			t.Fatal(err)
		}
		cfg := f.NewConfig()
		set(cfg)
		j, err := f.Build(cfg, env)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		return j
	}
	j := build("choice", func(cfg any) { cfg.(*ChoiceConfig).Choices = "XYZ" }, Env{})
	if v := mustJudge(t, j, Input{Output: "The answer is Z", Expected: "Z"}); !v.Pass || v.Label != "Z" {
		t.Errorf("choices set through the config pointer were ignored: %+v", v)
	}
	j = build("length", func(cfg any) { cfg.(*RangeConfig).Max = ptr(3) }, Env{})
	if v := mustJudge(t, j, Input{Output: "abcd"}); v.Pass {
		t.Error("max set through the config pointer was ignored")
	}
	j = build("json_schema", func(cfg any) { cfg.(*JSONSchemaConfig).SchemaFile = "person.json" }, Env{Dir: schemaDir})
	if v := mustJudge(t, j, Input{Output: `{"name": "Ann"}`}); v.Pass {
		t.Error("schema_file resolved against Env.Dir was ignored")
	}
	f, _ := c.Lookup("contains_all")
	if _, err := f.Build(ContainsListConfig{Values: []string{"a"}}, Env{}); err != nil { // a value, as library callers may pass
		t.Errorf("Build of a configuration value: %v", err)
	}
}

// docSection is the documentation of one judge type in judges-more.md.
type docSection struct {
	options []string // the first column of the options table
	yaml    []string // the YAML examples
}

var (
	docOption = regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\|")
	docYAML   = regexp.MustCompile("(?s)```yaml\n(.*?)```")
)

func readDocSections(t *testing.T) map[string]docSection {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "docs", "judges-more.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]docSection{}
	for _, part := range strings.Split("\n"+string(data), "\n## `")[1:] {
		typ, body, ok := strings.Cut(part, "`")
		if !ok {
			t.Fatalf("bad section heading in %q", part[:min(len(part), 40)])
		}
		var s docSection
		for _, m := range docOption.FindAllStringSubmatch(body, -1) {
			s.options = append(s.options, m[1])
		}
		for _, m := range docYAML.FindAllStringSubmatch(body, -1) {
			s.yaml = append(s.yaml, m[1])
		}
		out[typ] = s
	}
	return out
}

// TestMoreDocs checks docs/judges-more.md against the code: a section per
// type, options tables naming exactly the configuration's keys, and YAML
// examples that decode strictly and build.
func TestMoreDocs(t *testing.T) {
	t.Parallel()
	sections := readDocSections(t)
	c := moreCatalog()
	if got, want := slices.Sorted(maps.Keys(sections)), c.Types(); !slices.Equal(got, want) {
		t.Errorf("documented types %v, want %v", got, want)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "schemas"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "schemas", "invoice.json"), []byte(`{"type": "object"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	env := Env{Dir: dir, Embedder: newFakeEmbedder(), Getenv: func(string) string { return "" }}
	for typ, s := range sections {
		f, err := c.Lookup(typ)
		if err != nil {
			continue // reported above
		}
		want := yamlTags(reflect.TypeOf(f.NewConfig()).Elem())
		if got := slices.Sorted(slices.Values(s.options)); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
			t.Errorf("%s: documented options %v, want %v", typ, got, want)
		}
		if len(s.yaml) == 0 {
			t.Errorf("%s: no YAML example", typ)
		}
		for _, src := range s.yaml {
			var items []map[string]yaml.Node
			if err := yaml.Unmarshal([]byte(src), &items); err != nil {
				t.Errorf("%s: example %q: %v", typ, src, err)
				continue
			}
			for _, item := range items {
				checkDocExample(t, c, item, env)
			}
		}
	}
}

// checkDocExample decodes one documented judge into its configuration,
// rejecting unknown keys, and builds it.
func checkDocExample(t *testing.T, c Catalog, item map[string]yaml.Node, env Env) {
	t.Helper()
	typNode := item["type"]
	f, err := c.Lookup(typNode.Value)
	if err != nil {
		t.Errorf("example of type %q: %v", typNode.Value, err)
		return
	}
	rest := map[string]yaml.Node{}
	for k, v := range item {
		if k != "name" && k != "type" && k != "expected" {
			rest[k] = v
		}
	}
	src, err := yaml.Marshal(rest)
	if err != nil {
		t.Fatal(err)
	}
	cfg := f.NewConfig()
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		t.Errorf("%s example: %v\n%s", f.Type, err, src)
		return
	}
	if _, err := f.Build(cfg, env); err != nil {
		t.Errorf("%s example: Build: %v\n%s", f.Type, err, src)
	}
}

func yamlTags(st reflect.Type) []string {
	var tags []string
	for i := range st.NumField() {
		if field := st.Field(i); field.IsExported() {
			tags = append(tags, field.Tag.Get("yaml"))
		}
	}
	return tags
}
