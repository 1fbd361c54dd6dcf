package eval

import (
	"os"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/eval/results"
)

func TestRedactSpecSource(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"block headers",
			"chain:\n  - name: app\n    kind: http\n    headers:\n      X-Key: literal-secret-1   # the key\n      Authorization: \"Bearer ${TOKEN}\"\n      X-Quoted: 'it''s-secret'\n    url: http://h/app\n",
			"chain:\n  - name: app\n    kind: http\n    headers:\n      X-Key: \"[redacted]\"   # the key\n      Authorization: \"[redacted]\"\n      X-Quoted: \"[redacted]\"\n    url: http://h/app\n"},
		{"flow headers",
			"chain:\n  - {name: app, kind: http, url: \"http://h\", headers: {X-Key: flow-secret-2, X-Other: \"q\\\"x\"}}\n",
			"chain:\n  - {name: app, kind: http, url: \"http://h\", headers: {X-Key: \"[redacted]\", X-Other: \"[redacted]\"}}\n"},
		{"literal block value",
			"headers:\n  X-Key: |\n    block-secret-3\n    more\n  X-Next: x\nname: n\n",
			"headers:\n  X-Key: \"[redacted]\"\n  X-Next: \"[redacted]\"\nname: n\n"},
		{"base_url credentials",
			"providers:\n  p:\n    base_url: https://bob:pw-secret-4@h.example/v1?api-key=qk-secret-5&region=eu\n    api_key_env: P_KEY\n",
			"providers:\n  p:\n    base_url: \"https://[redacted]@h.example/v1?api-key=[redacted]&region=eu\"\n    api_key_env: P_KEY\n"},
		{"credential keys, not their _env",
			"judges:\n  - {name: j, type: t, api_key: ak-secret-6, api_key_env: J_KEY, max_tokens: 100}\n",
			"judges:\n  - {name: j, type: t, api_key: \"[redacted]\", api_key_env: J_KEY, max_tokens: 100}\n"},
		{"nothing to redact is kept byte for byte",
			"# a spec\nname: x   # comment\nchain:\n  - {name: s, kind: template, template: \"Bearer of news\"}\n",
			"# a spec\nname: x   # comment\nchain:\n  - {name: s, kind: template, template: \"Bearer of news\"}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redactSpecSource(tt.in); got != tt.want {
				t.Errorf("redactSpecSource:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestStoredSpecFallsBackToTheSpecFile(t *testing.T) {
	dir := t.TempDir()
	src := "name: x\ndataset: {path: d.jsonl}\nvariants:\n  - {name: v, model: offline/echo, prompt: \"hi\"}\nchain:\n  - {name: app, kind: http, url: \"http://127.0.0.1:1/\", headers: {X-Key: literal-secret-7}}\n"
	path := dir + "/gavel.yaml"
	if err := writeTestFile(path, src); err != nil {
		t.Fatal(err)
	}
	m := &results.Manifest{Spec: redactSpecSource(src), SpecPath: path, SpecDir: dir, SpecHash: specHash([]byte(src))}
	if strings.Contains(m.Spec, "literal-secret-7") {
		t.Fatal("the stored copy keeps the header value")
	}
	spec, err := storedSpec(m, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h := spec.Chain[0].Config.(*HTTPStep).Headers["X-Key"]; h != "literal-secret-7" {
		t.Errorf("resumed header value %q, want the spec file's", h)
	}
	if err := writeTestFile(path, src+"# edited\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := storedSpec(m, LoadOptions{}); err == nil || !strings.Contains(err.Error(), "restore that file") {
		t.Errorf("storedSpec with the spec file edited: %v", err)
	}
}

func writeTestFile(path, text string) error { return os.WriteFile(path, []byte(text), 0o644) }
