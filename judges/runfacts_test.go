package judges

import (
	"context"
	"math"
	"strings"
	"testing"
)

// checkUnscaled judges in with j and checks a run-fact verdict: no error,
// no score, the expected pass and a reason containing each of reason.
func checkUnscaled(t *testing.T, j Judge, in Input, pass bool, reason ...string) Verdict {
	t.Helper()
	v, err := j.Judge(context.Background(), in)
	if err != nil {
		t.Fatalf("Judge(%+v): %v", in, err)
	}
	if v.Score != nil {
		t.Errorf("Judge(%+v): score %v, want none", in, *v.Score)
	}
	if v.Pass != pass {
		t.Errorf("Judge(%+v): pass = %v (%s), want %v", in, v.Pass, v.Reason, pass)
	}
	for _, s := range reason {
		if !strings.Contains(v.Reason, s) {
			t.Errorf("Judge(%+v): reason %q lacks %q", in, v.Reason, s)
		}
	}
	return v
}

func TestLatency(t *testing.T) {
	t.Parallel()
	j, err := NewLatency(LatencyConfig{MaxMS: 1500})
	if err != nil {
		t.Fatal(err)
	}
	checkUnscaled(t, j, Input{LatencyMS: 812.5}, true, "latency 812.5 ms is within max 1500 ms")
	checkUnscaled(t, j, Input{LatencyMS: 1500}, true)
	checkUnscaled(t, j, Input{LatencyMS: 1500.25}, false, "latency 1500.25 ms exceeds max 1500 ms")
	v := checkUnscaled(t, j, Input{LatencyMS: 0}, true)
	if v.Details["latency_ms"] != 0.0 || v.Details["max_ms"] != 1500.0 {
		t.Errorf("details %v", v.Details)
	}
	for _, bad := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if _, err := NewLatency(LatencyConfig{MaxMS: bad}); err == nil || !strings.HasPrefix(err.Error(), "max_ms: ") {
			t.Errorf("max_ms %v: error %v, want one naming the field", bad, err)
		}
	}
}

func TestTTFT(t *testing.T) {
	t.Parallel()
	j, err := NewTTFT(TTFTConfig{MaxMS: 400})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		ttft    *float64
		latency float64
		pass    bool
		reason  string // in the reason, or, with no ttft, in the error
	}{
		{name: "within", ttft: ptr(212.5), latency: 5000, pass: true, reason: "time to first token 212.5 ms is within max 400 ms"},
		{name: "at the limit", ttft: ptr(400.0), pass: true, reason: "within max 400 ms"},
		{name: "over", ttft: ptr(400.25), latency: 401, reason: "time to first token 400.25 ms exceeds max 400 ms"},
		{name: "zero (answered at once)", ttft: ptr(0.0), pass: true, reason: "time to first token 0 ms"},
		{name: "not streamed", latency: 10, reason: "no time to first token: the result was not streamed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := Input{TTFTMS: tc.ttft, LatencyMS: tc.latency}
			if tc.ttft == nil {
				// Missing, like an unknown cost: the judge cannot decide.
				v, err := j.Judge(context.Background(), in)
				if err == nil || !strings.Contains(err.Error(), tc.reason) || v.Pass {
					t.Errorf("no ttft: %+v, %v", v, err)
				}
				return
			}
			v := checkUnscaled(t, j, in, tc.pass, tc.reason)
			if v.Details["ttft_ms"] != *tc.ttft || v.Details["max_ms"] != 400.0 {
				t.Errorf("details %v", v.Details)
			}
		})
	}
	for _, bad := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if _, err := NewTTFT(TTFTConfig{MaxMS: bad}); err == nil || !strings.HasPrefix(err.Error(), "max_ms: ") {
			t.Errorf("max_ms %v: error %v, want one naming the field", bad, err)
		}
	}
}

func TestCost(t *testing.T) {
	t.Parallel()
	j, err := NewCost(CostConfig{MaxUSD: ptr(0.01)})
	if err != nil {
		t.Fatal(err)
	}
	checkUnscaled(t, j, Input{CostUSD: ptr(0.0042)}, true, "cost $0.0042 is within max $0.01")
	checkUnscaled(t, j, Input{CostUSD: ptr(0.01)}, true)
	checkUnscaled(t, j, Input{CostUSD: ptr(0.0100001)}, false, "cost $0.0100001 exceeds max $0.01")
	checkUnscaled(t, j, Input{CostUSD: ptr(0.0)}, true)
	_, err = j.Judge(context.Background(), Input{})
	if err == nil || err.Error() != "cost unknown: price the model in the spec" {
		t.Errorf("unknown cost: error %v", err)
	}

	free, err := NewCost(CostConfig{MaxUSD: ptr(0.0)})
	if err != nil {
		t.Fatalf("max_usd 0: %v", err)
	}
	checkUnscaled(t, free, Input{CostUSD: ptr(0.0)}, true)
	checkUnscaled(t, free, Input{CostUSD: ptr(1e-9)}, false, "exceeds max $0")

	if _, err := NewCost(CostConfig{}); err == nil || !strings.HasPrefix(err.Error(), "max_usd: required") {
		t.Errorf("no max_usd: error %v", err)
	}
	for _, bad := range []float64{-0.01, math.NaN(), math.Inf(1)} {
		if _, err := NewCost(CostConfig{MaxUSD: ptr(bad)}); err == nil || !strings.HasPrefix(err.Error(), "max_usd: ") {
			t.Errorf("max_usd %v: error %v, want one naming the field", bad, err)
		}
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	in := Input{PromptTokens: 120, CompletionTokens: 48}
	total, err := NewTokens(TokensConfig{Max: 200})
	if err != nil {
		t.Fatal(err)
	}
	v := checkUnscaled(t, total, in, true, "168 tokens (120 prompt + 48 completion) is within max 200")
	if v.Details["total_tokens"] != 168 {
		t.Errorf("details %v", v.Details)
	}
	total, _ = NewTokens(TokensConfig{Max: 167, Kind: "total"})
	checkUnscaled(t, total, in, false, "168 tokens (120 prompt + 48 completion) exceeds max 167")
	total, _ = NewTokens(TokensConfig{Max: 168})
	checkUnscaled(t, total, in, true)

	prompt, _ := NewTokens(TokensConfig{Max: 100, Kind: "prompt"})
	checkUnscaled(t, prompt, in, false, "120 prompt tokens exceeds max 100")
	completion, _ := NewTokens(TokensConfig{Max: 100, Kind: "completion"})
	checkUnscaled(t, completion, in, true, "48 completion tokens is within max 100")
	checkUnscaled(t, completion, Input{PromptTokens: 1000}, true, "0 completion tokens")

	for _, bad := range []struct {
		cfg  TokensConfig
		want string
	}{
		{TokensConfig{}, "max: required"},
		{TokensConfig{Max: -5}, "max: required"},
		{TokensConfig{Max: 10, Kind: "input"}, `kind: must be total, prompt or completion, got "input"`},
		{TokensConfig{Max: 10, Kind: "Total"}, "kind: "},
	} {
		if _, err := NewTokens(bad.cfg); err == nil || !strings.HasPrefix(err.Error(), bad.want) {
			t.Errorf("NewTokens(%+v): error %v, want %q", bad.cfg, err, bad.want)
		}
	}
}
