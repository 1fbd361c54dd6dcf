package tmpl

import (
	"errors"
	"strings"
	"testing"
)

// TestParseNullAware: a template from Parse fails on a null or missing
// value it prints, with a *NullError naming the expression; default and
// coalesce read nulls and missing fields; a field holding the text
// "<no value>" is printed as it is.
func TestParseNullAware(t *testing.T) {
	t.Parallel()
	data := map[string]any{"id": "a", "n": nil, "s": "<no value>", "m": map[string]any{}}
	tests := []struct{ text, want, expr string }{
		{"{{.id}}-{{.n}}", "", ".n"},
		{`{{index .m "x"}}`, "", `index .m "x"`},
		{`{{.id}}-{{default "none" .n}}`, "a-none", ""},
		{`{{coalesce .m.x .n .id}}`, "a", ""},
		{`{{.s}}`, "<no value>", ""},
	}
	for _, tt := range tests {
		tp, err := Parse("t", tt.text)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		err = tp.Execute(&b, data)
		if tt.expr != "" {
			ne, ok := errors.AsType[*NullError](err)
			if !ok || ne.Expr != tt.expr {
				t.Errorf("%s: error %v, want a *NullError for %s", tt.text, err, tt.expr)
			}
			if !strings.Contains(ExecError(err).Error(), tt.expr+" is null or missing") {
				t.Errorf("%s: ExecError = %v", tt.text, ExecError(err))
			}
			continue
		}
		if err != nil || b.String() != tt.want {
			t.Errorf("%s: %q, %v; want %q", tt.text, b.String(), err, tt.want)
		}
	}
}

// TestExecErrorMissingKey: a missing map key is said as "no field", without
// text/template's prefix.
func TestExecErrorMissingKey(t *testing.T) {
	t.Parallel()
	tp, err := Parse("t", "{{.nope}}")
	if err != nil {
		t.Fatal(err)
	}
	err = tp.Execute(&strings.Builder{}, map[string]any{})
	if got := ExecError(err).Error(); got != `executing "t" at <.nope>: no field "nope"` {
		t.Errorf("ExecError = %q", got)
	}
}
