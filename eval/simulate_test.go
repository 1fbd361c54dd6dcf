package eval_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/gavel-eval/gavel/eval"
	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/llm/llmtest"
	"github.com/gavel-eval/gavel/traces"
)

// A simulated conversation: the assistant answers, a model plays the user
// from the example's persona and goal, until the turns are given or the
// user is done; every turn is a span and a step fact, and per_turn judges
// score each reply.
func TestSimulatedConversation(t *testing.T) {
	var mu sync.Mutex
	var userSaw []llmtest.ChatRequest
	srv := llmtest.NewFaultServer(t, llmtest.FaultOptions{Reply: func(r llmtest.ChatRequest) string {
		if r.Model == "user" {
			mu.Lock()
			userSaw = append(userSaw, r)
			n := len(userSaw)
			mu.Unlock()
			if strings.Contains(r.LastUser(), "refund") {
				return "[DONE]"
			}
			return "And the delivery time? (" + string(rune('0'+n)) + ")"
		}
		last := r.LastUser()
		switch {
		case strings.Contains(last, "(2)"):
			return "Your refund is on its way."
		case strings.Contains(last, "(1)"):
			return "Delivery takes 3 days, sorry."
		}
		return "Hello! How can I help?"
	}})
	spec := `name: sim
dataset: {path: data.jsonl, id: "{{.id}}"}
providers:
  local: {base_url: "` + srv.URL() + `"}
variants:
  - {name: a, model: local/bot, prompt: "{{.example.opening}}"}
chain:
  - name: chat
    kind: llm
    simulate: {model: local/user, turns: 4, persona: "{{.example.persona}}", goal: "{{.example.goal}}"}
judges:
  - {name: polite-mean, type: icontains, value: sorry, per_turn: true}
  - {name: polite-all, type: icontains, value: "o", per_turn: true, turn_aggregate: all}
  - {name: polite-min, type: icontains, value: sorry, per_turn: true, turn_aggregate: min}
  - {name: last, type: icontains, value: refund}
`
	data := `{"id": "e1", "opening": "Hi", "persona": "an impatient customer", "goal": "a refund"}` + "\n"
	sr := newSpecRun(t, spec, map[string]string{"data.jsonl": data})
	run := sr.mustRun(t.Context(), eval.Options{})
	r := run.results[0]
	if r.Status != results.StatusOK || r.Output != "Your refund is on its way." {
		t.Fatalf("%s %q %v", r.Status, r.Output, deref(r.Error))
	}
	// The user saw its instructions and the turns with the roles swapped.
	u := userSaw[0].Messages
	if u[0].Role != "system" || !strings.Contains(u[0].Content, "an impatient customer") || !strings.Contains(u[0].Content, "a refund") ||
		u[1].Role != "assistant" || u[1].Content != "Hi" || u[2].Role != "user" || u[2].Content != "Hello! How can I help?" {
		t.Errorf("the simulated user saw %+v", u)
	}
	names := []string{}
	for _, s := range run.spansOf(r.TraceID) {
		if s.Kind == traces.KindLLM {
			names = append(names, s.Name)
		}
	}
	if strings.Join(names, ",") != "chat turn 1,chat user 1,chat turn 2,chat user 2,chat turn 3,chat user 3" {
		t.Errorf("llm spans %v", names)
	}
	sc := run.scoresOf("a", "e1", 0)
	// Replies: "Hello! How can I help?", "Delivery takes 3 days, sorry.", "Your refund is on its way."
	check := func(name string, score float64, pass bool) {
		t.Helper()
		s := sc[name]
		if s.Score == nil || *s.Score != score || s.Pass == nil || *s.Pass != pass {
			t.Errorf("%s: score %v pass %v (%s), want %v %v", name, s.Score, s.Pass, deref(s.Reason), score, pass)
		}
	}
	check("polite-mean", 1.0/3, false)
	check("polite-all", 1, true)
	check("polite-min", 0, false)
	check("last", 1, true)
	if !strings.Contains(deref(sc["polite-min"].Details), `"turn":1`) {
		t.Errorf("details %s", deref(sc["polite-min"].Details))
	}
}

func TestSimulateSpecErrors(t *testing.T) {
	for _, c := range []struct{ simulate, judge, want string }{
		{"{turns: 99}", "", "turns 99"},
		{"{goal: \"{{.example.nope}}\"}", "", "chat simulate goal"},
		{"{turns: 2}", ", turn_aggregate: median", `unknown aggregate "median"`},
	} {
		spec := `name: sim
dataset: {path: data.jsonl, id: "{{.id}}"}
variants:
  - {name: a, model: offline/echo, prompt: "hi"}
chain:
  - {name: chat, kind: llm, simulate: ` + c.simulate + `}
judges:
  - {name: j, type: contains, value: x, per_turn: true` + c.judge + `}
`
		sr := newSpecRun(t, spec, map[string]string{"data.jsonl": `{"id": "e1"}` + "\n"})
		if _, err := sr.run(t.Context(), eval.Options{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.simulate, err, c.want)
		}
	}
}
