package eval_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/datasets"
	"github.com/gavel-eval/gavel/eval"
)

// shard: in the spec runs that shard; Options.Shard overrides it.
func TestSpecShard(t *testing.T) {
	var b strings.Builder
	for i := range 20 {
		fmt.Fprintf(&b, `{"id": "e%d"}`+"\n", i)
	}
	spec := func(shard string) string {
		return "name: s\nshard: \"" + shard + "\"\ndataset: {path: data.jsonl, id: \"{{.id}}\"}\nvariants:\n  - {name: a, model: offline/echo, prompt: x}\n"
	}
	sr := newSpecRun(t, spec("2/3"), map[string]string{"data.jsonl": b.String()})
	run := sr.mustRun(t.Context(), eval.Options{})
	want := 0
	for i := range 20 {
		if datasets.ShardOf(fmt.Sprintf("e%d", i), 3) == 1 {
			want++
		}
	}
	if len(run.results) != want || run.manifest.Shard == nil || run.manifest.Shard.Index != 2 {
		t.Errorf("%d results (want %d), shard %+v", len(run.results), want, run.manifest.Shard)
	}
	for _, r := range run.results {
		if datasets.ShardOf(r.ExampleID, 3) != 1 {
			t.Errorf("%s is not in shard 2/3", r.ExampleID)
		}
	}
	bad := newSpecRun(t, spec("4/3"), map[string]string{"data.jsonl": b.String()})
	if _, err := bad.run(t.Context(), eval.Options{}); err == nil || !strings.Contains(err.Error(), "shard: shard 4/3") {
		t.Errorf("shard 4/3: %v", err)
	}
}
