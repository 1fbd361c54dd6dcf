package report

import "testing"

func TestRedactText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"vars: {api_key: \"sk-secret\", n: 1}", "vars: {api_key: \"[redacted]\", n: 1}"},
		{"  api_key: sk-secret\n", "  api_key: \"[redacted]\"\n"},
		{"  OPENAI_API_KEY: 'sk-x'", "  OPENAI_API_KEY: \"[redacted]\""},
		{"headers: {Authorization: \"Bearer sk-1\"}", "headers: {Authorization: \"[redacted]\"}"},
		{"  password: hunter2 # old", "  password: \"[redacted]\" # old"},
		{"params: {max_tokens: 100}", "params: {max_tokens: 100}"},
		{"  api_key_env: TEAM_LLM_KEY", "  api_key_env: TEAM_LLM_KEY"},
		{"  use_token: true", "  use_token: true"},
		{"base_url: https://bob:pw@llm.example.com/v1", "base_url: https://[redacted]@llm.example.com/v1"},
		{"prompt: \"{{.example.question}}\"", "prompt: \"{{.example.question}}\""},
	} {
		if got := redactText(tc.in); got != tc.want {
			t.Errorf("redactText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRedactValue(t *testing.T) {
	got := redactMap(map[string]any{
		"api_key":       "sk-1",
		"prompt_tokens": float64(40),
		"headers":       map[string]any{"Authorization": "Bearer sk-2", "Accept": "json"},
		"url":           "https://u:p@h.example/x?key=abc&q=1",
		"list":          []any{"Bearer sk-3", "plain"},
	})
	h := got["headers"].(map[string]any)
	if got["api_key"] != redacted || got["prompt_tokens"] != float64(40) || h["Authorization"] != redacted || h["Accept"] != "json" {
		t.Errorf("redactMap = %v", got)
	}
	if u := got["url"].(string); u != "https://[redacted]@h.example/x?key=[redacted]&q=1" {
		t.Errorf("url = %s", u)
	}
	if l := got["list"].([]any); l[0] != "Bearer "+redacted || l[1] != "plain" {
		t.Errorf("list = %v", l)
	}
}
