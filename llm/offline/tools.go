package offline

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/gavel-eval/gavel/llm"
)

// toolsModel is the offline model that calls tools.
const toolsModel = "tools"

// toolsReply is offline/tools' rule. It reads the calls to make from the
// last user message: NAME(ARGS) for every NAME among the tools offered,
// where ARGS is a JSON object ({"city": "Paris"}, passed on as written,
// malformed or not) or key=value pairs (city=Paris, days=3: each value
// JSON when it parses as JSON, else a string). The word "then" splits the
// calls into turns: the calls of one turn are asked for together (parallel
// calls), one turn per reply, counting the replies with tool calls since
// that user message. Once every turn is done — or when the message names
// no offered tool — it answers in text: the results of the tools since
// the user message ("Tool results: ..."), or, with no tool called, the
// message itself.
func toolsReply(req llm.Request) llm.Response {
	user := -1
	for i := len(req.Messages) - 1; i >= 0; i-- {
		if req.Messages[i].Role == "user" {
			user = i
			break
		}
	}
	text := ""
	if user >= 0 {
		text = req.Messages[user].Text()
	}
	turns := parseToolTurns(text, req.Tools)
	done := 0
	var results []string
	for _, m := range req.Messages[user+1:] {
		switch {
		case m.Role == "assistant" && len(m.ToolCalls) > 0:
			done++
		case m.Role == "tool":
			results = append(results, m.Content)
		}
	}
	if done < len(turns) {
		calls := turns[done]
		for i := range calls {
			calls[i].ID = fmt.Sprintf("call_%d_%d", done+1, i+1)
		}
		b, _ := json.Marshal(calls)
		return llm.Response{FinishReason: "tool_calls", ToolCalls: calls,
			Usage: llm.EstimateUsage(req.Messages, string(b)), Estimated: true}
	}
	reply := text
	if len(results) > 0 {
		reply = "Tool results: " + strings.Join(results, "; ")
	}
	return llm.Response{Content: reply, FinishReason: "stop", Usage: llm.EstimateUsage(req.Messages, reply), Estimated: true}
}

var thenWord = regexp.MustCompile(`(?i)\bthen\b`)

// parseToolTurns finds the calls of text, turn by turn.
func parseToolTurns(text string, tools []llm.Tool) [][]llm.ToolCall {
	if len(tools) == 0 {
		return nil
	}
	names := make([]string, len(tools))
	for i, t := range tools {
		names[i] = regexp.QuoteMeta(t.Name)
	}
	call := regexp.MustCompile(`\b(` + strings.Join(names, "|") + `)\(`)
	var turns [][]llm.ToolCall
	for _, part := range thenWord.Split(text, -1) {
		var calls []llm.ToolCall
		rest := part
		for {
			loc := call.FindStringSubmatchIndex(rest)
			if loc == nil {
				break
			}
			name := rest[loc[2]:loc[3]]
			args, n := balanced(rest[loc[1]:])
			calls = append(calls, llm.ToolCall{Name: name, Arguments: argumentsJSON(args)})
			rest = rest[loc[1]+n:]
		}
		if len(calls) > 0 {
			turns = append(turns, calls)
		}
	}
	return turns
}

// scanOutsideQuotes calls fn with each byte offset and rune of s that
// lies outside a JSON string (quotes and escapes followed), until fn
// returns false.
func scanOutsideQuotes(s string, fn func(i int, c rune) bool) {
	inString, escaped := false, false
	for i, c := range s {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		default:
			if !fn(i, c) {
				return
			}
		}
	}
}

// balanced returns the text up to the parenthesis closing an opened one
// (all of s when none closes it) and how many bytes it consumed.
func balanced(s string) (string, int) {
	depth, end := 0, -1
	scanOutsideQuotes(s, func(i int, c rune) bool {
		switch c {
		case '(':
			depth++
		case ')':
			if depth == 0 {
				end = i
				return false
			}
			depth--
		}
		return true
	})
	if end < 0 {
		return s, len(s)
	}
	return s[:end], end + 1
}

// argumentsJSON turns a call's ARGS into JSON text: a JSON object as
// written, or key=value pairs as an object.
func argumentsJSON(args string) string {
	args = strings.TrimSpace(args)
	if args == "" {
		return "{}"
	}
	if strings.HasPrefix(args, "{") {
		return args
	}
	obj := map[string]any{}
	var keys []string
	for _, pair := range splitPairs(args) {
		k, v, ok := strings.Cut(pair, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			continue
		}
		var val any
		if err := json.Unmarshal([]byte(v), &val); err != nil {
			val = v
		}
		if _, seen := obj[k]; !seen {
			keys = append(keys, k)
		}
		obj[k] = val
	}
	// In the order written, as a model would.
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(obj[k])
		b.Write(kb)
		b.WriteString(": ")
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.String()
}

// splitPairs splits key=value pairs at commas outside quotes and
// brackets.
func splitPairs(s string) []string {
	var out []string
	depth, start := 0, 0
	scanOutsideQuotes(s, func(i int, c rune) bool {
		switch {
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			depth--
		case c == ',' && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
		return true
	})
	return append(out, s[start:])
}
