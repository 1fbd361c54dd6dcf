package llm_test

import (
	"context"
	"fmt"

	"github.com/gavel-eval/gavel/llm"
)

// The offline models need no key and no network.
func ExampleRouter_offline() {
	r, err := llm.NewRouter(llm.Config{Local: local(), Getenv: func(string) string { return "" }})
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, err := r.Chat(context.Background(), llm.Request{
		Model: "offline/calc",
		Messages: []llm.Message{
			{Role: "system", Content: "Solve the problem. End with #### and the answer."},
			{Role: "user", Content: "Ann has 16 eggs, eats 3 and bakes with 4, then doubles the rest: (16 - 3 - 4) * 2. How many?"},
		},
		Params: llm.Params{Temperature: new(0.0)},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Content)
	fmt.Printf("tokens: %d in, %d out (estimated: %v); cost: $%.2f\n",
		resp.Usage.PromptTokens, resp.Usage.CompletionTokens, resp.Estimated, *resp.CostUSD)
	// Output:
	// Computing (16 - 3 - 4) * 2.
	// The answer is 18.
	// #### 18
	// tokens: 43 in, 14 out (estimated: true); cost: $0.00
}
