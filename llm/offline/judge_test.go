package offline_test

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/llm"
)

func judgePrompt(output, reference string) string {
	return "Grade the output.\n[BEGIN DATA]\n***\n[Output]: " + output + "\n***\n[Reference]: " + reference + "\n***\n[END DATA]\nReply."
}

func askJudge(t *testing.T, r *llm.Router, prompt string, p llm.Params) llm.Response {
	t.Helper()
	resp, err := r.Chat(context.Background(), llm.Request{Model: "offline/judge", Messages: []llm.Message{{Role: "user", Content: prompt}}, Params: p})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func schemaFormat(schema string) *llm.ResponseFormat {
	return &llm.ResponseFormat{Type: llm.FormatJSONSchema, JSONSchema: &llm.JSONSchema{Name: "v", Schema: json.RawMessage(schema), Strict: true}}
}

func TestOfflineJudgeSchemaFromOverlap(t *testing.T) {
	r := offlineRouter(t)
	// 4 of the reference's 6 distinct words are in the output: 0.67.
	pass := askJudge(t, r, judgePrompt("Paris is the capital city.", "The capital of France is Paris"), llm.Params{ResponseFormat: schemaFormat(verdictSchema)})
	var v struct {
		Reason string  `json:"reason"`
		Pass   bool    `json:"pass"`
		Score  float64 `json:"score"`
	}
	if err := json.Unmarshal([]byte(pass.Content), &v); err != nil {
		t.Fatalf("reply %q is not JSON: %v", pass.Content, err)
	}
	if !strings.HasPrefix(pass.Content, `{"reason":`) {
		t.Errorf("reply %s does not follow the schema's property order", pass.Content)
	}
	if !v.Pass || v.Score != 0.67 || !strings.Contains(v.Reason, "4 of the reference's 6 distinct words") {
		t.Errorf("verdict = %+v", v)
	}
	fail := askJudge(t, r, judgePrompt("Lyon.", "The capital of France is Paris"), llm.Params{ResponseFormat: schemaFormat(verdictSchema)})
	if err := json.Unmarshal([]byte(fail.Content), &v); err != nil {
		t.Fatal(err)
	}
	if v.Pass || v.Score != 0 {
		t.Errorf("verdict = %+v, want a fail with score 0", v)
	}
}

func TestOfflineJudgeSchemaKinds(t *testing.T) {
	r := offlineRouter(t)
	schema := `{"type":"object","properties":{
		"reasoning":{"type":"string"},
		"choice":{"type":"string","enum":["Y","N"]},
		"rating":{"type":"integer","minimum":1,"maximum":5},
		"confidence":{"type":["number","null"],"minimum":10,"maximum":20},
		"tags":{"type":"array","items":{"type":"string"}},
		"fixed":{"const":"x"},
		"nested":{"type":"object","properties":{"ok":{"type":"boolean"}}},
		"either":{"anyOf":[{"type":"integer"},{"type":"string"}]}
	}}`
	resp := askJudge(t, r, judgePrompt("a b c d", "a b c e"), llm.Params{ResponseFormat: schemaFormat(schema)})
	var got map[string]any
	if err := json.Unmarshal([]byte(resp.Content), &got); err != nil {
		t.Fatalf("reply %q: %v", resp.Content, err)
	}
	// overlap 3/4 = 0.75: passes.
	want := map[string]any{"choice": "Y", "rating": 4.0, "confidence": 17.5, "tags": []any{}, "fixed": "x", "nested": map[string]any{"ok": true}, "either": 8.0}
	for k, w := range want {
		if !jsonEqual(got[k], w) {
			t.Errorf("%s = %v, want %v (reply %s)", k, got[k], w, resp.Content)
		}
	}
	if s, _ := got["reasoning"].(string); !strings.Contains(s, "stand-in") {
		t.Errorf("reasoning = %v", got["reasoning"])
	}
}

func TestOfflineJudgeHashFallback(t *testing.T) {
	r := offlineRouter(t)
	schema := `{"type":"object","properties":{"winner":{"type":"string","enum":["A","B","tie"]}},"required":["winner"]}`
	seen := map[string]bool{}
	for _, q := range []string{"one", "two", "three", "four", "five", "six", "seven", "eight"} {
		p := llm.Params{ResponseFormat: schemaFormat(schema)}
		a := askJudge(t, r, "Which is better? "+q, p)
		b := askJudge(t, r, "Which is better? "+q, p)
		if a.Content != b.Content {
			t.Errorf("not deterministic: %q then %q", a.Content, b.Content)
		}
		var v struct{ Winner string }
		if err := json.Unmarshal([]byte(a.Content), &v); err != nil {
			t.Fatal(err)
		}
		seen[v.Winner] = true
	}
	if len(seen) < 2 {
		t.Errorf("hash fallback always chose %v", seen)
	}
}

func TestOfflineJudgePlainText(t *testing.T) {
	r := offlineRouter(t)
	got := askJudge(t, r, judgePrompt("the cat sat", "the cat sat down"), llm.Params{}).Content
	lines := strings.Split(got, "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "Reason: ") || lines[1] != "Score: 0.75" || lines[2] != "Verdict: PASS" {
		t.Errorf("reply = %q", got)
	}
	// A scale from 1 to 5: 0.75 maps to 1 + 3 = 4.
	scaled := askJudge(t, r, judgePrompt("the cat sat", "the cat sat down")+" Score it from 1 to 5.", llm.Params{}).Content
	if !strings.Contains(scaled, "\nScore: 4\n") {
		t.Errorf("scaled reply = %q", scaled)
	}
	// Choices offered the OpenAI Evals way: the choice ends the reply.
	choice := askJudge(t, r, judgePrompt("x", "the cat sat down")+`Then print only "Y" or "N" on its own line.`, llm.Params{}).Content
	if !strings.HasSuffix(choice, "\nN") {
		t.Errorf("choice reply = %q, want it to end with N", choice)
	}
	obj := askJudge(t, r, judgePrompt("the cat sat", "the cat sat down"), llm.Params{ResponseFormat: &llm.ResponseFormat{Type: llm.FormatJSONObject}}).Content
	var v map[string]any
	if err := json.Unmarshal([]byte(obj), &v); err != nil || v["pass"] != true || v["score"] != 0.75 {
		t.Errorf("json_object reply = %s (%v)", obj, err)
	}
}

func TestOfflineN(t *testing.T) {
	r := offlineRouter(t)
	one := ask(t, r, "offline/calc", "What is 17 * 23 + 4?", llm.Params{Temperature: ptr(1.0), Seed: ptr(5)})
	many := ask(t, r, "offline/calc", "What is 17 * 23 + 4?", llm.Params{Temperature: ptr(1.0), Seed: ptr(5), N: ptr(12)})
	if len(many.Choices) != 12 || many.Content != many.Choices[0] || many.Content != one.Content {
		t.Fatalf("choices %q content %q, want 12 choices starting with %q", many.Choices, many.Content, one.Content)
	}
	distinct := map[string]bool{}
	for _, c := range many.Choices {
		distinct[c] = true
	}
	if len(distinct) < 2 {
		t.Errorf("12 choices at temperature 1 are all the same: %q", many.Choices[0])
	}
	if r1 := ask(t, r, "offline/echo", "hi", llm.Params{N: ptr(1)}); r1.Choices != nil {
		t.Errorf("n=1: choices = %q, want nil", r1.Choices)
	}
}

func TestOfflineModelKinds(t *testing.T) {
	r := offlineRouter(t)
	if _, err := r.Chat(context.Background(), llm.Request{Model: "offline/embed", Messages: []llm.Message{{Role: "user", Content: "x"}}}); err == nil || !strings.Contains(err.Error(), "embedding model") {
		t.Errorf("chat with offline/embed: %v", err)
	}
	if _, err := r.Embed(context.Background(), llm.EmbedRequest{Model: "offline/judge", Input: []string{"x"}}); err == nil || !strings.Contains(err.Error(), "offline/embed") {
		t.Errorf("embed with offline/judge: %v", err)
	}
	for _, m := range []string{"offline/judge", "offline/embed"} {
		if err := r.Check(m); err != nil {
			t.Errorf("Check(%s) = %v", m, err)
		}
	}
}

func cosine(a, b []float64) float64 {
	var dot float64
	for i := range a {
		dot += a[i] * b[i]
	}
	return dot
}

func TestOfflineEmbed(t *testing.T) {
	r := offlineRouter(t)
	in := []string{"The cat sat on the mat.", "the CAT sat on the mat", "Quarterly revenue grew by ten percent.", ""}
	resp, err := r.Embed(context.Background(), llm.EmbedRequest{Model: "offline/embed", Input: in})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Vectors) != 4 || resp.CostUSD == nil || *resp.CostUSD != 0 || !resp.Estimated {
		t.Fatalf("response = %d vectors, cost %v, estimated %v", len(resp.Vectors), resp.CostUSD, resp.Estimated)
	}
	for i, v := range resp.Vectors[:3] {
		if len(v) != 256 {
			t.Fatalf("vector %d has %d dims", i, len(v))
		}
		if n := math.Sqrt(cosine(v, v)); math.Abs(n-1) > 1e-12 {
			t.Errorf("vector %d has norm %v", i, n)
		}
	}
	if c := cosine(resp.Vectors[0], resp.Vectors[1]); math.Abs(c-1) > 1e-12 {
		t.Errorf("same words, different case and punctuation: cosine %v, want 1", c)
	}
	if c := cosine(resp.Vectors[0], resp.Vectors[2]); c > 0.5 {
		t.Errorf("unrelated texts: cosine %v", c)
	}
	if c := cosine(resp.Vectors[3], resp.Vectors[3]); c != 0 {
		t.Errorf("empty text: norm² %v, want the zero vector", c)
	}
	again, _ := r.Embed(context.Background(), llm.EmbedRequest{Model: "offline/embed", Input: in[:1]})
	if !jsonEqual(again.Vectors[0], resp.Vectors[0]) {
		t.Error("offline/embed is not deterministic")
	}
}
