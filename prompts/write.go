package prompts

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
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
	if !namePattern.MatchString(name) {
		return nil, fmt.Errorf("new version: %q is not a valid prompt name: use letters, digits, '.', '_' and '-'", name)
	}
	if e.Text != "" && e.Messages != nil {
		return nil, fmt.Errorf("new version of %s: give text or messages, not both", name)
	}
	if e.Config != nil && e.ConfigRef != "" {
		return nil, fmt.Errorf("new version of %s: give an inline config or a config reference, not both", name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	existing := r.prompts[name]
	path := filepath.Join(r.dir, name+".yaml")
	if existing != nil {
		path = existing.Path
	}
	var created string
	err := r.update(path, existing == nil, func(f *rawFile) error {
		var base *Version
		switch {
		case !from.IsZero():
			p, err := r.prompt(from.Name)
			if err != nil {
				return err
			}
			i, _, err := pick(p.Name, from.Ref, versionNames(p.Versions), p.Labels)
			if err != nil {
				return err
			}
			base = p.Versions[i]
		case existing != nil:
			base = existing.Latest()
		case e.Text == "" && e.Messages == nil:
			return fmt.Errorf("new prompt %s: give its text or messages (or --from a version to copy)", name)
		}
		v := &Version{}
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
		v.Version = nextVersion(f)
		if base != nil && base.contentHash() == v.contentHash() {
			return fmt.Errorf("new version of %s: it would have the same content as %s (%s): change the text, messages or config", name, from.withDefault(name), ShortHash(base.Hash))
		}
		node, err := versionNode(v)
		if err != nil {
			return fmt.Errorf("new version of %s: %w", name, err)
		}
		if f.root == nil {
			f.doc, f.root = newDoc(name)
		}
		seq := mapValue(f.root, "versions")
		seq.Content = append(seq.Content, node)
		created = v.Version
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r.resolve(Ref{Name: name, Ref: created})
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
	r.mu.Lock()
	defer r.mu.Unlock()
	p, err := r.prompt(name)
	if err != nil {
		return LabelMove{}, err
	}
	names := versionNames(p.Versions)
	i, _, err := pick(p.Name, ref, names, p.Labels)
	if err != nil {
		return LabelMove{}, err
	}
	version := names[i]
	if err := checkLabelName(label, names); err != nil {
		return LabelMove{}, fmt.Errorf("%s: %w", p.Path, err)
	}
	move := LabelMove{Label: label, Version: version, Previous: p.Labels[label], By: m.By, Run: m.Run, Note: m.Note}
	if move.Previous == version {
		return move, nil
	}
	move.At = now(m.Now)
	err = r.update(p.Path, false, func(f *rawFile) error {
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

// update rewrites the prompt file path: under the directory's lock, it
// checks that the file is still the one loaded, lets edit change its node
// tree (f.root is nil when create and the file is new), stamps the drafts'
// hashes, checks the result as Load would, writes it atomically and puts
// it in the registry. r.mu must be held.
func (r *Registry) update(path string, create bool, edit func(f *rawFile) error) error {
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
		if _, f, err = parsePrompt(path, cur); err != nil {
			return err
		}
	}
	if err := edit(f); err != nil {
		return err
	}
	stampDrafts(f)
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
	p, err := parsePromptFile(path, out)
	if err != nil {
		return fmt.Errorf("the rewritten file would not load: %w", err)
	}
	for _, v := range p.Versions {
		if v.Draft {
			return fmt.Errorf("%s: %s@%s: its hash was not stamped", path, p.Name, v.Version)
		}
		if v.ConfigRef != "" {
			if _, err := r.resolveConfigRef(v.ConfigRef, nil); err != nil {
				return fmt.Errorf("%s: %s@%s: config %s: %w", path, p.Name, v.Version, v.ConfigRef, err)
			}
		}
	}
	perm := fs.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		perm = st.Mode().Perm()
	}
	if err := writeAtomic(path, out, perm); err != nil {
		return err
	}
	r.missing = false
	r.prompts[p.Name] = p
	r.raw[path] = out
	return nil
}

// stampDrafts adds their hash to the versions of f that have none.
func stampDrafts(f *rawFile) {
	seq := mapValue(f.root, "versions")
	for _, vn := range seq.Content {
		if mapValue(vn, "hash") != nil {
			continue
		}
		v, err := (&fileDecoder{path: "-", kind: "prompt", name: "-"}).promptVersion(vn, "", map[string]int{})
		if err != nil {
			continue // refused when the result is checked
		}
		vn.Content = append(vn.Content, strNode("hash"), strNode(v.Hash))
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
		c := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle}
		if v.Config.Model != "" {
			c.Content = append(c.Content, strNode("model"), strNode(v.Config.Model))
		}
		if v.Config.Provider != "" {
			c.Content = append(c.Content, strNode("provider"), strNode(v.Config.Provider))
		}
		if len(v.Config.Params) > 0 {
			var p yaml.Node
			if err := p.Encode(v.Config.Params); err != nil {
				return nil, fmt.Errorf("config params: %w", err)
			}
			p.Style = yaml.FlowStyle
			c.Content = append(c.Content, strNode("params"), &p)
		}
		add("config", c)
	}
	if v.Note != "" {
		add("note", strNode(v.Note))
	}
	if v.Author != "" {
		add("author", strNode(v.Author))
	}
	add("created", timeNode(v.Created))
	add("hash", strNode(v.contentHash()))
	return n, nil
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
