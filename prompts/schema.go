package prompts

// Schemas of the registry's files (JSON Schema draft 2020-12), built from
// the key lists the file decoder checks, so that the two cannot disagree
// on which keys a mapping takes.

// PromptSchemaID and ConfigSchemaID are the $ids of the schemas.
const (
	PromptSchemaID = "https://gavel.dev/schema/prompt.schema.json"
	ConfigSchemaID = "https://gavel.dev/schema/config.schema.json"
)

// PromptSchema returns the JSON Schema of a prompt file (NAME.yaml).
func PromptSchema() map[string]any {
	msg := strictObject(messageKeys, map[string]any{
		"role":    map[string]any{"enum": []any{"system", "user", "assistant", "developer"}},
		"content": map[string]any{"type": "string", "description": "a template"},
	}, "role", "content")
	inline := strictObject(inlineConfigKeys, configProps(), "")
	version := strictObject(promptVersionKeys, map[string]any{
		"version":  nameSchema("unique in the file; gavel prompts new numbers them v1, v2, ..."),
		"text":     map[string]any{"type": "string", "description": "a user-message template"},
		"messages": map[string]any{"type": "array", "items": msg, "minItems": 1, "description": "chat messages whose contents are templates"},
		"config": map[string]any{"description": "the version's model config: inline, or NAME@REF of configs/",
			"oneOf": []any{map[string]any{"type": "string", "pattern": refSchemaPattern}, inline}},
		"note":    map[string]any{"type": "string"},
		"author":  map[string]any{"type": "string"},
		"created": map[string]any{"type": "string", "format": "date-time"},
		"hash":    map[string]any{"type": "string", "pattern": hashPattern.String(), "description": "the content hash, stamped by gavel"},
	}, "version")
	version["oneOf"] = []any{map[string]any{"required": []any{"text"}}, map[string]any{"required": []any{"messages"}}}
	return fileSchema(PromptSchemaID, "gavel prompt file (prompts/NAME.yaml)", version)
}

// ConfigSchema returns the JSON Schema of a model config file
// (configs/NAME.yaml).
func ConfigSchema() map[string]any {
	props := configProps()
	props["version"] = nameSchema("unique in the file")
	props["extends"] = map[string]any{"type": "string", "pattern": refSchemaPattern, "description": "a config version whose values this one overrides"}
	props["note"] = map[string]any{"type": "string"}
	props["author"] = map[string]any{"type": "string"}
	props["created"] = map[string]any{"type": "string", "format": "date-time"}
	props["hash"] = map[string]any{"type": "string", "pattern": hashPattern.String(), "description": "the content hash, stamped by gavel"}
	return fileSchema(ConfigSchemaID, "gavel model config file (prompts/configs/NAME.yaml)", strictObject(configVersionKeys, props, "version"))
}

// refSchemaPattern is a reference: NAME, NAME@VERSION or NAME@LABEL.
const refSchemaPattern = `^[A-Za-z0-9][A-Za-z0-9_.-]*(@[A-Za-z0-9][A-Za-z0-9_.-]*)?$`

func nameSchema(desc string) map[string]any {
	return map[string]any{"type": "string", "pattern": namePattern.String(), "description": desc}
}

func configProps() map[string]any {
	return map[string]any{
		"model":    map[string]any{"type": "string", "description": "PROVIDER/MODEL, or MODEL with provider"},
		"provider": map[string]any{"type": "string"},
		"params":   map[string]any{"type": "object", "description": "temperature, max_tokens, top_p, seed, stop, ... as in a spec's params"},
	}
}

// strictObject is an object of exactly keys, each described by props.
func strictObject(keys []string, props map[string]any, required ...string) map[string]any {
	p := map[string]any{}
	for _, k := range keys {
		s, ok := props[k]
		if !ok {
			s = map[string]any{}
		}
		p[k] = s
	}
	o := map[string]any{"type": "object", "properties": p, "additionalProperties": false}
	var req []any
	for _, r := range required {
		if r != "" {
			req = append(req, r)
		}
	}
	if len(req) > 0 {
		o["required"] = req
	}
	return o
}

func fileSchema(id, title string, version map[string]any) map[string]any {
	move := strictObject(historyKeys, map[string]any{
		"label":    nameSchema("the label moved"),
		"version":  nameSchema("the version it points at since"),
		"previous": map[string]any{"type": "string", "description": "the version it pointed at before; empty when new"},
		"at":       map[string]any{"type": "string", "format": "date-time"},
		"by":       map[string]any{"type": "string"},
		"run":      map[string]any{"type": "string", "description": "the evaluation run that allowed the move"},
		"note":     map[string]any{"type": "string"},
	}, "label", "version")
	s := strictObject(fileKeys, map[string]any{
		"name":     nameSchema("the file's base name"),
		"versions": map[string]any{"type": "array", "items": version, "minItems": 1, "description": "in order: the last one is NAME@latest"},
		"labels":   map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}, "description": "label -> version"},
		"history":  map[string]any{"type": "array", "items": move, "description": "label moves, oldest first"},
	}, "name", "versions")
	s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	s["$id"] = id
	s["title"] = title
	return s
}
