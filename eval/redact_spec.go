package eval

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/internal/redact"
)

// redactSpecSource returns the spec's text as the manifest keeps it: the
// value of every http header ("[redacted]"), credentials in URLs (a
// base_url's user:password@ and its ?api-key=..., and any other URL's) and
// values of keys named like credentials (api_key: ..., not api_key_env)
// removed, and bearer tokens anywhere in the text. Everything else (layout,
// comments) is kept as written. Text that is not YAML is only scrubbed of
// bearer tokens and URL credentials.
func redactSpecSource(src string) string {
	var root yaml.Node
	if err := yaml.NewDecoder(strings.NewReader(src)).Decode(&root); err != nil {
		return redact.Text(src)
	}
	ed := &specEditor{src: src, lines: lineStarts(src)}
	ed.walk(&root, false)
	return redact.Text(ed.apply())
}

// specEditor collects replacements of scalars in the spec's text.
type specEditor struct {
	src   string
	lines []int // byte offset of each line's start
	edits []specEdit
}

type specEdit struct {
	start, end int
	text       string
}

func (ed *specEditor) walk(n *yaml.Node, flow bool) {
	if n == nil {
		return
	}
	flow = flow || n.Style&yaml.FlowStyle != 0
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			ed.walk(c, flow)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			vflow := flow || v.Style&yaml.FlowStyle != 0
			switch {
			case k.Value == "headers" && v.Kind == yaml.MappingNode:
				for j := 1; j < len(v.Content); j += 2 {
					if hv := v.Content[j]; hv.Kind == yaml.ScalarNode && hv.Value != "" {
						ed.replace(v.Content[j-1], hv, vflow, quoted(redact.Mark))
					}
				}
				continue
			case v.Kind == yaml.ScalarNode && v.Tag == "!!str" && strings.Contains(v.Value, "://"):
				if u := redact.URL(v.Value); u != v.Value {
					ed.replace(k, v, flow, quoted(u))
				}
				continue
			case v.Kind == yaml.ScalarNode && v.Tag == "!!str" && v.Value != "" && credentialKey(k.Value):
				ed.replace(k, v, flow, quoted(redact.Mark))
				continue
			}
			ed.walk(v, flow)
		}
	}
}

// credentialKey reports whether a spec key holds a credential itself (not
// the name of a variable holding one, like api_key_env).
func credentialKey(key string) bool {
	lk := strings.ToLower(key)
	if strings.HasSuffix(lk, "_env") || strings.HasSuffix(lk, "-env") {
		return false
	}
	return redact.IsSecretName(key)
}

// quoted returns s as a YAML double-quoted scalar.
func quoted(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// replace records the replacement of scalar v (the value of key k) by
// text. flow says whether v is inside a flow collection ({...} or [...]).
func (ed *specEditor) replace(k, v *yaml.Node, flow bool, text string) {
	start, ok := ed.offset(v.Line, v.Column)
	if !ok {
		return
	}
	end := ed.scalarEnd(start, v, k, flow)
	if end <= start {
		return
	}
	if v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		text += "\n"
	}
	ed.edits = append(ed.edits, specEdit{start, end, text})
}

// offset converts a 1-based line and column (in characters) to a byte
// offset.
func (ed *specEditor) offset(line, col int) (int, bool) {
	if line < 1 || line > len(ed.lines) || col < 1 {
		return 0, false
	}
	off := ed.lines[line-1]
	for i := 1; i < col; i++ {
		if off >= len(ed.src) || ed.src[off] == '\n' {
			return 0, false
		}
		_, size := utf8.DecodeRuneInString(ed.src[off:])
		off += size
	}
	return off, true
}

// scalarEnd returns the byte offset just past the scalar v starting at
// start.
func (ed *specEditor) scalarEnd(start int, v, k *yaml.Node, flow bool) int {
	s := ed.src
	switch {
	case v.Style&yaml.DoubleQuotedStyle != 0:
		for i := start + 1; i < len(s); i++ {
			switch s[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
	case v.Style&yaml.SingleQuotedStyle != 0:
		for i := start + 1; i < len(s); i++ {
			if s[i] == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					i++
					continue
				}
				return i + 1
			}
		}
	case v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		// The block runs on the following lines indented deeper than its
		// key.
		indent := k.Column - 1
		i := strings.IndexByte(s[start:], '\n')
		if i < 0 {
			return len(s)
		}
		pos := start + i + 1
		for pos < len(s) {
			next := strings.IndexByte(s[pos:], '\n')
			line := s[pos:]
			if next >= 0 {
				line = s[pos : pos+next]
			}
			if trimmed := strings.TrimLeft(line, " "); trimmed != "" && len(line)-len(trimmed) <= indent {
				break
			}
			if next < 0 {
				return len(s)
			}
			pos += next + 1
		}
		return pos
	default:
		end := start
		for end < len(s) && s[end] != '\n' && s[end] != '\r' {
			if flow && strings.IndexByte(",}]", s[end]) >= 0 {
				break
			}
			if s[end] == '#' && end > start && (s[end-1] == ' ' || s[end-1] == '\t') {
				break
			}
			end++
		}
		for end > start && (s[end-1] == ' ' || s[end-1] == '\t') {
			end--
		}
		return end
	}
	return len(s)
}

// apply returns the text with the edits made.
func (ed *specEditor) apply() string {
	if len(ed.edits) == 0 {
		return ed.src
	}
	sort.Slice(ed.edits, func(i, j int) bool { return ed.edits[i].start < ed.edits[j].start })
	var b strings.Builder
	pos := 0
	for _, e := range ed.edits {
		if e.start < pos {
			continue
		}
		b.WriteString(ed.src[pos:e.start])
		b.WriteString(e.text)
		pos = e.end
	}
	b.WriteString(ed.src[pos:])
	return b.String()
}

func lineStarts(s string) []int {
	starts := []int{0}
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// specSecrets returns the values a run must keep out of everything it
// stores, besides the providers' API keys: the values the chain's steps
// take from the environment (http header ${NAME}s, exec env), the values
// of http headers named like credentials, and the credentials in the
// providers' base URLs.
func specSecrets(s *Spec, getenv func(string) string) []string {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	var out []string
	collect := func(name string) string {
		v := getenv(name)
		out = append(out, v)
		return v
	}
	for _, st := range s.Chain {
		switch c := st.Config.(type) {
		case *HTTPStep:
			for k, v := range c.Headers {
				n := len(out)
				x := os.Expand(v, collect)
				if len(out) > n || redact.IsSecretName(k) {
					out = append(out, x)
				}
			}
		case *ExecStep:
			for _, v := range c.Env {
				os.Expand(v, collect)
			}
		}
	}
	for _, p := range s.Providers {
		out = append(out, redact.URLSecrets(p.BaseURL)...)
	}
	return out
}

func specHash(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// storedSpec returns the spec a run started with, to resume it. The
// manifest's copy is used when it is the spec as written (its hash is the
// run's spec hash); when credentials were redacted from it, the spec file
// is read instead, and must be the one the run started with.
func storedSpec(m *results.Manifest, opts LoadOptions) (*Spec, error) {
	data := []byte(m.Spec)
	if m.SpecHash != "" && specHash(data) != m.SpecHash {
		candidates := []string{m.SpecPath}
		if m.SpecDir != "" && !filepath.IsAbs(m.SpecPath) {
			candidates = append(candidates, filepath.Join(m.SpecDir, filepath.Base(m.SpecPath)))
		}
		found := false
		for _, p := range candidates {
			if orig, err := os.ReadFile(p); err == nil && specHash(orig) == m.SpecHash {
				data, found = orig, true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("its copy of the spec has credentials (http header values, base_url credentials) redacted, and the spec file %s is no longer the one the run started with (%s): restore that file to resume", m.SpecPath, m.SpecHash)
		}
	}
	opts.Pinned = PinsOf(m)
	return ParseSpec(data, m.SpecPath, opts)
}
