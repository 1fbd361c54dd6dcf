package eval

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/gavel-eval/gavel/llm"
)

// ToolsSpec is the tools a variant or a step offers its model: OpenAI
// function definitions, in the flat form {name, description, parameters,
// strict} or the wire form {type: function, function: {...}}, inline as
// a list or read from a JSON or YAML file ({file: tools.json}, relative
// to the spec).
type ToolsSpec struct {
	Tools []llm.Tool
	// File is the file they were read from ("" inline).
	File string
}

// IsZero reports whether no tools were given.
func (t ToolsSpec) IsZero() bool { return len(t.Tools) == 0 }

var toolNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func (t *ToolsSpec) decodeNode(d *decoder, n *yaml.Node, path string) error {
	if n.Kind == yaml.MappingNode {
		file := mappingValue(n, "file")
		if file == "" || len(n.Content) != 2 {
			return d.errf(n, path, "expected a list of tools or {file: PATH}")
		}
		full := file
		if !filepath.IsAbs(full) {
			full = filepath.Join(d.dir, file)
		}
		data, err := os.ReadFile(full)
		if err != nil {
			return d.errf(valueNode(n, "file"), path+".file", "%v", err)
		}
		var raw any
		if err := yaml.Unmarshal(data, &raw); err != nil {
			return d.errf(valueNode(n, "file"), path+".file", "%s: invalid JSON or YAML: %v", file, strings.TrimPrefix(err.Error(), "yaml: "))
		}
		list, ok := raw.([]any)
		if !ok {
			return d.errf(valueNode(n, "file"), path+".file", "%s: want a list of tools", file)
		}
		tools, err := toolsOf(list)
		if err != nil {
			return d.errf(valueNode(n, "file"), path+".file", "%s: %v", file, err)
		}
		t.Tools, t.File = tools, file
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return d.errf(n, path, "expected a list of tools or {file: PATH}, got %s", describe(n))
	}
	var list []any
	if err := n.Decode(&list); err != nil {
		return d.errf(n, path, "%v", err)
	}
	tools, err := toolsOf(list)
	if err != nil {
		// Point at the tool at fault when the message names one.
		var te *toolError
		if ok := asToolError(err, &te); ok && te.index < len(n.Content) {
			return d.errf(n.Content[te.index], fmt.Sprintf("%s[%d]", path, te.index), "%s", te.msg)
		}
		return d.errf(n, path, "%v", err)
	}
	t.Tools = tools
	return nil
}

// toolError is a bad tool definition at index.
type toolError struct {
	index int
	msg   string
}

func (e *toolError) Error() string { return fmt.Sprintf("tool %d: %s", e.index+1, e.msg) }

func asToolError(err error, out **toolError) bool {
	te, ok := err.(*toolError)
	if ok {
		*out = te
	}
	return ok
}

// toolsOf reads tool definitions from decoded YAML or JSON.
func toolsOf(list []any) ([]llm.Tool, error) {
	tools := make([]llm.Tool, 0, len(list))
	seen := map[string]bool{}
	for i, item := range list {
		m, ok := jsonValue(item).(map[string]any)
		if !ok {
			return nil, &toolError{i, "want a mapping {name, description, parameters}"}
		}
		if typ, ok := m["type"]; ok {
			if typ != "function" {
				return nil, &toolError{i, fmt.Sprintf("type %v: only function tools are supported", typ)}
			}
			fn, ok := m["function"].(map[string]any)
			if !ok {
				return nil, &toolError{i, "type function: want a function: {name, description, parameters}"}
			}
			for k := range m {
				if k != "type" && k != "function" {
					return nil, &toolError{i, fmt.Sprintf("unknown key %q beside type and function", k)}
				}
			}
			m = fn
		}
		var t llm.Tool
		for k, v := range m {
			switch k {
			case "name":
				t.Name, _ = v.(string)
			case "description":
				s, ok := v.(string)
				if !ok {
					return nil, &toolError{i, "description: want text"}
				}
				t.Description = s
			case "parameters":
				obj, ok := v.(map[string]any)
				if !ok {
					return nil, &toolError{i, "parameters: want a JSON Schema object"}
				}
				b, err := json.Marshal(obj)
				if err != nil {
					return nil, &toolError{i, "parameters: " + err.Error()}
				}
				t.Parameters = b
			case "strict":
				b, ok := v.(bool)
				if !ok {
					return nil, &toolError{i, "strict: want true or false"}
				}
				t.Strict = b
			default:
				return nil, &toolError{i, fmt.Sprintf("unknown key %q (known: description, name, parameters, strict)", k)}
			}
		}
		if !toolNamePattern.MatchString(t.Name) {
			return nil, &toolError{i, fmt.Sprintf("name %q: want 1 to 64 letters, digits, _ or -", t.Name)}
		}
		if seen[t.Name] {
			return nil, &toolError{i, fmt.Sprintf("name %q: defined twice", t.Name)}
		}
		seen[t.Name] = true
		tools = append(tools, t)
	}
	return tools, nil
}

// jsonValue converts decoded YAML (maps with any keys) to JSON-able values.
func jsonValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonValue(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = jsonValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e)
		}
		return out
	}
	return v
}

// toolNames lists the tools' names, sorted.
func toolNames(tools []llm.Tool) []string {
	names := make([]string, len(tools))
	for i, t := range tools {
		names[i] = t.Name
	}
	sort.Strings(names)
	return names
}
