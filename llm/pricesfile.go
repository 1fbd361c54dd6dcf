package llm

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// ReadPricesFile reads a price list in the JSON layout of LiteLLM's
// model_prices_and_context_window.json: an object whose keys are model
// names ("gpt-4o-mini", or "openrouter/…" with a provider) and whose values
// give "input_cost_per_token", "output_cost_per_token" (USD a token) and
// "litellm_provider". Each entry becomes "provider/model" (the key as it
// is when it already names a provider), priced per million tokens;
// entries without a per-token cost (images, audio, "sample_spec") are
// left out. Users keep prices current by replacing the file, not gavel.
func ReadPricesFile(path string) (PriceTable, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("prices file: %w", err)
	}
	defer f.Close()
	t, err := ReadPrices(f)
	if err != nil {
		return nil, fmt.Errorf("prices file %s: %w", path, err)
	}
	return t, nil
}

// ReadPrices reads a price list in LiteLLM's layout from r (see
// ReadPricesFile).
func ReadPrices(r io.Reader) (PriceTable, error) {
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, fmt.Errorf("not a JSON object of models: %w", err)
	}
	out := PriceTable{}
	for name, b := range raw {
		var e struct {
			Input    *float64 `json:"input_cost_per_token"`
			Output   *float64 `json:"output_cost_per_token"`
			Provider string   `json:"litellm_provider"`
		}
		if json.Unmarshal(b, &e) != nil || e.Input == nil || name == "sample_spec" {
			continue
		}
		if *e.Input < 0 || e.Output != nil && *e.Output < 0 {
			return nil, fmt.Errorf("model %q: a negative price", name)
		}
		key := name
		if !strings.Contains(name, "/") {
			p := e.Provider
			if p == "" || p == "text-completion-openai" {
				p = "openai"
			}
			key = p + "/" + name
		}
		p := Price{InputPerMTok: *e.Input * 1e6}
		if e.Output != nil {
			p.OutputPerMTok = *e.Output * 1e6
		}
		out[key] = p
	}
	return out, nil
}
