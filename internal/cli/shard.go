package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gavel-eval/gavel/eval"
	"github.com/gavel-eval/gavel/eval/results"
)

// parseShard reads --shard: "I/N" (1 <= I <= N), or "auto": the index
// from the environment of a Kubernetes Indexed Job (JOB_COMPLETION_INDEX,
// 0-based, with --shards N) or of GitLab's parallel jobs (CI_NODE_INDEX,
// 1-based, and CI_NODE_TOTAL). "" is no shard.
func parseShard(s string, shards int, getenv func(string) string) (*results.Shard, error) {
	switch s {
	case "":
		if shards != 0 {
			return nil, errors.New("--shards N goes with --shard auto")
		}
		return nil, nil
	case "auto":
		if v := getenv("JOB_COMPLETION_INDEX"); v != "" {
			i, err := strconv.Atoi(v)
			if err != nil || i < 0 {
				return nil, fmt.Errorf("--shard auto: JOB_COMPLETION_INDEX=%q is not an index", v)
			}
			if shards < 1 {
				return nil, errors.New("--shard auto in a Kubernetes Indexed Job needs --shards N (the Job's completions)")
			}
			return checkShard(i+1, shards)
		}
		if v := getenv("CI_NODE_INDEX"); v != "" {
			i, err1 := strconv.Atoi(v)
			n, err2 := strconv.Atoi(getenv("CI_NODE_TOTAL"))
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("--shard auto: CI_NODE_INDEX=%q and CI_NODE_TOTAL=%q are not numbers", v, getenv("CI_NODE_TOTAL"))
			}
			if shards != 0 && shards != n {
				return nil, fmt.Errorf("--shards %d but CI_NODE_TOTAL is %d", shards, n)
			}
			return checkShard(i, n)
		}
		return nil, errors.New("--shard auto: neither JOB_COMPLETION_INDEX (Kubernetes Indexed Job) nor CI_NODE_INDEX (GitLab parallel) is set")
	}
	if shards != 0 {
		return nil, errors.New("--shards N goes with --shard auto; --shard I/N says N itself")
	}
	if !strings.Contains(s, "/") {
		return nil, fmt.Errorf("--shard %q: want I/N (1/4 is the first of 4 shards) or auto", s)
	}
	sh, err := eval.ParseShard(s)
	if err != nil {
		return nil, fmt.Errorf("--shard %w", err)
	}
	return sh, nil
}

func checkShard(i, n int) (*results.Shard, error) {
	if n < 1 || i < 1 || i > n {
		return nil, fmt.Errorf("shard %d/%d: want I/N with 1 <= I <= N", i, n)
	}
	return &results.Shard{Index: i, Count: n}, nil
}
