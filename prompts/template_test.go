package prompts

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"text/template"
)

func TestRender(t *testing.T) {
	t.Parallel()
	data := map[string]any{
		"example": map[string]any{"q": "2+2?", "tags": []any{"a", "b"}, "n": 3},
		"steps":   map[string]any{"solve": map[string]any{"output": "4"}},
	}
	tests := []struct {
		name, text, want, err string
	}{
		{"field", "Q: {{.example.q}}", "Q: 2+2?", ""},
		{"step output", "{{.steps.solve.output}}!", "4!", ""},
		{"json", "{{json .example.tags}}", `["a","b"]`, ""},
		{"join", `{{join ", " .example.tags}}`, "a, b", ""},
		{"upper trim", `{{upper (trim "  x ")}}`, "X", ""},
		{"missing field", "{{.example.nope}}", "", `no field "nope"`},
		{"missing step", "{{.steps.other.output}}", "", `no field "other"`},
		{"static", "no actions", "no actions", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := Parse("t", tt.text)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tmpl.Render(data)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.err)
				}
				if !strings.HasPrefix(err.Error(), "template t: ") {
					t.Errorf("error %q does not name the template", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Render = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestParseError(t *testing.T) {
	t.Parallel()
	_, err := Parse("prompt", "{{.example.q")
	if err == nil || !strings.Contains(err.Error(), "template prompt:") {
		t.Fatalf("Parse of an unclosed action: %v", err)
	}
}

func TestHash(t *testing.T) {
	t.Parallel()
	if Hash("a", "bc") == Hash("ab", "c") {
		t.Error("Hash must separate its parts")
	}
	if a, b := Hash("x"), Hash("x"); a != b {
		t.Error("Hash must be deterministic")
	}
	// sha256("1:x;") = 3d3c0c5d..., computed with: printf '1:x;' | sha256sum
	if got := Hash("x"); got != "sha256:"+sha256Prefix("1:x;") {
		t.Errorf("Hash(x) = %s", got)
	}
}

func FuzzRender(f *testing.F) {
	for _, s := range []string{"{{.example.q}}", "{{json .example}}", "{{range .example.tags}}{{.}}{{end}}", "{{", "}}", "{{.steps.x.output}}", "{{index .example \"q\"}}"} {
		f.Add(s)
	}
	data := map[string]any{"example": map[string]any{"q": "x", "tags": []any{1, 2}}, "steps": map[string]any{}}
	f.Fuzz(func(t *testing.T, text string) {
		if strings.Contains(text, "range") || strings.Contains(text, "template") || strings.Contains(text, "define") {
			t.Skip("loops and nested templates can run unboundedly long")
		}
		tmpl, err := Parse("fuzz", text)
		if err != nil {
			return
		}
		_, _ = tmpl.Render(data)
	})
}

// TestRenderNull covers JSON nulls and missing fields: printing one is an
// error naming the expression, never "<no value>"; default and coalesce
// say what to print instead, for missing fields too.
func TestRenderNull(t *testing.T) {
	t.Parallel()
	data := map[string]any{
		"example": map[string]any{"q": "2+2?", "ctx": nil, "empty": "", "nested": map[string]any{"x": nil}, "n": 0},
		"steps":   map[string]any{},
	}
	tests := []struct {
		name, text, want, err string
	}{
		{"null field", "Q: {{.example.ctx}}", "", ".example.ctx is null or missing"},
		{"nested null", "{{.example.nested.x}}", "", ".example.nested.x is null or missing"},
		{"null via index", `{{index .example "ctx"}}`, "", `index .example "ctx" is null or missing (to allow that, write {{default "" (index .example "ctx")}})`},
		{"missing via index", `{{index .example "nope"}}`, "", `index .example "nope" is null or missing`},
		{"null in a variable", `{{$c := .example.ctx}}{{$c}}`, "", "$c is null or missing"},
		{"null inside range", `{{range $k, $v := .example.nested}}{{$v}}{{end}}`, "", "$v is null or missing"},
		{"null through a function", `{{upper .example.ctx}}`, "", ".example.ctx"},
		{"missing still an error", "{{.example.nope}}", "", `no field "nope"`},
		{"default on null", `{{default "none" .example.ctx}}`, "none", ""},
		{"default on missing", `{{default "none" .example.nope}}`, "none", ""},
		{"default on missing parent", `{{default "none" .example.nope.deeper}}`, "none", ""},
		{"default on empty string", `{{default "none" .example.empty}}`, "none", ""},
		{"default keeps a value", `{{default "none" .example.q}}`, "2+2?", ""},
		{"default keeps zero", `{{default "none" .example.n}}`, "0", ""},
		{"default piped", `{{.example.nope | default "none"}}`, "none", ""},
		{"default piped null", `{{.example.ctx | default ""}}|`, "|", ""},
		{"default of a variable's field", `{{$e := .example}}{{default "none" $e.ctx}}`, "none", ""},
		{"default of root variable field", `{{default "none" $.example.nope}}`, "none", ""},
		{"default in parentheses", `{{upper (default "none" .example.ctx)}}`, "NONE", ""},
		{"default to null fails", `{{default .example.ctx .example.nope}}`, "", "is null or missing"},
		{"coalesce", `{{coalesce .example.nope .example.ctx .example.empty .example.q "x"}}`, "2+2?", ""},
		{"coalesce of nothing", `{{coalesce .example.nope .example.ctx}}`, "", "is null or missing"},
		{"if on null is false", `{{if .example.ctx}}yes{{else}}no{{end}}`, "no", ""},
		{"json of null", `{{json .example.ctx}}`, "null", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := Parse("t", tt.text)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tmpl.Render(data)
			if strings.Contains(got, "<no value>") {
				t.Errorf("Render printed %q", got)
			}
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Render = %q, %v; want an error containing %q", got, err, tt.err)
				}
				if !strings.HasPrefix(err.Error(), "template t: ") {
					t.Errorf("error %q does not name the template", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Render = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestParseErrorPosition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text          string
		line, column  int
		lineText, msg string
	}{
		{"Q: {{.example.q}} and {{.example.a", 1, 23, "Q: {{.example.q}} and {{.example.a", "unclosed action"},
		{"line one\nQ: {{.example.q}}\n  {{.example.a", 3, 3, "  {{.example.a", "unclosed action"},
		{"a\n  x {{nope .example.q}}", 2, 7, "  x {{nope .example.q}}", `function "nope" not defined`},
		{"{{if .example.q}}x", 1, 1, "{{if .example.q}}x", "unexpected EOF"},
	}
	for _, tt := range tests {
		_, err := Parse("p", tt.text)
		pe, ok := errors.AsType[*ParseError](err)
		if !ok {
			t.Errorf("Parse(%q) = %v, want a *ParseError", tt.text, err)
			continue
		}
		if pe.Line != tt.line || pe.Column != tt.column || pe.LineText != tt.lineText || !strings.Contains(pe.Msg, tt.msg) {
			t.Errorf("Parse(%q): %+v; want line %d, column %d, line text %q, message %q", tt.text, *pe, tt.line, tt.column, tt.lineText, tt.msg)
		}
	}
}

// TestRenderFastMatchesTextTemplate: templates of text and field paths are
// rendered without text/template; the text is the same as text/template's
// for every kind of value a dataset holds.
func TestRenderFastMatchesTextTemplate(t *testing.T) {
	t.Parallel()
	data := map[string]any{
		"example": map[string]any{
			"s": "text <b>", "n": json.Number("3.50"), "f": 2.5, "i": 7, "big": 1e21, "b": true,
			"list": []any{"a", 1.5, nil}, "map": map[string]any{"k": "v", "a": []any{}}, "empty": "",
			"typed": map[string]string{"x": "y"}, "ptr": new(int),
		},
		"input": "prev",
	}
	for _, text := range []string{
		"{{.example.s}}", "Q: {{.example.n}}|{{.example.f}}|{{.example.i}}|{{.example.big}}|{{.example.b}}",
		"{{.example.list}} {{.example.map}} [{{.example.empty}}] {{.input}}", "{{.example.typed.x}}", "{{.example.ptr}}",
		"static text", "{{- .example.s -}}  x  {{.example.s}}",
	} {
		tmpl, err := Parse("t", text)
		if err != nil {
			t.Fatal(err)
		}
		if tmpl.fast == nil && text != "{{.example.typed.x}}" {
			t.Errorf("%q is not rendered by the fast path", text)
		}
		got, err := tmpl.Render(data)
		if err != nil {
			t.Errorf("%q: %v", text, err)
			continue
		}
		var want strings.Builder
		if err := template.Must(template.New("t").Option("missingkey=error").Parse(text)).Execute(&want, data); err != nil {
			t.Fatal(err)
		}
		if got != want.String() {
			t.Errorf("Render(%q) = %q, text/template prints %q", text, got, want.String())
		}
	}
}

func BenchmarkRenderFields(b *testing.B) {
	for _, text := range []string{"Q: {{.example.q}} A: {{.example.a}}", "Q: {{.example.q | trim}} A: {{.example.a}}"} {
		b.Run(text, func(b *testing.B) {
			t := MustParse("b", text)
			data := map[string]any{"example": map[string]any{"q": "2+2?", "a": "4"}}
			for b.Loop() {
				if _, err := t.Render(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
