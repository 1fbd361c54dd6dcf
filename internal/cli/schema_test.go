package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

// The committed schemas are the generated ones (go test -run TestSchemas
// ./internal/cli/ -update rewrites them).
func TestSchemasAreCurrent(t *testing.T) {
	for _, kind := range schemaKinds {
		want, err := schemaOf(kind)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("..", "..", "docs", kind+".schema.json")
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what gavel schema %s prints: run go test ./internal/cli/ -run TestSchemasAreCurrent -update", path, kind)
		}
	}
}

// compileSchema compiles the schema of kind with a JSON Schema validator.
func compileSchema(t *testing.T, kind string) *jsonschema.Schema {
	t.Helper()
	b, err := schemaOf(kind)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(kind+".schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(kind + ".schema.json")
	if err != nil {
		t.Fatalf("the %s schema does not compile: %v", kind, err)
	}
	return s
}

// yamlValue reads YAML text as the JSON value a validator checks.
func yamlValue(t *testing.T, text string) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(text), &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The examples validate against their schemas, and what the strict
// decoders refuse the schemas refuse too.
func TestSchemasValidate(t *testing.T) {
	schemas := map[string]*jsonschema.Schema{}
	for _, k := range schemaKinds {
		schemas[k] = compileSchema(t, k)
	}
	files := map[string]string{}
	for _, pat := range []string{"../../examples/*/*.yaml", "../../examples/*/prompts/*.yaml", "../../examples/*/prompts/configs/*.yaml"} {
		m, _ := filepath.Glob(pat)
		for _, f := range m {
			kind := "spec"
			switch {
			case strings.Contains(f, "/prompts/configs/"):
				kind = "config"
			case strings.Contains(f, "/prompts/prompts/"):
				kind = "prompt"
			}
			files[f] = kind
		}
	}
	if len(files) < 5 {
		t.Fatalf("found %d example files", len(files))
	}
	for f, kind := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := schemas[kind].Validate(yamlValue(t, string(b))); err != nil {
			t.Errorf("%s against the %s schema: %v", f, kind, err)
		}
		if !strings.HasPrefix(string(b), "# yaml-language-server: $schema=") {
			t.Errorf("%s does not name its schema on its first line", f)
		}
	}
	spec := func(extra string) string {
		return "name: x\ndataset: {path: d.jsonl}\nvariants:\n  - {name: a, model: offline/calc, prompt: hi}\n" + extra
	}
	for _, tc := range []struct {
		name, kind, text string
		ok               bool
	}{
		{"a spec with every step kind and judges", "spec", spec("chain:\n  - {name: s, kind: llm, prompt: solve@v2}\n  - {name: t, kind: template, template: x}\n  - {name: e, kind: extract, regex: \"(\\\\d+)\"}\n  - {name: h, kind: http, url: \"http://127.0.0.1:1\", timeout: 2s}\n  - {name: x, kind: exec, command: [prog]}\njudges:\n  - {name: c, type: contains, value: a}\n  - {type: llm_rubric, model: offline/judge, rubric: r, prompt: {file: g.txt}}\ngates:\n  - {judge: c, max_drop: 0.02, alternative: less}\ntimeout: 30s\n"), true},
		{"registry prompts and configs", "spec", "name: x\nprompts_dir: reg\ndataset: {path: d.jsonl}\nvariants:\n  - {name: a, prompt: solve@production, config: calc@production}\n  - {name: b, prompt: {ref: solve@v2}, model: m/x, params: {temperature: 0.5, stop: END}}\n", true},
		{"unknown top-level key", "spec", spec("gatez: []\n"), false},
		{"unknown variant key", "spec", "name: x\ndataset: {path: d.jsonl}\nvariants:\n  - {name: a, modle: m}\n", false},
		{"unknown step kind", "spec", spec("chain:\n  - {name: s, kind: nope}\n"), false},
		{"a key of another kind", "spec", spec("chain:\n  - {name: s, kind: template, regex: x}\n"), false},
		{"unknown judge type", "spec", spec("judges:\n  - {type: nope}\n"), false},
		{"a judge key the type lacks", "spec", spec("judges:\n  - {type: contains, patern: x}\n"), false},
		{"bad role", "spec", "name: x\ndataset: {path: d.jsonl}\nvariants:\n  - {name: a, model: m/x, prompt: [{role: robot, content: x}]}\n", false},
		{"bad duration", "spec", spec("timeout: soon\n"), false},
		{"bad format", "spec", "name: x\ndataset: {path: d.jsonl, format: xml}\nvariants:\n  - {name: a, model: m/x, prompt: x}\n", false},
		{"prompt with text and messages", "prompt", "name: p\nversions:\n  - {version: v1, text: a, messages: [{role: user, content: b}]}\n", false},
		{"prompt version key typo", "prompt", "name: p\nversions:\n  - {version: v1, txt: a}\n", false},
		{"prompt without versions", "prompt", "name: p\n", false},
		{"a good prompt", "prompt", "name: p\nversions:\n  - {version: v1, text: a, config: fast@production}\nlabels: {production: v1}\nhistory:\n  - {label: production, version: v1, previous: \"\", at: \"2026-11-02T09:00:00Z\", by: a, run: r, note: n}\n", true},
		{"config key typo", "config", "name: c\nversions:\n  - {version: v1, modle: m}\n", false},
		{"a good config", "config", "name: c\nversions:\n  - {version: v1, model: m/x, params: {temperature: 0}}\n  - {version: v2, extends: c@v1, params: {temperature: 1}}\n", true},
	} {
		err := schemas[tc.kind].Validate(yamlValue(t, tc.text))
		if tc.ok && err != nil {
			t.Errorf("%s: refused: %v", tc.name, err)
		}
		if !tc.ok && err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}
