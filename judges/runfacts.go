package judges

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// This file holds the run-fact judges: latency, ttft, cost and tokens. They
// judge how the chain ran, not what it said, so they have no score scale:
// the verdict's Score is nil and Pass compares a fact with a threshold.

// LatencyConfig holds the options of a `latency` judge.
type LatencyConfig struct {
	// MaxMS is the largest latency, in milliseconds, that passes. Required:
	// a finite number > 0.
	MaxMS float64 `yaml:"max_ms"`
}

// Latency passes when the chain's latency for the example is at most
// max_ms. Its score is nil.
type Latency struct {
	cfg LatencyConfig
}

var _ Judge = (*Latency)(nil)

// NewLatency returns a latency judge. A missing, non-positive or
// non-finite max_ms is an error naming the field.
func NewLatency(cfg LatencyConfig) (*Latency, error) {
	if err := requirePositive("max_ms", cfg.MaxMS); err != nil {
		return nil, err
	}
	return &Latency{cfg: cfg}, nil
}

// Judge compares in.LatencyMS with max_ms.
func (j *Latency) Judge(_ context.Context, in Input) (Verdict, error) {
	got, limit := formatFact(in.LatencyMS), formatFact(j.cfg.MaxMS)
	v := Verdict{Details: map[string]any{"latency_ms": in.LatencyMS, "max_ms": j.cfg.MaxMS}}
	if in.LatencyMS <= j.cfg.MaxMS {
		v.Pass, v.Reason = true, fmt.Sprintf("latency %s ms is within max %s ms", got, limit)
	} else {
		v.Reason = fmt.Sprintf("latency %s ms exceeds max %s ms", got, limit)
	}
	return v, nil
}

// TTFTConfig holds the options of a `ttft` judge.
type TTFTConfig struct {
	// MaxMS is the largest time to first token, in milliseconds, that
	// passes. Required: a finite number > 0.
	MaxMS float64 `yaml:"max_ms"`
}

// TTFT passes when the chain's time to first token for the example is at
// most max_ms. Its score is nil. A result without one — its model calls
// were not streamed, or its streamed call was answered from the cache —
// is a judge error, as an unknown cost is for the cost judge: it is left
// out of the judge's figures rather than counted as a failure.
type TTFT struct {
	cfg TTFTConfig
}

var _ Judge = (*TTFT)(nil)

// NewTTFT returns a ttft judge. A missing, non-positive or non-finite
// max_ms is an error naming the field.
func NewTTFT(cfg TTFTConfig) (*TTFT, error) {
	if err := requirePositive("max_ms", cfg.MaxMS); err != nil {
		return nil, err
	}
	return &TTFT{cfg: cfg}, nil
}

// Judge compares in.TTFTMS with max_ms.
func (j *TTFT) Judge(_ context.Context, in Input) (Verdict, error) {
	if in.TTFTMS == nil {
		return Verdict{}, errors.New("no time to first token: the result was not streamed (set stream: true in the params of the variant or of its llm step), or its streamed call was answered from the cache")
	}
	ttft := *in.TTFTMS
	got, limit := formatFact(ttft), formatFact(j.cfg.MaxMS)
	v := Verdict{Details: map[string]any{"ttft_ms": ttft, "max_ms": j.cfg.MaxMS}}
	if ttft <= j.cfg.MaxMS {
		v.Pass, v.Reason = true, fmt.Sprintf("time to first token %s ms is within max %s ms", got, limit)
	} else {
		v.Reason = fmt.Sprintf("time to first token %s ms exceeds max %s ms", got, limit)
	}
	return v, nil
}

// CostConfig holds the options of a `cost` judge.
type CostConfig struct {
	// MaxUSD is the largest cost of the chain for one example, in US
	// dollars, that passes. Required: a finite number >= 0 (0 passes only
	// free runs).
	MaxUSD *float64 `yaml:"max_usd"`
}

// Cost passes when the chain's cost for the example is at most max_usd.
// Its score is nil. An unknown cost (a model without a price) is a judge
// error.
type Cost struct {
	max float64
}

var _ Judge = (*Cost)(nil)

// NewCost returns a cost judge. A missing, negative or non-finite max_usd
// is an error naming the field.
func NewCost(cfg CostConfig) (*Cost, error) {
	if cfg.MaxUSD == nil {
		return nil, errors.New("max_usd: required: the largest cost in US dollars that passes")
	}
	if v := *cfg.MaxUSD; math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return nil, fmt.Errorf("max_usd: must be a finite number >= 0, got %v", v)
	}
	return &Cost{max: *cfg.MaxUSD}, nil
}

// Judge compares in.CostUSD with max_usd.
func (j *Cost) Judge(_ context.Context, in Input) (Verdict, error) {
	if in.CostUSD == nil {
		return Verdict{}, errors.New("cost unknown: price the model in the spec")
	}
	cost := *in.CostUSD
	v := Verdict{Details: map[string]any{"cost_usd": cost, "max_usd": j.max}}
	if cost <= j.max {
		v.Pass, v.Reason = true, fmt.Sprintf("cost $%s is within max $%s", formatFact(cost), formatFact(j.max))
	} else {
		v.Reason = fmt.Sprintf("cost $%s exceeds max $%s", formatFact(cost), formatFact(j.max))
	}
	return v, nil
}

// TokensConfig holds the options of a `tokens` judge.
type TokensConfig struct {
	// Max is the largest token count that passes. Required: > 0.
	Max int `yaml:"max"`
	// Kind is what is counted: "total" (prompt plus completion tokens, the
	// default), "prompt" or "completion".
	Kind string `yaml:"kind"`
}

// Tokens passes when the chain's token count for the example is at most
// max. Its score is nil.
type Tokens struct {
	cfg TokensConfig
}

var _ Judge = (*Tokens)(nil)

// NewTokens returns a tokens judge. A missing or non-positive max, or an
// unknown kind, is an error naming the field.
func NewTokens(cfg TokensConfig) (*Tokens, error) {
	if cfg.Max <= 0 {
		return nil, fmt.Errorf("max: required: a token count > 0, got %d", cfg.Max)
	}
	switch cfg.Kind {
	case "":
		cfg.Kind = "total"
	case "total", "prompt", "completion":
	default:
		return nil, fmt.Errorf("kind: must be total, prompt or completion, got %q", cfg.Kind)
	}
	return &Tokens{cfg: cfg}, nil
}

// Judge compares the configured token count with max.
func (j *Tokens) Judge(_ context.Context, in Input) (Verdict, error) {
	var n int
	var what string
	switch j.cfg.Kind {
	case "prompt":
		n, what = in.PromptTokens, "prompt tokens"
	case "completion":
		n, what = in.CompletionTokens, "completion tokens"
	default:
		n, what = in.PromptTokens+in.CompletionTokens, "tokens"
	}
	v := Verdict{Details: map[string]any{j.cfg.Kind + "_tokens": n, "max": j.cfg.Max}}
	detail := ""
	if j.cfg.Kind == "total" {
		detail = fmt.Sprintf(" (%d prompt + %d completion)", in.PromptTokens, in.CompletionTokens)
	}
	if n <= j.cfg.Max {
		v.Pass, v.Reason = true, fmt.Sprintf("%d %s%s is within max %d", n, what, detail, j.cfg.Max)
	} else {
		v.Reason = fmt.Sprintf("%d %s%s exceeds max %d", n, what, detail, j.cfg.Max)
	}
	return v, nil
}

// requirePositive validates a threshold that must be a finite number > 0.
func requirePositive(field string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
		if v == 0 {
			return fmt.Errorf("%s: required: a number > 0", field)
		}
		return fmt.Errorf("%s: must be a finite number > 0, got %v", field, v)
	}
	return nil
}

// formatFact formats v in its shortest exact decimal form ("1500",
// "0.0042").
func formatFact(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}
