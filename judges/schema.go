package judges

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"go.yaml.in/yaml/v3"

	"github.com/gavel-eval/gavel/llm"
)

// JSONSchemaConfig holds the options of a `json_schema` judge. Exactly one
// of Schema and SchemaFile must be set.
type JSONSchemaConfig struct {
	// Schema is the JSON Schema, inline: in the spec a YAML mapping (or
	// true/false), or a string holding the schema as JSON text.
	Schema any `yaml:"schema"`
	// SchemaFile is the path of a file holding the schema, as JSON (or as
	// YAML when it ends in .yaml or .yml), relative to the spec's
	// directory. A $ref to another file is resolved relative to it.
	SchemaFile string `yaml:"schema_file"`
	// StripFences removes a Markdown code fence (```json ... ```)
	// surrounding the output before parsing it.
	StripFences bool `yaml:"strip_fences"`
	// AssertFormat makes the `format` keyword ("email", "date-time",
	// "uuid", ...) an assertion under every draft. By default it is one
	// under draft 7 and earlier only, as those drafts specify.
	AssertFormat bool `yaml:"assert_format"`
}

// JSONSchema passes when the output is one JSON value that is valid against
// a JSON Schema. Drafts 2020-12 (the default for a schema without
// "$schema"), 2019-09, 7, 6 and 4 are supported. The schema is compiled
// once, when the judge is built; it may $ref other local files but nothing
// is fetched over the network. Its score is 1 or 0; a failure's reason
// lists the validation errors with the locations of the offending values.
type JSONSchema struct {
	cfg    JSONSchemaConfig
	schema *jsonschema.Schema
}

var _ Judge = (*JSONSchema)(nil)

// maxSchemaErrors is how many validation errors a reason lists.
const maxSchemaErrors = 5

// inlineSchemaName names the resource of an inline schema, in the spec's
// directory, so that a relative $ref in it resolves against that
// directory.
const inlineSchemaName = "gavel-inline-schema.json"

// NewJSONSchema loads and compiles the configured schema. A missing or
// doubly set schema, an unreadable file, or a schema that is not valid
// against its draft's metaschema is an error naming the field.
func NewJSONSchema(cfg JSONSchemaConfig, env Env) (*JSONSchema, error) {
	field := "schema"
	var doc any
	var loc string
	switch {
	case cfg.Schema != nil && cfg.SchemaFile != "":
		return nil, errors.New("schema, schema_file: set one, not both")
	case cfg.Schema != nil:
		var err error
		if doc, err = inlineSchema(cfg.Schema); err != nil {
			return nil, fmt.Errorf("schema: %w", err)
		}
		dir, err := filepath.Abs(env.Dir)
		if err != nil {
			return nil, fmt.Errorf("schema: %w", err)
		}
		loc = filepath.Join(dir, inlineSchemaName)
	case cfg.SchemaFile != "":
		field = "schema_file"
		loc = cfg.SchemaFile
		if !filepath.IsAbs(loc) {
			loc = filepath.Join(env.Dir, loc)
		}
		var err error
		if loc, err = filepath.Abs(loc); err != nil {
			return nil, fmt.Errorf("schema_file: %w", err)
		}
		if doc, err = readSchemaFile(loc); err != nil {
			return nil, fmt.Errorf("schema_file: %w", err)
		}
	default:
		return nil, errors.New("schema: required: an inline JSON Schema, or schema_file")
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(localSchemaLoader{})
	c.DefaultDraft(jsonschema.Draft2020)
	if cfg.AssertFormat {
		c.AssertFormat()
	}
	if err := c.AddResource(loc, doc); err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	sch, err := c.Compile(loc)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", field, schemaCompileError(err, doc))
	}
	return &JSONSchema{cfg: cfg, schema: sch}, nil
}

// localSchemaLoader loads referenced schemas from local files only.
type localSchemaLoader struct{}

func (localSchemaLoader) Load(url string) (any, error) {
	if strings.HasPrefix(url, "file://") {
		return jsonschema.FileLoader{}.Load(url)
	}
	return nil, errors.New("schemas are not fetched over the network: save it next to the schema and $ref it by a relative path")
}

// inlineSchema converts a schema given in the spec to the form the
// compiler takes: JSON values with json.Number numbers.
func inlineSchema(v any) (any, error) {
	if s, ok := v.(string); ok {
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(s))
		if err != nil {
			return nil, fmt.Errorf("a string schema must be JSON text: %w", err)
		}
		return doc, nil
	}
	return yamlToJSON(v)
}

// readSchemaFile reads a schema file, as YAML when its name ends in .yaml
// or .yml and as JSON otherwise.
func readSchemaFile(path string) (any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		var v any
		if err := yaml.Unmarshal(data, &v); err != nil {
			return nil, fmt.Errorf("%s: invalid YAML: %w", path, err)
		}
		return yamlToJSON(v)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: invalid JSON: %w", path, err)
	}
	return doc, nil
}

// yamlToJSON converts a value decoded from YAML into the JSON data model,
// with numbers as json.Number: mapping keys become strings (YAML allows
// `1:` or `true:` as keys), timestamps become strings, and non-finite
// numbers (.inf, .nan) are errors.
func yamlToJSON(v any) (any, error) {
	norm, err := jsonCompatible(v, "")
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(norm)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(data))
}

func jsonCompatible(v any, path string) (any, error) {
	at := func() string {
		if path == "" {
			return ""
		}
		return " at " + strings.TrimPrefix(path, ".")
	}
	switch x := v.(type) {
	case nil, bool, string, int, int64, uint64, json.Number:
		return x, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%v%s is not a JSON number", x, at())
		}
		return x, nil
	case time.Time:
		if x.Equal(x.Truncate(24*time.Hour)) && x.Location() == time.UTC {
			return x.Format(time.DateOnly), nil
		}
		return x.Format(time.RFC3339Nano), nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			var err error
			if out[i], err = jsonCompatible(e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return nil, err
			}
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			var err error
			if out[k], err = jsonCompatible(e, path+jsonPathKey(k)); err != nil {
				return nil, err
			}
		}
		return out, nil
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			var key string
			switch kk := k.(type) {
			case string:
				key = kk
			case nil, bool, int, int64, uint64, float64:
				key = fmt.Sprint(kk)
			default:
				return nil, fmt.Errorf("mapping key of type %T%s: keys must be strings", k, at())
			}
			var err error
			if out[key], err = jsonCompatible(e, path+jsonPathKey(key)); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("value of type %T%s is not JSON", v, at())
}

// schemaCompileError describes a compilation error: for a schema that is
// not valid against its metaschema, the offending locations in the schema
// and what is wrong there, without the library's file URLs.
func schemaCompileError(err error, doc any) string {
	var sve *jsonschema.SchemaValidationError
	if errors.As(err, &sve) {
		var ve *jsonschema.ValidationError
		if errors.As(sve.Err, &ve) {
			return "not a valid JSON Schema: " + describeValidation(ve, doc)
		}
	}
	return err.Error()
}

// Judge parses in.Output as JSON and validates it.
func (j *JSONSchema) Judge(_ context.Context, in Input) (Verdict, error) {
	text, fenced := jsonDocument(in.Output, j.cfg.StripFences)
	what := "output"
	if fenced {
		what = "fenced output"
	}
	if text == "" {
		return binary(false, what+" is empty, not JSON"), nil
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		return binary(false, fmt.Sprintf("%s is not valid JSON (%v): %s", what, err, quote(in.Output))), nil
	}
	err = j.schema.Validate(doc)
	if err == nil {
		return binary(true, what+" is valid against the schema"), nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return Verdict{}, fmt.Errorf("json_schema: validating: %w", err)
	}
	return binary(false, what+" is not valid against the schema: "+describeValidation(ve, doc)), nil
}

// schemaIssue is one leaf validation error.
type schemaIssue struct {
	path, msg string
}

// describeValidation lists the leaf errors of a validation failure, each
// with the JSONPath of the offending value in doc, sorted by path, at most
// maxSchemaErrors of them.
func describeValidation(ve *jsonschema.ValidationError, doc any) string {
	var issues []schemaIssue
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			if ap, ok := e.ErrorKind.(*kind.AdditionalProperties); ok {
				slices.Sort(ap.Properties) // listed in map order
			}
			// The output of a leaf is its message, in English.
			msg := e.BasicOutput().Error.String()
			issues = append(issues, schemaIssue{pointerToPath(e.InstanceLocation, doc), msg})
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	// The library validates object properties in map order; sort for
	// reproducible reasons.
	slices.SortStableFunc(issues, func(a, b schemaIssue) int {
		if c := strings.Compare(a.path, b.path); c != 0 {
			return c
		}
		return strings.Compare(a.msg, b.msg)
	})
	issues = slices.Compact(issues)
	parts := make([]string, 0, min(len(issues), maxSchemaErrors))
	for i, is := range issues {
		if i == maxSchemaErrors {
			break
		}
		parts = append(parts, fmt.Sprintf("at %s: %s", is.path, is.msg))
	}
	s := strings.Join(parts, "; ")
	if n := len(issues); n > maxSchemaErrors {
		s += fmt.Sprintf("; and %d more", n-maxSchemaErrors)
	}
	if len(issues) > 1 {
		s = fmt.Sprintf("%d errors: %s", len(issues), s)
	}
	return s
}

// pointerToPath turns the tokens of a JSON pointer into doc into a JSONPath
// ("$.items[2].name"), telling array indexes from object keys by walking
// doc.
func pointerToPath(tokens []string, doc any) string {
	var b strings.Builder
	b.WriteString("$")
	cur := doc
	for _, tok := range tokens {
		switch c := cur.(type) {
		case []any:
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(c) {
				fmt.Fprintf(&b, "[%d]", i)
				cur = c[i]
				continue
			}
		case map[string]any:
			cur = c[tok]
		default:
			cur = nil
		}
		b.WriteString(jsonPathKey(tok))
	}
	return b.String()
}

// compileToolSchema compiles the JSON Schema of a tool's parameters
// (draft 2020-12 unless it says otherwise; nothing is fetched).
func compileToolSchema(name string, params json.RawMessage) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(params))
	if err != nil {
		return nil, fmt.Errorf("tool %s: parameters are not JSON: %w", name, err)
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(localSchemaLoader{})
	c.DefaultDraft(jsonschema.Draft2020)
	loc := "gavel-tool-" + url.PathEscape(name) + ".json"
	if err := c.AddResource(loc, doc); err != nil {
		return nil, fmt.Errorf("tool %s: %w", name, err)
	}
	sch, err := c.Compile(loc)
	if err != nil {
		return nil, fmt.Errorf("tool %s: parameters: %s", name, schemaCompileError(err, doc))
	}
	return sch, nil
}

// validateAgainst parses text as JSON and validates it against sch; it
// returns "" when valid, or what is wrong.
func validateAgainst(sch *jsonschema.Schema, text string) string {
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		return fmt.Sprintf("arguments are not valid JSON (%v): %s", err, quote(text))
	}
	err = sch.Validate(doc)
	if err == nil {
		return ""
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	return "arguments are not valid against the tool's schema: " + describeValidation(ve, doc)
}

// ToolValidator checks tool calls against the tools offered: that the
// tool is one of them and its arguments are JSON valid against the tool's
// parameters schema. Schemas are compiled once each. It is safe for
// concurrent use.
type ToolValidator struct {
	mu    sync.Mutex
	cache map[string]*jsonschema.Schema // tool name + schema text -> compiled
}

// NewToolValidator returns an empty ToolValidator.
func NewToolValidator() *ToolValidator {
	return &ToolValidator{cache: map[string]*jsonschema.Schema{}}
}

// CheckTool compiles t's parameters schema, returning why it is not one.
func (v *ToolValidator) CheckTool(t llm.Tool) error {
	_, err := v.schema(t)
	return err
}

func (v *ToolValidator) schema(t llm.Tool) (*jsonschema.Schema, error) {
	params := t.Parameters
	if len(params) == 0 {
		params = json.RawMessage(`{"type": "object"}`)
	}
	key := t.Name + "\x00" + string(params)
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.cache[key]; ok {
		return s, nil
	}
	s, err := compileToolSchema(t.Name, params)
	if err != nil {
		return nil, err
	}
	v.cache[key] = s
	return s, nil
}

// Check returns "" when call names one of tools and its arguments are
// valid, or else what is wrong with it. An error is a schema that does
// not compile.
func (v *ToolValidator) Check(tools []llm.Tool, call llm.ToolCall) (string, error) {
	for _, t := range tools {
		if t.Name != call.Name {
			continue
		}
		sch, err := v.schema(t)
		if err != nil {
			return "", err
		}
		text := call.Arguments
		if strings.TrimSpace(text) == "" {
			text = "{}"
		}
		return validateAgainst(sch, text), nil
	}
	return quote(call.Name) + " is not one of the tools offered", nil
}

// ToolArgsSchema passes when every tool call of a result names a tool it
// was offered and has arguments that are a JSON value valid against that
// tool's parameters schema. Its score is the share of valid calls (1 with
// no call); the reason lists the invalid ones.
type ToolArgsSchema struct{ v *ToolValidator }

var _ Judge = (*ToolArgsSchema)(nil)

// ToolArgsSchemaConfig holds the options of a tool_args_schema judge:
// none, the schemas are the tools'.
type ToolArgsSchemaConfig struct {
	_ bool // not zero-sized: each configuration is its own value
}

// NewToolArgsSchema returns a tool_args_schema judge.
func NewToolArgsSchema(ToolArgsSchemaConfig) (*ToolArgsSchema, error) {
	return &ToolArgsSchema{v: NewToolValidator()}, nil
}

// Judge validates every call's arguments.
func (j *ToolArgsSchema) Judge(_ context.Context, in Input) (Verdict, error) {
	var bad []string
	for i, c := range in.ToolCalls {
		why, err := j.v.Check(in.Tools, c)
		if err != nil {
			return Verdict{}, fmt.Errorf("tool_args_schema: %w", err)
		}
		if why != "" {
			bad = append(bad, fmt.Sprintf("call %d (%s): %s", i+1, c.Name, why))
		}
	}
	n := len(in.ToolCalls)
	v := shareVerdict(n-len(bad), n, fmt.Sprintf("all %d calls have valid arguments", n))
	if n == 0 {
		v.Reason = "no tool was called"
	}
	if len(bad) > 0 {
		v.Reason = fmt.Sprintf("%d of %d calls invalid: %s", len(bad), n, strings.Join(bad, "; "))
	}
	v.Details = map[string]any{"calls": n, "invalid": len(bad)}
	return v, nil
}
