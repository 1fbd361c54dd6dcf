package prompts

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ConflictError is the error of a write to a file that changed (or
// appeared) since the registry was loaded: another process wrote it.
// Nothing was written; load the registry again and retry.
type ConflictError struct {
	Path string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s changed since the registry was loaded (another gavel wrote it?): nothing was written; load it again and retry", e.Path)
}

// Edit is what a new version changes from the version it is copied from.
// Empty fields keep what that version has (Note and Author excepted: they
// describe the new version only).
type Edit struct {
	// Text replaces the template with a user-message template.
	Text string
	// Messages replace the template with chat messages.
	Messages []Message
	// Config replaces the model config with one given inline, ConfigRef
	// with a reference to a config of the registry (NAME or NAME@REF).
	Config    *Config
	ConfigRef string
	// Note and Author describe the new version.
	Note   string
	Author string
	// Now is the clock that stamps created (time.Now when nil).
	Now func() time.Time
}

// Move describes a label move for its history entry.
type Move struct {
	// By is who moves the label.
	By string
	// Run is the id of the evaluation run that justified the move, if any.
	Run string
	// Note says why.
	Note string
	// Now is the clock that stamps the entry (time.Now when nil).
	Now func() time.Time
}

func now(f func() time.Time) time.Time {
	if f == nil {
		f = time.Now
	}
	return f().UTC().Truncate(time.Second)
}

// fileKind is the kind of registry file a write rewrites.
type fileKind int

const (
	promptFile fileKind = iota
	configFile
)

// String names the kind as messages do: prompt or config.
func (k fileKind) String() string {
	if k == configFile {
		return "config"
	}
	return "prompt"
}

// fileInfo is what prompt and config files share for writes: the name,
// the file, the versions' names in order and the labels.
type fileInfo struct {
	name, path string
	versions   []string
	labels     map[string]string
}

// lookup returns the file of the prompt or config name. r.mu must be held.
func (r *Registry) lookup(k fileKind, name string) (fileInfo, error) {
	if k == configFile {
		c, err := r.config(name)
		if err != nil {
			return fileInfo{}, err
		}
		return fileInfo{name: c.Name, path: c.Path, versions: configVersionNames(c.Versions), labels: c.Labels}, nil
	}
	p, err := r.prompt(name)
	if err != nil {
		return fileInfo{}, err
	}
	return fileInfo{name: p.Name, path: p.Path, versions: versionNames(p.Versions), labels: p.Labels}, nil
}

// pickIn finds the version ref names: its file and its index there.
// r.mu must be held.
func (r *Registry) pickIn(k fileKind, ref Ref) (fileInfo, int, error) {
	fi, err := r.lookup(k, ref.Name)
	if err != nil {
		return fileInfo{}, 0, err
	}
	i, _, err := pick(fi.name, ref.Ref, fi.versions, fi.labels)
	return fi, i, err
}

// filePath returns the file of the prompt or config name and whether it
// exists; a new one goes in dir/NAME.yaml or dir/configs/NAME.yaml. r.mu
// must be held.
func (r *Registry) filePath(k fileKind, name string) (string, bool) {
	if k == configFile {
		if c, ok := r.configs[name]; ok {
			return c.Path, true
		}
		return filepath.Join(r.dir, ConfigDir, name+".yaml"), false
	}
	if p, ok := r.prompts[name]; ok {
		return p.Path, true
	}
	return filepath.Join(r.dir, name+".yaml"), false
}

func checkName(k fileKind, name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("new version: %q is not a valid %s name: use letters, digits, '.', '_' and '-'", name, k)
	}
	return nil
}

// addVersion is the write NewVersion and NewConfigVersion share: it
// appends the version build returns to the file of name (creating the
// file when the name is new), numbered after the file's highest vN, and
// returns that number. build gets the number and whether the file
// exists. r.mu must be held.
func (r *Registry) addVersion(k fileKind, name string, build func(version string, exists bool) (*yaml.Node, error)) (string, error) {
	path, exists := r.filePath(k, name)
	var created string
	err := r.update(k, path, !exists, func(f *rawFile) error {
		version := nextVersion(f)
		node, err := build(version, exists)
		if err != nil {
			return err
		}
		if f.root == nil {
			f.doc, f.root = newDoc(name)
		}
		seq := mapValue(f.root, "versions")
		seq.Content = append(seq.Content, node)
		created = version
		return nil
	})
	return created, err
}

// NewVersion adds a version to prompt name, numbered after the file's
// highest vN, copied from the version from names (the prompt's latest
// when from is zero) with the changes of e, and stamps its created time
// and hash (and those of any draft of the file). When the prompt does not
// exist, it creates its file (dir/NAME.yaml) with version v1: from then
// names another prompt to copy, or is zero and e gives the text or
// messages. A version with the same content as the one it copies is an
// error. The file is rewritten atomically, keeping its comments and key
// order; see ConflictError for concurrent writers.
func (r *Registry) NewVersion(name string, from Ref, e Edit) (*Resolved, error) {
	if err := checkName(promptFile, name); err != nil {
		return nil, err
	}
	if e.Text != "" && e.Messages != nil {
		return nil, fmt.Errorf("new version of %s: give text or messages, not both", name)
	}
	if e.Config != nil && e.ConfigRef != "" {
		return nil, fmt.Errorf("new version of %s: give an inline config or a config reference, not both", name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	created, err := r.addVersion(promptFile, name, func(version string, exists bool) (*yaml.Node, error) {
		var base *Version
		switch {
		case !from.IsZero():
			fi, i, err := r.pickIn(promptFile, from)
			if err != nil {
				return nil, err
			}
			base = r.prompts[fi.name].Versions[i]
		case exists:
			base = r.prompts[name].Latest()
		case e.Text == "" && e.Messages == nil:
			return nil, fmt.Errorf("new prompt %s: give its text or messages (or --from a version to copy)", name)
		}
		v := &Version{Version: version}
		if base != nil {
			v.Text, v.Messages, v.Config, v.ConfigRef = base.Text, slices.Clone(base.Messages), base.Config.clone(), base.ConfigRef
		}
		switch {
		case e.Text != "":
			v.Text, v.Messages = e.Text, nil
		case e.Messages != nil:
			v.Text, v.Messages = "", slices.Clone(e.Messages)
		}
		switch {
		case e.Config != nil:
			v.Config, v.ConfigRef = e.Config.clone(), ""
		case e.ConfigRef != "":
			v.Config, v.ConfigRef = nil, e.ConfigRef
		}
		v.Note, v.Author, v.Created = e.Note, e.Author, now(e.Now)
		if base != nil && base.contentHash() == v.contentHash() {
			return nil, fmt.Errorf("new version of %s: it would have the same content as %s (%s): change the text, messages or config", name, from.withDefault(name), ShortHash(base.Hash))
		}
		node, err := versionNode(v)
		if err != nil {
			return nil, fmt.Errorf("new version of %s: %w", name, err)
		}
		return node, nil
	})
	if err != nil {
		return nil, err
	}
	return r.resolve(Ref{Name: name, Ref: created})
}

// ConfigEdit is what a new config version changes from the version it is
// copied from. Empty fields keep what that version has (Note and Author
// excepted: they describe the new version only).
type ConfigEdit struct {
	// Model and Provider replace the version's own model and provider.
	Model    string
	Provider string
	// Params, when not nil, replace the version's own params; SetParams
	// then set params over them (or over the copied ones), param by
	// param, a nil value removing the param.
	Params    map[string]any
	SetParams map[string]any
	// Extends names the config the version builds on (NAME or
	// NAME@REF): its model and provider unless the version gives them,
	// its params under the version's.
	Extends string
	// Note and Author describe the new version.
	Note   string
	Author string
	// Now is the clock that stamps created (time.Now when nil).
	Now func() time.Time
}

// NewConfigVersion adds a version to model config name as NewVersion does
// to a prompt: numbered after the file's highest vN, copied from the
// version from names (the config's latest when from is zero) with the
// changes of e, its created time and hash stamped (and those of any draft
// of the file). When the config does not exist, it creates its file
// (dir/configs/NAME.yaml) with version v1: from then names another config
// to copy, or is zero and e gives the model or extends. A version with the
// same content (model, provider, params, extends) as the one it copies is
// an error, and so is one whose extends does not resolve or forms a
// cycle. The file is rewritten atomically, keeping its comments and key
// order; see ConflictError for concurrent writers.
func (r *Registry) NewConfigVersion(name string, from Ref, e ConfigEdit) (*ResolvedConfig, error) {
	if err := checkName(configFile, name); err != nil {
		return nil, err
	}
	if e.Extends != "" {
		if _, err := ParseRef(e.Extends); err != nil {
			return nil, fmt.Errorf("new version of config %s: extends: %w", name, err)
		}
	}
	for k := range e.SetParams {
		if k == "" {
			return nil, fmt.Errorf("new version of config %s: a param needs a name", name)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	created, err := r.addVersion(configFile, name, func(version string, exists bool) (*yaml.Node, error) {
		var base *ConfigVersion
		switch {
		case !from.IsZero():
			fi, i, err := r.pickIn(configFile, from)
			if err != nil {
				return nil, err
			}
			base = r.configs[fi.name].Versions[i]
		case exists:
			base = r.configs[name].Latest()
		case e.Model == "" && e.Extends == "":
			return nil, fmt.Errorf("new config %s: give its model (or extends, naming the config it builds on, or --from a version to copy)", name)
		}
		v := &ConfigVersion{Version: version}
		if base != nil {
			v.Config, v.Extends = *base.Config.clone(), base.Extends
		}
		if e.Model != "" {
			v.Config.Model = e.Model
		}
		if e.Provider != "" {
			v.Config.Provider = e.Provider
		}
		if e.Params != nil {
			v.Config.Params = maps.Clone(e.Params)
		}
		for k, x := range e.SetParams {
			switch {
			case x == nil:
				delete(v.Config.Params, k)
			case v.Config.Params == nil:
				v.Config.Params = map[string]any{k: x}
			default:
				v.Config.Params[k] = x
			}
		}
		if len(v.Config.Params) == 0 {
			v.Config.Params = nil
		}
		if e.Extends != "" {
			v.Extends = e.Extends
		}
		v.Note, v.Author, v.Created = e.Note, e.Author, now(e.Now)
		if base != nil && base.contentHash() == v.contentHash() {
			return nil, fmt.Errorf("new version of config %s: it would have the same content as %s (%s): change the model, provider, params or extends", name, from.withDefault(name), ShortHash(base.Hash))
		}
		node, err := configVersionNode(v)
		if err != nil {
			return nil, fmt.Errorf("new version of config %s: %w", name, err)
		}
		return node, nil
	})
	if err != nil {
		return nil, err
	}
	return r.resolveConfigRef(name+"@"+created, nil)
}

// withDefault is the reference, or NAME@latest when zero.
func (r Ref) withDefault(name string) string {
	if r.IsZero() {
		return name + "@" + Latest
	}
	return r.String()
}

func versionNames(vs []*Version) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Version
	}
	return out
}

func configVersionNames(vs []*ConfigVersion) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Version
	}
	return out
}

// nextVersion returns v(N+1), N being the highest vN of the file's
// versions (0 when none).
func nextVersion(f *rawFile) string {
	n := 0
	for _, vn := range f.versions {
		if v := mapValue(vn, "version"); v != nil && versionLike.MatchString(v.Value) {
			if k, err := strconv.Atoi(v.Value[1:]); err == nil && k > n {
				n = k
			}
		}
	}
	return "v" + strconv.Itoa(n+1)
}

// MoveLabel points label of prompt name at the version ref names (a
// version, another label, or latest) and appends the move to the file's
// history; it stamps the hashes of any draft of the file. It returns the
// move. When the label already points at that version nothing is written
// and the move returned has Previous equal to Version and a zero At. The
// file is rewritten atomically, keeping its comments and key order; see
// ConflictError for concurrent writers.
func (r *Registry) MoveLabel(name, ref, label string, m Move) (LabelMove, error) {
	return r.moveLabel(promptFile, name, ref, label, m)
}

// MoveConfigLabel points label of model config name at the version ref
// names, as MoveLabel does for a prompt.
func (r *Registry) MoveConfigLabel(name, ref, label string, m Move) (LabelMove, error) {
	return r.moveLabel(configFile, name, ref, label, m)
}

func (r *Registry) moveLabel(k fileKind, name, ref, label string, m Move) (LabelMove, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fi, i, err := r.pickIn(k, Ref{Name: name, Ref: ref})
	if err != nil {
		return LabelMove{}, err
	}
	version := fi.versions[i]
	if err := checkLabelName(label, fi.versions); err != nil {
		return LabelMove{}, fmt.Errorf("%s: %w", fi.path, err)
	}
	move := LabelMove{Label: label, Version: version, Previous: fi.labels[label], By: m.By, Run: m.Run, Note: m.Note}
	if move.Previous == version {
		return move, nil
	}
	move.At = now(m.Now)
	err = r.update(k, fi.path, false, func(f *rawFile) error {
		labels := mapValue(f.root, "labels")
		if labels == nil || labels.Kind != yaml.MappingNode {
			labels = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			setMapValue(f.root, "labels", labels, "history")
		}
		if v := mapValue(labels, label); v != nil {
			v.Kind, v.Tag, v.Value, v.Style = yaml.ScalarNode, "!!str", version, 0 // its comments stay
		} else {
			labels.Content = append(labels.Content, strNode(label), strNode(version))
		}
		hist := mapValue(f.root, "history")
		if hist == nil || hist.Kind != yaml.SequenceNode {
			hist = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
			setMapValue(f.root, "history", hist, "")
		}
		hist.Content = append(hist.Content, historyNode(move))
		return nil
	})
	if err != nil {
		return LabelMove{}, err
	}
	return move, nil
}

// update rewrites the prompt or config file path: under the folder's
// lock, it checks that the file is still the one loaded, lets edit change
// its node tree (f.root is nil when create and the file is new), stamps
// the drafts' hashes, checks the result as Load would (the file, and every
// config reference of the registry with it), writes it atomically and
// puts it in the registry. r.mu must be held.
func (r *Registry) update(k fileKind, path string, create bool, edit func(f *rawFile) error) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("prompt registry: %w", err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return fmt.Errorf("prompt registry: locking %s: %w", dir, err)
	}
	defer unlock()
	cur, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && create:
		if _, err := os.Stat(strings.TrimSuffix(path, ".yaml") + ".yml"); err == nil {
			return &ConflictError{Path: strings.TrimSuffix(path, ".yaml") + ".yml"}
		}
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("prompt registry: %w", err)
	case create || !bytes.Equal(cur, r.raw[path]):
		return &ConflictError{Path: path}
	}
	f := &rawFile{}
	if !create {
		if f, err = parseNodes(k, path, cur); err != nil {
			return err
		}
	}
	if err := edit(f); err != nil {
		return err
	}
	stampDrafts(k, f)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f.doc); err != nil {
		return fmt.Errorf("%s: writing: %w", path, err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("%s: writing: %w", path, err)
	}
	out := buf.Bytes()
	undo, err := r.install(k, path, out)
	if err != nil {
		return err
	}
	perm := fs.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		perm = st.Mode().Perm()
	}
	if err := writeAtomic(path, out, perm); err != nil {
		undo()
		return err
	}
	r.missing = false
	r.raw[path] = out
	return nil
}

// parseNodes parses and checks a file of kind k, returning its nodes.
func parseNodes(k fileKind, path string, raw []byte) (*rawFile, error) {
	var f *rawFile
	var err error
	if k == configFile {
		_, f, err = parseConfig(path, raw)
	} else {
		_, f, err = parsePrompt(path, raw)
	}
	return f, err
}

// install puts the rewritten file out of kind k in the registry, after
// checking it as Load would: it parses, every version has its hash, and
// every config reference of the registry resolves with it, without
// cycles. undo puts back what was there.
func (r *Registry) install(k fileKind, path string, out []byte) (undo func(), err error) {
	var drafts []string
	if k == configFile {
		c, err := parseConfigFile(path, out)
		if err != nil {
			return nil, fmt.Errorf("the rewritten file would not load: %w", err)
		}
		for _, v := range c.Versions {
			if v.Draft {
				drafts = append(drafts, c.Name+"@"+v.Version)
			}
		}
		old, had := r.configs[c.Name]
		r.configs[c.Name] = c
		undo = func() {
			if had {
				r.configs[c.Name] = old
			} else {
				delete(r.configs, c.Name)
			}
		}
	} else {
		p, err := parsePromptFile(path, out)
		if err != nil {
			return nil, fmt.Errorf("the rewritten file would not load: %w", err)
		}
		for _, v := range p.Versions {
			if v.Draft {
				drafts = append(drafts, p.Name+"@"+v.Version)
			}
		}
		old, had := r.prompts[p.Name]
		r.prompts[p.Name] = p
		undo = func() {
			if had {
				r.prompts[p.Name] = old
			} else {
				delete(r.prompts, p.Name)
			}
		}
	}
	if len(drafts) > 0 {
		undo()
		return nil, fmt.Errorf("%s: %s: its hash was not stamped", path, strings.Join(drafts, ", "))
	}
	if errs := r.checkRefs(); len(errs) > 0 {
		undo()
		return nil, errors.Join(errs...)
	}
	return undo, nil
}

// stampDrafts adds their hash to the versions of f (a file of kind k) that
// have none.
func stampDrafts(k fileKind, f *rawFile) {
	d := &fileDecoder{path: "-", kind: k.String(), name: "-"}
	seq := mapValue(f.root, "versions")
	for _, vn := range seq.Content {
		if mapValue(vn, "hash") != nil {
			continue
		}
		var hash string
		if k == configFile {
			v, err := d.configVersion(vn, "", map[string]int{})
			if err != nil {
				continue // refused when the result is checked
			}
			hash = v.Hash
		} else {
			v, err := d.promptVersion(vn, "", map[string]int{})
			if err != nil {
				continue
			}
			hash = v.Hash
		}
		vn.Content = append(vn.Content, strNode("hash"), strNode(hash))
	}
}

// writeAtomic replaces path with data: a temporary file in the same
// folder, synced, renamed over path, and the folder synced.
func writeAtomic(path string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("prompt registry: %w", err)
	}
	done := false
	defer func() {
		if !done {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("prompt registry: writing %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		return fmt.Errorf("prompt registry: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("prompt registry: writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("prompt registry: writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("prompt registry: %w", err)
	}
	done = true
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("prompt registry: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("prompt registry: syncing %s: %w", dir, err)
	}
	return nil
}

// mapValue returns the value of key in mapping n, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// setMapValue sets key of mapping n to v: in place when the key is there,
// else before the key before (at the end when "" or absent).
func setMapValue(n *yaml.Node, key string, v *yaml.Node, before string) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			n.Content[i+1] = v
			return
		}
	}
	if before != "" {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == before {
				n.Content = slices.Insert(n.Content, i, strNode(key), v)
				return
			}
		}
	}
	n.Content = append(n.Content, strNode(key), v)
}

// strNode is a string scalar.
func strNode(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if strings.Contains(s, "\n") {
		n.Style = yaml.LiteralStyle
	}
	return n
}

// timeNode is a timestamp scalar, written unquoted.
func timeNode(t time.Time) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!timestamp", Value: t.UTC().Format(time.RFC3339)}
}

// newDoc returns the document of a new prompt file.
func newDoc(name string) (doc, root *yaml.Node) {
	root = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
		strNode("name"), strNode(name),
		strNode("versions"), {Kind: yaml.SequenceNode, Tag: "!!seq"},
	}}
	return &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}, root
}

// versionNode is the YAML of a new version, its hash stamped.
func versionNode(v *Version) (*yaml.Node, error) {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	add := func(k string, v *yaml.Node) { n.Content = append(n.Content, strNode(k), v) }
	add("version", strNode(v.Version))
	if v.Messages != nil {
		seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, m := range v.Messages {
			seq.Content = append(seq.Content, &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
				strNode("role"), strNode(m.Role), strNode("content"), strNode(m.Content),
			}})
		}
		add("messages", seq)
	} else {
		add("text", strNode(v.Text))
	}
	switch {
	case v.ConfigRef != "":
		add("config", strNode(v.ConfigRef))
	case v.Config != nil:
		fields, err := configFields(v.Config)
		if err != nil {
			return nil, err
		}
		add("config", &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle, Content: fields})
	}
	addMeta(n, v.Note, v.Author, v.Created, v.contentHash())
	return n, nil
}

// configVersionNode is the YAML of a new config version, its hash
// stamped.
func configVersionNode(v *ConfigVersion) (*yaml.Node, error) {
	fields, err := configFields(&v.Config)
	if err != nil {
		return nil, err
	}
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	n.Content = append(n.Content, strNode("version"), strNode(v.Version))
	n.Content = append(n.Content, fields...)
	if v.Extends != "" {
		n.Content = append(n.Content, strNode("extends"), strNode(v.Extends))
	}
	addMeta(n, v.Note, v.Author, v.Created, v.contentHash())
	return n, nil
}

// configFields are the key and value nodes of a config's model, provider
// and params (a flow mapping), those it has.
func configFields(c *Config) ([]*yaml.Node, error) {
	var out []*yaml.Node
	if c.Model != "" {
		out = append(out, strNode("model"), strNode(c.Model))
	}
	if c.Provider != "" {
		out = append(out, strNode("provider"), strNode(c.Provider))
	}
	if len(c.Params) > 0 {
		var p yaml.Node
		if err := p.Encode(c.Params); err != nil {
			return nil, fmt.Errorf("config params: %w", err)
		}
		p.Style = yaml.FlowStyle
		out = append(out, strNode("params"), &p)
	}
	return out, nil
}

// addMeta appends a new version's note and author (when given), created
// and hash to its mapping n.
func addMeta(n *yaml.Node, note, author string, created time.Time, hash string) {
	if note != "" {
		n.Content = append(n.Content, strNode("note"), strNode(note))
	}
	if author != "" {
		n.Content = append(n.Content, strNode("author"), strNode(author))
	}
	n.Content = append(n.Content, strNode("created"), timeNode(created), strNode("hash"), strNode(hash))
}

// historyNode is the YAML of one history entry, on one line.
func historyNode(m LabelMove) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle}
	for _, kv := range [][2]string{{"label", m.Label}, {"version", m.Version}, {"previous", m.Previous}} {
		n.Content = append(n.Content, strNode(kv[0]), strNode(kv[1]))
	}
	n.Content = append(n.Content, strNode("at"), timeNode(m.At))
	for _, kv := range [][2]string{{"by", m.By}, {"run", m.Run}, {"note", m.Note}} {
		n.Content = append(n.Content, strNode(kv[0]), strNode(kv[1]))
	}
	return n
}
