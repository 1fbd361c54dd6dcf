package judges

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/gavel-eval/gavel/internal/yamlstrict"
	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/prompts"
)

// This file holds what the LLM judges share: their common options, the
// prompt templates, and the call to the judge model with its retries.

// defaultMaxParseRetries is how many times an LLM judge asks again when
// it cannot read the judge model's reply.
const defaultMaxParseRetries = 2

// maxMaxParseRetries bounds max_parse_retries.
const maxMaxParseRetries = 10

// llmReplyDetailRunes is how much of the judge model's reply a verdict's
// Details keep.
const llmReplyDetailRunes = 4000

// llmOptions are the options every LLM judge type accepts. (The spec
// decoder does not inline embedded structs, so each configuration
// repeats them.)
type llmOptions struct {
	model           string
	prompt          any
	input           string
	params          llm.Params
	maxParseRetries *int
	structured      *bool
}

// llmPromptMessage is one message of a judge prompt: a role and a
// template.
type llmPromptMessage struct {
	role string
	tmpl *prompts.Template
}

// llmCore is the part of an LLM judge that renders its prompt, calls the
// judge model and reads the reply. It is safe for concurrent use.
type llmCore struct {
	typ     string // the judge type, for errors
	name    atomic.Value
	model   llm.Model
	modelID string
	msgs    []llmPromptMessage
	input   *prompts.Template // nil: the example's input, question, prompt or query field
	// params are the judge's defaults (temperature 0, seed 0) overridden
	// by the spec's.
	params     llm.Params
	maxRetries int
	// format is the response format the judge asks for (nil: plain text).
	format *llm.ResponseFormat
	// rejected records the parameters the server refused (see send), after
	// which the judge stops sending them.
	rejected [llmDroppableCount]atomic.Bool
	// userTemp and userSeed tell whether the spec set the temperature and
	// the seed (which are then never dropped).
	userTemp, userSeed bool
	// formatHint describes the reply format, for the message that asks
	// again after an unreadable reply.
	formatHint string
}

// llmNamed is implemented by the LLM judges: setLLMName names their model
// calls (and so their llm spans). A panel names its members' calls after
// the members.
type llmNamed interface {
	setLLMName(name string)
}

// newLLMCore checks the common options and builds the core of a judge of
// type typ. defaultPrompt is the judge's prompt template when the spec
// gives none; schema, when not nil, is the structured output the judge
// asks for unless `structured: false`.
func newLLMCore(typ string, o llmOptions, env Env, defaultPrompt string, schema *llm.JSONSchema, formatHint string) (*llmCore, error) {
	if env.Model == nil {
		return nil, errors.New("no judge model available: the environment has no model router (Env.Model is nil)")
	}
	provider, name, ok := strings.Cut(o.model, "/")
	if o.model == "" {
		return nil, errors.New(`model: required, as "provider/model" (for example "openai/gpt-4o-mini", or "offline/judge" to run without a key)`)
	}
	if !ok || provider == "" || name == "" {
		return nil, fmt.Errorf(`model: %q: want "provider/model", for example "openai/gpt-4o-mini"`, o.model)
	}
	msgs, err := llmParsePrompt(typ, o.prompt, defaultPrompt)
	if err != nil {
		return nil, err
	}
	c := &llmCore{
		typ: typ, model: env.Model, modelID: o.model, msgs: msgs,
		formatHint: formatHint,
		maxRetries: defaultMaxParseRetries,
	}
	c.name.Store(typ)
	if o.input != "" {
		if c.input, err = prompts.Parse(typ+" input", o.input); err != nil {
			return nil, fmt.Errorf("input: %w", err)
		}
	}
	if o.maxParseRetries != nil {
		n := *o.maxParseRetries
		if n < 0 || n > maxMaxParseRetries {
			return nil, fmt.Errorf("max_parse_retries: %d is out of range 0..%d", n, maxMaxParseRetries)
		}
		c.maxRetries = n
	}
	zero, seed := 0.0, 0
	c.params = llm.Params{Temperature: &zero, Seed: &seed}.Merge(o.params)
	c.userTemp, c.userSeed = o.params.Temperature != nil, o.params.Seed != nil
	c.params.ResponseFormat = nil
	switch {
	case o.params.ResponseFormat != nil:
		c.format = o.params.ResponseFormat
	case schema != nil && (o.structured == nil || *o.structured):
		c.format = &llm.ResponseFormat{Type: llm.FormatJSONSchema, JSONSchema: schema}
	}
	return c, nil
}

func (c *llmCore) setLLMName(name string) { c.name.Store(name) }

func (c *llmCore) callName() string { return c.name.Load().(string) }

// llmParsePrompt reads a prompt option: nil (use def), a string (one user
// message) or a list of {role, content} messages; every content is a
// template.
func llmParsePrompt(typ string, p any, def string) ([]llmPromptMessage, error) {
	var msgs []llm.Message
	switch v := p.(type) {
	case nil:
		msgs = []llm.Message{{Role: "user", Content: def}}
	case string:
		if strings.TrimSpace(v) == "" {
			return nil, errors.New("prompt: empty")
		}
		msgs = []llm.Message{{Role: "user", Content: v}}
	case []llm.Message:
		msgs = v
	case []any, []map[string]any:
		// A list decoded from YAML: decode it strictly.
		if err := yamlstrict.Decode(reflect.ValueOf(&msgs).Elem(), v, "prompt"); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("prompt: want a string or a list of {role, content} messages, got %T", p)
	}
	if len(msgs) == 0 {
		return nil, errors.New("prompt: no messages")
	}
	out := make([]llmPromptMessage, len(msgs))
	for i, m := range msgs {
		switch m.Role {
		case "system", "user", "assistant", "developer":
		case "":
			return nil, fmt.Errorf("prompt[%d].role: missing (system, user or assistant)", i)
		default:
			return nil, fmt.Errorf("prompt[%d].role: unknown role %q (system, user, assistant or developer)", i, m.Role)
		}
		if strings.TrimSpace(m.Content) == "" {
			return nil, fmt.Errorf("prompt[%d].content: empty", i)
		}
		t, err := prompts.Parse(fmt.Sprintf("%s prompt[%d]", typ, i), m.Content)
		if err != nil {
			if len(msgs) == 1 && p == nil {
				return nil, fmt.Errorf("default prompt: %w", err) // a bug in gavel
			}
			return nil, fmt.Errorf("prompt[%d]: %w", i, err)
		}
		out[i] = llmPromptMessage{role: m.Role, tmpl: t}
	}
	return out, nil
}

// llmParseText parses an option that is a template (a rubric, criteria),
// naming the option in errors.
func llmParseText(typ, option, text string) (*prompts.Template, error) {
	t, err := prompts.Parse(typ+" "+option, text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", option, err)
	}
	return t, nil
}

// data returns the template data of a judge prompt for in: output,
// expected, example, variant and input. Judges add their own keys.
func (c *llmCore) data(in Input) (map[string]any, error) {
	ex := in.Example
	if ex == nil {
		ex = map[string]any{}
	}
	d := map[string]any{"output": in.Output, "expected": in.Expected, "example": ex, "variant": in.Variant, "trajectory": in.Trajectory}
	if c.input != nil {
		s, err := c.input.Render(d)
		if err != nil {
			return nil, fmt.Errorf("input: %w", err)
		}
		d["input"] = s
	} else {
		d["input"] = llmDefaultInput(ex)
	}
	return d, nil
}

// llmDefaultInputFields are the example fields a judge shows the model as
// the task when the spec sets no `input`, in order of preference.
var llmDefaultInputFields = []string{"input", "question", "prompt", "query"}

// llmDefaultInput returns the first of the example's input, question,
// prompt and query fields that is set ("" when none is), as text.
func llmDefaultInput(ex map[string]any) string {
	for _, k := range llmDefaultInputFields {
		v, ok := ex[k]
		if !ok || v == nil {
			continue
		}
		if s, ok := v.(string); ok {
			return s
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b)
	}
	return ""
}

// render renders the prompt's messages over d.
func (c *llmCore) render(d map[string]any) ([]llm.Message, error) {
	out := make([]llm.Message, len(c.msgs))
	for i, m := range c.msgs {
		s, err := m.tmpl.Render(d)
		if err != nil {
			return nil, fmt.Errorf("prompt: %w", err)
		}
		out[i] = llm.Message{Role: m.role, Content: s}
	}
	return out, nil
}

// callParams returns the parameters of a call: the judge's, with the seed
// moved on by the repeat index of ctx (see Repeat) so that repeats are
// distinct requests.
func (c *llmCore) callParams(ctx context.Context) llm.Params {
	p := c.params
	seed := RepeatIndex(ctx)
	if p.Seed != nil {
		seed += *p.Seed
	}
	p.Seed = &seed
	return p
}

// llmReply is what a judge model call produced.
type llmReply struct {
	resp llm.Response
	// attempts counts the answered requests (1 + parse retries).
	attempts int
	// structured tells whether the last request asked for the judge's
	// response format.
	structured bool
}

// details returns the Details every LLM judge verdict carries.
func (c *llmCore) details(rep llmReply) map[string]any {
	return map[string]any{
		"model":      c.modelID,
		"reply":      llmClip(rep.resp.Content, llmReplyDetailRunes),
		"attempts":   rep.attempts,
		"structured": rep.structured,
	}
}

// Parameters a judge drops when the server refuses them: its response
// format, and its default temperature and seed (not those the spec sets).
const (
	llmDropFormat = iota
	llmDropTemperature
	llmDropSeed
	llmDroppableCount
)

// llmDroppableNames are the names by which a server refuses each
// droppable parameter (see llm.RejectsParam).
var llmDroppableNames = [llmDroppableCount][]string{
	llmDropFormat:      {"response_format", "json_schema", "json_object"},
	llmDropTemperature: {"temperature"},
	llmDropSeed:        {"seed"},
}

// send makes one call with the judge's response format (when structured
// is true and the server has not refused it). When the server refuses the
// response format, or the judge's default temperature or seed (an HTTP
// 400 naming it: llm.RejectsParam), the call is made again without it,
// once per parameter, and the judge stops sending it for the rest of its
// life: for example OpenAI's reasoning models accept only the default
// temperature, and some servers have no structured outputs. It reports
// whether the answered request carried the response format.
func (c *llmCore) send(ctx context.Context, name string, msgs []llm.Message, p llm.Params, structured bool) (llm.Response, bool, error) {
	var retried [llmDroppableCount]bool
	for {
		q := p
		q.ResponseFormat = nil
		if structured && c.format != nil && !c.rejected[llmDropFormat].Load() {
			q.ResponseFormat = c.format
		}
		if !c.userTemp && c.rejected[llmDropTemperature].Load() {
			q.Temperature = nil
		}
		if !c.userSeed && c.rejected[llmDropSeed].Load() {
			q.Seed = nil
		}
		resp, err := c.model.Chat(ctx, llm.Request{Model: c.modelID, Messages: msgs, Params: q, Name: name})
		if err == nil {
			return resp, q.ResponseFormat != nil, nil
		}
		present := [llmDroppableCount]bool{
			llmDropFormat:      q.ResponseFormat != nil,
			llmDropTemperature: q.Temperature != nil && !c.userTemp,
			llmDropSeed:        q.Seed != nil && !c.userSeed,
		}
		dropped := false
		for i := range present {
			if present[i] && !retried[i] && llm.RejectsParam(err, llmDroppableNames[i]...) {
				c.rejected[i].Store(true)
				retried[i] = true
				dropped = true
				break
			}
		}
		if !dropped {
			return llm.Response{}, false, fmt.Errorf("judge model: %w", err)
		}
	}
}

// llmAsk sends msgs to the judge model (see send) and parses the reply
// with parse.
//
//   - A refusal (the server's refusal field, an empty reply, or an
//     unparseable reply that opens like "I'm sorry" or "I can't") is an
//     error, not retried.
//   - An unparseable reply is retried up to the judge's max_parse_retries
//     times: each retry is the original conversation plus the unreadable
//     reply and a message saying what was wrong (so the request differs
//     from the first and no cache replays the same reply). After the last
//     one, the error quotes the reply.
//
// Other errors of the model (HTTP, network) are returned as they are; the
// router's retry policy, not the judge, handles them.
func llmAsk[T any](ctx context.Context, c *llmCore, msgs []llm.Message, params llm.Params, parse func(string) (T, error)) (T, llmReply, error) {
	var zero T
	var rep llmReply
	conv := msgs
	for {
		resp, structured, err := c.send(ctx, c.callName(), conv, params, true)
		if err != nil {
			return zero, rep, err
		}
		rep.resp = resp
		rep.attempts++
		rep.structured = structured
		if resp.Refusal != "" {
			return zero, rep, fmt.Errorf("the judge model refused: %s", quote(resp.Refusal))
		}
		if strings.TrimSpace(resp.Content) == "" {
			return zero, rep, fmt.Errorf("the judge model sent an empty reply (finish reason %q)", resp.FinishReason)
		}
		v, perr := parse(resp.Content)
		if perr == nil {
			return v, rep, nil
		}
		if llmLooksLikeRefusal(resp.Content) {
			return zero, rep, fmt.Errorf("the judge model refused: %s", quote(resp.Content))
		}
		if rep.attempts > c.maxRetries {
			return zero, rep, fmt.Errorf("could not parse the judge model's reply after %d attempt(s): %v; last reply: %s",
				rep.attempts, perr, quote(resp.Content))
		}
		conv = append(slices.Clip(msgs),
			llm.Message{Role: "assistant", Content: resp.Content},
			llm.Message{Role: "user", Content: fmt.Sprintf(
				"Your reply could not be read: %v. Reply again with %s, and nothing else.", perr, c.formatHint)},
		)
	}
}

// llmRefusalOpenings are how refusals open (lowercased, apostrophes
// straightened).
var llmRefusalOpenings = []string{
	"i'm sorry", "i am sorry", "sorry,", "i apologize", "i cannot", "i can't", "i can not",
	"i won't", "i will not", "i'm unable", "i am unable", "i'm not able", "i am not able", "as an ai",
}

// llmLooksLikeRefusal reports whether an unparseable reply reads like a
// refusal to judge.
func llmLooksLikeRefusal(reply string) bool {
	s := strings.ToLower(strings.TrimSpace(reply))
	s = strings.ReplaceAll(s, "’", "'")
	for _, p := range llmRefusalOpenings {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// llmClip cuts s to n runes, marking the cut with an ellipsis.
func llmClip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

// llmRenderText renders an option template over d.
func llmRenderText(option string, t *prompts.Template, d map[string]any) (string, error) {
	if t == nil {
		return "", nil
	}
	s, err := t.Render(d)
	if err != nil {
		return "", fmt.Errorf("%s: %w", option, err)
	}
	return s, nil
}

// llmSchema returns a strict JSON schema named name whose properties are
// the given (key, schema) pairs, in order, all required. The order is
// kept on the wire: models with structured outputs generate properties in
// schema order, so reasoning comes before the verdict.
func llmSchema(name, description string, props ...llmProp) *llm.JSONSchema {
	var b bytes.Buffer
	b.WriteString(`{"type":"object","properties":{`)
	req := make([]string, len(props))
	for i, p := range props {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(p.key)
		b.Write(k)
		b.WriteByte(':')
		v, _ := json.Marshal(p.schema)
		b.Write(v)
		req[i] = p.key
	}
	r, _ := json.Marshal(req)
	b.WriteString(`},"required":`)
	b.Write(r)
	b.WriteString(`,"additionalProperties":false}`)
	return &llm.JSONSchema{Name: name, Description: description, Schema: json.RawMessage(b.Bytes()), Strict: true}
}

// llmProp is one property of a schema built by llmSchema.
type llmProp struct {
	key    string
	schema map[string]any
}

// llmChoiceList formats choices the way OpenAI Evals does: "A" or "B".
func llmChoiceList(choices []string) string {
	parts := make([]string, len(choices))
	for i, c := range choices {
		parts[i] = `"` + c + `"`
	}
	return strings.Join(parts, " or ")
}
