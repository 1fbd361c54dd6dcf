package yamlstrict_test

import (
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/gavel-eval/gavel/internal/yamlstrict"
)

type inner struct {
	Weight float64 `yaml:"weight"`
}

type config struct {
	Name    string            `yaml:"name"`
	Strict  bool              `yaml:"strict,omitempty"`
	Count   int8              `yaml:"count"`
	Score   float64           `yaml:"score"`
	Tags    []string          `yaml:"tags"`
	Labels  map[string]int    `yaml:"labels"`
	Inner   *inner            `yaml:"inner"`
	List    []inner           `yaml:"list"`
	Any     any               `yaml:"any"`
	Env     map[string]string `yaml:"env"`
	Hidden  string            `yaml:"-"`
	NoTag   string
	private string `yaml:"private"` // a tagged unexported field is not decodable
}

// The unexported field is there to be refused, never read.
var _ = config{}.private

func decodeYAML(t testing.TB, src string) (config, error) {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(src), &v); err != nil {
		t.Fatalf("yaml: %v", err)
	}
	var c config
	return c, yamlstrict.Decode(reflect.ValueOf(&c).Elem(), v, "")
}

func TestDecode(t *testing.T) {
	c, err := decodeYAML(t, `
name: a
strict: true
count: 3.0
score: 2
tags: one
labels: {x: 1}
inner: {weight: 0.5}
list: [{weight: 1}, {weight: 2}]
any: [1, two]
`)
	if err != nil {
		t.Fatal(err)
	}
	want := config{Name: "a", Strict: true, Count: 3, Score: 2, Tags: []string{"one"}, Labels: map[string]int{"x": 1},
		Inner: &inner{Weight: 0.5}, List: []inner{{1}, {2}}, Any: []any{1, "two"}}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("decoded %+v, want %+v", c, want)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`nmae: a`, "nmae: unknown field (known: any, count, env, inner, labels, list, name, score, strict, tags)"},
		{`NoTag: a`, "NoTag: unknown field (known: any, count, env, inner, labels, list, name, score, strict, tags)"},
		{`private: a`, "private: unknown field"},
		{`name: 5`, "name: expected a string, got 5"},
		{`name: [a]`, "name: expected a string, got a list"},
		{`strict: yes please`, `strict: expected true or false, got "yes please"`},
		{`count: 2.5`, "count: expected an integer, got 2.5"},
		{`count: 300`, "count: expected a smaller integer, got 300"},
		{`score: "1"`, `score: expected a number, got "1"`},
		{`tags: {a: 1}`, "tags: expected a list, got a mapping"},
		{`tags: [a, 2]`, "tags[1]: expected a string, got 2"},
		{`labels: [1]`, "labels: expected a mapping, got a list"},
		{`labels: {x: y}`, `labels.x: expected an integer, got "y"`},
		{`inner: 1`, "inner: expected a mapping, got 1"},
		{`list: [{weight: 1}, {wieght: 2}]`, "list[1].wieght: unknown field (known: weight)"},
		{`- 1`, "value: expected a mapping, got a list"},
		{`"": 1`, `"": unknown field`},
	} {
		_, err := decodeYAML(t, tc.src)
		if err == nil {
			t.Errorf("%s: no error, want %q", tc.src, tc.want)
			continue
		}
		if !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s:\n got  %q\n want %q", tc.src, err, tc.want)
		}
	}
}

func TestRules(t *testing.T) {
	if got := yamlstrict.KnownKeys(&inner{}); !reflect.DeepEqual(got, []string{"weight"}) {
		t.Errorf("KnownKeys = %v", got)
	}
	if got := yamlstrict.KnownKeys(3); got != nil {
		t.Errorf("KnownKeys(3) = %v, want nil", got)
	}
	if got := yamlstrict.Join(yamlstrict.Index("judges", 1), "pattern"); got != "judges[1].pattern" {
		t.Errorf("path = %q", got)
	}
	if got := yamlstrict.Join("", "name"); got != "name" {
		t.Errorf("Join from the root = %q", got)
	}
	for typ, want := range map[reflect.Type]string{
		reflect.TypeFor[string](): "a string", reflect.TypeFor[bool](): "true or false",
		reflect.TypeFor[uint16](): "an integer", reflect.TypeFor[float32](): "a number",
		reflect.TypeFor[[]int](): "[]int",
	} {
		if got := yamlstrict.Want(typ); got != want {
			t.Errorf("Want(%v) = %q, want %q", typ, got, want)
		}
	}
}

// FuzzDecode decodes arbitrary YAML into a configuration: it never panics,
// and every error names a field path and says what was wrong.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{"name: a", "count: 1e300", "tags: [a, [b]]", "labels: {x: {y: 1}}", "list: [[]]", "inner: ~", "any: {a: [1]}", "- a", "count: -129", "env: {a: 1}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		var v any
		if yaml.Unmarshal([]byte(src), &v) != nil {
			return
		}
		var c config
		err := yamlstrict.Decode(reflect.ValueOf(&c).Elem(), v, "")
		if err == nil {
			return
		}
		msg := err.Error()
		path, what, ok := strings.Cut(msg, ": ")
		if !ok || path == "" {
			t.Fatalf("error %q names no field path", msg)
		}
		if !strings.HasPrefix(what, "expected ") && !strings.HasPrefix(what, "unknown field (known: ") {
			t.Fatalf("error %q says neither what was expected nor which keys are known", msg)
		}
	})
}
