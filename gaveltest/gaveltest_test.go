package gaveltest_test

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/llm/llmtest"
)

var update = flag.Bool("update", false, "record examples/gotest/testdata/gavel.cassette again")

// shopReply is the support bot's model, for recording.
func shopReply(r llmtest.ChatRequest) string {
	q := strings.ToLower(r.LastUser())
	switch {
	case strings.Contains(q, "open"):
		return "We open at 9 and close at 5."
	case strings.Contains(q, "return"):
		return "Yes: returns are accepted within 30 days."
	case strings.Contains(q, "shipping"):
		return "Shipping is free over 50 EUR."
	}
	return "I don't know."
}

// copyModule copies the example module examples/gotest to a new
// directory, its replace pointing at this repository.
func copyModule(t *testing.T) string {
	t.Helper()
	root, _ := filepath.Abs(filepath.Join("..", "examples", "gotest"))
	repo, _ := filepath.Abs("..")
	dst := t.TempDir()
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if rel == "go.mod" {
			b = []byte(strings.ReplaceAll(string(b), "=> ../..", "=> "+repo))
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func goTest(t *testing.T, dir string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("go", append([]string{"test", "-count=1"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append([]string{"GOFLAGS=-mod=mod", "OPENAI_API_KEY=", "OPENAI_BASE_URL=", "GAVEL_RECORD="}, env...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// The example module's go test: passes offline from its cassette; records
// it with GAVEL_RECORD=1 against a local OpenAI-compatible server; fails
// with a readable message per example when a judge fails or the cassette
// lacks a call; -run selects examples.
func TestExampleModule(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test on the example module (-short skips it)")
	}
	mod := copyModule(t)
	cassette := filepath.Join(mod, "testdata", "gavel.cassette")

	// Record against a local server.
	srv := llmtest.NewFaultServer(t, llmtest.FaultOptions{Reply: shopReply})
	out, err := goTest(t, mod, []string{"GAVEL_RECORD=1", "OPENAI_BASE_URL=" + srv.URL(), "OPENAI_API_KEY=sk-test-not-a-key"}, "-v", "./...")
	if err != nil || !strings.Contains(out, "recorded 3 calls") {
		t.Fatalf("recording: %v\n%s", err, out)
	}
	rec, err := os.ReadFile(cassette)
	if err != nil || strings.Contains(string(rec), "sk-test-not-a-key") {
		t.Fatalf("the cassette: %v (a key in it: %v)", err, strings.Contains(string(rec), "sk-test-not-a-key"))
	}
	if *update {
		if err := os.WriteFile(filepath.Join("..", "examples", "gotest", "testdata", "gavel.cassette"), rec, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	calls := srv.Requests()

	// Replayed: no server, no key.
	out, err = goTest(t, mod, nil, "-v", "./...")
	if err != nil || !strings.Contains(out, "--- PASS: TestSupportBot/returns") || srv.Requests() != calls {
		t.Fatalf("replay: %v (%d more calls)\n%s", err, srv.Requests()-calls, out)
	}
	// -run selects one example.
	out, err = goTest(t, mod, nil, "-v", "-run", "TestSupportBot/shipping", "./...")
	if err != nil || !strings.Contains(out, "TestSupportBot/shipping") || strings.Contains(out, "TestSupportBot/returns") {
		t.Fatalf("-run: %v\n%s", err, out)
	}

	// A judge that fails: the example's subtest says why, and the gate fails.
	spec := filepath.Join(mod, "testdata", "gavel.yaml")
	b, _ := os.ReadFile(spec)
	os.WriteFile(spec, []byte(strings.Replace(string(b), `expected: "{{.example.must}}"`, `expected: "{{.example.must}} sharp"`, 1)), 0o644)
	// The judge's change leaves the model calls (and the cassette) alone.
	out, err = goTest(t, mod, nil, "./...")
	for _, w := range []string{"--- FAIL: TestSupportBot/opening-hours", "judge mentions failed", `output:   "We open at 9 and close at 5."`, "gate mentions: min_pass_rate 1 on bot failed", "gavel view"} {
		if err == nil || !strings.Contains(out, w) {
			t.Errorf("a failing judge: output lacks %q:\n%s", w, out)
		}
	}
	os.WriteFile(spec, b, 0o644)

	// A call the cassette lacks (a changed prompt) fails, naming it.
	os.WriteFile(spec, []byte(strings.Replace(string(b), "You answer questions", "You kindly answer questions", 1)), 0o644)
	out, err = goTest(t, mod, nil, "./...")
	if err == nil || !strings.Contains(out, "not in the cassette") || !strings.Contains(out, "GAVEL_RECORD=1 go test -run 'TestSupportBot/") {
		t.Errorf("a cassette miss: %v\n%s", err, out)
	}
}
