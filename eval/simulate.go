package eval

import (
	"context"
	"fmt"
	"strings"

	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/prompts"
)

// DefaultSimulatedTurns is how many replies a simulated conversation has
// unless it says.
const DefaultSimulatedTurns = 3

// simulation is a compiled SimulateSpec.
type simulation struct {
	model         string
	turns         int
	persona, goal *prompts.Template
	stop          string
}

func compileSimulate(step string, c SimulateSpec, stepModel string, env planEnv) (*simulation, map[string]any, error) {
	sim := &simulation{model: c.Model, turns: c.Turns, stop: c.Stop}
	if sim.model == "" {
		sim.model = stepModel
	}
	if err := env.check(sim.model); err != nil {
		return nil, nil, fmt.Errorf("model: %w", err)
	}
	if sim.turns == 0 {
		sim.turns = DefaultSimulatedTurns
	}
	if sim.turns < 1 || sim.turns > 50 {
		return nil, nil, fmt.Errorf("turns %d: want 1 to 50", c.Turns)
	}
	if sim.stop == "" {
		sim.stop = "[DONE]"
	}
	var err error
	if sim.persona, err = parseTemplate(step+" simulate persona", c.Persona); err != nil {
		return nil, nil, err
	}
	if sim.goal, err = parseTemplate(step+" simulate goal", c.Goal); err != nil {
		return nil, nil, err
	}
	return sim, map[string]any{"model": sim.model, "turns": sim.turns, "persona": c.Persona, "goal": c.Goal, "stop": sim.stop}, nil
}

// converse holds the simulated conversation: the assistant (the step's
// model) answers, the simulated user writes the next message, until the
// assistant gave its turns or the user wrote the stop text. Each reply is
// an llm span ("NAME turn N", "NAME user N"); the step's output is the
// assistant's last reply, its turns the replies in order.
func (s *llmStep) converse(ctx context.Context, st *chainState, msgs []llm.Message) (string, error) {
	sim := s.simulate
	data := st.data()
	persona, goal := "", ""
	var err error
	if sim.persona != nil {
		if persona, err = sim.persona.Render(data); err != nil {
			return "", err
		}
	}
	if sim.goal != nil {
		if goal, err = sim.goal.Render(data); err != nil {
			return "", err
		}
	}
	var turns []any
	last := ""
	for turn := 1; turn <= sim.turns; turn++ {
		resp, err := st.chat(ctx, s.model, llm.Request{Name: fmt.Sprintf("%s turn %d", s.stepName, turn), Model: s.modelID,
			Messages: msgs, Params: s.params, Tools: s.tools, KeepImages: s.keepImages})
		if err != nil {
			return "", fmt.Errorf("turn %d: %w", turn, err)
		}
		last = resp.Content
		st.turns = append(st.turns, last)
		msgs = append(msgs, llm.Message{Role: "assistant", Content: last})
		entry := map[string]any{"assistant": last}
		if userText := lastUser(msgs); userText != "" {
			entry["user"] = userText
		}
		turns = append(turns, entry)
		if turn == sim.turns {
			break
		}
		reply, err := st.chat(ctx, s.model, llm.Request{Name: fmt.Sprintf("%s user %d", s.stepName, turn), Model: sim.model,
			Messages: userView(persona, goal, sim.stop, msgs)})
		if err != nil {
			return "", fmt.Errorf("simulated user after turn %d: %w", turn, err)
		}
		next := strings.TrimSpace(reply.Content)
		if next == "" || strings.Contains(next, sim.stop) {
			break
		}
		msgs = append(msgs, llm.Message{Role: "user", Content: next})
	}
	st.stepExtra(s.stepName, map[string]any{"turns": turns})
	return last, nil
}

// lastUser is the content of the last user message.
func lastUser(msgs []llm.Message) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "user" {
			return msgs[i].Text()
		}
	}
	return ""
}

// userView is the conversation as the simulated user sees it: its
// instructions, then the turns with the roles swapped (the assistant's
// replies are what it reads, its own messages what it wrote).
func userView(persona, goal, stop string, msgs []llm.Message) []llm.Message {
	var b strings.Builder
	b.WriteString("You are playing a user talking to an assistant. Write only the user's next message, in the user's voice.")
	if persona != "" {
		b.WriteString("\nWho you are: " + persona)
	}
	if goal != "" {
		b.WriteString("\nWhat you want: " + goal)
	}
	b.WriteString("\nWhen you have what you want, reply with " + stop + " alone.")
	out := []llm.Message{{Role: "system", Content: b.String()}}
	for _, m := range msgs {
		switch m.Role {
		case "user":
			out = append(out, llm.Message{Role: "assistant", Content: m.Text()})
		case "assistant":
			out = append(out, llm.Message{Role: "user", Content: m.Content})
		}
	}
	return out
}
