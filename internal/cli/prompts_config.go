package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gavel-eval/gavel/prompts"
)

// newPromptsConfigCmd is the gavel prompts config group: the model
// configs of the registry (configs/NAME.yaml), with the commands the
// prompts have.
func newPromptsConfigCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "List, show, diff, version and label the model configs of a registry folder",
		Long: `The model configs of a prompt registry are the YAML files in its configs/
folder, one per config (configs/NAME.yaml): immutable versions of a model,
its provider and its params, each optionally extending another config,
with content hashes, labels and the history of label moves, as prompts
have. A config is referred to as NAME (its last version), NAME@VERSION or
NAME@LABEL, from a prompt version (config: fast@production) or a spec's
variant (config: fast@v2). See docs/prompts.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	kind := configKind()
	diff := newDiffCmd(env, kind, nil)
	diff.Short = "Show how two config versions differ: extends, model, provider and params, word by word"
	diff.Long = `Show a unified diff of two model config versions: the version each
extends, then the model, provider and each param in effect (extends
applied) on a line. After each run of replaced lines, a line starting
with ~ shows which words changed: [-old-]{+new+}. With --word-diff, only
that form is printed. The second argument may be a bare version or label
of the first's config. Exit 0 whether or not they differ.`
	diff.Example = `  $ gavel prompts config diff fast@production fast@v3
  $ gavel prompts config diff fast@v1 v2 --word-diff`
	label := newLabelCmd(env, kind, nil)
	label.Short = "Point a label (production, staging, ...) at a config version"
	label.Long = `Point LABEL of model config NAME at VERSION (a version, another label, or
latest) and append the move to the file's history, as gavel prompts label
does for prompts. Prompts and variants that name NAME@LABEL follow it.

With --require-run RUN the move is gated on an evaluation: RUN, a stored
completed run, must have a variant whose registry config is the candidate
version and, when the label points somewhere now, one whose config is
that version, both with the registry's content hashes. The gates (--gate,
the gate flags, and the run's spec's unless --no-spec-gates) of the
candidate's variant against the current one's must pass; otherwise the
label stays and the exit code is 1. The run id is recorded next to the
move in the history.`
	label.Example = `  $ gavel prompts config label fast@v2 production --note "warmer"
  $ gavel run gavel.yaml --out runs/fast-v2      # variants: config fast@production and config fast@v2
  $ gavel prompts config label fast@v2 production --require-run runs/fast-v2 --gate max_drop:correct=0.02`
	cmd.AddCommand(
		newConfigListCmd(env, nil),
		newConfigShowCmd(env, nil),
		diff,
		newConfigNewCmd(env, nil),
		label,
		newHistoryCmd(env, kind, nil),
	)
	return cmd
}

// configListOptions are what gavel prompts config list's flags say.
type configListOptions struct {
	dir    string
	format string
}

// newConfigListCmd is gavel prompts config list. RunE fills opts, then
// calls runF (runConfigList when nil).
func newConfigListCmd(env *Env, runF func(context.Context, *Env, *configListOptions) error) *cobra.Command {
	opts := &configListOptions{format: "text"}
	cmd := &cobra.Command{
		Use:   "list [--format text|json]",
		Short: "List the model configs, their versions, hashes, models and labels",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.dir = promptsDirFlag(cmd)
			if runF != nil {
				return runF(cmd.Context(), env, opts)
			}
			return runConfigList(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().Var(choiceValue{&opts.format, []string{"text", "json"}}, "format", "output `format`: text or json")
	return cmd
}

// configVersionJSON is one version in gavel prompts config list --format
// json: a prompt version's fields, the model in effect and what it
// extends.
type configVersionJSON struct {
	promptVersionJSON
	Model   string `json:"model,omitempty"`
	Extends string `json:"extends,omitempty"`
}

// runConfigList prints every config's versions.
func runConfigList(_ context.Context, env *Env, opts *configListOptions) error {
	r, err := loadRegistry(opts.dir)
	if err != nil {
		return err
	}
	type configJSON struct {
		Name     string              `json:"name"`
		Path     string              `json:"path"`
		Labels   map[string]string   `json:"labels"`
		Versions []configVersionJSON `json:"versions"`
	}
	list := []configJSON{}
	for _, name := range r.Configs() {
		c, err := r.Config(name)
		if err != nil {
			return withExitCode(err, ExitError)
		}
		cj := configJSON{Name: c.Name, Path: c.Path, Labels: c.Labels}
		if cj.Labels == nil {
			cj.Labels = map[string]string{}
		}
		for _, v := range c.Versions {
			rc, err := r.ResolveConfig(c.Name + "@" + v.Version)
			if err != nil {
				return withExitCode(err, ExitError)
			}
			cj.Versions = append(cj.Versions, configVersionJSON{
				promptVersionJSON: promptVersionJSON{Version: v.Version, Hash: v.Hash, Draft: v.Draft, Labels: nonNil(c.LabelsOf(v.Version)), Created: v.Created, Author: v.Author, Note: v.Note},
				Model:             rc.Config.Model, Extends: v.Extends,
			})
		}
		list = append(list, cj)
	}
	if opts.format == "json" {
		return writeJSON(env.Stdout, list)
	}
	if len(list) == 0 {
		_, err := fmt.Fprintf(env.Stdout, "no model configs in %s\n", opts.dir)
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	for _, c := range list {
		for i, v := range c.Versions {
			var extra []string
			if len(v.Labels) > 0 {
				extra = append(extra, strings.Join(v.Labels, ", "))
			}
			if i == len(c.Versions)-1 {
				extra = append(extra, "(latest)")
			}
			if v.Draft {
				extra = append(extra, "(draft)")
			}
			line := c.Name + "@" + v.Version + "\t" + prompts.ShortHash(v.Hash) + "\t" + v.Model
			if len(extra) > 0 {
				line += "\t" + strings.Join(extra, " ")
			}
			fmt.Fprintln(tw, line)
		}
	}
	return tw.Flush()
}

// configShowOptions are what gavel prompts config show's flags and
// argument say.
type configShowOptions struct {
	dir    string
	ref    string
	format string
}

// newConfigShowCmd is gavel prompts config show. RunE fills opts, then
// calls runF (runConfigShow when nil).
func newConfigShowCmd(env *Env, runF func(context.Context, *Env, *configShowOptions) error) *cobra.Command {
	opts := &configShowOptions{format: "text"}
	cmd := &cobra.Command{
		Use:               "show NAME[@VERSION|@LABEL] [--format text|json]",
		Short:             "Show a config version: the model, provider and params in effect, what it extends, its metadata and labels",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeRefs(configKind(), false),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.dir, opts.ref = promptsDirFlag(cmd), args[0]
			if runF != nil {
				return runF(cmd.Context(), env, opts)
			}
			return runConfigShow(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().Var(choiceValue{&opts.format, []string{"text", "json"}}, "format", "output `format`: text or json")
	return cmd
}

// resolvedConfigJSON is a config version in gavel prompts config show
// --format json.
type resolvedConfigJSON struct {
	Name           string          `json:"name"`
	Version        string          `json:"version"`
	Label          string          `json:"label,omitempty"`
	Hash           string          `json:"hash"`
	Draft          bool            `json:"draft,omitempty"`
	Labels         []string        `json:"labels"`
	Path           string          `json:"path"`
	Config         *prompts.Config `json:"config"`
	Extends        string          `json:"extends,omitempty"`
	ExtendsVersion string          `json:"extends_version,omitempty"`
	Created        time.Time       `json:"created,omitzero"`
	Author         string          `json:"author,omitempty"`
	Note           string          `json:"note,omitempty"`
}

// runConfigShow prints one config version.
func runConfigShow(_ context.Context, env *Env, opts *configShowOptions) error {
	r, err := loadRegistry(opts.dir)
	if err != nil {
		return err
	}
	c, err := r.ResolveConfig(opts.ref)
	if err != nil {
		return withExitCode(err, ExitError)
	}
	if opts.format == "json" {
		return writeJSON(env.Stdout, resolvedConfigJSON{
			Name: c.Name, Version: c.Version, Label: c.Label, Hash: c.Hash, Draft: c.Draft, Labels: nonNil(c.Labels), Path: c.Path,
			Config: c.Config, Extends: c.ExtendsRef, ExtendsVersion: c.Extends, Created: c.Created, Author: c.Author, Note: c.Note,
		})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", c.Ref())
	row := func(k, val string) {
		if val != "" {
			fmt.Fprintf(&b, "  %-9s %s\n", k+":", val)
		}
	}
	hash := c.Hash
	if c.Draft {
		hash += " (draft: not yet recorded in the file)"
	}
	row("hash", hash)
	row("labels", strings.Join(c.Labels, ", "))
	row("file", c.Path)
	if !c.Created.IsZero() {
		row("created", c.Created.UTC().Format(time.RFC3339))
	}
	row("author", c.Author)
	row("note", c.Note)
	if c.ExtendsRef != "" {
		ext := c.ExtendsRef
		if ext != c.Extends {
			ext += " -> " + c.Extends
		}
		row("extends", ext)
	}
	row("model", c.Config.Model)
	row("provider", c.Config.Provider)
	if len(c.Config.Params) > 0 {
		p, err := json.Marshal(c.Config.Params)
		if err != nil {
			return withExitCode(err, ExitError)
		}
		row("params", string(p))
	}
	_, err = io.WriteString(env.Stdout, b.String())
	return err
}

// configNewOptions are what gavel prompts config new's flags and argument
// say.
type configNewOptions struct {
	dir        string
	name       string
	from       string
	model      string
	provider   string
	params     []string // KEY=VALUE
	paramsFile string
	extends    string
	note       string
	author     string
}

// newConfigNewCmd is gavel prompts config new. RunE fills opts, then
// calls runF (runConfigNew when nil).
func newConfigNewCmd(env *Env, runF func(context.Context, *Env, *configNewOptions) error) *cobra.Command {
	opts := &configNewOptions{}
	cmd := &cobra.Command{
		Use:   "new NAME [--from NAME@REF] [--model M] [--provider P] [--param KEY=VALUE]... [--params-file F] [--extends NAME@REF]",
		Short: "Add a version to a model config (or create the config), stamping its hash",
		Long: `Add the next version (vN) to model config NAME, copied from --from (by
default its latest version) with the changes given: a model, a provider,
params (--params-file replaces them with a YAML or JSON mapping, then each
--param KEY=VALUE sets one, KEY= removing it), the config it extends.
A --param VALUE reads as YAML: temperature=0.2 is a number, stream=true a
boolean, stop='[END]' a list. Without --from, a config that does not exist
yet is created with --model or --extends as v1. A copy with no change is
refused, and so is an extends that does not resolve or makes a cycle. The
version's created time and content hash are stamped, and so are those of
the file's drafts. The file is rewritten atomically, keeping its comments.
Prints the new version.`,
		Example: `  $ gavel prompts config new fast --model openai/gpt-4o-mini --param temperature=0 --param max_tokens=256
  $ gavel prompts config new fast --from fast@production --param temperature=0.2 --note warmer
  $ gavel prompts config new long --extends fast@production --param max_tokens=2048`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeRefs(configKind(), false),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.dir, opts.name = promptsDirFlag(cmd), args[0]
			if !cmd.Flags().Changed("author") {
				opts.author = promptUser(env)
			}
			if runF != nil {
				return runF(cmd.Context(), env, opts)
			}
			return runConfigNew(cmd.Context(), env, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.from, "from", "", "the `version` to copy (NAME, NAME@VERSION or NAME@LABEL; default NAME's latest)")
	f.StringVar(&opts.model, "model", "", "the `model` (e.g. openai/gpt-4o-mini)")
	f.StringVar(&opts.provider, "provider", "", "the `provider`")
	f.StringArrayVar(&opts.params, "param", nil, "set a param, `KEY=VALUE` with VALUE read as YAML (repeatable; KEY= removes it)")
	f.StringVar(&opts.paramsFile, "params-file", "", "replace the params with those of `file`: a YAML or JSON mapping (- for standard input)")
	f.StringVar(&opts.extends, "extends", "", "build on the config `ref` (NAME or NAME@REF): its model and provider unless given, its params under these")
	f.StringVar(&opts.note, "note", "", "what the version changes")
	f.StringVar(&opts.author, "author", "", "who wrote it (default $GAVEL_USER, else $USER)")
	_ = cmd.RegisterFlagCompletionFunc("from", completeRefFlag(configKind()))
	_ = cmd.RegisterFlagCompletionFunc("extends", completeRefFlag(configKind()))
	return cmd
}

// runConfigNew adds the version.
func runConfigNew(_ context.Context, env *Env, opts *configNewOptions) error {
	r, err := loadRegistry(opts.dir)
	if err != nil {
		return err
	}
	e := prompts.ConfigEdit{Model: opts.model, Provider: opts.provider, Extends: opts.extends, Note: opts.note, Author: opts.author, Now: env.Now}
	if opts.paramsFile != "" {
		b, err := readInput(env, opts.paramsFile)
		if err != nil {
			return withExitCode(fmt.Errorf("prompts config new: %w", err), ExitError)
		}
		if e.Params, err = prompts.ParseParams(opts.paramsFile, b); err != nil {
			return withExitCode(fmt.Errorf("prompts config new: --params-file: %w", err), ExitError)
		}
	}
	for _, kv := range opts.params {
		k, v, err := prompts.ParseParam(kv)
		if err != nil {
			return withExitCode(fmt.Errorf("prompts config new: --param: %w", err), ExitError)
		}
		if e.SetParams == nil {
			e.SetParams = map[string]any{}
		}
		e.SetParams[k] = v
	}
	var from prompts.Ref
	if opts.from != "" {
		if from, err = prompts.ParseRef(opts.from); err != nil {
			return withExitCode(fmt.Errorf("prompts config new: --from: %w", err), ExitError)
		}
	}
	c, err := r.NewConfigVersion(opts.name, from, e)
	if err != nil {
		return withExitCode(err, ExitError)
	}
	_, err = fmt.Fprintf(env.Stdout, "%s %s (%s)\n", c.Ref(), c.Hash, c.Path)
	return err
}
