package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// Main runs the gavel command line with args (without the program name)
// and returns the process exit code.
func Main(ctx context.Context, args []string, env *Env) int {
	root := newRootCmd(env)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var se silentError
	if errors.As(err, &se) {
		return se.code
	}
	fmt.Fprintln(env.Stderr, "gavel: "+err.Error())
	return exitCode(err)
}

func newRootCmd(env *Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "gavel",
		Short: "Evaluate LLM chains with judges, statistics and CI gates",
		Long: `gavel replays a fixed dataset through a traced LLM chain for one or more
variants, scores every output with judges, and stores the run as Parquet
files and a manifest that any Parquet reader can query.

Exit codes: 0 ok, 1 a quality gate failed, 2 usage or input error,
130 interrupted.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionString(env),
	}
	// --version prints what the version command prints.
	root.SetVersionTemplate("gavel version {{.Version}}\n")
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.SetIn(env.Stdin)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return withExitCode(err, ExitError)
	})
	root.AddCommand(
		newRunCmd(env, nil),
		newScoreCmd(env, nil),
		newMergeCmd(env, nil),
		newJudgesCmd(env, nil),
		newCalibrateCmd(env, nil),
		newReportCmd(env, nil),
		newCompareCmd(env, nil),
		newViewCmd(env, nil),
		newTracesCmd(env, nil),
		newPlanCmd(env, nil),
		newCacheCmd(env),
		newStatsCmd(env),
		newSchemaCmd(env, nil),
		newCollectCmd(env, nil),
		newImportCmd(env, nil),
		newExportCmd(env, nil),
		newPromptsCmd(env),
		newVersionCmd(env, nil),
	)
	strictCompletion(root)
	registerCompletions(root)
	return root
}

// strictCompletion makes `completion SHELL` with a shell cobra has no
// script for a usage error (exit 2) instead of printing help and exiting 0.
func strictCompletion(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		var shells []string
		for _, sub := range c.Commands() {
			shells = append(shells, sub.Name())
		}
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return withExitCode(fmt.Errorf("completion: unknown shell %q: want one of %s", args[0], strings.Join(shells, ", ")), ExitError)
		}
	}
}

// versionString is gavel's version, with its commit when known.
func versionString(env *Env) string {
	v := env.Version
	if v == "" {
		v = "(devel)"
	}
	// A build from a checkout without tags is versioned by its commit
	// (git describe): the commit is then not repeated.
	if env.Commit != "" && !strings.HasPrefix(v, env.Commit) {
		v += " (" + env.Commit + ")"
	}
	return v
}

// versionOptions are what gavel version's flags say: nothing yet.
type versionOptions struct{}

// newVersionCmd is gavel version. RunE calls runF (runVersion when nil).
func newVersionCmd(env *Env, runF func(context.Context, *Env, *versionOptions) error) *cobra.Command {
	opts := &versionOptions{}
	return &cobra.Command{
		Use:   "version",
		Short: "Print gavel's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), env, opts)
			}
			return runVersion(cmd.Context(), env, opts)
		},
	}
}

// runVersion prints gavel's version.
func runVersion(_ context.Context, env *Env, _ *versionOptions) error {
	_, err := fmt.Fprintln(env.Stdout, "gavel "+versionString(env))
	return err
}
