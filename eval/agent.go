package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/gavel-eval/gavel/judges"
	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/traces"
)

// ToolInput is what a tool handler implemented in Go receives: one call.
type ToolInput struct {
	// Name is the tool called; ID the call's id.
	Name, ID string
	// Arguments are the arguments as the model wrote them (valid JSON:
	// a call whose arguments are not is not handed to a handler).
	Arguments json.RawMessage
	// Example holds the example's fields; Variant is the variant's name.
	Example map[string]any
	Variant string
}

// ToolFunc executes a tool call; its result goes back to the model. Give
// it in LoadOptions.Tools and name it in an agent step's handlers
// ({func: NAME}).
type ToolFunc func(ctx context.Context, in ToolInput) (string, error)

// DefaultMaxTurns bounds an agent step's model calls unless it says.
const DefaultMaxTurns = 10

// toolRecord is one tool call of a chain, as results.parquet's
// tool_calls column stores it.
type toolRecord struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
	// Error says why the arguments are not valid JSON or not valid
	// against the tool's schema.
	Error string `json:"error,omitempty"`
	Step  string `json:"step"`
	Turn  int    `json:"turn"`
	// Result is the tool's result (an agent step's calls), kept for the
	// trajectory LLM judges see; not stored in tool_calls.
	Result string `json:"-"`
	// Failed is set when the tool's handler failed.
	Failed bool `json:"-"`
}

// recordCalls adds a reply's tool calls to the chain's, checked against
// the tools offered, and returns their records' indexes.
func (st *chainState) recordCalls(step string, turn int, tools []llm.Tool, calls []llm.ToolCall) []int {
	idx := make([]int, len(calls))
	for i, c := range calls {
		rec := toolRecord{ID: c.ID, Name: c.Name, Arguments: c.Arguments, Step: step, Turn: turn}
		if st.variant.validator != nil {
			if why, err := st.variant.validator.Check(tools, c); err != nil {
				rec.Error = err.Error()
			} else {
				rec.Error = why
			}
		}
		idx[i] = len(st.toolCalls)
		st.toolCalls = append(st.toolCalls, rec)
	}
	return idx
}

// callsData is a reply's tool calls as templates see them
// ({{.steps.NAME.tool_calls}}): id, name and arguments, decoded when
// they are JSON and as written when not.
func callsData(calls []llm.ToolCall) []any {
	out := make([]any, len(calls))
	for i, c := range calls {
		var args any = c.Arguments
		var v any
		if json.Unmarshal([]byte(c.Arguments), &v) == nil {
			args = v
		}
		out[i] = map[string]any{"id": c.ID, "name": c.Name, "arguments": args}
	}
	return out
}

// toolCallsJSON is the chain's tool calls as the results column stores
// them, or nil when there are none.
func (st *chainState) toolCallsJSON() *string {
	if len(st.toolCalls) == 0 {
		return nil
	}
	b, err := json.Marshal(st.toolCalls)
	if err != nil {
		return nil
	}
	s := string(b)
	return &s
}

// trajectory is the chain's tool calls as text, for LLM judges'
// templates ({{.trajectory}}): one line a call with its result.
func (st *chainState) trajectory() string {
	var b strings.Builder
	for i, r := range st.toolCalls {
		fmt.Fprintf(&b, "%d. %s(%s)", i+1, r.Name, r.Arguments)
		switch {
		case r.Failed:
			b.WriteString(" → failed: " + r.Result)
		case r.Result != "":
			b.WriteString(" → " + r.Result)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// chat makes one model call of the chain and accounts for it: calls,
// cache hits, latency, tokens, cost, and the chain's time to first token
// at its first streamed call.
func (st *chainState) chat(ctx context.Context, model llm.Model, req llm.Request) (llm.Response, error) {
	start := st.clock()
	// Where this call starts on the chain's time line, counted like the
	// chain's latency: earlier calls at their model's latency.
	offset := float64(start.Sub(st.start).Microseconds())/1000 + st.modelMS
	resp, err := model.Chat(ctx, req)
	st.calls++
	if req.Params.Streaming() && !st.streamed {
		st.streamed = true
		if resp.TTFTMS != nil {
			t := max(0, offset+*resp.TTFTMS)
			st.ttft = &t
		}
	}
	if err == nil {
		st.countCall(resp.Cached, resp.LatencyMS, resp.CostUSD, st.clock().Sub(start))
	}
	st.usage.PromptTokens += resp.Usage.PromptTokens
	st.usage.CompletionTokens += resp.Usage.CompletionTokens
	if resp.CostUSD != nil {
		st.cost += *resp.CostUSD
		st.priced = true
	}
	return resp, err
}

// toolHandler executes one tool's calls.
type toolHandler interface {
	// handle returns the call's result; what is the handler kind, for
	// the tool's span.
	handle(ctx context.Context, st *chainState, span *traces.ActiveSpan, call llm.ToolCall) (string, error)
	what() string
}

// agentStep runs the model ↔ tools loop.
type agentStep struct {
	stepBase
	model       llm.Model
	modelID     string
	prompt      *promptTmpl
	keepImages  bool
	params      llm.Params
	tools       []llm.Tool
	handlers    map[string]toolHandler
	maxTurns    int
	reportError bool
}

func (s *agentStep) kind() traces.Kind { return traces.KindAgent }

func (s *agentStep) handler(name string) toolHandler {
	if h, ok := s.handlers[name]; ok {
		return h
	}
	return s.handlers["*"]
}

func (s *agentStep) run(ctx context.Context, st *chainState, span *traces.ActiveSpan) (string, error) {
	msgs, err := s.prompt.render(st.data(), false)
	if err != nil {
		return "", err
	}
	span.SetInput(msgs)
	span.SetAttr("tools", toolNames(s.tools))
	for turn := 1; turn <= s.maxTurns; turn++ {
		req := llm.Request{Name: fmt.Sprintf("%s turn %d", s.stepName, turn), Model: s.modelID, Messages: msgs, Params: s.params, Tools: s.tools, KeepImages: s.keepImages}
		resp, err := st.chat(ctx, s.model, req)
		if err != nil {
			return "", fmt.Errorf("turn %d: %w", turn, err)
		}
		span.SetAttr("turns", turn)
		if len(resp.ToolCalls) == 0 {
			st.stepExtra(s.stepName, map[string]any{"turns": turn, "tool_calls": callsData(st.judgeCallsOf(s.stepName))})
			return resp.Content, nil
		}
		idx := st.recordCalls(s.stepName, turn, s.tools, resp.ToolCalls)
		msgs = append(msgs, llm.Message{Role: "assistant", Content: resp.Content, ToolCalls: resp.ToolCalls})
		for i, call := range resp.ToolCalls {
			result, err := s.execute(ctx, st, call, st.toolCalls[idx[i]].Error)
			rec := &st.toolCalls[idx[i]]
			if err != nil {
				rec.Result, rec.Failed = err.Error(), true
				if !s.reportError || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
					return "", fmt.Errorf("turn %d: tool %s (call %s): %w", turn, call.Name, call.ID, err)
				}
				result = "error: " + err.Error()
			} else {
				rec.Result = result
			}
			msgs = append(msgs, llm.Message{Role: "tool", ToolCallID: call.ID, Content: result})
		}
	}
	return "", fmt.Errorf("max_turns %d reached: the model was still calling tools (%s)", s.maxTurns, strings.Join(lastCalls(st, s.stepName), ", "))
}

// lastCalls names the tools of the step's last turn.
func lastCalls(st *chainState, step string) []string {
	last := 0
	for _, r := range st.toolCalls {
		if r.Step == step && r.Turn > last {
			last = r.Turn
		}
	}
	var names []string
	for _, r := range st.toolCalls {
		if r.Step == step && r.Turn == last {
			names = append(names, r.Name)
		}
	}
	return names
}

// judgeCallsOf are the calls a step made.
func (st *chainState) judgeCallsOf(step string) []llm.ToolCall {
	var out []llm.ToolCall
	for _, r := range st.toolCalls {
		if r.Step == step {
			out = append(out, llm.ToolCall{ID: r.ID, Name: r.Name, Arguments: r.Arguments})
		}
	}
	return out
}

// execute runs one call in a tool span. A call of a tool without a
// handler, or with arguments that are not a JSON object, fails without
// running anything.
func (s *agentStep) execute(ctx context.Context, st *chainState, call llm.ToolCall, invalid string) (out string, err error) {
	ctx, span := traces.Start(ctx, call.Name, traces.KindTool)
	defer func() { span.End(err) }()
	span.SetInput(call.Arguments)
	span.SetAttr("tool_call_id", call.ID)
	if invalid != "" {
		span.SetAttr("invalid", invalid)
	}
	h := s.handler(call.Name)
	if h == nil {
		return "", fmt.Errorf("the model called %q, which has no handler (tools: %s)", call.Name, strings.Join(toolNames(s.tools), ", "))
	}
	span.SetAttr("handler", h.what())
	var args map[string]any
	text := strings.TrimSpace(call.Arguments)
	if text == "" {
		text = "{}"
	}
	if err := json.Unmarshal([]byte(text), &args); err != nil {
		return "", fmt.Errorf("arguments are not a JSON object (%v): %q", err, truncateText(call.Arguments, 200))
	}
	out, err = h.handle(ctx, st, span, llm.ToolCall{ID: call.ID, Name: call.Name, Arguments: text})
	if err == nil {
		span.SetOutput(out)
	}
	return out, err
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// cannedHandler answers from the example's field: by tool name, a result
// or a list of results, one per call.
type cannedHandler struct {
	field string
}

func (h *cannedHandler) what() string { return "example." + h.field }

func (h *cannedHandler) handle(_ context.Context, st *chainState, span *traces.ActiveSpan, call llm.ToolCall) (string, error) {
	raw, ok := st.example[h.field]
	if !ok || raw == nil {
		return "", fmt.Errorf("the example has no field %q for canned tool results", h.field)
	}
	byTool, ok := raw.(map[string]any)
	if !ok {
		return "", fmt.Errorf("example field %q: want an object of results by tool name", h.field)
	}
	v, ok := byTool[call.Name]
	if !ok {
		return "", fmt.Errorf("example field %q has no result for tool %q", h.field, call.Name)
	}
	if list, ok := v.([]any); ok {
		n := st.cannedUsed[h.field+"\x00"+call.Name]
		if n >= len(list) {
			return "", fmt.Errorf("example field %q holds %d results for tool %q: call %d has none", h.field, len(list), call.Name, n+1)
		}
		if st.cannedUsed == nil {
			st.cannedUsed = map[string]int{}
		}
		st.cannedUsed[h.field+"\x00"+call.Name] = n + 1
		v = list[n]
	}
	return jsonText(v), nil
}

// funcHandler calls a ToolFunc.
type funcHandler struct {
	name string
	fn   ToolFunc
}

func (h *funcHandler) what() string { return "func " + h.name }

func (h *funcHandler) handle(ctx context.Context, st *chainState, _ *traces.ActiveSpan, call llm.ToolCall) (string, error) {
	return h.fn(ctx, ToolInput{Name: call.Name, ID: call.ID, Arguments: json.RawMessage(call.Arguments), Example: st.example, Variant: st.variant.name})
}

// stepHandler runs an http or exec step with the call as its payload.
type stepHandler struct {
	kindName string
	step     step
}

func (h *stepHandler) what() string { return h.kindName }

func (h *stepHandler) handle(ctx context.Context, st *chainState, span *traces.ActiveSpan, call llm.ToolCall) (string, error) {
	st.call = &call
	defer func() { st.call = nil }()
	return h.step.run(ctx, st, span)
}

// toolPayload is the default body of an http handler and input of an
// exec handler: the call, the example and the variant.
func toolPayload(st *chainState) map[string]any {
	var args any
	_ = json.Unmarshal([]byte(st.call.Arguments), &args)
	return map[string]any{"name": st.call.Name, "id": st.call.ID, "arguments": args,
		"example": st.example, "variant": st.variant.name}
}

// toolsValidator checks tool definitions and calls.
func newToolValidator(tools []llm.Tool) (*judges.ToolValidator, error) {
	v := judges.NewToolValidator()
	for _, t := range tools {
		if err := v.CheckTool(t); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// storedToolCalls reads a result's tool_calls column back as judges see
// the calls (nil when there are none or it does not read).
func storedToolCalls(col *string) []llm.ToolCall {
	if col == nil {
		return nil
	}
	var recs []toolRecord
	if err := json.Unmarshal([]byte(*col), &recs); err != nil {
		return nil
	}
	out := make([]llm.ToolCall, len(recs))
	for i, r := range recs {
		out[i] = llm.ToolCall{ID: r.ID, Name: r.Name, Arguments: r.Arguments}
	}
	return out
}

// variantTools are the tools the named variant offers.
func (r *runner) variantTools(name string) []llm.Tool {
	for _, v := range r.variants {
		if v.name == name {
			return v.tools
		}
	}
	return nil
}
