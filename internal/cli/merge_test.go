package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/eval/results"
)

// mergeSpec writes a spec with a corpus judge (BLEU) over 30 examples.
func mergeSpec(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	for i := range 30 {
		fmt.Fprintf(&b, `{"id": "e%02d", "q": "the cat sat on mat %d", "ref": "the cat sat on the mat %d"}`+"\n", i, i%7, i%5)
	}
	os.WriteFile(filepath.Join(dir, "data.jsonl"), []byte(b.String()), 0o644)
	spec := filepath.Join(dir, "gavel.yaml")
	os.WriteFile(spec, []byte(`name: merge
dataset: {path: data.jsonl, id: "{{.id}}"}
variants:
  - {name: echo, model: offline/echo, prompt: "{{.example.q}}"}
  - {name: calc, model: offline/calc, prompt: "{{.example.q}}"}
judges:
  - {name: bleu, type: bleu, expected: "{{.example.ref}}"}
  - {name: has-cat, type: contains, value: cat}
`), 0o644)
	return spec
}

// normalized are a run's rows without what differs between two runs of
// the same spec (start times, latencies).
func normalized(t *testing.T, dir string) (string, string, string) {
	t.Helper()
	var rs []results.Result
	if err := results.ReadResults(filepath.Join(dir, results.ResultsFile), func(r results.Result) error {
		r.StartedAt, r.LatencyMS = time.Time{}, 0
		rs = append(rs, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var ss []results.Score
	if err := results.ReadScores(filepath.Join(dir, results.ScoresFile), func(s results.Score) error {
		s.LatencyMS = 0
		ss = append(ss, s)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	m, err := results.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(rs)
	b, _ := json.Marshal(ss)
	c, _ := json.Marshal(m.Metrics)
	return string(a), string(b), string(c)
}

// Three shard runs merged are the single run: the same results and
// scores, row for row in the same order, and the same corpus BLEU
// (computed over all outputs, not averaged).
func TestMergeEqualsOneRun(t *testing.T) {
	spec := mergeSpec(t)
	base := t.TempDir()
	single := filepath.Join(base, "single")
	if code, out, stderr := gavelOut(t, "run", spec, "--out", single, "--run-id", "r1"); code != ExitOK {
		t.Fatalf("%d %s %s", code, out, stderr)
	}
	for i := 1; i <= 3; i++ {
		if code, out, stderr := gavelOut(t, "run", spec, "--out", filepath.Join(base, "shards", fmt.Sprint(i)), "--run-id", "r1", "--shard", fmt.Sprintf("%d/3", i)); code != ExitOK {
			t.Fatalf("shard %d: %d %s %s", i, code, out, stderr)
		}
	}
	merged := filepath.Join(base, "merged")
	code, out, stderr := gavelOut(t, "merge", filepath.Join(base, "shards", "*"), "--out", merged)
	if code != ExitOK || strings.TrimSpace(out) != merged || !strings.Contains(stderr, "merged 3 shards: 60 results, 120 scores") {
		t.Fatalf("merge: %d %q %s", code, out, stderr)
	}
	ra, sa, ma := normalized(t, single)
	rb, sb, mb := normalized(t, merged)
	if ra != rb {
		t.Error("the merged results are not the single run's")
	}
	if sa != sb {
		t.Error("the merged scores are not the single run's")
	}
	if ma != mb || !strings.Contains(ma, `"judge":"bleu"`) {
		t.Errorf("corpus metrics: single %s, merged %s", ma, mb)
	}
	m, _ := results.ReadManifest(merged)
	if len(m.Shards) != 3 || m.Shard != nil || m.Dataset.Examples != 30 || m.Totals.Results != 60 || m.Status != results.RunCompleted {
		t.Errorf("merged manifest: shards %v, examples %d, results %d, %s", m.Shards, m.Dataset.Examples, m.Totals.Results, m.Status)
	}
}

// Merge refuses a missing shard, a shard given twice, shards of another
// spec, a shard not finished and an existing output, naming them, and
// writes nothing.
func TestMergeRefuses(t *testing.T) {
	spec := mergeSpec(t)
	base := t.TempDir()
	shard := func(name, which string, extra ...string) string {
		dir := filepath.Join(base, name)
		args := append([]string{"run", spec, "--out", dir, "--run-id", "r1", "--shard", which}, extra...)
		if code, out, stderr := gavelOut(t, args...); code != ExitOK {
			t.Fatalf("%s: %d %s %s", name, code, out, stderr)
		}
		return dir
	}
	s1, s2 := shard("s1", "1/2"), shard("s2", "2/2")
	other := shard("other", "2/2", "--repeat", "2")
	three := shard("three", "1/3")
	plain := filepath.Join(base, "plain")
	gavelOut(t, "run", spec, "--out", plain)
	// A copy of shard 1 that says it is shard 2: its rows are shard 1's.
	impostor := shard("impostor", "1/2")
	mi, _ := results.ReadManifest(impostor)
	mi.Shard.Index = 2
	results.WriteManifest(impostor, mi)
	unfinished := shard("unfinished", "2/2")
	mf, _ := results.ReadManifest(unfinished)
	mf.Status = results.RunInterrupted
	results.WriteManifest(unfinished, mf)
	for _, c := range []struct {
		dirs []string
		want string
	}{
		{[]string{s1}, "shard 2/2 is missing"},
		{[]string{s1, s1, s2}, "shard 1/2 is given twice"},
		{[]string{s1, other}, "differ in their epochs"},
		{[]string{s1, three}, "of 2 shards"},
		{[]string{s1, plain}, "is not a shard run"},
		{[]string{s1, unfinished}, "is interrupted: finish it with gavel run --resume"},
		{[]string{s1, filepath.Join(base, "nope")}, "nope"},
		{[]string{s1, impostor}, "epoch 0 is in"},
	} {
		out := filepath.Join(base, "out")
		code, _, stderr := gavelOut(t, append(append([]string{"merge"}, c.dirs...), "--out", out)...)
		if code != ExitError || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, %s; want %q", c.dirs, code, stderr, c.want)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%v: something was written", c.dirs)
		}
	}
	if code, _, stderr := gavelOut(t, "merge", s1, s2, "--out", s1); code != ExitError || !strings.Contains(stderr, "exists") {
		t.Errorf("an existing --out: %d %s", code, stderr)
	}
	entries, _ := os.ReadDir(base)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".merge-") {
			t.Errorf("a temporary directory was left: %s", e.Name())
		}
	}
}

// --allow-partial merges what there is, marked partial.
func TestMergeAllowPartial(t *testing.T) {
	spec := mergeSpec(t)
	base := t.TempDir()
	s1 := filepath.Join(base, "s1")
	if code, _, stderr := gavelOut(t, "run", spec, "--out", s1, "--run-id", "r1", "--shard", "1/3"); code != ExitOK {
		t.Fatal(stderr)
	}
	out := filepath.Join(base, "partial")
	code, _, stderr := gavelOut(t, "merge", s1, "--out", out, "--allow-partial")
	if code != ExitOK || !strings.Contains(stderr, "the merged run is partial (partial merge: shard 2/3, 3/3 is missing)") {
		t.Fatalf("%d %s", code, stderr)
	}
	m, err := results.ReadManifest(out)
	if err != nil || m.Status != results.RunPartial || strings.Contains(m.Error, "is in no shard") {
		t.Errorf("manifest %s %q %v", m.Status, m.Error, err)
	}
	one, _ := results.ReadManifest(s1)
	if m.Totals.Results != one.Totals.Results {
		t.Errorf("%d results, the shard has %d", m.Totals.Results, one.Totals.Results)
	}
	if code, _, stderr := gavelOut(t, "report", out); code != ExitOK {
		t.Errorf("a partial run does not report: %s", stderr)
	}
}
