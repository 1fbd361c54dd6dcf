package llm

import "github.com/gavel-eval/gavel/internal/redact"

// redactResponse returns resp with every known secret in its text (the
// content, each choice, the refusal and the logprob tokens) replaced by
// "[redacted]". resp's slices are copied, never changed. Usage is left as
// it is: it counts what the server sent.
func redactResponse(s *redact.Secrets, resp Response) Response {
	if s.Len() == 0 {
		return resp
	}
	resp.Content = s.String(resp.Content)
	resp.Refusal = s.String(resp.Refusal)
	if resp.ToolCalls != nil {
		calls := make([]ToolCall, len(resp.ToolCalls))
		for i, c := range resp.ToolCalls {
			calls[i] = ToolCall{ID: c.ID, Name: s.String(c.Name), Arguments: s.String(c.Arguments)}
		}
		resp.ToolCalls = calls
	}
	if resp.Choices != nil {
		choices := make([]string, len(resp.Choices))
		for i, c := range resp.Choices {
			choices[i] = s.String(c)
		}
		resp.Choices = choices
	}
	if resp.Logprobs != nil {
		// A secret split over several tokens is not found: each token is
		// too short to be one.
		lp := make([]TokenLogprob, len(resp.Logprobs))
		for i, t := range resp.Logprobs {
			lp[i] = TokenLogprob{Token: s.String(t.Token), Logprob: t.Logprob}
			if t.Top != nil {
				lp[i].Top = make([]TopLogprob, len(t.Top))
				for j, a := range t.Top {
					lp[i].Top[j] = TopLogprob{Token: s.String(a.Token), Logprob: a.Logprob}
				}
			}
		}
		resp.Logprobs = lp
	}
	return resp
}
