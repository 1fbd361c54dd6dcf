package datasets

import (
	"fmt"
	"testing"
)

func TestShardOf(t *testing.T) {
	const n = 4
	counts := make([]int, n)
	before := map[string]int{}
	for i := range 10000 {
		id := fmt.Sprintf("ex-%d", i)
		s := ShardOf(id, n)
		if s < 0 || s >= n {
			t.Fatalf("shard %d of %d", s, n)
		}
		counts[s]++
		before[id] = s
	}
	for s, c := range counts {
		if c < 2300 || c > 2700 {
			t.Errorf("shard %d holds %d of 10000 examples", s, c)
		}
	}
	// The same id, the same shard, whatever else the dataset holds.
	for id, s := range before {
		if ShardOf(id, n) != s {
			t.Fatalf("%s moved", id)
		}
	}
	if ShardOf("x", 1) != 0 || ShardOf("x", 0) != 0 {
		t.Error("one shard is shard 0")
	}
	// Known values (SHA-256 of the id, its first 8 bytes big-endian,
	// modulo the count, as Python's hashlib gives them), so that a change
	// of the hash is seen: it would move examples between the shards of
	// runs already stored.
	for _, c := range []struct {
		id       string
		n, shard int
	}{{"q01", 4, 0}, {"q02", 4, 1}, {"q03", 4, 1}, {"example-7", 3, 1}} {
		if got := ShardOf(c.id, c.n); got != c.shard {
			t.Errorf("ShardOf(%q, %d) = %d, want %d", c.id, c.n, got, c.shard)
		}
	}
}
