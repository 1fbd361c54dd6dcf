package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gavel-eval/gavel/eval/results"
)

// Four shard runs of a spec hold, between them, every example exactly
// once, all its variants and epochs, with the rows a single run has
// (their run-specific figures aside).
func TestShardedRunsPartitionTheExamples(t *testing.T) {
	spec := "../../examples/arithmetic/gavel.yaml"
	type row struct{ variant, example, output, status string }
	read := func(dir string) ([]row, *results.Manifest) {
		t.Helper()
		var rows []row
		if err := results.ReadResults(filepath.Join(dir, results.ResultsFile), func(r results.Result) error {
			rows = append(rows, row{r.Variant, r.ExampleID, r.Output, string(r.Status)})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		m, err := results.ReadManifest(dir)
		if err != nil {
			t.Fatal(err)
		}
		return rows, m
	}
	single := filepath.Join(t.TempDir(), "single")
	if code, out, stderr := gavelOut(t, "run", spec, "--out", single, "--run-id", "r1", "--repeat", "2"); code != ExitOK {
		t.Fatalf("single run: %d %s %s", code, out, stderr)
	}
	want, _ := read(single)
	var got []row
	seen := map[string]int{}
	for i := 1; i <= 4; i++ {
		dir := filepath.Join(t.TempDir(), "shard")
		args := []string{"run", spec, "--out", dir, "--run-id", "r1", "--repeat", "2", "--shard", string(rune('0'+i)) + "/4"}
		if code, out, stderr := gavelOut(t, args...); code != ExitOK {
			t.Fatalf("shard %d: %d %s %s", i, code, out, stderr)
		}
		rows, m := read(dir)
		if m.Shard == nil || m.Shard.Index != i || m.Shard.Count != 4 {
			t.Errorf("shard %d: manifest shard %+v", i, m.Shard)
		}
		shardExamples := map[string]bool{}
		for _, r := range rows {
			shardExamples[r.example] = true
		}
		if int(m.Dataset.Examples) != len(shardExamples) {
			t.Errorf("shard %d: manifest says %d examples, rows hold %d", i, m.Dataset.Examples, len(shardExamples))
		}
		for ex := range shardExamples {
			seen[ex]++
		}
		got = append(got, rows...)
	}
	for ex, n := range seen {
		if n != 1 {
			t.Errorf("example %s is in %d shards", ex, n)
		}
	}
	key := func(rs []row) func(i, j int) bool {
		return func(i, j int) bool {
			if rs[i].variant != rs[j].variant {
				return rs[i].variant < rs[j].variant
			}
			if rs[i].example != rs[j].example {
				return rs[i].example < rs[j].example
			}
			return rs[i].output < rs[j].output
		}
	}
	sort.Slice(got, key(got))
	sort.Slice(want, key(want))
	if len(got) != len(want) {
		t.Fatalf("%d rows over the shards, %d in one run", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("row %d: %+v over the shards, %+v in one run", i, got[i], want[i])
		}
	}
}

func TestParseShard(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	for _, c := range []struct {
		flag   string
		shards int
		env    func(string) string
		want   string // "I/N", or an error's text
	}{
		{"2/4", 0, env(), "2/4"},
		{"", 0, env(), ""},
		{"auto", 3, env("JOB_COMPLETION_INDEX", "0"), "1/3"},
		{"auto", 3, env("JOB_COMPLETION_INDEX", "2"), "3/3"},
		{"auto", 3, env("JOB_COMPLETION_INDEX", "3"), "shard 4/3"},
		{"auto", 0, env("JOB_COMPLETION_INDEX", "1"), "needs --shards N"},
		{"auto", 0, env("CI_NODE_INDEX", "2", "CI_NODE_TOTAL", "5"), "2/5"},
		{"auto", 4, env("CI_NODE_INDEX", "2", "CI_NODE_TOTAL", "5"), "--shards 4 but CI_NODE_TOTAL is 5"},
		{"auto", 0, env(), "neither JOB_COMPLETION_INDEX"},
		{"0/4", 0, env(), "want I/N with 1 <= I <= N"},
		{"5/4", 0, env(), "want I/N with 1 <= I <= N"},
		{"x", 0, env(), `--shard "x": want I/N`},
		{"1/2", 2, env(), "--shards N goes with --shard auto"},
		{"", 2, env(), "--shards N goes with --shard auto"},
	} {
		sh, err := parseShard(c.flag, c.shards, c.env)
		got := ""
		switch {
		case err != nil:
			got = err.Error()
		case sh != nil:
			got = fmt.Sprintf("%d/%d", sh.Index, sh.Count)
		}
		if !strings.Contains(got, c.want) || (c.want == "" && got != "") {
			t.Errorf("--shard %q --shards %d: %q, want %q", c.flag, c.shards, got, c.want)
		}
	}
}

// The Indexed Job of deploy/kubernetes, as four local processes: each
// with its JOB_COMPLETION_INDEX and the Job's arguments, run at once, then
// merged, give the single run.
func TestIndexedJobShards(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gavel binary (-short skips it)")
	}
	bin := filepath.Join(t.TempDir(), "gavel")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/gavel")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	spec := mergeSpec(t)
	runs := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	outs := make([][]byte, 4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(bin, "run", spec, "--shard=auto", "--shards=4", "--run-id=nightly", "--out="+filepath.Join(runs, "shards", fmt.Sprint(i)))
			cmd.Env = append(os.Environ(), fmt.Sprintf("JOB_COMPLETION_INDEX=%d", i))
			outs[i], errs[i] = cmd.CombinedOutput()
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("pod %d: %v\n%s", i, err, outs[i])
		}
	}
	for i := range 4 {
		m, err := results.ReadManifest(filepath.Join(runs, "shards", fmt.Sprint(i)))
		if err != nil || m.Shard == nil || m.Shard.Index != i+1 || m.Shard.Count != 4 {
			t.Fatalf("pod %d: shard %+v %v", i, m.Shard, err)
		}
	}
	merge := exec.Command(bin, "merge", filepath.Join(runs, "shards", "*"), "--out", filepath.Join(runs, "merged"))
	if out, err := merge.CombinedOutput(); err != nil {
		t.Fatalf("merge: %v\n%s", err, out)
	}
	single := filepath.Join(runs, "single")
	if code, out, stderr := gavelOut(t, "run", spec, "--out", single, "--run-id", "nightly"); code != ExitOK {
		t.Fatalf("%d %s %s", code, out, stderr)
	}
	ra, sa, ma := normalized(t, single)
	rb, sb, mb := normalized(t, filepath.Join(runs, "merged"))
	if ra != rb || sa != sb || ma != mb {
		t.Error("the merged Indexed Job is not the single run")
	}
}

// --dry-run --shards N estimates every shard; their examples add up to the
// whole run's, and --shard I/N estimates one of them.
func TestDryRunPerShard(t *testing.T) {
	spec := "../../examples/arithmetic/gavel.yaml"
	code, out, stderr := gavelOut(t, "run", spec, "--dry-run", "--shards", "3")
	if code != ExitOK {
		t.Fatalf("%d %s", code, stderr)
	}
	re := regexp.MustCompile(`shard (\d)/3: dry run: (\d+) examples`)
	sum, seen := 0, map[string]string{}
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[2])
		sum += n
		seen[m[1]] = m[2]
	}
	if len(seen) != 3 || sum != 24 {
		t.Errorf("shards %v add up to %d examples, want 3 shards and 24:\n%s", seen, sum, out)
	}
	code, out, _ = gavelOut(t, "run", spec, "--dry-run", "--shard", "2/3")
	if code != ExitOK || !strings.Contains(out, "dry run: "+seen["2"]+" examples") {
		t.Errorf("--shard 2/3 --dry-run: %s (want %s examples)", out, seen["2"])
	}
}
