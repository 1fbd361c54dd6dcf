package cli

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/prompts"
)

// newPromptsConfigCmd is gavel prompts config: the registry's model
// configs (configs/NAME.yaml).
func newPromptsConfigCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "List, show and label the model configs of a registry (configs/NAME.yaml)",
		Long: `Model configs are named, versioned bundles of model, provider and params
in the registry's configs/ folder, referred to as NAME, NAME@VERSION or
NAME@LABEL (a variant's config: key). Versions are added by editing the
file (a version without a hash is a draft; label stamps it); label moves
a label, gated on a run with --require-run as for prompts.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newConfigListCmd(env), newConfigShowCmd(env), newConfigLabelCmd(env), newConfigHistoryCmd(env))
	return cmd
}

func newConfigListCmd(env *Env) *cobra.Command {
	format := "text"
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the model configs, their versions, hashes and labels",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := loadRegistry(promptsDirFlag(cmd))
			if err != nil {
				return err
			}
			type row struct {
				Name    string   `json:"name"`
				Version string   `json:"version"`
				Hash    string   `json:"hash"`
				Labels  []string `json:"labels"`
				Model   string   `json:"model,omitempty"`
			}
			var rows []row
			for _, name := range r.Configs() {
				c, err := r.Config(name)
				if err != nil {
					return withExitCode(err, ExitError)
				}
				for _, v := range c.Versions {
					rows = append(rows, row{c.Name, v.Version, v.Hash, append([]string{}, c.LabelsOf(v.Version)...), v.Config.Model})
				}
			}
			if format == "json" {
				if rows == nil {
					rows = []row{}
				}
				return writeJSON(env.Stdout, rows)
			}
			for _, x := range rows {
				fmt.Fprintf(env.Stdout, "%s@%s  %s  %s  %s\n", x.Name, x.Version, prompts.ShortHash(x.Hash), dash(x.Model), strings.Join(x.Labels, " "))
			}
			return nil
		},
	}
	cmd.Flags().Var(choiceValue{&format, []string{"text", "json"}}, "format", "output `format`: text or json")
	return cmd
}

func newConfigShowCmd(env *Env) *cobra.Command {
	format := "text"
	cmd := &cobra.Command{
		Use:   "show NAME[@REF]",
		Short: "Show a model config version: the model, provider and params in effect, and its labels",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := loadRegistry(promptsDirFlag(cmd))
			if err != nil {
				return err
			}
			c, err := r.ResolveConfig(args[0])
			if err != nil {
				return withExitCode(err, ExitError)
			}
			if format == "json" {
				return writeJSON(env.Stdout, map[string]any{"name": c.Name, "version": c.Version, "label": c.Label, "hash": c.Hash,
					"config": c.Config, "extends": c.Extends, "labels": c.Labels, "note": c.Note, "author": c.Author, "path": c.Path})
			}
			fmt.Fprintf(env.Stdout, "%s  %s\n", c.Ref(), c.Hash)
			if c.Config != nil {
				fmt.Fprintf(env.Stdout, "model: %s\n", dash(c.Config.Model))
				if c.Config.Provider != "" {
					fmt.Fprintf(env.Stdout, "provider: %s\n", c.Config.Provider)
				}
				keys := make([]string, 0, len(c.Config.Params))
				for k := range c.Config.Params {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					b, _ := json.Marshal(c.Config.Params[k])
					fmt.Fprintf(env.Stdout, "params.%s: %s\n", k, b)
				}
			}
			if c.Extends != "" {
				fmt.Fprintf(env.Stdout, "extends: %s\n", c.Extends)
			}
			if len(c.Labels) > 0 {
				fmt.Fprintf(env.Stdout, "labels: %s\n", strings.Join(c.Labels, " "))
			}
			return nil
		},
	}
	cmd.Flags().Var(choiceValue{&format, []string{"text", "json"}}, "format", "output `format`: text or json")
	return cmd
}

func newConfigLabelCmd(env *Env) *cobra.Command {
	var note, by string
	var promotion promotionFlags
	cmd := &cobra.Command{
		Use:   "label NAME@VERSION LABEL",
		Short: "Point a label at a model config version, optionally gated on a run",
		Long: `Point LABEL of model config NAME at VERSION and append the move to the
file's history (stamping the hashes of its drafts). With --require-run RUN
the move is gated as for prompts: RUN must have a variant whose config is
the candidate version and, when the label exists, one whose config is the
version it points at now, with the registry's hashes; the gates of the
candidate against the current version must pass, else the label stays
(exit 1).`,
		Example: "  $ gavel prompts config label fast@v2 production --require-run runs/fast-v2 --gate max_drop:correct=0.02",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("by") {
				by = promptUser(env)
			}
			if err := promotion.parse(); err != nil {
				return withExitCode(err, ExitError)
			}
			if !promotion.set() && promotion.anyGate() {
				return withExitCode(fmt.Errorf("prompts config label: gates need --require-run RUN, the run they are checked on"), ExitError)
			}
			if !strings.Contains(args[0], "@") {
				return withExitCode(fmt.Errorf("prompts config label: %q: name the version to label as NAME@VERSION", args[0]), ExitError)
			}
			r, err := loadRegistry(promptsDirFlag(cmd))
			if err != nil {
				return err
			}
			cand, err := r.ResolveConfig(args[0])
			if err != nil {
				return withExitCode(err, ExitError)
			}
			c, err := r.Config(cand.Name)
			if err != nil {
				return withExitCode(err, ExitError)
			}
			label := args[1]
			prev := c.Labels[label]
			if prev == cand.Version {
				_, err := fmt.Fprintf(env.Stdout, "%s@%s already points at %s\n", cand.Name, label, cand.Ref())
				return err
			}
			move := prompts.Move{By: by, Note: note, Now: env.Now}
			if promotion.set() {
				var cur *labelTarget
				if prev != "" {
					pc, err := r.ResolveConfig(cand.Name + "@" + prev)
					if err != nil {
						return withExitCode(err, ExitError)
					}
					cur = &labelTarget{pc.Name, pc.Version, pc.Hash}
				}
				ran := func(v results.Variant) (labelTarget, bool) {
					if v.Config == nil {
						return labelTarget{}, false
					}
					return labelTarget{v.Config.Name, v.Config.Version, v.Config.Hash}, true
				}
				if move.Run, err = promotion.verify(env, "config", ran, cur, labelTarget{cand.Name, cand.Version, cand.Hash}); err != nil {
					return err
				}
			}
			m, err := r.MoveConfigLabel(cand.Name, cand.Version, label, move)
			if err != nil {
				return withExitCode(err, ExitError)
			}
			from := m.Previous
			if from == "" {
				from = "(new)"
			}
			_, err = fmt.Fprintf(env.Stdout, "%s@%s: %s -> %s\n", cand.Name, m.Label, from, m.Version)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&note, "note", "", "why the label moves")
	f.StringVar(&by, "by", "", "who moves it (default $GAVEL_USER, else $USER)")
	promotion.register(f)
	return cmd
}

func newConfigHistoryCmd(env *Env) *cobra.Command {
	format := "text"
	cmd := &cobra.Command{
		Use:   "history NAME",
		Short: "Show a model config's label moves, oldest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := loadRegistry(promptsDirFlag(cmd))
			if err != nil {
				return err
			}
			c, err := r.Config(args[0])
			if err != nil {
				return withExitCode(err, ExitError)
			}
			if format == "json" {
				h := c.History
				if h == nil {
					h = []prompts.LabelMove{}
				}
				return writeJSON(env.Stdout, h)
			}
			for _, m := range c.History {
				from := m.Previous
				if from == "" {
					from = "(new)"
				}
				line := fmt.Sprintf("%s  %s  %s -> %s", m.At.UTC().Format("2006-01-02T15:04:05Z"), m.Label, from, m.Version)
				if m.By != "" {
					line += "  by " + m.By
				}
				if m.Run != "" {
					line += "  run " + m.Run
				}
				if m.Note != "" {
					line += "  " + m.Note
				}
				fmt.Fprintln(env.Stdout, line)
			}
			return nil
		},
	}
	cmd.Flags().Var(choiceValue{&format, []string{"text", "json"}}, "format", "output `format`: text or json")
	return cmd
}

// dash is s, or "-" when empty.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
