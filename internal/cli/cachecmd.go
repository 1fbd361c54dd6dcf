package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/gavel-eval/gavel/llm"
)

// newCacheCmd is the gavel cache group: its --cache-path, which every
// subcommand reads, and the subcommands.
func newCacheCmd(env *Env) *cobra.Command {
	return cacheGroup(
		newCacheExportCmd(env, nil),
		newCacheImportCmd(env, nil),
		newCacheStatsCmd(env, nil),
	)
}

// cacheGroup is the gavel cache command holding subs.
func cacheGroup(subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Inspect the model-call cache, and move calls between it and cassette files",
		Long: `The cache stores model replies by the content address of their request
(model, messages, parameters, seed; never the API key), shared by every run
on this machine. A cassette is a JSON Lines file of cache entries to commit
next to a spec, so CI can replay an evaluation with no key:
gavel run --cache replay --cassette FILE.`,
	}
	cmd.PersistentFlags().String("cache-path", "", "the cache `file` (default $XDG_CACHE_HOME/gavel/cache.db, else ~/.cache/gavel/cache.db)")
	cmd.AddCommand(subs...)
	return cmd
}

// cachePathFlag is the --cache-path a cache subcommand inherits from the
// group ("" when not given).
func cachePathFlag(cmd *cobra.Command) string {
	if f := cmd.Flag("cache-path"); f != nil {
		return f.Value.String()
	}
	return ""
}

// openCacheFile opens the cache file path (the default one when empty).
func openCacheFile(env *Env, path string, readOnly bool) (*llm.BoltCache, error) {
	if path == "" {
		var err error
		if path, err = defaultCachePath(env); err != nil {
			return nil, err
		}
	}
	c, err := llm.OpenBoltCache(path, llm.BoltOptions{ReadOnly: readOnly, LockTimeout: 20 * time.Second})
	return c, damagedCache(err, "move it away")
}

// cacheExportOptions are what gavel cache export's flags and argument say.
type cacheExportOptions struct {
	cachePath string
	file      string
}

// newCacheExportCmd is gavel cache export. RunE fills opts, then calls
// runF (runCacheExport when nil).
func newCacheExportCmd(env *Env, runF func(context.Context, *Env, *cacheExportOptions) error) *cobra.Command {
	opts := &cacheExportOptions{}
	return &cobra.Command{
		Use:   "export FILE",
		Short: "Write every cached call to a cassette file",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.cachePath, opts.file = cachePathFlag(cmd), args[0]
			if runF != nil {
				return runF(cmd.Context(), env, opts)
			}
			return runCacheExport(cmd.Context(), env, opts)
		},
	}
}

// runCacheExport writes every cached call to the cassette opts.file.
func runCacheExport(ctx context.Context, env *Env, opts *cacheExportOptions) error {
	c, err := openCacheFile(env, opts.cachePath, true)
	if err != nil {
		return withExitCode(err, ExitError)
	}
	defer c.Close()
	if err := writeFile(opts.file, func(f *os.File) error { return llm.ExportCassette(c, f, nil) }); err != nil {
		// Leave no half-written cassette behind.
		_ = os.Remove(opts.file)
		return withExitCode(damagedCache(err, "move it away"), ExitError)
	}
	n, _ := c.Len(ctx)
	_, err = fmt.Fprintf(env.Stdout, "exported %d calls to %s\n", n, opts.file)
	return err
}

// cacheImportOptions are what gavel cache import's flags and argument say.
type cacheImportOptions struct {
	cachePath string
	file      string
}

// newCacheImportCmd is gavel cache import. RunE fills opts, then calls
// runF (runCacheImport when nil).
func newCacheImportCmd(env *Env, runF func(context.Context, *Env, *cacheImportOptions) error) *cobra.Command {
	opts := &cacheImportOptions{}
	return &cobra.Command{
		Use:   "import FILE",
		Short: "Add a cassette's calls to the cache",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.cachePath, opts.file = cachePathFlag(cmd), args[0]
			if runF != nil {
				return runF(cmd.Context(), env, opts)
			}
			return runCacheImport(cmd.Context(), env, opts)
		},
	}
}

// runCacheImport adds the calls of the cassette opts.file to the cache.
func runCacheImport(_ context.Context, env *Env, opts *cacheImportOptions) error {
	f, err := os.Open(opts.file)
	if err != nil {
		return withExitCode(err, ExitError)
	}
	defer f.Close()
	c, err := openCacheFile(env, opts.cachePath, false)
	if err != nil {
		return withExitCode(err, ExitError)
	}
	n, err := llm.ImportCassette(c, f)
	if cerr := c.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, llm.ErrCacheDamaged) {
		return withExitCode(damagedCache(err, "move it away"), ExitError)
	}
	if err != nil {
		return withExitCode(fmt.Errorf("%s: %w", opts.file, err), ExitError)
	}
	_, err = fmt.Fprintf(env.Stdout, "imported %d calls from %s\n", n, opts.file)
	return err
}

// cacheStatsOptions are what gavel cache stats's flags say.
type cacheStatsOptions struct {
	cachePath string
}

// newCacheStatsCmd is gavel cache stats. RunE fills opts, then calls runF
// (runCacheStats when nil).
func newCacheStatsCmd(env *Env, runF func(context.Context, *Env, *cacheStatsOptions) error) *cobra.Command {
	opts := &cacheStatsOptions{}
	return &cobra.Command{
		Use:   "stats",
		Short: "Print where the cache is and how many calls it holds",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.cachePath = cachePathFlag(cmd)
			if runF != nil {
				return runF(cmd.Context(), env, opts)
			}
			return runCacheStats(cmd.Context(), env, opts)
		},
	}
}

// runCacheStats prints the cache's file and how many calls it holds.
func runCacheStats(ctx context.Context, env *Env, opts *cacheStatsOptions) error {
	c, err := openCacheFile(env, opts.cachePath, true)
	if err != nil {
		return withExitCode(err, ExitError)
	}
	defer c.Close()
	n, err := c.Len(ctx)
	if err != nil {
		return withExitCode(damagedCache(err, "move it away"), ExitError)
	}
	_, err = fmt.Fprintf(env.Stdout, "%s: %d calls\n", c.Path(), n)
	return err
}
