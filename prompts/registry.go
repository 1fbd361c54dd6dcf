package prompts

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Roles are the roles a chat message may have.
var roles = []string{"system", "user", "assistant", "developer"}

// Latest is the reserved reference to the last version in a file:
// NAME@latest, like NAME alone. No label or version may be named so.
const Latest = "latest"

// ConfigDir is the folder of a registry that holds the model configs.
const ConfigDir = "configs"

// Message is one chat message of a prompt: a role (system, user,
// assistant or developer) and its content, a template.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Config is a model configuration: the model, its provider (optional) and
// its parameters (temperature, max_tokens, ...), as the YAML gave them.
type Config struct {
	Model    string         `json:"model,omitempty"`
	Provider string         `json:"provider,omitempty"`
	Params   map[string]any `json:"params,omitempty"`
}

// ConfigFromMap reads a config back from its JSON-like form
// ({"model": ..., "provider": ..., "params": {...}}, as a run's manifest
// records it); nil for a nil map.
func ConfigFromMap(m map[string]any) *Config {
	if m == nil {
		return nil
	}
	c := &Config{}
	c.Model, _ = m["model"].(string)
	c.Provider, _ = m["provider"].(string)
	c.Params, _ = m["params"].(map[string]any)
	return c
}

// clone returns a copy of c whose params map can be changed freely.
func (c *Config) clone() *Config {
	if c == nil {
		return nil
	}
	out := *c
	if c.Params != nil {
		out.Params = make(map[string]any, len(c.Params))
		for k, v := range c.Params {
			out.Params[k] = v
		}
	}
	return &out
}

// Version is one immutable version of a prompt, as its file gives it.
// Exactly one of Text and Messages is set; at most one of Config and
// ConfigRef.
type Version struct {
	// Version names the version (v1, v2, ...), unique within the file.
	Version string
	// Text is a user-message template.
	Text string
	// Messages are chat messages whose contents are templates.
	Messages []Message
	// Config is the version's own model configuration, if given inline.
	Config *Config
	// ConfigRef names a model config of the registry (NAME or NAME@REF)
	// when the version's config is given so.
	ConfigRef string
	// Note, Author and Created describe the version.
	Note    string
	Author  string
	Created time.Time
	// Hash is the content hash (sha256:<hex>) of the text or messages and
	// the config: the recorded one, which Load checked, or for a draft
	// the computed one.
	Hash string
	// Draft is true when the file records no hash for the version yet:
	// the next write to the file stamps it.
	Draft bool
	// Line and Column are the version's position in its file.
	Line, Column int

	refLine, refColumn int         // ConfigRef's position
	tmpls              []*Template // Text's, or each message's
}

// LabelMove is one entry of a file's history: a label pointed at a
// version (Previous is the version it pointed at before, "" when new).
type LabelMove struct {
	Label    string    `json:"label"`
	Version  string    `json:"version"`
	Previous string    `json:"previous"`
	At       time.Time `json:"at"`
	By       string    `json:"by"`
	Run      string    `json:"run"`
	Note     string    `json:"note"`
}

// Prompt is one prompt of a registry: its versions in file order, its
// labels and their history. Values returned by a Registry must not be
// modified.
type Prompt struct {
	Name     string
	Path     string
	Versions []*Version
	Labels   map[string]string // label -> version
	History  []LabelMove
}

// Latest returns the last version of the file.
func (p *Prompt) Latest() *Version { return p.Versions[len(p.Versions)-1] }

// Version returns the version named v, or nil.
func (p *Prompt) Version(v string) *Version {
	for _, x := range p.Versions {
		if x.Version == v {
			return x
		}
	}
	return nil
}

// LabelsOf returns the labels pointing at version v, sorted.
func (p *Prompt) LabelsOf(v string) []string { return labelsOf(p.Labels, v) }

// ConfigVersion is one immutable version of a model config.
type ConfigVersion struct {
	// Version names the version, unique within the file.
	Version string
	// Config is the version's own model, provider and params.
	Config Config
	// Extends names another config (NAME or NAME@REF) this one builds on:
	// its model and provider unless given here, its params under these.
	Extends string
	// Note, Author and Created describe the version.
	Note    string
	Author  string
	Created time.Time
	// Hash and Draft are as for Version.
	Hash  string
	Draft bool
	// Line and Column are the version's position in its file.
	Line, Column int

	refLine, refColumn int // Extends's position
}

// ModelConfig is one model config of a registry (configs/NAME.yaml): its
// versions, labels and history. Values returned by a Registry must not be
// modified.
type ModelConfig struct {
	Name     string
	Path     string
	Versions []*ConfigVersion
	Labels   map[string]string
	History  []LabelMove
}

// Latest returns the last version of the file.
func (c *ModelConfig) Latest() *ConfigVersion { return c.Versions[len(c.Versions)-1] }

// LabelsOf returns the labels pointing at version v, sorted.
func (c *ModelConfig) LabelsOf(v string) []string { return labelsOf(c.Labels, v) }

func labelsOf(labels map[string]string, v string) []string {
	var out []string
	for l, x := range labels {
		if x == v {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}

// Registry is a directory of prompt files and model configs, loaded and
// checked. Its methods are safe for concurrent use; writes go to the
// files (atomically) and then to the Registry.
type Registry struct {
	dir     string
	missing bool // dir does not exist

	mu      sync.RWMutex
	prompts map[string]*Prompt
	configs map[string]*ModelConfig
	raw     map[string][]byte // the bytes loaded, by file path
}

// Dir returns the registry's directory.
func (r *Registry) Dir() string { return r.dir }

// Load reads and checks every file of the registry in dir: the prompts
// (dir/NAME.yaml or .yml) and the model configs (dir/configs/NAME.yaml).
// Every problem of every file is reported (errors.Join of *FileError,
// sorted by file). A dir that does not exist is an empty registry: the
// error comes when something is looked up.
func Load(dir string) (*Registry, error) {
	r := &Registry{dir: dir, prompts: map[string]*Prompt{}, configs: map[string]*ModelConfig{}, raw: map[string][]byte{}}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		r.missing = true
		return r, nil
	} else if err != nil {
		return nil, fmt.Errorf("prompt registry: %w", err)
	}
	var errs []error
	load := func(sub string, config bool) {
		paths, err := registryFiles(filepath.Join(dir, sub))
		if err != nil {
			errs = append(errs, err)
			return
		}
		seen := map[string]string{}
		for _, path := range paths {
			raw, err := os.ReadFile(path)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			name := baseName(path)
			if other, ok := seen[name]; ok {
				errs = append(errs, &FileError{Path: path, Name: name, Msg: fmt.Sprintf("%s is also defined by %s: keep one file per name", name, other)})
				continue
			}
			seen[name] = path
			r.raw[path] = raw
			if config {
				c, err := parseConfigFile(path, raw)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				r.configs[c.Name] = c
			} else {
				p, err := parsePromptFile(path, raw)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				r.prompts[p.Name] = p
			}
		}
	}
	load("", false)
	load(ConfigDir, true)
	errs = append(errs, r.checkRefs()...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

// registryFiles returns the .yaml and .yml files of dir (none when dir
// does not exist), sorted, skipping hidden ones (a write's temporary
// files).
func registryFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("prompt registry: %w", err)
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, ".") || !(strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) {
			continue
		}
		out = append(out, filepath.Join(dir, n))
	}
	sort.Strings(out)
	return out, nil
}

// baseName is a file's name without folder and extension.
func baseName(path string) string {
	b := filepath.Base(path)
	return strings.TrimSuffix(b, filepath.Ext(b))
}

// checkRefs checks that every config reference resolves, without cycles.
func (r *Registry) checkRefs() []error {
	var errs []error
	for _, name := range sortedKeys(r.configs) {
		c := r.configs[name]
		for _, v := range c.Versions {
			if _, err := r.resolveConfigVersion(c, v, nil); err != nil {
				errs = append(errs, &FileError{Path: c.Path, Line: v.refLine, Column: v.refColumn, Name: c.Name, Version: v.Version, Msg: fmt.Sprintf("%s@%s: %v", c.Name, v.Version, err)})
			}
		}
	}
	for _, name := range sortedKeys(r.prompts) {
		p := r.prompts[name]
		for _, v := range p.Versions {
			if v.ConfigRef == "" {
				continue
			}
			if _, err := r.resolveConfigRef(v.ConfigRef, nil); err != nil {
				errs = append(errs, &FileError{Path: p.Path, Line: v.refLine, Column: v.refColumn, Name: p.Name, Version: v.Version, Msg: fmt.Sprintf("%s@%s: config %s: %v", p.Name, v.Version, v.ConfigRef, err)})
			}
		}
	}
	return errs
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// namePattern is what prompt, config, version and label names are made of:
// they are file names and references.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// versionLike matches the names `new` gives versions: a label may not look
// like one.
var versionLike = regexp.MustCompile(`^v[0-9]+$`)

// Ref is a reference to a prompt or config: NAME (the last version),
// NAME@VERSION, NAME@LABEL or NAME@latest.
type Ref struct {
	Name string
	// Ref is the version or label; "" for the last version.
	Ref string
}

// ParseRef parses NAME, NAME@VERSION or NAME@LABEL.
func ParseRef(s string) (Ref, error) {
	name, ref, at := strings.Cut(s, "@")
	if !namePattern.MatchString(name) {
		return Ref{}, fmt.Errorf("reference %q: want NAME, NAME@VERSION or NAME@LABEL (names are letters, digits, '.', '_' and '-')", s)
	}
	if at && !namePattern.MatchString(ref) {
		return Ref{}, fmt.Errorf("reference %q: the version or label after @ must be letters, digits, '.', '_' and '-'", s)
	}
	return Ref{Name: name, Ref: ref}, nil
}

// String returns the reference as ParseRef reads it.
func (r Ref) String() string {
	if r.Ref == "" {
		return r.Name
	}
	return r.Name + "@" + r.Ref
}

// IsZero reports whether the reference is empty.
func (r Ref) IsZero() bool { return r.Name == "" && r.Ref == "" }

// Resolved is a prompt version found through a reference, with its model
// config resolved: what an application or an evaluation uses.
type Resolved struct {
	// Name and Version identify the version; Label is the label it was
	// found through ("" when named by version or as the latest).
	Name    string
	Version string
	Label   string
	// Hash is the version's content hash.
	Hash string
	// Text or Messages is the template.
	Text     string
	Messages []Message
	// Config is the model config in effect (nil when none): the inline one,
	// or the referenced config resolved (extends followed).
	Config *Config
	// ConfigRef is the config reference as written ("" when inline or
	// none), and ConfigResolved what it resolved to.
	ConfigRef      string
	ConfigResolved *ResolvedConfig
	// Labels are the labels pointing at this version, sorted.
	Labels []string
	// Note, Author and Created describe the version.
	Note    string
	Author  string
	Created time.Time
	// Draft is true when the file records no hash for the version yet.
	Draft bool
	// Path is the prompt's file.
	Path string

	tmpls []*Template
}

// Ref returns NAME@VERSION.
func (r *Resolved) Ref() string { return r.Name + "@" + r.Version }

// Render renders the prompt over data and returns the chat messages: a
// text prompt is one user message.
func (r *Resolved) Render(data any) ([]Message, error) {
	if r.Messages == nil {
		s, err := r.tmpls[0].Render(data)
		if err != nil {
			return nil, fmt.Errorf("prompt %s: %w", r.Ref(), err)
		}
		return []Message{{Role: "user", Content: s}}, nil
	}
	out := make([]Message, len(r.Messages))
	for i, m := range r.Messages {
		s, err := r.tmpls[i].Render(data)
		if err != nil {
			return nil, fmt.Errorf("prompt %s: message %d (%s): %w", r.Ref(), i+1, m.Role, err)
		}
		out[i] = Message{Role: m.Role, Content: s}
	}
	return out, nil
}

// ChatMessages returns the prompt's templates as chat messages, not
// rendered: a text prompt is one user message.
func (r *Resolved) ChatMessages() []Message {
	if r.Messages == nil {
		return []Message{{Role: "user", Content: r.Text}}
	}
	return slices.Clone(r.Messages)
}

// ResolvedConfig is a model config version found through a reference,
// with the configs it extends applied.
type ResolvedConfig struct {
	// Name and Version identify the version; Label is the label it was
	// found through, or "".
	Name    string
	Version string
	Label   string
	// Hash is the version's own content hash.
	Hash string
	// Config is the model, provider and params in effect.
	Config *Config
	// Extends is the version this one extends, resolved (NAME@VERSION),
	// or "", and ExtendsRef the reference as the file writes it.
	Extends    string
	ExtendsRef string
	// Labels are the labels pointing at this version, sorted.
	Labels []string
	// Note, Author and Created describe the version.
	Note    string
	Author  string
	Created time.Time
	// Draft is true when the file records no hash for the version yet.
	Draft bool
	// Path is the config's file.
	Path string
}

// Ref returns NAME@VERSION.
func (r *ResolvedConfig) Ref() string { return r.Name + "@" + r.Version }

// List returns the names of the registry's prompts, sorted.
func (r *Registry) List() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return sortedKeys(r.prompts)
}

// Configs returns the names of the registry's model configs, sorted.
func (r *Registry) Configs() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return sortedKeys(r.configs)
}

// missingErr is the error of a lookup in a registry whose folder does not
// exist.
func (r *Registry) missingErr(what string) error {
	return fmt.Errorf("%s: the prompt registry %s does not exist", what, r.dir)
}

// Prompt returns the prompt named name. An unknown name is an error that
// lists the known ones.
func (r *Registry) Prompt(name string) (*Prompt, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.prompt(name)
}

func (r *Registry) prompt(name string) (*Prompt, error) {
	if r.missing {
		return nil, r.missingErr(fmt.Sprintf("prompt %q", name))
	}
	p, ok := r.prompts[name]
	if !ok {
		return nil, fmt.Errorf("no prompt named %q in %s (known: %s)", name, r.dir, knownList(sortedKeys(r.prompts)))
	}
	return p, nil
}

// Config returns the model config named name. An unknown name is an error
// that lists the known ones.
func (r *Registry) Config(name string) (*ModelConfig, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.config(name)
}

func (r *Registry) config(name string) (*ModelConfig, error) {
	if r.missing {
		return nil, r.missingErr(fmt.Sprintf("config %q", name))
	}
	c, ok := r.configs[name]
	if !ok {
		return nil, fmt.Errorf("no config named %q in %s (known: %s)", name, filepath.Join(r.dir, ConfigDir), knownList(sortedKeys(r.configs)))
	}
	return c, nil
}

func knownList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// pick finds the version a reference names among versions (by index):
// "" or latest the last one, else a version, else a label. It returns the
// index and the label used ("" when none).
func pick(name, ref string, versions []string, labels map[string]string) (int, string, error) {
	if ref == "" || ref == Latest {
		return len(versions) - 1, "", nil
	}
	if i := slices.Index(versions, ref); i >= 0 {
		return i, "", nil
	}
	if v, ok := labels[ref]; ok {
		if i := slices.Index(versions, v); i >= 0 {
			return i, ref, nil
		}
	}
	return 0, "", fmt.Errorf("%s has no version or label %q (versions: %s; labels: %s)", name, ref, strings.Join(versions, ", "), labelList(labels))
}

func labelList(labels map[string]string) string {
	if len(labels) == 0 {
		return "none"
	}
	var parts []string
	for _, l := range sortedKeys(labels) {
		parts = append(parts, l+" -> "+labels[l])
	}
	return strings.Join(parts, ", ")
}

// Resolve finds the prompt version ref names (NAME, NAME@VERSION,
// NAME@LABEL) and resolves its model config.
func (r *Registry) Resolve(ref string) (*Resolved, error) {
	rf, err := ParseRef(ref)
	if err != nil {
		return nil, err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.resolve(rf)
}

func (r *Registry) resolve(rf Ref) (*Resolved, error) {
	p, err := r.prompt(rf.Name)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(p.Versions))
	for i, v := range p.Versions {
		names[i] = v.Version
	}
	i, label, err := pick(p.Name, rf.Ref, names, p.Labels)
	if err != nil {
		return nil, err
	}
	v := p.Versions[i]
	out := &Resolved{
		Name: p.Name, Version: v.Version, Label: label, Hash: v.Hash,
		Text: v.Text, Messages: slices.Clone(v.Messages), Config: v.Config.clone(), ConfigRef: v.ConfigRef,
		Labels: p.LabelsOf(v.Version), Note: v.Note, Author: v.Author, Created: v.Created, Draft: v.Draft,
		Path: p.Path, tmpls: v.tmpls,
	}
	if v.ConfigRef != "" {
		rc, err := r.resolveConfigRef(v.ConfigRef, nil)
		if err != nil {
			return nil, fmt.Errorf("%s@%s: config %s: %w", p.Name, v.Version, v.ConfigRef, err)
		}
		out.ConfigResolved = rc
		out.Config = rc.Config.clone()
	}
	return out, nil
}

// Get is Resolve for applications: the prompt name at ref (a version, a
// label, or "" for the latest). Render the result to get the messages:
//
//	reg, err := prompts.Load("prompts")
//	p, err := reg.Get("solve", "production")
//	msgs, err := p.Render(map[string]any{"example": example})
func (r *Registry) Get(name, ref string) (*Resolved, error) {
	s := name
	if ref != "" {
		s += "@" + ref
	}
	return r.Resolve(s)
}

// ResolveConfig finds the model config version ref names (NAME,
// NAME@VERSION, NAME@LABEL) and applies the configs it extends.
func (r *Registry) ResolveConfig(ref string) (*ResolvedConfig, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.resolveConfigRef(ref, nil)
}

// resolveConfigRef resolves a config reference; seen holds the versions
// (NAME@VERSION) being resolved, to refuse cycles.
func (r *Registry) resolveConfigRef(ref string, seen []string) (*ResolvedConfig, error) {
	rf, err := ParseRef(ref)
	if err != nil {
		return nil, err
	}
	c, err := r.config(rf.Name)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(c.Versions))
	for i, v := range c.Versions {
		names[i] = v.Version
	}
	i, label, err := pick(c.Name, rf.Ref, names, c.Labels)
	if err != nil {
		return nil, err
	}
	rc, err := r.resolveConfigVersion(c, c.Versions[i], seen)
	if err != nil {
		return nil, err
	}
	rc.Label = label
	return rc, nil
}

// resolveConfigVersion resolves version v of config c.
func (r *Registry) resolveConfigVersion(c *ModelConfig, v *ConfigVersion, seen []string) (*ResolvedConfig, error) {
	id := c.Name + "@" + v.Version
	if slices.Contains(seen, id) {
		return nil, fmt.Errorf("a cycle of config references: %s -> %s", strings.Join(seen, " -> "), id)
	}
	out := &ResolvedConfig{
		Name: c.Name, Version: v.Version, Hash: v.Hash, Config: v.Config.clone(),
		Labels: c.LabelsOf(v.Version), Note: v.Note, Author: v.Author, Created: v.Created, Draft: v.Draft, Path: c.Path,
		ExtendsRef: v.Extends,
	}
	if v.Extends == "" {
		return out, nil
	}
	base, err := r.resolveConfigRef(v.Extends, append(seen, id))
	if err != nil {
		if len(seen) == 0 {
			return nil, fmt.Errorf("extends %s: %w", v.Extends, err)
		}
		return nil, err
	}
	out.Extends = base.Ref()
	merged := base.Config.clone()
	if v.Config.Model != "" {
		merged.Model = v.Config.Model
	}
	if v.Config.Provider != "" {
		merged.Provider = v.Config.Provider
	}
	for k, x := range v.Config.Params {
		if merged.Params == nil {
			merged.Params = map[string]any{}
		}
		merged.Params[k] = x
	}
	out.Config = merged
	return out, nil
}

// History returns the label moves of prompt name, oldest first.
func (r *Registry) History(name string) ([]LabelMove, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	p, err := r.prompt(name)
	if err != nil {
		return nil, err
	}
	return slices.Clone(p.History), nil
}

// ConfigHistory returns the label moves of model config name, oldest
// first.
func (r *Registry) ConfigHistory(name string) ([]LabelMove, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c, err := r.config(name)
	if err != nil {
		return nil, err
	}
	return slices.Clone(c.History), nil
}
