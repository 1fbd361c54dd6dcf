package report

import (
	"bytes"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/eval/results"
)

// A prompt diff is shown when two variants ran different prompts and one
// came from the registry or a file; it is the word-aware diff of the
// texts and configs.
func TestPromptDiff(t *testing.T) {
	v1 := &results.Prompt{Source: "registry", Name: "solve", Version: "v1", Hash: "sha256:1",
		Messages: []results.Message{{Role: "user", Content: "Solve the problem.\n{{.example.q}}"}},
		Config:   map[string]any{"model": "offline/calc", "params": map[string]any{"temperature": 0}}}
	v2 := &results.Prompt{Source: "registry", Name: "solve", Version: "v2", Hash: "sha256:2",
		Messages: []results.Message{{Role: "user", Content: "Solve the problem carefully.\n{{.example.q}}"}},
		Config:   map[string]any{"model": "offline/calc", "params": map[string]any{"temperature": 0.5}}}
	inline := &results.Prompt{Hash: "sha256:3", Messages: []results.Message{{Role: "user", Content: "x"}}}
	got := promptDiff(v1, v2)
	for _, want := range []string{"diff solve@v1 solve@v2", "Solve the problem{+ carefully+}.", "params.temperature: 0{+.5+}"} {
		if !strings.Contains(got, want) {
			t.Errorf("diff lacks %q:\n%s", want, got)
		}
	}
	if d := promptDiff(v1, v1); d != "" {
		t.Errorf("same prompt: %q", d)
	}
	if d := promptDiff(inline, &results.Prompt{Hash: "sha256:4"}); d != "" {
		t.Errorf("two inline prompts: %q", d)
	}
	if d := promptDiff(inline, v1); !strings.Contains(d, "diff inline@- solve@v1") {
		t.Errorf("inline against a registry prompt: %q", d)
	}
}

// A prompt's text in a diff cannot close the Markdown fence or the
// <details> block it is shown in, and reads back whole.
func TestPromptDiffMarkdownIsText(t *testing.T) {
	diff := "--- a\n+++ b\n" + "{+```` " + hostileDetails + " " + hostileScript + "+}\n[-``` x-]\n"
	r := &Report{Comparisons: []Comparison{{A: "a", B: "b", PromptDiff: diff}}}
	var buf bytes.Buffer
	if err := Render(&buf, r, FormatMarkdown, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	out := gfm(t, buf.String())
	m := regexp.MustCompile(`(?s)<pre><code[^>]*>(.*?)</code></pre>`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no code block:\n%s", out)
	}
	if got := html.UnescapeString(m[1]); got != diff {
		t.Errorf("the code block reads %q, want %q", got, diff)
	}
	rest := strings.Replace(out, m[0], "", 1)
	for _, tag := range reTag.FindAllString(rest, -1) {
		switch tag {
		case "<details>", "</details>", "<summary>", "</summary>", "<h3>", "</h3>", "<h4>", "</h4>", "<p>", "</p>":
		default:
			t.Errorf("markup outside the code block: %s in\n%s", tag, out)
		}
	}
	// The text report shows it indented, with control characters made
	// visible.
	buf.Reset()
	r.Comparisons[0].PromptDiff = "{+a\x1b[31mred+}\n"
	if err := Render(&buf, r, FormatText, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "\x1b[31m") || !strings.Contains(buf.String(), "prompt of b against a's") {
		t.Errorf("text report:\n%q", buf.String())
	}
}
