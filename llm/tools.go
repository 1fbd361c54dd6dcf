package llm

import "encoding/json"

// Tool is a function a model may call: OpenAI's function-calling
// definition.
type Tool struct {
	// Name is the function's name, as the model calls it.
	Name string `json:"name"`
	// Description tells the model what the function does.
	Description string `json:"description,omitempty"`
	// Parameters is the JSON Schema of the function's arguments (an
	// object schema); nil for a function without arguments.
	Parameters json.RawMessage `json:"parameters,omitempty"`
	// Strict asks the provider to hold the model to the schema.
	Strict bool `json:"strict,omitempty"`
}

// ToolCall is one call of a tool that a model's reply asked for.
type ToolCall struct {
	// ID names the call; the tool's result refers to it.
	ID string `json:"id"`
	// Name is the tool the model called.
	Name string `json:"name"`
	// Arguments are the arguments as the model wrote them: JSON text,
	// which may not parse or may not match the tool's schema.
	Arguments string `json:"arguments"`
}
