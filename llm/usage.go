package llm

// EstimateUsage estimates the token usage of a call when no server reports
// it, at about four bytes per token: ceil(len/4) for each message's content
// plus 4 per message for the prompt, ceil(len/4) of content for the
// completion. It is a rough stand-in for a tokenizer, good enough to order
// costs, not to bill them.
func EstimateUsage(messages []Message, content string) Usage {
	var u Usage
	for _, m := range messages {
		u.PromptTokens += ceilDiv(len(m.Content), 4) + 4
	}
	u.CompletionTokens = ceilDiv(len(content), 4)
	return u
}

func ceilDiv(n, d int) int { return (n + d - 1) / d }

// EstimateEmbedUsage estimates the input tokens of an embeddings call when
// the server reports none, like EstimateUsage: ceil(len/4) per input.
func EstimateEmbedUsage(inputs []string) Usage {
	var u Usage
	for _, s := range inputs {
		u.PromptTokens += ceilDiv(len(s), 4)
	}
	return u
}
