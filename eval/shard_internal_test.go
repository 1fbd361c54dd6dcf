package eval

import (
	"testing"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/llm"
)

// A spec's rate limits are the run's: each of N shards takes 1/N.
func TestShardLimits(t *testing.T) {
	limits := map[string]llm.Limit{"openai": {RPM: 600, TPM: 100000, Concurrency: 8}, "local/m": {Concurrency: 2}}
	got := shardLimits(limits, &results.Shard{Index: 1, Count: 4})
	if got["openai"] != (llm.Limit{RPM: 150, TPM: 25000, Concurrency: 2}) || got["local/m"] != (llm.Limit{Concurrency: 1}) {
		t.Errorf("shared limits %v", got)
	}
	if limits["openai"].RPM != 600 {
		t.Error("the spec's limits were changed")
	}
	whole := shardLimits(limits, &results.Shard{Index: 1, Count: 4, LimitsWhole: true})
	if whole["openai"].RPM != 600 {
		t.Errorf("whole limits %v", whole)
	}
	if shardLimits(limits, nil)["openai"].RPM != 600 {
		t.Error("an unsharded run's limits changed")
	}
}
