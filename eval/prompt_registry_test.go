package eval_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gavel-eval/gavel/eval"
	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/prompts"
)

// registryFiles is a registry of two prompts (solve: v1 text, v2 chat
// messages, production -> v1; grade: a judge prompt) and a model config,
// with a prompt file of each kind, beside the spec.
func registryFiles(baseURL string) map[string]string {
	return map[string]string{
		"prompts/solve.yaml": `name: solve
versions:
  - version: v1
    text: "v1 solve {{.example.a}} + {{.example.b}}"
    config: {model: local/m1, params: {temperature: 0.25}}
  - version: v2
    messages:
      - {role: system, content: "v2 system"}
      - {role: user, content: "v2 solve {{.example.a}} + {{.example.b}} ({{.variant.name}})"}
labels:
  production: v1
`,
		"prompts/grade.yaml": `name: grade
versions:
  - version: v1
    text: "grade {{.output}} against {{.expected}}: answer with a score from 0 to 1"
`,
		"prompts/configs/m2.yaml": `name: m2
versions:
  - version: v1
    model: local/m2
    params: {temperature: 0.5, max_tokens: 64}
labels:
  stable: v1
`,
		"p.txt":  "file solve {{.example.a}} + {{.example.b}}",
		"m.yaml": "- {role: system, content: file system}\n- {role: user, content: \"file messages {{.example.a}} + {{.example.b}}\"}\n",
		"gavel.yaml": `name: reg
retry: {base_delay: 1ms, max_delay: 5ms}
dataset: {path: data.jsonl, id: "{{.id}}"}
providers:
  local: {base_url: "` + baseURL + `", api_key_env: TEST_KEY}
variants:
  - {name: prod, prompt: solve@production}
  - {name: cand, prompt: solve@v2, config: m2@stable}
  - {name: latest, prompt: solve, model: local/m3, params: {temperature: 1}}
  - {name: byref, prompt: {ref: solve@v1}, config: m2}
  - {name: text-file, prompt: {file: p.txt}, model: local/m1}
  - {name: msg-file, prompt: {file: m.yaml}, model: local/m1}
  - {name: word, prompt: Hello, model: local/m1}
chain:
  - {name: solve, kind: llm}
judges:
  - {name: graded, type: llm_rubric, rubric: unused, model: local/judge, prompt: grade@v1, expected: "{{.example.answer}}"}
`,
	}
}

func TestRegistryPromptsInARun(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string][]string{} // model -> rendered messages, role: content
	srv := newFakeOpenAI(t, func(req chatRequest) fakeReply {
		var msgs []string
		for _, m := range req.Messages {
			msgs = append(msgs, m.Role+": "+m.Content)
		}
		mu.Lock()
		seen[req.Model] = append(seen[req.Model], strings.Join(msgs, " | "))
		mu.Unlock()
		if req.Model == "judge" {
			return fakeReply{Content: `{"score": 0.8, "reason": "fine"}`}
		}
		return fakeReply{Content: "#### 3"}
	})
	files := registryFiles(srv.BaseURL())
	spec := files["gavel.yaml"]
	delete(files, "gavel.yaml")
	files["data.jsonl"] = `{"id": "e1", "a": 1, "b": 2, "answer": "3"}` + "\n"
	sr := newSpecRun(t, spec, files)
	run := sr.mustRun(t.Context(), eval.Options{Getenv: testGetenv, Concurrency: 1})

	reg, err := prompts.Load(filepath.Join(sr.dir, "prompts"))
	if err != nil {
		t.Fatal(err)
	}
	hash := func(ref string) string {
		r, err := reg.Resolve(ref)
		if err != nil {
			t.Fatal(err)
		}
		return r.Hash
	}
	type want struct {
		model, name, version, label, hash, source string
		temperature                               float64
	}
	wants := map[string]want{
		"prod":   {"local/m1", "solve", "v1", "production", hash("solve@v1"), "registry", 0.25},
		"cand":   {"local/m2", "solve", "v2", "", hash("solve@v2"), "registry", 0.5},
		"latest": {"local/m3", "solve", "v2", "", hash("solve@v2"), "registry", 1},
		"byref":  {"local/m2", "solve", "v1", "", hash("solve@v1"), "registry", 0.5},
	}
	for _, v := range run.manifest.Variants {
		w, ok := wants[v.Name]
		if !ok {
			continue
		}
		p := v.Prompt
		if v.Model != w.model || p.Name != w.name || p.Version != w.version || p.Label != w.label || p.Hash != w.hash || p.Source != w.source {
			t.Errorf("variant %s: model %s, prompt %+v; want %+v", v.Name, v.Model, p, w)
		}
		if !strings.Contains(string(v.Params), `"temperature":`) {
			t.Errorf("variant %s: params %s", v.Name, v.Params)
		}
	}
	for _, v := range run.manifest.Variants {
		if v.Name == "cand" && (v.Config == nil || v.Config.Name != "m2" || v.Config.Version != "v1" || v.Config.Label != "stable" || v.Config.File != filepath.Join("prompts", "configs", "m2.yaml")) {
			t.Errorf("cand's config: %+v", v.Config)
		}
		if v.Name == "text-file" && (v.Prompt.Source != "file" || v.Prompt.File != "p.txt") {
			t.Errorf("text-file's prompt: %+v", v.Prompt)
		}
		if v.Name == "word" && v.Prompt.Source != "" {
			t.Errorf("a one-word prompt that names no registry prompt is inline: %+v", v.Prompt)
		}
	}
	// Every row carries its variant's prompt.
	for _, r := range run.results {
		w, reg := wants[r.Variant]
		got := []string{deref(r.PromptName), deref(r.PromptVersion), deref(r.PromptLabel), deref(r.PromptHash)}
		label := w.label
		if label == "" {
			label = "<nil>"
		}
		if reg && !slices.Equal(got, []string{w.name, w.version, label, w.hash}) {
			t.Errorf("row of %s: prompt columns %q, want %+v", r.Variant, got, w)
		}
		if !reg && (r.PromptName != nil || r.PromptHash == nil) {
			t.Errorf("row of %s: prompt columns %q: want no name, a hash", r.Variant, got)
		}
		if r.Status != results.StatusOK {
			t.Errorf("row of %s: %s %s", r.Variant, r.Status, deref(r.Error))
		}
	}
	// What went over the wire is the registry's text, rendered.
	mu.Lock()
	defer mu.Unlock()
	for model, want := range map[string][]string{
		"m1": {"user: v1 solve 1 + 2", "user: file solve 1 + 2", "system: file system | user: file messages 1 + 2", "user: Hello"},
		"m2": {"system: v2 system | user: v2 solve 1 + 2 (cand)", "user: v1 solve 1 + 2"},
		"m3": {"system: v2 system | user: v2 solve 1 + 2 (latest)"},
	} {
		got := slices.Sorted(slices.Values(seen[model]))
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("model %s got %q, want %q", model, got, want)
		}
	}
	for _, j := range seen["judge"] {
		if !strings.HasPrefix(j, "user: grade #### 3 against 3") {
			t.Errorf("judge prompt %q, want the registry's grade@v1 rendered", j)
		}
	}
	for _, sc := range run.scores {
		if sc.Status != results.ScoreOK {
			t.Errorf("score of %s: %s %s", sc.Variant, sc.Status, deref(sc.Error))
		}
	}
	if len(seen["judge"]) != 7 {
		t.Errorf("%d judge calls, want 7", len(seen["judge"]))
	}
	// The manifest pins what was resolved, so the stored spec reads back
	// the same from anywhere, whatever the registry says now.
	if len(run.manifest.Prompts) != 7 || len(run.manifest.Configs) != 2 {
		t.Errorf("pins: %d prompts, %d configs, want 7 and 2", len(run.manifest.Prompts), len(run.manifest.Configs))
	}
	if err := os.RemoveAll(filepath.Join(sr.dir, "prompts")); err != nil {
		t.Fatal(err)
	}
	spec2, err := eval.ParseSpec([]byte(run.manifest.Spec), "elsewhere/gavel.yaml", eval.LoadOptions{Pinned: eval.PinsOf(run.manifest)})
	if err != nil {
		t.Fatalf("the stored spec with its pins: %v", err)
	}
	if p := spec2.Variants[0].Prompt; p.Version != "v1" || p.Label != "production" || p.Messages[0].Content != "v1 solve {{.example.a}} + {{.example.b}}" {
		t.Errorf("pinned prod prompt: %+v", p)
	}
	if spec2.Variants[1].Model != "local/m2" {
		t.Errorf("pinned cand model %q", spec2.Variants[1].Model)
	}
}

// Bad references are errors naming the spec field, the prompt and what
// the registry has, before any call.
func TestRegistryPromptErrors(t *testing.T) {
	t.Parallel()
	files := registryFiles("http://127.0.0.1:1/v1")
	delete(files, "gavel.yaml")
	files["data.jsonl"] = `{"id": "e1", "a": 1, "b": 2}` + "\n"
	for _, tc := range []struct {
		name, variant, want string
		extra               map[string]string
	}{
		{"unknown prompt", `{name: a, prompt: solv@v1, model: local/m1}`, `variants[0].prompt: prompt solv@v1: `, nil},
		{"unknown version", `{name: a, prompt: solve@v9, model: local/m1}`, `prompt solve@v9: `, nil},
		{"unknown label", `{name: a, prompt: solve@staging, model: local/m1}`, `prompt solve@staging: `, nil},
		{"unknown config", `{name: a, prompt: solve@v1, config: m3@stable}`, `variants[0].config: config m3@stable: `, nil},
		{"ref and file", `{name: a, prompt: {ref: solve, file: p.txt}, model: local/m1}`, `variants[0].prompt: set exactly one of ref`, nil},
		{"missing file", `{name: a, prompt: {file: nope.txt}, model: local/m1}`, `variants[0].prompt.file: prompt file: `, nil},
		{"bad messages file", `{name: a, prompt: {file: bad.yaml}, model: local/m1}`, `prompt file bad.yaml: message 1: role "robot"`, map[string]string{"bad.yaml": "- {role: robot, content: hi}\n"}},
		{"bad template in a file", `{name: a, prompt: {file: bad.txt}, model: local/m1}`, `prompt file bad.txt: `, map[string]string{"bad.txt": "hi {{.example.a"}},
		{"edited version", `{name: a, prompt: solve@v1, model: local/m1}`, `edited after it was published`, map[string]string{"prompts/solve.yaml": `name: solve
versions:
  - version: v1
    text: "edited"
    hash: sha256:0000000000000000000000000000000000000000000000000000000000000000
`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			all := map[string]string{}
			for k, v := range files {
				all[k] = v
			}
			for k, v := range tc.extra {
				all[k] = v
			}
			spec := "name: e\ndataset: {path: data.jsonl, id: \"{{.id}}\"}\nproviders:\n  local: {base_url: \"http://127.0.0.1:1/v1\"}\nvariants:\n  - " + tc.variant + "\n"
			sr := newSpecRun(t, spec, all)
			_, err := eval.LoadSpec(sr.path, eval.LoadOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "gavel.yaml") {
				t.Fatalf("err %v, want it to name gavel.yaml and say %q", err, tc.want)
			}
		})
	}
	// No registry: a reference is an error, a word is an inline prompt.
	sr := newSpecRun(t, "name: e\ndataset: {path: data.jsonl}\nvariants:\n  - {name: a, prompt: solve@v1, model: offline/calc}\n", map[string]string{"data.jsonl": "{}\n"})
	if _, err := eval.LoadSpec(sr.path, eval.LoadOptions{}); err == nil || !strings.Contains(err.Error(), "no prompt registry at") {
		t.Fatalf("no registry: %v", err)
	}
	sr = newSpecRun(t, "name: e\ndataset: {path: data.jsonl}\nvariants:\n  - {name: a, prompt: solve, model: offline/calc}\n", map[string]string{"data.jsonl": "{}\n"})
	if s, err := eval.LoadSpec(sr.path, eval.LoadOptions{}); err != nil || s.Variants[0].Prompt.Messages[0].Content != "solve" {
		t.Fatalf("a word with no registry: %v", err)
	}
	// A folder named prompts that is no registry leaves one-word inline
	// prompts alone, and names itself in the error of a reference.
	sr = newSpecRun(t, "name: e\ndataset: {path: data.jsonl}\nvariants:\n  - {name: a, prompt: Hello, model: offline/calc}\n", map[string]string{"data.jsonl": "{}\n", "prompts/notes.yaml": "just: notes\n"})
	if s, err := eval.LoadSpec(sr.path, eval.LoadOptions{}); err != nil || s.Variants[0].Prompt.Messages[0].Content != "Hello" {
		t.Fatalf("a word beside a folder that is no registry: %v", err)
	}
	sr = newSpecRun(t, "name: e\ndataset: {path: data.jsonl}\nvariants:\n  - {name: a, prompt: Hello@v1, model: offline/calc}\n", map[string]string{"data.jsonl": "{}\n", "prompts/notes.yaml": "just: notes\n"})
	if _, err := eval.LoadSpec(sr.path, eval.LoadOptions{}); err == nil || !strings.Contains(err.Error(), "notes.yaml") {
		t.Fatalf("a reference into a folder that is no registry: %v", err)
	}
	// prompts_dir moves the registry.
	moved := map[string]string{"data.jsonl": "{}\n"}
	for k, v := range files {
		if strings.HasPrefix(k, "prompts/") {
			moved["reg/"+strings.TrimPrefix(k, "prompts/")] = v
		}
	}
	sr = newSpecRun(t, "name: e\nprompts_dir: reg\ndataset: {path: data.jsonl}\nvariants:\n  - {name: a, prompt: solve@production, model: offline/calc}\n", moved)
	if s, err := eval.LoadSpec(sr.path, eval.LoadOptions{}); err != nil || s.Variants[0].Prompt.Version != "v1" {
		t.Fatalf("prompts_dir: %v", err)
	}
}

// A published version edited while the run is going fails the run at its
// end, as a dataset rewritten under it does; a label moved meanwhile
// does not (the run used the version it resolved).
func TestRegistryPromptChangedDuringRun(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(old string) string
		fails  bool
	}{
		{"label moved", func(old string) string { return strings.Replace(old, "production: v1", "production: v2", 1) }, false},
		{"version edited", func(old string) string { return strings.Replace(old, "v1 solve", "v1 SOLVE", 1) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var (
				sr   *specRun
				srv  *fakeOpenAI
				once sync.Once
			)
			srv = newFakeOpenAI(t, func(req chatRequest) fakeReply {
				once.Do(func() {
					path := filepath.Join(sr.dir, "prompts", "solve.yaml")
					b, err := os.ReadFile(path)
					if err == nil {
						err = os.WriteFile(path, []byte(tc.change(string(b))), 0o644)
					}
					if err != nil {
						srv.violation("rewriting the prompt: %v", err)
					}
				})
				return fakeReply{Content: "#### 3"}
			})
			files := registryFiles(srv.BaseURL())
			delete(files, "gavel.yaml")
			files["data.jsonl"] = `{"id": "e1", "a": 1, "b": 2}` + "\n" + `{"id": "e2", "a": 1, "b": 2}` + "\n"
			spec := "name: e\ndataset: {path: data.jsonl, id: \"{{.id}}\"}\nproviders:\n  local: {base_url: \"" + srv.BaseURL() + "\", api_key_env: TEST_KEY}\nvariants:\n  - {name: a, prompt: solve@production}\n"
			sr = newSpecRun(t, spec, files)
			_, err := sr.run(t.Context(), eval.Options{Getenv: testGetenv, Concurrency: 1})
			if tc.fails && (err == nil || !strings.Contains(err.Error(), "changed during the run")) {
				t.Fatalf("run: %v, want it to fail saying the prompt changed", err)
			}
			if !tc.fails && err != nil {
				t.Fatalf("run: %v", err)
			}
		})
	}
}

// FuzzPromptFile: a prompt file of any bytes, named .yaml (chat messages)
// or .txt (one template), never panics the spec loader; when the spec
// loads, the prompt is messages with known roles whose contents parse.
func FuzzPromptFile(f *testing.F) {
	for _, s := range []string{
		"- {role: system, content: s}\n- {role: user, content: \"{{.example.a}}\"}\n",
		"[{\"role\": \"user\", \"content\": \"x\"}]",
		"- {role: robot, content: x}\n", "{role: user}", "- [1, 2]\n", "", "&a [*a]\n", "{{.example.a", "hello {{.x}}",
		"- {role: user, content: \"{{template \\\"x\\\"}}\"}\n", "\xff\xfe",
	} {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, chat bool) {
		dir := t.TempDir()
		name := "p.txt"
		if chat {
			name = "p.yaml"
		}
		writeFiles(t, dir, map[string]string{name: string(data), "data.jsonl": "{}\n",
			"gavel.yaml": "name: f\ndataset: {path: data.jsonl}\nvariants:\n  - {name: a, model: offline/echo, prompt: {file: " + name + "}}\n"})
		s, err := eval.LoadSpec(filepath.Join(dir, "gavel.yaml"), eval.LoadOptions{})
		if err != nil {
			if !strings.Contains(err.Error(), "gavel.yaml") {
				t.Fatalf("error without the file: %v", err)
			}
			return
		}
		p := s.Variants[0].Prompt
		if len(p.Messages) == 0 || p.Source != eval.PromptFile {
			t.Fatalf("loaded prompt %+v", p)
		}
		for _, m := range p.Messages {
			if !slices.Contains([]string{"system", "user", "assistant", "developer"}, m.Role) {
				t.Fatalf("role %q", m.Role)
			}
			if _, err := prompts.Parse("m", m.Content); err != nil {
				t.Fatalf("content %q does not parse: %v", m.Content, err)
			}
		}
	})
}

// prices_file reads LiteLLM's layout; the spec's own prices win.
func TestPricesFile(t *testing.T) {
	t.Parallel()
	files := map[string]string{"data.jsonl": "{}\n", "prices.json": `{"gpt-4o-mini": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06, "litellm_provider": "openai"},
"my-model": {"input_cost_per_token": 3e-06, "output_cost_per_token": 4e-06, "litellm_provider": "local"}}`}
	sr := newSpecRun(t, "name: p\nprices_file: prices.json\nprices:\n  local/my-model: {input_per_mtok: 9, output_per_mtok: 9}\ndataset: {path: data.jsonl}\nvariants:\n  - {name: a, model: offline/calc, prompt: x}\n", files)
	s, err := eval.LoadSpec(sr.path, eval.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p := s.Prices["openai/gpt-4o-mini"]; p.InputPerMTok != 1 || p.OutputPerMTok != 2 {
		t.Errorf("file price %+v", p)
	}
	if p := s.Prices["local/my-model"]; p.InputPerMTok != 9 {
		t.Errorf("the spec's own price lost: %+v", p)
	}
	sr = newSpecRun(t, "name: p\nprices_file: nope.json\ndataset: {path: data.jsonl}\nvariants:\n  - {name: a, model: offline/calc, prompt: x}\n", files)
	if _, err := eval.LoadSpec(sr.path, eval.LoadOptions{}); err == nil || !strings.Contains(err.Error(), "prices_file") {
		t.Errorf("a missing prices file: %v", err)
	}
}
