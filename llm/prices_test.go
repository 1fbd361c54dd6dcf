package llm_test

import (
	"context"
	"math"
	"testing"

	"github.com/gavel-eval/gavel/llm"
)

func TestDefaultPricesIsFresh(t *testing.T) {
	a := llm.DefaultPrices()
	a["openai/gpt-4o"] = llm.Price{InputPerMTok: 999}
	delete(a, "openai/gpt-4o-mini")
	b := llm.DefaultPrices()
	if b["openai/gpt-4o"].InputPerMTok != 2.5 {
		t.Errorf("changing one table changed the next: %+v", b["openai/gpt-4o"])
	}
	if _, ok := b["openai/gpt-4o-mini"]; !ok {
		t.Error("deleting from one table deleted from the next")
	}
	for _, m := range []string{"gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "o3", "o3-mini", "o4-mini", "gpt-5", "gpt-5-mini", "gpt-5-nano"} {
		p, ok := b["openai/"+m]
		if !ok || p.InputPerMTok <= 0 || p.OutputPerMTok < p.InputPerMTok {
			t.Errorf("openai/%s: price %+v (present %v)", m, p, ok)
		}
	}
}

func TestCost(t *testing.T) {
	tab := llm.DefaultPrices()
	u := llm.Usage{PromptTokens: 2_000_000, CompletionTokens: 500_000}
	cases := []struct {
		model string
		want  float64
		ok    bool
	}{
		{"openai/gpt-4o-mini", 2*0.15 + 0.5*0.60, true},
		{"openai/gpt-4o", 2*2.50 + 0.5*10, true},
		{"offline/calc", 0, true},
		{"offline/anything", 0, true},
		{"local/gpt-4o-mini", 0, false},
		{"openai/gpt-4o-2024-08-06", 0, false},
		{"gpt-4o", 0, false},
	}
	for _, tc := range cases {
		got, ok := tab.Cost(tc.model, u)
		if ok != tc.ok || math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("Cost(%q) = %v, %v; want %v, %v", tc.model, got, ok, tc.want, tc.ok)
		}
	}
	tab["local/*"] = llm.Price{InputPerMTok: 1}
	tab["local/big"] = llm.Price{InputPerMTok: 10}
	if c, ok := tab.Cost("local/small", u); !ok || c != 2 {
		t.Errorf("wildcard cost = %v, %v", c, ok)
	}
	if c, ok := tab.Cost("local/big", u); !ok || c != 20 {
		t.Errorf("exact entry beats wildcard: cost = %v, %v", c, ok)
	}
}

func TestConfigPricesOverride(t *testing.T) {
	f := newFakeServer(t, respond(200, okReply))
	r, err := llm.NewRouter(llm.Config{Local: local(),
		Providers: []llm.ProviderConfig{{Name: "openai", BaseURL: f.URL + "/v1"}},
		Prices:    llm.PriceTable{"openai/gpt-4o-mini": {InputPerMTok: 10, OutputPerMTok: 20}},
		Getenv:    env(map[string]string{"OPENAI_API_KEY": testKey}),
	})
	if err != nil {
		t.Fatal(err)
	}
	for model, want := range map[string]float64{
		"openai/gpt-4o-mini": (1000*10 + 500*20) / 1e6,  // overridden
		"openai/gpt-4o":      (1000*2.5 + 500*10) / 1e6, // default kept
	} {
		resp, err := r.Chat(context.Background(), llm.Request{Model: model, Messages: userMsg})
		if err != nil {
			t.Fatal(err)
		}
		if resp.CostUSD == nil || math.Abs(*resp.CostUSD-want) > 1e-12 {
			t.Errorf("%s: cost = %s, want %v", model, costString(resp.CostUSD), want)
		}
	}
}
