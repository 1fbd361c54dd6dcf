package llm

import (
	"math"
	"strings"
	"testing"
)

// An excerpt of LiteLLM's model_prices_and_context_window.json layout.
const litellmPrices = `{
  "sample_spec": {"input_cost_per_token": 0.0, "output_cost_per_token": 0.0, "litellm_provider": "one of https://docs.litellm.ai/docs/providers"},
  "gpt-4o-mini": {"max_tokens": 16384, "input_cost_per_token": 1.5e-07, "output_cost_per_token": 6e-07, "litellm_provider": "openai", "mode": "chat"},
  "text-embedding-3-small": {"input_cost_per_token": 2e-08, "output_cost_per_token": 0.0, "litellm_provider": "openai", "mode": "embedding"},
  "claude-3-5-haiku-20241022": {"input_cost_per_token": 8e-07, "output_cost_per_token": 4e-06, "litellm_provider": "anthropic"},
  "openrouter/openai/gpt-4o": {"input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05, "litellm_provider": "openrouter"},
  "dall-e-3": {"litellm_provider": "openai", "mode": "image_generation", "output_cost_per_image": 0.04}
}`

func TestReadPricesLiteLLMLayout(t *testing.T) {
	tab, err := ReadPrices(strings.NewReader(litellmPrices))
	if err != nil {
		t.Fatal(err)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	for key, want := range map[string]Price{
		"openai/gpt-4o-mini":                  {0.15, 0.60},
		"openai/text-embedding-3-small":       {0.02, 0},
		"anthropic/claude-3-5-haiku-20241022": {0.80, 4.00},
		"openrouter/openai/gpt-4o":            {2.50, 10.00},
	} {
		got, ok := tab[key]
		if !ok || !near(got.InputPerMTok, want.InputPerMTok) || !near(got.OutputPerMTok, want.OutputPerMTok) {
			t.Errorf("%s: %+v %v, want %+v", key, got, ok, want)
		}
	}
	if len(tab) != 4 {
		t.Errorf("%d entries, want 4 (sample_spec and image models left out): %v", len(tab), tab)
	}
	if c, ok := tab.Cost("openai/gpt-4o-mini", Usage{PromptTokens: 1000, CompletionTokens: 500}); !ok || !near(c, 0.00045) {
		t.Errorf("cost %v %v", c, ok)
	}
	if _, err := ReadPrices(strings.NewReader(`[1, 2]`)); err == nil {
		t.Error("a list accepted")
	}
	if _, err := ReadPrices(strings.NewReader(`{"m": {"input_cost_per_token": -1}}`)); err == nil {
		t.Error("a negative price accepted")
	}
}
