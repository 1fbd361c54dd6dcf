package report

import (
	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/prompts"
)

// promptOf returns the manifest's prompt of variant name, or nil.
func promptOf(m *results.Manifest, name string) *results.Prompt {
	for _, v := range m.Variants {
		if v.Name == name {
			return v.Prompt
		}
	}
	return nil
}

// promptName is how reports name a prompt: NAME@VERSION (and the label
// it was named by) for a registry prompt, the file for a prompt file,
// "inline" for one written in the spec.
func promptName(p *results.Prompt) string {
	switch {
	case p == nil:
		return ""
	case p.Name != "":
		s := p.Name + "@" + p.Version
		if p.Label != "" {
			s += " (" + p.Label + ")"
		}
		return s
	case p.File != "":
		return p.File
	}
	return "inline"
}

// resolvedOf makes a prompts.Resolved of a manifest prompt, for diffs.
func resolvedOf(p *results.Prompt) *prompts.Resolved {
	r := &prompts.Resolved{Name: p.Name, Version: p.Version, Hash: p.Hash}
	if r.Name == "" {
		r.Name, r.Version = promptName(p), "-" // the file, or "inline"
	}
	for _, m := range p.Messages {
		r.Messages = append(r.Messages, prompts.Message{Role: m.Role, Content: m.Content})
	}
	r.Config = prompts.ConfigFromMap(p.Config)
	return r
}

// promptDiff returns the word-aware diff of b's prompt against a's when
// they differ and at least one came from the registry or a file (so that
// a report of inline prompts stays as it was), or "".
func promptDiff(a, b *results.Prompt) string {
	if a == nil || b == nil || a.Hash == b.Hash || a.Source == "" && b.Source == "" {
		return ""
	}
	return prompts.Compare(resolvedOf(a), resolvedOf(b)).WordDiff()
}
