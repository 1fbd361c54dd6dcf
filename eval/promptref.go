package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/internal/yamlstrict"
	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/prompts"
)

// DefaultPromptsDir is the prompt registry's directory, relative to the
// spec, when the spec sets no prompts_dir.
const DefaultPromptsDir = "prompts"

// refPattern is what a prompt written as one string must look like to
// name a registry prompt: NAME or NAME@REF, no spaces or braces.
var refPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*(@[A-Za-z0-9][A-Za-z0-9_.-]*)?$`)

// PromptSource says where a prompt of the spec came from.
type PromptSource string

// Prompt sources.
const (
	PromptInline   PromptSource = ""         // written in the spec
	PromptRegistry PromptSource = "registry" // a version of the prompt registry
	PromptFile     PromptSource = "file"     // a text, YAML or JSON file
)

// Pins are the prompts and model configs a stored run resolved (its
// manifest's Prompts and Configs). A spec loaded with them (see
// LoadOptions.Pinned) takes its registry prompts, prompt files and
// registry configs from them, not from the files as they are now.
type Pins struct {
	Prompts []results.Prompt
	Configs []results.ConfigPin
}

// PinsOf returns the pins of a stored run.
func PinsOf(m *results.Manifest) *Pins {
	return &Pins{Prompts: m.Prompts, Configs: m.Configs}
}

func (p *Pins) prompt(source PromptSource, key string) *results.Prompt {
	for i := range p.Prompts {
		q := &p.Prompts[i]
		if q.Source == string(source) && (source == PromptRegistry && q.Ref == key || source == PromptFile && q.File == key) {
			return q
		}
	}
	return nil
}

func (p *Pins) config(ref string) *results.ConfigPin {
	for i := range p.Configs {
		if p.Configs[i].Ref == ref {
			return &p.Configs[i]
		}
	}
	return nil
}

// pinPrompt records a resolved prompt for the run's manifest.
func (d *decoder) pinPrompt(p *PromptSpec) {
	pm := promptManifest(*p)
	for _, q := range d.prompts {
		if q.Source == pm.Source && q.Ref == pm.Ref && q.File == pm.File {
			return
		}
	}
	d.prompts = append(d.prompts, *pm)
}

// fromPin fills p from a pinned prompt.
func fromPin(p *PromptSpec, q *results.Prompt) {
	p.Messages = nil
	for _, m := range q.Messages {
		p.Messages = append(p.Messages, llm.Message{Role: m.Role, Content: m.Content})
	}
	p.Source, p.Ref, p.Name, p.Version, p.Label, p.Hash, p.File = PromptSource(q.Source), q.Ref, q.Name, q.Version, q.Label, q.Hash, q.File
	p.ConfigRef = q.ConfigRef
	p.Config = prompts.ConfigFromMap(q.Config)
}

// registryDir returns the prompt registry's directory for a spec in
// specDir, given the spec's top-level mapping.
func registryDir(specDir string, top *yaml.Node) string {
	dir := mappingValue(top, "prompts_dir")
	if dir == "" {
		dir = DefaultPromptsDir
	}
	if filepath.IsAbs(dir) {
		return dir
	}
	return filepath.Join(specDir, dir)
}

// registry loads the prompt registry once. A directory that does not
// exist is no registry (nil, nil).
func (d *decoder) registry() (*prompts.Registry, error) {
	if d.regLoaded {
		return d.reg, d.regErr
	}
	d.regLoaded = true
	if d.promptsDir == "" {
		return nil, nil
	}
	if _, err := os.Stat(d.promptsDir); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	d.reg, d.regErr = prompts.Load(d.promptsDir)
	return d.reg, d.regErr
}

// resolvePrompt fills p from a registry reference or a prompt file when n
// names one, and reports whether it did. A string names the registry when
// it has the form NAME@REF, or NAME of a prompt the registry holds;
// {ref: NAME@REF} always does, and {file: PATH} reads a file.
func (d *decoder) resolvePrompt(p *PromptSpec, n *yaml.Node, path string) (bool, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		ref := strings.TrimSpace(n.Value)
		if !refPattern.MatchString(ref) {
			return false, nil
		}
		if d.pins != nil {
			q := d.pins.prompt(PromptRegistry, ref)
			if q == nil {
				if strings.Contains(ref, "@") {
					return true, d.errf(n, path, "prompt %s: the run's manifest pins no such prompt", ref)
				}
				return false, nil
			}
			fromPin(p, q)
			return true, nil
		}
		reg, err := d.registry()
		if !strings.Contains(ref, "@") {
			// A word is a reference only to a registry that loads and
			// holds it: a folder named prompts of something else leaves
			// one-word inline prompts as they were.
			if err != nil || reg == nil {
				return false, nil
			}
			if _, err := reg.Prompt(ref); err != nil {
				return false, nil // a one-word inline prompt
			}
		}
		if err != nil {
			return false, d.errf(n, path, "prompt registry: %v", err)
		}
		return true, d.fromRegistry(p, reg, n, path, ref)
	case yaml.MappingNode:
		var m struct {
			Ref  string `yaml:"ref"`
			File string `yaml:"file"`
		}
		if err := d.decodeValue(n, reflect.ValueOf(&m).Elem(), path); err != nil {
			return true, err
		}
		switch {
		case (m.Ref == "") == (m.File == ""):
			return true, d.errf(n, path, "set exactly one of ref (a registry prompt, NAME@VERSION or NAME@LABEL) or file (a prompt file)")
		case d.pins != nil:
			key, source := m.Ref, PromptRegistry
			if m.File != "" {
				key, source = m.File, PromptFile
			}
			q := d.pins.prompt(source, key)
			if q == nil {
				return true, d.errf(n, path, "prompt %s: the run's manifest pins no such prompt", key)
			}
			fromPin(p, q)
			return true, nil
		case m.Ref != "":
			reg, err := d.registry()
			if err != nil {
				return true, d.errf(n, path, "prompt registry: %v", err)
			}
			return true, d.fromRegistry(p, reg, valueNode(n, "ref"), yamlstrict.Join(path, "ref"), m.Ref)
		default:
			return true, d.fromFile(p, valueNode(n, "file"), yamlstrict.Join(path, "file"), m.File)
		}
	}
	return false, nil
}

func (d *decoder) fromRegistry(p *PromptSpec, reg *prompts.Registry, n *yaml.Node, path, ref string) error {
	if reg == nil {
		return d.errf(n, path, "prompt %s: no prompt registry at %s (set prompts_dir, or write the prompt inline)", ref, d.promptsDir)
	}
	r, err := reg.Resolve(ref)
	if err != nil {
		return d.errf(n, path, "prompt %s: %v", ref, err)
	}
	for _, m := range r.ChatMessages() {
		p.Messages = append(p.Messages, llm.Message{Role: m.Role, Content: m.Content})
	}
	p.Source, p.Ref, p.Name, p.Version, p.Label, p.Hash, p.File = PromptRegistry, ref, r.Name, r.Version, r.Label, r.Hash, r.Path
	p.Config = r.Config
	if r.ConfigResolved != nil {
		p.ConfigRef = r.ConfigResolved.Ref()
	}
	p.File = d.relative(r.Path)
	d.pinPrompt(p)
	return nil
}

// relative returns path relative to the spec's directory when it is
// inside it, else as it is: manifests name files as the spec does.
func (d *decoder) relative(path string) string {
	rel, err := filepath.Rel(d.dir, path)
	if err != nil || strings.HasPrefix(rel, "..") {
		return path
	}
	return rel
}

// fromFile reads a prompt file: .yaml, .yml or .json files hold a list of
// chat messages ({role, content}); any other file is the text of one user
// message.
func (d *decoder) fromFile(p *PromptSpec, n *yaml.Node, path, file string) error {
	full := file
	if !filepath.IsAbs(full) {
		full = filepath.Join(d.dir, file)
	}
	data, err := os.ReadFile(full)
	if err != nil {
		return d.errf(n, path, "prompt file: %v", err)
	}
	switch strings.ToLower(filepath.Ext(full)) {
	case ".yaml", ".yml", ".json":
		var raw any
		if err := yaml.Unmarshal(data, &raw); err != nil {
			return d.errf(n, path, "prompt file %s: invalid YAML or JSON: %v", file, strings.TrimPrefix(err.Error(), "yaml: "))
		}
		var msgs []llm.Message
		if err := yamlstrict.Decode(reflect.ValueOf(&msgs).Elem(), raw, ""); err != nil {
			return d.errf(n, path, "prompt file %s: want a list of {role, content} messages: %v", file, err)
		}
		if len(msgs) == 0 {
			return d.errf(n, path, "prompt file %s: no messages", file)
		}
		for i, m := range msgs {
			if !slices.Contains(messageRoles, m.Role) {
				return d.errf(n, path, "prompt file %s: message %d: role %q: want system, user, assistant or developer", file, i+1, m.Role)
			}
			if _, err := prompts.Parse(fmt.Sprintf("%s message %d", file, i+1), m.Content); err != nil {
				return d.errf(n, path, "prompt file %s: message %d: %v", file, i+1, err)
			}
		}
		p.Messages = msgs
	default:
		text := string(data)
		if strings.TrimSpace(text) == "" {
			return d.errf(n, path, "prompt file %s: empty", file)
		}
		if _, err := prompts.Parse(file, text); err != nil {
			return d.errf(n, path, "prompt file %s: %v", file, err)
		}
		p.Messages = []llm.Message{{Role: "user", Content: text}}
		p.Inline = true
	}
	p.Source, p.File = PromptFile, file
	if n != nil {
		d.pinPrompt(p)
	}
	return nil
}

// judgePrompt replaces the prompt option of a judge's mapping n, when it
// names a registry prompt or a prompt file, by the list of messages it
// resolves to, so that the judge type decodes it as if written inline,
// and returns what it resolved (nil when the prompt was inline).
func (d *decoder) judgePrompt(n *yaml.Node, path string) (*PromptSpec, error) {
	pn := valueNode(n, "prompt")
	if pn == nil {
		return nil, nil
	}
	var p PromptSpec
	ok, err := d.resolvePrompt(&p, pn, yamlstrict.Join(path, "prompt"))
	if err != nil || !ok {
		return nil, err
	}
	seq := &yaml.Node{Kind: yaml.SequenceNode, Line: pn.Line, Column: pn.Column}
	for _, m := range p.Messages {
		seq.Content = append(seq.Content, &yaml.Node{Kind: yaml.MappingNode, Line: pn.Line, Column: pn.Column, Content: []*yaml.Node{
			{Kind: yaml.ScalarNode, Value: "role", Line: pn.Line, Column: pn.Column},
			{Kind: yaml.ScalarNode, Value: m.Role, Line: pn.Line, Column: pn.Column},
			{Kind: yaml.ScalarNode, Value: "content", Line: pn.Line, Column: pn.Column},
			{Kind: yaml.ScalarNode, Value: m.Content, Line: pn.Line, Column: pn.Column, Style: yaml.LiteralStyle},
		}})
	}
	*pn = *seq
	return &p, nil
}

// resolveVariantConfigs applies each variant's model config: its
// `config:` reference, then its prompt's own config from the registry, as
// defaults under what the variant sets itself.
func (s *Spec) resolveVariantConfigs(d *decoder, vnode *yaml.Node) error {
	for i := range s.Variants {
		v := &s.Variants[i]
		n := seqItem(vnode, i)
		p := fmt.Sprintf("variants[%d]", i)
		var layers []*prompts.Config // lowest precedence first
		if v.Prompt.Config != nil {
			layers = append(layers, v.Prompt.Config)
		}
		if v.Config != "" && d.pins != nil {
			q := d.pins.config(v.Config)
			if q == nil {
				return d.errf(valueNode(n, "config"), p+".config", "config %s: the run's manifest pins no such config", v.Config)
			}
			c := q.ConfigRef
			v.ConfigResolved = &ConfigInfo{Ref: c.Ref, Name: c.Name, Version: c.Version, Label: c.Label, Hash: c.Hash, File: c.File}
			layers = append(layers, &prompts.Config{Model: q.Model, Provider: q.Provider, Params: q.Params})
		} else if v.Config != "" {
			reg, err := d.registry()
			if err != nil {
				return d.errf(valueNode(n, "config"), p+".config", "prompt registry: %v", err)
			}
			if reg == nil {
				return d.errf(valueNode(n, "config"), p+".config", "config %s: no prompt registry at %s (set prompts_dir)", v.Config, d.promptsDir)
			}
			rc, err := reg.ResolveConfig(v.Config)
			if err != nil {
				return d.errf(valueNode(n, "config"), p+".config", "config %s: %v", v.Config, err)
			}
			v.ConfigResolved = &ConfigInfo{Ref: v.Config, Name: rc.Name, Version: rc.Version, Label: rc.Label, Hash: rc.Hash, File: d.relative(rc.Path)}
			pin := results.ConfigPin{ConfigRef: results.ConfigRef{Ref: v.Config, Name: rc.Name, Version: rc.Version, Label: rc.Label, Hash: rc.Hash, File: v.ConfigResolved.File}}
			if rc.Config != nil {
				layers = append(layers, rc.Config)
				pin.Model, pin.Provider, pin.Params = rc.Config.Model, rc.Config.Provider, rc.Config.Params
			}
			if d.pins == nil && (len(d.configs) == 0 || !slices.ContainsFunc(d.configs, func(c results.ConfigPin) bool { return c.Ref == v.Config })) {
				d.configs = append(d.configs, pin)
			}
		}
		var params llm.Params
		model := ""
		for _, c := range layers {
			if c.Model != "" {
				model = c.Model
				if c.Provider != "" && !strings.Contains(c.Model, "/") {
					model = c.Provider + "/" + c.Model
				}
			}
			if len(c.Params) > 0 {
				var lp llm.Params
				if err := decodeParams(c.Params, &lp); err != nil {
					return d.errf(n, p+".config", "params of %s: %v", v.Config, err)
				}
				params = params.Merge(lp)
			}
		}
		if v.Model == "" {
			v.Model = model
		}
		v.Params = params.Merge(v.Params)
	}
	return nil
}

// decodeParams decodes a config's params map into llm.Params, strictly.
func decodeParams(m map[string]any, out *llm.Params) error {
	// Through YAML, so the yaml tags (and their strict decoding) apply.
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	var raw any
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return err
	}
	return yamlstrict.Decode(reflect.ValueOf(out).Elem(), raw, "params")
}

// usedPrompts returns the prompts of the spec that came from the registry
// or from files: the variants', the llm steps' and the judges'.
func (s *Spec) usedPrompts() []*PromptSpec {
	var out []*PromptSpec
	add := func(p *PromptSpec) {
		if p != nil && p.Source != PromptInline {
			out = append(out, p)
		}
	}
	for i := range s.Variants {
		add(&s.Variants[i].Prompt)
	}
	for _, st := range s.Chain {
		if c, ok := st.Config.(*LLMStep); ok {
			add(&c.Prompt)
		}
	}
	for _, j := range s.Judges {
		add(j.Prompt)
	}
	return out
}

// checkPromptsUnchanged fails if a registry prompt version or a prompt
// file the run used no longer has the content it had when the spec was
// loaded: the run's templates were read then, and its manifest records
// that content. Moving a label meanwhile changes nothing the run used.
func (s *Spec) checkPromptsUnchanged() error {
	used := s.usedPrompts()
	if len(used) == 0 || s.pinned {
		return nil
	}
	var reg *prompts.Registry
	for _, p := range used {
		switch p.Source {
		case PromptRegistry:
			if reg == nil {
				var err error
				if reg, err = prompts.Load(s.promptsDir); err != nil {
					return fmt.Errorf("prompt registry %s changed during the run: %w", s.promptsDir, err)
				}
			}
			r, err := reg.Resolve(p.Name + "@" + p.Version)
			if err != nil {
				return fmt.Errorf("prompt %s@%s (%s) changed during the run: %w", p.Name, p.Version, p.File, err)
			}
			if r.Hash != p.Hash {
				return fmt.Errorf("prompt %s@%s (%s) changed during the run (hash %s when the run started, %s at its end)", p.Name, p.Version, p.File, p.Hash, r.Hash)
			}
		case PromptFile:
			d := &decoder{file: s.Path, dir: s.Dir}
			var now PromptSpec
			if err := d.fromFile(&now, nil, "prompt", p.File); err != nil {
				return fmt.Errorf("prompt file %s changed during the run: %w", p.File, err)
			}
			if !slices.EqualFunc(now.Messages, p.Messages, func(a, b llm.Message) bool { return a.Role == b.Role && a.Content == b.Content }) {
				return fmt.Errorf("prompt file %s changed during the run: its text is not the one the run used", p.File)
			}
		}
	}
	return nil
}
