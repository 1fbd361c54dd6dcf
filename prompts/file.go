package prompts

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/gavel-eval/gavel/internal/yamlstrict"
)

// FileError is a problem with a registry file. Its message names the file,
// the line and column when known, and the prompt (or config) and version.
type FileError struct {
	Path    string
	Line    int
	Column  int
	Name    string // the prompt or config, when known
	Version string // the version, when known
	Msg     string
}

func (e *FileError) Error() string {
	loc := e.Path
	switch {
	case e.Line > 0 && e.Column > 0:
		loc = fmt.Sprintf("%s:%d:%d", e.Path, e.Line, e.Column)
	case e.Line > 0:
		loc = fmt.Sprintf("%s:%d", e.Path, e.Line)
	}
	return loc + ": " + e.Msg
}

// HashMismatchError is the error of a version whose content no longer has
// the hash recorded when it was published: it was edited in place.
type HashMismatchError struct {
	FileError
	Recorded string
	Content  string
}

func (e *HashMismatchError) Unwrap() error { return &e.FileError }

// Keys of the files, in the order written.
var (
	fileKeys          = []string{"name", "versions", "labels", "history"}
	promptVersionKeys = []string{"version", "text", "messages", "config", "note", "author", "created", "hash"}
	configVersionKeys = []string{"version", "model", "provider", "params", "extends", "note", "author", "created", "hash"}
	inlineConfigKeys  = []string{"model", "provider", "params"}
	messageKeys       = []string{"role", "content"}
	historyKeys       = []string{"label", "version", "previous", "at", "by", "run", "note"}
)

var hashPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// fileDecoder decodes one registry file from its YAML nodes, strictly.
type fileDecoder struct {
	path    string
	kind    string // "prompt" or "config"
	name    string // the file's prompt or config, once known
	version string // the version being decoded, once known
}

// errf returns a *FileError at node n. The message is prefixed by the
// prompt and version being decoded, and the field path when not "".
func (d *fileDecoder) errf(n *yaml.Node, path, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	switch {
	case d.name != "" && d.version != "":
		msg = d.name + "@" + d.version + ": " + msg
	case d.name != "":
		msg = d.name + ": " + msg
	}
	e := &FileError{Path: d.path, Name: d.name, Version: d.version, Msg: msg}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	return e
}

// pairs returns the key/value pairs of mapping n, refusing unknown and
// repeated keys.
func (d *fileDecoder) pairs(n *yaml.Node, path string, known []string) ([][2]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, d.errf(n, path, "%s", yamlstrict.Expected("a mapping", describe(n)))
	}
	var out [][2]*yaml.Node
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, d.errf(k, path, "keys must be strings")
		}
		kp := yamlstrict.Join(path, k.Value)
		if !slices.Contains(known, k.Value) {
			return nil, d.errf(k, kp, "%s", yamlstrict.UnknownField(sortedCopy(known)))
		}
		if seen[k.Value] {
			return nil, d.errf(k, kp, "given twice")
		}
		seen[k.Value] = true
		out = append(out, [2]*yaml.Node{k, v})
	}
	return out, nil
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// describe says what a node holds, for type errors.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	if n.ShortTag() == "!!null" {
		return "null"
	}
	if n.ShortTag() == "!!str" {
		return fmt.Sprintf("%q", n.Value)
	}
	return n.Value
}

// str decodes a string scalar.
func (d *fileDecoder) str(n *yaml.Node, path string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		return "", d.errf(n, path, "%s (quote it)", yamlstrict.Expected("a string", describe(n)))
	}
	return n.Value, nil
}

// ident decodes a name: a string made of letters, digits, '.', '_' and '-'.
func (d *fileDecoder) ident(n *yaml.Node, path string) (string, error) {
	s, err := d.str(n, path)
	if err != nil {
		return "", err
	}
	if !namePattern.MatchString(s) {
		return "", d.errf(n, path, "%q is not a valid name: use letters, digits, '.', '_' and '-', starting with a letter or digit", s)
	}
	return s, nil
}

// ref decodes a reference NAME or NAME@REF.
func (d *fileDecoder) ref(n *yaml.Node, path string) (string, error) {
	s, err := d.str(n, path)
	if err != nil {
		return "", err
	}
	if _, err := ParseRef(s); err != nil {
		return "", d.errf(n, path, "%v", err)
	}
	return s, nil
}

// timestamp decodes an RFC 3339 time (or a date).
func (d *fileDecoder) timestamp(n *yaml.Node, path string) (time.Time, error) {
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!timestamp" && n.ShortTag() != "!!str") {
		return time.Time{}, d.errf(n, path, "%s", yamlstrict.Expected("a time such as 2026-11-01T10:00:00Z", describe(n)))
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, n.Value); err == nil {
			return t, nil
		}
	}
	return time.Time{}, d.errf(n, path, "%q is not a time such as 2026-11-01T10:00:00Z", n.Value)
}

// value decodes any YAML value into what JSON can hold: maps with string
// keys, lists, strings, finite numbers, booleans and null.
func (d *fileDecoder) value(n *yaml.Node, path string) (any, error) {
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
				return nil, d.errf(k, path, "keys must be strings")
			}
			kp := yamlstrict.Join(path, k.Value)
			if _, dup := m[k.Value]; dup {
				return nil, d.errf(k, kp, "given twice")
			}
			x, err := d.value(v, kp)
			if err != nil {
				return nil, err
			}
			m[k.Value] = x
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			x, err := d.value(c, yamlstrict.Index(path, i))
			if err != nil {
				return nil, err
			}
			l = append(l, x)
		}
		return l, nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str", "!!timestamp", "!!binary":
			return n.Value, nil
		case "!!null":
			return nil, nil
		}
		var x any
		if err := n.Decode(&x); err != nil {
			return nil, d.errf(n, path, "%v", err)
		}
		switch v := x.(type) {
		case float64:
			if math.IsInf(v, 0) || math.IsNaN(v) {
				return nil, d.errf(n, path, "%s is not a finite number", n.Value)
			}
		case bool, int, int64, uint64, string, nil:
		default:
			return n.Value, nil
		}
		return x, nil
	}
	return nil, d.errf(n, path, "%s is not supported here", describe(n))
}

// noAliases refuses anchors' aliases and merge keys anywhere under n: a
// version's content is what its file says, in one place.
func (d *fileDecoder) noAliases(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode {
		return d.errf(n, "", "aliases (*name) are not supported in registry files")
	}
	for _, c := range n.Content {
		if err := d.noAliases(c); err != nil {
			return err
		}
	}
	return nil
}

// rawFile is what prompt and config files share: name, the versions'
// nodes, labels and history.
type rawFile struct {
	doc      *yaml.Node // the document node, for writing back
	root     *yaml.Node
	versions []*yaml.Node
	labels   map[string]string
	labelAt  map[string]*yaml.Node
	history  []LabelMove
}

// parseDoc parses a file's bytes into its document node.
func parseDoc(path string, raw []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &FileError{Path: path, Msg: "empty file: want a name and versions"}
		}
		return nil, &FileError{Path: path, Line: yamlErrorLine(err), Msg: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		return nil, &FileError{Path: path, Line: next.Line, Msg: "more than one YAML document: want one prompt per file"}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || (doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].ShortTag() == "!!null") {
		return nil, &FileError{Path: path, Msg: "empty file: want a name and versions"}
	}
	return &doc, nil
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// yamlErrorLine returns the line a YAML syntax error names, or 0.
func yamlErrorLine(err error) int {
	m := yamlLine.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	n := 0
	for _, c := range m[1] {
		n = n*10 + int(c-'0')
		if n > 1<<30 {
			return 0
		}
	}
	return n
}

// decodeRaw decodes what every registry file has; versionNames gives each
// version node's name once decoded (for checking labels).
func (d *fileDecoder) decodeRaw(doc *yaml.Node, kind string) (*rawFile, error) {
	root := doc.Content[0]
	if err := d.noAliases(root); err != nil {
		return nil, err
	}
	pairs, err := d.pairs(root, "", fileKeys)
	if err != nil {
		return nil, err
	}
	f := &rawFile{doc: doc, root: root, labels: map[string]string{}, labelAt: map[string]*yaml.Node{}}
	var nameNode, versionsNode, labelsNode, historyNode *yaml.Node
	for _, kv := range pairs {
		switch kv[0].Value {
		case "name":
			nameNode = kv[1]
		case "versions":
			versionsNode = kv[1]
		case "labels":
			labelsNode = kv[1]
		case "history":
			historyNode = kv[1]
		}
	}
	want := baseName(d.path)
	if nameNode == nil {
		return nil, d.errf(root, "", "no name: want name: %s", want)
	}
	name, err := d.ident(nameNode, "name")
	if err != nil {
		return nil, err
	}
	if name != want {
		return nil, d.errf(nameNode, "name", "the %s is named %q but its file is %s: the name must be the file's base name (%s)", kind, name, d.path, want)
	}
	d.name = name
	if versionsNode == nil {
		return nil, d.errf(root, "", "no versions")
	}
	if versionsNode.Kind != yaml.SequenceNode {
		return nil, d.errf(versionsNode, "versions", "%s", yamlstrict.Expected("a list", describe(versionsNode)))
	}
	if len(versionsNode.Content) == 0 {
		return nil, d.errf(versionsNode, "versions", "no versions")
	}
	f.versions = versionsNode.Content
	if labelsNode != nil && !(labelsNode.Kind == yaml.ScalarNode && labelsNode.ShortTag() == "!!null") {
		if labelsNode.Kind != yaml.MappingNode {
			return nil, d.errf(labelsNode, "labels", "%s", yamlstrict.Expected("a mapping of label: version", describe(labelsNode)))
		}
		for i := 0; i+1 < len(labelsNode.Content); i += 2 {
			k, v := labelsNode.Content[i], labelsNode.Content[i+1]
			label, err := d.ident(k, "labels")
			if err != nil {
				return nil, err
			}
			if _, dup := f.labels[label]; dup {
				return nil, d.errf(k, yamlstrict.Join("labels", label), "given twice")
			}
			ver, err := d.ident(v, yamlstrict.Join("labels", label))
			if err != nil {
				return nil, err
			}
			f.labels[label], f.labelAt[label] = ver, k
		}
	}
	if historyNode != nil && !(historyNode.Kind == yaml.ScalarNode && historyNode.ShortTag() == "!!null") {
		if historyNode.Kind != yaml.SequenceNode {
			return nil, d.errf(historyNode, "history", "%s", yamlstrict.Expected("a list", describe(historyNode)))
		}
		for i, h := range historyNode.Content {
			m, err := d.labelMove(h, yamlstrict.Index("history", i))
			if err != nil {
				return nil, err
			}
			f.history = append(f.history, m)
		}
	}
	return f, nil
}

// labelMove decodes one history entry.
func (d *fileDecoder) labelMove(n *yaml.Node, path string) (LabelMove, error) {
	var m LabelMove
	pairs, err := d.pairs(n, path, historyKeys)
	if err != nil {
		return m, err
	}
	for _, kv := range pairs {
		kp := yamlstrict.Join(path, kv[0].Value)
		var err error
		switch kv[0].Value {
		case "label":
			m.Label, err = d.ident(kv[1], kp)
		case "version":
			m.Version, err = d.ident(kv[1], kp)
		case "previous":
			m.Previous, err = d.str(kv[1], kp)
		case "at":
			m.At, err = d.timestamp(kv[1], kp)
		case "by":
			m.By, err = d.str(kv[1], kp)
		case "run":
			m.Run, err = d.str(kv[1], kp)
		case "note":
			m.Note, err = d.str(kv[1], kp)
		}
		if err != nil {
			return m, err
		}
	}
	if m.Label == "" || m.Version == "" {
		return m, d.errf(n, path, "a history entry needs a label and a version")
	}
	return m, nil
}

// checkLabels checks the labels against the versions: each names one, none
// is named like a version or latest.
func (d *fileDecoder) checkLabels(f *rawFile, versions []string) error {
	d.version = ""
	for _, label := range sortedKeys(f.labels) {
		at := f.labelAt[label]
		v := f.labels[label]
		if err := checkLabelName(label, versions); err != nil {
			return d.errf(at, yamlstrict.Join("labels", label), "%v", err)
		}
		if !slices.Contains(versions, v) {
			return d.errf(at, yamlstrict.Join("labels", label), "label %s points at %s@%s, which is not a version of the file (versions: %s)", label, d.name, v, strings.Join(versions, ", "))
		}
	}
	return nil
}

// checkLabelName says why label cannot be a label of a file with versions,
// or returns nil.
func checkLabelName(label string, versions []string) error {
	switch {
	case !namePattern.MatchString(label):
		return fmt.Errorf("%q is not a valid label: use letters, digits, '.', '_' and '-'", label)
	case label == Latest:
		return fmt.Errorf("%q is reserved (NAME@latest is the last version): choose another label", Latest)
	case slices.Contains(versions, label) || versionLike.MatchString(label):
		return fmt.Errorf("label %q is named like a version: NAME@%s must mean one thing; choose another label", label, label)
	}
	return nil
}

// checkVersionName checks a version's name and that it is new.
func (d *fileDecoder) checkVersionName(n *yaml.Node, path, v string, seen map[string]int) error {
	if v == Latest {
		return d.errf(n, path, "%q is reserved (NAME@latest is the last version): name the version otherwise", Latest)
	}
	if line, dup := seen[v]; dup {
		return d.errf(n, path, "duplicate version %s (also on line %d): versions must be unique", v, line)
	}
	seen[v] = n.Line
	return nil
}

// checkHash checks a version's recorded hash against its content's.
func (d *fileDecoder) checkHash(n *yaml.Node, recorded, content string) error {
	if recorded == "" || recorded == content {
		return nil
	}
	fe := d.errf(n, "", "").(*FileError)
	fe.Msg = fmt.Sprintf("%s@%s was edited after it was published (hash %s recorded, content is %s): versions are immutable, ",
		d.name, d.version, ShortHash(recorded), ShortHash(content))
	if d.kind == "config" {
		fe.Msg += fmt.Sprintf("add one with `gavel prompts config new %s --from %s@%s`", d.name, d.name, d.version)
	} else {
		fe.Msg += fmt.Sprintf("add one with `gavel prompts new %s --from %s@%s`", d.name, d.name, d.version)
	}
	return &HashMismatchError{FileError: *fe, Recorded: recorded, Content: content}
}

// ShortHash abbreviates a content hash for display: sha256: and 12 hex
// digits, then "…".
func ShortHash(h string) string {
	const n = len("sha256:") + 12
	if len(h) <= n {
		return h
	}
	return h[:n] + "…"
}

// versionHash decodes a version's hash field.
func (d *fileDecoder) versionHash(n *yaml.Node, path string) (string, error) {
	s, err := d.str(n, path)
	if err != nil {
		return "", err
	}
	if !hashPattern.MatchString(s) {
		return "", d.errf(n, path, "%q is not a content hash: want sha256: and 64 hex digits (or no hash, for a draft gavel stamps)", s)
	}
	return s, nil
}

// parsePromptFile parses and checks a prompt file.
func parsePromptFile(path string, raw []byte) (*Prompt, error) {
	p, _, err := parsePrompt(path, raw)
	return p, err
}

// parsePrompt parses and checks a prompt file, returning its nodes too.
func parsePrompt(path string, raw []byte) (*Prompt, *rawFile, error) {
	doc, err := parseDoc(path, raw)
	if err != nil {
		return nil, nil, err
	}
	d := &fileDecoder{path: path, kind: "prompt", name: baseName(path)}
	f, err := d.decodeRaw(doc, "prompt")
	if err != nil {
		return nil, nil, err
	}
	p := &Prompt{Name: d.name, Path: path, Labels: f.labels, History: f.history}
	seen := map[string]int{}
	var names []string
	for i, vn := range f.versions {
		d.version = ""
		v, err := d.promptVersion(vn, yamlstrict.Index("versions", i), seen)
		if err != nil {
			return nil, nil, err
		}
		p.Versions = append(p.Versions, v)
		names = append(names, v.Version)
	}
	if err := d.checkLabels(f, names); err != nil {
		return nil, nil, err
	}
	return p, f, nil
}

// knownVersion sets d.version to the name a version's node gives, if any,
// so that every error about it names it, and returns the field path to
// use under it ("" when named, else path).
func (d *fileDecoder) knownVersion(n *yaml.Node, path string) string {
	d.version = ""
	if v := mapValue(n, "version"); v != nil && v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str" && namePattern.MatchString(v.Value) && v.Value != Latest {
		d.version = v.Value
		return ""
	}
	return path
}

// versionHead reads what every version of a file starts with: its keys
// (of known, checked), keyed by name, and its name, checked unique against
// seen; it makes the version the one errors name.
func (d *fileDecoder) versionHead(n *yaml.Node, path string, known []string, seen map[string]int) ([][2]*yaml.Node, map[string]*yaml.Node, string, error) {
	path = d.knownVersion(n, path)
	pairs, err := d.pairs(n, path, known)
	if err != nil {
		return nil, nil, "", err
	}
	fields := map[string]*yaml.Node{}
	for _, kv := range pairs {
		fields[kv[0].Value] = kv[1]
	}
	vn, ok := fields["version"]
	if !ok {
		return nil, nil, "", d.errf(n, path, "no version: give it a name such as v1")
	}
	name, err := d.ident(vn, yamlstrict.Join(path, "version"))
	if err != nil {
		return nil, nil, "", err
	}
	if err := d.checkVersionName(vn, yamlstrict.Join(path, "version"), name, seen); err != nil {
		return nil, nil, "", err
	}
	d.version = name
	return pairs, fields, name, nil
}

// promptVersion decodes one version of a prompt.
func (d *fileDecoder) promptVersion(n *yaml.Node, path string, seen map[string]int) (*Version, error) {
	_, fields, name, err := d.versionHead(n, path, promptVersionKeys, seen)
	if err != nil {
		return nil, err
	}
	v := &Version{Version: name, Line: n.Line, Column: n.Column}
	tn, hasText := fields["text"]
	mn, hasMessages := fields["messages"]
	switch {
	case hasText && hasMessages:
		return nil, d.errf(mn, "", "both text and messages: give exactly one")
	case !hasText && !hasMessages:
		return nil, d.errf(n, "", "neither text nor messages: give exactly one")
	case hasText:
		if v.Text, err = d.str(tn, "text"); err != nil {
			return nil, err
		}
		if v.Text == "" {
			return nil, d.errf(tn, "text", "empty")
		}
		t, err := d.template(tn, "text", v.Text, "")
		if err != nil {
			return nil, err
		}
		v.tmpls = []*Template{t}
	default:
		if mn.Kind != yaml.SequenceNode || len(mn.Content) == 0 {
			return nil, d.errf(mn, "messages", "%s", yamlstrict.Expected("a list of {role, content}", describe(mn)))
		}
		for i, m := range mn.Content {
			mp := yamlstrict.Index("messages", i)
			msg, t, err := d.message(m, mp, i)
			if err != nil {
				return nil, err
			}
			v.Messages = append(v.Messages, msg)
			v.tmpls = append(v.tmpls, t)
		}
	}
	if cn, ok := fields["config"]; ok {
		if cn.Kind == yaml.ScalarNode {
			if v.ConfigRef, err = d.ref(cn, "config"); err != nil {
				return nil, err
			}
			v.refLine, v.refColumn = cn.Line, cn.Column
		} else {
			if v.Config, err = d.inlineConfig(cn, "config"); err != nil {
				return nil, err
			}
		}
	}
	if err := d.meta(fields, &v.Note, &v.Author, &v.Created); err != nil {
		return nil, err
	}
	v.Hash = v.contentHash()
	if hn, ok := fields["hash"]; ok {
		recorded, err := d.versionHash(hn, "hash")
		if err != nil {
			return nil, err
		}
		if err := d.checkHash(hn, recorded, v.Hash); err != nil {
			return nil, err
		}
	} else {
		v.Draft = true
	}
	return v, nil
}

// meta decodes note, author and created.
func (d *fileDecoder) meta(fields map[string]*yaml.Node, note, author *string, created *time.Time) error {
	var err error
	if n, ok := fields["note"]; ok {
		if *note, err = d.str(n, "note"); err != nil {
			return err
		}
	}
	if n, ok := fields["author"]; ok {
		if *author, err = d.str(n, "author"); err != nil {
			return err
		}
	}
	if n, ok := fields["created"]; ok {
		if *created, err = d.timestamp(n, "created"); err != nil {
			return err
		}
	}
	return nil
}

// template parses a template of the version being decoded.
func (d *fileDecoder) template(n *yaml.Node, path, text, suffix string) (*Template, error) {
	t, err := Parse(d.name+"@"+d.version+suffix, text)
	if err != nil {
		return nil, d.errf(n, path, "%v", err)
	}
	return t, nil
}

// message decodes one chat message.
func (d *fileDecoder) message(n *yaml.Node, path string, i int) (Message, *Template, error) {
	var m Message
	pairs, err := d.pairs(n, path, messageKeys)
	if err != nil {
		return m, nil, err
	}
	var contentNode *yaml.Node
	for _, kv := range pairs {
		kp := yamlstrict.Join(path, kv[0].Value)
		switch kv[0].Value {
		case "role":
			if m.Role, err = d.str(kv[1], kp); err != nil {
				return m, nil, err
			}
			if !slices.Contains(roles, m.Role) {
				return m, nil, d.errf(kv[1], kp, "%q is not a role: want one of %s", m.Role, strings.Join(roles, ", "))
			}
		case "content":
			if m.Content, err = d.str(kv[1], kp); err != nil {
				return m, nil, err
			}
			contentNode = kv[1]
		}
	}
	if m.Role == "" {
		return m, nil, d.errf(n, path, "no role: want one of %s", strings.Join(roles, ", "))
	}
	if contentNode == nil || m.Content == "" {
		return m, nil, d.errf(n, path, "no content")
	}
	t, err := d.template(contentNode, yamlstrict.Join(path, "content"), m.Content, fmt.Sprintf(" message %d", i+1))
	return m, t, err
}

// inlineConfig decodes a version's config given inline.
func (d *fileDecoder) inlineConfig(n *yaml.Node, path string) (*Config, error) {
	pairs, err := d.pairs(n, path, inlineConfigKeys)
	if err != nil {
		return nil, err
	}
	c := &Config{}
	for _, kv := range pairs {
		if err := d.configField(c, kv, yamlstrict.Join(path, kv[0].Value)); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// configField decodes model, provider or params into c.
func (d *fileDecoder) configField(c *Config, kv [2]*yaml.Node, path string) error {
	var err error
	switch kv[0].Value {
	case "model":
		c.Model, err = d.str(kv[1], path)
	case "provider":
		c.Provider, err = d.str(kv[1], path)
	case "params":
		if kv[1].Kind == yaml.ScalarNode && kv[1].ShortTag() == "!!null" {
			return nil
		}
		if kv[1].Kind != yaml.MappingNode {
			return d.errf(kv[1], path, "%s", yamlstrict.Expected("a mapping", describe(kv[1])))
		}
		var x any
		if x, err = d.value(kv[1], path); err == nil && len(x.(map[string]any)) > 0 {
			c.Params = x.(map[string]any)
		}
	}
	return err
}

// parseConfigFile parses and checks a model config file.
func parseConfigFile(path string, raw []byte) (*ModelConfig, error) {
	c, _, err := parseConfig(path, raw)
	return c, err
}

// parseConfig parses and checks a model config file, returning its nodes
// too.
func parseConfig(path string, raw []byte) (*ModelConfig, *rawFile, error) {
	doc, err := parseDoc(path, raw)
	if err != nil {
		return nil, nil, err
	}
	d := &fileDecoder{path: path, kind: "config", name: baseName(path)}
	f, err := d.decodeRaw(doc, "config")
	if err != nil {
		return nil, nil, err
	}
	c := &ModelConfig{Name: d.name, Path: path, Labels: f.labels, History: f.history}
	seen := map[string]int{}
	var names []string
	for i, vn := range f.versions {
		v, err := d.configVersion(vn, yamlstrict.Index("versions", i), seen)
		if err != nil {
			return nil, nil, err
		}
		c.Versions = append(c.Versions, v)
		names = append(names, v.Version)
	}
	if err := d.checkLabels(f, names); err != nil {
		return nil, nil, err
	}
	return c, f, nil
}

// configVersion decodes one version of a model config.
func (d *fileDecoder) configVersion(n *yaml.Node, path string, seen map[string]int) (*ConfigVersion, error) {
	pairs, fields, name, err := d.versionHead(n, path, configVersionKeys, seen)
	if err != nil {
		return nil, err
	}
	v := &ConfigVersion{Version: name, Line: n.Line, Column: n.Column}
	for _, kv := range pairs {
		switch kv[0].Value {
		case "model", "provider", "params":
			if err := d.configField(&v.Config, kv, kv[0].Value); err != nil {
				return nil, err
			}
		case "extends":
			if v.Extends, err = d.ref(kv[1], "extends"); err != nil {
				return nil, err
			}
			v.refLine, v.refColumn = kv[1].Line, kv[1].Column
		}
	}
	if v.Config.Model == "" && v.Extends == "" {
		return nil, d.errf(n, "", "no model: give model (or extends, naming the config this one builds on)")
	}
	if err := d.meta(fields, &v.Note, &v.Author, &v.Created); err != nil {
		return nil, err
	}
	v.Hash = v.contentHash()
	if hn, ok := fields["hash"]; ok {
		recorded, err := d.versionHash(hn, "hash")
		if err != nil {
			return nil, err
		}
		if err := d.checkHash(hn, recorded, v.Hash); err != nil {
			return nil, err
		}
	} else {
		v.Draft = true
	}
	return v, nil
}

// ParseMessages reads chat messages from YAML or JSON (a list of {role,
// content}) as a prompt file holds them, strictly; name (a file name)
// appears in errors. Each content must parse as a template.
func ParseMessages(name string, data []byte) ([]Message, error) {
	doc, err := parseDoc(name, data)
	if err != nil {
		return nil, err
	}
	d := &fileDecoder{path: name, kind: "prompt"}
	n := doc.Content[0]
	if err := d.noAliases(n); err != nil {
		return nil, err
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		return nil, d.errf(n, "", "%s", yamlstrict.Expected("a list of {role, content}", describe(n)))
	}
	var out []Message
	for i, m := range n.Content {
		msg, _, err := d.message(m, yamlstrict.Index("messages", i), i)
		if err != nil {
			return nil, err
		}
		out = append(out, msg)
	}
	return out, nil
}

// ParseParams reads model params from YAML or JSON (a mapping of name to
// value) as a config file holds them, strictly: no aliases, finite
// numbers. name (a file name) appears in errors. An empty mapping or
// null is no params.
func ParseParams(name string, data []byte) (map[string]any, error) {
	doc, err := parseDoc(name, data)
	if err != nil {
		if fe, ok := errors.AsType[*FileError](err); ok && strings.HasPrefix(fe.Msg, "empty file") {
			return map[string]any{}, nil
		}
		return nil, err
	}
	d := &fileDecoder{path: name, kind: "config"}
	n := doc.Content[0]
	if err := d.noAliases(n); err != nil {
		return nil, err
	}
	c := &Config{}
	if err := d.configField(c, [2]*yaml.Node{{Value: "params"}, n}, "params"); err != nil {
		return nil, err
	}
	if c.Params == nil {
		return map[string]any{}, nil
	}
	return c.Params, nil
}

// ParseParam reads KEY=VALUE, VALUE a YAML scalar as a config file would
// read it: temperature=0.2 is a number, stream=true a boolean, stop=END
// a string, and seed= or seed=null is nil (in ConfigEdit.SetParams, the
// param removed). A VALUE starting with [ or { is a flow list or mapping.
func ParseParam(s string) (string, any, error) {
	key, val, ok := strings.Cut(s, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" {
		return "", nil, fmt.Errorf("param %q: want KEY=VALUE, e.g. temperature=0.2", s)
	}
	if strings.TrimSpace(val) == "" {
		return key, nil, nil
	}
	d := &fileDecoder{path: "param " + key, kind: "config"}
	var doc yaml.Node
	err := yaml.Unmarshal([]byte(val), &doc)
	if err != nil || len(doc.Content) != 1 {
		if t := strings.TrimSpace(val); strings.HasPrefix(t, "[") || strings.HasPrefix(t, "{") {
			return "", nil, fmt.Errorf("param %s: %q is not a YAML value", key, val)
		}
		return key, val, nil
	}
	n := doc.Content[0]
	if n.Kind != yaml.ScalarNode {
		if t := strings.TrimSpace(val); !strings.HasPrefix(t, "[") && !strings.HasPrefix(t, "{") {
			return key, val, nil // "a: b" or "- x" is text, not a mapping or a list
		}
	}
	if err := d.noAliases(n); err != nil {
		return "", nil, err
	}
	x, err := d.value(n, key)
	if err != nil {
		return "", nil, fmt.Errorf("param %s: %w", key, err)
	}
	return key, x, nil
}
