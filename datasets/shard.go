package datasets

import (
	"crypto/sha256"
	"encoding/binary"
)

// ShardOf returns the shard (0 to count-1) of the example with id among
// count shards: a stable hash of the id, so that an example stays in its
// shard when examples are added or removed, and every variant and epoch
// of an example is in the same shard.
func ShardOf(id string, count int) int {
	if count <= 1 {
		return 0
	}
	sum := sha256.Sum256([]byte(id))
	return int(binary.BigEndian.Uint64(sum[:8]) % uint64(count))
}
