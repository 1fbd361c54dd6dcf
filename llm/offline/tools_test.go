package offline

import (
	"context"
	"reflect"
	"testing"

	"github.com/gavel-eval/gavel/llm"
)

func TestToolsModel(t *testing.T) {
	tools := []llm.Tool{{Name: "get_weather"}, {Name: "convert"}, {Name: "book"}}
	ask := func(msgs ...llm.Message) llm.Response {
		t.Helper()
		resp, err := Provider{}.Chat(context.Background(), "tools", llm.Request{Messages: msgs, Tools: tools})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	user := llm.Message{Role: "user", Content: `Weather? get_weather(city=Paris) get_weather({"city": "Rome", "days": 2}) then convert(celsius=18.5, to="F", note=a, b) and unknown(x=1)`}
	first := ask(llm.Message{Role: "system", Content: "You may call tools."}, user)
	want := []llm.ToolCall{
		{ID: "call_1_1", Name: "get_weather", Arguments: `{"city": "Paris"}`},
		{ID: "call_1_2", Name: "get_weather", Arguments: `{"city": "Rome", "days": 2}`},
	}
	if !reflect.DeepEqual(first.ToolCalls, want) || first.FinishReason != "tool_calls" || first.Content != "" || !first.Estimated {
		t.Fatalf("turn 1: %+v", first)
	}
	history := []llm.Message{user, {Role: "assistant", ToolCalls: first.ToolCalls},
		{Role: "tool", ToolCallID: "call_1_1", Content: "18.5 C"}, {Role: "tool", ToolCallID: "call_1_2", Content: "22 C"}}
	second := ask(history...)
	if len(second.ToolCalls) != 1 || second.ToolCalls[0].Name != "convert" || second.ToolCalls[0].Arguments != `{"celsius": 18.5, "to": "F", "note": "a"}` {
		t.Fatalf("turn 2: %+v", second.ToolCalls)
	}
	history = append(history, llm.Message{Role: "assistant", ToolCalls: second.ToolCalls}, llm.Message{Role: "tool", Content: "65.3 F"})
	final := ask(history...)
	if final.Content != "Tool results: 18.5 C; 22 C; 65.3 F" || final.FinishReason != "stop" || final.ToolCalls != nil {
		t.Fatalf("final: %+v", final)
	}
	// Malformed JSON arguments are passed on as written; no offered tool
	// named is a plain answer; the same request gets the same reply.
	bad := ask(llm.Message{Role: "user", Content: `book({"seat": 12A})`})
	if len(bad.ToolCalls) != 1 || bad.ToolCalls[0].Arguments != `{"seat": 12A}` {
		t.Fatalf("malformed: %+v", bad.ToolCalls)
	}
	if plain := ask(llm.Message{Role: "user", Content: "hello there"}); plain.Content != "hello there" || plain.ToolCalls != nil {
		t.Fatalf("no tool: %+v", plain)
	}
	if again := ask(llm.Message{Role: "system", Content: "You may call tools."}, user); !reflect.DeepEqual(again, first) {
		t.Error("the same request got another reply")
	}
	unclosed := ask(llm.Message{Role: "user", Content: `get_weather(city="Par)is"`})
	if len(unclosed.ToolCalls) != 1 || unclosed.ToolCalls[0].Arguments != `{"city": "Par)is"}` {
		t.Fatalf("quoted parenthesis: %+v", unclosed.ToolCalls)
	}
}
