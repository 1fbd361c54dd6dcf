package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/prompts"
)

// newPromptsCmd is the gavel prompts group: its --dir, which every
// subcommand reads, and the subcommands.
func newPromptsCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "prompts",
		Short: "List, show, diff, version and label the prompts of a registry folder",
		Long: `A prompt registry is a folder of YAML files, one per prompt (NAME.yaml),
with model configs in configs/NAME.yaml. Each file holds immutable
versions (v1, v2, ...) with content hashes, labels such as production
that point at a version, and the history of label moves. A prompt is
referred to as NAME (its last version), NAME@VERSION or NAME@LABEL.
gavel prompts config has the same commands for the model configs. See
docs/prompts.md for the file format.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.PersistentFlags().String("dir", "prompts", "the registry `folder`")
	cmd.AddCommand(
		newPromptsListCmd(env, nil),
		newPromptsShowCmd(env, nil),
		newPromptsDiffCmd(env, nil),
		newPromptsNewCmd(env, nil),
		newPromptsLabelCmd(env, nil),
		newPromptsHistoryCmd(env, nil),
		newPromptsConfigCmd(env),
	)
	return cmd
}

// promptsDirFlag is the --dir a prompts subcommand inherits.
func promptsDirFlag(cmd *cobra.Command) string {
	if f := cmd.Flag("dir"); f != nil {
		return f.Value.String()
	}
	return "prompts"
}

// loadRegistry loads the registry in dir; its errors are input errors.
func loadRegistry(dir string) (*prompts.Registry, error) {
	r, err := prompts.Load(dir)
	return r, withExitCode(err, ExitError)
}

// promptUser is who writes: $GAVEL_USER, else $USER, else "".
func promptUser(env *Env) string {
	if u := env.Getenv("GAVEL_USER"); u != "" {
		return u
	}
	return env.Getenv("USER")
}

// registryKind is what the commands over prompts and those over model
// configs do differently: how names, versions and labels are looked up,
// resolved, diffed, labelled, and found among a run's variants.
type registryKind struct {
	noun    string // "prompt" or "config"
	content string // what a version's hash covers, in messages: "text" or "config"
	// names lists the prompts or configs; versions gives one's versions
	// and labels.
	names    func(*prompts.Registry) []string
	versions func(r *prompts.Registry, name string) ([]string, map[string]string, error)
	// resolve finds the version a reference names.
	resolve func(r *prompts.Registry, ref string) (*labelVersion, error)
	// diff compares two versions.
	diff func(r *prompts.Registry, from, to string) (*prompts.Diff, error)
	// move moves a label, history the label moves.
	move    func(r *prompts.Registry, name, version, label string, m prompts.Move) (prompts.LabelMove, error)
	history func(r *prompts.Registry, name string) ([]prompts.LabelMove, error)
	// ran is the version of this kind a run's variant ran: ok false when
	// none, a zero Name when not one of the registry's (an inline prompt).
	ran func(v results.Variant) (lv labelVersion, ok bool)
}

// labelVersion is a registry version a label move concerns: the prompt
// or config version, and its content hash.
type labelVersion struct {
	Name, Version, Hash string
}

// Ref returns NAME@VERSION.
func (v *labelVersion) Ref() string { return v.Name + "@" + v.Version }

// promptKind is the registryKind of prompts.
func promptKind() registryKind {
	return registryKind{
		noun: "prompt", content: "text",
		names: (*prompts.Registry).List,
		versions: func(r *prompts.Registry, name string) ([]string, map[string]string, error) {
			p, err := r.Prompt(name)
			if err != nil {
				return nil, nil, err
			}
			var vs []string
			for _, v := range p.Versions {
				vs = append(vs, v.Version)
			}
			return vs, p.Labels, nil
		},
		resolve: func(r *prompts.Registry, ref string) (*labelVersion, error) {
			v, err := r.Resolve(ref)
			if err != nil {
				return nil, err
			}
			return &labelVersion{Name: v.Name, Version: v.Version, Hash: v.Hash}, nil
		},
		diff: func(r *prompts.Registry, from, to string) (*prompts.Diff, error) {
			a, err := r.Resolve(from)
			if err != nil {
				return nil, err
			}
			b, err := r.Resolve(to)
			if err != nil {
				return nil, err
			}
			return prompts.Compare(a, b), nil
		},
		move:    (*prompts.Registry).MoveLabel,
		history: (*prompts.Registry).History,
		ran: func(v results.Variant) (labelVersion, bool) {
			if v.Prompt == nil {
				return labelVersion{}, false
			}
			return labelVersion{Name: v.Prompt.Name, Version: v.Prompt.Version, Hash: v.Prompt.Hash}, true
		},
	}
}

// configKind is the registryKind of model configs.
func configKind() registryKind {
	return registryKind{
		noun: "config", content: "config",
		names: (*prompts.Registry).Configs,
		versions: func(r *prompts.Registry, name string) ([]string, map[string]string, error) {
			c, err := r.Config(name)
			if err != nil {
				return nil, nil, err
			}
			var vs []string
			for _, v := range c.Versions {
				vs = append(vs, v.Version)
			}
			return vs, c.Labels, nil
		},
		resolve: func(r *prompts.Registry, ref string) (*labelVersion, error) {
			c, err := r.ResolveConfig(ref)
			if err != nil {
				return nil, err
			}
			return &labelVersion{Name: c.Name, Version: c.Version, Hash: c.Hash}, nil
		},
		diff: func(r *prompts.Registry, from, to string) (*prompts.Diff, error) {
			a, err := r.ResolveConfig(from)
			if err != nil {
				return nil, err
			}
			b, err := r.ResolveConfig(to)
			if err != nil {
				return nil, err
			}
			return prompts.CompareConfigs(a, b), nil
		},
		move:    (*prompts.Registry).MoveConfigLabel,
		history: (*prompts.Registry).ConfigHistory,
		ran: func(v results.Variant) (labelVersion, bool) {
			if v.Config == nil {
				return labelVersion{}, false
			}
			return labelVersion{Name: v.Config.Name, Version: v.Config.Version, Hash: v.Config.Hash}, true
		},
	}
}

// completeRefs completes NAME, NAME@VERSION and NAME@LABEL of the kind's
// files from the registry in --dir, for the first argument (the first two
// when both takes two).
func completeRefs(kind registryKind, both bool) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 1 || (len(args) == 1 && !both) {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		r, err := prompts.Load(promptsDirFlag(cmd))
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		name, _, at := strings.Cut(toComplete, "@")
		if !at {
			var out []string
			for _, n := range kind.names(r) {
				if strings.HasPrefix(n, toComplete) {
					out = append(out, n)
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		}
		versions, labels, err := kind.versions(r, name)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, v := range versions {
			out = append(out, name+"@"+v)
		}
		for l := range labels {
			out = append(out, name+"@"+l)
		}
		sort.Strings(out)
		var match []string
		for _, o := range out {
			if strings.HasPrefix(o, toComplete) {
				match = append(match, o)
			}
		}
		return match, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeRefFlag completes a flag's value as completeRefs completes an
// argument, whatever the arguments before it.
func completeRefFlag(kind registryKind) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	complete := completeRefs(kind, false)
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return complete(cmd, nil, toComplete)
	}
}

// completePromptRefs completes prompt references (see completeRefs).
func completePromptRefs(both bool) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return completeRefs(promptKind(), both)
}

// promptsListOptions are what gavel prompts list's flags say.
type promptsListOptions struct {
	dir    string
	format string
}

// newPromptsListCmd is gavel prompts list. RunE fills opts, then calls
// runF (runPromptsList when nil).
func newPromptsListCmd(env *Env, runF func(context.Context, *Env, *promptsListOptions) error) *cobra.Command {
	opts := &promptsListOptions{format: "text"}
	cmd := &cobra.Command{
		Use:   "list [--format text|json]",
		Short: "List the prompts, their versions, hashes and labels",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.dir = promptsDirFlag(cmd)
			if runF != nil {
				return runF(cmd.Context(), env, opts)
			}
			return runPromptsList(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().Var(choiceValue{&opts.format, []string{"text", "json"}}, "format", "output `format`: text or json")
	return cmd
}

// promptVersionJSON is one version in gavel prompts list --format json.
type promptVersionJSON struct {
	Version string    `json:"version"`
	Hash    string    `json:"hash"`
	Draft   bool      `json:"draft,omitempty"`
	Labels  []string  `json:"labels"`
	Created time.Time `json:"created,omitzero"`
	Author  string    `json:"author,omitempty"`
	Note    string    `json:"note,omitempty"`
}

// runPromptsList prints every prompt's versions.
func runPromptsList(_ context.Context, env *Env, opts *promptsListOptions) error {
	r, err := loadRegistry(opts.dir)
	if err != nil {
		return err
	}
	type promptJSON struct {
		Name     string              `json:"name"`
		Path     string              `json:"path"`
		Labels   map[string]string   `json:"labels"`
		Versions []promptVersionJSON `json:"versions"`
	}
	list := []promptJSON{}
	for _, name := range r.List() {
		p, err := r.Prompt(name)
		if err != nil {
			return withExitCode(err, ExitError)
		}
		pj := promptJSON{Name: p.Name, Path: p.Path, Labels: p.Labels}
		if pj.Labels == nil {
			pj.Labels = map[string]string{}
		}
		for _, v := range p.Versions {
			pj.Versions = append(pj.Versions, promptVersionJSON{Version: v.Version, Hash: v.Hash, Draft: v.Draft, Labels: nonNil(p.LabelsOf(v.Version)), Created: v.Created, Author: v.Author, Note: v.Note})
		}
		list = append(list, pj)
	}
	if opts.format == "json" {
		return writeJSON(env.Stdout, list)
	}
	if len(list) == 0 {
		_, err := fmt.Fprintf(env.Stdout, "no prompts in %s\n", opts.dir)
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	for _, p := range list {
		for i, v := range p.Versions {
			var extra []string
			if len(v.Labels) > 0 {
				extra = append(extra, strings.Join(v.Labels, ", "))
			}
			if i == len(p.Versions)-1 {
				extra = append(extra, "(latest)")
			}
			if v.Draft {
				extra = append(extra, "(draft)")
			}
			line := p.Name + "@" + v.Version + "\t" + prompts.ShortHash(v.Hash)
			if len(extra) > 0 {
				line += "\t" + strings.Join(extra, " ")
			}
			fmt.Fprintln(tw, line)
		}
	}
	return tw.Flush()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// promptsShowOptions are what gavel prompts show's flags and argument say.
type promptsShowOptions struct {
	dir    string
	ref    string
	format string
}

// newPromptsShowCmd is gavel prompts show. RunE fills opts, then calls
// runF (runPromptsShow when nil).
func newPromptsShowCmd(env *Env, runF func(context.Context, *Env, *promptsShowOptions) error) *cobra.Command {
	opts := &promptsShowOptions{format: "text"}
	cmd := &cobra.Command{
		Use:               "show NAME[@VERSION|@LABEL] [--format text|json]",
		Short:             "Show a prompt version: its template, config, metadata and labels",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completePromptRefs(false),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.dir, opts.ref = promptsDirFlag(cmd), args[0]
			if runF != nil {
				return runF(cmd.Context(), env, opts)
			}
			return runPromptsShow(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().Var(choiceValue{&opts.format, []string{"text", "json"}}, "format", "output `format`: text or json")
	return cmd
}

// resolvedJSON is a prompt version in gavel prompts show --format json.
type resolvedJSON struct {
	Name          string            `json:"name"`
	Version       string            `json:"version"`
	Label         string            `json:"label,omitempty"`
	Hash          string            `json:"hash"`
	Draft         bool              `json:"draft,omitempty"`
	Labels        []string          `json:"labels"`
	Path          string            `json:"path"`
	Text          string            `json:"text,omitempty"`
	Messages      []prompts.Message `json:"messages,omitempty"`
	Config        *prompts.Config   `json:"config,omitempty"`
	ConfigRef     string            `json:"config_ref,omitempty"`
	ConfigVersion string            `json:"config_version,omitempty"`
	Created       time.Time         `json:"created,omitzero"`
	Author        string            `json:"author,omitempty"`
	Note          string            `json:"note,omitempty"`
}

func toResolvedJSON(v *prompts.Resolved) resolvedJSON {
	out := resolvedJSON{
		Name: v.Name, Version: v.Version, Label: v.Label, Hash: v.Hash, Draft: v.Draft, Labels: nonNil(v.Labels), Path: v.Path,
		Text: v.Text, Messages: v.Messages, Config: v.Config, ConfigRef: v.ConfigRef, Created: v.Created, Author: v.Author, Note: v.Note,
	}
	if v.ConfigResolved != nil {
		out.ConfigVersion = v.ConfigResolved.Ref()
	}
	return out
}

// runPromptsShow prints one prompt version.
func runPromptsShow(_ context.Context, env *Env, opts *promptsShowOptions) error {
	r, err := loadRegistry(opts.dir)
	if err != nil {
		return err
	}
	v, err := r.Resolve(opts.ref)
	if err != nil {
		return withExitCode(err, ExitError)
	}
	if opts.format == "json" {
		return writeJSON(env.Stdout, toResolvedJSON(v))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", v.Ref())
	row := func(k, val string) {
		if val != "" {
			fmt.Fprintf(&b, "  %-9s %s\n", k+":", val)
		}
	}
	hash := v.Hash
	if v.Draft {
		hash += " (draft: not yet recorded in the file)"
	}
	row("hash", hash)
	row("labels", strings.Join(v.Labels, ", "))
	row("file", v.Path)
	if !v.Created.IsZero() {
		row("created", v.Created.UTC().Format(time.RFC3339))
	}
	row("author", v.Author)
	row("note", v.Note)
	if v.Config != nil {
		if v.ConfigResolved != nil {
			row("config", v.ConfigRef+" -> "+v.ConfigResolved.Ref())
		} else {
			b.WriteString("  config:\n")
		}
		row("  model", v.Config.Model)
		row("  provider", v.Config.Provider)
		if len(v.Config.Params) > 0 {
			p, err := json.Marshal(v.Config.Params)
			if err != nil {
				return withExitCode(err, ExitError)
			}
			row("  params", string(p))
		}
	}
	if v.Messages == nil {
		b.WriteString("text:\n")
		b.WriteString(indent(v.Text, "  "))
	} else {
		b.WriteString("messages:\n")
		for _, m := range v.Messages {
			fmt.Fprintf(&b, "  [%s]\n", m.Role)
			b.WriteString(indent(m.Content, "    "))
		}
	}
	_, err = io.WriteString(env.Stdout, b.String())
	return err
}

// indent prefixes every line of s, ending it with a newline.
func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	return prefix + strings.Join(lines, "\n"+prefix) + "\n"
}

// promptsDiffOptions are what gavel prompts diff's (or gavel prompts
// config diff's) flags and arguments say.
type promptsDiffOptions struct {
	kind     registryKind
	dir      string
	from, to string
	words    bool
	format   string
}

// newPromptsDiffCmd is gavel prompts diff. RunE fills opts, then calls
// runF (runPromptsDiff when nil).
func newPromptsDiffCmd(env *Env, runF func(context.Context, *Env, *promptsDiffOptions) error) *cobra.Command {
	cmd := newDiffCmd(env, promptKind(), runF)
	cmd.Short = "Show how two prompt versions differ, text and config, word by word"
	cmd.Long = `Show a unified diff of two prompt versions: their text (each chat message
on its own), then their model configs (model, provider and each param on a
line). After each run of replaced lines, a line starting with ~ shows
which words changed, as git diff --word-diff=plain does: [-old-]{+new+}.
With --word-diff, only that form is printed. The second argument may be a
bare version or label of the first's prompt. Exit 0 whether or not they
differ.`
	cmd.Example = `  $ gavel prompts diff solve@production solve@v3
  $ gavel prompts diff solve@v1 staging --word-diff`
	return cmd
}

// newDiffCmd is the diff command of a kind of registry file.
func newDiffCmd(env *Env, kind registryKind, runF func(context.Context, *Env, *promptsDiffOptions) error) *cobra.Command {
	opts := &promptsDiffOptions{kind: kind, format: "text"}
	cmd := &cobra.Command{
		Use:               "diff NAME@A NAME@B | NAME@A B",
		Args:              cobra.ExactArgs(2),
		ValidArgsFunction: completeRefs(kind, true),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.dir, opts.from, opts.to = promptsDirFlag(cmd), args[0], args[1]
			if a, err := prompts.ParseRef(opts.from); err == nil && !strings.Contains(opts.to, "@") {
				if r, err := prompts.Load(opts.dir); err != nil || !contains(kind.names(r), opts.to) {
					opts.to = a.Name + "@" + opts.to
				}
			}
			if runF != nil {
				return runF(cmd.Context(), env, opts)
			}
			return runPromptsDiff(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.words, "word-diff", false, "print the changed lines once, words marked [-removed-]{+added+}")
	cmd.Flags().Var(choiceValue{&opts.format, []string{"text", "json"}}, "format", "output `format`: text or json (the structured diff)")
	return cmd
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// runPromptsDiff prints the diff of two versions.
func runPromptsDiff(_ context.Context, env *Env, opts *promptsDiffOptions) error {
	r, err := loadRegistry(opts.dir)
	if err != nil {
		return err
	}
	d, err := opts.kind.diff(r, opts.from, opts.to)
	if err != nil {
		return withExitCode(err, ExitError)
	}
	switch {
	case opts.format == "json":
		return writeJSON(env.Stdout, d)
	case d.Empty():
		_, err = fmt.Fprintf(env.Stdout, "%s and %s have the same content (%s)\n", d.From, d.To, prompts.ShortHash(d.FromHash))
	case opts.words:
		_, err = io.WriteString(env.Stdout, d.WordDiff())
	default:
		_, err = io.WriteString(env.Stdout, d.String())
	}
	return err
}

// promptsNewOptions are what gavel prompts new's flags and argument say.
type promptsNewOptions struct {
	dir          string
	name         string
	from         string
	text         string
	textFile     string
	messagesFile string
	config       string
	note         string
	author       string
}

// newPromptsNewCmd is gavel prompts new. RunE fills and checks opts, then
// calls runF (runPromptsNew when nil).
func newPromptsNewCmd(env *Env, runF func(context.Context, *Env, *promptsNewOptions) error) *cobra.Command {
	opts := &promptsNewOptions{}
	cmd := &cobra.Command{
		Use:   "new NAME [--from NAME@REF] [--text T | --text-file F | --messages-file F] [--config NAME@REF]",
		Short: "Add a version to a prompt (or create the prompt), stamping its hash",
		Long: `Add the next version (vN) to prompt NAME, copied from --from (by default
its latest version) with the changes given: a new text, new chat messages
(a YAML or JSON list of {role, content}), a config reference. Without
--from, a prompt that does not exist yet is created with --text or
--messages-file as v1. The version's created time and content hash are
stamped, and so are those of the file's drafts. The file is rewritten
atomically, keeping its comments. Prints the new version.`,
		Example: `  $ gavel prompts new solve --text 'Solve: {{.example.question}}' --note "first version"
  $ gavel prompts new solve --from solve@production --text-file solve.txt --note "shorter"`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completePromptRefs(false),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.dir, opts.name = promptsDirFlag(cmd), args[0]
			n := 0
			for _, s := range []string{opts.text, opts.textFile, opts.messagesFile} {
				if s != "" {
					n++
				}
			}
			if n > 1 {
				return withExitCode(fmt.Errorf("prompts new: give one of --text, --text-file and --messages-file"), ExitError)
			}
			if !cmd.Flags().Changed("author") {
				opts.author = promptUser(env)
			}
			if runF != nil {
				return runF(cmd.Context(), env, opts)
			}
			return runPromptsNew(cmd.Context(), env, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.from, "from", "", "the `version` to copy (NAME, NAME@VERSION or NAME@LABEL; default NAME's latest)")
	f.StringVar(&opts.text, "text", "", "the new user-message `template`")
	f.StringVar(&opts.textFile, "text-file", "", "read the new template from `file` (- for standard input)")
	f.StringVar(&opts.messagesFile, "messages-file", "", "read the new chat messages from `file`: a YAML or JSON list of {role, content}")
	f.StringVar(&opts.config, "config", "", "use the model config `ref` (NAME or NAME@REF of configs/)")
	f.StringVar(&opts.note, "note", "", "what the version changes")
	f.StringVar(&opts.author, "author", "", "who wrote it (default $GAVEL_USER, else $USER)")
	_ = cmd.RegisterFlagCompletionFunc("from", completeRefFlag(promptKind()))
	return cmd
}

// readInput reads file, or the standard input for "-".
func readInput(env *Env, file string) ([]byte, error) {
	if file == "-" {
		return io.ReadAll(env.Stdin)
	}
	return os.ReadFile(file)
}

// runPromptsNew adds the version.
func runPromptsNew(_ context.Context, env *Env, opts *promptsNewOptions) error {
	r, err := loadRegistry(opts.dir)
	if err != nil {
		return err
	}
	e := prompts.Edit{Text: opts.text, ConfigRef: opts.config, Note: opts.note, Author: opts.author, Now: env.Now}
	if opts.textFile != "" {
		b, err := readInput(env, opts.textFile)
		if err != nil {
			return withExitCode(fmt.Errorf("prompts new: %w", err), ExitError)
		}
		e.Text = string(b)
		if e.Text == "" {
			return withExitCode(fmt.Errorf("prompts new: %s is empty", opts.textFile), ExitError)
		}
	}
	if opts.messagesFile != "" {
		b, err := readInput(env, opts.messagesFile)
		if err != nil {
			return withExitCode(fmt.Errorf("prompts new: %w", err), ExitError)
		}
		if e.Messages, err = prompts.ParseMessages(opts.messagesFile, b); err != nil {
			return withExitCode(fmt.Errorf("prompts new: %w", err), ExitError)
		}
	}
	var from prompts.Ref
	if opts.from != "" {
		if from, err = prompts.ParseRef(opts.from); err != nil {
			return withExitCode(fmt.Errorf("prompts new: --from: %w", err), ExitError)
		}
	}
	v, err := r.NewVersion(opts.name, from, e)
	if err != nil {
		return withExitCode(err, ExitError)
	}
	_, err = fmt.Fprintf(env.Stdout, "%s %s (%s)\n", v.Ref(), v.Hash, v.Path)
	return err
}

// promptsLabelOptions are what gavel prompts label's (or gavel prompts
// config label's) flags and arguments say.
type promptsLabelOptions struct {
	kind  registryKind
	dir   string
	ref   string // NAME@VERSION (or NAME@LABEL, NAME@latest)
	label string
	note  string
	by    string
	// check, when set, vets the move before it is written: current is
	// the version the label points at now (nil when the label is new),
	// candidate the one it is to point at. An error refuses the move; the
	// run id it returns is recorded in the history entry.
	check func(ctx context.Context, current, candidate *labelVersion) (runID string, err error)
	// promotion is --require-run and its gates; they set check.
	promotion promotionFlags
}

// newPromptsLabelCmd is gavel prompts label. RunE fills opts, then calls
// runF (runPromptsLabel when nil).
func newPromptsLabelCmd(env *Env, runF func(context.Context, *Env, *promptsLabelOptions) error) *cobra.Command {
	cmd := newLabelCmd(env, promptKind(), runF)
	cmd.Short = "Point a label (production, staging, ...) at a prompt version"
	cmd.Long = `Point LABEL of prompt NAME at VERSION (a version, another label, or
latest) and append the move to the file's history: the previous version,
when, by whom and why. The file is rewritten atomically, keeping its
comments; the hashes of its drafts are stamped. A label that already
points there is left as it is.

With --require-run RUN the move is gated on an evaluation: RUN, a stored
completed run, must have a variant that ran the candidate version and,
when the label points somewhere now, one that ran that version, both with
the registry's content hashes. The gates (--gate, the gate flags, and the
run's spec's unless --no-spec-gates) of the candidate against the current
version must pass; otherwise the label stays and the exit code is 1. The
run id is recorded next to the move in the history.`
	cmd.Example = `  $ gavel prompts label solve@v3 production --note "better on gsm8k"
  $ gavel run gavel.yaml --out runs/solve-v3      # variants: solve@production and solve@v3
  $ gavel prompts label solve@v3 production --require-run runs/solve-v3 --gate max_drop:correct=0.02`
	return cmd
}

// newLabelCmd is the label command of a kind of registry file.
func newLabelCmd(env *Env, kind registryKind, runF func(context.Context, *Env, *promptsLabelOptions) error) *cobra.Command {
	opts := &promptsLabelOptions{kind: kind}
	cmd := &cobra.Command{
		Use:               "label NAME@VERSION LABEL [--note N] [--by WHO] [--require-run RUN --gate KIND[:JUDGE]=VALUE ...]",
		Args:              cobra.ExactArgs(2),
		ValidArgsFunction: completeRefs(kind, false),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.dir, opts.ref, opts.label = promptsDirFlag(cmd), args[0], args[1]
			what := strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
			if !strings.Contains(opts.ref, "@") {
				return withExitCode(fmt.Errorf("%s: %q: name the version to label as NAME@VERSION", what, opts.ref), ExitError)
			}
			if !cmd.Flags().Changed("by") {
				opts.by = promptUser(env)
			}
			if err := opts.promotion.parse(); err != nil {
				return withExitCode(err, ExitError)
			}
			if opts.promotion.set() {
				opts.check = opts.promotion.check(env, kind)
			} else if opts.promotion.anyGate() {
				return withExitCode(fmt.Errorf("%s: gates need --require-run RUN, the run they are checked on", what), ExitError)
			}
			if runF != nil {
				return runF(cmd.Context(), env, opts)
			}
			return runPromptsLabel(cmd.Context(), env, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.note, "note", "", "why the label moves")
	f.StringVar(&opts.by, "by", "", "who moves it (default $GAVEL_USER, else $USER)")
	opts.promotion.register(f)
	return cmd
}

// runPromptsLabel moves the label.
func runPromptsLabel(ctx context.Context, env *Env, opts *promptsLabelOptions) error {
	r, err := loadRegistry(opts.dir)
	if err != nil {
		return err
	}
	candidate, err := opts.kind.resolve(r, opts.ref)
	if err != nil {
		return withExitCode(err, ExitError)
	}
	_, labels, err := opts.kind.versions(r, candidate.Name)
	if err != nil {
		return withExitCode(err, ExitError)
	}
	prev := labels[opts.label]
	if prev == candidate.Version {
		_, err := fmt.Fprintf(env.Stdout, "%s@%s already points at %s\n", candidate.Name, opts.label, candidate.Ref())
		return err
	}
	move := prompts.Move{By: opts.by, Note: opts.note, Now: env.Now}
	if opts.check != nil {
		var current *labelVersion
		if prev != "" {
			if current, err = opts.kind.resolve(r, candidate.Name+"@"+prev); err != nil {
				return withExitCode(err, ExitError)
			}
		}
		if move.Run, err = opts.check(ctx, current, candidate); err != nil {
			return withExitCode(err, ExitError)
		}
	}
	m, err := opts.kind.move(r, candidate.Name, candidate.Version, opts.label, move)
	if err != nil {
		return withExitCode(err, ExitError)
	}
	from := m.Previous
	if from == "" {
		from = "(new)"
	}
	_, err = fmt.Fprintf(env.Stdout, "%s@%s: %s -> %s\n", candidate.Name, m.Label, from, m.Version)
	return err
}

// promptsHistoryOptions are what gavel prompts history's (or gavel
// prompts config history's) flags and argument say.
type promptsHistoryOptions struct {
	kind   registryKind
	dir    string
	name   string
	format string
}

// newPromptsHistoryCmd is gavel prompts history. RunE fills opts, then
// calls runF (runPromptsHistory when nil).
func newPromptsHistoryCmd(env *Env, runF func(context.Context, *Env, *promptsHistoryOptions) error) *cobra.Command {
	return newHistoryCmd(env, promptKind(), runF)
}

// newHistoryCmd is the history command of a kind of registry file.
func newHistoryCmd(env *Env, kind registryKind, runF func(context.Context, *Env, *promptsHistoryOptions) error) *cobra.Command {
	opts := &promptsHistoryOptions{kind: kind, format: "text"}
	cmd := &cobra.Command{
		Use:               "history NAME [--format text|json]",
		Short:             "Show a " + kind.noun + "'s label moves, oldest first",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeRefs(kind, false),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.dir, opts.name = promptsDirFlag(cmd), args[0]
			if runF != nil {
				return runF(cmd.Context(), env, opts)
			}
			return runPromptsHistory(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().Var(choiceValue{&opts.format, []string{"text", "json"}}, "format", "output `format`: text or json")
	return cmd
}

// runPromptsHistory prints the label moves.
func runPromptsHistory(_ context.Context, env *Env, opts *promptsHistoryOptions) error {
	r, err := loadRegistry(opts.dir)
	if err != nil {
		return err
	}
	h, err := opts.kind.history(r, opts.name)
	if err != nil {
		return withExitCode(err, ExitError)
	}
	if opts.format == "json" {
		if h == nil {
			h = []prompts.LabelMove{}
		}
		return writeJSON(env.Stdout, h)
	}
	if len(h) == 0 {
		_, err := fmt.Fprintf(env.Stdout, "%s: no label has moved yet\n", opts.name)
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	for _, m := range h {
		prev := m.Previous
		if prev == "" {
			prev = "(new)"
		}
		var extra []string
		if m.By != "" {
			extra = append(extra, "by "+m.By)
		}
		if m.Run != "" {
			extra = append(extra, "run "+m.Run)
		}
		if m.Note != "" {
			extra = append(extra, m.Note)
		}
		line := fmt.Sprintf("%s\t%s\t%s -> %s", m.At.UTC().Format(time.RFC3339), m.Label, prev, m.Version)
		if len(extra) > 0 {
			line += "\t" + strings.Join(extra, "  ")
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}
