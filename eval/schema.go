package eval

import (
	"reflect"
	"sort"
	"time"

	"github.com/gavel-eval/gavel/internal/yamlstrict"
	"github.com/gavel-eval/gavel/judges"
)

// SchemaID is the $id of the spec's JSON Schema.
const SchemaID = "https://gavel.dev/schema/spec.schema.json"

// SpecSchema returns the JSON Schema (draft 2020-12) of a spec file,
// generated from the spec's Go types by the rules of its strict decoder:
// the keys of each mapping are its struct's yaml tags and no others, a
// list of strings also takes one string, durations are strings ("30s"),
// and the polymorphic parts (a prompt; a step by its kind; a judge by its
// type, with the type's own options from cat, judges.Builtin() when nil)
// are spelled out. Editors use it to complete and check gavel.yaml.
func SpecSchema(cat judges.Catalog) map[string]any {
	if cat == nil {
		cat = judges.Builtin()
	}
	g := &schemaGen{defs: map[string]any{}}
	root := g.object(reflect.TypeFor[Spec]())
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = SchemaID
	root["title"] = "gavel spec (gavel.yaml)"
	root["description"] = "An evaluation: the dataset, the chain, the variants, the judges and the gates. See docs/spec.md."
	props := root["properties"].(map[string]any)
	props["chain"] = map[string]any{"type": "array", "items": g.step(), "description": "the steps run for each example; default: one llm step"}
	props["judges"] = map[string]any{"type": "array", "items": g.judge(cat), "description": "what scores each output"}
	root["$defs"] = g.defs
	return root
}

type schemaGen struct {
	defs map[string]any
}

var (
	promptSpecType = reflect.TypeFor[PromptSpec]()
	toolsSpecType  = reflect.TypeFor[ToolsSpec]()
	durationKind   = reflect.TypeFor[time.Duration]()
)

// of returns the schema of a value of type t.
func (g *schemaGen) of(t reflect.Type) map[string]any {
	switch t {
	case promptSpecType:
		g.promptDef()
		return map[string]any{"$ref": "#/$defs/prompt"}
	case toolsSpecType:
		g.toolsDef()
		return map[string]any{"$ref": "#/$defs/tools"}
	case durationKind:
		return map[string]any{"type": "string", "pattern": `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`, "description": "a duration: 500ms, 30s, 2m, 1h30m"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.of(t.Elem())
	case reflect.Struct:
		return g.object(t)
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.of(t.Elem())}
	case reflect.Slice:
		list := map[string]any{"type": "array", "items": g.of(t.Elem())}
		if t.Elem().Kind() == reflect.String {
			return map[string]any{"anyOf": []any{map[string]any{"type": "string"}, list}}
		}
		return list
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	}
	return map[string]any{} // any value
}

// object is the schema of a struct read by its yaml tags, strictly.
func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	for name, idx := range yamlstrict.Fields(t) {
		f := t.FieldByIndex(idx)
		s := g.of(f.Type)
		if d, ok := schemaDescriptions[t.Name()+"."+name]; ok {
			s = withDescription(s, d)
		}
		if e, ok := schemaEnums[t.Name()+"."+name]; ok {
			s = map[string]any{"enum": e}
		}
		props[name] = s
	}
	return map[string]any{"type": "object", "properties": props, "additionalProperties": false}
}

func withDescription(s map[string]any, d string) map[string]any {
	out := map[string]any{"description": d}
	for k, v := range s {
		out[k] = v
	}
	return out
}

// promptDef defines a prompt: inline text, chat messages, a registry
// reference or a file.
func (g *schemaGen) promptDef() {
	if _, ok := g.defs["prompt"]; ok {
		return
	}
	part := map[string]any{"type": "object", "required": []any{"type"}, "additionalProperties": false,
		"properties": map[string]any{
			"type":   map[string]any{"enum": []any{"text", "image_url"}},
			"text":   map[string]any{"type": "string", "description": "a template"},
			"detail": map[string]any{"enum": []any{"low", "high", "auto"}},
			"image_url": map[string]any{"description": "a template giving a URL, a data URL, base64 or a file path relative to the spec",
				"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "object", "required": []any{"url"}, "additionalProperties": false,
					"properties": map[string]any{"url": map[string]any{"type": "string"}, "detail": map[string]any{"enum": []any{"low", "high", "auto"}}}}}},
		}}
	history := map[string]any{"type": "object", "required": []any{"messages"}, "additionalProperties": false,
		"properties": map[string]any{"messages": map[string]any{"type": "string", "pattern": "^example\\.[^. {}]+$", "description": "example.FIELD: the example's chat history, a list of {role, content} messages"}}}
	msg := map[string]any{"oneOf": []any{
		map[string]any{"type": "object", "required": []any{"role", "content"}, "additionalProperties": false,
			"properties": map[string]any{
				"role": map[string]any{"enum": anys(messageRoles)},
				"content": map[string]any{"oneOf": []any{map[string]any{"type": "string", "description": "a template"},
					map[string]any{"type": "array", "items": part, "minItems": 1}}},
			}},
		history,
	}}
	g.defs["prompt"] = map[string]any{
		"description": "an inline template (one user message), a list of chat messages, a registry prompt (NAME, NAME@VERSION, NAME@LABEL or {ref: ...}) or {file: PATH}",
		"oneOf": []any{
			map[string]any{"type": "string"},
			map[string]any{"type": "array", "items": msg, "minItems": 1},
			history,
			map[string]any{"type": "object", "required": []any{"ref"}, "additionalProperties": false,
				"properties": map[string]any{"ref": map[string]any{"type": "string", "pattern": refPattern.String()}}},
			map[string]any{"type": "object", "required": []any{"file"}, "additionalProperties": false,
				"properties": map[string]any{"file": map[string]any{"type": "string", "description": "a text file (one user message) or a .yaml/.yml/.json list of messages, relative to the spec"}}},
		},
	}
}

// toolsDef defines tools: OpenAI function definitions, flat or in the
// wire form, or a file of them.
func (g *schemaGen) toolsDef() {
	if _, ok := g.defs["tools"]; ok {
		return
	}
	fn := map[string]any{"type": "object", "required": []any{"name"}, "additionalProperties": false,
		"properties": map[string]any{
			"name":        map[string]any{"type": "string", "pattern": toolNamePattern.String()},
			"description": map[string]any{"type": "string"},
			"parameters":  map[string]any{"type": "object", "description": "the JSON Schema of the arguments"},
			"strict":      map[string]any{"type": "boolean"},
		}}
	wire := map[string]any{"type": "object", "required": []any{"type", "function"}, "additionalProperties": false,
		"properties": map[string]any{"type": map[string]any{"const": "function"}, "function": fn}}
	g.defs["tools"] = map[string]any{
		"description": "tools the model may call: OpenAI function definitions ({name, description, parameters} or {type: function, function: {...}}), or {file: PATH} of a JSON or YAML list of them",
		"oneOf": []any{
			map[string]any{"type": "array", "items": map[string]any{"oneOf": []any{fn, wire}}},
			map[string]any{"type": "object", "required": []any{"file"}, "additionalProperties": false,
				"properties": map[string]any{"file": map[string]any{"type": "string"}}},
		},
	}
}

// tagged is the schema of a mapping whose common keys are common's and
// whose other keys depend on the value of key: one branch per value.
func (g *schemaGen) tagged(key string, common reflect.Type, configs map[string]reflect.Type, required []string) map[string]any {
	base := g.object(common)["properties"].(map[string]any)
	values := make([]string, 0, len(configs))
	for v := range configs {
		values = append(values, v)
	}
	sort.Strings(values)
	var branches []any
	for _, v := range values {
		props := map[string]any{}
		for k, s := range base {
			props[k] = s
		}
		if ct := configs[v]; ct != nil {
			for k, s := range g.object(ct)["properties"].(map[string]any) {
				props[k] = s
			}
		}
		props[key] = map[string]any{"const": v}
		branches = append(branches, map[string]any{
			"if":   map[string]any{"properties": map[string]any{key: map[string]any{"const": v}}, "required": []any{key}},
			"then": map[string]any{"properties": props, "additionalProperties": false},
		})
	}
	enum := make([]any, len(values))
	for i, v := range values {
		enum[i] = v
	}
	req := []any{}
	for _, r := range required {
		req = append(req, r)
	}
	return map[string]any{"type": "object", "required": req,
		"properties": map[string]any{key: map[string]any{"enum": enum}},
		"allOf":      branches}
}

// step is a chain step by its kind. Custom kinds (Go functions given to
// the loader) are not in the schema.
func (g *schemaGen) step() map[string]any {
	configs := map[string]reflect.Type{
		"llm":      reflect.TypeFor[LLMStep](),
		"template": reflect.TypeFor[TemplateStep](),
		"extract":  reflect.TypeFor[ExtractStep](),
		"http":     reflect.TypeFor[HTTPStep](),
		"exec":     reflect.TypeFor[ExecStep](),
		"agent":    reflect.TypeFor[AgentStep](),
	}
	return g.tagged("kind", reflect.TypeFor[stepCommon](), configs, []string{"name", "kind"})
}

// judge is a judge by its type, with the type's own options.
func (g *schemaGen) judge(cat judges.Catalog) map[string]any {
	configs := map[string]reflect.Type{}
	for _, typ := range cat.Types() {
		f, err := cat.Lookup(typ)
		if err != nil {
			continue
		}
		var ct reflect.Type
		if f.NewConfig != nil {
			ct = reflect.TypeOf(f.NewConfig())
			for ct.Kind() == reflect.Pointer {
				ct = ct.Elem()
			}
			if ct.Kind() != reflect.Struct {
				ct = nil
			}
		}
		configs[typ] = ct
	}
	s := g.tagged("type", reflect.TypeFor[judgeCommon](), configs, []string{"type"})
	// A judge's prompt option is a prompt like a variant's.
	for _, b := range s["allOf"].([]any) {
		props := b.(map[string]any)["then"].(map[string]any)["properties"].(map[string]any)
		if _, ok := props["prompt"]; ok {
			g.promptDef()
			props["prompt"] = map[string]any{"$ref": "#/$defs/prompt"}
		}
	}
	return s
}

// schemaEnums are the closed sets the decoder accepts, by Type.key.
var schemaEnums = map[string][]any{
	"DatasetSpec.format":    anys(datasetFormats),
	"ProviderSpec.type":     anys(providerTypes),
	"GateSpec.alternative":  anys(gateAlternatives),
	"GateSpec.errors_as":    anys(gateErrorsAs),
	"judgeCommon.aggregate": anys(judgeAggregates),
	"judgeCommon.scale":     {"binary", "ordinal", "continuous"},
}

// anys is ss as JSON values.
func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// schemaDescriptions are short descriptions of the main keys (docs/spec.md
// has the whole text).
var schemaDescriptions = map[string]string{
	"Spec.name":            "the evaluation's name (manifest, root span name)",
	"Spec.description":     "free text",
	"Spec.dataset":         "the examples",
	"Spec.variants":        "what is compared; at least one",
	"Spec.gates":           "quality gates: exit 1 when one fails",
	"Spec.providers":       "OpenAI-compatible endpoints; models on them are PROVIDER/MODEL",
	"Spec.prices":          "USD per million input and output tokens, by PROVIDER/MODEL",
	"Spec.timeout":         "the bound of one model call",
	"Spec.example_timeout": "the bound of one example's whole chain",
	"Spec.retry":           "retries of model calls",
	"Spec.limits":          "rate limits by provider or provider/model",
	"Spec.concurrency":     "examples in flight",
	"Spec.repeat":          "epochs: each example run this many times",
	"Spec.score":           "where stored outputs are, for gavel score",
	"Spec.prompts_dir":     "the prompt registry's folder, relative to the spec (default prompts)",
	"DatasetSpec.path":     "a JSONL, CSV or Parquet file, relative to the spec",
	"DatasetSpec.id":       "a field name or a template giving each example's stable id; default: a content hash",
	"DatasetSpec.expected": "a template giving the results' expected column",
	"VariantSpec.name":     "unique; letters, digits, '.', '_', '-'",
	"VariantSpec.model":    "PROVIDER/MODEL: openai/gpt-4o-mini, offline/calc",
	"VariantSpec.config":   "a registry model config, NAME@LABEL: the variant's default model and params",
	"VariantSpec.vars":     "free-form values for templates ({{.variant.vars.x}})",
}
