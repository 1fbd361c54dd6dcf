package prompts

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestConfigWrites: new config versions and label moves, each case on the
// registry the cases before it left, the file after them as a golden file.
func TestConfigWrites(t *testing.T) {
	t.Parallel()
	dir := writeRegistry(t, map[string]string{"solve.yaml": solveFile, "configs/fast.yaml": "# Fast and cheap.\n" + fastFile})
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  string
		from Ref
		e    ConfigEdit
		// want is the new version and its config in effect, as
		// version model provider params extends; or wantErr.
		want    string
		wantErr string
	}{
		{"a param over the latest", "fast", Ref{}, ConfigEdit{SetParams: map[string]any{"temperature": 0.2}, Note: "warmer", Author: "bob"},
			"fast@v3 openai/gpt-4o-mini openai map[max_tokens:512 temperature:0.2] fast@v1", ""},
		{"from a label, a new model", "fast", Ref{Name: "fast", Ref: "production"}, ConfigEdit{Model: "openai/gpt-4o"},
			"fast@v4 openai/gpt-4o openai map[max_tokens:512 temperature:0] fast@v1", ""},
		{"params replaced, one removed", "fast", Ref{Name: "fast", Ref: "v1"}, ConfigEdit{Params: map[string]any{"temperature": 0, "seed": 7}, SetParams: map[string]any{"seed": nil, "top_p": 0.9}},
			"fast@v5 openai/gpt-4o-mini openai map[temperature:0 top_p:0.9] ", ""},
		{"a new config", "slow", Ref{}, ConfigEdit{Model: "openai/gpt-4o", Params: map[string]any{"temperature": 0}},
			"slow@v1 openai/gpt-4o  map[temperature:0] ", ""},
		{"a new config extending another", "slower", Ref{}, ConfigEdit{Extends: "slow@v1", SetParams: map[string]any{"max_tokens": 2048}},
			"slower@v1 openai/gpt-4o  map[max_tokens:2048 temperature:0] slow@v1", ""},
		{"a new config copied from another", "fast-copy", Ref{Name: "fast", Ref: "v1"}, ConfigEdit{Provider: "azure"},
			"fast-copy@v1 openai/gpt-4o-mini azure map[max_tokens:256 temperature:0] ", ""},
		{"no change", "fast", Ref{Name: "fast", Ref: "v2"}, ConfigEdit{Note: "only a note"}, "", "same content as fast@v2"},
		{"no change from the latest", "fast", Ref{}, ConfigEdit{SetParams: map[string]any{"temperature": 0}}, "", "same content as fast@latest"},
		{"a removed param that was not there", "fast", Ref{Name: "fast", Ref: "v1"}, ConfigEdit{SetParams: map[string]any{"seed": nil}}, "", "same content as fast@v1"},
		{"a new config without a model", "empty", Ref{}, ConfigEdit{Note: "x"}, "", "give its model"},
		{"an unknown config to extend", "fast", Ref{}, ConfigEdit{Extends: "nope"}, "", `no config named "nope"`},
		{"an extends cycle", "fast", Ref{}, ConfigEdit{Extends: "fast"}, "", "a cycle of config references"},
		{"a bad extends", "fast", Ref{}, ConfigEdit{Extends: "a b"}, "", "extends: reference"},
		{"a bad name", "a/b", Ref{}, ConfigEdit{Model: "m"}, "", "not a valid config name"},
		{"an unknown version to copy", "fast", Ref{Name: "fast", Ref: "v9"}, ConfigEdit{Model: "m"}, "", `no version or label "v9"`},
	}
	for _, tt := range tests {
		tt.e.Now = fixed
		got, err := r.NewConfigVersion(tt.cfg, tt.from, tt.e)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		s := fmt.Sprintf("%s %s %s %v %s", got.Ref(), got.Config.Model, got.Config.Provider, got.Config.Params, got.Extends)
		if s != tt.want || got.Draft || !got.Created.Equal(fixed()) || got.Note != tt.e.Note {
			t.Errorf("%s: got %s (draft %v, created %v), want %s", tt.name, s, got.Draft, got.Created, tt.want)
		}
	}
	for _, tt := range []struct {
		cfg, ref, label string
		m               Move
		want            LabelMove
		wantErr         string
	}{
		{"fast", "v3", "production", Move{By: "carol", Run: "run-9", Note: "warmer is better"}, LabelMove{Label: "production", Version: "v3", Previous: "v2", At: fixed(), By: "carol", Run: "run-9", Note: "warmer is better"}, ""},
		{"slow", "latest", "staging", Move{By: "dan"}, LabelMove{Label: "staging", Version: "v1", At: fixed(), By: "dan"}, ""},
		{"fast", "production", "production", Move{}, LabelMove{Label: "production", Version: "v3", Previous: "v3"}, ""},
		{"fast", "v9", "production", Move{}, LabelMove{}, `no version or label "v9"`},
		{"fast", "v1", "v2", Move{}, LabelMove{}, "named like a version"},
		{"fast", "v1", "latest", Move{}, LabelMove{}, `"latest" is reserved`},
		{"nope", "v1", "production", Move{}, LabelMove{}, `no config named "nope"`},
	} {
		tt.m.Now = fixed
		got, err := r.MoveConfigLabel(tt.cfg, tt.ref, tt.label, tt.m)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("MoveConfigLabel(%s@%s, %s): error %v, want %q", tt.cfg, tt.ref, tt.label, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("MoveConfigLabel(%s@%s, %s) = %+v, %v; want %+v", tt.cfg, tt.ref, tt.label, got, err, tt.want)
		}
	}
	// A prompt that follows fast@production follows the move.
	if p, err := r.Resolve("solve@v2"); err != nil || p.ConfigResolved.Ref() != "fast@v3" || p.Config.Params["temperature"] != 0.2 {
		t.Errorf("solve@v2 after the move: %+v, %v", p, err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "configs", "fast.yaml"))
	golden(t, "config_writes.yaml", string(got))
	if !strings.HasPrefix(string(got), "# Fast and cheap.\nname: fast\n") {
		t.Errorf("the head comment or key order did not survive:\n%s", got)
	}
	again, err := Load(dir)
	if err != nil {
		t.Fatalf("the registry does not load after the writes: %v", err)
	}
	h, _ := again.ConfigHistory("fast")
	if len(h) != 1 || h[0].Run != "run-9" || h[0].Previous != "v2" {
		t.Errorf("history = %+v", h)
	}
	if _, err := again.ConfigHistory("nope"); err == nil {
		t.Error("the history of an unknown config: no error")
	}
	for _, name := range again.Configs() {
		c, _ := again.Config(name)
		for _, v := range c.Versions {
			if v.Draft {
				t.Errorf("%s@%s is still a draft after the writes", name, v.Version)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "configs", "slow.yaml")); err != nil {
		t.Errorf("the new config's file: %v", err)
	}
}

// TestConfigDraftsStamped: a config file's drafts get their hash on the
// next write to it, and a config can be created in a registry folder that
// does not exist yet.
func TestConfigDraftsStamped(t *testing.T) {
	t.Parallel()
	dir := writeRegistry(t, map[string]string{"configs/calc.yaml": "name: calc\nversions:\n  - {version: v1, model: offline/calc}\n"})
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.MoveConfigLabel("calc", "v1", "production", Move{Now: fixed}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "configs", "calc.yaml"))
	if !strings.Contains(string(b), "hash: 'sha256:") {
		t.Errorf("the draft was not stamped:\n%s", b)
	}
	empty := filepath.Join(t.TempDir(), "none")
	r, _ = Load(empty)
	c, err := r.NewConfigVersion("calc", Ref{}, ConfigEdit{Model: "offline/calc", Now: fixed})
	if err != nil || c.Ref() != "calc@v1" || c.Path != filepath.Join(empty, ConfigDir, "calc.yaml") {
		t.Fatalf("a config in a new registry: %+v, %v", c, err)
	}
	if names := r.Configs(); len(names) != 1 {
		t.Errorf("configs = %v", names)
	}
}

// TestConcurrentConfigWriters: writers of one config race as prompt
// writers do; each write lands whole or is refused as a conflict.
func TestConcurrentConfigWriters(t *testing.T) {
	t.Parallel()
	_, dir := sampleRegistry(t)
	const writers, each = 4, 3
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := 0; i < each; {
				r, err := Load(dir)
				if err != nil {
					t.Error(err)
					return
				}
				_, err = r.NewConfigVersion("fast", Ref{Name: "fast", Ref: "v1"}, ConfigEdit{SetParams: map[string]any{"seed": w*100 + i}, Now: fixed})
				if _, ok := errors.AsType[*ConflictError](err); ok {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				i++
			}
		})
	}
	wg.Wait()
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := r.Config("fast")
	seeds := map[any]bool{}
	for _, v := range c.Versions {
		if s, ok := v.Config.Params["seed"]; ok {
			seeds[s] = true
		}
	}
	if len(c.Versions) != 2+writers*each || len(seeds) != writers*each {
		t.Errorf("%d versions with %d seeds, want %d and %d", len(c.Versions), len(seeds), 2+writers*each, writers*each)
	}
}

func TestCompareConfigs(t *testing.T) {
	t.Parallel()
	r, _ := sampleRegistry(t)
	if _, err := r.NewConfigVersion("fast", Ref{Name: "fast", Ref: "v1"}, ConfigEdit{Model: "openai/gpt-4o", SetParams: map[string]any{"temperature": 0.2, "stop": []any{"END"}}, Now: fixed}); err != nil {
		t.Fatal(err)
	}
	get := func(ref string) *ResolvedConfig {
		c, err := r.ResolveConfig(ref)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	var out strings.Builder
	for _, pair := range [][2]string{{"fast@v1", "fast@v2"}, {"fast@v1", "fast@v3"}, {"fast@v2", "fast@v3"}} {
		d := CompareConfigs(get(pair[0]), get(pair[1]))
		fmt.Fprintf(&out, "=== %s %s\n%s=== word diff\n%s", pair[0], pair[1], d, d.WordDiff())
	}
	if d := CompareConfigs(get("fast@v2"), get("fast@production")); !d.Empty() {
		t.Errorf("a version against itself: %q", d)
	}
	golden(t, "config_diff.txt", out.String())
}

func TestParseParam(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in      string
		key     string
		want    any
		wantErr string
	}{
		{"temperature=0.2", "temperature", 0.2, ""},
		{"max_tokens=256", "max_tokens", 256, ""},
		{"stream=true", "stream", true, ""},
		{"stop=END", "stop", "END", ""},
		{`stop="0.2"`, "stop", "0.2", ""},
		{"stop=[END, STOP]", "stop", []any{"END", "STOP"}, ""},
		{"response_format={type: json_object}", "response_format", map[string]any{"type": "json_object"}, ""},
		{"note=a: b", "note", "a: b", ""},
		{"seed=", "seed", nil, ""},
		{"seed=null", "seed", nil, ""},
		{" top_p = 0.9", "top_p", 0.9, ""},
		{"temperature", "", nil, "want KEY=VALUE"},
		{"=1", "", nil, "want KEY=VALUE"},
		{"t=.inf", "", nil, "not a finite number"},
		{"stop=[a, ", "", nil, "is not a YAML value"},
	} {
		k, v, err := ParseParam(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseParam(%q): error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || k != tt.key || fmt.Sprint(v) != fmt.Sprint(tt.want) || fmt.Sprintf("%T", v) != fmt.Sprintf("%T", tt.want) {
			t.Errorf("ParseParam(%q) = %q, %#v, %v; want %q, %#v", tt.in, k, v, err, tt.key, tt.want)
		}
	}
	p, err := ParseParams("p.yaml", []byte("temperature: 0.2\nstop: [END]\n"))
	if err != nil || fmt.Sprint(p) != "map[stop:[END] temperature:0.2]" {
		t.Errorf("ParseParams = %v, %v", p, err)
	}
	if p, err := ParseParams("p.yaml", nil); err != nil || len(p) != 0 {
		t.Errorf("ParseParams of nothing = %v, %v", p, err)
	}
	if _, err := ParseParams("p.yaml", []byte("[1, 2]\n")); err == nil || !strings.Contains(err.Error(), "p.yaml:1:1: params: expected a mapping") {
		t.Errorf("ParseParams of a list: %v", err)
	}
}

// TestConfigLabelCycleRefused: a label move that would close a cycle of
// extends through another config is refused, and nothing is written.
func TestConfigLabelCycleRefused(t *testing.T) {
	t.Parallel()
	dir := writeRegistry(t, map[string]string{
		"configs/fast.yaml":  "name: fast\nversions:\n  - {version: v1, model: m}\n  - {version: v2, extends: other@v1}\nlabels: {production: v1}\n",
		"configs/other.yaml": "name: other\nversions:\n  - {version: v1, extends: fast@production}\n",
	})
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "configs", "fast.yaml"))
	if _, err := r.MoveConfigLabel("fast", "v2", "production", Move{Now: fixed}); err == nil || !strings.Contains(err.Error(), "a cycle of config references") {
		t.Fatalf("a move closing a cycle: %v", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "configs", "fast.yaml"))
	if string(before) != string(after) {
		t.Error("a refused move changed the file")
	}
	if c, err := r.ResolveConfig("fast@production"); err != nil || c.Version != "v1" {
		t.Errorf("after the refused move: %+v, %v", c, err)
	}
}
