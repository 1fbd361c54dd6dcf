package prompts

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// golden compares got with testdata/name, rewriting it under -update. On a
// mismatch it writes testdata/name.got for diffing.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if string(want) != got {
		_ = os.WriteFile(path+".got", []byte(got), 0o644)
		t.Errorf("%s differs from golden file (see %s.got; run go test -update to accept):\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

// writeRegistry writes files (paths relative to a new registry folder)
// and returns the folder.
func writeRegistry(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "prompts")
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var fixed = func() time.Time { return time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC) }

const solveFile = `# The arithmetic prompt.
name: solve
versions:
  - version: v1
    text: "Solve: {{.example.question}}"
    config: {model: openai/gpt-4o-mini, provider: openai, params: {temperature: 0}}
    note: first version
    author: alice
    created: 2026-11-01T10:00:00Z
  - version: v2 # chat
    messages:
      - {role: system, content: "You are a careful tutor."}
      - role: user
        content: |
          Solve step by step, then give the answer.
          Question: {{.example.question}}
    config: fast@production
labels:
  production: v1 # what the app serves
  staging: v2
`

const fastFile = `name: fast
versions:
  - version: v1
    model: openai/gpt-4o-mini
    provider: openai
    params: {temperature: 0, max_tokens: 256}
  - version: v2
    extends: fast@v1
    params: {max_tokens: 512}
labels:
  production: v2
`

func sampleRegistry(t *testing.T) (*Registry, string) {
	t.Helper()
	dir := writeRegistry(t, map[string]string{"solve.yaml": solveFile, "configs/fast.yaml": fastFile})
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return r, dir
}

func TestResolve(t *testing.T) {
	t.Parallel()
	r, dir := sampleRegistry(t)
	tests := []struct {
		ref, version, label, model string
		maxTokens                  any
	}{
		{"solve", "v2", "", "openai/gpt-4o-mini", 512},
		{"solve@latest", "v2", "", "openai/gpt-4o-mini", 512},
		{"solve@v1", "v1", "", "openai/gpt-4o-mini", nil},
		{"solve@production", "v1", "production", "openai/gpt-4o-mini", nil},
		{"solve@staging", "v2", "staging", "openai/gpt-4o-mini", 512},
	}
	for _, tt := range tests {
		got, err := r.Resolve(tt.ref)
		if err != nil {
			t.Errorf("Resolve(%s): %v", tt.ref, err)
			continue
		}
		if got.Version != tt.version || got.Label != tt.label || got.Config.Model != tt.model || got.Config.Params["max_tokens"] != tt.maxTokens {
			t.Errorf("Resolve(%s) = %s label %q config %+v", tt.ref, got.Ref(), got.Label, got.Config)
		}
		if got.Path != filepath.Join(dir, "solve.yaml") || !strings.HasPrefix(got.Hash, "sha256:") || len(got.Hash) != 71 || !got.Draft {
			t.Errorf("Resolve(%s): path %s hash %s draft %v", tt.ref, got.Path, got.Hash, got.Draft)
		}
	}
	v2, _ := r.Resolve("solve@v2")
	if v2.ConfigResolved.Ref() != "fast@v2" || v2.ConfigResolved.Label != "production" || v2.ConfigResolved.Extends != "fast@v1" || v2.Config.Params["temperature"] != 0 {
		t.Errorf("solve@v2 config: %+v %+v", v2.ConfigResolved, v2.Config)
	}
	msgs, err := v2.Render(map[string]any{"example": map[string]any{"question": "2+2?"}})
	if err != nil || len(msgs) != 2 || msgs[1].Content != "Solve step by step, then give the answer.\nQuestion: 2+2?\n" || msgs[0].Role != "system" {
		t.Errorf("Render = %+v, %v", msgs, err)
	}
	p, _ := r.Get("solve", "production")
	msgs, err = p.Render(map[string]any{"example": map[string]any{"question": "2+2?"}})
	if err != nil || len(msgs) != 1 || msgs[0] != (Message{Role: "user", Content: "Solve: 2+2?"}) {
		t.Errorf("Get(solve, production).Render = %+v, %v", msgs, err)
	}
	if _, err := p.Render(map[string]any{"example": map[string]any{}}); err == nil || !strings.Contains(err.Error(), "solve@v1") {
		t.Errorf("Render of a missing field: %v", err)
	}
	if got := r.List(); len(got) != 1 || got[0] != "solve" {
		t.Errorf("List = %v", got)
	}
	if got := r.Configs(); len(got) != 1 || got[0] != "fast" {
		t.Errorf("Configs = %v", got)
	}
	c, err := r.ResolveConfig("fast@production")
	if err != nil || c.Ref() != "fast@v2" || c.Config.Params["max_tokens"] != 512 || c.Config.Provider != "openai" {
		t.Errorf("ResolveConfig = %+v, %v", c, err)
	}
}

func TestLookupErrors(t *testing.T) {
	t.Parallel()
	r, _ := sampleRegistry(t)
	tests := []struct{ ref, want string }{
		{"nope", `no prompt named "nope"`},
		{"nope", "(known: solve)"},
		{"solve@v9", `solve has no version or label "v9" (versions: v1, v2; labels: production -> v1, staging -> v2)`},
		{"solve@", `after @`},
		{"a/b", `want NAME, NAME@VERSION or NAME@LABEL`},
	}
	for _, tt := range tests {
		if _, err := r.Resolve(tt.ref); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Resolve(%q) = %v, want an error containing %q", tt.ref, err, tt.want)
		}
	}
	if _, err := r.ResolveConfig("slow"); err == nil || !strings.Contains(err.Error(), `no config named "slow"`) || !strings.Contains(err.Error(), "known: fast") {
		t.Errorf("ResolveConfig(slow) = %v", err)
	}
}

func TestMissingDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "prompts")
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.List()) != 0 {
		t.Error("a missing folder lists prompts")
	}
	if _, err := r.Get("solve", ""); err == nil || !strings.Contains(err.Error(), dir+" does not exist") {
		t.Errorf("Get in a missing registry: %v", err)
	}
	// A first version creates the folder and the file.
	v, err := r.NewVersion("solve", Ref{}, Edit{Text: "Q: {{.example.q}}", Author: "alice", Now: fixed})
	if err != nil {
		t.Fatal(err)
	}
	if v.Ref() != "solve@v1" || v.Draft {
		t.Errorf("new prompt: %s draft %v", v.Ref(), v.Draft)
	}
	if _, err := Load(dir); err != nil {
		t.Errorf("the new file does not load: %v", err)
	}
}

func TestRefString(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"solve", "solve@v1", "solve@production", "a.b_c-d@x"} {
		r, err := ParseRef(s)
		if err != nil || r.String() != s {
			t.Errorf("ParseRef(%q) = %+v, %v; String %q", s, r, err, r.String())
		}
	}
}

// TestLoadErrors: every rule of the file format, its error naming the
// file, the line, the prompt and the version.
func TestLoadErrors(t *testing.T) {
	t.Parallel()
	v1 := "name: solve\nversions:\n  - version: v1\n"
	tests := []struct {
		name  string
		files map[string]string
		want  []string // substrings; "FILE" is the file's path
	}{
		{"unknown top key", map[string]string{"solve.yaml": "name: solve\nversion: []\n"}, []string{"FILE:2:1: solve: version: unknown field (known: history, labels, name, versions)"}},
		{"unknown version key", map[string]string{"solve.yaml": v1 + "    txt: hi\n"}, []string{"FILE:4:5: solve@v1: txt: unknown field"}},
		{"unknown message key", map[string]string{"solve.yaml": v1 + "    messages: [{role: user, content: hi, name: x}]\n"}, []string{"FILE:4:42:", "solve@v1: messages[0].name: unknown field (known: content, role)"}},
		{"unknown config key", map[string]string{"solve.yaml": v1 + "    text: hi\n    config: {modle: x}\n"}, []string{"FILE:5:14: solve@v1: config.modle: unknown field (known: model, params, provider)"}},
		{"text and messages", map[string]string{"solve.yaml": v1 + "    text: hi\n    messages: [{role: user, content: hi}]\n"}, []string{"FILE:5:15: solve@v1: both text and messages"}},
		{"neither", map[string]string{"solve.yaml": v1 + "    note: x\n"}, []string{"FILE:3:5: solve@v1: neither text nor messages"}},
		{"bad role", map[string]string{"solve.yaml": v1 + "    messages: [{role: robot, content: hi}]\n"}, []string{"FILE:4:23: solve@v1: messages[0].role: \"robot\" is not a role: want one of system, user, assistant, developer"}},
		{"template", map[string]string{"solve.yaml": v1 + "    text: \"Q: {{.example.q\"\n"}, []string{"FILE:4:11: solve@v1: text: template solve@v1: line 1, column 4: unclosed action"}},
		{"message template", map[string]string{"solve.yaml": v1 + "    messages:\n      - role: user\n        content: \"{{nope}}\"\n"}, []string{"FILE:6:18: solve@v1: messages[0].content: template solve@v1 message 1:", `function "nope" not defined`}},
		{"duplicate version", map[string]string{"solve.yaml": v1 + "    text: a\n  - version: v1\n    text: b\n"}, []string{"FILE:5:14: solve@v1: version: duplicate version v1 (also on line 3)"}},
		{"label to nothing", map[string]string{"solve.yaml": v1 + "    text: a\nlabels:\n  production: v7\n"}, []string{"FILE:6:3: solve: labels.production: label production points at solve@v7, which is not a version of the file (versions: v1)"}},
		{"label like a version", map[string]string{"solve.yaml": v1 + "    text: a\nlabels:\n  v2: v1\n"}, []string{"FILE:6:3: solve: labels.v2: label \"v2\" is named like a version"}},
		{"label named as a version", map[string]string{"solve.yaml": "name: solve\nversions:\n  - {version: first, text: a}\nlabels:\n  first: first\n"}, []string{"FILE:5:3: solve: labels.first: label \"first\" is named like a version"}},
		{"label latest", map[string]string{"solve.yaml": v1 + "    text: a\nlabels:\n  latest: v1\n"}, []string{"FILE:6:3: solve: labels.latest: \"latest\" is reserved"}},
		{"version latest", map[string]string{"solve.yaml": "name: solve\nversions:\n  - {version: latest, text: a}\n"}, []string{"FILE:3:15: solve: versions[0].version: \"latest\" is reserved"}},
		{"name mismatch", map[string]string{"solve.yaml": "name: answer\nversions:\n  - {version: v1, text: a}\n"}, []string{"FILE:1:7: solve: name: the prompt is named \"answer\" but its file is FILE: the name must be the file's base name (solve)"}},
		{"no name", map[string]string{"solve.yaml": "versions:\n  - {version: v1, text: a}\n"}, []string{"FILE:1:1: solve: no name: want name: solve"}},
		{"empty file", map[string]string{"solve.yaml": ""}, []string{"FILE: empty file"}},
		{"only comments", map[string]string{"solve.yaml": "# nothing yet\n"}, []string{"FILE: empty file"}},
		{"no versions", map[string]string{"solve.yaml": "name: solve\nversions: []\n"}, []string{"FILE:2:11: solve: versions: no versions"}},
		{"not yaml", map[string]string{"solve.yaml": "name: solve\nversions: [\n"}, []string{"FILE:", "not valid YAML"}},
		{"two documents", map[string]string{"solve.yaml": "name: solve\nversions: [{version: v1, text: a}]\n---\nname: x\n"}, []string{"FILE:3: more than one YAML document"}},
		{"text not a string", map[string]string{"solve.yaml": v1 + "    text: [a]\n"}, []string{"FILE:4:11: solve@v1: text: expected a string, got a list"}},
		{"alias", map[string]string{"solve.yaml": "name: solve\nversions:\n  - {version: v1, text: &t a}\n  - {version: v2, text: *t}\n"}, []string{"FILE:4:25: solve: aliases"}},
		{"bad hash", map[string]string{"solve.yaml": v1 + "    text: a\n    hash: md5:x\n"}, []string{"FILE:5:11: solve@v1: hash: \"md5:x\" is not a content hash"}},
		{"edited", map[string]string{"solve.yaml": v1 + "    text: a\n    hash: sha256:0000000000000000000000000000000000000000000000000000000000000000\n"}, []string{
			"FILE:5:11: solve@v1 was edited after it was published (hash sha256:000000000000… recorded, content is sha256:",
			"…): versions are immutable, add one with `gavel prompts new solve --from solve@v1`"}},
		{"unknown config", map[string]string{"solve.yaml": v1 + "    text: a\n    config: slow@production\n"}, []string{"FILE:5:13: solve@v1: config slow@production: no config named \"slow\""}},
		{"unknown config label", map[string]string{"solve.yaml": v1 + "    text: a\n    config: fast@prod\n", "configs/fast.yaml": "name: fast\nversions: [{version: v1, model: m}]\n"}, []string{"FILE:5:13: solve@v1: config fast@prod: fast has no version or label \"prod\" (versions: v1; labels: none)"}},
		{"config cycle", map[string]string{
			"configs/a.yaml": "name: a\nversions: [{version: v1, extends: b}]\n",
			"configs/b.yaml": "name: b\nversions: [{version: v1, extends: a@v1}]\n",
		}, []string{"a.yaml:2:35: a@v1: extends b: a cycle of config references: a@v1 -> b@v1 -> a@v1", "b.yaml:2:35: b@v1: extends a@v1: a cycle of config references: b@v1 -> a@v1 -> b@v1"}},
		{"config without model", map[string]string{"configs/fast.yaml": "name: fast\nversions: [{version: v1, params: {t: 1}}]\n"}, []string{"fast.yaml:2:12: fast@v1: no model"}},
		{"config unknown key", map[string]string{"configs/fast.yaml": "name: fast\nversions: [{version: v1, model: m, temperature: 0}]\n"}, []string{"fast.yaml:2:36: fast@v1: temperature: unknown field (known: author, created, extends, hash, model, note, params, provider, version)"}},
		{"config edited", map[string]string{"configs/fast.yaml": "name: fast\nversions: [{version: v1, model: m, hash: \"sha256:0000000000000000000000000000000000000000000000000000000000000000\"}]\n"}, []string{"fast.yaml:2:42: fast@v1 was edited after it was published", "add one with `gavel prompts config new fast --from fast@v1`"}},
		{"params not finite", map[string]string{"configs/fast.yaml": "name: fast\nversions: [{version: v1, model: m, params: {t: .inf}}]\n"}, []string{"fast.yaml:2:48: fast@v1: params.t: .inf is not a finite number"}},
		{"bad created", map[string]string{"solve.yaml": v1 + "    text: a\n    created: yesterday\n"}, []string{"FILE:5:14: solve@v1: created: \"yesterday\" is not a time"}},
		{"history unknown key", map[string]string{"solve.yaml": v1 + "    text: a\nhistory:\n  - {label: p, version: v1, when: x}\n"}, []string{"FILE:6:29: solve: history[0].when: unknown field"}},
		{"yaml and yml", map[string]string{"solve.yaml": v1 + "    text: a\n", "solve.yml": v1 + "    text: b\n"}, []string{"solve.yml: solve is also defined by"}},
		{"duplicate key", map[string]string{"solve.yaml": v1 + "    text: a\n    text: b\n"}, []string{"FILE:5:5: solve@v1: text: given twice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := writeRegistry(t, tt.files)
			_, err := Load(dir)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			for _, w := range tt.want {
				w = strings.ReplaceAll(w, "FILE", filepath.Join(dir, "solve.yaml"))
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error:\n%v\nwant it to contain:\n%s", err, w)
				}
			}
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Errorf("error %T is not a *FileError", err)
			}
		})
	}
}

func TestHashMismatchError(t *testing.T) {
	t.Parallel()
	r, dir := sampleRegistry(t)
	if _, err := r.MoveLabel("solve", "v2", "production", Move{Now: fixed}); err != nil { // stamps the hashes
		t.Fatal(err)
	}
	path := filepath.Join(dir, "solve.yaml")
	b, _ := os.ReadFile(path)
	edited := strings.Replace(string(b), "Solve: {{", "Solve this: {{", 1)
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir)
	mm, ok := errors.AsType[*HashMismatchError](err)
	if !ok {
		t.Fatalf("Load of an edited version: %v", err)
	}
	v1, _ := r.Resolve("solve@v1")
	want := fmt.Sprintf("%s:10:11: solve@v1 was edited after it was published (hash %s recorded, content is %s): versions are immutable, add one with `gavel prompts new solve --from solve@v1`",
		path, ShortHash(v1.Hash), ShortHash(mm.Content))
	if err.Error() != want || mm.Recorded != v1.Hash || mm.Name != "solve" || mm.Version != "v1" {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
}

func TestContentHash(t *testing.T) {
	t.Parallel()
	// The canonical JSON is the contract: the same content hashes the same
	// whatever the YAML style, the metadata or the key order.
	a := &Version{Text: "Q: {{.example.q}}", Config: &Config{Model: "m", Params: map[string]any{"b": 1, "a": 0.5}}}
	if got, want := string(a.contentJSON()), `{"text":"Q: {{.example.q}}","config":{"model":"m","params":{"a":0.5,"b":1}}}`; got != want {
		t.Errorf("canonical JSON = %s, want %s", got, want)
	}
	dir := writeRegistry(t, map[string]string{
		"x.yaml": "name: x\nversions:\n  - {version: v1, text: \"Q: {{.example.q}}\", config: {params: {b: 1, a: 0.5}, model: m}, note: n}\n  - version: v2\n    note: other\n    text: 'Q: {{.example.q}}'\n    config:\n      model: m\n      params:\n        a: 0.5\n        b: 1.0\n",
	})
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	x1, _ := r.Resolve("x@v1")
	x2, _ := r.Resolve("x@v2")
	if x1.Hash != x2.Hash || x1.Hash != a.contentHash() {
		t.Errorf("hashes %s, %s, %s differ", x1.Hash, x2.Hash, a.contentHash())
	}
	m := &Version{Messages: []Message{{Role: "user", Content: "Q: {{.example.q}}"}}, Config: a.Config}
	if m.contentHash() == a.contentHash() {
		t.Error("a text and a chat prompt hash the same")
	}
	ref := &Version{Text: a.Text, ConfigRef: "fast@v1"}
	if got := string(ref.contentJSON()); got != `{"text":"Q: {{.example.q}}","config":"fast@v1"}` {
		t.Errorf("canonical JSON of a config reference = %s", got)
	}
}

// TestWrites: new versions and label moves, the file after each as a
// golden file; comments and key order survive.
func TestWrites(t *testing.T) {
	t.Parallel()
	r, dir := sampleRegistry(t)
	v3, err := r.NewVersion("solve", Ref{Name: "solve", Ref: "v1"}, Edit{Text: "Solve carefully: {{.example.question}}", Note: "more care", Author: "bob", Now: fixed})
	if err != nil {
		t.Fatal(err)
	}
	if v3.Ref() != "solve@v3" || v3.Config.Model != "openai/gpt-4o-mini" || v3.Author != "bob" || !v3.Created.Equal(fixed()) || v3.Draft {
		t.Errorf("new version: %+v", v3)
	}
	v4, err := r.NewVersion("solve", Ref{Name: "solve", Ref: "staging"}, Edit{ConfigRef: "fast@v1", Now: fixed})
	if err != nil || len(v4.Messages) != 2 || v4.ConfigResolved.Ref() != "fast@v1" {
		t.Fatalf("new version with a config: %+v, %v", v4, err)
	}
	v5, err := r.NewVersion("solve", Ref{}, Edit{Messages: []Message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "{{.example.question}}"}}, Config: &Config{Model: "m", Params: map[string]any{"temperature": 0.2, "stop": []any{"\n"}}}, Now: fixed})
	if err != nil || v5.Version != "v5" {
		t.Fatalf("new version from the latest: %+v, %v", v5, err)
	}
	if _, err := r.NewVersion("solve", Ref{Name: "solve", Ref: "v1"}, Edit{Now: fixed}); err == nil || !strings.Contains(err.Error(), "same content as solve@v1") {
		t.Errorf("a copy with no change: %v", err)
	}
	if _, err := r.NewVersion("solve", Ref{}, Edit{Messages: []Message{{Role: "robot", Content: "x"}}, Now: fixed}); err == nil || !strings.Contains(err.Error(), `"robot" is not a role`) {
		t.Errorf("a bad role: %v", err)
	}
	if _, err := r.NewVersion("solve", Ref{}, Edit{Text: "{{", Now: fixed}); err == nil || !strings.Contains(err.Error(), "solve@v6: text: template solve@v6") {
		t.Errorf("a bad template: %v", err)
	}
	if _, err := r.NewVersion("solve", Ref{}, Edit{Text: "x", ConfigRef: "slow", Now: fixed}); err == nil || !strings.Contains(err.Error(), `no config named "slow"`) {
		t.Errorf("an unknown config: %v", err)
	}
	move, err := r.MoveLabel("solve", "v3", "production", Move{By: "carol", Run: "run-42", Note: "better on gsm8k", Now: fixed})
	if err != nil {
		t.Fatal(err)
	}
	if move != (LabelMove{Label: "production", Version: "v3", Previous: "v1", At: fixed(), By: "carol", Run: "run-42", Note: "better on gsm8k"}) {
		t.Errorf("move = %+v", move)
	}
	if _, err := r.MoveLabel("solve", "staging", "canary", Move{By: "carol", Now: fixed}); err != nil {
		t.Fatal(err)
	}
	if m, err := r.MoveLabel("solve", "v3", "production", Move{Now: fixed}); err != nil || !m.At.IsZero() || m.Previous != "v3" {
		t.Errorf("a move to where the label is: %+v, %v", m, err)
	}
	for _, tt := range []struct{ ref, label, want string }{
		{"v9", "production", `no version or label "v9"`},
		{"v1", "latest", `"latest" is reserved`},
		{"v1", "v2", `named like a version`},
		{"v1", "a/b", `not a valid label`},
	} {
		if _, err := r.MoveLabel("solve", tt.ref, tt.label, Move{Now: fixed}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("MoveLabel(%s, %s) = %v, want %q", tt.ref, tt.label, err, tt.want)
		}
	}
	got, _ := os.ReadFile(filepath.Join(dir, "solve.yaml"))
	golden(t, "writes.yaml", string(got))
	for _, c := range []string{"# The arithmetic prompt.", "# chat", "# what the app serves"} {
		if !strings.Contains(string(got), c) {
			t.Errorf("comment %q did not survive the writes", c)
		}
	}
	// What was written is what a new Load reads.
	again, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := again.History("solve")
	if len(h) != 2 || h[0] != move {
		t.Errorf("history = %+v", h)
	}
	p, _ := again.Prompt("solve")
	if p.Labels["production"] != "v3" || p.Labels["canary"] != "v2" || len(p.Versions) != 5 {
		t.Errorf("after reload: labels %v, %d versions", p.Labels, len(p.Versions))
	}
	for _, v := range p.Versions {
		if v.Draft {
			t.Errorf("%s is still a draft after writes", v.Version)
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestCommentSurvivesMoveLabel(t *testing.T) {
	t.Parallel()
	r, dir := sampleRegistry(t)
	if _, err := r.MoveLabel("solve", "v2", "production", Move{By: "alice", Now: fixed}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "solve.yaml"))
	s := string(b)
	if !strings.Contains(s, "production: v2 # what the app serves") {
		t.Errorf("the label's comment did not survive:\n%s", s)
	}
	if !strings.HasPrefix(s, "# The arithmetic prompt.\nname: solve\n") {
		t.Errorf("the head comment or key order did not survive:\n%s", s)
	}
	if !strings.Contains(s, "  - {label: production, version: v2, previous: v1, at: '2026-11-02T09:00:00Z', by: alice, run: \"\", note: \"\"}\n") {
		t.Errorf("history entry:\n%s", s)
	}
}

// TestConcurrentUpdaters: writers that loaded the same file race; each
// write either lands whole or is refused as a conflict, and writers that
// reload and retry lose nothing.
func TestConcurrentUpdaters(t *testing.T) {
	t.Parallel()
	_, dir := sampleRegistry(t)
	const writers, each = 4, 3
	var wg sync.WaitGroup
	conflicts := make(chan int, writers)
	for w := range writers {
		wg.Go(func() {
			n := 0
			for i := 0; i < each; {
				r, err := Load(dir)
				if err != nil {
					t.Error(err)
					return
				}
				_, err = r.NewVersion("solve", Ref{}, Edit{Text: fmt.Sprintf("writer %d, version %d: {{.example.question}}", w, i), Now: fixed})
				if _, ok := errors.AsType[*ConflictError](err); ok {
					n++
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				i++
			}
			conflicts <- n
		})
	}
	wg.Wait()
	close(conflicts)
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := r.Prompt("solve")
	if len(p.Versions) != 2+writers*each {
		t.Errorf("%d versions, want %d", len(p.Versions), 2+writers*each)
	}
	seen := map[string]bool{}
	for _, v := range p.Versions {
		if seen[v.Text] && v.Text != "" {
			t.Errorf("text %q written twice", v.Text)
		}
		seen[v.Text] = true
	}
	for w := range writers {
		for i := range each {
			if !seen[fmt.Sprintf("writer %d, version %d: {{.example.question}}", w, i)] {
				t.Errorf("writer %d's version %d was lost", w, i)
			}
		}
	}
}

// TestStaleRegistryRefused: a registry loaded before another writer
// changed the file refuses to write over it.
func TestStaleRegistryRefused(t *testing.T) {
	t.Parallel()
	a, dir := sampleRegistry(t)
	b, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.MoveLabel("solve", "v2", "production", Move{Now: fixed}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "solve.yaml"))
	_, err = a.MoveLabel("solve", "v1", "staging", Move{Now: fixed})
	if ce, ok := errors.AsType[*ConflictError](err); !ok || ce.Path != filepath.Join(dir, "solve.yaml") || !strings.Contains(err.Error(), "changed since the registry was loaded") {
		t.Fatalf("a stale write: %v", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "solve.yaml"))
	if string(before) != string(after) {
		t.Error("a refused write changed the file")
	}
	// A new prompt that another writer created meanwhile is refused too.
	c, _ := Load(dir)
	if _, err := a.NewVersion("fresh", Ref{}, Edit{Text: "x", Now: fixed}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.NewVersion("fresh", Ref{}, Edit{Text: "y", Now: fixed}); err == nil {
		t.Error("creating a prompt another writer created: no error")
	}
}

func TestDiff(t *testing.T) {
	t.Parallel()
	r, _ := sampleRegistry(t)
	if _, err := r.NewVersion("solve", Ref{Name: "solve", Ref: "v2"}, Edit{
		Messages: []Message{{Role: "system", Content: "You are a patient tutor."}, {Role: "user", Content: "Solve step by step, then give the final answer.\nQuestion: {{.example.question}}\n"}},
		Config:   &Config{Model: "openai/gpt-4o", Provider: "openai", Params: map[string]any{"temperature": 0.2, "max_tokens": 512}},
		Now:      fixed,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.NewVersion("solve", Ref{Name: "solve", Ref: "v1"}, Edit{Text: "Solve this carefully: {{.example.question}}", Now: fixed}); err != nil {
		t.Fatal(err)
	}
	get := func(ref string) *Resolved {
		v, err := r.Resolve(ref)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	var out strings.Builder
	for _, pair := range [][2]string{{"solve@v1", "solve@v4"}, {"solve@v2", "solve@v3"}, {"solve@v1", "solve@v2"}} {
		d := Compare(get(pair[0]), get(pair[1]))
		fmt.Fprintf(&out, "=== %s %s\n%s=== word diff\n%s", pair[0], pair[1], d, d.WordDiff())
	}
	if d := Compare(get("solve@v1"), get("solve@production")); !d.Empty() || d.String() != "" {
		t.Errorf("a version against itself: %q", d)
	}
	golden(t, "diff.txt", out.String())
	if got := wordDiff("the old answer", "the new answer"); plainWords(got) != "the [-old-]{+new+} answer" {
		t.Errorf("wordDiff = %q", plainWords(got))
	}
}

// FuzzLoad: no file, however malformed, makes Load panic; a file that
// loads renders its versions' text and survives a label move.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(solveFile))
	f.Add([]byte("name: solve\nversions: [{version: v1, text: a, config: fast}]\n"))
	f.Add([]byte("name: solve\nversions:\n  - {version: v1, messages: [{role: user, content: x}], config: {params: {a: [1, {b: null}]}}}\nlabels: {p: v1}\nhistory: [{label: p, version: v1, at: 2026-01-01}]\n"))
	f.Add([]byte("name: solve\nversions: [{version: v1, text: &a x}, {version: v2, text: *a}]\n"))
	f.Add([]byte("{"))
	f.Add([]byte("name: solve\nversions: [{version: v1, text: x, hash: \"sha256:00\"}]\n---\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "solve.yaml"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "fast.yaml"), []byte("name: fast\nversions: [{version: v1, text: x}]\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := Load(dir)
		if err != nil {
			return
		}
		p, err := r.Prompt("solve")
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range p.Versions {
			if _, err := r.Resolve("solve@" + v.Version); err != nil {
				t.Fatalf("a loaded version does not resolve: %v", err)
			}
		}
		if _, err := r.MoveLabel("solve", "latest", "fuzz", Move{Now: fixed}); err != nil {
			if _, ok := errors.AsType[*FileError](err); !ok && !strings.Contains(err.Error(), "label") {
				t.Fatalf("a label move on a file that loaded: %v", err)
			}
			return
		}
		if _, err := Load(dir); err != nil {
			t.Fatalf("the file does not load after a label move: %v", err)
		}
	})
}
